"""MIX+GAN (gan_hub/archs/mixture.py, gan_hub/variants/mixgan.py): mixture weights, the sampling rule,
the weighted payoff and its regulariser, and the save/load round trip of a whole mixture."""

import math

import pytest
import torch
from torch import nn

from gan_hub import Generator, GeneratorConfig
from gan_hub.archs.mixture import (
    MixDCGANDiscriminator,
    MixDCGANGenerator,
    MixMLPGenerator,
    MixtureDiscriminator,
    MixtureGenerator,
    route_latents,
)
from gan_hub.objectives import get_objective
from gan_hub.registry import ARCHS
from gan_hub.sampling import latents
from gan_hub.variants import get_variant
from gan_hub.variants.base import StepContext
from gan_hub.variants.mixgan import MixGANAlgorithm, mixture_regularizer, weights_entropy

CTX = StepContext(step=0, max_steps=10)


def small_generator(components: int = 3, seed: int = 0) -> MixDCGANGenerator:
    torch.manual_seed(seed)
    return MixDCGANGenerator(latent_dim=8, channels=1, image_size=16, base_channels=4, components=components).eval()


def set_logits(net: nn.Module, values) -> None:
    with torch.no_grad():
        net.mixture_logits.copy_(torch.tensor(values, dtype=torch.float32))


# ---- weights and sampling ---------------------------------------------------------------------------
def test_mixture_weights_are_positive_and_sum_to_one():
    g = small_generator(4)
    d = MixDCGANDiscriminator(channels=1, image_size=16, base_channels=4, components=4)
    assert torch.allclose(g.mixture_weights(), torch.full((4,), 0.25))  # zero logits: uniform at the start
    for net, logits in ((g, [3.0, -2.0, 0.5, 10.0]), (d, [-30.0, 0.0, 1.0, 2.0])):
        set_logits(net, logits)
        w = net.mixture_weights()
        assert w.shape == (4,) and (w > 0).all()
        assert abs(w.sum().item() - 1.0) < 1e-6
        assert torch.allclose(w, torch.softmax(torch.tensor(logits), 0))


def test_a_much_larger_logit_draws_almost_every_sample_and_forward_uses_it():
    g = small_generator(3)
    set_logits(g, [0.0, 12.0, 0.0])  # w_1 = 1 - 1.2e-5
    z = latents(30_000, 8, seed=0)
    index, _ = g.route(z)
    assert (index == 1).float().mean().item() > 0.999
    # forward draws each sample from the routed component, on the routed latent
    z_small = latents(64, 8, seed=1)
    with torch.no_grad():
        out = g(z_small)
        index, routed = g.route(z_small)
        expected = torch.stack([g.components[int(i)](routed[n : n + 1])[0] for n, i in enumerate(index)])
    assert torch.allclose(out, expected, atol=1e-6)


@pytest.mark.parametrize("weights", [[1 / 3] * 3, [0.2] * 5, [0.5, 0.3, 0.2]])
def test_shares_over_30k_latents_match_the_weights_and_routed_latents_stay_standard_normal(weights):
    w = torch.tensor(weights)
    z = latents(30_000, 4, seed=0)
    index, routed = route_latents(z, w)
    shares = torch.bincount(index, minlength=len(w)).float() / len(z)
    assert (shares - w).abs().max().item() < 0.01, shares
    assert torch.equal(routed[:, 1:], z[:, 1:])  # only the first coordinate is re-spread
    for i in range(len(w)):  # within each component, the latent the generator gets is still N(0, 1)
        first = routed[index == i, 0]
        assert abs(first.mean().item()) < 0.05 and abs(first.std().item() - 1) < 0.05


def test_routing_handles_extreme_latents_and_a_zero_weight():
    z = torch.tensor([[-40.0, 0.0], [40.0, 0.0], [0.0, 0.0]])
    index, routed = route_latents(z, torch.tensor([0.0, 1.0, 0.0]))
    assert index.tolist() == [1, 1, 1] and torch.isfinite(routed).all()


