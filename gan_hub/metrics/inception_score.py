"""Inception Score (Salimans et al., 2016), exact and streaming.

    IS = exp( E_x KL( p(y|x) || p(y) ) ),   p(y|x) = softmax(scorer logits),

computed per split with p(y) the split's marginal (mean of p(y|x) over the split), then
reported as mean and standard deviation over the splits.

Conventions follow torch-fidelity's ``isc_features_to_metric`` (torch_fidelity/metric_isc.py):
  * split k holds samples ``[k*N//splits, (k+1)*N//splits)`` -- contiguous chunks whose sizes
    differ by at most one; no sample is dropped (the remainder is spread over the chunks);
  * the std is ``np.std`` of the split scores, i.e. the population std (ddof=0);
  * probabilities are computed in float64 from the logits.
One difference: torch-fidelity by default permutes the samples before splitting
(``samples_shuffle=True``, ``np.random.RandomState(2020)``). A streaming metric cannot do that,
so "contiguous" here equals torch-fidelity with ``samples_shuffle=False``. For i.i.d. generated
samples the two have the same distribution; only the exact split draw differs.

What ``InceptionScore`` keeps, by assignment:
  * "contiguous" without ``num_samples`` (the default, ``InceptionScore(scorer, splits=10)``): the
    logits of every sample seen, as the scorer returned them (float32 for the shipped scorers:
    4*K bytes per sample, i.e. 40 B for the 10-class MNIST classifier, about 4 KB for Inception-v3's
    1008 classes, so 40 MB per 10k Inception samples). ``compute()`` is then the batch formula on the
    samples seen so far, split into contiguous chunks of *that* count: exactly torch-fidelity's number
    (``samples_shuffle=False``) for those images, at every moment.
  * with ``num_samples`` ("contiguous" or "shuffled"), or "round-robin": per split the sample count, the
    float64 sum of p(y|x) and the float64 sum of sum_y p log p (memory independent of N). Since
        mean_x KL(p(y|x) || q) = (1/m) sum_x sum_y p log p  -  sum_y q log q,   q = (1/m) sum_x p,
    that state gives the exact score of each split at any moment.
A score needs at least one sample per split: fewer samples than splits is an error, never a number.
"""

from __future__ import annotations

import math

import numpy as np
import torch

ASSIGNMENTS = ("contiguous", "round-robin", "shuffled")
SHUFFLE_SEED = 0


def shuffled_order(total: int) -> torch.Tensor:
    """The fixed permutation behind the "shuffled" assignment: sample j takes position order[j]."""
    return torch.randperm(total, generator=torch.Generator().manual_seed(SHUFFLE_SEED))


