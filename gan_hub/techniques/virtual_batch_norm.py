"""Virtual batch norm as a switch: the generator is built with gan_hub.nn.virtual_batch_norm."""

from __future__ import annotations

from ._common import integer, parse_options
from .setup import TECHNIQUES, TechniqueSetup


@TECHNIQUES.register("virtual_batch_norm")
def virtual_batch_norm(options, setup: TechniqueSetup) -> None:
    """Virtual batch norm: G normalises each example with a fixed reference batch (Salimans et al., 2016).

    Options: ``reference_size`` (default 64, the network's default). Recorded in the exported
    config.json (the generator's ``virtual_batch_norm`` wrapper), so the published generator is rebuilt the same way.
    """
    opts = parse_options("virtual_batch_norm", options, {"reference_size": 64})
    setup.generator_wrappers.append(
        {
            "name": "virtual_batch_norm",
            "reference_size": integer("virtual_batch_norm", "reference_size", opts["reference_size"]),
        }
    )
