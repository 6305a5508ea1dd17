"""Pagination of the API's lists: ``limit`` and ``cursor`` in, the next page's cursor out.

Every list route takes ``?limit=`` (default 50, at most 500) and ``?cursor=`` (the
previous page's) through :class:`PageQuery`, and answers the page's rows as a JSON array,
as before pagination existed, with the next page in two headers (:func:`paged`):
``Link: <...>; rel="next"`` (RFC 8288, the URL to fetch) and ``X-Next-Cursor`` (the cursor
alone). The last page has neither. The order and the cursor's meaning are the services'
(:mod:`dermatrack.services.paging`).
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Query, Request, Response

from dermatrack.services.paging import DEFAULT_LIMIT, MAX_LIMIT, Page

__all__ = ["NEXT_CURSOR_HEADER", "PAGE_HEADERS", "PageQuery", "paged"]

T = TypeVar("T")
NEXT_CURSOR_HEADER = "X-Next-Cursor"

#: ``responses=`` documenting the pagination headers of a list route's 200.
PAGE_HEADERS: dict[int | str, dict[str, Any]] = {200: {"headers": {
    "Link": {"description": 'The next page: `<URL>; rel="next"` (absent on the last page)',
             "schema": {"type": "string"}},
    NEXT_CURSOR_HEADER: {"description": "Cursor of the next page (absent on the last page)",
                         "schema": {"type": "string"}},
}}}


class PageQuery:
    """The ``limit`` and ``cursor`` query parameters of a list route."""

    def __init__(self,
                 limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT,
                                    description=f"Rows per page (at most {MAX_LIMIT})"),
                 cursor: str | None = Query(None, max_length=1000,
                                            description="The previous page's next cursor "
                                                        f"({NEXT_CURSOR_HEADER} header)")):
        self.limit = limit
        self.cursor = cursor


def paged(request: Request, response: Response, page: Page[T]) -> list[T]:
    """The page's rows, with the next page announced in ``response``'s headers."""
    if page.next is not None:
        url = request.url.include_query_params(cursor=page.next)
        response.headers["Link"] = f'<{url}>; rel="next"'
        response.headers[NEXT_CURSOR_HEADER] = page.next
    return page.items