def test_generate_is_deterministic_per_seed_and_uses_several_components():
    torch.manual_seed(0)
    config = GeneratorConfig(
        variant="mix-gan", arch="mix-dcgan", dataset="mnist", arch_kwargs={"base_channels": 4, "components": 3}
    )
    g = Generator(config)
    a, b, c = g.generate(32, seed=3), g.generate(32, seed=3), g.generate(32, seed=4)
    assert a.dtype == torch.uint8 and a.shape == (32, 1, 28, 28)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(g.generate(10, seed=1, batch_size=3), g.generate(10, seed=1))
    assert len(set(g.net.route(latents(32, 100, seed=3))[0].tolist())) == 3


def test_discriminator_forward_is_the_weighted_mean_of_its_components():
    torch.manual_seed(0)
    d = MixDCGANDiscriminator(channels=1, image_size=16, base_channels=4, components=3).eval()
    set_logits(d, [1.0, -1.0, 0.0])
    x = torch.randn(5, 1, 16, 16)
    with torch.no_grad():
        logits, w = d(x, components=True)
        assert logits.shape == (3, 5) and torch.allclose(w, d.mixture_weights())
        assert torch.allclose(d(x), (w[:, None] * logits).sum(0), atol=1e-6)


def test_mix_mlp_works_on_vectors_and_components_must_be_positive():
    g = MixMLPGenerator(latent_dim=4, channels=2, image_size=0, hidden_dim=8, components=2).eval()
    assert g(torch.randn(7, 4)).shape == (7, 2)
    assert "mix-mlp" in ARCHS and "mix-dcgan" in ARCHS and "mix-pacgan-mlp" in ARCHS
    with pytest.raises(ValueError, match="positive integer"):
        MixDCGANGenerator(latent_dim=4, channels=1, image_size=16, components=0)


# ---- the payoff ---------------------------------------------------------------------------------------
class ConstantGenerator(nn.Module):
    def __init__(self, value: float):
        super().__init__()
        self.value = nn.Parameter(torch.tensor(value))

    def forward(self, z, labels=None):
        return self.value.expand(len(z), 1, 2, 2)


class ScaledMeanDiscriminator(nn.Module):
    """D(x) = a * mean(x) + b."""

    def __init__(self, a: float, b: float):
        super().__init__()
        self.a, self.b = nn.Parameter(torch.tensor(a)), nn.Parameter(torch.tensor(b))

    def forward(self, x, labels=None):
        return self.a * x.flatten(1).mean(1) + self.b


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def softmax(logits: list[float]) -> list[float]:
    e = [math.exp(v) for v in logits]
    return [v / sum(e) for v in e]


G_VALUES, G_LOGITS = [0.5, -1.0], [0.3, -0.4]
D_PARAMS, D_LOGITS = [(1.0, 0.0), (-2.0, 0.5), (0.5, -1.0)], [1.0, 0.0, -0.5]
REAL = 0.8


def tiny_players():
    g = MixtureGenerator([ConstantGenerator(v) for v in G_VALUES])
    d = MixtureDiscriminator([ScaledMeanDiscriminator(a, b) for a, b in D_PARAMS])
    set_logits(g, G_LOGITS)
    set_logits(d, D_LOGITS)
    return g, d


