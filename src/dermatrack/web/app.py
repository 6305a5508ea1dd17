"""The clinic web app: server-rendered pages and a JSON REST API on the service layer.

``create_app(settings)`` builds the FastAPI application for one data directory (its
database and file store). Pages live under ``/``, the API under ``/api`` with its OpenAPI
schema at ``/api/openapi.json``, public on purpose: it describes routes and
shapes, never data, every answer of which still needs a token (docs/security.md); no
bundled Swagger UI: it loads its scripts from a CDN,
which an offline clinic network cannot reach and the content policy forbids). Both call the
services of :mod:`dermatrack.services`; no route opens a database session itself.

Errors become the same responses everywhere: an :class:`~dermatrack.errors.InputError`
is a 422 whose ``detail`` names the field, as FastAPI's own validation errors do; a
:class:`~dermatrack.errors.NotFoundError` is a 404, a
:class:`~dermatrack.errors.ConflictError` (a rule about stored records) a 409.
"""

from __future__ import annotations

import contextlib
import html
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel
from sqlalchemy import exc
from starlette.exceptions import HTTPException
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from dermatrack import __version__
from dermatrack.config import Settings
from dermatrack.errors import ConflictError, InputError, NotFoundError
from dermatrack.services.common import Store
from dermatrack.web.deps import PageForbidden, SignInRequired
from dermatrack.web.security import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    SESSION_IDLE_S,
    Signer,
    SignInLimiter,
    cookie_name,
    load_or_create_secret,
)

WEB_DIR = Path(__file__).resolve().parent

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
"""Largest accepted photo upload (a 24-megapixel JPEG is 8-15 MB)."""

ANALYSIS_MAX_PIXELS = 12_000_000
"""Photos uploaded with more pixels are stored and analysed scaled down to this many: one
12-megapixel analysis, libraries and models loaded included, adds about 1.1 GB to the
server (docs/security.md). The header is checked against the 100-megapixel limit before
anything is decoded."""

MAX_CONCURRENT_ANALYSES = 1
"""Photo analyses run one at a time per server process; further uploads wait their turn,
so memory stays that of one analysis however many arrive together."""

_SECURITY_HEADERS = {
    # Only our own scripts, styles and images; no framing (clickjacking).
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
                               "style-src 'self' 'unsafe-inline'; frame-ancestors 'self'; "
                               "form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


_FORM_OVERHEAD_BYTES = 64 * 1024
"""Room for the multipart framing and the small fields sent beside an upload."""


class _SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint
                       ) -> Response:
        # A body declared larger than any accepted upload is refused before it is read:
        # the form parser would otherwise spool all of it to disk first.
        declared = request.headers.get("content-length", "")
        limit = request.app.state.max_upload_bytes + _FORM_OVERHEAD_BYTES
        response: Response
        if declared.isdigit() and int(declared) > limit:
            response = JSONResponse(
                {"detail": f"the request body is larger than the limit of "
                           f"{request.app.state.max_upload_bytes // (1024 * 1024)} MB"},
                status_code=413)
        else:
            response = await call_next(request)
        for name, value in _SECURITY_HEADERS.items():
            if name == "Cache-Control" and request.url.path.startswith("/static/"):
                continue
            response.headers.setdefault(name, value)
        return response


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith(("/api/", "/fhir/", "/healthz", "/readyz"))


def input_error_detail(error: InputError) -> list[dict]:
    """FastAPI's validation-error shape for a service-layer InputError."""
    location = ["body", *(error.field.split(".") if error.field else [])]
    return [{"loc": location, "msg": error.message, "type": "value_error"}]


RETRY_AFTER_S = 5
"""``Retry-After`` of a 503 while the database is unavailable (seconds)."""


class Health(BaseModel):
    status: Literal["alive", "ready"]


class Unavailable(BaseModel):
    detail: str


