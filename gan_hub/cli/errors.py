"""What a command does with the errors a user's input causes: one line, never a traceback."""

from __future__ import annotations

import contextlib
import sys

from .parsing import CommandParser


@contextlib.contextmanager
def user_errors(parser: CommandParser):
    """A bad MODEL, option value or file becomes ``PROG: error: ...`` with exit code 2; an unreachable Hub, exit code
    1."""
    try:
        yield
    except (FileNotFoundError, NotADirectoryError, ValueError) as err:  # ConfigError, CheckpointError included
        parser.error(str(err))
    except ConnectionError as err:
        parser.exit(1, f"{parser.prog}: error: {err}\n")


def exit_message_as_error(prog: str, err: SystemExit) -> int:
    """A delegated command's ``sys.exit("message")`` as our one-line error, exit code 2; other exits unchanged."""
    if isinstance(err.code, str):
        print(f"{prog}: error: {err.code}", file=sys.stderr)
        return 2
    raise err
