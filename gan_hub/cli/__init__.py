"""``gan-hub``: one command line for sampling, training, scoring, serving, publishing and listing models.

Each command lives in its own module; ``train``, ``score`` and ``app`` hand their arguments to the
trainer's, the metrics' and the app's own command lines (``python -m train``, ``python -m
gan_hub.metrics``, ``python app.py``), so options and behaviour are the same either way.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from .parsing import CommandParser, parser_factory

TRAIN_EXAMPLES = """examples:
  gan-hub train --list-variants
  gan-hub train --variant dcgan --dataset mnist --output-dir runs/dcgan-mnist
  gan-hub train --config train/presets/dcgan-mnist.yaml --data-dir /path/to/mnist
  accelerate launch -m gan_hub train --variant cgan --output-dir runs/cgan-mnist    # one or many GPUs

Needs the [train] extra: pip install "gan-hub[train]". Re-running a command resumes from its checkpoints."""

SCORE_EXAMPLES = """examples:
  gan-hub score model_zoo/dcgan-mnist --metrics is,fid,kid,modes --num-samples 10000
  gan-hub score gan-hub/cgan-mnist --num-samples 2000 --output scores.json
  gan-hub score runs/dcgan-mnist/model --update-model      # rewrite its metrics.json and model card

The MNIST classifier scorer ships with the package; the Inception-v3 scorer needs the [metrics] extra."""

APP_EXAMPLES = """examples:
  gan-hub app                                          # ./model_zoo's models on http://127.0.0.1:7860
  gan-hub app --models gan-hub/dcgan-mnist,runs/x/model --port 8000

Needs the [app] extra: pip install "gan-hub[app]"."""

COMMANDS = {  # name -> one-line summary (shown by gan-hub --help)
    "sample": "sample a model into a PNG grid or an interpolation GIF",
    "train": "train any variant (the trainer's options; accelerate launch works too)",
    "score": "score a model: classifier IS, FID, KID, classes covered",
    "app": "start the Gradio app on a zoo, folders and Hub models",
    "push": "upload a model folder to a Hugging Face Hub repo",
    "list": "list the zoo's and local models with their scores",
}

EXAMPLES = """examples:
  gan-hub sample gan-hub/dcgan-mnist -n 64 --seed 0 -o grid.png
  gan-hub sample model_zoo/cgan-mnist --interpolate 1 --labels 1,7 -o walk.gif
  gan-hub train --variant wgan-gp --dataset mnist --max-steps 20000
  gan-hub score runs/wgan-gp-mnist/model --metrics is,fid
  gan-hub push runs/wgan-gp-mnist/model my-org/wgan-gp-mnist
  gan-hub list
  gan-hub app

'gan-hub COMMAND --help' explains a command's options."""


def build_parser() -> CommandParser:
    parser = CommandParser(
        prog="gan-hub",
        description="Pretrained GANs of every classic variant: sample, train, score, serve and publish them.",
        epilog=EXAMPLES,
    )
    parser.add_argument("--version", action="version", version=f"gan-hub {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name, summary in COMMANDS.items():
        commands.add_parser(name, help=summary, add_help=False)
    return parser


def _version() -> str:
    from .. import __version__

    return __version__


def _delegate(prog: str, run: Callable[[], object]) -> int:
    """Run a command whose module reports some bad arguments with ``sys.exit("message")`` or exceptions."""
    from .errors import exit_message_as_error

    try:
        result = run()
    except SystemExit as err:
        return exit_message_as_error(prog, err)
    except (FileNotFoundError, NotADirectoryError, ValueError) as err:  # e.g. a MODEL that is neither folder nor repo
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    except ConnectionError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 1
    return result if isinstance(result, int) else 0


def run_train(argv: list[str]) -> int:
    try:
        from train.cli import main
    except ModuleNotFoundError as err:  # accelerate, tensorboard or pyyaml missing
        return _missing_extra("gan-hub train", "train", err)
    return _delegate(
        "gan-hub train", lambda: main(argv, prog="gan-hub train", parser_class=parser_factory(TRAIN_EXAMPLES))
    )


def run_score(argv: list[str]) -> int:
    from ..metrics.__main__ import main

    return _delegate(
        "gan-hub score", lambda: main(argv, prog="gan-hub score", parser_class=parser_factory(SCORE_EXAMPLES))
    )


def run_app(argv: list[str]) -> int:
    from importlib.util import find_spec

    if find_spec("gradio") is None:
        return _missing_extra("gan-hub app", "app", ModuleNotFoundError(name="gradio"))
    from ..app.cli import main

    return _delegate("gan-hub app", lambda: main(argv, prog="gan-hub app", parser_class=parser_factory(APP_EXAMPLES)))


def _missing_extra(prog: str, extra: str, err: ModuleNotFoundError) -> int:
    print(
        f'{prog}: error: {err.name} is not installed; install the extra with: pip install "gan-hub[{extra}]"',
        file=sys.stderr,
    )
    return 1


RUNNERS: dict[str, Callable[[list[str]], int]] = {
    "train": run_train,
    "score": run_score,
    "app": run_app,
}
OWN_MODULES = {"sample": "sample", "push": "push", "list": "listing"}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        name, rest = argv[0], argv[1:]
        if name in RUNNERS:
            return RUNNERS[name](rest)
        from importlib import import_module

        return import_module(f"{__name__}.{OWN_MODULES[name]}").main(rest, prog=f"gan-hub {name}")
    parser = build_parser()
    args = parser.parse_args(argv)  # --help, --version, or an error naming the commands
    if args.command is None:
        parser.error("name a command: " + ", ".join(COMMANDS))
    return 0
