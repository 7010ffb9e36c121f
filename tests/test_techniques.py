"""Training techniques: each switch's behaviour on tiny networks with hand-computed expectations."""

import copy
import math

import pytest
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from gan_hub.config import GeneratorConfig
from gan_hub.hub import build_discriminator_network, build_generator_network
from gan_hub.nn.minibatch import MinibatchDiscrimination, MinibatchDiscriminationHead, add_minibatch_discrimination
from gan_hub.nn.spectral import apply_spectral_norm
from gan_hub.nn.virtual_batch_norm import VirtualBatchNorm, VirtualBatchNormGenerator
from gan_hub.objectives import Objective, get_objective
from gan_hub.techniques import TECHNIQUES, configure, describe
from gan_hub.techniques.consensus import Consensus
from gan_hub.techniques.experience_replay import ExperienceReplay
from gan_hub.techniques.feature_matching import FeatureMatching
from gan_hub.techniques.gradient_penalty import GradientPenalty
from gan_hub.techniques.historical_averaging import HistoricalAveraging
from gan_hub.techniques.instance_noise import InstanceNoise
from gan_hub.techniques.weight_clipping import WeightClipping
from gan_hub.variants.base import AdversarialAlgorithm, StepContext

ALL = [
    "consensus",
    "experience_replay",
    "feature_matching",
    "gradient_penalty",
    "historical_averaging",
    "instance_noise",
    "label_smoothing",
    "minibatch_discrimination",
    "spectral_norm",
    "virtual_batch_norm",
    "weight_clipping",
]
CTX = StepContext(0, 100)


def record(generator=None, discriminator=None, real=None, fake=None, labels=None, ctx=CTX, loss=None):
    """The batch record a technique hook receives, as the base algorithm builds it."""
    batch = AdversarialAlgorithm(get_objective("non-saturating")).batch(
        generator, discriminator, real, labels, None, ctx
    )
    batch.fake, batch.loss = fake, loss
    return batch


def with_d_wrappers(config: GeneratorConfig, *wrappers: dict) -> GeneratorConfig:
    """A copy of ``config`` whose discriminator has these wrappers (gan_hub.networks) added."""
    config = copy.deepcopy(config)
    config.discriminator.wrappers.extend(wrappers)
    return config


def image_config(arch: str, num_classes: int = 0, **arch_kwargs) -> GeneratorConfig:
    size_kwargs = {"base_channels": 8} if arch == "dcgan" else {"hidden_dim": 16}
    return GeneratorConfig(
        variant="test",
        arch=arch,
        latent_dim=6,
        num_classes=num_classes,
        image_size=16,
        channels=1,
        arch_kwargs={**size_kwargs, **arch_kwargs},
    )


