"""bench/stacked_mnist.py: its scoring on constructed samples, what each row resolves to, and a tiny run.

No ../shared: the MNIST folder is the 100 fixture digits written as IDX files (tests/test_modes.py's
``mnist_dir``), and most scoring tests read digits with a lookup classifier of those 100 digits, so
26,000 samples score in seconds; one test goes through the shipped MNIST classifier.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from gan_hub.config import GeneratorConfig
from gan_hub.data import DatasetInfo, load_dataset
from gan_hub.hub import Generator
from gan_hub.metrics import evaluate
from gan_hub.metrics.modes import categorical_coverage
from gan_hub.sampling import latents
from tests import test_modes
from train.config import TrainConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import stacked_mnist as bench  # noqa: E402

mnist_dir = test_modes.mnist_dir  # the fixture: 100 real test digits; their mirror images as the train split


class BankNet(nn.Module):
    """A 'generator' of given uint8 stacked images: latent z picks bank[index(z)], so samples are a seeded
    draw with replacement from the bank."""

    def __init__(self, bank: torch.Tensor):
        super().__init__()
        self.register_buffer("bank", bank.float().div(127.5).sub(1.0))
        self.anchor = nn.Parameter(torch.zeros(()))  # Generator.device reads a parameter

    def index(self, z: torch.Tensor) -> torch.Tensor:
        return (z[:, 0].double() * 1e6).long().abs() % len(self.bank)

    def forward(self, z, labels=None):
        return self.bank[self.index(z)]


def bank_generator(bank: torch.Tensor) -> Generator:
    config = GeneratorConfig(
        variant="dcgan", arch="dcgan", latent_dim=4, dataset="stacked-mnist", channels=3, image_size=28
    )
    generator = Generator(config)
    generator.net = BankNet(bank)
    return generator


class LookupClassifier:
    """Reads each of the 100 fixture digits (and nothing else) by an exact pixel match: a perfect, fast
    stand-in for the MNIST classifier, under its name."""

    name = "mnist-classifier"

    def __init__(self, digits: torch.Tensor, labels: torch.Tensor):
        self.weights = torch.randint(1, 2**20, (digits[0].numel(),), generator=torch.Generator().manual_seed(0))
        self.keys, self.labels = self.key(digits), labels

    def key(self, images: torch.Tensor) -> torch.Tensor:
        return (images.reshape(len(images), -1).long() * self.weights).sum(dim=1)

    def to(self, device):
        return self

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        match = self.key(images)[:, None] == self.keys[None, :]
        assert bool(match.any(dim=1).all()), "an image that is not one of the fixture digits"
        return nn.functional.one_hot(self.labels[match.int().argmax(dim=1)], 10).float()


@pytest.fixture(scope="module")
def digits(mnist_dir):
    return load_dataset("mnist", mnist_dir, train=False, download=False)


@pytest.fixture
def lookup(digits, monkeypatch):
    monkeypatch.setattr(evaluate, "_load", lambda name: LookupClassifier(digits.images, digits.labels))


def stacks(mnist_dir, size: int):
    return load_dataset("stacked-mnist", mnist_dir, train=False, download=False, size=size, seed=5)


def test_real_stacked_digits_cover_nearly_all_1000_modes(mnist_dir, lookup):
    """26,000 draws from 26,000 real stacks: every triple is expected 26 times, so all but ~1e-9 of the
    1,000 are found, and the histogram's KL to uniform is about (K - 1) / 2N = 0.02."""
    scores = bench.score_generator(bank_generator(stacks(mnist_dir, 26_000).images), bench.SAMPLES)
    assert scores["samples"] == 26_000 and scores["sample_seed"] == 0
    assert scores["modes"] >= 998
    assert 0.005 < scores["kl"] < 0.04


def test_one_triple_is_one_mode_with_kl_ln_1000(mnist_dir, lookup):
    one = stacks(mnist_dir, 1).images
    scores = bench.score_generator(bank_generator(one), 2_000)
    assert scores["modes"] == 1
    assert scores["kl"] == pytest.approx(math.log(1000), abs=1e-9)


def test_the_shipped_classifier_reads_generated_triples(mnist_dir):
    """Through the project's MNIST classifier: the scores are those of the stacks' true digit triples."""
    data = stacks(mnist_dir, 300)
    scores = bench.score_generator(bank_generator(data.images), 300)
    drawn = BankNet(data.images).index(latents(300, 4, seed=0))
    truth = categorical_coverage(data.labels[drawn], 1000)
    assert abs(scores["modes"] - truth["modes_covered"]) <= 3
    assert scores["kl"] == pytest.approx(truth["kl_to_uniform"], abs=0.02)


# ---- what each row runs ----------------------------------------------------------------------------------


def wrappers(run) -> list[str]:
    return [w["name"] for w in run.model_config(DatasetInfo("stacked-mnist", 3, 28)).discriminator.wrappers]


