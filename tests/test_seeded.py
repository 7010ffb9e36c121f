"""Several training seeds in one network (gan_hub.nn.seeded) and PacGAN's 2-D networks (pacgan-mlp).

The promise: S seeds trained at once are S independent runs. Checked layer by layer against one-seed
networks loaded with each copy's weights, and for whole training steps of the project's trainer step.
"""

import math

import pytest
import torch

from gan_hub.archs.pacgan_mlp import MaxoutDiscriminator, PointGenerator
from gan_hub.data import RING8_UNIT
from gan_hub.nn.seeded import SeedBatchNorm1d, SeedLinear, init_normal_per_seed, seed_state_dict
from gan_hub.objectives import get_objective
from gan_hub.variants.base import AdversarialAlgorithm, StepContext
from gan_hub.variants.pacgan import PackedDiscriminator
from train.step import Players, alternating_step

SEEDS = [3, 7, 11]


def networks(seeds, pack=1):
    g = PointGenerator(2, 2, 0, hidden_dim=16, num_layers=2, seeds=len(seeds))
    d = MaxoutDiscriminator(2 * pack, 0, hidden_dim=8, num_layers=2, pieces=3, seeds=len(seeds))
    if pack > 1:  # the pacgan variant's packing wrapper, as the trainer builds it
        d = PackedDiscriminator(d, pack)
    init_normal_per_seed(g, seeds, std=0.3)
    init_normal_per_seed(d, seeds, std=0.3)
    return g, d


def test_each_copy_is_the_one_seed_network():
    g, d = networks(SEEDS)
    x = torch.randn(len(SEEDS) * 5, 2)
    for net in (g, d):
        net.train()
        out = net(x)
        for i, s in enumerate(SEEDS):
            single = networks([s])[0 if net is g else 1]
            assert torch.equal(
                seed_state_dict(net, i)["body.1.linear.weight" if net is d else "net.0.weight"],
                single.state_dict()["body.1.linear.weight" if net is d else "net.0.weight"],
            )
            single.load_state_dict(seed_state_dict(net, i))
            torch.testing.assert_close(out.view(len(SEEDS), 5, *out.shape[1:])[i], single(x[5 * i : 5 * (i + 1)]))


def test_seed_batch_norm_keeps_statistics_per_seed():
    bn = SeedBatchNorm1d(2, 3, momentum=0.5)
    x = torch.cat([torch.randn(6, 3), 10 + 5 * torch.randn(6, 3)])
    out = bn(x)
    for i, block in enumerate(x.view(2, 6, 3)):
        ref = torch.nn.BatchNorm1d(3, momentum=0.5)
        torch.testing.assert_close(out[6 * i : 6 * (i + 1)], ref(block))
        torch.testing.assert_close(bn.running_mean[i], ref.running_mean)
        torch.testing.assert_close(bn.running_var[i], ref.running_var)


def test_seed_linear_shapes_and_validation():
    layer = SeedLinear(4, 3, 2, bias=False)
    assert layer(torch.randn(8, 3)).shape == (8, 2) and layer.bias is None
    with pytest.raises(RuntimeError):
        layer(torch.randn(7, 3))  # rows must split into one block per seed


def test_training_seeds_together_equals_training_them_apart():
    """Three Adam steps of the trainer's alternating step: the 3-seed run's copies match 3 one-seed runs.

    Adam's eps is made negligible: the shared loss gives each copy 1/S of its gradient, which only eps sees."""

    def train(seeds, real, z):
        torch.manual_seed(0)
        g, d = (net.double() for net in networks(seeds))
        adam = {"lr": 1e-2, "betas": (0.8, 0.999), "eps": 1e-20}
        players = Players(
            g,
            d,
            torch.optim.Adam(g.parameters(), **adam),
            torch.optim.Adam(d.parameters(), **adam),
            AdversarialAlgorithm(get_objective("non-saturating")),
        )
        for step in range(3):
            alternating_step(players, real[step], None, lambda n, s=step: z[s], lambda n: None, StepContext(step, 3))
        return g

    real = torch.randn(3, len(SEEDS) * 8, 2, dtype=torch.float64)
    z = torch.randn(3, len(SEEDS) * 8, 2, dtype=torch.float64)
    together = train(SEEDS, real, z)
    for i, s in enumerate(SEEDS):
        block = slice(8 * i, 8 * (i + 1))
        apart = train([s], real[:, block], z[:, block])
        for key, value in apart.state_dict().items():
            torch.testing.assert_close(seed_state_dict(together, i)[key], value)


def test_maxout_packing():
    _, d = networks([0], pack=2)
    x = torch.randn(6, 2)
    logits = d(x)
    assert logits.shape == (3,)
    packed = x.reshape(3, 4)  # rows (0, 1), (2, 3), (4, 5) side by side
    h = packed
    for layer in d.inner.body:
        lin = layer.linear(h).view(len(h), layer.out_features, layer.pieces)
        h = lin.max(dim=-1).values
    torch.testing.assert_close(logits, d.inner.head(h))
    with pytest.raises(ValueError, match="multiple of 2"):
        d(torch.randn(5, 2))


def test_pacgan_networks_have_the_published_sizes():
    g, d = PointGenerator(2, 2, 0), MaxoutDiscriminator(2, 0)
    linears = [m for m in g.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features, m.bias is not None) for m in linears] == [
        (2, 400, False),
        (400, 400, False),
        (400, 400, False),
        (400, 400, False),
        (400, 2, True),
    ]
    assert [m.momentum for m in g.modules() if isinstance(m, torch.nn.BatchNorm1d)] == [0.05] * 4
    assert [(m.linear.in_features, m.out_features, m.pieces) for m in d.body] == [
        (2, 200, 5),
        (200, 200, 5),
        (200, 200, 5),
    ]
    with pytest.raises(ValueError, match="image_size 0"):
        PointGenerator(2, 1, 28)


def test_ring8_unit_has_eight_distinct_modes():
    centers = RING8_UNIT.centers
    assert RING8_UNIT.std == 0.01 and torch.allclose(centers.norm(dim=1), torch.ones(8, dtype=torch.float64))
    gaps = torch.cdist(centers, centers) + 10 * torch.eye(8, dtype=torch.float64)
    assert math.isclose(float(gaps.min()), 2 * math.sin(math.pi / 8), rel_tol=1e-9)  # linspace(0, 2pi, 8) gives 0
