"""Server-rendered pages: one module per kind of page, each with a ``router``.

Shared here: :func:`render` (a template with the signed-in user, the CSRF token and the
navigation), :func:`checked_form` (a POSTed form whose CSRF token matches) and
:func:`error_page`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from dermatrack.web.deps import Principal, csrf_cookie_value, session_principal
from dermatrack.web.security import CSRF_FIELD, CSRF_HEADER, csrf_matches, new_csrf_token

MODULES = ("auth", "registration", "patients", "charting", "photos", "reports", "knowledge",
           "admin",
           # issue 16: the clinic's day
           "appointments", "consent", "products", "treatment_maps", "capture")

NAVIGATION = (
    ("Patients", "/patients", "demographics", None),
    ("New patient", "/patients/new", "clinical", None),
    # Reception's intake (identity and demographics); clinicians use the full one above.
    ("Register patient", "/patients/register", "demographics", "clinical"),
    ("Day", "/appointments", "scheduling", None),
    ("Recalls", "/recalls", "scheduling", None),
    ("Products", "/products", "clinical", None),
    ("Consent forms", "/consent/templates", "consent_templates", None),
    ("Cohort", "/cohort", "cohort", None),
    ("Knowledge base", "/knowledge", "knowledge", None),
    ("Audit log", "/admin/audit", "audit", None),
    ("Users", "/admin/users", "users", None),
)
"""Menu entries: label, URL, the permission needed, and a permission that hides it."""


def include(app: FastAPI) -> None:
    import importlib

    from dermatrack.web import routes

    for name in MODULES:
        router = importlib.import_module(f"dermatrack.web.pages.{name}").router
        app.include_router(router)
        routes.register(app, router)


def csrf_token(request: Request) -> tuple[str, bool]:
    """The CSRF token of this browser, and whether it is new (to be set as a cookie)."""
    existing = csrf_cookie_value(request)
    return (existing, False) if existing else (new_csrf_token(), True)


def set_csrf_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(request.app.state.csrf_cookie, token, httponly=True,
                        samesite="strict",
                        secure=request.app.state.secure_cookies, path="/")


def render(request: Request, template: str, principal: Principal | None = None, *,
           status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` with the user, CSRF token and navigation in its context."""
    token, new = csrf_token(request)
    navigation = [(label, url) for label, url, permission, hidden_by in NAVIGATION
                  if principal is not None and principal.can(permission)
                  and not (hidden_by and principal.can(hidden_by))]
    response = request.app.state.templates.TemplateResponse(
        request, template, {"user": principal, "csrf_token": token, "csrf_field": CSRF_FIELD,
                            "navigation": navigation, "path": request.url.path, **context},
        status_code=status_code)
    if new:
        set_csrf_cookie(request, response, token)
    return response


async def checked_form(request: Request) -> FormData:
    """The POSTed form, after checking its CSRF token against the cookie (403 if not):
    the token comes in the form, or in the ``X-CSRF-Token`` header from the scripts of
    the live previews.

    Page handlers take it as their last dependency (``form: FormData =
    Depends(checked_form)``; ``_form`` when only the check matters), after the role
    check, and are plain functions, so that password hashing and database writes run in
    the thread pool and never hold up the event loop."""
    form = await request.form()
    field = form.get(CSRF_FIELD)  # a file posted under that name is no token
    submitted = (field if isinstance(field, str) and field
                 else request.headers.get(CSRF_HEADER))
    if not csrf_matches(csrf_cookie_value(request), submitted):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            "the form's security token is missing or stale; reload the page "
                            "and submit again")
    return form


def error_page(request: Request, status_code: int, message: str,
               principal: Principal | None = None) -> HTMLResponse:
    if principal is None:
        principal = session_principal(request)
    titles = {403: "Not allowed", 404: "Not found", 409: "Refused", 413: "File too large",
              415: "Unsupported file type", 422: "Cannot do that"}
    return render(request, "error.html", principal, status_code=status_code,
                  title=titles.get(status_code, "Error"), message=message)
