"""InfoGAN: latent codes read from the latent, a Q head on D, and the mutual-information term that makes
the codes recoverable from the samples."""

import math

import pytest
import torch

from gan_hub.config import GeneratorConfig
from gan_hub.data import load_dataset
from gan_hub.hub import Generator, build_discriminator_network, build_generator_network
from gan_hub.nn.info import (
    CodeLayout,
    InfoCodeGenerator,
    InfoHead,
    add_info_head,
    discriminate_with_codes,
    information_loss,
)
from gan_hub.objectives import get_objective
from gan_hub.techniques import configure
from gan_hub.variants import get_variant
from gan_hub.variants.base import StepContext
from gan_hub.variants.infogan import InfoGANAlgorithm
from tests.conftest import with_discriminator_options
from train.step import Players, alternating_step

K, C, LATENT = 4, 1, 16


def config(**extra) -> GeneratorConfig:
    return GeneratorConfig(
        variant="infogan",
        arch="dcgan",
        latent_dim=LATENT,
        image_size=16,
        channels=1,
        arch_kwargs={"base_channels": 8, "info_categorical": K, "info_continuous": C, **extra},
    )


def players(categorical_weight=1.0, continuous_weight=0.1, seed=0):
    torch.manual_seed(seed)
    cfg = config()
    g, d = build_generator_network(cfg), build_discriminator_network(cfg)
    algorithm = InfoGANAlgorithm(
        get_objective("non-saturating"),
        categorical_weight=categorical_weight,
        continuous_weight=continuous_weight,
        q_hidden=32,
    )
    algorithm.setup(g, d)
    return cfg, g, d, algorithm


def train(steps: int, **weights):
    """A short InfoGAN run on the synthetic test images (about 1 s per 100 steps on one CPU core)."""
    cfg, g, d, algorithm = players(**weights)
    p = Players(
        g,
        d,
        torch.optim.Adam(g.parameters(), 1e-3, betas=(0.5, 0.999)),
        torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999)),
        algorithm,
    )
    data = load_dataset("synthetic").images.float().div(127.5).sub(1)
    rng = torch.Generator().manual_seed(1)
    history = []
    for step in range(steps):
        real = data[torch.randint(0, len(data), (32,), generator=rng)]
        logs, _ = alternating_step(
            p, real, None, lambda n: torch.randn(n, LATENT, generator=rng), lambda n: None, StepContext(step, steps)
        )
        history.append(logs)
    return cfg, g, d, history


def q_accuracy(g, d, n=256, seed=5) -> float:
    """Q's accuracy on the categorical code of fresh samples (networks in eval mode)."""
    g.eval(), d.eval()
    with torch.no_grad():
        z = torch.randn(n, LATENT, generator=torch.Generator().manual_seed(seed))
        _, (logits, _) = discriminate_with_codes(d, g(z))
    g.train(), d.train()
    return (logits.argmax(1) == g.layout.split(z)[1]).float().mean().item()


@pytest.fixture(scope="module")
def trained():
    return train(120)


# ---- the latent layout ------------------------------------------------------------------------------
def test_codes_are_read_from_the_latent_with_the_papers_distributions():
    layout = CodeLayout(latent_dim=8, categorical=3, continuous=2)
    assert layout.noise_dim == 3
    z = torch.randn(30000, 8, generator=torch.Generator().manual_seed(0))
    noise, category, continuous = layout.split(z)
    torch.testing.assert_close(noise, z[:, :3])
    counts = torch.bincount(category, minlength=3).float() / len(z)
    assert torch.allclose(counts, torch.full((3,), 1 / 3), atol=0.015)  # argmax of K normals: uniform
    assert continuous.abs().max() < 1 and abs(continuous.mean()) < 0.02
    assert continuous.var(0).sub(1 / 3).abs().max() < 0.015  # Uniform(-1, 1) has variance 1/3
    x = layout.network_input(noise[:2], torch.tensor([2, 0]), continuous[:2])
    assert x.shape == (2, 8)
    torch.testing.assert_close(x[:, 3:6], torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"categorical": 1}, "at least 2 categories"),
        ({}, "at least one code"),
        ({"categorical": 6, "continuous": 2}, "leaves no noise"),
        ({"continuous": -1}, "non-negative integer"),
    ],
)
def test_bad_layouts_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CodeLayout(latent_dim=8, **kwargs)


def test_models_without_info_options_are_unchanged():
    cfg = GeneratorConfig(
        variant="dcgan", arch="dcgan", latent_dim=LATENT, image_size=16, arch_kwargs={"base_channels": 8}
    )
    assert not isinstance(build_generator_network(cfg), InfoCodeGenerator)
    with pytest.raises(ValueError, match="has no latent codes"):
        Generator(cfg).generate(2, codes={"categorical": 0})


