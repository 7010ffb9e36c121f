"""Train the MNIST classifier scorer and write its asset folder.

    python -m train.classifier --data-dir /path/to/mnist --output-dir gan_hub/metrics/assets/mnist-classifier

Trains on the 60k MNIST training images (random shifts of up to 2 px as the only augmentation),
evaluates once on the 10k test images after the last epoch (the test set is not used for any
choice during training), computes the classifier Inception Score of real data, and writes
model.safetensors, config.json, metrics.json and README.md into the output folder atomically
(everything goes to a temporary sibling folder first, which is then renamed into place).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from gan_hub.data import load_dataset
from gan_hub.metrics.inception_score import InceptionScore, inception_score_from_probs
from gan_hub.metrics.mnist_classifier import CONFIG_FILE, DEFAULT_ARCH, NAME, WEIGHTS_FILE, build_mnist_classifier

SPLITS = 10
MAX_SHIFT = 2


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m train.classifier", description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", required=True, help="folder holding the MNIST IDX files (plain or .gz)")
    p.add_argument(
        "--output-dir", required=True, help="asset folder to (re)write, e.g. gan_hub/metrics/assets/mnist-classifier"
    )
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3, help="peak learning rate of the one-cycle schedule (AdamW)")
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--train-limit", type=int, default=None, help="use only the first N training images (smoke tests)")
    return p.parse_args(argv)


def random_shift(images: torch.Tensor, gen: torch.Generator, max_shift: int = MAX_SHIFT) -> torch.Tensor:
    """Shift each uint8 image [B, 1, H, W] by its own random (dy, dx) in [-max_shift, max_shift], zero fill."""
    b, _, h, w = images.shape
    padded = F.pad(images, (max_shift,) * 4)
    dy = torch.randint(0, 2 * max_shift + 1, (b,), generator=gen)
    dx = torch.randint(0, 2 * max_shift + 1, (b,), generator=gen)
    rows = (torch.arange(h)[None, :] + dy[:, None])[:, :, None]  # [B, H, 1]
    cols = (torch.arange(w)[None, :] + dx[:, None])[:, None, :]  # [B, 1, W]
    return padded[torch.arange(b)[:, None, None], 0, rows, cols].unsqueeze(1)


def sha256_of(*tensors: torch.Tensor) -> str:
    h = hashlib.sha256()
    for t in tensors:
        h.update(t.contiguous().numpy().tobytes())
    return h.hexdigest()


@torch.inference_mode()
def predict_logits(model, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    model.eval()
    return torch.cat([model(images[i : i + batch_size]).float() for i in range(0, len(images), batch_size)])


def classifier_is(logits: torch.Tensor) -> dict:
    """Classifier IS of logits in the given order: 10 contiguous splits, no shuffling."""
    metric = InceptionScore(scorer=None, splits=SPLITS, num_samples=len(logits)).update_logits(logits)
    mean, std = metric.compute()
    return {"mean": round(mean, 4), "std": round(std, 4), "n": len(logits)}


def train(args) -> dict:
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    train_set = load_dataset("mnist", args.data_dir, train=True, download=False)
    test_set = load_dataset("mnist", args.data_dir, train=False, download=False)
    x_train, y_train = train_set.images, train_set.labels
    if args.train_limit:
        x_train, y_train = x_train[: args.train_limit], y_train[: args.train_limit]
    model = build_mnist_classifier()
    steps_per_epoch = math.ceil(len(x_train) / args.batch_size)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=steps_per_epoch
    )
    started = time.time()
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(x_train), generator=gen)
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{args.epochs}", unit="batch", dynamic_ncols=True)
        seen = correct = 0
        loss_sum = 0.0
        for step in bar:
            idx = order[step * args.batch_size : (step + 1) * args.batch_size]
            xb, yb = random_shift(x_train[idx], gen), y_train[idx]
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            seen += len(yb)
            correct += (logits.argmax(1) == yb).sum().item()
            loss_sum += loss.item() * len(yb)
            if step % 20 == 0 or step == steps_per_epoch - 1:
                bar.set_postfix(loss=f"{loss_sum / seen:.4f}", train_acc=f"{correct / seen:.4f}")
        bar.close()
    train_seconds = time.time() - started

    test_logits = predict_logits(model, test_set.images)
    test_pred = test_logits.argmax(1)
    test_acc = (test_pred == test_set.labels).float().mean().item()
    train10k_logits = predict_logits(model, train_set.images[:10_000])
    # torch-fidelity's default order: np.random.RandomState(2020).permutation before splitting
    perm = torch.from_numpy(np.random.RandomState(2020).permutation(len(test_logits)))
    shuffled = inception_score_from_probs(test_logits.double().softmax(1)[perm], SPLITS, "contiguous")
    per_class = {str(c): round((test_pred[test_set.labels == c] == c).float().mean().item(), 4) for c in range(10)}
    return {
        "model": model,
        "test_accuracy": test_acc,
        "test_errors": int((test_pred != test_set.labels).sum()),
        "per_class_test_accuracy": per_class,
        "is_test": classifier_is(test_logits),
        "is_test_shuffled": {"mean": round(shuffled[0], 4), "std": round(shuffled[1], 4), "n": len(test_logits)},
        "is_train10k": classifier_is(train10k_logits),
        "train_seconds": round(train_seconds, 1),
        "data": {
            "train_sha256": sha256_of(train_set.images, train_set.labels),
            "test_sha256": sha256_of(test_set.images, test_set.labels),
            "train_images_used": len(x_train),
        },
    }


def render_card(config: dict, metrics: dict) -> str:
    prov = config["provenance"]
    acc = metrics["test_accuracy"]
    ist, istr, iss = (
        metrics["classifier_is"][k]
        for k in ("mnist_test_10k", "mnist_train_first_10k", "mnist_test_10k_shuffled_rng2020")
    )
    arch = config["architecture"]
    return f"""# mnist-classifier

