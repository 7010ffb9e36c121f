"""Scores of a variant's own parts: the exact code-to-class matching, and the zoo's quality bar."""

import itertools

import pytest
import torch

from gan_hub.metrics.variant_scores import best_one_to_one
from gan_hub.quality_bar import check


@pytest.mark.parametrize("seed", range(5))
def test_the_matching_is_the_best_one_to_one_assignment(seed):
    confusion = torch.randint(0, 100, (5, 6), generator=torch.Generator().manual_seed(seed))
    total, match = best_one_to_one(confusion)
    brute = max(
        sum(confusion[code, cls].item() for code, cls in enumerate(perm))
        for perm in itertools.permutations(range(6), 5)
    )
    assert total == brute == sum(confusion[code, cls].item() for code, cls in enumerate(match))
    assert len(set(match)) == 5


def test_a_permuted_code_is_recovered():
    confusion = torch.eye(10, dtype=torch.long)[torch.tensor([3, 1, 4, 0, 5, 9, 2, 6, 8, 7])] * 100
    assert best_one_to_one(confusion) == (1000, [3, 1, 4, 0, 5, 9, 2, 6, 8, 7])


def score(metric, value, **extra):
    return {
        "metric": metric,
        "name": f"{metric}@10k",
        "value": value,
        "scorer": "mnist-classifier",
        "num_samples": 10000,
        "seed": 0,
        **extra,
    }


def test_quality_bar():
    good = [{**score("inception_score", None), "mean": 9.1}, score("modes_covered", 10), score("kl_to_uniform", 0.01)]
    assert check(good, conditional=False).met
    assert check(good, conditional=False).summary() == "met"
    under = check(good, conditional=True)
    assert not under.applies  # a conditional model needs its label agreement
    weak = [{**good[0], "mean": 8.2}, score("modes_covered", 9), good[2]]
    assert check(weak, conditional=False).summary() == "under: inception_score@10k 8.2 < 8.5; modes_covered@10k 9 < 10"
    conditional = good + [score("accuracy", 0.99)]
    assert check(conditional, conditional=True).summary() == "under: inception_score@10k 9.1 < 9.7"
    assert not check([{**s, "num_samples": 2000} for s in good], conditional=False).applies


def test_zoo_summary_counts_the_bars_of_the_whole_zoo():
    from gan_hub.quality_bar import zoo_summary

    def model(is_mean, classes=10):
        return [
            {**score("inception_score", None), "mean": is_mean},
            score("modes_covered", classes),
            score("kl_to_uniform", 0.0),
        ]

    zoo = [("a", False, model(9.6)), ("b", False, model(8.0)), ("c", False, model(9.35, classes=9)), ("d", True, [])]
    assert zoo_summary(zoo) == (
        "Quality bars: 1 of 3 models meet their own bar; unconditional models at classifier IS@10k 9.3 or more: 2 of 3"
        " (bar: at least half, met); best unconditional model: a at 9.600 (bar: 9.5, met)."
    )
    assert zoo_summary([("d", True, [])]) == ""


class LookupScorer:
    """Reads the class of a fake image from its first pixel."""

    name, num_classes = "lookup", 10

    def logits(self, images):
        return torch.nn.functional.one_hot(images[:, 0, 0, 0].long() % 10, 10).float()


class Reconstructing:
    def __init__(self, shift):
        self.shift = shift

    def reconstruct(self, images):
        return (images + self.shift) % 10


def test_reconstruction_agreement_counts_reconstructions_read_as_the_original_label():
    from gan_hub.metrics.variant_scores import bigan_reconstruction_agreement

    labels = torch.arange(100) % 10
    images = labels.view(-1, 1, 1, 1).expand(-1, 1, 2, 2).to(torch.uint8)
    exact = bigan_reconstruction_agreement(Reconstructing(0), LookupScorer(), images, labels)
    assert exact["value"] == 1.0 and exact["num_samples"] == 100
    assert bigan_reconstruction_agreement(Reconstructing(1), LookupScorer(), images, labels)["value"] == 0.0
