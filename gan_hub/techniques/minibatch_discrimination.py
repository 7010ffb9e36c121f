"""Minibatch discrimination as a switch: adds the layer of gan_hub.nn.minibatch to the training D."""

from __future__ import annotations

from ._common import integer, parse_options
from .setup import TECHNIQUES, TechniqueSetup

DEFAULTS = {"num_kernels": 100, "kernel_dim": 5}  # B and C of Salimans et al.'s code


@TECHNIQUES.register("minibatch_discrimination")
def minibatch_discrimination(options, setup: TechniqueSetup) -> None:
    """Minibatch discrimination: D sees how close each example is to the rest of its batch (Salimans et al., 2016).

    Options: ``num_kernels`` (B, default 100), ``kernel_dim`` (C, default 5). Inserts the layer between
    the discriminator's body and head (see gan_hub.nn.minibatch).
    """
    opts = parse_options("minibatch_discrimination", options, DEFAULTS)
    setup.discriminator_wrappers.append(
        {
            "name": "minibatch_discrimination",
            **{key: integer("minibatch_discrimination", key, opts[key]) for key in DEFAULTS},
        }
    )
