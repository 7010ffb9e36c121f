"""BiGAN: an encoder trained with the generator against a discriminator of (image, latent) pairs."""

import pytest
import torch

from gan_hub.archs.bigan import BiGANGenerator, JointDiscriminator
from gan_hub.config import GeneratorConfig
from gan_hub.hub import Generator, build_discriminator_network, build_generator_network
from gan_hub.objectives import get_objective
from gan_hub.techniques import configure
from gan_hub.variants import get_variant
from gan_hub.variants.base import StepContext
from gan_hub.variants.bigan import BiGANAlgorithm
from tests.conftest import with_discriminator_options
from train.step import Players, alternating_step

LATENT = 4
CTX = StepContext(0, 1)


def config(**extra) -> GeneratorConfig:
    return GeneratorConfig(
        variant="bigan",
        arch="bigan",
        latent_dim=LATENT,
        image_size=16,
        channels=1,
        arch_kwargs={"base_channels": 8, "z_hidden": 64, **extra},
    )


def players(objective: str = "non-saturating", seed: int = 0, **options):
    torch.manual_seed(seed)
    cfg = config()
    g, d = build_generator_network(cfg), build_discriminator_network(with_discriminator_options(cfg, **options))
    algorithm = BiGANAlgorithm(get_objective(objective))
    algorithm.setup(g, d)
    return cfg, g, d, algorithm


def latent_correlation(z: torch.Tensor, encoded: torch.Tensor) -> torch.Tensor:
    """Per-dimension Pearson correlation of z and E(G(z))."""
    zc, ec = z - z.mean(0), encoded - encoded.mean(0)
    return (zc * ec).sum(0) / (zc.norm(dim=0) * ec.norm(dim=0))


@pytest.fixture(scope="module")
def inverted():
    """The analytically solvable case: the data are a fixed generator's own samples G(z'), so the joint
    distributions of (x, E(x)) and (G(z), z) can only match when E inverts G. E and D are trained with
    the bigan losses (400 steps, about 5 s on one CPU core); G stays fixed. Runs this short do not
    succeed for every seed (one in five or so stays at chance), so the seeds are fixed."""
    cfg, g, d, algorithm = players(seed=0)
    g.generator.requires_grad_(False)
    p = Players(
        g,
        d,
        torch.optim.Adam(g.encoder.parameters(), 1e-3, betas=(0.5, 0.999)),
        torch.optim.Adam(d.parameters(), 1e-3, betas=(0.5, 0.999)),
        algorithm,
    )
    rng = torch.Generator().manual_seed(1)
    for step in range(400):
        with torch.no_grad():
            real = g(torch.randn(32, LATENT, generator=rng))
        alternating_step(
            p, real, None, lambda n: torch.randn(n, LATENT, generator=rng), lambda n: None, StepContext(step, 400)
        )
    model = Generator(cfg)
    model.net.load_state_dict(g.state_dict())
    return model


# ---- networks -----------------------------------------------------------------------------------------
def test_generator_network_carries_an_encoder_and_the_discriminator_scores_pairs():
    cfg, g, d, _ = players()
    assert isinstance(g, BiGANGenerator) and isinstance(d, JointDiscriminator) and d.latent_dim == LATENT
    z, x = torch.randn(5, LATENT), torch.randn(5, 1, 16, 16)
    assert g(z).shape == (5, 1, 16, 16)
    images, encoded = g(z, None, real=x)
    assert images.shape == (5, 1, 16, 16) and encoded.shape == (5, LATENT)
    assert d(x, None, z=encoded).shape == (5,)
    with pytest.raises(ValueError, match="scores \\(image, latent\\) pairs"):
        d(x)  # what a gradient penalty would do
    assert any(name.startswith("encoder.") for name in g.state_dict())
    fresh = build_discriminator_network(cfg)
    with pytest.raises(RuntimeError, match="attach_latent"):
        fresh(x, None, z=z)
    with pytest.raises(ValueError, match="already reads latents of width"):
        d.attach_latent(LATENT + 1)


def test_networks_are_unconditional():
    with pytest.raises(ValueError, match="unconditional"):
        build_generator_network(
            GeneratorConfig(variant="bigan", arch="bigan", latent_dim=4, image_size=16, num_classes=3)
        )


def test_spectral_norm_reaches_the_latent_branch():
    _, _, d, _ = players(d_spectral_norm=True)
    assert torch.nn.utils.parametrize.is_parametrized(d.latent[0], "weight")
    assert torch.nn.utils.parametrize.is_parametrized(d.joint[-1], "weight")


# ---- losses ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("objective", ["non-saturating", "wasserstein"])
def test_d_separates_real_pairs_from_fake_pairs_and_g_e_minimise_the_swapped_loss(objective):
    _, g, d, algorithm = players(objective)
    obj = algorithm.objective
    z, real = torch.randn(8, LATENT), torch.randn(8, 1, 16, 16)
    g.eval(), d.eval()  # running statistics: every forward of a batch gives the same numbers
    with torch.no_grad():
        fake, encoded = g(z, None, real=real)
        real_logits, fake_logits = d(real, None, z=encoded), d(fake, None, z=z)
        d_loss, _ = algorithm.discriminator_loss(g, d, real, None, z, CTX)
        g_loss, _ = algorithm.generator_loss(g, d, z, None, real, CTX)
    torch.testing.assert_close(d_loss, obj.discriminator_loss(real_logits, fake_logits))
    torch.testing.assert_close(g_loss, obj.discriminator_loss(fake_logits, real_logits))


