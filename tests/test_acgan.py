"""AC-GAN: a class-conditional generator against a discriminator that predicts the class."""

import dataclasses
import math

import pytest
import torch

from gan_hub.config import GeneratorConfig
from gan_hub.hub import Generator, build_discriminator_network, build_generator_network
from gan_hub.nn.auxiliary import AuxiliaryClassifierHead, add_auxiliary_classifier, discriminate
from gan_hub.objectives import Objective, get_objective
from gan_hub.variants import get_variant
from gan_hub.variants.acgan import ACGANAlgorithm, auxiliary_class_loss, class_accuracy
from gan_hub.variants.base import StepContext
from tests.conftest import with_discriminator_options

CTX = StepContext(step=0, max_steps=1)
K = 4


def config(arch: str = "dcgan", **arch_kwargs) -> GeneratorConfig:
    shape = {"image_size": 16, "channels": 1} if arch == "dcgan" else {"image_size": 0, "channels": 2}
    arch_kwargs = arch_kwargs or ({"base_channels": 4} if arch == "dcgan" else {"hidden_dim": 8})
    return GeneratorConfig(
        variant="acgan",
        arch=arch,
        latent_dim=5,
        num_classes=K,
        class_names=[str(k) for k in range(K)],
        arch_kwargs=arch_kwargs,
        **shape,
    )


def players(arch: str = "dcgan", class_weight: float = 1.0, objective: Objective | None = None, **options):
    torch.manual_seed(0)
    cfg = config(arch)
    g, d = build_generator_network(cfg), build_discriminator_network(with_discriminator_options(cfg, **options))
    algorithm = ACGANAlgorithm(objective or get_objective("non-saturating"), class_weight=class_weight)
    algorithm.setup(g, d)
    return cfg, g, d, algorithm


def test_auxiliary_class_loss_is_the_cross_entropy():
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    labels = torch.tensor([0, 2])
    expected = (-math.log(math.exp(2) / (math.exp(2) + 2)) - math.log(1 / (math.e + 2))) / 2
    assert auxiliary_class_loss(logits, labels).item() == pytest.approx(expected, rel=1e-6)
    soft = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # one-hot soft codes give the same loss
    assert auxiliary_class_loss(logits, soft).item() == pytest.approx(expected, rel=1e-6)
    assert class_accuracy(logits, labels) == 0.5


@pytest.mark.parametrize("arch", ["dcgan", "mlp"])
def test_discriminator_predicts_the_class_and_ignores_the_label(arch):
    cfg, g, d, _ = players(arch)
    assert isinstance(d.head, AuxiliaryClassifierHead) and d.head.num_classes == K
    assert not any("embed" in name for name, _ in d.named_parameters())  # the projection embedding is gone
    x = torch.randn(6, *((1, 16, 16) if arch == "dcgan" else (2,)))
    logits, classes = discriminate(d, x)
    assert logits.shape == (6,) and classes.shape == (6, K)
    torch.testing.assert_close(d(x, torch.zeros(6, dtype=torch.long)), d(x, torch.full((6,), 3)))
    count = sum(p.numel() for p in d.parameters())
    add_auxiliary_classifier(d)  # a second call changes nothing
    assert isinstance(d.head.adversarial, torch.nn.Module) and sum(p.numel() for p in d.parameters()) == count


def test_spectral_norm_and_minibatch_heads_keep_working():
    _, _, d, _ = players(d_spectral_norm=True, d_minibatch={"num_kernels": 3, "kernel_dim": 2})
    from torch.nn.utils import parametrize

    assert parametrize.is_parametrized(d.head.classifier, "weight")
    logits, classes = discriminate(d, torch.randn(5, 1, 16, 16))
    assert logits.shape == (5,) and classes.shape == (5, K)


def test_unconditional_discriminators_are_refused():
    cfg = GeneratorConfig(
        variant="acgan", arch="dcgan", latent_dim=5, image_size=16, channels=1, arch_kwargs={"base_channels": 4}
    )
    with pytest.raises(ValueError, match="not class-conditional"):
        add_auxiliary_classifier(build_discriminator_network(cfg))


