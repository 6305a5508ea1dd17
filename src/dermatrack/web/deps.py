"""Dependencies of the routes: the store, the signed-in user and the role checks.

Every permission of the web app is declared once, in :data:`PERMISSIONS`; routes state
the permission they need (``Depends(require("photos"))`` for the API,
``Depends(require_page("photos"))`` for pages) and never test roles themselves.

Roles (issue 7): a *clinician* does all patient work; *reception* sees and edits
demographics and scheduling only (no clinical notes, photos or measurements); a
*researcher* sees de-identified cohort data only (no names, contacts or photos); an *admin*
manages accounts and reads the audit log, and no patient data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from dermatrack.services.common import Store
from dermatrack.web.security import CSRF_HEADER, csrf_matches

if TYPE_CHECKING:
    from dermatrack.services.patients import PatientOut

_ALL = frozenset({"clinician", "reception", "researcher", "admin"})

PERMISSIONS: dict[str, frozenset[str]] = {
    # Register a patient and see or edit names, contacts, age, sex and consents.
    "demographics": frozenset({"clinician", "reception"}),
    # Visits by timepoint and date (scheduling).
    "scheduling": frozenset({"clinician", "reception"}),
    # Concerns, history, screening, plans, sessions, reactions, scores, measurements, notes.
    "clinical": frozenset({"clinician"}),
    "photos": frozenset({"clinician"}),
    # De-identified cohort views and exports.
    "cohort": frozenset({"clinician", "researcher"}),
    # Cohort views that list patients by their pseudonymous ids, linked to their reports.
    "cohort_identified": frozenset({"clinician"}),
    "knowledge": _ALL,
    "audit": frozenset({"admin"}),
    # Write consent templates (their text holds no patient data).
    "consent_templates": frozenset({"clinician", "admin"}),
    "users": frozenset({"admin"}),
}
"""Permission name to the roles that hold it."""

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_bearer = OAuth2PasswordBearer(tokenUrl="/api/token", auto_error=False)


@dataclass(frozen=True)
class Principal:
    """Who makes the request, how they signed in and from where."""

    username: str
    role: str
    client: str
    via: str  # "session" (cookie) or "token" (bearer)

    @property
    def actor(self) -> str:
        """The audit trail's actor: ``user@address``, so each row says who and from where."""
        return f"{self.username}@{self.client}"

    def can(self, permission: str) -> bool:
        return self.role in PERMISSIONS[permission]


class SignInRequired(Exception):
    """A page was asked for without a valid session; the app redirects to sign-in."""


class PageForbidden(Exception):
    """A signed-in user asked for a page their role may not see."""

    def __init__(self, principal: Principal, permission: str):
        super().__init__(permission)
        self.principal = principal
        self.permission = permission


def client_address(request: Request) -> str:
    """The peer's address as the server saw it. ``X-Forwarded-For`` is believed only from
    the proxies named by ``dermatrack serve --forwarded-allow-ips`` (uvicorn rewrites the
    peer address then); by default nobody's, so a client cannot forge its address into
    the sign-in limit or the audit trail."""
    return request.client.host if request.client else "unknown"


def get_store(request: Request) -> Store:
    return request.app.state.store


StoreDep = Annotated[Store, Depends(get_store)]
"""A route parameter typed ``store: StoreDep`` receives the app's :class:`Store`."""


def _principal(request: Request, username: str | None, via: str) -> Principal | None:
    from dermatrack.services import accounts

    if not username:
        return None
    user = accounts.get_user(get_store(request), username)
    if user is None:  # deactivated or removed since the cookie or token was issued
        return None
    return Principal(username=user.username, role=user.role,
                     client=client_address(request), via=via)


def session_cookie_value(request: Request) -> str | None:
    return request.cookies.get(request.app.state.session_cookie)


def csrf_cookie_value(request: Request) -> str | None:
    return request.cookies.get(request.app.state.csrf_cookie)


def session_principal(request: Request) -> Principal | None:
    """The user of a live server-side session (valid signed cookie, not ended, not idle
    too long, not expired), or None."""
    from dermatrack.services import web_sessions

    if hasattr(request.state, "session_principal"):  # looked up once per request
        return request.state.session_principal
    principal = None
    cookie = request.app.state.signer.read_session(session_cookie_value(request))
    if cookie is not None:
        live = web_sessions.active_session(get_store(request), cookie.session_id,
                                           idle_s=request.app.state.session_idle_s)
        if live is not None and live.username == cookie.username:
            principal = _principal(request, live.username, "session")
    request.state.session_principal = principal
    return principal


