"""Mode-coverage metrics: how many modes a generator reaches and how evenly it spreads over them.

* :func:`categorical_coverage`: from a predicted mode id per sample (MNIST digit classes, Stacked
  MNIST's 1000 modes): modes with at least one sample, and KL(p_model || uniform).
* :func:`stacked_mnist_modes`: Stacked MNIST mode ids from a digit classifier applied per channel.
* :func:`mixture_coverage`: for 2-D Gaussian mixtures (ring8, grid25): share of high-quality samples,
  modes covered by enough of them, and the KL of their mode assignment to uniform.

Every function returns plain Python numbers and lists, so the result can go straight to ``json.dumps``.
Quantities that are undefined (e.g. a KL over zero samples) are ``None``.
"""

from __future__ import annotations

import torch

from ..data.toy2d import Mixture2D
from ..data.toy2d import mixture as _mixture


def _kl_to_uniform(counts: torch.Tensor) -> float | None:
    """KL(p || uniform over K) = sum_k p_k log(p_k K) in nats, with 0 log 0 = 0; None when there are no counts."""
    counts = counts.to(torch.float64)
    total = counts.sum()
    if total <= 0:
        return None
    p = counts[counts > 0] / total
    kl = float((p * torch.log(p * len(counts))).sum())
    return max(kl, 0.0)  # rounding can leave -1e-17 for a perfectly uniform p


def categorical_coverage(mode_ids: torch.Tensor, num_modes: int) -> dict:
    """Coverage of ``num_modes`` categories by integer ``mode_ids`` [N] (values in 0..num_modes-1).

    Returns ``modes_covered`` (modes with at least one sample: the Unrolled GAN / PacGAN convention),
    ``kl_to_uniform`` (KL(p_model || uniform) in nats, p_k = share of samples in mode k, 0 log 0 = 0;
    None for N = 0), ``num_samples``, ``num_modes`` and ``counts`` (samples per mode).
    """
    mode_ids = torch.as_tensor(mode_ids)
    if num_modes < 1:
        raise ValueError(f"num_modes must be >= 1, got {num_modes}")
    if mode_ids.ndim != 1 or mode_ids.is_floating_point() or mode_ids.is_complex() or mode_ids.dtype == torch.bool:
        raise ValueError(f"mode_ids must be a 1-D integer tensor, got {mode_ids.dtype} {tuple(mode_ids.shape)}")
    mode_ids = mode_ids.long().cpu()
    if len(mode_ids) and (int(mode_ids.min()) < 0 or int(mode_ids.max()) >= num_modes):
        raise ValueError(f"mode_ids must lie in [0, {num_modes}), got [{int(mode_ids.min())}, {int(mode_ids.max())}]")
    counts = torch.bincount(mode_ids, minlength=num_modes)
    return {
        "modes_covered": int((counts > 0).sum()),
        "kl_to_uniform": _kl_to_uniform(counts),
        "num_samples": len(mode_ids),
        "num_modes": num_modes,
        "counts": counts.tolist(),
    }


def stacked_mnist_modes(images: torch.Tensor, classifier) -> torch.Tensor:
    """Stacked MNIST mode ids: 100 * digit(R) + 10 * digit(G) + digit(B), int64 [N].

    ``images`` are uint8 [N, 3, H, W]; ``classifier`` is any object with ``logits(uint8 [M, 1, H, W]) -> [M, 10]``
    (e.g. ``load_scorer("mnist-classifier")``). All 3N channels are classified in one call.
    """
    if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must be uint8 [N, 3, H, W], got {images.dtype} {tuple(images.shape)}")
    n, _, h, w = images.shape
    logits = classifier.logits(images.reshape(n * 3, 1, h, w))  # row 3i + c is channel c of image i
    if tuple(logits.shape) != (n * 3, 10):
        raise ValueError(f"classifier returned logits of shape {tuple(logits.shape)}, expected ({n * 3}, 10)")
    digits = logits.argmax(dim=1).cpu().long().view(n, 3)
    return (digits * torch.tensor([100, 10, 1])).sum(dim=1)


def _nearest_centers(points: torch.Tensor, centers: torch.Tensor, chunk: int = 65536):
    """(index of the nearest centre int64 [N], its Euclidean distance float64 [N]), exact and chunked."""
    index, dist = [], []
    for start in range(0, len(points), chunk):
        diff = points[start : start + chunk, None, :] - centers[None, :, :]
        d, i = diff.pow(2).sum(dim=-1).sqrt().min(dim=1)
        index.append(i)
        dist.append(d)
    if not index:
        return torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.float64)
    return torch.cat(index), torch.cat(dist)


def default_min_count(num_samples: int, num_modes: int) -> int:
    """High-quality samples a mode needs to count as covered: max(1, round(0.1 * N / K)).

    That is 10% of what a perfect sampler gives each mode on average (e.g. 25 of 2,000 samples over
    ring8's 8 modes, 10 of 2,500 over grid25's 25), and never less than one sample.
    """
    return max(1, int(round(0.1 * num_samples / num_modes)))


