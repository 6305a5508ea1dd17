"""The command-line reference (docs/cli.md), generated from the commands themselves.

``python -m dermatrack.cli.reference > docs/cli.md`` rewrites it; a test checks that the
file in the repository matches, so the reference cannot drift from the code.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import typer.main

from dermatrack.cli.main import _register, app

HEADER = """# Command-line reference

Generated from the code by `python -m dermatrack.cli.reference > docs/cli.md`; a test fails
when it is out of date. Every command that returns data takes `--json` and then prints only
JSON on stdout; bad input exits with code 2 and a one-line message on stderr.
"""


def _walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    subcommands = getattr(command, "commands", None)
    if subcommands:
        for name in sorted(subcommands):
            yield from _walk(subcommands[name], (*path, name))
    else:
        yield path, command


def _shows_default(param: Any) -> bool:
    default = param.default
    if default is None or isinstance(default, bool) or getattr(param, "is_flag", False):
        return False
    return not (isinstance(default, (tuple, list)) and not default)


def _param_line(param: Any) -> str:
    if type(param).__name__.endswith("Argument"):
        name = f"`{param.name.upper()}`" + (" (one or more)" if param.nargs == -1 else "")
    else:
        name = ", ".join(f"`{opt}`" for opt in param.opts)
    parts = [name]
    help_text = getattr(param, "help", None)
    if help_text:
        parts.append(inspect.cleandoc(help_text).replace("\n", " "))
    if param.required:
        parts.append("(required)")
    elif _shows_default(param):
        parts.append(f"(default: `{param.default}`)")
    return "- " + " ".join(parts)


def render() -> str:
    """The whole reference as Markdown."""
    _register()
    root = typer.main.get_command(app)
    blocks = [HEADER]
    for path, command in _walk(root, ()):
        title = " ".join(("dermatrack", *path))
        summary = inspect.cleandoc(command.help or "").strip()
        lines = [f"## `{title}`", "", summary, ""]
        params = [p for p in command.params if p.name != "help"]
        lines += [_param_line(p) for p in params]
        blocks.append("\n".join(lines).rstrip() + "\n")
    return "\n".join(blocks)


if __name__ == "__main__":  # pragma: no cover
    print(render(), end="")
