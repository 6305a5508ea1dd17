"""``GET /api/audit``: the audit trail, filtered (admin only).

Each row says who (``user@address``), what (action, table, row id and the fields changed
or read) and when. Names and contacts never appear in it: identity changes are recorded
without their values.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query

from dermatrack.services.audit import ACTIONS, AuditEntry
from dermatrack.web.deps import Principal, get_store, require

router = APIRouter(tags=["audit"])


def filtered_history(store, *, actor: str | None = None, action: str | None = None,
                     entity: str | None = None, entity_id: str | None = None,
                     since: dt.date | None = None, until: dt.date | None = None,
                     limit: int = 200) -> list[AuditEntry]:
    """Audit rows matching every filter given, newest first, at most ``limit``.

    ``actor`` matches the username (``alice`` finds ``alice@10.0.0.5``) or the whole
    actor string.
    """
    from dermatrack.errors import InputError
    from dermatrack.services.audit import history

    if action is not None and action not in ACTIONS:
        raise InputError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}",
                         field="action")
    with store.reading() as session:
        rows = history(session, entity=entity or None, entity_id=entity_id or None)
    selected = []
    for row in reversed(rows):
        if actor and row.actor != actor and row.actor.split("@", 1)[0] != actor:
            continue
        if action and row.action != action:
            continue
        day = row.at.date()
        if (since and day < since) or (until and day > until):
            continue
        selected.append(row)
        if len(selected) >= limit:
            break
    return selected


@router.get("/audit", response_model=list[AuditEntry])
def audit_log(actor: str | None = Query(None, description="Username or user@address"),
              action: str | None = Query(None, description=", ".join(ACTIONS)),
              entity: str | None = Query(None, description="Table, e.g. patient_identity"),
              entity_id: str | None = Query(None),
              since: dt.date | None = Query(None), until: dt.date | None = Query(None),
              limit: int = Query(200, ge=1, le=5000),
              store=Depends(get_store), _: Principal = Depends(require("audit"))):
    """The audit trail, newest first."""
    return filtered_history(store, actor=actor, action=action, entity=entity,
                            entity_id=entity_id, since=since, until=until, limit=limit)
