"""Progressive growing: the fade-in schedule, the alpha blends of G and D, and the 32x32 export."""

import pytest
import torch
import torch.nn.functional as F

from gan_hub.archs.progan import ProGANDiscriminator, ProGANGenerator, num_levels
from gan_hub.data import fit_image_size, load_dataset
from gan_hub.hub import Generator
from gan_hub.objectives import get_objective
from gan_hub.variants import get_variant
from gan_hub.variants.base import StepContext
from gan_hub.variants.progan import GrowthSchedule, ProGANAlgorithm, real_at


def test_schedule_gives_level_and_alpha_at_known_steps():
    s = GrowthSchedule(levels=3, fade_steps=4, stable_steps=10)
    expected = {
        0: (0, 1.0),
        9: (0, 1.0),  # 4x4 while stable
        10: (1, 0.0),
        11: (1, 0.25),
        13: (1, 0.75),
        14: (1, 1.0),
        23: (1, 1.0),  # 8x8 fades in, holds
        24: (2, 0.0),
        26: (2, 0.5),
        28: (2, 1.0),  # 16x16
        38: (3, 0.0),
        41: (3, 0.75),
        42: (3, 1.0),
        10**6: (3, 1.0),
    }  # 32x32, then for good
    assert {step: s.at(step) for step in expected} == expected
    assert [s.resolution(step) for step in (0, 10, 24, 38, 10**6)] == [4, 8, 16, 32, 32]
    assert s.grown_at == 42
    assert GrowthSchedule(levels=2, fade_steps=0, stable_steps=5).at(5) == (1, 1.0)  # no fade: a hard switch
    for bad in ({"fade_steps": -1}, {"stable_steps": 0}, {"fade_steps": 2.5}):
        with pytest.raises(ValueError, match="must be an integer"):
            GrowthSchedule(levels=3, **bad)


def test_default_schedule_reaches_32x32_within_the_default_run():
    algorithm = get_variant("progan").build_algorithm(get_objective("wasserstein"))
    algorithm.setup(ProGANGenerator(8, 1, 32, base_channels=4), ProGANDiscriminator(1, 32, base_channels=4))
    assert algorithm.schedule.grown_at == 3000 and algorithm.schedule.at(4999) == (3, 1.0)


def networks(seed: int = 0):
    torch.manual_seed(seed)
    return ProGANGenerator(8, 1, 32, base_channels=4), ProGANDiscriminator(1, 32, base_channels=4)


