"""Sign-in and sign-out pages, and the home page (each role's first page)."""

from __future__ import annotations

from urllib.parse import urlparse

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from dermatrack.web.deps import client_address, get_store, session_principal
from dermatrack.web.pages import checked_form, render, set_csrf_cookie
from dermatrack.web.security import SESSION_MAX_AGE_S, new_csrf_token

router = APIRouter(include_in_schema=False)

HOME = {"clinician": "/patients", "reception": "/patients", "researcher": "/cohort",
        "admin": "/admin/audit"}


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (no scheme or host), so sign-in cannot redirect away.

    Browsers read a backslash as a slash (WHATWG URL standard), so ``/\\evil.example``
    would leave the site like ``//evil.example``; such targets, and any with control
    characters, are refused too.
    """
    if not target:
        return None
    parsed = urlparse(target)
    if (parsed.scheme or parsed.netloc or not target.startswith("/")
            or target.startswith("//") or "\\" in target
            or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target)):
        return None
    return target


@router.get("/")
def home(request: Request) -> Response:
    principal = session_principal(request)
    if principal is None:
        return RedirectResponse("/signin", status_code=303)
    return RedirectResponse(HOME[principal.role], status_code=303)


@router.get("/signin")
def signin_page(request: Request, next: str | None = None) -> Response:
    return render(request, "signin.html", next=_safe_next(next) or "", username="",
                  error=None)


@router.post("/signin")
def signin(request: Request, form: FormData = Depends(checked_form)) -> Response:
    from dermatrack.web.api.token import check_credentials

    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "")))
    try:
        user = check_credentials(request, username, password)
    except HTTPException as error:
        return render(request, "signin.html", status_code=error.status_code,
                      next=target or "", username=username, error=error.detail)
    from dermatrack.services import web_sessions

    # A server-side session (audited as an insert of web_session): sign-out ends it.
    token = web_sessions.start_session(get_store(request), user.username,
                                       client_address(request), lifetime_s=SESSION_MAX_AGE_S)
    response = RedirectResponse(target or HOME[user.role], status_code=303)
    secure = request.app.state.secure_cookies
    response.set_cookie(request.app.state.session_cookie,
                        request.app.state.signer.session_cookie(user.username, token),
                        max_age=SESSION_MAX_AGE_S, httponly=True, samesite="lax",
                        secure=secure, path="/")
    set_csrf_cookie(request, response, new_csrf_token())  # a fresh token per session
    return response


@router.post("/signout")
def signout(request: Request,
            _form: FormData = Depends(checked_form)) -> Response:
    from dermatrack.services import web_sessions
    from dermatrack.web.deps import session_cookie_value

    # End the session on the server (audited as an update of web_session), so the cookie
    # is worthless even if a copy of it survives the browser's deletion.
    cookie = request.app.state.signer.read_session(session_cookie_value(request))
    if cookie is not None:
        web_sessions.end_session(get_store(request), cookie.session_id,
                                 actor=f"{cookie.username}@{client_address(request)}")
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(request.app.state.session_cookie, path="/",
                           secure=request.app.state.secure_cookies, httponly=True)
    return response
