"""Sessions, bearer tokens, CSRF tokens and sign-in rate limiting for the web app.

* Page sessions live on the server (:mod:`dermatrack.services.web_sessions`, table
  ``web_session``): the cookie holds the username and a random session token, signed with
  itsdangerous (HMAC-SHA256 over a key derived from the app's secret) and timestamped; the
  server keeps the token's hash, so signing out ends the session for good, a session
  unused for :data:`SESSION_IDLE_S` ends, and none outlives :data:`SESSION_MAX_AGE_S`.
  The cookie is ``HttpOnly`` (scripts cannot read it), ``SameSite=Lax`` (other sites'
  forms do not carry it) and ``Secure`` when the app is served over HTTPS.
* API bearer tokens (``POST /api/token``, the OAuth2 password flow) are signed and
  timestamped the same way under another salt, and expire after
  :data:`TOKEN_MAX_AGE_S`. They are not stored: deactivating the account (checked on
  every request) or changing the secret revokes them.
* CSRF: every form carries a token equal to a random value in a separate ``SameSite=Strict``
  cookie (the double-submit pattern of the OWASP CSRF cheat sheet); a new value is drawn at
  each sign-in. Scripts send it in the ``X-CSRF-Token`` header. Served over HTTPS
  (``secure_cookies``) both cookies carry the ``__Host-`` prefix, which browsers accept only
  from the host itself over HTTPS, with ``Path=/`` and no ``Domain``: a sibling subdomain
  cannot plant a CSRF value (RFC 6265bis section 4.1.3.2). Over plain HTTP a browser
  refuses ``__Host-`` cookies, so the plain names are used; plain HTTP is meant for
  loopback only (see docs/security.md).
* Failed sign-ins are counted per username and client address; after
  :data:`MAX_FAILED_SIGNINS` failures within :data:`SIGNIN_WINDOW_S` that pair is refused
  until the window has passed (OWASP Authentication cheat sheet, "account lockout"). Each
  attempt is counted *before* the (slow) password check, atomically, and forgiven only
  when the password was right, so parallel guesses cannot slip past the count.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SESSION_COOKIE = "dermatrack_session"
CSRF_COOKIE = "dermatrack_csrf"
HOST_PREFIX = "__Host-"
"""Cookie name prefix used over HTTPS (RFC 6265bis): host-only, Secure, Path=/."""
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SESSION_MAX_AGE_S = 12 * 3600
"""A page session lasts at most one working day."""
SESSION_IDLE_S = 30 * 60
"""A page session unused for this long ends (OWASP Session Management cheat sheet:
15-30 minutes for applications handling sensitive data)."""
TOKEN_MAX_AGE_S = 8 * 3600
"""An API token lasts a shift."""
MAX_FAILED_SIGNINS = 5
SIGNIN_WINDOW_S = 15 * 60
SECRET_FILENAME = "web-secret.key"


def load_or_create_secret(data_dir: Path) -> str:
    """The signing secret kept in the data directory, created (mode 0600) on first use."""
    path = Path(data_dir) / SECRET_FILENAME
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as stream:
        stream.write(secret)
    return secret


@dataclass(frozen=True)
class SessionData:
    username: str
    session_id: str


class Signer:
    """Signs and checks session cookies and API tokens with one secret."""

    def __init__(self, secret: str):
        options = {"digest_method": hashlib.sha256}
        self._sessions = URLSafeTimedSerializer(secret, salt="dermatrack-session",
                                                signer_kwargs=options)
        self._tokens = URLSafeTimedSerializer(secret, salt="dermatrack-api-token",
                                              signer_kwargs=options)

    def session_cookie(self, username: str, session_token: str) -> str:
        return self._sessions.dumps({"u": username, "s": session_token})

    def read_session(self, cookie: str | None) -> SessionData | None:
        """The session in a cookie, or None when missing, forged or expired."""
        data = _loads(self._sessions, cookie, SESSION_MAX_AGE_S)
        if not isinstance(data, dict) or not isinstance(data.get("u"), str):
            return None
        return SessionData(username=data["u"], session_id=str(data.get("s", "")))

    def api_token(self, username: str) -> str:
        return self._tokens.dumps({"u": username})

    def read_token(self, token: str | None) -> str | None:
        """The username a bearer token was issued to, or None when forged or expired."""
        data = _loads(self._tokens, token, TOKEN_MAX_AGE_S)
        if not isinstance(data, dict) or not isinstance(data.get("u"), str):
            return None
        return data["u"]


def _loads(serializer: URLSafeTimedSerializer, value: str | None, max_age: int) -> object:
    if not value:
        return None
    try:
        return serializer.loads(value, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None


def cookie_name(base: str, secure: bool) -> str:
    """The cookie's name: ``__Host-`` prefixed when the cookies are Secure (HTTPS)."""
    return f"{HOST_PREFIX}{base}" if secure else base


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(cookie_value: str | None, submitted: str | None) -> bool:
    """True when the submitted token equals the cookie's (compared in constant time)."""
    if not cookie_value or not submitted:
        return False
    return hmac.compare_digest(cookie_value.encode(), submitted.encode())