@pytest.mark.parametrize("level", [1, 2, 3])
def test_generator_fade_in_blends_the_upsampled_previous_output_with_the_new_block(level):
    g, _ = networks()
    z = torch.randn(5, 8)
    g.set_growth(level - 1, 1.0)
    previous = g(z)
    g.set_growth(level, 0.0)
    at_zero = g(z)
    assert at_zero.shape[-1] == 4 * 2**level
    torch.testing.assert_close(at_zero, F.interpolate(previous, scale_factor=2, mode="nearest"), rtol=0, atol=0)
    g.set_growth(level, 1.0)
    at_one = g(z)
    new_block = g.to_rgb[level](g.blocks[level - 1](g.features(z, None, level - 1)))
    torch.testing.assert_close(at_one, new_block, rtol=0, atol=0)
    g.set_growth(level, 0.3)
    torch.testing.assert_close(g(z), 0.3 * at_one + 0.7 * at_zero, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("level", [1, 3])
def test_discriminator_fade_in_blends_from_rgb_of_the_downsampled_image(level):
    _, d = networks()
    x = torch.randn(6, 1, 4 * 2**level, 4 * 2**level)
    d.set_growth(level - 1, 1.0)
    previous = d(F.avg_pool2d(x, 2))
    d.set_growth(level, 0.0)
    torch.testing.assert_close(d(x), previous, rtol=1e-6, atol=1e-6)  # alpha 0: the new block has no say
    d.set_growth(level, 1.0)
    h = d.blocks[level - 1](d.from_rgb[level](x))
    for block in reversed(d.blocks[: level - 1]):
        h = block(h)
    torch.testing.assert_close(d(x), d.head(d.final(d.body_4x4(h))), rtol=0, atol=0)
    with pytest.raises(ValueError, match="downsample them to the current resolution"):
        d(torch.randn(2, 1, 32, 32)[..., :16, :16] if level == 3 else torch.randn(2, 1, 32, 32))


def test_real_images_are_pooled_and_faded_like_the_generator_output():
    real = torch.randn(3, 1, 32, 32)
    torch.testing.assert_close(real_at(real, 8, 1.0), F.avg_pool2d(real, 4))
    torch.testing.assert_close(real_at(real, 8, 0.0), F.interpolate(F.avg_pool2d(real, 8), scale_factor=2))
    torch.testing.assert_close(
        real_at(real, 32, 0.5), 0.5 * real + 0.5 * F.interpolate(F.avg_pool2d(real, 2), scale_factor=2)
    )


def test_every_parameter_gets_a_gradient_at_every_stage():
    # data-parallel training needs a gradient (zero where the layer is not in use) for every parameter
    g, d = networks()
    for level, alpha in ((0, 1.0), (1, 0.5), (3, 1.0)):
        g.set_growth(level, alpha)
        d.set_growth(level, alpha)
        g.zero_grad(set_to_none=True)
        d.zero_grad(set_to_none=True)
        d(g(torch.randn(4, 8))).sum().backward()
        assert all(p.grad is not None for p in [*g.parameters(), *d.parameters()]), (level, alpha)
        if level == 0:
            assert g.to_rgb[3].weight.grad.abs().sum() == 0 and g.to_rgb[0].weight.grad.abs().sum() > 0


def test_algorithm_follows_the_schedule():
    g, d = networks()
    algorithm = ProGANAlgorithm(get_objective("wasserstein"), fade_steps=2, stable_steps=2)
    algorithm.setup(g, d)
    real = torch.rand(4, 1, 32, 32) * 2 - 1
    for step, (resolution, alpha) in {0: (4, 1.0), 2: (8, 0.0), 3: (8, 0.5), 9: (16, 1.0), 20: (32, 1.0)}.items():
        ctx = StepContext(step=step, max_steps=30)
        _, logs = algorithm.discriminator_loss(g, d, real, None, torch.randn(4, 8), ctx)
        assert (logs["resolution"], logs["alpha"]) == (resolution, alpha)
        assert g.resolution == d.resolution == resolution and g.alpha == alpha
        loss, _ = algorithm.generator_loss(g, d, torch.randn(4, 8), None, real, ctx)
        assert torch.isfinite(loss)
    with pytest.raises(TypeError, match="progressively growing networks"):
        algorithm.setup(torch.nn.Linear(2, 2), d)


def test_sizes_are_checked():
    assert [num_levels(s) for s in (8, 16, 32, 64)] == [1, 2, 3, 4]
    for bad in (4, 28, 48):
        with pytest.raises(ValueError, match="power-of-two image size"):
            num_levels(bad)
    g, _ = networks()
    with pytest.raises(ValueError, match="level must be in"):
        g.set_growth(4)
    with pytest.raises(ValueError, match="alpha must be in"):
        g.set_growth(2, 1.5)


def test_mnist_sized_images_are_padded_to_32():
    digits = load_dataset("synthetic", size=8, image_size=28)
    padded = fit_image_size(digits, 32)
    assert padded.images.shape == (8, 1, 32, 32) and padded.info.image_size == 32
    assert torch.equal(padded.images[:, :, 2:30, 2:30], digits.images)
    assert padded.images[:, :, :2].eq(0).all() and padded.images[:, :, :, 30:].eq(0).all()


def test_exported_generator_samples_at_32x32_and_reloads_identically(tmp_path):
    from train.config import TrainConfig
    from train.trainer import Trainer

    assert get_variant("progan").image_size == 32
    cfg = TrainConfig(
        variant="progan",
        dataset="synthetic",
        max_steps=2,
        batch_size=2,
        eval_samples=0,
        eval_samples_during_training=0,
        sample_every=1000,
        eval_every=1000,
        checkpoint_every=1000,
        log_every=1,
        output_dir=str(tmp_path / "run"),
        arch_kwargs={"base_channels": 2},
        variant_options={"fade_steps": 1, "stable_steps": 1},
    )
    trainer = Trainer(cfg)
    assert trainer.gen_config.image_size == 32  # synthetic 16x16 images are padded to the variant's size
    model_dir = trainer.train()
    assert (trainer.last_logs["resolution"], trainer.last_logs["alpha"]) == (8.0, 0.0)  # trained up to 8x8 ...
    # ... yet the export is built at the top level: it samples at 32x32 (the layers above 8x8 untrained here)
    loaded = Generator.from_pretrained(model_dir)
    images = loaded.generate(6, seed=3)
    assert loaded.config.image_size == 32 and images.shape == (6, 1, 32, 32)
    assert torch.equal(images, trainer.snapshot().cpu().generate(6, seed=3))


def test_padded_32x32_samples_are_scored_at_the_mnist_scorers_28x28(tmp_path):
    from gan_hub.config import GeneratorConfig
    from gan_hub.data import centre_crop
    from gan_hub.metrics.evaluate import evaluate_generator, sample_batches

    g = Generator(
        GeneratorConfig(
            variant="progan",
            arch="progan",
            latent_dim=8,
            image_size=32,
            channels=1,
            dataset="mnist",
            arch_kwargs={"base_channels": 2},
        )
    )
    ((images, _),) = sample_batches(g, 6, seed=0, batch_size=6, crop=28)
    assert torch.equal(images, g.generate(6, seed=0)[:, :, 2:30, 2:30])
    assert torch.equal(centre_crop(torch.arange(16).view(1, 1, 4, 4), 2), torch.tensor([[[[5, 6], [9, 10]]]]))
    scores = evaluate_generator(g, num_samples=20, metrics=("is",), strict=True)["scores"]
    assert scores and scores[0]["num_samples"] == 20
