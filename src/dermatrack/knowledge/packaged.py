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


_Result = typing.TypeVar("_Result")


class PerVocabulary(typing.Generic[_Result]):
    """``build(vocabulary)``, cached per vocabulary object (a few at a time).

    What is built from the bundled data and a vocabulary (the typed modalities, the
    contraindication matrix) is built once per vocabulary the caller passes. A
    :class:`~dermatrack.knowledge.vocabulary.Vocabulary` holds mappings and cannot be
    hashed, so the cache is keyed by the object itself: each entry keeps its vocabulary,
    so its ``id`` is not reused while the entry lives.
    """

    SIZE = 4

    def __init__(self, build: typing.Callable[[typing.Any], _Result]) -> None:
        self._build = build
        self._cache: dict[int, tuple[object, _Result]] = {}
        self.__doc__ = build.__doc__
        self.__name__ = build.__name__
        self.__wrapped__ = build

    def __call__(self, vocabulary: typing.Any) -> _Result:
        found = self._cache.get(id(vocabulary))
        if found is not None and found[0] is vocabulary:
            return found[1]
        result = self._build(vocabulary)
        if len(self._cache) >= self.SIZE:
            self._cache.clear()
        self._cache[id(vocabulary)] = (vocabulary, result)
        return result

    def cache_clear(self) -> None:
        """Forget every built result (tests that change the bundled data call this)."""
        self._cache.clear()