@pytest.mark.parametrize(
    "preset, width, steps, options", [("cpu", 32, 3_748, {}), ("veegan", 64, 100_000, {"size": 128_000})]
)
def test_every_row_resolves_through_the_trainers_composer(tmp_path, preset, width, steps, options):
    args = bench.parse_args(["--preset", preset, "--device", "cpu", "--runs-dir", str(tmp_path)])
    runs = {row: bench.resolve(row, 3, args) for row in args.rows}
    assert list(runs) == ["dcgan", "pacdcgan2", "unrolled", "minibatch", "wgan-gp"]
    for row, run in runs.items():
        s = run.settings
        assert (s["dataset"], s["arch"], s["batch_size"], s["max_steps"], s["seed"]) == (
            "stacked-mnist",
            "dcgan",
            128 if row == "pacdcgan2" else 64,  # D judges 64 pairs, as the PacGAN code: 128 images a step
            steps,
            3,
        )
        assert s["arch_kwargs"]["base_channels"] == width and s.get("dataset_options", {}) == options
        assert s["ema_decay"] == 0.0  # the final weights are scored
    dcgan, pac, unrolled, minibatch, wgan = runs.values()
    assert dcgan.settings["variant"] == "dcgan" and dcgan.settings["techniques"] == {} and wrappers(dcgan) == []
    assert pac.settings["variant"] == "pacgan" and pac.settings["variant_options"] == {"pack": 2}
    assert pac.model_config(DatasetInfo("stacked-mnist", 3, 28)).discriminator.wrappers == [{"name": "pack", "m": 2}]
    assert unrolled.settings["variant"] == "unrolled"
    assert unrolled.settings["variant_options"] == {"unroll_steps": 5, "unroll_lr": 0.01, "unroll_optimizer": "adam"}
    assert minibatch.settings["variant"] == "dcgan"
    assert minibatch.settings["techniques"] == {"minibatch_discrimination": True}
    assert wrappers(minibatch) == ["minibatch_discrimination"]
    assert wgan.settings["variant"] == "wgan-gp" and wgan.settings["objective"] == "wasserstein"
    assert wgan.settings["n_critic"] == 5 and "gradient_penalty" in wgan.settings["techniques"]


def test_the_written_config_file_is_the_run(tmp_path):
    """`python -m train --config RUN/train.yaml` reads back exactly the bench's TrainConfig."""
    args = bench.parse_args(["--preset", "veegan", "--device", "cpu", "--runs-dir", str(tmp_path)])
    cfg = bench.row_config("pacdcgan2", 1, args)
    path = tmp_path / "train.yaml"
    path.write_text(bench.config_yaml(cfg))
    assert TrainConfig.from_yaml(path).to_dict() == cfg.to_dict()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--rows", "dcgan,gan"], "argument --rows: unknown row(s) gan; choose from dcgan, pacdcgan2,"),
        (["--seeds", "1-x"], "argument --seeds: '1-x': give seeds as 0,1,2 or a range such as 0-4"),
        (["--steps", "0"], "argument --steps: must be >= 1, got 0"),
        (["--samples", "many"], "argument --samples: not a whole number: 'many'"),
        (["--dataset-size", "10"], "--dataset-size 10 is smaller than one batch of 64"),
        (["--preset", "paper"], "argument --preset: invalid choice: 'paper'"),
    ],
)
def test_bad_options_end_with_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench.main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1
    assert err.startswith(f"python bench/stacked_mnist.py: error: {message}")


def test_cuda_without_a_gpu_says_so(capsys):
    if torch.cuda.is_available():
        pytest.skip("a GPU is visible")
    with pytest.raises(SystemExit):
        bench.main(["--preset", "veegan"])
    assert "--device cuda: no CUDA GPU is visible here; pass --device cpu" in capsys.readouterr().err


def test_unknown_dataset_options_are_refused_by_name():
    from gan_hub.data import DATASETS
    from train.cli import check_dataset_options
    from train.config import TrainConfigError

    with pytest.raises(TrainConfigError, match=r"stacked-mnist takes no option\(s\) \['sizes'\]; it takes \['seed'"):
        cfg = TrainConfig(dataset="stacked-mnist", dataset_options={"sizes": 5})
        check_dataset_options(DATASETS.get("stacked-mnist"), cfg)


# ---- end to end -------------------------------------------------------------------------------------------


def test_a_tiny_run_trains_scores_writes_and_resumes(mnist_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ACCELERATE_USE_CPU", "true")  # main sets it for --device cpu; restored afterwards
    argv = ["--rows", "dcgan,pacdcgan2", "--steps", "2", "--samples", "20", "--dataset-size", "128"]
    argv += ["--data-dir", str(mnist_dir), "--runs-dir", str(tmp_path / "runs")]
    results = bench.main(argv)
    out = capsys.readouterr().out
    assert [(r["row"], r["seed"], r["steps"], r["samples"]) for r in results] == [
        ("dcgan", 0, 2, 20),
        ("pacdcgan2", 0, 2, 20),
    ]
    assert all(1 <= r["modes"] <= 20 and 0 <= r["kl"] <= math.log(1000) + 1e-9 for r in results)
    assert "| `dcgan` | 1 | 2 | " in out and "| 99 · 3.40 |" in out and "| `pacdcgan2` | 1 | 2 | " in out
    saved = json.loads((tmp_path / "runs" / "results.json").read_text())
    assert saved["preset"] == "cpu" and saved["dataset_size"] == 128 and len(saved["runs"]) == 2
    folder = tmp_path / "runs" / "pacdcgan2-2steps-seed0-batch128"
    record = json.loads((folder / "train_config.json").read_text())["resolved"]
    assert record["dataset_options"] == {"size": 128} and record["variant_options"] == {"pack": 2}
    assert results[1]["command"] == f"python -m train --config {folder / 'train.yaml'}"
    again = bench.main(argv)  # finished and scored: read back, nothing retrained
    assert [(r["modes"], r["kl"], r["train_seconds"]) for r in again] == [
        (r["modes"], r["kl"], r["train_seconds"]) for r in results
    ]
    assert "exported" not in capsys.readouterr().out