class SignInLimiter:
    """Counts failed sign-ins per (username, client address) in a sliding window.

    Held in memory by one server process; several processes would each count apart, so a
    deployment with several workers should put the limit in front (a reverse proxy).
    """

    def __init__(self, max_failures: int = MAX_FAILED_SIGNINS,
                 window_s: float = SIGNIN_WINDOW_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        # Attempts whose password is being checked: they count against the limit until
        # they end, so parallel guesses cannot outrun it (issue 12).
        self._pending: dict[tuple[str, str], int] = defaultdict(int)
        self._lock = threading.Lock()
        self._pruned_at = clock()

    def _prune(self) -> None:
        """Forget pairs whose failures have all left the window (at most once a minute),
        so that guesses under ever new usernames cannot grow the table for ever."""
        now = self._clock()
        if now - self._pruned_at < 60:
            return
        self._pruned_at = now
        for key in [k for k, times in self._failures.items()
                    if not times or now - times[-1] >= self.window_s]:
            del self._failures[key]

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        now = self._clock()
        failures = self._failures[key]
        while failures and now - failures[0] >= self.window_s:
            failures.popleft()
        return failures

    def attempt(self, username: str, client: str) -> int:
        """Admit a sign-in attempt to the password check, or say how long to wait.

        Returns 0 when the attempt may go on: it is then in flight until
        :meth:`failed`, :meth:`succeeded` or :meth:`abandoned` ends it, and counts
        against the limit meanwhile. Otherwise the seconds to wait, nothing counted: the
        time until the oldest failure leaves the window when the failures alone reach
        the limit, else 1 s (the limit is taken by attempts still being checked: correct
        parallel sign-ins of one account wait a moment instead of being locked out). The
        check and the count are one step under the lock, so of any number of parallel
        attempts at most :attr:`max_failures` reach the password check in a window.
        """
        with self._lock:
            self._prune()
            key = (username.lower(), client)
            failures = self._recent(key)
            if len(failures) >= self.max_failures:
                return max(1, int(failures[0] + self.window_s - self._clock()) + 1)
            if len(failures) + self._pending[key] >= self.max_failures:
                return 1
            self._pending[key] += 1
            return 0

    def _end(self, key: tuple[str, str]) -> None:
        """One attempt of ``key`` is no longer in flight (lock held)."""
        left = self._pending.pop(key, 0) - 1
        if left > 0:
            self._pending[key] = left

    def retry_after(self, username: str, client: str) -> int:
        """Seconds until this pair may try again (0: it may now)."""
        with self._lock:
            failures = self._recent((username.lower(), client))
            if len(failures) < self.max_failures:
                return 0
            return max(1, int(failures[0] + self.window_s - self._clock()) + 1)

    def failed(self, username: str, client: str) -> None:
        """The attempt's password was wrong: it counts as a failure in the window."""
        with self._lock:
            key = (username.lower(), client)
            self._end(key)
            self._recent(key).append(self._clock())

    def succeeded(self, username: str, client: str) -> None:
        """The attempt signed in: the pair's failures are forgiven."""
        with self._lock:
            key = (username.lower(), client)
            self._end(key)
            self._failures.pop(key, None)

    def abandoned(self, username: str, client: str) -> None:
        """The attempt ended without a verdict (the database was down): not counted."""
        with self._lock:
            self._end((username.lower(), client))
