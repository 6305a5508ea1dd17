"""Fixtures of the web app tests: an app on the test's own database, one account per role,
and clients signed in as each (bearer tokens for the API, a session for pages)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from web_helpers import PASSWORD, ROLES


@dataclass
class WebApp:
    app: object
    store: object

    def client(self, role: str | None = None, **options):
        """A TestClient; with ``role``, authenticated by a bearer token as that role's user."""
        from fastapi.testclient import TestClient

        client = TestClient(self.app, **options)
        if role is not None:
            token = self.app.state.signer.api_token(f"{role}1")
            client.headers["Authorization"] = f"Bearer {token}"
        return client

    def signed_in(self, role: str):
        """A TestClient signed in through the sign-in page (session and CSRF cookies)."""
        client = self.client()
        client.get("/signin")
        response = client.post("/signin", data={
            "username": f"{role}1", "password": PASSWORD,
            "csrf_token": client.cookies.get("dermatrack_csrf")}, follow_redirects=False)
        assert response.status_code == 303, response.text
        return client


@pytest.fixture
def fast_hashing(monkeypatch):
    """argon2 at its cheapest settings: the tests check the accounts logic, not the
    hashing cost (64 MiB and 3 passes per hash would dominate their run time)."""
    from argon2 import PasswordHasher

    from dermatrack.services import accounts

    monkeypatch.setattr(accounts, "_hasher",
                        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def web(store, fast_hashing):
    """The app on the test's database, with users ``clinician1``, ``reception1``,
    ``researcher1`` and ``admin1`` (password :data:`PASSWORD`)."""
    from dermatrack.services import accounts
    from dermatrack.web.app import create_app

    for role in ROLES:
        accounts.add_user(store, f"{role}1", role, PASSWORD, actor="test-setup")
    app = create_app(store.settings, secret_key="test-secret", store=store)
    return WebApp(app=app, store=store)
