"""The clinic web app: server-rendered pages and a JSON REST API on the service layer.

``create_app(settings)`` builds the FastAPI application for one data directory (its
database and file store). Pages live under ``/``, the API under ``/api`` with its OpenAPI
schema at ``/api/openapi.json`` (no bundled Swagger UI: it loads its scripts from a CDN,
which an offline clinic network cannot reach and the content policy forbids). Both call the
services of :mod:`dermatrack.services`; no route opens a database session itself.

Errors become the same responses everywhere: an :class:`~dermatrack.errors.InputError`
is a 422 whose ``detail`` names the field, as FastAPI's own validation errors do; a
:class:`~dermatrack.errors.NotFoundError` is a 404.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException
from starlette.middleware.base import BaseHTTPMiddleware

from dermatrack import __version__
from dermatrack.config import Settings
from dermatrack.errors import InputError, NotFoundError
from dermatrack.web.deps import PageForbidden, SignInRequired
from dermatrack.web.security import Signer, SignInLimiter, load_or_create_secret

WEB_DIR = Path(__file__).resolve().parent

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
"""Largest accepted photo upload (a 24-megapixel JPEG is 8-15 MB)."""

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
    async def dispatch(self, request: Request, call_next):
        # A body declared larger than any accepted upload is refused before it is read:
        # the form parser would otherwise spool all of it to disk first.
        declared = request.headers.get("content-length", "")
        limit = request.app.state.max_upload_bytes + _FORM_OVERHEAD_BYTES
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
    return not request.url.path.startswith("/api/")


def input_error_detail(error: InputError) -> list[dict]:
    """FastAPI's validation-error shape for a service-layer InputError."""
    location = ["body", *(error.field.split(".") if error.field else [])]
    return [{"loc": location, "msg": error.message, "type": "value_error"}]


def modality_name(code: str) -> str:
    """The display name of a modality code (the code itself when unknown)."""
    from dermatrack.knowledge.modalities import load_modalities

    modality = load_modalities().get(code)
    return modality.name if modality is not None else code.replace("_", " ")


def create_app(settings: Settings, *, secret_key: str | None = None,
               secure_cookies: bool = False, store=None) -> FastAPI:
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
    opened = open_store(settings) if owned else store

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
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
    app.state.max_upload_bytes = MAX_UPLOAD_BYTES
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

    @app.exception_handler(InputError)
    async def _input_error(request: Request, error: InputError):
        if _wants_html(request):
            return pages.error_page(request, 422, str(error))
        return JSONResponse({"detail": input_error_detail(error)}, status_code=422)

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, error: NotFoundError):
        if _wants_html(request):
            return pages.error_page(request, 404, str(error))
        return JSONResponse({"detail": str(error)}, status_code=404)

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, _error: SignInRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(PageForbidden)
    async def _forbidden(request: Request, error: PageForbidden):
        return pages.error_page(request, 403, f"The {error.principal.role} role cannot "
                                              f"open this page ({error.permission}).",
                                principal=error.principal)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, error: HTTPException):
        if _wants_html(request) and error.status_code in (403, 404, 413, 415):
            return pages.error_page(request, error.status_code, str(error.detail))
        return JSONResponse({"detail": error.detail}, status_code=error.status_code,
                            headers=getattr(error, "headers", None))

    return app
