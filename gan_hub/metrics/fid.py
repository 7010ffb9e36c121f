"""Fréchet distance between feature distributions (FID with Inception features; classifier FID with others).

    FID = |mu_1 - mu_2|^2 + tr(S_1) + tr(S_2) - 2 tr( (S_1 S_2)^{1/2} )

The matrix square root is taken in float64 through symmetric eigendecompositions:
tr((S_1 S_2)^{1/2}) = tr((A S_2 A)^{1/2}) with A = S_1^{1/2}, and A S_2 A is symmetric positive
semi-definite, so its eigenvalues are real; tiny negative ones from rounding are clipped to 0.
This avoids the complex eigenvalues and the iterative ``sqrtm`` of the usual code path.

Statistics stream: :class:`FeatureStatistics` keeps the count, the sum and the sum of outer
products of (features - shift) in float64, where the shift is the first batch's mean; that gives
the exact mean and the unbiased covariance (``np.cov``'s ddof=1, as torch-fidelity and
pytorch-fid) at any moment without keeping the features, and without the cancellation of a
plain sum of squares.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from ..io import CheckpointError, atomic_save_safetensors


def sqrtm_psd(matrix: torch.Tensor) -> torch.Tensor:
    """Square root of a symmetric positive semi-definite matrix (negative eigenvalues clipped to 0)."""
    values, vectors = torch.linalg.eigh(matrix.to(torch.float64))
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


def trace_sqrt_product(sigma_1: torch.Tensor, sigma_2: torch.Tensor) -> float:
    """tr((S_1 S_2)^{1/2}) for covariance matrices S_1, S_2."""
    root_1 = sqrtm_psd(sigma_1)
    middle = root_1 @ sigma_2.to(torch.float64) @ root_1
    middle = (middle + middle.T) / 2  # symmetric up to rounding; make it exactly so for eigvalsh
    return float(torch.linalg.eigvalsh(middle).clamp(min=0).sqrt().sum())


def frechet_distance(mu_1, sigma_1, mu_2, sigma_2) -> float:
    """Fréchet distance between N(mu_1, sigma_1) and N(mu_2, sigma_2), in float64."""
    mu_1, mu_2, sigma_1, sigma_2 = (torch.as_tensor(t, dtype=torch.float64) for t in (mu_1, mu_2, sigma_1, sigma_2))
    if mu_1.shape != mu_2.shape or mu_1.ndim != 1:
        raise ValueError(f"means must be vectors of one length, got {tuple(mu_1.shape)} and {tuple(mu_2.shape)}")
    d = mu_1.shape[0]
    if sigma_1.shape != (d, d) or sigma_2.shape != (d, d):
        raise ValueError(f"covariances must be [{d}, {d}], got {tuple(sigma_1.shape)} and {tuple(sigma_2.shape)}")
    diff = mu_1 - mu_2
    value = (
        float(diff @ diff) + float(sigma_1.trace()) + float(sigma_2.trace()) - 2 * trace_sqrt_product(sigma_1, sigma_2)
    )
    return max(value, 0.0)  # rounding can leave -1e-12 for identical statistics


class FeatureStatistics:
    """Streaming mean and covariance of feature vectors, exact in float64 at any moment."""

    def __init__(self, dim: int | None = None):
        self.n = 0
        self.dim = dim
        self._shift: torch.Tensor | None = None
        self._sum: torch.Tensor | None = None
        self._outer: torch.Tensor | None = None

    def update(self, features: torch.Tensor) -> "FeatureStatistics":
        features = torch.as_tensor(features).detach().to("cpu", torch.float64)
        if features.ndim != 2:
            raise ValueError(f"features must be [N, D], got {tuple(features.shape)}")
        if self.dim is None:
            self.dim = features.shape[1]
        if features.shape[1] != self.dim:
            raise ValueError(f"features have {features.shape[1]} dimensions, expected {self.dim}")
        if len(features) == 0:
            return self
        if self._shift is None:
            self._shift = features.mean(dim=0)
            self._sum = torch.zeros(self.dim, dtype=torch.float64)
            self._outer = torch.zeros(self.dim, self.dim, dtype=torch.float64)
        centred = features - self._shift
        self._sum += centred.sum(dim=0)
        self._outer += centred.T @ centred
        self.n += len(features)
        return self

    @property
    def mean(self) -> torch.Tensor:
        self._require(1)
        return self._shift + self._sum / self.n

    @property
    def covariance(self) -> torch.Tensor:
        """Unbiased (ddof=1) covariance."""
        self._require(2)
        centred_mean = self._sum / self.n
        return (self._outer - self.n * torch.outer(centred_mean, centred_mean)) / (self.n - 1)

    def _require(self, count: int) -> None:
        if self.n < count:
            raise ValueError(f"need at least {count} feature vectors, have {self.n}")

    def frechet_distance(self, other: "FeatureStatistics | ReferenceStatistics") -> float:
        return frechet_distance(self.mean, self.covariance, other.mean, other.covariance)

    def save(self, path: str | Path, metadata: dict[str, str] | None = None) -> Path:
        """Write mean, covariance and count as safetensors (float64), atomically."""
        tensors = {"mu": self.mean, "sigma": self.covariance, "num_samples": torch.tensor([self.n])}
        return atomic_save_safetensors(path, tensors, metadata)


class ReferenceStatistics:
    """Mean and covariance of real data's features, read from a file written by :meth:`FeatureStatistics.save`."""

    def __init__(self, mean: torch.Tensor, covariance: torch.Tensor, n: int, metadata: dict[str, str] | None = None):
        self.mean, self.covariance, self.n, self.metadata = mean, covariance, n, metadata or {}

    @classmethod
    def load(cls, path: str | Path) -> "ReferenceStatistics":
        from safetensors import safe_open

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"reference statistics {path} do not exist; make them with `python -m gan_hub.metrics.reference_stats`"
            )
        try:
            tensors = load_file(str(path))
            with safe_open(str(path), "pt") as f:
                metadata = f.metadata() or {}
        except Exception as err:
            raise CheckpointError(f"{path} is not a readable safetensors statistics file ({err})") from err
        if set(tensors) != {"mu", "sigma", "num_samples"}:
            raise CheckpointError(f"{path} should hold mu, sigma and num_samples, has {sorted(tensors)}")
        return cls(tensors["mu"].double(), tensors["sigma"].double(), int(tensors["num_samples"][0]), metadata)
