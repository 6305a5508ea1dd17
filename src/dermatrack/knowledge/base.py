"""The knowledge base facade: bundled records, topics and modalities, and search over them.

:func:`build_knowledge_base` gathers

* the bundled records, ``knowledge/data/records/<code>.txt`` (seed format, one record each,
  keyed by file stem: the name modality data and the vocabulary use);
* the bundled topics, ``knowledge/data/topics/<code>.json``, and the topics imported with
  ``dermatrack kb import-article`` (an imported topic replaces a bundled one of the same
  code); the caller reads those from the data directory and passes them in
  (:mod:`dermatrack.services.knowledge` does), so this module touches no file outside the
  package and reads no environment;
* the modalities, typed by :func:`dermatrack.knowledge.modalities.load_modalities`, and
  their data files as plain mappings for display and search.

The bundled part is read once per process (the web app and the planner call this often).
Package data is read through :mod:`importlib.resources`, so it works from a wheel too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

from dermatrack.errors import InputError, NotFoundError
from dermatrack.knowledge import packaged
from dermatrack.knowledge.article import Topic
from dermatrack.knowledge.record import Record, format_record, parse_record
from dermatrack.knowledge.search import Document, Hit, SearchIndex, data_text

if TYPE_CHECKING:
    from dermatrack.knowledge.vocabulary import Vocabulary

KINDS = ("record", "topic", "modality")
"""The kinds of item the knowledge base holds, in the order ``show`` looks them up."""


def _package_data() -> Any:
    return packaged.data_root()


def _package_files(folder: str, suffix: str) -> list[Any]:
    directory = _package_data().joinpath(folder)
    if not directory.is_dir():
        return []
    return sorted((entry for entry in directory.iterdir() if entry.name.endswith(suffix)),
                  key=lambda entry: entry.name)


def read_topic_file(text: str, *, source: str) -> Topic:
    """A topic from the JSON text of its file.

    Raises
    ------
    InputError
        Naming ``source`` when the text is not JSON or not a topic.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}: not valid JSON ({exc.msg})", line=exc.lineno) from None
    try:
        return Topic.from_json(data)
    except InputError as exc:
        raise InputError(f"{source}: {exc.message}", field=exc.field) from None


@dataclass(frozen=True)
class _Bundled:
    records: dict[str, Record]
    topics: dict[str, Topic]
    modality_data: dict[str, dict[str, Any]]


@lru_cache(maxsize=1)
def _bundled() -> _Bundled:
    """Read every bundled record, topic and modality data file (once per process)."""
    import yaml

    records = {}
    for entry in _package_files("records", ".txt"):
        name = f"records/{entry.name}"
        records[entry.name[: -len(".txt")]] = parse_record(entry.read_bytes(), source=name)
    topics = {}
    for entry in _package_files("topics", ".json"):
        topic = read_topic_file(entry.read_text(encoding="utf-8"), source=f"topics/{entry.name}")
        topics[topic.code] = topic
    modality_data = {}
    for entry in _package_files("modalities", ".yaml"):
        name = f"modalities/{entry.name}"
        try:
            data = yaml.safe_load(entry.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise InputError(f"{name}: not valid YAML ({exc})".replace("\n", " ")) from None
        if not isinstance(data, dict):
            raise InputError(f"{name}: expected a mapping at the top level")
        modality_data[entry.name[: -len(".yaml")]] = data
    return _Bundled(records, topics, modality_data)


def _record_document(code: str, record: Record) -> Document:
    parts = []
    for key, value in record.values.items():
        if key in ("name", "disease") or value is None:
            continue
        parts.append(value if isinstance(value, str) else "\n".join(value))
    for extra in record.extra.values():
        parts.append(extra.value if isinstance(extra.value, str) else "\n".join(extra.value))
    return Document("record", code, record.title or code, "\n".join(parts))


def _topic_document(topic: Topic) -> Document:
    return Document("topic", topic.code, topic.title, topic.text)


def _modality_document(code: str, data: dict[str, Any]) -> Document:
    # Concern codes are indexed as words ("acne_scars" -> "acne scars") so that a
    # modality is found by what it treats.
    concerns = [str(c.get("code", "")).replace("_", " ") for c in data.get("concerns") or []
                if isinstance(c, dict)]
    body = "\n".join([data_text(data)] + concerns)
    return Document("modality", code, str(data.get("name") or code), body)


@lru_cache(maxsize=1)
def _bundled_index() -> SearchIndex:
    bundled = _bundled()
    return SearchIndex(_documents(bundled.records, bundled.topics, bundled.modality_data))


def _documents(records: dict[str, Record], topics: dict[str, Topic],
               modality_data: dict[str, dict[str, Any]]) -> list[Document]:
    return ([_record_document(code, r) for code, r in records.items()]
            + [_topic_document(t) for t in topics.values()]
            + [_modality_document(code, d) for code, d in modality_data.items()])


@dataclass
class KnowledgeBase:
    """Everything dermatrack knows, by kind and code.

    Attributes
    ----------
    records:
        Seed-format records by file stem (``"microneedling"``).
    topics:
        Topic articles by code, bundled and imported.
    modality_data:
        Each modality's data file as a plain mapping, by code.
    vocabulary:
        The vocabulary the typed modalities are resolved against (the bundled one,
        passed by :func:`dermatrack.services.knowledge.load_knowledge_base`).
    imported_topic_codes:
        Codes of the topics that came from the data directory.
    """

    records: dict[str, Record]
    topics: dict[str, Topic]
    modality_data: dict[str, dict[str, Any]]
    vocabulary: Vocabulary
    imported_topic_codes: frozenset[str] = field(default_factory=frozenset)

    @cached_property
    def modalities(self) -> dict[str, Any]:
        """Typed modalities (``dermatrack.knowledge.modalities.Modality``) by code."""
        from dermatrack.knowledge.modalities.loading import load_modalities
        return load_modalities(self.vocabulary)

    def search(self, query: str, limit: int = 20) -> list[Hit]:
        """Ranked full-text search over records, topics and modality data.

        See :meth:`dermatrack.knowledge.search.SearchIndex.search`.
        """
        return self._index.search(query, limit=limit)

    @cached_property
    def _index(self) -> SearchIndex:
        if not self.imported_topic_codes:
            return _bundled_index()
        return SearchIndex(_documents(self.records, self.topics, self.modality_data))

    def _holders(self) -> dict[str, Mapping[str, Any]]:
        return {"record": self.records, "topic": self.topics, "modality": self.modality_data}

    def kinds_of(self, code: str) -> list[str]:
        """The kinds that have an item with this code, in :data:`KINDS` order."""
        holders = self._holders()
        return [kind for kind in KINDS if code in holders[kind]]

    def find(self, code: str, kind: str | None = None) -> tuple[str, Any]:
        """``(kind, item)`` for ``code``; the first kind in :data:`KINDS` order unless
        ``kind`` is given. A modality is returned as its data mapping.

        Raises
        ------
        NotFoundError
            When nothing has this code.
        """
        kinds = self.kinds_of(code)
        if kind is not None:
            if kind not in KINDS:
                raise InputError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}",
                                 field="kind")
            kinds = [k for k in kinds if k == kind]
        if not kinds:
            raise NotFoundError(f"no {kind or 'record, topic or modality'} with code {code!r}")
        found = kinds[0]
        return found, self._holders()[found][code]