def g_gradient(algorithm, g, d, z, labels):
    g.zero_grad(set_to_none=True)
    loss, logs = algorithm.generator_loss(g, d, z, labels, None, CTX)
    loss.backward()
    return torch.cat([p.grad.flatten() for p in g.parameters()]), logs


# an objective whose generator loss is zero: what G learns then comes from the class term alone
NO_ADVERSARIAL_LOSS = dataclasses.replace(
    get_objective("non-saturating"),
    name="zero-g",
    generator_loss=lambda fake_logits, real_logits=None: 0.0 * fake_logits.sum(),
)


def test_generator_gradient_includes_the_class_term():
    cfg, g, d, algorithm = players()
    d.requires_grad_(False)
    z, labels = torch.randn(8, 5), torch.arange(8) % K
    with_class, logs = g_gradient(algorithm, g, d, z, labels)
    without_class, _ = g_gradient(ACGANAlgorithm(get_objective("non-saturating"), class_weight=0.0), g, d, z, labels)
    assert "g_class" in logs
    # the difference is exactly the gradient of the class cross-entropy of G's samples
    g.zero_grad(set_to_none=True)
    auxiliary_class_loss(discriminate(d, g(z, labels))[1], labels).backward()
    class_only = torch.cat([p.grad.flatten() for p in g.parameters()])
    torch.testing.assert_close(with_class - without_class, class_only, rtol=1e-4, atol=1e-7)
    assert class_only.abs().max() > 0
    # with no adversarial loss at all, G is still pulled by the class loss
    only_class, _ = g_gradient(ACGANAlgorithm(NO_ADVERSARIAL_LOSS), g, d, z, labels)
    torch.testing.assert_close(only_class, class_only, rtol=1e-4, atol=1e-7)


def test_discriminator_loss_adds_both_class_terms_and_logs_accuracy():
    cfg, g, d, algorithm = players()
    real, labels, z = torch.rand(8, 1, 16, 16) * 2 - 1, torch.arange(8) % K, torch.randn(8, 5)
    loss, logs = algorithm.discriminator_loss(g, d, real, labels, z, CTX)
    plain, _ = ACGANAlgorithm(get_objective("non-saturating"), class_weight=0.0).discriminator_loss(
        g, d, real, labels, z, CTX
    )
    assert loss.item() == pytest.approx(plain.item() + logs["d_class"], rel=1e-5)
    assert 0 <= logs["d_class_acc"] <= 1 and "d_fake_class_acc" in logs
    assert logs["d_class"] == pytest.approx(2 * math.log(K), rel=0.05)  # near-uniform class scores at the start
    loss.backward()
    assert d.head.classifier.weight.grad.abs().sum() > 0


def test_registered_variant_trains_and_exports_a_conditional_generator(tmp_path):
    from train.config import TrainConfig
    from train.trainer import Trainer

    spec = get_variant("acgan")
    assert spec.conditional and spec.arch == "dcgan" and "arXiv:1610.09585" in spec.paper
    cfg = TrainConfig(
        variant="acgan",
        dataset="synthetic",
        max_steps=2,
        batch_size=8,
        eval_samples=0,
        eval_samples_during_training=0,
        sample_every=1000,
        eval_every=1000,
        checkpoint_every=1000,
        log_every=1,
        output_dir=str(tmp_path / "run"),
        arch_kwargs={"base_channels": 4},
        ema_decay=0,
    )
    trainer = Trainer(cfg)
    real, labels = next(trainer.batches())
    logs = trainer.train_step(real, labels)
    assert {"d_loss", "g_loss", "d_class_acc", "d_class", "g_class"} <= set(logs)
    model_dir = trainer.train()
    generator = Generator.from_pretrained(model_dir)
    assert generator.config.conditional and generator.config.num_classes == K
    grid = generator.class_grid(seeds=[0, 1, 2])
    assert grid.shape == (K * 3, 1, 16, 16) and grid.dtype == torch.uint8
    # rows are classes: the same seeds under two labels give different images
    assert not torch.equal(grid[:3], grid[3:6])
