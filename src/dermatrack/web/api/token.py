"""``POST /api/token``: a bearer token for the OAuth2 password flow.

The form is the one FastAPI documents (``OAuth2PasswordRequestForm``: ``username``,
``password``); the answer is ``{"access_token", "token_type": "bearer", "expires_in"}``.
Tokens are signed and expire (see :mod:`dermatrack.web.security`); failed attempts count
towards the same per-user-and-address limit as the sign-in page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from dermatrack.web.deps import client_address, get_store
from dermatrack.web.security import TOKEN_MAX_AGE_S

if TYPE_CHECKING:
    from dermatrack.services.accounts import UserOut

router = APIRouter(tags=["authentication"])


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = TOKEN_MAX_AGE_S


def check_credentials(request: Request, username: str, password: str) -> UserOut:
    """The account for these credentials, or an HTTP error: 429 while the username and
    address are locked out (or, for a second, while parallel attempts of the pair fill
    the limit), 401 for wrong credentials (counted as a failure)."""
    from dermatrack.services import accounts

    limiter = request.app.state.limiter
    client = client_address(request)
    # Counted before the slow password check: parallel guesses cannot outrun the count.
    wait = limiter.attempt(username, client)
    if wait:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            f"too many failed sign-ins; try again in {wait} s",
                            headers={"Retry-After": str(wait)})
    try:
        store = get_store(request)
        user = accounts.authenticate(store, username, password)
    except BaseException:
        limiter.abandoned(username, client)
        raise
    if user is None:
        from dermatrack.services.audit import record_signin_failure

        limiter.failed(username, client)
        with store.transaction(f"anonymous@{client}") as session:
            record_signin_failure(session, username=username)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password",
                            headers={"WWW-Authenticate": "Bearer"})
    limiter.succeeded(username, client)
    return user


@router.post("/token", response_model=TokenOut, responses={
    401: {"description": "Wrong username or password"},
    429: {"description": "Too many failed sign-ins for this username and address; "
                         "Retry-After gives the seconds to wait"}})
def issue_token(request: Request,
                form: OAuth2PasswordRequestForm = Depends()) -> TokenOut:
    """Exchange a username and password for a bearer token."""
    user = check_credentials(request, form.username, form.password)
    return TokenOut(access_token=request.app.state.signer.api_token(user.username))
