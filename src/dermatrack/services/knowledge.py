"""The knowledge base of a data directory: the bundled data plus the topics imported into
``<data dir>/knowledge/topics/<code>.json`` with ``dermatrack kb import-article``.

The knowledge core (:mod:`dermatrack.knowledge.base`) reads package data only; this service
reads the settings (``DERMATRACK_DATA_DIR``) and the data directory, and writes imported
topics, for the CLI and the web app alike.
"""

from __future__ import annotations

import json
from pathlib import Path

from dermatrack.config import load_settings
from dermatrack.errors import InputError
from dermatrack.knowledge.article import Topic, check_topic_code
from dermatrack.knowledge.base import (
    KnowledgeBase,
    ValidationReport,
    build_knowledge_base,
    is_bundled_topic,
    read_topic_file,
)
from dermatrack.knowledge.base import validate_knowledge as validate_bundled_knowledge
from dermatrack.knowledge.vocabulary import load_vocabulary
from dermatrack.store.partial_files import replacing


def _data_dir(data_dir: Path | None) -> Path:
    return Path(data_dir) if data_dir is not None else load_settings().data_dir


def imported_topics_dir(data_dir: Path) -> Path:
    """Where ``kb import-article`` stores topics: ``<data dir>/knowledge/topics``."""
    return Path(data_dir) / "knowledge" / "topics"


def read_imported_topics(data_dir: Path) -> dict[str, Topic]:
    """The topics imported into ``data_dir``, by code (none when the folder is absent).

    Raises
    ------
    InputError
        Naming the file when one cannot be read, is not a topic, or its code differs from
        its file name.
    """
    directory = imported_topics_dir(data_dir)
    if not directory.is_dir():
        return {}
    topics = {}
    for path in sorted(directory.glob("*.json")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot be read ({exc})") from None
        topic = read_topic_file(text, source=str(path))
        if topic.code != path.stem:
            raise InputError(f"{path}: code {topic.code!r} differs from the file name",
                             field="code")
        topics[topic.code] = topic
    return topics


def save_topic(topic: Topic, data_dir: Path, *, replace: bool = False) -> Path:
    """Store an imported topic as ``<data dir>/knowledge/topics/<code>.json``.

    The file is written whole or not at all through
    :func:`dermatrack.store.partial_files.replacing`.

    Raises
    ------
    InputError
        When a topic with this code exists (bundled or imported) and ``replace`` is false.
    """
    check_topic_code(topic.code)
    directory = imported_topics_dir(data_dir)
    path = directory / f"{topic.code}.json"
    if not replace and (path.exists() or is_bundled_topic(topic.code)):
        raise InputError(f"topic {topic.code!r} exists; pass --replace to overwrite it",
                         field="code")
    text = json.dumps(topic.to_json(), indent=2, ensure_ascii=False) + "\n"
    with replacing(path) as replacement:
        replacement.partial.write_text(text, encoding="utf-8")
    return path


def load_knowledge_base(data_dir: Path | None = None) -> KnowledgeBase:
    """The knowledge base: bundled data plus the topics imported into ``data_dir``.

    Parameters
    ----------
    data_dir:
        dermatrack's data directory; ``None`` uses
        :func:`dermatrack.config.load_settings`'s (``DERMATRACK_DATA_DIR``).

    Raises
    ------
    InputError
        Naming the file when a bundled or imported file cannot be read.
    """
    return build_knowledge_base(read_imported_topics(_data_dir(data_dir)),
                                vocabulary=load_vocabulary())


def validate_knowledge(data_dir: Path | None = None) -> ValidationReport:
    """Check every bundled file and every topic imported into ``data_dir`` (``None``: the
    settings' data directory); never raises for bad data, see
    :func:`dermatrack.knowledge.base.validate_knowledge`."""
    try:
        imported = read_imported_topics(_data_dir(data_dir))
        reading_problems: list[str] = []
    except InputError as exc:
        imported, reading_problems = {}, [str(exc)]
    return validate_bundled_knowledge(imported, reading_problems)
