"""A small CNN digit classifier used as the scorer for MNIST-like images.

Scores computed with it are *classifier* Inception Scores (and, later, classifier FIDs): the
idea of Salimans et al. with an MNIST classifier in place of Inception-v3. They are only
comparable with other numbers computed with this very classifier (same weights file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..io import CheckpointError, load_state_strict
from ..registry import SCORERS
from .hashing import sha256_of

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
NAME = "mnist-classifier"
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"

# Architecture hyperparameters; config.json in the asset folder repeats them.
DEFAULT_ARCH: dict[str, Any] = {
    "in_channels": 1,
    "image_size": 28,
    "num_classes": 10,
    "widths": [32, 64, 128],
    "dropout": 0.2,
    # The usual MNIST pixel statistics on the [0, 1] scale, applied inside forward().
    "pixel_mean": 0.1307,
    "pixel_std": 0.3081,
}


WeightsError = CheckpointError  # the scorer's name for an unusable weights file


def _conv_bn_relu(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class MnistClassifier(nn.Module):
    """uint8 images [N, 1, 28, 28] -> logits [N, num_classes].

    Three stages at 28, 14 and 7 pixels (two 3x3 conv+BN+ReLU, one, and one conv layer resp.,
    max-pooling between them), global average pooling to a ``widths[-1]``-dim feature vector,
    dropout and one linear layer. About 0.14M parameters.
    """

    def __init__(
        self,
        in_channels: int = 1,
        image_size: int = 28,
        num_classes: int = 10,
        widths: list[int] | tuple[int, ...] = (32, 64, 128),
        dropout: float = 0.2,
        pixel_mean: float = 0.1307,
        pixel_std: float = 0.3081,
    ):
        super().__init__()
        if len(widths) != 3:
            raise ValueError(f"widths must list 3 stage widths, got {widths}")
        w1, w2, w3 = widths
        self.in_channels, self.image_size, self.num_classes = in_channels, image_size, num_classes
        self.feature_dim = w3
        self.pixel_mean, self.pixel_std = float(pixel_mean), float(pixel_std)
        self.body = nn.Sequential(
            _conv_bn_relu(in_channels, w1),
            _conv_bn_relu(w1, w1),
            nn.MaxPool2d(2),
            _conv_bn_relu(w1, w2),
            _conv_bn_relu(w2, w2),
            nn.MaxPool2d(2),
            _conv_bn_relu(w2, w3),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(w3, num_classes)

    def _normalise(self, images: torch.Tensor) -> torch.Tensor:
        if images.dtype != torch.uint8:
            raise TypeError(f"{type(self).__name__} takes uint8 images in [0, 255], got {images.dtype}")
        expected = (self.in_channels, self.image_size, self.image_size)
        if images.ndim != 4 or tuple(images.shape[1:]) != expected:
            raise ValueError(f"expected images [N, {', '.join(map(str, expected))}], got {tuple(images.shape)}")
        x = images.to(self.head.weight.device, torch.float32).div_(255.0)
        return (x - self.pixel_mean) / self.pixel_std

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Penultimate features [N, feature_dim] (globally pooled, before dropout and the head)."""
        return self.body(self._normalise(images))

    def logits_and_features(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.features(images)
        return self.head(self.dropout(features)), features

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.logits_and_features(images)[0]


class Scorer:
    """Inference wrapper around a classifier module: batching, eval mode, no autograd.

    Any module with ``forward(uint8 images) -> logits``, ``features(uint8 images)`` and
    ``logits_and_features(uint8 images)`` (both from one pass) fits.
    """

    def __init__(
        self,
        name: str,
        module: nn.Module,
        num_classes: int,
        batch_size: int = 1000,
        class_names: list[str] | None = None,
        info: dict | None = None,
    ):
        self.name, self.module, self.num_classes = name, module.eval(), num_classes
        self.batch_size = batch_size
        self.class_names = class_names or [str(k) for k in range(num_classes)]
        self.info = info or {}

    @property
    def device(self) -> torch.device:
        return next(self.module.parameters()).device

    def to(self, device) -> "Scorer":
        self.module.to(device)
        return self

    def _batched(self, fn, images: torch.Tensor):
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise ValueError(
                f"{self.name}: images must be uint8 [N, C, H, W], got {images.dtype} {tuple(images.shape)}"
            )
        self.module.eval()
        chunks = [images[i : i + self.batch_size] for i in range(0, len(images), self.batch_size)] or [images]
        outs = [fn(chunk) for chunk in chunks]  # an empty batch still gives outputs of the right shape
        if isinstance(outs[0], tuple):
            return tuple(torch.cat([out[j].float().cpu() for out in outs]) for j in range(len(outs[0])))
        return torch.cat([out.float().cpu() for out in outs])

    @torch.inference_mode()
    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images [N, C, H, W] -> float32 logits [N, num_classes] on the CPU."""
        return self._batched(self.module, images)

    @torch.inference_mode()
    def features(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images [N, C, H, W] -> float32 penultimate features [N, D] on the CPU."""
        return self._batched(self.module.features, images)

    @torch.inference_mode()
    def logits_and_features(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Both of the above from one forward pass."""
        return self._batched(self.module.logits_and_features, images)

    def __repr__(self) -> str:
        return f"Scorer({self.name!r}, num_classes={self.num_classes})"


def _read_config(folder: Path) -> dict:
    from ..validation import read_json_object

    return read_json_object(folder / CONFIG_FILE, "the scorer's architecture") or {}


def build_mnist_classifier(arch: dict | None = None) -> MnistClassifier:
    params = dict(DEFAULT_ARCH)
    params.update(arch or {})
    return MnistClassifier(**{k: params[k] for k in DEFAULT_ARCH})


@SCORERS.register(NAME)
def load_mnist_classifier(weights_path=None, device="cpu", batch_size: int = 1000) -> Scorer:
    """The shipped MNIST classifier as a :class:`Scorer`; ``weights_path`` overrides the shipped weights.

    The architecture comes from ``config.json`` next to the weights file when there is one,
    else from the shipped config.
    """
    shipped = ASSETS_DIR / NAME
    path = Path(weights_path) if weights_path is not None else shipped / WEIGHTS_FILE
    config = _read_config(path.parent) or _read_config(shipped)
    module = build_mnist_classifier(config.get("architecture"))
    hint = (
        "Pass weights_path (--weights) pointing at a model.safetensors written by "
        "`python -m train.classifier`, or retrain with that command."
    )
    load_state_strict(module, path, NAME, hint)
    info = {k: config[k] for k in ("test_accuracy", "provenance") if k in config}
    info["weights_path"] = str(path)
    info["weights_sha256"] = sha256_of(path)
    return Scorer(
        NAME,
        module.to(device),
        module.num_classes,
        batch_size=batch_size,
        class_names=[str(k) for k in range(module.num_classes)],
        info=info,
    )
