"""Architectures: output shapes for each image size, conditioning, and the discriminator's normalisation option."""

import pytest
import torch

from gan_hub.archs.dcgan import DCGANDiscriminator, DCGANGenerator, base_resolution
from gan_hub.archs.mlp import MLPDiscriminator, MLPGenerator


@pytest.mark.parametrize("size, start, doublings", [(28, 7, 2), (32, 4, 3), (64, 4, 4), (16, 4, 2)])
def test_base_resolution(size, start, doublings):
    assert base_resolution(size) == (start, doublings)


def test_odd_sizes_are_rejected_with_the_reason():
    with pytest.raises(ValueError, match="even image size"):
        base_resolution(7)


@pytest.mark.parametrize("size, channels", [(28, 1), (32, 3)])
@pytest.mark.parametrize("num_classes", [0, 10])
@pytest.mark.parametrize("hidden", [0, 32])
def test_dcgan_shapes(size, channels, num_classes, hidden):
    kwargs = {"base_channels": 8, "g_hidden": hidden, "d_hidden": hidden}
    g = DCGANGenerator(latent_dim=16, channels=channels, image_size=size, num_classes=num_classes, **kwargs)
    d = DCGANDiscriminator(channels=channels, image_size=size, num_classes=num_classes, **kwargs)
    assert any(isinstance(m, torch.nn.Linear) and m.out_features == hidden for m in d.modules()) == bool(hidden)
    labels = torch.arange(4) % 10 if num_classes else None
    x = g(torch.randn(4, 16), labels)
    assert x.shape == (4, channels, size, size) and x.abs().max() <= 1
    assert d(x, labels).shape == (4,)


@pytest.mark.parametrize("num_classes", [0, 3])
def test_mlp_shapes(num_classes):
    g = MLPGenerator(latent_dim=8, channels=1, image_size=6, num_classes=num_classes, hidden_dim=16)
    d = MLPDiscriminator(channels=1, image_size=6, num_classes=num_classes, hidden_dim=16)
    labels = torch.tensor([0, 1, 2, 0]) if num_classes else None
    assert d(g(torch.randn(4, 8), labels), labels).shape == (4,)


def test_conditional_networks_require_labels():
    g = DCGANGenerator(latent_dim=8, channels=1, image_size=28, num_classes=10, base_channels=8)
    with pytest.raises(ValueError, match="pass labels"):
        g(torch.randn(2, 8))


def test_projection_discriminator_depends_on_the_label():
    torch.manual_seed(0)
    d = DCGANDiscriminator(channels=1, image_size=28, num_classes=10, base_channels=8, d_norm="none")
    x = torch.randn(1, 1, 28, 28)
    assert d(x, torch.tensor([1])) != d(x, torch.tensor([2]))


def test_discriminator_without_batch_norm_judges_each_image_alone():
    torch.manual_seed(0)
    x = torch.randn(8, 1, 28, 28)
    alone = DCGANDiscriminator(channels=1, image_size=28, base_channels=8, d_norm="none").train()
    assert torch.allclose(alone(x)[:1], alone(x[:1]), atol=1e-6)
    batch_norm = DCGANDiscriminator(channels=1, image_size=28, base_channels=8, d_norm="batch").train()
    assert not torch.allclose(batch_norm(x)[:1], batch_norm(x[:1]), atol=1e-3)
    with pytest.raises(ValueError, match="d_norm"):
        DCGANDiscriminator(channels=1, image_size=28, d_norm="layer")