@pytest.mark.parametrize("form", ["uniform-cross-entropy", "entropy"])
def test_payoff_equals_the_hand_computed_weighted_sum(form):
    g, d = tiny_players()
    algorithm = MixGANAlgorithm(get_objective("non-saturating"), entropy_weight=0.1, entropy_form=form)
    algorithm.setup(g, d)
    real, z = torch.full((4, 1, 2, 2), REAL), torch.randn(4, 3)
    wg, wd = softmax(G_LOGITS), softmax(D_LOGITS)

    def reg(w):  # R(w): the released code's -(1/T) sum log w, or minus the Shannon entropy
        return (
            -sum(math.log(v) for v in w) / len(w)
            if form == "uniform-cross-entropy"
            else sum(v * math.log(v) for v in w)
        )

    # non-saturating with Goodfellow's 1/2 factors: D: 1/2 softplus(-D(x)) + 1/2 softplus(D(G(z))); G: 1/2
    # softplus(-D(G(z)))
    d_payoff = sum(
        wg[i] * wd[j] * (0.5 * softplus(-(a * REAL + b)) + 0.5 * softplus(a * c + b))
        for i, c in enumerate(G_VALUES)
        for j, (a, b) in enumerate(D_PARAMS)
    )
    g_payoff = sum(
        wg[i] * wd[j] * 0.5 * softplus(-(a * c + b))
        for i, c in enumerate(G_VALUES)
        for j, (a, b) in enumerate(D_PARAMS)
    )

    d_loss, d_logs = algorithm.discriminator_loss(g, d, real, None, z, CTX)
    assert d_loss.item() == pytest.approx(d_payoff + 0.1 * reg(wd), rel=1e-5)
    assert d_logs["d_payoff"] == pytest.approx(d_payoff, rel=1e-5)
    assert [d_logs[f"w_d{j}"] for j in range(3)] == pytest.approx(wd, rel=1e-5)
    d_loss.backward()
    assert d.mixture_logits.grad is not None and d.mixture_logits.grad.abs().sum() > 0  # the payoff trains w_d
    assert g.mixture_logits.grad is None  # ... and not G's weights

    d.zero_grad()
    g_loss, g_logs = algorithm.generator_loss(g, d.requires_grad_(False), z, None, real, CTX)
    assert g_loss.item() == pytest.approx(g_payoff + 0.1 * reg(wg), rel=1e-5)
    assert g_logs["g_payoff"] == pytest.approx(g_payoff, rel=1e-5)
    assert g_logs["g_weights_entropy"] == pytest.approx(-sum(v * math.log(v) for v in wg), rel=1e-5)
    g_loss.backward()
    assert g.mixture_logits.grad is not None and g.mixture_logits.grad.abs().sum() > 0


def test_payoff_gradient_moves_each_players_weight_to_its_best_component():
    # d/d alpha_k of sum_k w_k L_k (w = softmax(alpha)) is w_k (L_k - sum_m w_m L_m): weight flows to the
    # components with the lowest loss, here with no regulariser
    g, d = tiny_players()
    algorithm = MixGANAlgorithm(get_objective("non-saturating"), entropy_weight=0.0)
    real, z = torch.full((4, 1, 2, 2), REAL), torch.randn(4, 3)
    wg, wd = softmax(G_LOGITS), softmax(D_LOGITS)

    d_loss, _ = algorithm.discriminator_loss(g, d, real, None, z, CTX)
    d_loss.backward()
    per_d = [
        sum(wg[i] * (0.5 * softplus(-(a * REAL + b)) + 0.5 * softplus(a * c + b)) for i, c in enumerate(G_VALUES))
        for a, b in D_PARAMS
    ]
    mean_d = sum(w * v for w, v in zip(wd, per_d))
    assert d.mixture_logits.grad.tolist() == pytest.approx([w * (v - mean_d) for w, v in zip(wd, per_d)], rel=1e-4)

    g_loss, _ = algorithm.generator_loss(g, d.requires_grad_(False), z, None, real, CTX)
    g_loss.backward()
    per_g = [sum(wd[j] * 0.5 * softplus(-(a * c + b)) for j, (a, b) in enumerate(D_PARAMS)) for c in G_VALUES]
    mean_g = sum(w * v for w, v in zip(wg, per_g))
    assert g.mixture_logits.grad.tolist() == pytest.approx([w * (v - mean_g) for w, v in zip(wg, per_g)], rel=1e-4)
    assert per_g[0] < per_g[1] and g.mixture_logits.grad[0] < 0 < g.mixture_logits.grad[1]


