"""The Inception-v3 scorer: the standard network behind published Inception Scores and FIDs.

The network is torch-fidelity's ``FeatureExtractorInceptionV3``: the TensorFlow graph of
2015-12-05 converted for PyTorch, with the reference preprocessing (uint8 input, bilinear resize
to 299x299 the way TensorFlow 1.x does it, (x - 128) / 128). IS uses the 1008 logits without the
output bias ("logits_unbiased"), FID and KID the 2048 pooled features. Grey images are repeated
over three channels first.

Weights come from, in this order: ``weights_path``; the ``GAN_HUB_INCEPTION_WEIGHTS`` variable;
the torch hub cache (``<torch hub dir>/checkpoints/weights-inception-2015-12-05-6726825d.pth``,
where torch-fidelity keeps it); a download from torch-fidelity's release on a connected machine.

Pickle files are only read when their SHA-256 starts with the reference prefix (the known
file, read with ``torch.load(weights_only=True)``); any other weights must be safetensors with
the same tensor names. Scores from non-reference weights are labelled as such.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from ..io import CheckpointError
from ..registry import SCORERS
from .hashing import sha256_of
from .mnist_classifier import Scorer

NAME = "inception-v3"
ENV_VAR = "GAN_HUB_INCEPTION_WEIGHTS"
REFERENCE_FILENAME = "weights-inception-2015-12-05-6726825d.pth"
REFERENCE_SHA256_PREFIX = "6726825d"
REFERENCE_URL = "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/" + REFERENCE_FILENAME
IS_FEATURE, POOL_FEATURE = "logits_unbiased", "2048"
WHERE_TO_PUT = (
    f"Put the reference file {REFERENCE_FILENAME} (from {REFERENCE_URL}) at "
    f"<torch hub dir>/checkpoints/ (torch.hub.get_dir()), or point {ENV_VAR} or --weights at it "
    f"(or at a .safetensors file of the same tensors)."
)


def cached_reference_path() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / REFERENCE_FILENAME


def find_weights(weights_path: str | os.PathLike | None = None, download: bool = True) -> Path:
    """The weights file to use: the argument, the environment variable, the hub cache, or a download."""
    explicit = weights_path if weights_path is not None else os.environ.get(ENV_VAR) or None
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.is_file():
            source = "weights_path" if weights_path is not None else ENV_VAR
            raise FileNotFoundError(f"{NAME}: weights file {path} (from {source}) does not exist. {WHERE_TO_PUT}")
        return path
    cached = cached_reference_path()
    if cached.is_file():
        return cached
    if not download:
        raise FileNotFoundError(f"{NAME}: no weights file found and downloads are off. {WHERE_TO_PUT}")
    cached.parent.mkdir(parents=True, exist_ok=True)
    try:
        torch.hub.download_url_to_file(REFERENCE_URL, str(cached), hash_prefix=REFERENCE_SHA256_PREFIX, progress=True)
    except Exception as err:  # offline, proxy, hash mismatch: all end the same way for the user
        raise FileNotFoundError(f"{NAME}: could not download the Inception weights ({err}). {WHERE_TO_PUT}") from err
    return cached


@dataclass
class InceptionWeights:
    path: Path
    sha256: str
    state: dict[str, torch.Tensor]

    @property
    def is_reference(self) -> bool:
        return self.sha256.startswith(REFERENCE_SHA256_PREFIX)


def read_weights(path: str | os.PathLike) -> InceptionWeights:
    """Tensors of a weights file: safetensors, or the reference pickle file identified by its hash."""
    path = Path(path)
    sha = sha256_of(path)
    if path.suffix == ".safetensors":
        try:
            state = load_file(str(path))
        except (SafetensorError, OSError, ValueError, RuntimeError) as err:
            raise CheckpointError(f"{NAME}: {path} is not a readable safetensors file ({err}). {WHERE_TO_PUT}") from err
    elif sha.startswith(REFERENCE_SHA256_PREFIX):
        state = torch.load(path, map_location="cpu", weights_only=True)
    else:
        raise CheckpointError(
            f"{NAME}: {path} is not the reference weights file (its SHA-256 starts {sha[:8]}, the reference "
            f"{REFERENCE_SHA256_PREFIX}) and is not safetensors; gan-hub unpickles only the known reference file. "
            f"Save the tensors you trust with safetensors.torch.save_file, or: {WHERE_TO_PUT}"
        )
    return InceptionWeights(path, sha, state)


_BUILD_LOCK = threading.Lock()


@contextlib.contextmanager
def _state_dict_supplied(state: dict[str, torch.Tensor]):
    """Make torch-fidelity's constructor take ``state`` instead of downloading or unpickling a file."""
    from torch_fidelity import feature_extractor_inceptionv3 as tfi

    with _BUILD_LOCK:
        original = tfi.load_state_dict_from_url
        tfi.load_state_dict_from_url = lambda *args, **kwargs: state
        try:
            yield tfi.FeatureExtractorInceptionV3
        finally:
            tfi.load_state_dict_from_url = original