A small CNN digit classifier (about {config["num_parameters"] / 1e3:.0f}k parameters) used by gan-hub as the
scorer for MNIST-like 1x28x28 images: `load_scorer("mnist-classifier")`.

**Test accuracy: {acc * 100:.2f}%** on the 10,000-image MNIST test set ({metrics["test_errors"]} errors).

## Scores computed with it are "classifier IS", not Inception Scores

The Inception Score of Salimans et al. (2016) is defined with the Inception-v3 ImageNet classifier.
This scorer replaces Inception-v3 with this MNIST classifier, so the numbers it gives are a
*classifier Inception Score* (bounded by 10, the number of classes). They are comparable only with
other numbers computed with this exact weights file, never with published Inception Scores.

Classifier IS of real MNIST data (10 contiguous splits in file order, no shuffling; mean ± population std over splits):

| data | n | classifier IS |
| --- | --- | --- |
| MNIST test set | {ist["n"]} | {ist["mean"]:.3f} ± {_fmt_std(ist)} |
| MNIST train set, first 10k images | {istr["n"]} | {istr["mean"]:.3f} ± {_fmt_std(istr)} |
| MNIST test set, permuted as torch-fidelity does by default (`np.random.RandomState(2020)`) | {iss["n"]} |
{iss["mean"]:.3f} ± {_fmt_std(iss)} |

## Architecture

Input uint8 images in [0, 255], normalised inside the model with mean {arch["pixel_mean"]} and std
{arch["pixel_std"]} (on the [0, 1] scale). Stages of widths {arch["widths"]} at 28, 14 and 7 pixels
(3x3 conv + BatchNorm + ReLU; two layers, two layers, one layer; 2x2 max-pooling between stages),
global average pooling to a {arch["widths"][-1]}-dim feature vector (`Scorer.features`, for FID-style
metrics), dropout {arch["dropout"]}, and a linear layer to {arch["num_classes"]} logits.

## Training

- Data: the 60,000 MNIST training images ({prov["data"]["train_images_used"]} used); the 10,000 test
  images only for the single evaluation after the last epoch.
- Augmentation: random shifts of up to {prov["augmentation"]["max_shift_px"]} pixels in each direction (zero fill).
- AdamW, peak learning rate {prov["optimizer"]["lr"]}, weight decay {prov["optimizer"]["weight_decay"]},
  one-cycle schedule, batch size {prov["batch_size"]}, {prov["epochs"]} epochs, cross-entropy loss, seed {prov["seed"]}.
- torch {prov["torch_version"]} on CPU (threads: {prov["threads"]}), {prov["train_seconds"]:.0f} s.
- Command: `{prov["command"]}`