# ---- the information term and the Q head ---------------------------------------------------------------
def test_information_loss_is_cross_entropy_plus_unit_variance_gaussian_nll():
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    target = torch.tensor([0, 2])
    means, codes = torch.tensor([[0.5], [-0.5]]), torch.tensor([[0.0], [0.5]])
    loss, logs = information_loss(logits, means, target, codes, categorical_weight=1.0, continuous_weight=0.1)
    ce = (-math.log(math.exp(2) / (math.exp(2) + 2)) + math.log(3)) / 2
    nll = (0.5 * 0.25 + 0.5 * 1.0) / 2
    assert loss.item() == pytest.approx(ce + 0.1 * nll, rel=1e-6)
    assert logs["info_cat"] == pytest.approx(ce, rel=1e-6) and logs["info_cont"] == pytest.approx(nll, rel=1e-6)
    assert logs["info_cat_acc"] == 0.5
    # Q predicting the codes makes the term (nearly) vanish; a guessing Q pays log K
    perfect, _ = information_loss(20 * torch.eye(3)[target], codes, target, codes)
    guess, _ = information_loss(torch.zeros(2, 3), torch.zeros(2, 1), target, codes)
    assert perfect.item() < 1e-6 < math.log(3) <= guess.item()


def test_the_discriminator_gets_a_q_head_and_still_returns_the_adversarial_logit():
    _, g, d, _ = players()
    assert isinstance(d.head, InfoHead)
    x = torch.randn(6, 1, 16, 16)
    logits, (cat, cont) = discriminate_with_codes(d, x)
    assert logits.shape == (6,) and cat.shape == (6, K) and cont.shape == (6, C)
    out = d(x)  # one mapping: nothing is kept on the module between calls
    assert out["logits"].shape == (6,) and out["q_categorical"].shape == (6, K) and not hasattr(d.head, "codes")
    count = sum(p.numel() for p in d.parameters())
    add_info_head(d, K, C)  # a second call changes nothing
    assert sum(p.numel() for p in d.parameters()) == count
    with pytest.raises(ValueError, match="already has a Q head"):
        add_info_head(d, K + 1, C)


def test_q_head_follows_spectral_norm_and_minibatch_discrimination():
    cfg = config()
    torch.manual_seed(0)
    d = build_discriminator_network(with_discriminator_options(cfg, True, {"num_kernels": 4, "kernel_dim": 3}))
    InfoGANAlgorithm(get_objective("non-saturating")).setup(build_generator_network(cfg), d)
    assert torch.nn.utils.parametrize.is_parametrized(d.head.q[0], "weight")
    _, (cat, cont) = discriminate_with_codes(d, torch.randn(5, 1, 16, 16))
    assert cat.shape == (5, K) and cont.shape == (5, C)


def test_setup_and_techniques_are_checked():
    cfg = GeneratorConfig(
        variant="infogan", arch="dcgan", latent_dim=LATENT, image_size=16, arch_kwargs={"base_channels": 8}
    )
    with pytest.raises(TypeError, match="info_codes network wrapper"):
        InfoGANAlgorithm(get_objective("non-saturating")).setup(
            build_generator_network(cfg), build_discriminator_network(cfg)
        )
    replay = configure({"experience_replay": True}, get_objective("non-saturating")).techniques
    with pytest.raises(ValueError, match="experience_replay"):
        InfoGANAlgorithm(get_objective("non-saturating"), replay)


def test_feature_matching_replaces_only_the_adversarial_term():
    _, g, d, _ = players()
    setup = configure({"feature_matching": True}, get_objective("non-saturating"))
    algorithm = InfoGANAlgorithm(setup.objective, setup.techniques, q_hidden=32)
    algorithm.setup(g, d)
    z, real = torch.randn(8, LATENT), torch.randn(8, 1, 16, 16)
    loss, logs = algorithm.generator_loss(g, d, z, None, real, StepContext(0, 1))
    assert logs["g_info"] > 0 and loss.item() == pytest.approx(logs["g_loss"])
    loss.backward()
    assert all(p.grad is not None for p in g.parameters())


# ---- the defining mechanism: codes recoverable from the samples ------------------------------------------
def test_short_training_makes_the_categorical_code_recoverable(trained):
    _, g, d, history = trained
    accuracy = q_accuracy(g, d)
    assert accuracy > 0.75, accuracy  # chance is 1 / K = 0.25
    first = sum(h["g_info_cat"] for h in history[:5]) / 5
    last = sum(h["g_info_cat"] for h in history[-5:]) / 5
    assert first > 0.9 * math.log(K) and last < 0.6 * first  # the MI bound tightens: CE falls from log K
    assert all(math.isfinite(v) for h in history for v in h.values())


def test_without_the_information_term_the_code_is_not_recovered():
    _, g, d, _ = train(120, categorical_weight=0.0, continuous_weight=0.0)
    assert q_accuracy(g, d) < 0.5  # Q untrained and G not rewarded: about chance


