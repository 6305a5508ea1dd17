"""The app's own table of routes: every path and method the pages and the API serve.

Filled by :func:`dermatrack.web.api.include` and :func:`dermatrack.web.pages.include` as
they mount their routers, so that the ``Allow`` header of a 405 lists every method of a
path and the access-matrix test can walk every route with the permission it declares.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from starlette.routing import Route, compile_path

from dermatrack.web.deps import declared_permission_of


@dataclass(frozen=True)
class RouteInfo:
    path: str
    methods: frozenset[str]
    route: object  # the APIRoute as declared in its module's router
    regex: re.Pattern

    @property
    def permission(self) -> str | None:
        """The permission its ``require``/``require_page`` dependency declares, or None."""
        return declared_permission(getattr(self.route, "dependant", None))


def declared_permission(dependant: Dependant | None) -> str | None:
    """The permission the first ``require``/``require_page`` dependency found in
    ``dependant`` or its sub-dependencies declares, or None."""
    if dependant is None:
        return None
    for child in dependant.dependencies:
        permission = declared_permission_of(child.call)
        if permission is None:
            permission = declared_permission(child)
        if permission is not None:
            return permission
    return None


def register(app: FastAPI, router: APIRouter, prefix: str = "") -> None:
    """Add the routes of ``router`` (mounted at ``prefix``) to the app's table."""
    table = getattr(app.state, "route_table", None)
    if table is None:
        table = app.state.route_table = []
    for route in router.routes:
        if not isinstance(route, Route) or not route.methods:
            continue
        path = prefix + route.path
        table.append(RouteInfo(path=path, methods=frozenset(route.methods), route=route,
                               regex=compile_path(path)[0]))


def route_table(app: FastAPI) -> list[RouteInfo]:
    """Every route registered with :func:`register`, in mounting order."""
    return list(getattr(app.state, "route_table", None) or [])


def methods_of(app: FastAPI, path: str) -> set[str]:
    """Every method some route serves on ``path``."""
    return {method for info in route_table(app) if info.regex.match(path)
            for method in info.methods}