def build_network(weights: InceptionWeights) -> nn.Module:
    """torch-fidelity's Inception-v3 returning (2048 pool features, 1008 unbiased logits), with ``weights``."""
    with _state_dict_supplied(weights.state) as network_cls:
        try:
            return network_cls(NAME, [POOL_FEATURE, IS_FEATURE])
        except RuntimeError as err:  # torch's message lists the missing, unexpected and mis-shaped tensors
            raise CheckpointError(
                f"{NAME}: {weights.path} does not fit the Inception-v3 network: {err}. {WHERE_TO_PUT}"
            ) from err


def random_weights_state(seed: int = 0, logit_scale: float = 1.0) -> dict[str, torch.Tensor]:
    """Tensors named and shaped as in the reference file, randomly initialised, for tests and benchmarks.

    torch's default initialisation shrinks activations layer after layer until the logits are ~1e-7
    and every image scores IS = 1; so the batch-norm statistics are set from one batch of random
    images (every layer then sees unit-scale inputs) and the output layer is scaled by ``logit_scale``.
    Scores computed with these weights mean nothing beyond agreement between implementations.
    """
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    class Unloaded(FeatureExtractorInceptionV3):
        def load_state_dict(self, state_dict, strict=True, assign=False):
            return None  # keep the random initialisation

    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    with _state_dict_supplied({}):
        network = Unloaded(NAME, [POOL_FEATURE, IS_FEATURE])
    for layer in network.modules():
        if isinstance(layer, nn.BatchNorm2d):
            layer.reset_running_stats()
            layer.momentum = None  # cumulative average: after one batch, the batch's statistics
    network.train()
    with torch.no_grad():
        network(torch.randint(0, 256, (8, 3, 64, 64), generator=gen, dtype=torch.uint8))
        network.fc.weight.mul_(logit_scale)
    return {k: v.clone() for k, v in network.state_dict().items()}


class InceptionV3(nn.Module):
    """uint8 images [N, 1 or 3, H, W] -> unbiased logits [N, 1008]; ``features`` gives the 2048 pool features."""

    num_classes = 1008
    feature_dim = 2048

    def __init__(self, network: nn.Module, channels_last: bool = True):
        super().__init__()
        self.network = network
        self.channels_last = channels_last

    def _prepare(self, images: torch.Tensor) -> torch.Tensor:
        if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] not in (1, 3):
            raise ValueError(f"{NAME} takes uint8 images [N, 1 or 3, H, W], got {images.dtype} {tuple(images.shape)}")
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        images = images.to(next(self.network.parameters()).device)
        if self.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        return images

    def logits_and_features(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pool, logits = self.network(self._prepare(images))
        return logits, pool

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.logits_and_features(images)[1]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.logits_and_features(images)[0]


@SCORERS.register(NAME)
def load_inception_v3(
    weights_path=None, device="cpu", batch_size: int = 50, download: bool = True, channels_last: bool = True
) -> Scorer:
    """The Inception-v3 scorer as a :class:`Scorer`; see the module docstring for where weights come from."""
    weights = read_weights(find_weights(weights_path, download))
    module = InceptionV3(build_network(weights), channels_last=channels_last)
    if channels_last:
        module.network.to(memory_format=torch.channels_last)
    info = {
        "weights_path": str(weights.path),
        "weights_sha256": weights.sha256,
        "reference_weights": weights.is_reference,
    }
    return Scorer(NAME, module.to(device), InceptionV3.num_classes, batch_size=batch_size, info=info)
