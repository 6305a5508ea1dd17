"""Entry point of the ``dermatrack`` command.

Each command group lives in its own module and is registered on the root app
(:mod:`dermatrack.cli.app`) by :mod:`dermatrack.cli.commands`. ``main`` is the one
place where errors become exit codes: bad input exits 2 with a one-line message on
stderr, never a traceback (set ``DERMATRACK_DEBUG=1`` to see one).
"""

from __future__ import annotations

import os
import sys

import typer
from typer.exceptions import TyperException

from dermatrack.cli._signals import Terminated
from dermatrack.cli.app import app
from dermatrack.errors import DermatrackError, InputError, NotFoundError


def _register() -> None:
    # Imported here so that ``dermatrack --help`` lists every group; each module
    # registers its commands on ``app`` or adds a sub-Typer.
    from dermatrack.cli import commands  # noqa: F401


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; map dermatrack errors to exit codes."""
    _register()
    try:
        # standalone_mode=False lets usage errors reach us, so they are printed on one
        # line like every other bad input instead of Typer's multi-line box.
        result = app(args=argv, standalone_mode=False)
    except TyperException as exc:
        print(f"error: {exc.format_message()}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except (InputError, NotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        if os.environ.get("DERMATRACK_DEBUG"):
            raise
        sys.exit(2)
    except DermatrackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if os.environ.get("DERMATRACK_DEBUG"):
            raise
        sys.exit(1)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Terminated as exc:  # SIGTERM or SIGHUP, where a command asks (cli._signals)
        print(f"terminated ({exc})", file=sys.stderr)
        sys.exit(128 + exc.signum)
    if isinstance(result, int) and result:
        sys.exit(result)


if __name__ == "__main__":  # pragma: no cover
    main()
