"""``GET /api/audit``: the audit trail, filtered (admin only).

Each row says who (``user@address``), what (action, table, row id and the fields changed
or read) and when. Names and contacts never appear in it: identity changes are recorded
without their values.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response

from dermatrack.services.audit import ACTIONS, AuditEntry
from dermatrack.web.deps import Principal, StoreDep, require
from dermatrack.web.paging import PAGE_HEADERS, PageQuery, paged
from dermatrack.web.params import IsoDate

router = APIRouter(tags=["audit"])


@router.get("/audit", response_model=list[AuditEntry], responses=PAGE_HEADERS)
def audit_log(request: Request, response: Response,
              store: StoreDep, actor: str | None = Query(None, max_length=200,
                                        description="Username or user@address"),
              action: str | None = Query(None, description=", ".join(ACTIONS)),
              entity: str | None = Query(None, max_length=40,
                                         description="Table, e.g. patient_identity"),
              entity_id: str | None = Query(None, max_length=40,
                                            description="A row id; list pages that showed "
                                                        "it are included"),
              since: IsoDate | None = Query(None), until: IsoDate | None = Query(None),
              page: PageQuery = Depends(),
              _: Principal = Depends(require("audit"))) -> list[AuditEntry]:
    """The audit trail, newest first, a page at a time."""
    from dermatrack.services.audit import history_page

    with store.reading() as session:
        return paged(request, response, history_page(
            session, actor=actor or None, action=action or None, entity=entity or None,
            entity_id=entity_id or None, since=since, until=until, cursor=page.cursor,
            limit=page.limit))
