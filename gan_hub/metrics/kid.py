"""Kernel Inception Distance (Bińkowski et al., 2018): an unbiased estimate of the squared MMD
between feature distributions with the cubic polynomial kernel k(x, y) = (x.y / d + 1)^3.

Protocol as torch-fidelity reports it: ``subsets`` random pairs of subsets of ``subset_size``
vectors each (drawn without replacement by ``numpy.random.RandomState(seed).choice``, real set
first, in that order), the unbiased MMD^2 of each pair, then the mean and the population std over
the pairs. Computed in float64.
"""

from __future__ import annotations

import numpy as np
import torch


def polynomial_kernel(
    x: torch.Tensor, y: torch.Tensor, degree: int = 3, gamma: float | None = None, coef0: float = 1.0
) -> torch.Tensor:
    gamma = 1.0 / x.shape[1] if gamma is None else gamma
    return (x @ y.T * gamma + coef0) ** degree


def mmd2_unbiased(k_xx: torch.Tensor, k_xy: torch.Tensor, k_yy: torch.Tensor) -> float:
    """Unbiased MMD^2 from kernel matrices: the within-set means leave out the diagonal."""
    m, n = k_xx.shape[0], k_yy.shape[0]
    within_x = (k_xx.sum() - k_xx.diagonal().sum()) / (m * (m - 1))
    within_y = (k_yy.sum() - k_yy.diagonal().sum()) / (n * (n - 1))
    return float(within_x + within_y - 2 * k_xy.mean())


def kernel_inception_distance(
    real: torch.Tensor, fake: torch.Tensor, subsets: int = 100, subset_size: int = 1000, seed: int = 2020
) -> tuple[float, float]:
    """(mean, std) of the unbiased MMD^2 over ``subsets`` subset pairs; see the module docstring."""
    real = torch.as_tensor(real).detach().to("cpu", torch.float64)
    fake = torch.as_tensor(fake).detach().to("cpu", torch.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"features must be [N, D] with one D, got {tuple(real.shape)} and {tuple(fake.shape)}")
    if subsets < 1 or subset_size < 2:
        raise ValueError(f"need subsets >= 1 and subset_size >= 2, got {subsets} and {subset_size}")
    if min(len(real), len(fake)) < subset_size:
        raise ValueError(
            f"KID subsets of {subset_size} need at least that many vectors in each set; "
            f"got {len(real)} real and {len(fake)} generated. Lower the subset size or add samples."
        )
    rng = np.random.RandomState(seed)
    values = []
    for _ in range(subsets):
        x = real[torch.from_numpy(rng.choice(len(real), subset_size, replace=False))]
        y = fake[torch.from_numpy(rng.choice(len(fake), subset_size, replace=False))]
        values.append(mmd2_unbiased(polynomial_kernel(x, x), polynomial_kernel(x, y), polynomial_kernel(y, y)))
    arr = np.asarray(values)
    return float(arr.mean()), float(arr.std())
