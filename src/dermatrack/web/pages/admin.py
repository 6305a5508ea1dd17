"""Admin pages: the audit log with filters, and user accounts."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from dermatrack.errors import InputError
from dermatrack.services.common import Store
from dermatrack.web.deps import Principal, StoreDep, require_page
from dermatrack.web.pages import checked_form, render
from dermatrack.web.paging import PageQuery

router = APIRouter(include_in_schema=False)


def _date(value: str | None, field: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{value!r} is not a date as YYYY-MM-DD", field=field) from None


@router.get("/admin/audit")
def audit_page(request: Request, store: StoreDep, actor: str = "", action: str = "",
               entity: str = "",
               entity_id: str = "", since: str = "", until: str = "",
               page: PageQuery = Depends(),
               principal: Principal = Depends(require_page("audit"))) -> Response:
    """The audit trail, newest first, filtered, a page at a time."""
    from dermatrack.services.audit import ACTIONS, history_page

    filters = {"actor": actor, "action": action, "entity": entity, "entity_id": entity_id,
               "since": since, "until": until}
    error, rows, next_url = None, [], None
    try:
        with store.reading() as session:
            found = history_page(session, actor=actor or None, action=action or None,
                                 entity=entity or None, entity_id=entity_id or None,
                                 since=_date(since, "since"), until=_date(until, "until"),
                                 cursor=page.cursor, limit=page.limit)
        rows = found.items
        if found.next:
            next_url = str(request.url.include_query_params(cursor=found.next))
    except InputError as problem:
        error = problem
    first_url = str(request.url.remove_query_params("cursor")) if page.cursor else None
    return render(request, "audit.html", principal, rows=rows, filters=filters,
                  actions=ACTIONS, error=error, next_url=next_url, first_url=first_url,
                  status_code=422 if error else 200)


@router.get("/admin/users")
def users_page(request: Request, store: StoreDep,
               principal: Principal = Depends(require_page("users"))) -> HTMLResponse:
    return _users_page(request, store, principal)


def _users_page(request: Request, store: Store, principal: Principal, *,
                errors: dict[str, str] | None = None, form: dict[str, str] | None = None,
                status_code: int = 200) -> HTMLResponse:
    """The accounts page, with the errors and values of a refused form if any."""
    from dermatrack.services import accounts
    from dermatrack.store.accounts import ROLES

    return render(request, "users.html", principal, users=accounts.list_users(store),
                  roles=ROLES, errors=errors or {}, form=form or {}, status_code=status_code)


@router.post("/admin/users")
def add_user(request: Request, store: StoreDep,
             principal: Principal = Depends(require_page("users")),
             form: FormData = Depends(checked_form)) -> Response:
    from dermatrack.services import accounts

    values = {key: str(form.get(key) or "") for key in ("username", "role", "password")}
    try:
        accounts.add_user(store, values["username"].strip(), values["role"],
                          values["password"], actor=principal.actor)
    except InputError as error:
        return _users_page(request, store, principal,
                           errors={error.field or "form": error.message}, form=values,
                           status_code=422)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{username}/active")
def toggle_user(request: Request, username: str, store: StoreDep,
                principal: Principal = Depends(require_page("users")),
                form: FormData = Depends(checked_form)) -> Response:
    from dermatrack.services import accounts

    if username == principal.username:
        raise InputError("you cannot deactivate your own account", field="username")
    accounts.set_active(store, username, form.get("active") == "1", actor=principal.actor)
    return RedirectResponse("/admin/users", status_code=303)
