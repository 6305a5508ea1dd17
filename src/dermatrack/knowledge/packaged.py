"""The knowledge base's bundled data files: where they are and their JSON Schemas.

Package data is read through :mod:`importlib.resources`, so it works from a wheel too.
Every reader of bundled files goes through :func:`data_root` (tests replace it with a
copy of the data to check what a broken file does).
"""

from __future__ import annotations

import json
import typing
from functools import lru_cache
from importlib import resources


def data_root() -> typing.Any:
    """The bundled data folder, ``dermatrack/knowledge/data`` (a Traversable)."""
    return resources.files("dermatrack.knowledge").joinpath("data")


@lru_cache(maxsize=4)
def json_schema(filename: str) -> dict[str, typing.Any]:
    """The JSON Schema ``data/schema/<filename>``, parsed (cached)."""
    return json.loads(data_root().joinpath("schema", filename).read_text(encoding="utf-8"))


def json_path(parts: typing.Iterable[object]) -> str:
    """A JSON path as messages show it: ``protocol.parameters[2].min``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def schema_problems(data: object, schema_file: str, name: str) -> list[str]:
    """One ``"<name>: <path>: <message>"`` line per place where ``data`` breaks the schema."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(json_schema(schema_file))
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path))):
        message = error.message
        if error.validator == "oneOf":  # the predicate is the schema's only oneOf
            message = (
                "not a valid predicate: expected exactly one of condition, medication "
                "(with optional within_days), allergy, fitzpatrick, age_below, age_at_least, "
                "all, any"
            )
        problems.append(f"{name}: {json_path(error.absolute_path)}: {message}")
    return problems