# ---- the Generator API: fixed codes, determinism, round trip ---------------------------------------------------
def test_generate_with_fixed_codes(trained):
    cfg, g, _, _ = trained
    model = Generator(cfg)
    model.net.load_state_dict(g.state_dict())
    drawn = model.latent_codes(8, seed=3)
    assert drawn["categorical"].shape == (8,) and drawn["continuous"].shape == (8, C)
    plain = model.generate(8, seed=3)
    torch.testing.assert_close(model.generate(8, seed=3, codes={}), plain)  # nothing fixed: the seed's codes
    torch.testing.assert_close(model.generate(8, seed=3, codes=drawn), plain)
    torch.testing.assert_close(model.generate(8, seed=3, codes={"continuous": [None]}), plain)
    fixed = model.generate(8, seed=3, codes={"categorical": 1, "continuous": [0.5]})
    assert fixed.dtype == torch.uint8 and fixed.shape == (8, 1, 16, 16)
    torch.testing.assert_close(model.generate(8, seed=3, codes={"categorical": 1, "continuous": [0.5]}), fixed)
    for other in range(K):
        if other != 1:
            assert not torch.equal(model.generate(8, seed=3, codes={"categorical": other, "continuous": [0.5]}), fixed)
    per_sample = model.generate(
        4, seed=3, codes={"categorical": [0, 1, 2, 3], "continuous": [[-2.0], [-1.0], [1.0], [2.0]]}
    )
    assert per_sample.shape == (4, 1, 16, 16)  # values outside [-1, 1] extrapolate
    soft = torch.eye(K)[[1] * 8]
    torch.testing.assert_close(model.generate(8, seed=3, codes={"categorical": soft, "continuous": [0.5]}), fixed)
    assert torch.equal(
        model.generate(3, seed=0, batch_size=2, codes={"categorical": 2}),
        model.generate(3, seed=0, batch_size=500, codes={"categorical": 2}),
    )


@pytest.mark.parametrize(
    "codes, error, message",
    [
        ({"categorical": K}, ValueError, "must be in 0"),
        ({"categorical": [0, 1]}, ValueError, "2 categorical codes for 4"),
        ({"continuous": [0.1, 0.2]}, ValueError, "1 continuous codes, got 2"),
        ({"style": 1}, ValueError, "unknown code"),
        ({"categorical": 1.5}, TypeError, "integer category"),
        ([1], TypeError, "must be a dict"),
    ],
)
def test_bad_codes_are_refused(codes, error, message):
    with pytest.raises(error, match=message):
        Generator(config()).generate(4, codes=codes)


def test_from_pretrained_keeps_the_codes_meaning(trained, tmp_path):
    cfg, g, d, _ = trained
    model = Generator(cfg)
    model.net.load_state_dict(g.state_dict())
    model.save_pretrained(tmp_path / "infogan")
    loaded = Generator.from_pretrained(tmp_path / "infogan")
    assert loaded.config.wrapper("generator", "info_codes") == {"name": "info_codes", "categorical": K, "continuous": C}
    assert loaded.config.latent_dim == LATENT
    for k in range(K):
        images = loaded.generate(32, seed=7, codes={"categorical": k})
        torch.testing.assert_close(images, model.generate(32, seed=7, codes={"categorical": k}))
        d.eval()
        with torch.no_grad():
            _, (logits, _) = discriminate_with_codes(d, images.float().div(127.5).sub(1))
        d.train()
        assert (logits.argmax(1) == k).float().mean() > 0.75, (
            k
        )  # Q still reads category k in the reloaded model's images


def test_virtual_batch_norm_reference_batch_is_in_the_code_space():
    model = Generator(config(g_norm="virtual-batch", g_vbn_reference_size=8))
    reference = model.net.net.reference_z
    one_hot = reference[:, LATENT - K - C : LATENT - C]
    assert torch.equal(one_hot.sum(1), torch.ones(8)) and set(one_hot.unique().tolist()) == {0.0, 1.0}
    assert reference[:, -C:].abs().max() < 1
    assert model.generate(4, seed=0, codes={"categorical": 2}).shape == (4, 1, 16, 16)


def test_variant_defaults_follow_the_papers_mnist_setup():
    spec = get_variant("infogan")
    assert spec.arch == "dcgan" and spec.arch_kwargs["g_hidden"] == 1024 and spec.arch_kwargs["d_hidden"] == 1024
    algorithm = spec.build_algorithm(get_objective("non-saturating"))
    assert algorithm.generator_wrappers() == [{"name": "info_codes", "categorical": 10, "continuous": 2}]
    assert spec.latent_dim == 74
    assert (spec.lr_g, spec.lr_d) == (1e-3, 2e-4)
