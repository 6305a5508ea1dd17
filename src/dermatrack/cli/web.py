"""``dermatrack serve`` (the clinic web app) and ``dermatrack user`` (its accounts).

``user add`` reads the password from stdin: typed twice without echo at a terminal, or
one line from a pipe (``printf '%s\\n' "$PASSWORD" | dermatrack user add kim --role
clinician``), so that it never appears in the process list or the shell history.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

import typer

from dermatrack.cli._input import actor_name
from dermatrack.cli.output import JSON_OPTION_HELP
from dermatrack.errors import InputError

if TYPE_CHECKING:
    from dermatrack.config import Settings
    from dermatrack.services.common import Store

user_app = typer.Typer(help="Accounts of the web app: add, list, deactivate.",
                       no_args_is_help=True)

DATA_HELP = "Data directory (database and photos); default: $DERMATRACK_DATA_DIR."
ROLE_HELP = ("clinician (all patient work), reception (demographics and scheduling), "
             "researcher (de-identified cohort data), admin (users and the audit log).")


def _settings(data_dir: str | None) -> Settings:
    """The settings of ``--data`` (or ``$DERMATRACK_DATA_DIR``), refusing a path that
    exists but is not a folder (the database would be created inside it)."""
    from dermatrack.config import load_settings

    settings = load_settings(data_dir)
    if settings.data_dir.exists() and not settings.data_dir.is_dir():
        raise InputError(f"{settings.data_dir} is a file, not a data folder", field="--data")
    return settings


def _store(data_dir: str | None) -> Store:
    from dermatrack.services.common import open_store

    return open_store(_settings(data_dir))


def read_new_password(stream: TextIO | None = None) -> str:
    """The new password: asked twice without echo on a terminal, else one line of stdin."""
    import getpass

    stream = stream or sys.stdin
    if stream.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != first:
            raise InputError("the two passwords differ", field="password")
        return first
    line = stream.readline()
    if not line:
        raise InputError("no password on stdin (give it on one line)", field="password")
    return line.rstrip("\r\n")


def register(app: typer.Typer) -> None:
    """Add ``serve`` and the ``user`` group to ``app``."""

    @app.command("serve")
    def serve_command(
        data: str | None = typer.Option(None, "--data", help=DATA_HELP),
        host: str = typer.Option("127.0.0.1", "--host",
                                 help="Address to listen on (0.0.0.0: every interface)."),
        port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
        secure_cookies: bool = typer.Option(
            False, "--secure-cookies", help="Mark cookies Secure and name them __Host-... "
                                            "(when served over HTTPS, e.g. behind a TLS "
                                            "proxy)."),
        forwarded_allow_ips: str | None = typer.Option(
            None, "--forwarded-allow-ips",
            help="Behind a reverse proxy: comma-separated addresses of the proxies whose "
                 "X-Forwarded-For/-Proto headers are believed (e.g. 127.0.0.1). Off by "
                 "default: the client's address is the TCP peer's, so a client cannot forge "
                 "the address the sign-in limit and the audit trail use."),
        workers: int = typer.Option(
            1, "--workers", min=1, max=64,
            help="Worker processes (PostgreSQL only: SQLite allows one writer process)."),
    ) -> None:
        """Run the clinic web app (pages at /, API at /api, schema at /api/openapi.json,
        liveness at /healthz, readiness at /readyz).

        Plain HTTP is for 127.0.0.1. To serve a network, put a TLS reverse proxy in front,
        pass --secure-cookies, and name the proxy with --forwarded-allow-ips so that the
        audit trail and the sign-in limit see the real client address.
        """
        import os

        import uvicorn

        from dermatrack.cli.output import err_console
        from dermatrack.config import DATA_DIR_ENV, DATABASE_URL_ENV
        from dermatrack.imaging.definitions import PHOTO_METHOD_VERSION
        from dermatrack.services import accounts
        from dermatrack.services.outcomes import mdc_files_of_other_versions
        from dermatrack.services.photos import photos_to_reanalyse
        from dermatrack.web.app import SECURE_COOKIES_ENV, create_app

        settings = _settings(data)
        if workers > 1 and settings.database_url.startswith("sqlite"):
            raise InputError("--workers above 1 needs PostgreSQL (DERMATRACK_DATABASE_URL): "
                             "SQLite allows one writer process", field="--workers")
        web_app = create_app(settings, secure_cookies=secure_cookies)
        if not accounts.list_users(web_app.state.store):
            err_console.print("[yellow]No user accounts yet: add one with "
                              f"`dermatrack user add NAME --role admin --data {settings.data_dir}`"
                              "[/]")
        stale = photos_to_reanalyse(web_app.state.store)
        if stale:
            err_console.print(f"[yellow]{len(stale)} photograph(s) were measured by another "
                              f"version of the photo method than this one "
                              f"({PHOTO_METHOD_VERSION}): their changes are not judged "
                              f"until they are measured again: `{DATA_DIR_ENV}="
                              f"{settings.data_dir} dermatrack photo reanalyse --all`[/]")
        for name, words in mdc_files_of_other_versions(settings).items():
            err_console.print(f"[yellow]{name}: its photo MDC95s were {words}: every "
                              "verdict they judge says so until they are measured again "
                              "(`dermatrack validate imaging --save-mdc`, or the clinic's "
                              "`dermatrack repeatability CAPTURES.csv --save`)[/]")
        if host not in ("127.0.0.1", "localhost", "::1") and not secure_cookies:
            err_console.print("[yellow]Serving plain HTTP beyond this machine: put a TLS "
                              "proxy in front and pass --secure-cookies (docs/security.md)[/]")
        err_console.print(f"dermatrack serving {settings.data_dir} at http://{host}:{port}/"
                          + (f" with {workers} workers" if workers > 1 else ""))
        # uvicorn believes X-Forwarded-For from 127.0.0.1 unless told otherwise: here only
        # from the proxies named, and from nobody by default.
        proxies = (forwarded_allow_ips or "").strip()
        proxy_headers, allow_ips = bool(proxies), proxies or None
        if workers == 1:
            uvicorn.run(web_app, host=host, port=port, log_level="info",
                        proxy_headers=proxy_headers, forwarded_allow_ips=allow_ips)
            return
        web_app.state.store.close()
        # Each worker process builds its own app (and connection pool) from the
        # environment; the signing key is the data folder's, shared by all of them.
        os.environ.update({DATA_DIR_ENV: str(settings.data_dir),
                           DATABASE_URL_ENV: settings.database_url,
                           SECURE_COOKIES_ENV: "1" if secure_cookies else ""})
        uvicorn.run("dermatrack.web.app:app_from_environment", factory=True, workers=workers,
                    host=host, port=port, log_level="info", proxy_headers=proxy_headers,
                    forwarded_allow_ips=allow_ips)

    @user_app.command("add")
    def user_add(
        username: str = typer.Argument(..., help="Lower-case login name."),
        role: str = typer.Option(..., "--role", help=ROLE_HELP),
        data: str | None = typer.Option(None, "--data", help=DATA_HELP),
        as_json: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
    ) -> None:
        """Create an account; the password is read from stdin."""
        from dermatrack.cli.output import console, emit_json
        from dermatrack.services import accounts
        from dermatrack.store.accounts import ROLES

        if role not in ROLES:
            raise InputError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}",
                             field="--role")
        accounts.check_username(username)
        password = read_new_password()
        with _store(data) as store:
            user = accounts.add_user(store, username, role, password, actor=actor_name(None))
        if as_json:
            emit_json(user.model_dump(mode="json"))
        else:
            console.print(f"Added {user.username} ({user.role}).")

    @user_app.command("list")
    def user_list(
        data: str | None = typer.Option(None, "--data", help=DATA_HELP),
        as_json: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
    ) -> None:
        """List the accounts."""
        from rich.table import Table

        from dermatrack.cli.output import console, emit_json
        from dermatrack.services import accounts

        with _store(data) as store:
            users = accounts.list_users(store)
        if as_json:
            emit_json([u.model_dump(mode="json") for u in users])
            return
        table = Table(title="Accounts")
        for column in ("Username", "Role", "Active", "Created"):
            table.add_column(column)
        for u in users:
            table.add_row(u.username, u.role, "yes" if u.active else "no",
                          u.created_at.strftime("%Y-%m-%d"))
        console.print(table)

    @user_app.command("deactivate")
    def user_deactivate(
        username: str = typer.Argument(...),
        data: str | None = typer.Option(None, "--data", help=DATA_HELP),
    ) -> None:
        """Stop an account from signing in (its sessions and tokens stop working)."""
        from dermatrack.cli.output import console
        from dermatrack.services import accounts

        with _store(data) as store:
            accounts.set_active(store, username, False, actor=actor_name(None))
        console.print(f"Deactivated {username}.")

    app.add_typer(user_app, name="user")