def is_bundled_topic(code: str) -> bool:
    """Whether a bundled topic has this code (an import must then say it replaces it)."""
    return code in _bundled().topics


def build_knowledge_base(imported_topics: Mapping[str, Topic] | None = None, *,
                         vocabulary: Vocabulary) -> KnowledgeBase:
    """The knowledge base: bundled data plus ``imported_topics`` (by code), which replace
    bundled topics of the same code; its typed modalities are resolved against
    ``vocabulary``.

    Raises
    ------
    InputError
        Naming the file when a bundled file cannot be read.
    """
    bundled = _bundled()
    imported = dict(imported_topics or {})
    return KnowledgeBase(records=dict(bundled.records),
                         topics={**bundled.topics, **imported},
                         modality_data=dict(bundled.modality_data),
                         vocabulary=vocabulary, imported_topic_codes=frozenset(imported))


@dataclass(frozen=True)
class ValidationReport:
    """What ``dermatrack kb validate`` found: counts of files checked and every problem."""

    records: int
    topics: int
    modalities: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "records": self.records, "topics": self.topics,
                "modalities": self.modalities, "problems": list(self.problems)}


def validate_knowledge(imported_topics: Mapping[str, Topic] | None = None,
                       reading_problems: Sequence[str] = ()) -> ValidationReport:
    """Check every bundled file and count the imported topics; never raises for bad data.

    Records must parse and round-trip (:func:`check_bundled_records`), topics must load
    (:func:`check_bundled_topics`), and modality data, the vocabulary and the
    record/modality cross-references must pass
    :func:`dermatrack.knowledge.modalities.validate_all`.

    Parameters
    ----------
    imported_topics:
        The topics imported into the data directory, as read by the caller.
    reading_problems:
        What went wrong reading them (one message each), reported after the bundled
        records' and topics' problems.
    """
    problems = check_bundled_records() + check_bundled_topics() + list(reading_problems)
    imported = dict(imported_topics or {})
    from dermatrack.knowledge.modalities.validation import validate_all

    for problem in validate_all():
        if problem not in problems:
            problems.append(str(problem))
    return ValidationReport(records=len(_package_files("records", ".txt")),
                            topics=len(_package_files("topics", ".json")) + len(imported),
                            modalities=len(_package_files("modalities", ".yaml")),
                            problems=problems)


def check_bundled_records() -> list[str]:
    """Problems with the bundled record files.

    Each must parse as one record and be exactly what the writer makes of it (canonical
    field order, ``\n`` line ends), with or without one final newline; the written text
    must parse back to the same record.
    """
    problems = []
    for entry in _package_files("records", ".txt"):
        name = f"records/{entry.name}"
        raw = entry.read_bytes()
        try:
            record = parse_record(raw, source=name)
            written = format_record(record)
            reread = parse_record(written, source=name)
        except InputError as exc:
            problems.append(str(exc))
            continue
        if reread != record:
            problems.append(f"{name}: reads back differently after writing")
        elif raw not in (written.encode("utf-8"), written.encode("utf-8") + b"\n"):
            problems.append(f"{name}: not in the writer's layout (expected canonical field "
                            "order, single spaces around '|', '\\n' line ends)")
    return problems


def check_bundled_topics() -> list[str]:
    """Problems with the bundled topic files (each must load, its code equal to its stem)."""
    problems = []
    for entry in _package_files("topics", ".json"):
        name = f"topics/{entry.name}"
        try:
            topic = read_topic_file(entry.read_text(encoding="utf-8"), source=name)
        except InputError as exc:
            problems.append(str(exc))
            continue
        if topic.code != entry.name[: -len(".json")]:
            problems.append(f"{name}: code {topic.code!r} differs from the file name")
    return problems
