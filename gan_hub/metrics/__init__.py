"""Sample-quality metrics and the scorers (classifiers) they run on.

from gan_hub.metrics import InceptionScore, load_scorer
scorer = load_scorer("mnist-classifier")
m = InceptionScore(scorer, splits=10)
m.update(images_uint8)          # any number of times
mean, std = m.compute()
"""

from __future__ import annotations

import os

from ..registry import SCORERS, UnknownNameError
from . import inception_v3 as _inception_v3  # noqa: F401  (registers "inception-v3")
from . import mnist_classifier as _mnist_classifier  # noqa: F401  (registers "mnist-classifier")
from .fid import FeatureStatistics, ReferenceStatistics, frechet_distance
from .inception_score import InceptionScore, inception_score_from_probs
from .kid import kernel_inception_distance
from .mnist_classifier import Scorer, WeightsError, load_state_strict


def load_scorer(name: str, weights_path=None, **kwargs) -> Scorer:
    """The scorer registered as ``name``; ``weights_path`` overrides its shipped weights.

    An unknown name raises :class:`UnknownNameError` listing the registered scorers.
    """
    import inspect

    from ..validation import ArgumentError, check_int, shown

    if not isinstance(name, str):
        raise ArgumentError(f"name must be a scorer name ({', '.join(SCORERS.names())}), got {shown(name)}")
    loader = SCORERS.get(name)
    if weights_path is not None and not isinstance(weights_path, (str, os.PathLike)):
        raise ArgumentError(f"weights_path must be a file path or None, got {shown(weights_path)}")
    accepted = set(inspect.signature(loader).parameters) - {"weights_path"}
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise ArgumentError(f"the {name} scorer takes no option(s) {unknown}; it takes {sorted(accepted)}")
    if "batch_size" in kwargs:
        kwargs["batch_size"] = check_int("batch_size", kwargs["batch_size"], minimum=1)
    return loader(weights_path=weights_path, **kwargs)


__all__ = [
    "FeatureStatistics",
    "ReferenceStatistics",
    "frechet_distance",
    "kernel_inception_distance",
    "InceptionScore",
    "Scorer",
    "UnknownNameError",
    "WeightsError",
    "inception_score_from_probs",
    "load_scorer",
    "load_state_strict",
]
