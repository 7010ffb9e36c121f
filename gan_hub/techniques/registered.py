"""Imports every technique module so that each registers its switch in TECHNIQUES."""

from . import (  # noqa: F401
    consensus,
    experience_replay,
    feature_matching,
    gradient_penalty,
    historical_averaging,
    instance_noise,
    label_smoothing,
    minibatch_discrimination,
    spectral_norm,
    virtual_batch_norm,
    weight_clipping,
)
