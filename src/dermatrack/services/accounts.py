"""Accounts of the web app: adding, listing, deactivating users and checking passwords.

Passwords are hashed with argon2id (RFC 9106) through argon2-cffi's ``PasswordHasher``,
whose defaults follow the RFC's second recommended option (64 MiB memory, 3 passes);
a hash made with older parameters is re-hashed on the next successful sign-in
(``check_needs_rehash``). Account changes are audited like every other write, with the
password hash redacted (``User.__audit_redact__``).
"""

from __future__ import annotations

import datetime as dt
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from dermatrack.errors import ConflictError, InputError, NotFoundError
from dermatrack.services.common import Store, naming_existing
from dermatrack.services.paging import Page, keyset_page
from dermatrack.store.accounts import ROLES, User

USERNAME_PATTERN = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
"""Usernames: lower-case letter first, then letters, digits, ``. _ -``; 2-64 characters."""
MIN_PASSWORD_LENGTH = 10
"""Shortest accepted password (NIST SP 800-63B section 5.1.1.2 asks for at least 8)."""
MAX_PASSWORD_LENGTH = 1024
"""Longest accepted password: bounds the hashing work an attacker can ask for."""

USERNAME_RULE = "uq_account_username"

_hasher = PasswordHasher()
# A hash verified when the username does not exist, so that a wrong username costs as
# much time as a wrong password and response times do not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("dermatrack-no-such-account")


class UserOut(BaseModel):
    """An account, without its password hash."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    username: str
    role: str
    active: bool
    created_at: dt.datetime


def check_username(username: str) -> str:
    """The username, or :class:`InputError` naming ``username`` when it is malformed."""
    if not isinstance(username, str) or not USERNAME_PATTERN.match(username):
        raise InputError("a username is 2-64 characters: a lower-case letter, then "
                         "lower-case letters, digits, '.', '_' or '-'", field="username")
    return username


def check_password(password: str) -> str:
    """The password, or :class:`InputError` naming ``password`` when too short or long."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters",
                         field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InputError(f"a password has at most {MAX_PASSWORD_LENGTH} characters",
                         field="password")
    return password


def add_user(store: Store, username: str, role: str, password: str, *,
             actor: str) -> UserOut:
    """Create an account.

    Raises
    ------
    InputError
        For a malformed or taken username (field ``username``), an unknown role
        (``role``) or an unacceptable password (``password``); nothing is stored then.
    """
    check_username(username)
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}",
                         field="role")
    password_hash = _hasher.hash(check_password(password))
    def refuse_taken(session: Session) -> None:
        taken = session.scalars(select(User.id).where(User.username == username)).first()
        if taken is not None:
            raise ConflictError(f"the username {username!r} is taken", rule=USERNAME_RULE,
                                field="username", existing=taken)

    with naming_existing(store, USERNAME_RULE, refuse_taken), \
            store.transaction(actor) as session:
        refuse_taken(session)
        user = User(username=username, role=role, password_hash=password_hash, active=True)
        session.add(user)
        session.flush()
        return UserOut.model_validate(user)


def page_users(store: Store, *, cursor: str | None = None,
               limit: int | None = None) -> Page[UserOut]:
    """A page of accounts by username (:func:`list_users` reads them all)."""
    with store.reading() as session:
        page = keyset_page(session, select(User), (User.username,), cursor=cursor,
                           limit=limit)
        return Page(items=[UserOut.model_validate(u) for u in page.items], next=page.next)


def list_users(store: Store) -> list[UserOut]:
    """Every account, by username."""
    with store.reading() as session:
        return [UserOut.model_validate(u)
                for u in session.scalars(select(User).order_by(User.username))]


def get_user(store: Store, username: str) -> UserOut | None:
    """The active account with this username, or None."""
    with store.reading() as session:
        user = session.scalars(select(User).where(User.username == username,
                                                  User.active.is_(True))).first()
        return None if user is None else UserOut.model_validate(user)


def authenticate(store: Store, username: str, password: str) -> UserOut | None:
    """The active account whose password this is, or None (unknown user, wrong password,
    deactivated account: the caller cannot tell which, on purpose)."""
    if not isinstance(password, str) or len(password) > MAX_PASSWORD_LENGTH:
        return None
    with store.reading() as session:
        user = session.scalars(select(User).where(User.username == username)).first()
        stored_hash = user.password_hash if user is not None else _DUMMY_HASH
    try:
        _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(stored_hash):
        with store.transaction(user.username) as session:
            row = session.get(User, user.id)
            if row is not None:  # else removed since: nothing to upgrade
                row.password_hash = _hasher.hash(password)
    return UserOut.model_validate(user)


def set_active(store: Store, username: str, active: bool, *, actor: str) -> UserOut:
    """Activate or deactivate an account (accounts are never deleted)."""
    with store.transaction(actor) as session:
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None:
            raise NotFoundError(f"no user {username!r}")
        user.active = active
        session.flush()
        return UserOut.model_validate(user)
