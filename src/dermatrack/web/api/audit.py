"""``GET /api/audit``: the audit trail, filtered (admin only).

Each row says who (``user@address``), what (action, table, row id and the fields changed
or read) and when. Names and contacts never appear in it: identity changes are recorded
without their values.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from dermatrack.services.audit import ACTIONS, AuditEntry
from dermatrack.web.deps import Principal, get_store, require
from dermatrack.web.params import IsoDate

router = APIRouter(tags=["audit"])


@router.get("/audit", response_model=list[AuditEntry])
def audit_log(actor: str | None = Query(None, description="Username or user@address"),
              action: str | None = Query(None, description=", ".join(ACTIONS)),
              entity: str | None = Query(None, description="Table, e.g. patient_identity"),
              entity_id: str | None = Query(None),
              since: IsoDate | None = Query(None), until: IsoDate | None = Query(None),
              limit: int = Query(200, ge=1, le=5000),
              store=Depends(get_store), _: Principal = Depends(require("audit"))):
    """The audit trail, newest first."""
    from dermatrack.services.audit import history

    with store.reading() as session:
        return history(session, actor=actor or None, action=action or None,
                       entity=entity or None, entity_id=entity_id or None, since=since,
                       until=until, newest_first=True, limit=limit)