def api_user(request: Request, token: str | None = Depends(_bearer)) -> Principal:
    """The API caller, from a bearer token or a page session.

    A session-authenticated write must carry the CSRF header (scripts on our pages send
    it); a bearer token needs none, since browsers never attach it on their own.
    """
    if token:
        principal = _principal(request, request.app.state.signer.read_token(token), "token")
    else:
        principal = session_principal(request)
        if principal is not None and request.method in UNSAFE_METHODS and not csrf_matches(
                csrf_cookie_value(request), request.headers.get(CSRF_HEADER)):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")
    if principal is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not signed in",
                            headers={"WWW-Authenticate": "Bearer"})
    return principal


PrincipalCheck = Callable[[Principal], Principal]
"""A dependency made by :func:`require` or :func:`require_page`."""

_DECLARED: dict[object, str] = {}  # each such dependency to the permission it checks


def declared_permission_of(dependency: object) -> str | None:
    """The permission ``dependency`` checks if :func:`require` or :func:`require_page` made
    it, else None (the route table reads it for the access matrix)."""
    try:
        return _DECLARED.get(dependency)
    except TypeError:  # unhashable callables are none of ours
        return None


def _holding(permission: str, user: Callable[..., Principal],
             refuse: Callable[[Principal], Exception]) -> PrincipalCheck:
    """A dependency: the principal found by ``user``, or ``refuse(principal)`` raised when
    they lack ``permission`` (a name of :data:`PERMISSIONS`)."""
    if permission not in PERMISSIONS:
        raise KeyError(permission)

    def dependency(principal: Principal = Depends(user)) -> Principal:
        if not principal.can(permission):
            raise refuse(principal)
        return principal

    _DECLARED[dependency] = permission
    return dependency


def require(permission: str) -> PrincipalCheck:
    """API dependency: the caller, who must hold ``permission`` (else 403)."""
    return _holding(permission, api_user, lambda principal: HTTPException(
        status.HTTP_403_FORBIDDEN, f"the {principal.role} role may not use {permission}"))


def page_user(request: Request) -> Principal:
    principal = session_principal(request)
    if principal is None:
        raise SignInRequired()
    return principal


def require_page(permission: str) -> PrincipalCheck:
    """Page dependency: the signed-in user, who must hold ``permission``."""
    return _holding(permission, page_user,
                    lambda principal: PageForbidden(principal, permission))


def audit_read(store: Store, principal: Principal, entity: str, entity_id: str, *,
               fields: Iterable[str] = (), purpose: str | None = None) -> None:
    """Record in the audit trail that ``principal`` read a row (reads are not flushed
    changes, so the services' automatic trail does not see them); the service
    :func:`dermatrack.services.chart.record_reads` writes it."""
    audit_reads(store, principal, entity, [entity_id], fields=fields, purpose=purpose)


def audit_reads(store: Store, principal: Principal, entity: str, entity_ids: Iterable[str],
                *, fields: Iterable[str] = (), purpose: str | None = None) -> None:
    """Record reads of several rows in one transaction (the chart service's
    :func:`~dermatrack.services.chart.record_reads` as the principal)."""
    from dermatrack.services.chart import record_reads

    record_reads(store, principal.actor, entity, list(entity_ids), fields=fields,
                 purpose=purpose)


def read_patient(store: Store, principal: Principal, patient_id: str, *,
                 fields: Iterable[str], purpose: str, with_identity: bool = False
                 ) -> PatientOut:
    """The patient's record (404 when unknown), with the read of ``fields`` audited by
    the service in the same transaction.

    Pages that show the chart itself read it through
    :func:`dermatrack.services.chart.read_chart` (record, parts and audit row in one
    transaction); this serves the routes that need the record alone.
    """
    from dermatrack.services import patients

    return patients.get_patient_record(store, patient_id, actor=principal.actor,
                                       with_identity=with_identity, read_fields=tuple(fields),
                                       purpose=purpose)