def _split_ids(start: int, count: int, splits: int, assignment: str, total: int | None) -> torch.Tensor:
    """Split index of samples ``start .. start+count-1``.

    "shuffled" is "contiguous" applied to a fixed random permutation of the sample indices: the final
    splits have the contiguous sizes, every split grows evenly in expectation (a fair running value),
    and no split lines up with a periodic order of the samples, such as a conditional model's class
    cycle, which "round-robin" would put one class per split into when the period equals ``splits``.
    """
    idx = torch.arange(start, start + count, dtype=torch.int64)
    if assignment == "round-robin":
        return idx % splits
    if total is None:
        raise ValueError(f"{assignment} split assignment needs the total number of samples")
    if assignment == "shuffled":
        idx = shuffled_order(total)[start : start + count]
    # upper[k] = (k+1)*total//splits; sample j lies in split k iff lower[k] <= j < upper[k]
    upper = torch.tensor([(k + 1) * total // splits for k in range(splits)], dtype=torch.int64)
    return torch.searchsorted(upper, idx, right=True)


def _mean_std(scores: list[float]) -> tuple[float, float]:
    arr = np.asarray(scores, dtype=np.float64)
    return float(arr.mean()), float(arr.std())  # population std (ddof=0), as torch-fidelity


def check_enough_samples(n: int, splits: int) -> None:
    """A split without samples has no score: refuse totals below ``splits`` instead of reporting one."""
    if n == 0:
        raise ValueError("no samples yet: call update() before compute()")
    if n < splits:
        raise ValueError(
            f"an Inception Score over {splits} splits needs at least {splits} samples (one per split), "
            f"got {n}: score more samples or use fewer splits"
        )


def split_scores_from_probs(probs: torch.Tensor, splits: int = 10, assignment: str = "contiguous") -> list[float]:
    """exp(mean KL(p(y|x) || p(y))) of each split of the rows of ``probs`` [N, K] (see inception_score_from_probs)."""
    from ..validation import check_choice

    check_choice("assignment", assignment, ASSIGNMENTS)
    if probs.ndim != 2:
        raise ValueError(f"probs must be [N, K], got {tuple(probs.shape)}")
    check_enough_samples(len(probs), splits)
    p = probs.detach().to(torch.float64).cpu()
    ids = _split_ids(0, len(p), splits, assignment, len(p))
    scores = []
    for k in range(splits):
        chunk = p[ids == k]
        # a marginal can underflow to 0 where every p is subnormal; p log q is then 0 log 0 = 0
        q = chunk.mean(dim=0, keepdim=True).clamp_min(torch.finfo(torch.float64).tiny)
        kl = (torch.xlogy(chunk, chunk) - torch.xlogy(chunk, q)).sum(dim=1)
        scores.append(math.exp(kl.mean().item()))
    return scores


def inception_score_from_probs(
    probs: torch.Tensor, splits: int = 10, assignment: str = "contiguous"
) -> tuple[float, float]:
    """The plain batch formula on class probabilities ``probs`` [N, K]; returns (mean, std) over splits.

    ``assignment``: "contiguous" (split k = rows [k*N//splits, (k+1)*N//splits)), "round-robin"
    (row i -> split i % splits) or "shuffled" (contiguous over a fixed random permutation of the rows).
    N must be at least ``splits``.
    """
    return _mean_std(split_scores_from_probs(probs, splits, assignment))


class InceptionScore:
    """Streaming Inception Score over a scorer's logits.

    ``scorer`` is anything with ``logits(uint8 images) -> [N, K]`` (a :class:`Scorer`).

    * ``InceptionScore(scorer, splits=10)``: ``compute()`` is the reference batch formula (contiguous
      splits in sample order, torch-fidelity with ``samples_shuffle=False``) on the images seen so far.
      It keeps every sample's logits: 4*K bytes per sample for float32 logits (see the module docstring).
    * ``num_samples=N``: the same contiguous splits of the N samples to come, kept as per-split sums
      (constant memory); the score is the reference one once ``n == num_samples``; before that it covers
      the splits begun so far.
    * ``assignment="shuffled"`` (needs ``num_samples``): contiguous splits over a fixed random
      permutation of the N samples, so every split grows evenly and a running value is fair at each
      step (the app's live view); ``assignment="round-robin"``: sample i goes to split ``i % splits``.
    """

    def __init__(self, scorer, splits: int = 10, num_samples: int | None = None, assignment: str = "contiguous"):
        from ..validation import check_choice, check_int

        self.splits = check_int("splits", splits, minimum=1)
        if num_samples is not None:
            num_samples = check_int(
                "num_samples",
                num_samples,
                minimum=self.splits,
                why=f"at least one sample per split (splits={self.splits})",
            )
        self.assignment = check_choice("assignment", assignment, ASSIGNMENTS)
        if assignment == "shuffled" and num_samples is None:
            raise ValueError("shuffled splits need num_samples (the permutation depends on the total)")
        self.scorer, self.num_samples = scorer, num_samples
        # contiguous splits of an open-ended stream depend on its final length: keep the logits
        self.keeps_logits = assignment == "contiguous" and num_samples is None
        self.reset()

    def reset(self) -> None:
        self.n = 0
        self._logits: list[torch.Tensor] = []
        self._count = torch.zeros(self.splits, dtype=torch.int64)
        self._sum_p: torch.Tensor | None = None  # [splits, K] float64
        self._sum_plogp = torch.zeros(self.splits, dtype=torch.float64)
        self._hist: torch.Tensor | None = None  # [K] int64, argmax counts

    @property
    def complete(self) -> bool:
        """True once ``num_samples`` samples were seen (always False without num_samples)."""
        return self.num_samples is not None and self.n == self.num_samples

    def update(self, images: torch.Tensor) -> "InceptionScore":
        """Score uint8 images [N, C, H, W] with the scorer and add them."""
        return self.update_logits(self.scorer.logits(images))

    def update_logits(self, logits: torch.Tensor) -> "InceptionScore":
        """Add samples given directly as logits [N, K]."""
        if not isinstance(logits, torch.Tensor) or logits.ndim != 2 or not logits.is_floating_point():
            got = f"{logits.dtype} {tuple(logits.shape)}" if isinstance(logits, torch.Tensor) else type(logits).__name__
            raise ValueError(f"logits must be a float tensor [N, K], got {got}")
        b, k = logits.shape
        if self._hist is None:
            self._sum_p = torch.zeros(self.splits, k, dtype=torch.float64)
            self._hist = torch.zeros(k, dtype=torch.int64)
        elif k != len(self._hist):
            raise ValueError(f"got logits for {k} classes, earlier batches had {len(self._hist)}")
        if self.num_samples is not None and self.n + b > self.num_samples:
            raise ValueError(f"num_samples={self.num_samples} but this batch brings the count to {self.n + b}")
        if b == 0:
            return self
        logits = logits.detach().cpu()
        if not torch.isfinite(logits).all():
            raise ValueError("logits contain NaN or infinite values: the scorer or its weights are broken")
        self._hist += torch.bincount(logits.argmax(dim=1), minlength=k)
        if self.keeps_logits:
            self._logits.append(logits.clone())
            self.n += b
            return self
        log_p = torch.log_softmax(logits.to(torch.float64), dim=1)
        p = log_p.exp()
        plogp = torch.where(p > 0, p * log_p, torch.zeros((), dtype=torch.float64)).sum(dim=1)
        ids = _split_ids(self.n, b, self.splits, self.assignment, self.num_samples)
        self._count += torch.bincount(ids, minlength=self.splits)
        self._sum_p.index_add_(0, ids, p)
        self._sum_plogp.index_add_(0, ids, plogp)
        self.n += b
        return self

    def split_scores(self) -> list[float]:
        """The score of every split begun (all ``splits`` once there are enough samples)."""
        check_enough_samples(self.n, self.splits)
        if self.keeps_logits:
            probs = torch.softmax(torch.cat(self._logits).to(torch.float64), dim=1)
            return split_scores_from_probs(probs, self.splits, "contiguous")
        scores = []
        for s in range(self.splits):
            m = int(self._count[s])
            if m == 0:
                continue
            q = self._sum_p[s] / m
            mean_kl = self._sum_plogp[s].item() / m - torch.xlogy(q, q).sum().item()
            scores.append(math.exp(mean_kl))
        return scores

    def compute(self) -> tuple[float, float]:
        """(mean, std) over splits for the samples seen so far; std is the population std (ddof=0).

        Fewer samples than splits is an error (a split without samples has no score)."""
        return _mean_std(self.split_scores())

    @property
    def standard_error(self) -> float:
        """std / sqrt(splits): a rough standard error of the mean split score, for the live view."""
        scores = self.split_scores()
        _, std = _mean_std(scores)
        return std / math.sqrt(len(scores))

    def class_histogram(self) -> torch.Tensor:
        """Counts [K] of the argmax predictions of all samples seen."""
        if self._hist is None:
            k = getattr(self.scorer, "num_classes", 0)
            return torch.zeros(k, dtype=torch.int64)
        return self._hist.clone()

    def __repr__(self) -> str:
        return (
            f"InceptionScore(scorer={getattr(self.scorer, 'name', self.scorer)!r}, splits={self.splits}, "
            f"num_samples={self.num_samples}, assignment={self.assignment!r}, n={self.n})"
        )