@pytest.mark.parametrize("form", ["uniform-cross-entropy", "entropy"])
def test_the_regulariser_gradient_pushes_weights_towards_uniform(form):
    logits = torch.tensor([2.0, 0.0, -1.0], requires_grad=True)
    entropies = []
    for _ in range(300):
        w = torch.softmax(logits, 0)
        entropies.append(weights_entropy(w).item())
        (grad,) = torch.autograd.grad(mixture_regularizer(w, form), logits)
        with torch.no_grad():
            logits -= 1.0 * grad  # what the optimiser does to the loss term + lambda R(w)
    assert all(b > a for a, b in zip(entropies[:20], entropies[1:21]))  # entropy rises step by step
    assert torch.allclose(torch.softmax(logits, 0), torch.full((3,), 1 / 3), atol=0.01)
    zero_logits = torch.zeros(3, requires_grad=True)
    (grad,) = torch.autograd.grad(mixture_regularizer(torch.softmax(zero_logits, 0), form), zero_logits)
    assert grad.abs().max() < 1e-6  # uniform weights are the regulariser's minimum
    algorithm = MixGANAlgorithm(get_objective("non-saturating"), entropy_form=form)
    assert algorithm.regularizer(torch.full((3,), 1 / 3)) < algorithm.regularizer(torch.tensor([0.8, 0.1, 0.1]))


# ---- the variant and the hub round trip ------------------------------------------------------------
def test_variant_defaults_and_refusal_of_plain_networks():
    spec = get_variant("mix-gan")
    assert (spec.arch, spec.objective, spec.algorithm) == ("mix-dcgan", "non-saturating", MixGANAlgorithm)
    assert (spec.lr_g, spec.lr_d, spec.betas) == (2e-4, 2e-4, (0.5, 0.999))
    assert spec.arch_kwargs["components"] == 3
    plain = ARCHS.get("dcgan")
    with pytest.raises(ValueError, match="mixture networks"):
        MixGANAlgorithm(get_objective("non-saturating")).setup(
            plain.generator(8, 1, 16, base_channels=4), plain.discriminator(1, 16, base_channels=4)
        )


def test_save_and_load_round_trip_keeps_samples_and_weights(tmp_path):
    torch.manual_seed(0)
    config = GeneratorConfig(
        variant="mix-gan", arch="mix-dcgan", dataset="mnist", arch_kwargs={"base_channels": 4, "components": 3}
    )
    g = Generator(config)
    set_logits(g.net, [0.5, -1.0, 2.0])
    g.net.train()
    with torch.no_grad():  # non-default batch-norm statistics, so they must survive the trip too
        g.net(torch.randn(16, 100))
    g.net.eval()
    g.save_pretrained(tmp_path / "model")
    loaded = Generator.from_pretrained(tmp_path / "model")
    assert loaded.config.arch == "mix-dcgan" and loaded.config.arch_kwargs["components"] == 3
    assert isinstance(loaded.net, MixDCGANGenerator) and loaded.net.num_components == 3
    assert torch.equal(loaded.net.mixture_weights(), g.net.mixture_weights())
    assert torch.equal(loaded.generate(32, seed=5), g.generate(32, seed=5))


def test_mix_pacgan_mlp_mixes_pacgans_point_networks():
    g = ARCHS.get("mix-pacgan-mlp").generator(latent_dim=2, channels=2, image_size=0, hidden_dim=8, components=4)
    d = ARCHS.get("mix-pacgan-mlp").discriminator(channels=2, image_size=0, components=4)
    assert [type(c).__name__ for c in g.components] == ["PointGenerator"] * 4
    assert [type(c).__name__ for c in d.components] == ["MaxoutDiscriminator"] * 4
    assert g.eval()(torch.randn(9, 2)).shape == (9, 2)
    logits, weights = d(torch.randn(9, 2), components=True)
    assert logits.shape == (4, 9) and weights.shape == (4,)