class LinearCritic(nn.Module):
    """D(x) = w . flatten(x)."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.w = nn.Parameter(w.clone())

    def forward(self, x, labels=None):
        return x.flatten(1) @ self.w


class TinyD(nn.Module):
    def __init__(self, in_features=3, width=2):
        super().__init__()
        self.body = nn.Linear(in_features, width)
        self.head = nn.Linear(width, 1)

    def forward(self, x, labels=None):
        return self.head(self.body(x)).squeeze(1)


# ---- gradient penalty ---------------------------------------------------------------------------
@pytest.mark.parametrize("norm", [1.0, 3.0, 0.25])
def test_gradient_penalty_of_a_linear_critic(norm):
    torch.manual_seed(0)
    w = torch.randn(12)
    critic = LinearCritic(w / w.norm() * norm)
    real, fake = torch.randn(8, 3, 2, 2), torch.randn(8, 3, 2, 2)
    gp = GradientPenalty(weight=10.0)
    penalty = gp.d_penalty(record(None, critic, real, fake))
    if norm == 1.0:
        assert penalty.item() == pytest.approx(0.0, abs=1e-6)
    else:
        assert penalty.item() == pytest.approx(10.0 * (norm - 1) ** 2, rel=1e-5)
    penalty.backward()  # differentiable in D's parameters (create_graph)
    assert critic.w.grad is not None and torch.isfinite(critic.w.grad).all()


def test_gradient_penalty_rng_is_owned_and_restored():
    critic = TinyD()
    real, fake = torch.randn(6, 3), torch.randn(6, 3)
    a = GradientPenalty(seed=3)
    a.d_penalty(record(None, critic, real, fake))
    b = GradientPenalty(seed=99)
    b.load_state_dict(a.state_dict())
    torch.manual_seed(123)  # the global RNG plays no part
    first = a.d_penalty(record(None, critic, real, fake))
    torch.manual_seed(456)
    assert b.d_penalty(record(None, critic, real, fake)).item() == first.item()


# ---- weight clipping ----------------------------------------------------------------------------
def test_weight_clipping_keeps_every_parameter_in_range():
    torch.manual_seed(0)
    d = build_discriminator_network(image_config("mlp"))
    clip = WeightClipping(0.01)
    opt = torch.optim.SGD(d.parameters(), lr=10.0)
    x = torch.randn(4, 1, 16, 16)
    for _ in range(4):
        loss = -d(x).mean() + sum(p.sum() for p in d.parameters())
        opt.zero_grad()
        loss.backward()
        opt.step()
        assert max(p.abs().max().item() for p in d.parameters()) > 0.01  # the step left the box...
        clip.after_d_step(d, CTX)
        assert all(p.abs().max().item() <= 0.01 for p in d.parameters())  # ...and clipping brings it back


# ---- minibatch discrimination -------------------------------------------------------------------
def test_minibatch_features_of_a_collapsed_batch_are_n_minus_one():
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(6, num_kernels=4, kernel_dim=3)
    n = 5
    collapsed = torch.randn(1, 6).repeat(n, 1)
    out = layer(collapsed)
    assert out.shape == (n, 10)
    assert torch.equal(out[:, :6], collapsed)
    assert torch.equal(out[:, 6:], torch.full((n, 4), float(n - 1)))  # exp(0) = 1 for each of the n - 1 others
    diverse = layer(torch.randn(n, 6) * 10)[:, 6:]
    assert (diverse < n - 1 - 0.5).all() and (diverse >= 0).all()


def test_minibatch_features_match_the_definition():
    torch.manual_seed(1)
    layer = MinibatchDiscrimination(3, num_kernels=2, kernel_dim=2)
    x = torch.randn(4, 3)
    m = torch.einsum("na,abc->nbc", x, layer.T)
    expected = torch.zeros(4, 2)
    for i in range(4):
        for j in range(4):
            if i != j:
                expected[i] += torch.exp(-(m[i] - m[j]).abs().sum(-1))
    torch.testing.assert_close(layer(x)[:, 3:], expected)


@pytest.mark.parametrize("arch, num_classes", [("mlp", 0), ("dcgan", 0), ("dcgan", 3)])
def test_minibatch_layer_goes_between_body_and_head(arch, num_classes):
    config = image_config(arch, num_classes)
    plain = build_discriminator_network(config)
    d = build_discriminator_network(
        with_d_wrappers(config, {"name": "minibatch_discrimination", "num_kernels": 7, "kernel_dim": 2})
    )
    width = plain.head.linear.in_features
    assert isinstance(d.head, MinibatchDiscriminationHead)
    assert d.head.head.linear.in_features == width + 7
    assert (d.head.head.embed is not None) == bool(num_classes)
    assert type(d.body) is type(plain.body)
    labels = torch.arange(4) % num_classes if num_classes else None
    x = torch.randn(4, 1, 16, 16)
    assert d.body(x).shape == (4, width)
    assert d(x, labels).shape == (4,)
    with pytest.raises(ValueError, match="minibatch"):
        add_minibatch_discrimination(nn.Linear(3, 1))


# ---- virtual batch norm -------------------------------------------------------------------------
@pytest.mark.parametrize("arch, num_classes", [("dcgan", 0), ("mlp", 3)])
def test_virtual_batch_norm_output_does_not_depend_on_the_batch(arch, num_classes):
    torch.manual_seed(0)
    net = build_generator_network(image_config(arch, num_classes, g_norm="virtual-batch", g_vbn_reference_size=16))
    assert isinstance(net, VirtualBatchNormGenerator)
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in net.modules())
    assert any(isinstance(m, VirtualBatchNorm) for m in net.modules())
    z = torch.randn(6, 6)
    other = torch.randn(3, 6) * 3
    labels = torch.arange(6) % num_classes if num_classes else None
    other_labels = torch.zeros(3, dtype=torch.long) if num_classes else None
    for mode in (net.train, net.eval):
        mode()
        with torch.no_grad():
            a = net(z, labels)
            b = net(torch.cat([z[2:3], other]), None if labels is None else torch.cat([labels[2:3], other_labels]))
            single = net(z[2:3], None if labels is None else labels[2:3])
        torch.testing.assert_close(a[2], b[0], atol=1e-6, rtol=0)
        torch.testing.assert_close(a[2], single[0], atol=1e-6, rtol=0)

    plain = build_generator_network(image_config(arch, num_classes)).train()  # ordinary batch norm
    with torch.no_grad():
        a = plain(z, labels)
        b = plain(torch.cat([z[2:3], other]), None if labels is None else torch.cat([labels[2:3], other_labels]))
    assert (a[2] - b[0]).abs().max() > 1e-3  # batch norm mixes the batch; VBN does not


def test_virtual_batch_norm_trains_and_round_trips_through_the_config(tmp_path):
    torch.manual_seed(0)
    config = image_config("dcgan", g_norm="virtual-batch")
    net = build_generator_network(config).train()
    keys = set(net.state_dict())
    assert "reference_z" in keys and not any("running" in k or "num_batches" in k for k in keys)
    assert net.reference_z.shape == (64, 6)  # the default reference size
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(2):  # gradients reach the affine parameters and the weights (through the reference stats too)
        loss = net(torch.randn(4, 6)).square().mean()
        opt.zero_grad()
        loss.backward()
        vbn = next(m for m in net.modules() if isinstance(m, VirtualBatchNorm))
        assert vbn.weight.grad is not None and vbn.weight.grad.abs().sum() > 0
        opt.step()
    save_file(net.state_dict(), str(tmp_path / "model.safetensors"))
    rebuilt = build_generator_network(config)
    rebuilt.load_state_dict(load_file(str(tmp_path / "model.safetensors")), strict=True)
    z = torch.randn(5, 6)
    with torch.no_grad():
        assert torch.equal(net.eval()(z), rebuilt.eval()(z))
    # the reference batch is part of the model definition: a fresh build draws the same one
    assert torch.equal(build_generator_network(config).reference_z, net.reference_z)


def test_virtual_batch_norm_conditional_reference_labels_cycle():
    net = build_generator_network(image_config("mlp", 3, g_norm="virtual-batch", g_vbn_reference_size=7))
    assert net.reference_labels.tolist() == [0, 1, 2, 0, 1, 2, 0]
    assert "reference_labels" in net.state_dict()


# ---- historical averaging -----------------------------------------------------------------------
def test_historical_averaging_is_zero_at_the_average_and_grows_away_from_it():
    torch.manual_seed(0)
    g, d = nn.Linear(3, 2), TinyD(2, 2)
    ha = HistoricalAveraging(weight=0.5)
    ha.setup(g, d)
    assert ha.d_penalty(record(g, d)).item() == 0.0
    assert ha.g_penalty(record(g, d)).item() == 0.0
    before = [p.detach().clone() for p in d.parameters()]
    with torch.no_grad():
        for p in d.parameters():
            p.add_(0.2)
    n = sum(p.numel() for p in d.parameters())
    assert ha.d_penalty(record(g, d)).item() == pytest.approx(0.5 * n * 0.2**2, rel=1e-5)
    ha.after_d_step(d, CTX)  # the average is now (theta_0 + theta_1) / 2
    for avg, p0 in zip(ha.d_average.averages, before):
        torch.testing.assert_close(avg, p0 + 0.1)
    penalty = ha.d_penalty(record(g, d))
    assert penalty.item() == pytest.approx(0.5 * n * 0.1**2, rel=1e-5)
    penalty.backward()
    assert all((p.grad > 0).all() for p in d.parameters())  # pulls back toward the average
    assert ha.g_penalty(record(g, d)).item() == 0.0  # G has not moved

    resumed = HistoricalAveraging(weight=0.5)
    resumed.setup(nn.Linear(3, 2), TinyD(2, 2))
    resumed.load_state_dict(ha.state_dict())
    assert resumed.d_average.count == 2
    assert resumed.d_penalty(record(g, d)).item() == pytest.approx(penalty.item())


# ---- feature matching ---------------------------------------------------------------------------
def test_feature_matching_is_the_squared_distance_of_mean_features():
    torch.manual_seed(0)
    d = TinyD(3, 2)
    real = torch.randn(4, 3, requires_grad=True)
    fake = torch.randn(5, 3, requires_grad=True)
    loss = FeatureMatching().generator_loss(record(None, d, real, fake))
    w, b = d.body.weight.detach(), d.body.bias.detach()
    real_mean = (real.detach() @ w.T + b).mean(0)
    fake_mean = (fake.detach() @ w.T + b).mean(0)
    assert loss.item() == pytest.approx(((real_mean - fake_mean) ** 2).sum().item(), rel=1e-6)
    loss.backward()
    assert real.grad is None and fake.grad is not None  # real features carry no gradient


def test_feature_matching_mean_reduction_is_the_sum_over_the_number_of_features():
    torch.manual_seed(0)
    d = TinyD(3, 2)
    real, fake = torch.randn(4, 3), torch.randn(5, 3)
    summed = FeatureMatching().generator_loss(record(None, d, real, fake))
    averaged = FeatureMatching(reduction="mean").generator_loss(record(None, d, real, fake))
    assert averaged.item() == pytest.approx(summed.item() / 2, rel=1e-6)  # TinyD's body has 2 features
    setup = configure({"feature_matching": {"reduction": "mean"}}, get_objective("non-saturating"))
    assert [t.reduction for t in setup.techniques] == ["mean"]
    with pytest.raises(ValueError, match="reduction must be one of sum, mean"):
        configure({"feature_matching": {"reduction": "max"}}, get_objective("non-saturating"))


def test_feature_matching_replaces_the_generator_loss_in_the_algorithm():
    torch.manual_seed(0)
    d = TinyD(3, 2)
    g = lambda z, labels=None: z * 2  # noqa: E731
    algorithm = AdversarialAlgorithm(get_objective("non-saturating"), [FeatureMatching()])
    z, real = torch.randn(5, 3), torch.randn(5, 3)
    loss, logs = algorithm.generator_loss(g, d, z, None, real, CTX)
    expected = FeatureMatching().generator_loss(record(g, d, real, g(z)))
    assert loss.item() == pytest.approx(expected.item())


# ---- spectral norm ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "arch, num_classes, kwargs", [("dcgan", 0, {}), ("dcgan", 3, {"d_hidden": 32}), ("mlp", 3, {})]
)
def test_spectral_norm_makes_every_weight_unit_norm(arch, num_classes, kwargs):
    torch.manual_seed(0)
    config = image_config(arch, num_classes, **kwargs)
    d = build_discriminator_network(
        with_d_wrappers(config, {"name": "minibatch_discrimination", "num_kernels": 4}, {"name": "spectral_norm"})
    ).train()
    layers = [m for m in d.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    assert layers and all(nn.utils.parametrize.is_parametrized(m, "weight") for m in layers)
    x, labels = torch.randn(8, 1, 16, 16), torch.arange(8) % num_classes if num_classes else None
    for _ in range(5):
        d(x, labels)
    for m in layers:
        sigma = torch.linalg.matrix_norm(m.weight.detach().flatten(1), ord=2).item()
        assert sigma == pytest.approx(1.0, abs=2e-2), m
    apply_spectral_norm(d)  # applying twice leaves the parametrisations alone
    assert all(len(m.parametrizations.weight) == 1 for m in layers)


# ---- instance noise -----------------------------------------------------------------------------
def test_instance_noise_anneals_to_zero():
    noise = InstanceNoise(std=0.2, anneal=0.5)
    real, fake = torch.zeros(200, 1, 16, 16), torch.ones(200, 1, 16, 16)
    r, f = noise.d_inputs(record(ctx=StepContext(0, 100)), real, fake)
    assert r.std().item() == pytest.approx(0.2, rel=0.02)
    assert (f - fake).std().item() == pytest.approx(0.2, rel=0.02)
    assert not torch.equal(r, f - 1)  # independent noise for real and fake
    assert noise.g_inputs(record(ctx=StepContext(0, 100)), fake).sub(fake).std().item() == pytest.approx(0.2, rel=0.02)
    r, _ = noise.d_inputs(record(ctx=StepContext(25, 100)), real, fake)  # half way through the anneal
    assert r.std().item() == pytest.approx(0.1, rel=0.02)
    for step in (50, 80, 100):  # after the anneal: inputs unchanged
        r, f = noise.d_inputs(record(ctx=StepContext(step, 100)), real, fake)
        assert r is real and f is fake
        assert noise.g_inputs(record(ctx=StepContext(step, 100)), fake) is fake


def test_instance_noise_resumes_exactly():
    a = InstanceNoise(seed=1)
    x = torch.zeros(3, 4)
    a.g_inputs(record(), x)
    b = InstanceNoise(seed=2)
    b.load_state_dict(a.state_dict())
    assert torch.equal(a.g_inputs(record(), x), b.g_inputs(record(), x))


# ---- experience replay --------------------------------------------------------------------------
def batch(k: int) -> torch.Tensor:
    """4 fakes whose single pixel names them: 10 * k + row."""
    return (10.0 * k + torch.arange(4.0)).view(4, 1, 1, 1)


def test_experience_replay_keeps_the_shape_and_draws_old_fakes_once_full():
    replay = ExperienceReplay(size=8, fraction=0.5)
    real = torch.zeros(4, 1, 1, 1)
    for k in (1, 2):  # filling: fakes pass through unchanged
        r, f = replay.d_inputs(record(), real, batch(k))
        assert r is real and torch.equal(f, batch(k))
    assert replay.full
    old = set(batch(1).flatten().tolist()) | set(batch(2).flatten().tolist())
    for k in (3, 4, 5):
        _, f = replay.d_inputs(record(), real, batch(k))
        assert f.shape == (4, 1, 1, 1)
        assert set(f[:2].flatten().tolist()) <= old  # replayed: fakes of earlier steps only
        assert torch.equal(f[2:], batch(k)[2:])
        old |= set(batch(k).flatten().tolist())
    assert len(set(replay.buffer.flatten().tolist())) == 8


def test_experience_replay_resumes_exactly_and_refuses_conditional_d():
    a = ExperienceReplay(size=6, fraction=0.5)
    for k in range(3):
        a.d_inputs(record(), None, batch(k))
    b = ExperienceReplay(size=6, fraction=0.5, seed=5)
    b.load_state_dict(a.state_dict())
    for k in (3, 4):
        assert torch.equal(a.d_inputs(record(), None, batch(k))[1], b.d_inputs(record(), None, batch(k))[1])
    with pytest.raises(ValueError, match="unconditional"):
        ExperienceReplay().setup(None, build_discriminator_network(image_config("mlp", 3)))


# ---- consensus ----------------------------------------------------------------------------------
class Scalar(nn.Module):
    def __init__(self, value: float):
        super().__init__()
        self.lin = nn.Linear(1, 1, bias=False)
        nn.init.constant_(self.lin.weight, value)

    def forward(self, x, labels=None):
        return self.lin(x).squeeze(1)


class ScalarGenerator(Scalar):
    def forward(self, z, labels=None):
        return self.lin(z)


def test_consensus_adds_half_gamma_squared_gradient_norm_in_a_quadratic_game():
    quadratic = Objective(
        "quadratic",
        discriminator_loss=lambda r, f: r.pow(2).mean() + f.pow(2).mean(),
        generator_loss=lambda f, r=None: (f - 1).pow(2).mean(),
    )
    setup = configure({"consensus": {"gamma": 0.5}}, quadratic)
    (consensus,) = setup.techniques
    assert isinstance(consensus, Consensus)
    w, a = 0.7, 1.3
    d = Scalar(w)
    real, z = torch.tensor([[1.0], [2.0], [-1.0]]), torch.tensor([[0.5], [-2.0], [1.5]])
    fake = a * z
    # D step: L_D = w^2 (mean r^2 + mean f^2), dL_D/dw = 2 w (mean r^2 + mean f^2)
    grad_d = 2 * w * (real.pow(2).mean() + fake.pow(2).mean()).item()
    game = AdversarialAlgorithm(quadratic, [consensus])
    g = ScalarGenerator(a)
    loss, logs = game.discriminator_loss(g, d, real, None, z, CTX)
    assert logs["d_consensus"] == pytest.approx(0.5 / 2 * grad_d**2, rel=1e-5) and logs["d_consensus"] > 0
    loss.backward()
    assert d.lin.weight.grad.abs().item() > 0  # differentiable (create_graph)

    # G step: G(z) = a z, L_G = mean((w a z - 1)^2), dL_G/da = mean(2 (w a z - 1) w z)
    d.zero_grad()
    d.requires_grad_(False)  # frozen, as in the trainer's G step
    grad_g = (2 * (w * a * z - 1) * w * z).mean().item()
    loss, logs = game.generator_loss(g, d, z, None, real, CTX)
    assert logs["g_consensus"] == pytest.approx(0.5 / 2 * grad_g**2, rel=1e-5) and logs["g_consensus"] > 0
    assert logs["g_loss"] == pytest.approx(((w * a * z - 1) ** 2).mean().item(), rel=1e-5)  # the G loss is not replaced


# ---- the registry, options and configure ----------------------------------------------------------
def test_every_technique_is_registered_with_a_summary():
    assert set(ALL) <= set(TECHNIQUES.names())
    summaries = describe()
    assert all(summaries[name] and "20" in summaries[name] for name in ALL)  # one line citing the paper's year


@pytest.mark.parametrize("name", ALL)
def test_unknown_options_raise(name):
    with pytest.raises(ValueError, match=name) as err:
        configure({name: {"no_such_option": 1}}, get_objective("non-saturating"))
    assert "known options" in str(err.value)
    with pytest.raises(ValueError, match=name):
        configure({name: "yes"}, get_objective("non-saturating"))


@pytest.mark.parametrize(
    "switch",
    [
        {"weight_clipping": -1.0},
        {"instance_noise": {"anneal": 0}},
        {"experience_replay": {"fraction": 1.5}},
        {"label_smoothing": 1.2},
        {"minibatch_discrimination": {"num_kernels": 0}},
        {"gradient_penalty": {"weight": -1}},
    ],
)
def test_bad_option_values_raise(switch):
    with pytest.raises(ValueError):
        configure(switch, get_objective("non-saturating"))


def test_configure_several_switches_at_once():
    setup = configure(
        {
            "feature_matching": True,
            "minibatch_discrimination": {"num_kernels": 50},
            "label_smoothing": 0.8,
            "virtual_batch_norm": {"reference_size": 32},
            "spectral_norm": True,
            "gradient_penalty": {"weight": 5},
            "weight_clipping": 0.02,
            "historical_averaging": True,
            "instance_noise": {"std": 0.3},
            "consensus": 1,
        },
        get_objective("non-saturating"),
    )
    assert setup.objective.name == "non-saturating+ls0.8"
    assert setup.discriminator_wrappers == [
        {"name": "minibatch_discrimination", "num_kernels": 50, "kernel_dim": 5},
        {"name": "spectral_norm"},
    ]
    assert setup.generator_wrappers == [{"name": "virtual_batch_norm", "reference_size": 32}]
    kinds = {type(t): t for t in setup.techniques}
    assert set(kinds) == {
        FeatureMatching,
        GradientPenalty,
        WeightClipping,
        HistoricalAveraging,
        InstanceNoise,
        Consensus,
    }
    assert kinds[GradientPenalty].weight == 5.0 and kinds[WeightClipping].clip == 0.02
    assert kinds[HistoricalAveraging].weight == 1e-4 and kinds[InstanceNoise].std == 0.3
    assert kinds[InstanceNoise].anneal == 0.5 and kinds[Consensus].gamma == 1.0
    assert configure({"label_smoothing": True}, get_objective("minimax")).objective.name == "minimax+ls0.9"
    assert configure({"virtual_batch_norm": True}, get_objective("minimax")).generator_wrappers == [
        {"name": "virtual_batch_norm", "reference_size": 64}
    ]
    with pytest.raises(ValueError, match="binary cross-entropy"):
        configure({"label_smoothing": True}, get_objective("wasserstein"))


def test_all_techniques_train_together_and_checkpoint(tmp_path):
    """A few alternating steps with every technique that combines, then a safetensors round trip of their state."""
    torch.manual_seed(0)
    switches = {name: True for name in ALL if name != "feature_matching"}
    setup = configure(switches, get_objective("non-saturating"))
    config = with_d_wrappers(image_config("mlp"), *setup.discriminator_wrappers)
    config.generator.wrappers.extend(setup.generator_wrappers)
    g = build_generator_network(config)
    d = build_discriminator_network(config)
    algorithm = AdversarialAlgorithm(setup.objective, setup.techniques)
    algorithm.setup(g, d)
    opt_g, opt_d = torch.optim.Adam(g.parameters(), 1e-3), torch.optim.Adam(d.parameters(), 1e-3)
    real = torch.rand(8, 1, 16, 16) * 2 - 1
    for step in range(3):
        ctx = StepContext(step, 10)
        d_loss, logs = algorithm.discriminator_loss(g, d, real, None, torch.randn(8, 6), ctx)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        algorithm.after_d_step(d, ctx)
        d.requires_grad_(False)
        g_loss, g_logs = algorithm.generator_loss(g, d, torch.randn(8, 6), None, real, ctx)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        d.requires_grad_(True)
        algorithm.after_g_step(g, ctx)
        assert math.isfinite(d_loss.item()) and math.isfinite(g_loss.item())
    assert {"d_gradient_penalty", "d_consensus", "d_historical_averaging", "g_consensus"} <= set(logs) | set(g_logs)
    save_file(algorithm.state_dict(), str(tmp_path / "state.safetensors"))
    fresh = AdversarialAlgorithm(setup.objective, configure(switches, get_objective("non-saturating")).techniques)
    fresh.setup(build_generator_network(config), build_discriminator_network(config))
    fresh.load_state_dict(load_file(str(tmp_path / "state.safetensors")))
    saved, loaded = algorithm.state_dict(), fresh.state_dict()
    assert saved.keys() == loaded.keys() and all(torch.equal(saved[k], loaded[k]) for k in saved)
