"""The content of a demo clinic's database, free of what differs between two builds of one
seed: random record ids (replaced by the id's prefix) and the clock's timestamps.

Two builds of the same cohort by different code paths (one service call per record, or
the bulk loader) must give equal :func:`content`: the same rows in every table and the
same audit rows, value for value.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from sqlalchemy import select

ID = re.compile(r"\b([A-Z]{1,3})-[0-9A-Z]{6,16}\b")
CLOCK_COLUMNS = {"created_at", "at", "content_sha256"}
"""The clock's columns, and digests of texts that carry a record id."""
SKIPPED_TABLES = {"alembic_version", "account", "web_session"}


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return ID.sub(r"\1-*", value)
    if isinstance(value, bytes):
        return value
    if isinstance(value, (dict, list)):
        return _plain(json.dumps(value, sort_keys=True, default=str))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def content(engine: Any) -> dict[str, Counter]:
    """Table name -> multiset of rows (each a sorted tuple of column, value)."""
    from sqlalchemy import MetaData

    meta = MetaData()
    meta.reflect(engine)
    out: dict[str, Counter] = {}
    with engine.connect() as connection:
        for table in meta.sorted_tables:
            if table.name in SKIPPED_TABLES:
                continue
            rows: Counter = Counter()
            for row in connection.execute(select(table)).mappings():
                values = dict(row)
                if table.name == "audit_event":
                    if values["entity"] in SKIPPED_TABLES:
                        continue
                    changes = values["changes"]
                    if isinstance(changes, str):
                        changes = json.loads(changes)
                    values["changes"] = {k: v for k, v in changes.items()
                                         if k not in CLOCK_COLUMNS}
                    values.pop("id")
                rows[tuple(sorted((k, _plain(v)) for k, v in values.items()
                                  if k not in CLOCK_COLUMNS))] += 1
            out[table.name] = rows
    return out
