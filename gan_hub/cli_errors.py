"""How the command-line tools end on a cause the user can fix: one line on stderr, no traceback.

``prog: error: MESSAGE`` and exit status 2 for a usage error (a bad option, found before any work),
1 for a failure at run time (a model, weights file or dataset that cannot be used). Anything else is
a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, NoReturn, TypeVar

from .registry import UnknownNameError

USAGE, FAILURE = 2, 1
# OSError covers missing files, permissions and ConnectionError; ValueError covers ConfigError,
# CheckpointError and the API's ArgumentError; UnknownNameError is a name that is not registered.
USER_ERRORS = (OSError, ValueError, UnknownNameError, EOFError)

T = TypeVar("T")


def fail(prog: str, message: object, status: int = FAILURE) -> NoReturn:
    text = " ".join(str(message).split())  # one line, whatever the message holds
    print(f"{prog}: error: {text}", file=sys.stderr)
    raise SystemExit(status)


def reporting_errors(prog: str, work: Callable[[], T], status: int = FAILURE) -> T:
    """``work()``; a user-fixable exception ends the program with one line and ``status``."""
    try:
        return work()
    except USER_ERRORS as err:
        fail(prog, err, status)


class OneLineParser(argparse.ArgumentParser):
    """argparse without abbreviations, whose usage errors are the one line of :func:`fail` (exit status 2)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, allow_abbrev=False, **kwargs)

    def error(self, message: str) -> NoReturn:
        fail(self.prog, f"{message} (see --help)", USAGE)
