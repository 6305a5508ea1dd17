"""Accounts (admin only): list, create, activate and deactivate."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel, Field

from dermatrack.services import accounts
from dermatrack.services.accounts import UserOut
from dermatrack.web.api import CONFLICT
from dermatrack.web.deps import Principal, StoreDep, require
from dermatrack.web.paging import PAGE_HEADERS, PageQuery, paged

router = APIRouter(tags=["users"])


class UserIn(BaseModel):
    username: str = Field(examples=["nurse.kim"])
    role: Literal["clinician", "reception", "researcher", "admin"]
    password: str = Field(min_length=accounts.MIN_PASSWORD_LENGTH,
                          max_length=accounts.MAX_PASSWORD_LENGTH)


class ActiveIn(BaseModel):
    active: bool


@router.get("/users", response_model=list[UserOut], responses=PAGE_HEADERS)
def list_users(request: Request, response: Response, store: StoreDep, page: PageQuery = Depends(),
               _: Principal = Depends(require("users"))) -> list[UserOut]:
    """Accounts by username, a page at a time."""
    return paged(request, response, accounts.page_users(store, cursor=page.cursor,
                                                        limit=page.limit))


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED,
             responses=CONFLICT)
def add_user(body: UserIn, store: StoreDep,
             principal: Principal = Depends(require("users"))) -> UserOut:
    return accounts.add_user(store, body.username, body.role, body.password,
                             actor=principal.actor)


@router.put("/users/{username}/active", response_model=UserOut)
def set_active(username: str, body: ActiveIn, store: StoreDep,
               principal: Principal = Depends(require("users"))) -> UserOut:
    return accounts.set_active(store, username, body.active, actor=principal.actor)
