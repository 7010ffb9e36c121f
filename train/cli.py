"""``python -m train`` / ``accelerate launch -m train``: train any variant, export a Hub repo."""

from __future__ import annotations

import argparse
import functools
import json
import sys

from gan_hub.cli_errors import FAILURE, USAGE, USER_ERRORS, OneLineParser, fail
from gan_hub.optim import OPTIMIZERS

from .config import TrainConfig, TrainConfigError

PROG = "python -m train"


def json_object(text: str, example: str = '{"spectral_norm": true}', what: str = "technique: options") -> dict:
    """argparse type: a JSON object, e.g. '{"spectral_norm": true}'."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not valid JSON ({err.msg}); write e.g. '{example}'") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object of {what}")
    return value


variant_options_object = functools.partial(json_object, example='{"unroll_steps": 10}', what="option: value")
variant_options_object.__name__ = "variant options"  # argparse names the type in its error messages
dataset_options_object = functools.partial(json_object, example='{"size": 128000}', what="option: value")
dataset_options_object.__name__ = "dataset options"


OPTIONS = {  # flag -> (type, help); every flag maps onto a TrainConfig field
    "variant": (str, "variant name (see --list-variants); default dcgan"),
    "dataset": (str, "mnist, fashion-mnist, stacked-mnist or synthetic; default mnist"),
    "dataset-options": (
        dataset_options_object,
        "JSON object of the dataset builder's options, e.g. '{\"size\": 128000}' for stacked-mnist's number of "
        "stacked images (default: one per MNIST training digit, 60,000)",
    ),
    "output-dir": (str, "run folder; default runs/VARIANT-DATASET. Re-running resumes from its checkpoints/"),
    "data-dir": (str, "folder holding the dataset files (e.g. MNIST IDX files); default ~/.cache/gan_hub/datasets"),
    "max-steps": (int, "training steps (discriminator batches); default 5000"),
    "batch-size": (int, "batch size per process; default: the variant's (64)"),
    "seed": (int, "seed for weights, latents and data order; default 0"),
    "mixed-precision": (str, "no, fp16 or bf16; default no"),
    "objective": (
        str,
        "override the variant's objective (any registered one, e.g. least-squares, hinge, fgan-kl; NAME+ls0.9 adds "
        "one-sided label smoothing)",
    ),
    "arch": (str, "override the variant's architecture: mlp or dcgan"),
    "latent-dim": (int, "latent dimension; default 100"),
    "lr-g": (float, "generator learning rate; default: the variant's"),
    "lr-d": (float, "discriminator learning rate; default: the variant's"),
    "optimizer": (str, f"override the variant's optimizer: {', '.join(OPTIMIZERS)}"),
    "n-critic": (int, "discriminator steps per generator step; default: the variant's (5 for wgan, wgan-gp)"),
    "techniques": (
        json_object,
        "JSON object of technique switches merged over the variant's, e.g. "
        '\'{"instance_noise": {"std": 0.1}, "spectral_norm": true}\'; false turns one off '
        "(see --list-techniques)",
    ),
    "variant-options": (
        variant_options_object,
        "JSON object of the variant algorithm's options, e.g. "
        "'{\"unroll_steps\": 10}' for unrolled (k), '{\"num_labelled\": 100}' for "
        "semi-supervised, '{\"fade_steps\": 2000}' for progan; --list-variants names each "
        "variant's options",
    ),
    "ema-decay": (float, "EMA decay of the exported generator; 0 disables; default 0.999"),
    "stop-at-step": (
        int,
        "stop and export at this step while keeping the --max-steps schedule (learning-rate decay, annealing)",
    ),
    "lr-decay-start": (int, "from this step both learning rates fall linearly to 0 at --max-steps; default: constant"),
    "log-every": (int, "steps between loss logs; default 50"),
    "sample-every": (int, "steps between sample grids (runs/.../samples, tensorboard); default 500"),
    "eval-every": (int, "steps between quick scores during training; default 1000"),
    "checkpoint-every": (int, "steps between checkpoints; default 500"),
    "eval-samples": (int, "samples for the scores in metrics.json and the card; default 10000; 0 skips"),
    "push-to-hub": (str, "ORG/NAME: upload runs/.../model to this Hub repo at the end"),
    "init-from": (
        str,
        "ORG/NAME or FOLDER: start from that model's generator and discriminator weights (fine-tuning; "
        "the shapes must match this run's)",
    ),
}


def build_parser(prog: str = PROG, parser_class=OneLineParser) -> argparse.ArgumentParser:
    parser = parser_class(prog=prog, description=__doc__)
    for flag, (kind, help_text) in OPTIONS.items():
        parser.add_argument(f"--{flag}", type=kind, default=None, help=help_text)
    parser.add_argument("--config", default=None, help="YAML file of options (keys as the flags, with - or _)")
    parser.add_argument(
        "--list-variants", action="store_true", help="print every variant with a one-line summary and exit"
    )
    parser.add_argument(
        "--list-techniques", action="store_true", help="print every technique switch with a one-line summary and exit"
    )
    return parser


def list_variants_text() -> str:
    from gan_hub.variants import VARIANTS

    width = max(len(n) for n in VARIANTS.names())
    lines = []
    for name in VARIANTS.names():
        spec = VARIANTS.get(name)
        options = spec.algorithm_options()
        lines.append(f"{name:<{width}}  {spec.summary}" + (f" [options: {', '.join(options)}]" if options else ""))
    return "\n".join(lines)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    given = {flag.replace("-", "_"): getattr(args, flag.replace("-", "_")) for flag in OPTIONS}
    given = {k: v for k, v in given.items() if v is not None}
    if args.config:
        cfg = TrainConfig.from_yaml(args.config, overrides=given)
    else:
        cfg = TrainConfig(**given)
    return cfg


def main(argv: list[str] | None = None, **parser_options) -> int:  # parser_options: build_parser's (gan-hub train)
    parser = build_parser(**parser_options)
    args = parser.parse_args(argv)
    if args.list_variants:
        print(list_variants_text())
        return 0
    if args.list_techniques:
        from gan_hub.techniques import describe

        summaries = describe()
        width = max(map(len, summaries))
        print("\n".join(f"{name:<{width}}  {text}" for name, text in summaries.items()))
        return 0
    try:
        cfg = config_from_args(args)
        check_choices(cfg)
    except (TrainConfigError, KeyError, TypeError, ValueError) as err:
        fail(parser.prog, err, USAGE)
    if cfg.push_to_hub:
        from .hub_check import check_push_access

        try:
            check_push_access(cfg.push_to_hub)
        except (OSError, ValueError) as err:
            fail(parser.prog, f"--push-to-hub {cfg.push_to_hub}: {err}", USAGE)
    from .trainer import Trainer

    try:
        trainer = Trainer(cfg)
    except TypeError as err:  # a network option the architecture does not take (arch_kwargs)
        fail(parser.prog, f"cannot build the {cfg.arch or cfg.variant} networks with these options: {err}", USAGE)
    except USER_ERRORS as err:
        fail(parser.prog, err, FAILURE)
    try:
        model_dir = trainer.train()
    except USER_ERRORS as err:
        fail(parser.prog, err, FAILURE)
    print(f"model written to {model_dir}")
    return 0


def check_choices(cfg: TrainConfig) -> None:
    """Every option resolved and checked the way the trainer will use it (train/compose.py), and the dataset's name."""
    from gan_hub.data import DATASETS
    from gan_hub.registry import ARCHS

    from .compose import compose

    check_dataset_options(DATASETS.get(cfg.dataset), cfg)
    if cfg.arch:
        ARCHS.get(cfg.arch)
    if cfg.optimizer and cfg.optimizer not in OPTIMIZERS:
        raise TrainConfigError(f"optimizer (--optimizer) must be one of {', '.join(OPTIMIZERS)}, got {cfg.optimizer!r}")
    compose(cfg)


def check_dataset_options(builder, cfg: TrainConfig) -> None:
    """--dataset-options names only keywords that the dataset's builder takes (besides where and which split)."""
    import inspect

    accepted = sorted(set(inspect.signature(builder).parameters) - {"data_dir", "train", "download"})
    unknown = sorted(set(cfg.dataset_options) - set(accepted))
    if unknown:
        raise TrainConfigError(
            f"dataset_options (--dataset-options): {cfg.dataset} takes no option(s) {unknown}; "
            f"it takes {accepted or 'none'}"
        )


if __name__ == "__main__":
    sys.exit(main())