def test_the_generator_step_trains_both_g_and_e():
    _, g, d, algorithm = players()
    d.requires_grad_(False)
    loss, logs = algorithm.generator_loss(g, d, torch.randn(8, LATENT), None, torch.randn(8, 1, 16, 16), CTX)
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in g.encoder.parameters())
    assert all(p.grad is not None for p in g.generator.parameters())
    assert {"g_loss", "g_encoded_std"} <= set(logs)


def test_incompatible_networks_and_techniques_are_refused():
    dcgan = GeneratorConfig(
        variant="dcgan", arch="dcgan", latent_dim=4, image_size=16, arch_kwargs={"base_channels": 8}
    )
    with pytest.raises(TypeError, match="encoder"):
        BiGANAlgorithm(get_objective("non-saturating")).setup(
            build_generator_network(dcgan), build_discriminator_network(dcgan)
        )
    for switch in ("feature_matching", "experience_replay"):
        setup = configure({switch: True}, get_objective("non-saturating"))
        with pytest.raises(ValueError, match=switch):
            BiGANAlgorithm(setup.objective, setup.techniques)


# ---- the defining mechanism: E learns to invert G ------------------------------------------------------------
def test_the_encoder_learns_to_invert_the_generator(inverted):
    z = torch.randn(512, LATENT, generator=torch.Generator().manual_seed(9))
    encoded = inverted.encode(inverted.generate_from_latents(z))  # through uint8 images, as a user would
    correlation = latent_correlation(z, encoded)
    assert correlation.min() > 0.5, correlation  # chance: about 0 (this run: above 0.9)
    # each encoding is nearer its own latent than a random other one's, far above chance
    distances = torch.cdist(encoded, z)
    assert (distances.diag() < distances.roll(1, dims=1).diag()).float().mean() > 0.8


def test_reconstructions_are_closer_to_their_inputs_than_to_other_inputs(inverted):
    images = inverted.generate(64, seed=11)
    reconstructions = inverted.reconstruct(images)
    assert reconstructions.dtype == torch.uint8 and reconstructions.shape == images.shape
    distances = torch.cdist(reconstructions.flatten(1).float(), images.flatten(1).float())
    own, others = distances.diag(), distances.masked_fill(torch.eye(64, dtype=torch.bool), float("inf"))
    assert (own < others.min(1).values).float().mean() > 0.3  # chance: 1 / 64 (this run: 0.7)
    assert own.mean() < 0.6 * distances.mean()  # this run: 0.37


# ---- the Generator API ------------------------------------------------------------------------------------
def test_encode_and_reconstruct_shapes_dtypes_and_inputs():
    model = Generator(config())
    images = torch.randint(0, 256, (3, 1, 16, 16), dtype=torch.uint8)
    encoded = model.encode(images)
    assert encoded.dtype == torch.float32 and encoded.shape == (3, LATENT) and encoded.device.type == "cpu"
    torch.testing.assert_close(model.encode(images.float() / 127.5 - 1), encoded)  # floats in [-1, 1] also work
    torch.testing.assert_close(model.encode(images, batch_size=2), encoded)
    assert model.encode(images[:0]).shape == (0, LATENT)
    out = model.reconstruct(images)
    assert out.dtype == torch.uint8 and out.shape == (3, 1, 16, 16)
    with pytest.raises(ValueError, match="expected images"):
        model.encode(torch.zeros(3, 3, 16, 16, dtype=torch.uint8))


def test_models_without_an_encoder_say_so():
    model = Generator(
        GeneratorConfig(variant="dcgan", arch="dcgan", latent_dim=4, image_size=16, arch_kwargs={"base_channels": 8})
    )
    for method in (model.encode, model.reconstruct):
        with pytest.raises(ValueError, match="has no encoder"):
            method(torch.zeros(1, 1, 16, 16, dtype=torch.uint8))


def test_from_pretrained_round_trip_gives_identical_encodings(inverted, tmp_path):
    inverted.save_pretrained(tmp_path / "bigan")
    loaded = Generator.from_pretrained(tmp_path / "bigan")
    assert isinstance(loaded.net, BiGANGenerator)
    images = inverted.generate(16, seed=2)
    torch.testing.assert_close(loaded.encode(images), inverted.encode(images), rtol=0, atol=0)
    assert torch.equal(loaded.reconstruct(images), inverted.reconstruct(images))
    assert torch.equal(loaded.generate(8, seed=4), inverted.generate(8, seed=4))


def test_variant_defaults():
    spec = get_variant("bigan")
    assert spec.arch == "bigan" and spec.objective == "non-saturating" and not spec.conditional
