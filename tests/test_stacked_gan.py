"""Stacked GAN: two levels inverting the MNIST classifier's encoder stages, trained independently then jointly."""

import torch
from safetensors.torch import load_file

from gan_hub import Generator
from gan_hub.game import StepContext
from gan_hub.hub import build_discriminator_network, build_generator_network
from train.compose import compose
from train.config import TrainConfig
from train.step import Players, alternating_step

from .test_seams import ROOT

MNIST = type(
    "Info", (), {"num_classes": 10, "class_names": [str(i) for i in range(10)], "image_size": 28, "channels": 1}
)()


def players(independent_steps: int):
    run = compose(
        TrainConfig(
            variant="stacked-gan",
            dataset="mnist",
            arch_kwargs={"base_channels": 8},
            variant_options={"independent_steps": independent_steps},
        )
    )
    config = run.model_config(MNIST)
    g, d = build_generator_network(config), build_discriminator_network(config)
    run.algorithm.setup(g, d)
    opt = run.optimizer
    return config, Players(g, d, opt.build(g.parameters(), 1e-3), opt.build(d.parameters(), opt.lr_d), run.algorithm)


def test_each_levels_conditional_loss_falls_on_a_tiny_run():
    torch.manual_seed(0)
    digits = load_file(str(ROOT / "tests" / "fixtures" / "mnist_sample.safetensors"))
    real, labels = digits["images"][:32].float() / 127.5 - 1, digits["labels"][:32]
    config, p = players(independent_steps=20)
    noise = torch.Generator().manual_seed(1)
    history = []
    for step in range(40):
        logs, _ = alternating_step(
            p,
            real,
            labels,
            lambda n: torch.randn(n, config.latent_dim, generator=noise),
            lambda n: labels,
            StepContext(step, 40),
        )
        history.append(logs)
    for phase in (history[:20], history[20:]):  # independent, then joint
        for term in ("g_conditional_bottom", "g_conditional_top"):
            first, last = sum(h[term] for h in phase[:4]) / 4, sum(h[term] for h in phase[-4:]) / 4
            assert last < 0.95 * first, (term, first, last)
    assert [h["joint"] for h in (history[19], history[20])] == [0.0, 1.0]
    assert all(h["d_entropy"] > 0 and h["g_entropy"] > 0 for h in history)


def test_top_down_sampling_exports_and_loads(tmp_path):
    config, p = players(independent_steps=0)
    model = Generator(config)
    model.net.load_state_dict(p.generator.state_dict())
    model.save_pretrained(tmp_path)
    loaded = Generator.from_pretrained(tmp_path)
    images = loaded.generate(6, seed=3, labels=[7] * 6)
    assert images.shape == (6, 1, 28, 28) and images.dtype == torch.uint8
    assert torch.equal(images, model.generate(6, seed=3, labels=[7] * 6))
    levels = loaded.net(torch.randn(2, config.latent_dim), torch.tensor([1, 2]), levels=True)
    assert levels["features"].shape == (2, 128) and (levels["features"] >= 0).all()