def mixture_coverage(
    points: torch.Tensor, mixture: Mixture2D | str, quality_stds: float = 3.0, min_count: int | None = None
) -> dict:
    """Mode coverage of 2-D ``points`` [N, 2] against a :class:`Mixture2D` (or its name, e.g. ``"ring8"``).

    A sample is *high quality* when its distance to the nearest centre is at most ``quality_stds * std``
    and is then assigned to that centre. A mode is *covered* when it gets at least ``min_count``
    high-quality samples; ``min_count=None`` uses :func:`default_min_count`: max(1, round(0.1 * N / K)),
    10% of a perfect sampler's share. ``min_count=1`` is VEEGAN's and PacGAN's *captured* count (a mode is
    the nearest of at least one high-quality sample; their code tests the Mahalanobis distance < 3).

    Returns ``modes_covered``, ``num_modes``, ``high_quality_share`` (None for N = 0), ``kl_to_uniform``
    (KL(p || uniform) of the high-quality samples' mode assignment, nats; None when there are none),
    ``num_samples``, ``num_high_quality``, ``counts`` (high-quality samples per mode), and the protocol:
    ``mixture``, ``quality_stds``, ``min_count``.
    """
    mix = _mixture(mixture) if isinstance(mixture, str) else mixture
    points = torch.as_tensor(points)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must be [N, 2], got {tuple(points.shape)}")
    if quality_stds <= 0:
        raise ValueError(f"quality_stds must be > 0, got {quality_stds}")
    n, k = len(points), mix.num_modes
    min_count = default_min_count(n, k) if min_count is None else int(min_count)
    if min_count < 1:
        raise ValueError(f"min_count must be >= 1, got {min_count}")
    nearest, dist = _nearest_centers(points.detach().cpu().to(torch.float64), mix.centers)
    good = dist <= quality_stds * mix.std
    cover = categorical_coverage(nearest[good], k)
    counts = cover["counts"]
    return {
        "modes_covered": sum(c >= min_count for c in counts),
        "num_modes": k,
        "high_quality_share": float(good.to(torch.float64).mean()) if n else None,
        "kl_to_uniform": cover["kl_to_uniform"],
        "num_samples": n,
        "num_high_quality": cover["num_samples"],
        "counts": counts,
        "mixture": mix.name,
        "quality_stds": float(quality_stds),
        "min_count": min_count,
    }


# The published 2-D protocol's scoring (VEEGAN, PacGAN): 2,500 samples; bench/toy_protocol.py's latent seed.
PROTOCOL_SAMPLES, PROTOCOL_SEED = 2500, 12345


def protocol_coverage(points: torch.Tensor, mixture: Mixture2D | str) -> dict:
    """The published protocol's scores of 2-D ``points``: ``modes_captured`` (VEEGAN's and PacGAN's count: a
    mode is the nearest of at least one high-quality sample), ``modes_covered`` (the stricter count of
    :func:`mixture_coverage`'s default ``min_count``), ``high_quality_share`` and ``kl_to_uniform`` (the
    reverse KL of the high-quality samples' mode histogram to uniform), with ``num_modes``, ``num_samples``,
    ``mixture``, ``quality_stds``, the strict count's ``min_count`` and ``counts`` (high-quality samples per
    mode, which both counts read)."""
    strict = mixture_coverage(points, mixture)
    return {
        "modes_captured": sum(count >= 1 for count in strict["counts"]),  # min_count 1: at least one sample
        **{k: v for k, v in strict.items() if k != "num_high_quality"},
    }


def mixture_scores(generator, num_samples: int = PROTOCOL_SAMPLES, seed: int = PROTOCOL_SEED) -> list[dict]:
    """metrics.json score entries of a 2-D generator (``generate(n, seed)`` -> points [n, 2]) against the
    mixture its ``config.dataset`` names: modes captured, high-quality share, reverse KL and the strict
    modes covered, each with its protocol (num_samples, seed, mixture, quality_stds, min_count)."""
    points = generator.generate(num_samples, seed=seed)
    scores = protocol_coverage(points, generator.config.dataset)
    shared = {
        "num_samples": num_samples,
        "seed": seed,
        "mixture": scores["mixture"],
        "quality_stds": scores["quality_stds"],
    }
    n = f"@{num_samples:,}"
    return [
        {
            "metric": "modes_captured",
            "name": f"modes captured{n}",
            "value": scores["modes_captured"],
            "num_modes": scores["num_modes"],
            **shared,
            "min_count": 1,
        },
        {
            "metric": "high_quality_share",
            "name": f"high-quality share{n}",
            "value": scores["high_quality_share"],
            **shared,
        },
        {
            "metric": "reverse_kl",
            "name": f"reverse KL (modes || uniform){n}",
            "value": scores["kl_to_uniform"],
            **shared,
        },
        {
            "metric": "modes_covered_strict",
            "name": f"modes covered (strict){n}",
            "value": scores["modes_covered"],
            "num_modes": scores["num_modes"],
            **shared,
            "min_count": scores["min_count"],
        },
    ]


__all__ = [
    "categorical_coverage",
    "default_min_count",
    "mixture_coverage",
    "mixture_scores",
    "protocol_coverage",
    "stacked_mnist_modes",
]
