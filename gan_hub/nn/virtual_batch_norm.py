"""Virtual batch normalisation for generators (Salimans et al., 2016, "Improved Techniques for Training
GANs", sec. 3.4).

Batch norm makes a generated image depend on the other latents of its batch. Virtual batch norm
normalises each example with the statistics of a *reference batch*, fixed once, plus the example
itself: per channel,

    mean = 1/(N+1) * mean_x + N/(N+1) * mean_ref,    mean_sq = 1/(N+1) * mean_x^2 + N/(N+1) * mean_sq_ref,
    x_hat = (x - mean) / sqrt(mean_sq - mean^2 + eps) * weight + bias,

where N is the reference size, mean_ref / mean_sq_ref are the reference batch's per-channel mean and
mean of squares at that layer, and mean_x / mean_x^2 are the example's own (over its spatial
positions for feature maps; its value for a vector). The reference batch itself is normalised with
its own statistics only.

:func:`with_virtual_batch_norm` wraps a generator: its batch-norm layers become
:class:`VirtualBatchNorm` layers (same affine parameters, no running statistics) and the reference
latents (and labels, for conditional models) are stored as buffers drawn from a fixed seed, so an
exported ``model.safetensors`` reproduces outputs exactly. Each forward first runs the reference batch
(every layer records its statistics; gradients flow through them while training), then the input.
An example's output therefore never depends on the rest of its batch, in train or eval mode.
"""

from __future__ import annotations

import torch
from torch import nn

from ..sampling import latents

REFERENCE_SEED = 20160610  # the seed of the reference latents (fixed: part of the model's definition)


class VirtualBatchNorm(nn.Module):
    """Drop-in replacement for BatchNorm1d/2d; only usable inside :class:`VirtualBatchNormGenerator`."""

    def __init__(self, num_features: int, eps: float = 1e-5, affine: bool = True):
        super().__init__()
        self.num_features, self.eps = num_features, eps
        self.weight = nn.Parameter(torch.ones(num_features)) if affine else None
        self.bias = nn.Parameter(torch.zeros(num_features)) if affine else None
        self._recording = False
        self._reference: tuple[torch.Tensor, torch.Tensor, int] | None = None  # (mean, mean of squares, N)

    @classmethod
    def from_batch_norm(cls, bn: nn.modules.batchnorm._BatchNorm) -> "VirtualBatchNorm":
        vbn = cls(bn.num_features, bn.eps, bn.affine)
        if bn.affine:
            with torch.no_grad():
                vbn.weight.copy_(bn.weight)
                vbn.bias.copy_(bn.bias)
        return vbn.to(device=bn.weight.device if bn.affine else None)

    # The wrapper drives the two passes.
    def start_reference(self) -> None:
        self._recording, self._reference = True, None

    def stop_reference(self) -> None:
        self._recording = False

    def clear(self) -> None:
        self._recording, self._reference = False, None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() < 2 or x.shape[1] != self.num_features:
            raise ValueError(
                f"virtual batch norm over {self.num_features} channels got input of shape {tuple(x.shape)}"
            )
        shape = (1, -1) + (1,) * (x.dim() - 2)
        xf = x.float()
        if self._recording:
            dims = [0, *range(2, x.dim())]  # per channel, over the reference batch (and positions)
            ref_mean, ref_sq = xf.mean(dims), (xf * xf).mean(dims)
            self._reference = (ref_mean, ref_sq, len(x))
            mean, mean_sq = ref_mean.view(shape), ref_sq.view(shape)
        else:
            if self._reference is None:
                raise RuntimeError(
                    "VirtualBatchNorm needs reference statistics: call the generator through "
                    "VirtualBatchNormGenerator, which runs the reference batch first"
                )
            ref_mean, ref_sq, n = self._reference
            own = 1.0 / (n + 1)
            dims = list(range(2, x.dim()))  # per example and channel (over positions, if any)
            x_mean = xf.mean(dims, keepdim=True) if dims else xf
            x_sq = (xf * xf).mean(dims, keepdim=True) if dims else xf * xf
            mean = own * x_mean + (1 - own) * ref_mean.view(shape)
            mean_sq = own * x_sq + (1 - own) * ref_sq.view(shape)
        var = (mean_sq - mean * mean).clamp_min(0.0)
        out = (xf - mean) / torch.sqrt(var + self.eps)
        if self.weight is not None:
            out = out * self.weight.float().view(shape) + self.bias.float().view(shape)
        return out.to(x.dtype)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, affine={self.weight is not None}"


class VirtualBatchNormGenerator(nn.Module):
    """G(z, labels) whose batch norms are virtual: runs the stored reference batch, then the input."""

    def __init__(self, net: nn.Module, latent_dim: int, num_classes: int = 0, reference_size: int = 64):
        super().__init__()
        if not isinstance(reference_size, int) or isinstance(reference_size, bool) or reference_size < 1:
            raise ValueError(f"virtual batch norm: reference_size must be a positive integer, got {reference_size!r}")
        self.net = net
        self.reference_size = reference_size
        self.register_buffer("reference_z", latents(reference_size, latent_dim, REFERENCE_SEED))
        # Conditional models: the reference batch cycles through the classes 0, 1, ..., K-1, 0, ...
        self.register_buffer("reference_labels", torch.arange(reference_size) % num_classes if num_classes else None)

    def _layers(self) -> list[VirtualBatchNorm]:
        return [m for m in self.net.modules() if isinstance(m, VirtualBatchNorm)]

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        layers = self._layers()
        try:
            for layer in layers:
                layer.start_reference()
            self.net(self.reference_z.to(z.dtype), self.reference_labels)
            for layer in layers:
                layer.stop_reference()
            return self.net(z, labels)
        finally:
            for layer in layers:
                layer.clear()


def replace_batch_norms(module: nn.Module) -> int:
    """Swap every BatchNorm1d/BatchNorm2d under ``module`` for a VirtualBatchNorm (in place); returns how many."""
    count = 0
    for name, child in list(module.named_children()):
        if isinstance(child, (nn.BatchNorm1d, nn.BatchNorm2d)):
            setattr(module, name, VirtualBatchNorm.from_batch_norm(child))
            count += 1
        else:
            count += replace_batch_norms(child)
    return count


def with_virtual_batch_norm(
    generator: nn.Module, latent_dim: int, num_classes: int = 0, reference_size: int = 64
) -> VirtualBatchNormGenerator:
    """``generator`` (called as G(z, labels)) with virtual instead of ordinary batch norm.

    The batch-norm layers keep their names and affine parameters, so the state dict has the original
    keys under ``net.`` (minus the running statistics) plus ``reference_z`` and, for conditional
    models, ``reference_labels``.
    """
    if replace_batch_norms(generator) == 0:
        raise ValueError(
            f"virtual batch norm: {type(generator).__name__} has no BatchNorm1d/BatchNorm2d layer to replace"
        )
    return VirtualBatchNormGenerator(generator, latent_dim, num_classes, reference_size)


__all__ = ["VirtualBatchNorm", "VirtualBatchNormGenerator", "replace_batch_norms", "with_virtual_batch_norm"]