def _health_router(store: Store) -> APIRouter:
    """``/healthz`` (the process is alive) and ``/readyz`` (its database answers): public,
    for load balancers and orchestrators."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz", response_model=Health)
    def healthz() -> Health:
        """The process is alive (says nothing of the database)."""
        return Health(status="alive")

    @router.get("/readyz", response_model=Health,
                responses={503: {"model": Unavailable,
                                 "description": "The database cannot be reached"}})
    def readyz() -> Health:
        """The app can serve requests: its database answers."""
        with store.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        return Health(status="ready")

    return router


def database_unavailable(request: Request, error: Exception) -> Response:
    """503 with ``Retry-After`` naming the cause, as a page or as JSON."""
    cause = str(getattr(error, "orig", None) or error).strip().splitlines()[0][:200]
    message = (f"the database is unavailable ({cause}); the request was not carried out, "
               f"try again in a few seconds")
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    if _wants_html(request) and request.url.path not in ("/healthz", "/readyz"):
        # A plain page: the usual layout looks up the signed-in user in the database.
        body = (f"<!doctype html><html lang=en><meta charset=utf-8><title>Database "
                f"unavailable</title><h1>Database unavailable</h1><p>{html.escape(message)}"
                f"</p><p><a href=\"{html.escape(request.url.path)}\">Try again</a></p></html>")
        return HTMLResponse(body, status_code=503, headers=headers)
    return JSONResponse({"detail": message}, status_code=503, headers=headers)


def allowed_methods(app: FastAPI, request: Request) -> str:
    """The ``Allow`` header of a 405: the methods of every route on this path (Starlette
    names only the first route's, and GET and POST of one path are two routes)."""
    from dermatrack.web.routes import methods_of

    return ", ".join(sorted(methods_of(app, request.url.path)))


def modality_name(code: str) -> str:
    """The display name of a modality code (the code itself when unknown); a combination
    arm (``"a + b"``) names each of its modalities."""
    from dermatrack.knowledge.modalities import load_modalities
    from dermatrack.knowledge.vocabulary import load_vocabulary

    if " + " in code:
        return " + ".join(modality_name(part) for part in code.split(" + "))
    modality = load_modalities(load_vocabulary()).get(code)
    return modality.name if modality is not None else code.replace("_", " ")


SECURE_COOKIES_ENV = "DERMATRACK_SECURE_COOKIES"


def app_from_environment() -> FastAPI:
    """The app of the data folder and database named by the environment: the factory
    each worker process of ``dermatrack serve --workers N`` calls."""
    import os

    from dermatrack.config import load_settings

    return create_app(load_settings(), secure_cookies=bool(os.environ.get(SECURE_COOKIES_ENV)))


def create_app(settings: Settings, *, secret_key: str | None = None,
               secure_cookies: bool = False, store: Store | None = None) -> FastAPI:
    """The web application for the data directory and database of ``settings``.

    Parameters
    ----------
    settings:
        Where the data lives (:func:`dermatrack.config.load_settings`).
    secret_key:
        Signs cookies and tokens; default: kept in ``<data dir>/web-secret.key``.
    secure_cookies:
        Mark cookies ``Secure`` (serve over HTTPS, e.g. behind a TLS proxy).
    store:
        An open :class:`~dermatrack.services.common.Store` to use instead of opening one
        (tests); the app closes only a store it opened.
    """
    from dermatrack.services.common import open_store
    from dermatrack.web import api, pages

    owned = store is None
    opened = open_store(settings) if store is None else store

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            opened.close()

    app = FastAPI(title="dermatrack", version=__version__, lifespan=lifespan,
                  description="Clinic API of dermatrack: patients, charting, photos, "
                              "outcomes, knowledge base and audit trail.",
                  openapi_url="/api/openapi.json", docs_url=None, redoc_url=None)
    app.state.store = opened
    app.state.settings = settings
    app.state.secret = secret_key or load_or_create_secret(settings.data_dir)
    app.state.signer = Signer(app.state.secret)
    app.state.limiter = SignInLimiter()
    app.state.secure_cookies = secure_cookies
    app.state.session_cookie = cookie_name(SESSION_COOKIE, secure_cookies)
    app.state.csrf_cookie = cookie_name(CSRF_COOKIE, secure_cookies)
    app.state.session_idle_s = SESSION_IDLE_S
    app.state.max_upload_bytes = MAX_UPLOAD_BYTES
    app.state.analysis_max_pixels = ANALYSIS_MAX_PIXELS
    app.state.analysis_slots = threading.BoundedSemaphore(MAX_CONCURRENT_ANALYSES)
    app.state.templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))
    app.state.templates.env.globals["version"] = __version__
    app.state.templates.env.globals["modality_name"] = modality_name
    app.state.templates.env.filters["modality_name"] = modality_name
    from dermatrack.reports import labels

    labels.install(app.state.templates.env)

    app.add_middleware(_SecurityHeaders)
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")
    api.include(app)
    pages.include(app)
    from dermatrack.web import fhir as fhir_api  # read-only FHIR R4 API (issue 17)
    from dermatrack.web import routes

    app.include_router(fhir_api.router)
    routes.register(app, fhir_api.router)
    health = _health_router(opened)
    app.include_router(health)
    routes.register(app, health)

    @app.exception_handler(exc.OperationalError)
    @app.exception_handler(exc.InterfaceError)
    @app.exception_handler(exc.TimeoutError)
    async def _database_unavailable(request: Request, error: Exception) -> Response:
        # The database cannot be reached (server down, restarting, network), is busy, or
        # no pooled connection came free in time: the request can be repeated. The pool's
        # pre-ping replaces dead connections once the server is back.
        return database_unavailable(request, error)

    @app.exception_handler(ConflictError)
    async def _conflict(request: Request, error: ConflictError) -> Response:
        if _wants_html(request):
            return pages.error_page(request, 409, str(error))
        detail = input_error_detail(error)
        detail[0].update(type="conflict", rule=error.rule, existing=error.existing)
        return JSONResponse({"detail": detail}, status_code=409)

    @app.exception_handler(InputError)
    async def _input_error(request: Request, error: InputError) -> Response:
        if _wants_html(request):
            return pages.error_page(request, 422, str(error))
        return JSONResponse({"detail": input_error_detail(error)}, status_code=422)

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, error: NotFoundError) -> Response:
        if _wants_html(request):
            return pages.error_page(request, 404, str(error))
        return JSONResponse({"detail": str(error)}, status_code=404)

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, _error: SignInRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(PageForbidden)
    async def _forbidden(request: Request, error: PageForbidden) -> Response:
        return pages.error_page(request, 403, f"The {error.principal.role} role cannot "
                                              f"open this page ({error.permission}).",
                                principal=error.principal)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, error: HTTPException) -> Response:
        if _wants_html(request) and error.status_code in (403, 404, 413, 415):
            return pages.error_page(request, error.status_code, str(error.detail))
        headers = dict(getattr(error, "headers", None) or {})
        if error.status_code == 405:
            headers["Allow"] = allowed_methods(app, request)
        return JSONResponse({"detail": error.detail}, status_code=error.status_code,
                            headers=headers or None)

    return app
