"""The argument parser every ``gan-hub`` command uses: examples kept as written, one-line errors."""

from __future__ import annotations

import argparse

from ..cli_errors import OneLineParser


class _Examples(argparse.RawDescriptionHelpFormatter):
    pass


class _ExamplesAndDefaults(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    pass


class CommandParser(OneLineParser):
    """A :class:`~gan_hub.cli_errors.OneLineParser` (one-line errors, exit code 2, no abbreviations) for the
    ``gan-hub`` commands.

    The epilog (the examples) is printed as written; a parser asking for ``ArgumentDefaultsHelpFormatter``
    keeps its "(default: ...)" notes.
    """

    def __init__(self, *args, formatter_class=argparse.HelpFormatter, **kwargs):
        with_defaults = issubclass(formatter_class, argparse.ArgumentDefaultsHelpFormatter)
        super().__init__(*args, formatter_class=_ExamplesAndDefaults if with_defaults else _Examples, **kwargs)


def parser_factory(epilog: str):
    """A parser class for a command module's own ``build_parser``: ours, with the command's examples as epilog."""

    def make(*args, **kwargs) -> CommandParser:
        return CommandParser(*args, epilog=epilog, **kwargs)

    return make
