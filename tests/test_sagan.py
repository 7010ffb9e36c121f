"""The SAGAN self-attention block, the sagan architecture and the sagan variant."""

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from gan_hub.archs.sagan import SAGANDiscriminator, SAGANGenerator, attention_resolutions
from gan_hub.config import GeneratorConfig
from gan_hub.hub import build_discriminator_network, build_generator_network
from gan_hub.nn.attention import SelfAttention2d
from gan_hub.registry import ARCHS
from gan_hub.variants import get_variant
from tests.conftest import with_discriminator_options

torch.set_num_threads(1)


def block(channels=16, gamma=0.0, seed=0) -> SelfAttention2d:
    torch.manual_seed(seed)
    b = SelfAttention2d(channels).double()
    with torch.no_grad():
        b.gamma.fill_(gamma)
    return b


def feature_map(channels=16, size=8, seed=1) -> torch.Tensor:
    return torch.randn(2, channels, size, size, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


# ---- the attention block -------------------------------------------------------------------------


def test_block_starts_as_the_exact_identity():
    b = SelfAttention2d(16)
    assert isinstance(b.gamma, nn.Parameter) and b.gamma.item() == 0.0
    x = torch.randn(3, 16, 7, 7)
    assert torch.equal(b(x), x)
    assert b(x).shape == x.shape


def test_attention_weights_are_a_distribution_over_positions():
    b, x = block(gamma=0.5), feature_map()
    beta = b.attention(x)
    n = x.shape[2] * x.shape[3]
    assert beta.shape == (2, n, n)
    assert (beta >= 0).all()
    torch.testing.assert_close(beta.sum(dim=-1), torch.ones(2, n, dtype=x.dtype), rtol=0, atol=1e-12)
    # not the trivial uniform distribution: the weights depend on the content
    assert beta.std(dim=-1).max() > 1e-6


def test_block_output_is_the_attention_weighted_sum_of_values():
    b, x = block(gamma=0.7), feature_map(size=4)
    beta, values = b.attention(x), b.h(x).flatten(2)  # [B, N, N], [B, Cv, N]
    by_hand = torch.einsum("bji,bci->bcj", beta, values).unflatten(2, (4, 4))
    torch.testing.assert_close(b(x), 0.7 * b.v(by_hand) + x)


def far_output_change(module: nn.Module, x: torch.Tensor) -> float:
    """How much output pixel (-1, -1) moves when input pixel (0, 0) is perturbed."""
    bumped = x.clone()
    bumped[:, :, 0, 0] += 5.0
    with torch.no_grad():
        return (module(bumped)[:, :, -1, -1] - module(x)[:, :, -1, -1]).abs().max().item()


def test_an_output_position_depends_on_a_far_away_input_position():
    x = feature_map(size=8)
    assert far_output_change(block(gamma=1.0), x) > 1e-3
    assert far_output_change(block(gamma=0.0), x) == 0.0  # the identity is local
    conv = nn.Conv2d(16, 16, 3, padding=1).double()  # a convolution sees only its neighbourhood
    assert far_output_change(conv, x) == 0.0


def test_gamma_receives_gradient_and_is_trained():
    b, x = block(gamma=0.0), feature_map()
    assert any(p is b.gamma for p in b.parameters())
    b(x).square().sum().backward()
    assert b.gamma.grad is not None and b.gamma.grad.abs().item() > 0
    opt = torch.optim.SGD(b.parameters(), lr=1e-3)
    opt.step()
    assert b.gamma.item() != 0.0


def test_gamma_gets_gradient_inside_the_generator():
    g = SAGANGenerator(latent_dim=16, channels=1, image_size=16, base_channels=8)
    g(torch.randn(4, 16)).square().mean().backward()
    assert g.attention.gamma.grad is not None and g.attention.gamma.grad.abs().item() > 0


# ---- the architecture ------------------------------------------------------------------------------

SHAPES = [(28, 1), (16, 1), (32, 3)]
DEFAULT_RESOLUTION = {28: 14, 16: 8, 32: 16, 64: 32, 128: 32}


def attention_input_size(net: nn.Module, *inputs) -> list[tuple[int, int]]:
    """The spatial size of the feature map each self-attention block sees in one forward."""
    seen = []
    hooks = [
        m.register_forward_hook(lambda m, args, out: seen.append(tuple(args[0].shape[2:])))
        for m in net.modules()
        if isinstance(m, SelfAttention2d)
    ]
    with torch.no_grad():
        net(*inputs)
    for h in hooks:
        h.remove()
    return seen


@pytest.mark.parametrize("image_size,channels", SHAPES)
@pytest.mark.parametrize("num_classes", [0, 10])
def test_networks_have_the_right_shapes_and_one_attention_block(image_size, channels, num_classes):
    torch.manual_seed(0)
    spec = ARCHS.get("sagan")
    kwargs = {"base_channels": 8, "g_hidden": 0, "d_hidden": 0}  # each network ignores the other's options
    g = spec.generator(
        latent_dim=20, channels=channels, image_size=image_size, num_classes=num_classes, **kwargs
    ).eval()
    d = spec.discriminator(channels=channels, image_size=image_size, num_classes=num_classes, **kwargs).eval()
    z = torch.randn(3, 20)
    labels = torch.tensor([0, 4, 9]) if num_classes else None
    images = g(z, labels)
    assert images.shape == (3, channels, image_size, image_size)
    assert images.abs().max() <= 1
    assert d(images, labels).shape == (3,)
    expected = DEFAULT_RESOLUTION[image_size]
    assert attention_input_size(g, z, labels) == [(expected, expected)]
    assert attention_input_size(d, images, labels) == [(expected, expected)]
    assert not any(isinstance(m, nn.BatchNorm2d) for m in d.modules())  # no batch norm in D by default
    if num_classes:
        with pytest.raises(ValueError, match="labels"):
            d(images)
        # the projection head and the one-hot code make the class matter
        assert not torch.allclose(g(z, torch.tensor([1, 1, 1])), g(z, torch.tensor([2, 2, 2])))
        assert not torch.allclose(d(images, torch.tensor([1, 1, 1])), d(images, torch.tensor([2, 2, 2])))


def test_default_resolution_for_larger_images_is_capped_at_32():
    for size, expected in DEFAULT_RESOLUTION.items():
        assert SAGANGenerator(8, 1, size, base_channels=8).attention_resolution == expected
        assert SAGANDiscriminator(1, size, base_channels=8).attention_resolution == expected


@pytest.mark.parametrize("resolution", attention_resolutions(32))
def test_attention_resolution_can_be_chosen(resolution):
    g = SAGANGenerator(8, 3, 32, base_channels=8, attention_resolution=resolution)
    d = SAGANDiscriminator(3, 32, base_channels=8, attention_resolution=resolution)
    assert attention_input_size(g, torch.randn(2, 8)) == [(resolution, resolution)]
    assert attention_input_size(d, torch.randn(2, 3, 32, 32)) == [(resolution, resolution)]


def test_unknown_attention_resolution_is_refused():
    with pytest.raises(ValueError, match=r"attention_resolution must be one of the feature-map sizes \[7, 14\]"):
        SAGANGenerator(8, 1, 28, attention_resolution=28)
    with pytest.raises(ValueError, match="attention_resolution"):
        SAGANDiscriminator(1, 32, attention_resolution=12)


def test_batch_norm_in_d_can_be_asked_for():
    d = SAGANDiscriminator(1, 28, base_channels=8, d_norm="batch")
    assert any(isinstance(m, nn.BatchNorm2d) for m in d.modules())
    assert d(torch.randn(2, 1, 28, 28)).shape == (2,)


def test_spectral_norm_reaches_the_attention_convolutions_but_not_gamma():
    config = GeneratorConfig(variant="sagan", arch="sagan", image_size=16, arch_kwargs={"base_channels": 8})
    d = build_discriminator_network(with_discriminator_options(config, d_spectral_norm=True))
    attention = d.attention
    for conv in (attention.f, attention.g, attention.h, attention.v):
        assert parametrize.is_parametrized(conv, "weight")
    assert isinstance(attention.gamma, nn.Parameter)
    assert d(torch.randn(2, 1, 16, 16)).shape == (2,)


def test_generator_round_trips_through_its_state_dict():
    config = GeneratorConfig(
        variant="sagan",
        arch="sagan",
        latent_dim=12,
        num_classes=3,
        image_size=16,
        channels=1,
        arch_kwargs={"base_channels": 8, "d_norm": "none"},
    )
    torch.manual_seed(0)
    g = build_generator_network(config)
    with torch.no_grad():
        g.attention.gamma.fill_(0.8)  # so that the attention path matters for the outputs
    g.train()
    g(torch.randn(8, 12), torch.randint(0, 3, (8,)))  # move the batch-norm running statistics
    g.eval()
    torch.manual_seed(1)
    copy = build_generator_network(config).eval()
    z, labels = torch.randn(4, 12), torch.tensor([0, 1, 2, 0])
    with torch.no_grad():
        assert not torch.allclose(copy(z, labels), g(z, labels))
        copy.load_state_dict(g.state_dict(), strict=True)
        assert torch.equal(copy(z, labels), g(z, labels))
    assert any(k.endswith("gamma") for k in g.state_dict())
    assert copy.attention.gamma.item() == pytest.approx(0.8)


# ---- the variant ---------------------------------------------------------------------------------


def test_variant_defaults_follow_the_paper():
    spec = get_variant("sagan")
    assert (spec.arch, spec.objective, spec.techniques) == ("sagan", "hinge", {"spectral_norm": True})
    assert (spec.lr_g, spec.lr_d, spec.betas, spec.n_critic) == (1e-4, 4e-4, (0.0, 0.9), 1)
    assert spec.arch_kwargs.get("d_norm", "none") == "none"