Weights are stored as safetensors only; `config.json` holds the architecture and full provenance,
`metrics.json` the numbers above.
"""


def _fmt_std(entry: dict) -> str:
    return f"{entry['std']:.3f}"


def reference_entries(is_test: dict, is_train10k: dict) -> list[dict]:
    """Real-data scores in the entry format of generator metrics.json ``scores`` (read by the app and cards)."""
    common = {"metric": "inception_score", "scorer": NAME, "splits": SPLITS}
    return [
        {
            **common,
            "name": "classifier IS@10k, MNIST test set",
            "mean": is_test["mean"],
            "std": is_test["std"],
            "num_samples": is_test["n"],
            "data": "mnist test set, all 10k in file order",
        },
        {
            **common,
            "name": "classifier IS@10k, MNIST train set (first 10k)",
            "mean": is_train10k["mean"],
            "std": is_train10k["std"],
            "num_samples": is_train10k["n"],
            "data": "mnist train set, first 10k in file order",
        },
    ]


def write_assets(output_dir: Path, result: dict, args) -> None:
    from safetensors.torch import save_file

    model = result["model"]
    output_dir = Path(output_dir).resolve()
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = output_dir.parent / f".{output_dir.name}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()

    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(tmp / WEIGHTS_FILE), metadata={"format": "pt", "name": NAME})
    os.chmod(tmp / WEIGHTS_FILE, 0o644)  # safetensors creates the file owner-only
    provenance = {
        "seed": args.seed,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "threads": args.threads,
        "optimizer": {"name": "AdamW", "lr": args.lr, "weight_decay": args.weight_decay, "schedule": "OneCycleLR"},
        "loss": "cross-entropy",
        "augmentation": {"random_shift": True, "max_shift_px": MAX_SHIFT},
        "data": {
            "dataset": "mnist",
            "protocol": "train on the MNIST training set, no validation split, no early stopping or model "
            "selection; evaluate once on the 10k test set after the last epoch",
            "sha256_note": "sha256 of the raw uint8 image bytes followed by the int64 label bytes, in file order",
            **result["data"],
        },
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "train_seconds": result["train_seconds"],
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": "python -m train.classifier " + " ".join(sys.argv[1:]),
    }
    config = {
        "name": NAME,
        "architecture": dict(DEFAULT_ARCH),
        "num_parameters": sum(p.numel() for p in model.parameters()),
        "input": "uint8 [N, 1, 28, 28] in [0, 255]",
        "test_accuracy": round(result["test_accuracy"], 4),
        "provenance": provenance,
    }
    protocol = {
        "splits": SPLITS,
        "assignment": "contiguous: split k = samples [k*N//10, (k+1)*N//10) in file order, no shuffling",
        "std": "population std over splits (ddof=0, numpy default, as torch-fidelity)",
        "probabilities": "softmax of the classifier logits in float64",
    }
    metrics = {
        "scorer": NAME,
        "test_accuracy": round(result["test_accuracy"], 4),
        "test_errors": result["test_errors"],
        "test_set_size": 10_000,
        "per_class_test_accuracy": result["per_class_test_accuracy"],
        "classifier_is": {
            "note": "classifier Inception Score computed with this MNIST classifier, "
            "not an Inception-v3 Inception Score",
            "protocol": protocol,
            "mnist_test_10k": result["is_test"],
            "mnist_train_first_10k": result["is_train10k"],
            "mnist_test_10k_shuffled_rng2020": {
                **result["is_test_shuffled"],
                "note": "test set permuted with np.random.RandomState(2020).permutation before splitting "
                "(torch-fidelity default order)",
            },
        },
        "reference": reference_entries(result["is_test"], result["is_train10k"]),
    }
    (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
    (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (tmp / "README.md").write_text(render_card(config, metrics))

    if output_dir.exists():
        old = output_dir.parent / f".{output_dir.name}.old-{os.getpid()}"
        output_dir.rename(old)
        tmp.rename(output_dir)
        shutil.rmtree(old)
    else:
        tmp.rename(output_dir)


def main(argv=None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    result = train(args)
    write_assets(Path(args.output_dir), result, args)
    print(
        f"test accuracy {result['test_accuracy'] * 100:.2f}% ({result['test_errors']} errors); "
        f"classifier IS@10k test {result['is_test']['mean']:.3f} ± {result['is_test']['std']:.3f}, "
        f"train first 10k {result['is_train10k']['mean']:.3f} ± {result['is_train10k']['std']:.3f}"
    )
    print(f"wrote {args.output_dir}")


if __name__ == "__main__":
    main()
