"""The semi-supervised GAN's discriminator as a K-class classifier, loaded from an exported model.

    from gan_hub.classifier import Classifier
    clf = Classifier.from_pretrained("runs/semi-supervised-mnist/model")   # a folder or a Hub repo id
    clf.predict(images)          # int64 [N]: class indices (uint8 [N, C, H, W] or floats in [-1, 1])
    clf.predict_proba(images)    # float [N, K]: p(y = k | x, x real) = softmax of the K class logits
    clf.real_probability(images) # float [N]: D(x) = Z / (Z + 1), Z = sum_k exp(l_k)
    clf.class_names              # the training set's class names, in logit order

The weights are the trainer's ``discriminator.safetensors``, read with safetensors only and loaded
strictly (a missing or unexpected tensor is an error that names it); ``config.json`` says how to
build the network. The network runs in eval mode, so its training noise is off and predictions are
deterministic.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .config import CONFIG_NAME, ConfigError, GeneratorConfig
from .hub import DISCRIMINATOR_NAME, build_discriminator_network, resolve_model_folder
from .io import atomic_save_safetensors, load_state_strict
from .validation import check_int, check_model_location
from .variants.semi_supervised import k_plus_one_probabilities, real_probability

Tensor = torch.Tensor


class Classifier(nn.Module):
    """K class logits from images, by the exported K+1 discriminator of a semi-supervised model."""

    def __init__(self, config: GeneratorConfig):
        super().__init__()
        if "d_classes" not in config.arch_kwargs:
            raise ValueError(
                f"{config.variant} model has no classifier: only models whose discriminator classifies "
                "the data (semi-supervised) export one"
            )
        self.config = config
        self.net = build_discriminator_network(config)
        self.eval()

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | Path,
        *,
        revision: str | None = None,
        map_location: str | torch.device = "cpu",
        **hub_kwargs,
    ) -> "Classifier":
        folder = resolve_model_folder(
            check_model_location("name_or_path", name_or_path), revision=revision, **hub_kwargs
        )
        if not (folder / DISCRIMINATOR_NAME).is_file() and not Path(name_or_path).is_dir():
            from huggingface_hub import hf_hub_download  # the generator files came first; the classifier is extra

            hf_hub_download(str(name_or_path), DISCRIMINATOR_NAME, revision=revision, **hub_kwargs)
        config = GeneratorConfig.load(folder)
        try:
            model = cls(config)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{folder / CONFIG_NAME} does not describe a classifier: {err}") from err
        load_state_strict(
            model.net,
            folder / DISCRIMINATOR_NAME,
            f"{config.variant} classifier",
            "The classifier weights and config.json come from different models: re-export them together.",
        )
        return model.to(map_location).eval()

    def save_pretrained(self, folder: str | Path) -> Path:
        """Write config.json and discriminator.safetensors (atomically): what ``from_pretrained`` reads."""
        folder = Path(folder)
        self.config.save(folder)
        atomic_save_safetensors(folder / DISCRIMINATOR_NAME, self.net.state_dict(), metadata={"format": "pt"})
        return folder

    @property
    def class_names(self) -> list[str]:
        classes = self.config.arch_kwargs["d_classes"]
        return list(classes) if isinstance(classes, (list, tuple)) else [str(k) for k in range(classes)]

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    def _images(self, images: Tensor) -> Tensor:
        cfg = self.config
        shape = (cfg.channels, cfg.image_size, cfg.image_size)
        if not isinstance(images, Tensor) or images.ndim != 4 or tuple(images.shape[1:]) != shape:
            got = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
            raise ValueError(
                f"expected images [N, {', '.join(map(str, shape))}] (uint8, or floats in [-1, 1]), got {got}"
            )
        return images.float().div(127.5).sub(1.0) if images.dtype == torch.uint8 else images.float()

    @torch.inference_mode()
    def logits(self, images: Tensor, batch_size: int = 1000) -> Tensor:
        """The K class logits [N, K] (float32, CPU); the fake class's logit is 0."""
        x, batch_size = self._images(images), check_int("batch_size", batch_size, minimum=1)
        out = [self.net(x[i : i + batch_size].to(self.device)).float().cpu() for i in range(0, len(x), batch_size)]
        return torch.cat(out) if out else torch.empty(0, len(self.class_names))

    def predict_proba(self, images: Tensor, batch_size: int = 1000) -> Tensor:
        """p(y = k | x, x is real) [N, K]: the softmax of the K class logits."""
        return torch.softmax(self.logits(images, batch_size), dim=1)

    def predict(self, images: Tensor, batch_size: int = 1000) -> Tensor:
        """The most probable class of each image, int64 [N]."""
        return self.logits(images, batch_size).argmax(1)

    def k_plus_one_probabilities(self, images: Tensor, batch_size: int = 1000) -> Tensor:
        """[N, K+1]: the K classes and, last, the "generated" class."""
        return k_plus_one_probabilities(self.logits(images, batch_size))

    def real_probability(self, images: Tensor, batch_size: int = 1000) -> Tensor:
        """D(x) [N]: the probability that each image is real (not generated)."""
        return real_probability(self.logits(images, batch_size))

    def forward(self, images: Tensor) -> Tensor:
        return self.net(images)
