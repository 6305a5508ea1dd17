"""The root Typer application of the ``dermatrack`` command, without its groups.

:mod:`dermatrack.cli.commands` registers every command group on :data:`app`;
:mod:`dermatrack.cli.main` runs it and turns errors into exit codes. Kept apart from both
so that neither has to import the other's importer (no import cycle).
"""

from __future__ import annotations

import typer

from dermatrack import __version__

app = typer.Typer(
    name="dermatrack",
    help="dermatrack: knowledge, screening, planning, charting and objective skin metrics "
    "for dermal rejuvenation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """dermatrack command line."""
