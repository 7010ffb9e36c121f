"""Scores only some variants have: how well their extra parts work, measured on MNIST.

* InfoGAN: **code/class agreement**. For each value k of the categorical code, ``per_code`` samples
  are drawn with the code fixed to k (the rest of the latent from the seed) and classified by the
  project's MNIST classifier; codes are matched one-to-one to classes so that the most samples agree
  (an exact search over the assignments), and the score is the fraction of samples whose class is
  their code's match. Unsupervised codes carry no class names, hence the matching.
* BiGAN: **reconstruction label agreement**. Every MNIST test digit x is encoded and regenerated,
  G(E(x)); the score is the fraction of reconstructions the classifier puts in x's class (BiGAN's
  paper reports that reconstructions keep the digit's identity, not its pixels).
* semi-supervised: **test errors** of its exported classifier (the K+1 discriminator) on the
  10,000 MNIST test digits, counted as the paper counts them.

Each entry follows metrics.json's score format (``metric``, ``name``, value, protocol keys), so the
model card and the leaderboard print it with its protocol.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from .evaluate import short_count

MAX_MATCHED_CODES = 16
VARIANT_SCORE_METRICS = (
    "code_agreement",
    "reconstruction_agreement",
    "test_errors",
)  # the exact assignment search is O(2^K * K)


def best_one_to_one(confusion: torch.Tensor) -> tuple[int, list[int]]:
    """The largest total of ``confusion[code, match[code]]`` over one-to-one matches of rows to columns.

    ``confusion`` is [K codes, C classes] with K <= C; returns (total, match)."""
    codes, classes = confusion.shape
    if codes > classes or codes > MAX_MATCHED_CODES:
        raise ValueError(f"cannot match {codes} codes to {classes} classes")
    counts = confusion.tolist()
    # best[mask]: the best total for the first popcount(mask) codes using exactly the classes in mask
    best: dict[int, tuple[int, list[int]]] = {0: (0, [])}
    for code in range(codes):
        grown: dict[int, tuple[int, list[int]]] = {}
        for mask, (total, match) in best.items():
            for cls in range(classes):
                if mask >> cls & 1:
                    continue
                key, value = mask | 1 << cls, total + counts[code][cls]
                if key not in grown or value > grown[key][0]:
                    grown[key] = (value, match + [cls])
        best = grown
    return max(best.values(), key=lambda item: item[0])


def infogan_code_agreement(generator, scorer, per_code: int = 1000, seed: int = 0) -> dict[str, Any]:
    wrappers = generator.config.generator.wrappers
    codes = next(w.get("categorical", 0) for w in wrappers if w["name"] == "info_codes")
    confusion = torch.zeros(codes, scorer.num_classes, dtype=torch.long)
    for code in range(codes):
        predicted = scorer.logits(generator.generate(per_code, seed=seed, codes={"categorical": code})).argmax(1)
        confusion[code] = torch.bincount(predicted, minlength=scorer.num_classes)
    agreeing, match = best_one_to_one(confusion)
    return {
        "metric": "code_agreement",
        "name": f"classifier code/class agreement@{short_count(per_code * codes)}",
        "value": agreeing / (per_code * codes),
        "scorer": scorer.name,
        "num_samples": per_code * codes,
        "seed": seed,
        "matching": "one-to-one, most agreeing samples",
        "code_to_class": match,
    }


def bigan_reconstruction_agreement(generator, scorer, images: torch.Tensor, labels: torch.Tensor) -> dict[str, Any]:
    predicted = scorer.logits(generator.reconstruct(images)).argmax(1)
    return {
        "metric": "reconstruction_agreement",
        "name": f"classifier reconstruction label agreement@{short_count(len(images))}",
        "value": (predicted == labels).float().mean().item(),
        "scorer": scorer.name,
        "num_samples": len(images),
        "reference": "mnist test set, G(E(x)) against the label of x",
    }


def semi_supervised_test_errors(folder: Path, images: torch.Tensor, labels: torch.Tensor) -> dict[str, Any]:
    from ..classifier import Classifier

    predicted = Classifier.from_pretrained(folder).predict(images)
    return {
        "metric": "test_errors",
        "name": f"test errors of {len(images):,}",
        "value": int((predicted != labels).sum()),
        "num_samples": len(images),
        "reference": "mnist test set, the exported classifier's argmax",
    }


def bigan_reconstruction_figure(generator, images: torch.Tensor, labels: torch.Tensor, per_class: int = 2):
    """A PIL grid: the first ``per_class`` test digits of each class (top row) over their G(E(x))."""
    from ..sampling import image_grid

    picked = torch.cat([torch.nonzero(labels == c).flatten()[:per_class] for c in labels.unique().tolist()])
    originals = images[picked]
    return image_grid(torch.cat([originals, generator.reconstruct(originals)]), nrow=len(picked))


def variant_scores(generator, folder: Path, data_dir=None, scorer=None) -> list[dict[str, Any]]:
    """The variant's own scores for the model saved in ``folder`` (empty for variants without any)."""
    variant = generator.config.variant
    if variant not in ("infogan", "bigan", "semi-supervised") or generator.config.dataset != "mnist":
        return []
    if scorer is None:
        from . import load_scorer

        scorer = load_scorer("mnist-classifier")
    if variant == "infogan":
        return [infogan_code_agreement(generator, scorer)]
    from ..data import load_dataset

    test = load_dataset("mnist", data_dir=data_dir, train=False)
    if variant == "bigan":
        return [bigan_reconstruction_agreement(generator, scorer, test.images, test.labels)]
    return [semi_supervised_test_errors(folder, test.images, test.labels)]


def main(argv: list[str] | None = None) -> int:
    """``python -m gan_hub.metrics.variant_scores MODEL [--data-dir DIR]``: print the variant's own scores (JSON)."""
    import json

    from ..cli_errors import OneLineParser
    from ..hub import Generator, resolve_model_folder

    parser = OneLineParser(prog="python -m gan_hub.metrics.variant_scores", description=main.__doc__)
    parser.add_argument("model", help="a model folder or Hub repo id (InfoGAN, BiGAN or semi-supervised, on MNIST)")
    parser.add_argument("--data-dir", default=None, help="folder with the MNIST files (BiGAN, semi-supervised)")
    args = parser.parse_args(argv)
    folder = resolve_model_folder(args.model)
    scores = variant_scores(Generator.from_pretrained(folder), folder, args.data_dir)
    if not scores:
        parser.error(f"{args.model} has no variant scores: they exist for infogan, bigan and semi-supervised on MNIST")
    print(json.dumps(scores, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
