"""Product pages: the catalogue with its lots, and the lot recall with its CSV export."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from dermatrack.errors import InputError
from dermatrack.services.common import Store
from dermatrack.web.deps import Principal, StoreDep, require_page
from dermatrack.web.pages import checked_form, render

router = APIRouter(include_in_schema=False)


def _context(store: Store) -> dict[str, Any]:
    import datetime as dt

    from dermatrack.services import products
    from dermatrack.store.clinic_day import PRODUCT_KINDS

    return {"products": products.list_products(store), "kinds": PRODUCT_KINDS,
            "today": dt.date.today(), "errors": {}, "form": {}}


@router.get("/products")
def catalogue(request: Request, store: StoreDep,
              principal: Principal = Depends(require_page("clinical"))) -> Response:
    return render(request, "products.html", principal, **_context(store))


@router.post("/products")
def add(request: Request, store: StoreDep,
        principal: Principal = Depends(require_page("clinical")),
        form: FormData = Depends(checked_form)) -> Response:
    """Add a product (``name``, ``manufacturer``, ``kind``) or, with ``product_id``, a lot."""
    from dermatrack.services import products

    data = {key: str(value).strip() for key, value in form.items()
            if key in ("name", "manufacturer", "kind", "product_id", "lot_number", "expiry",
                       "received_on") and str(value).strip()}
    try:
        if "product_id" in data:
            lot = products.add_lot(store, data, actor=principal.actor)
            message = f"Lot {lot.lot_number} added (expires {lot.expiry})."
        else:
            product = products.add_product(store, data, actor=principal.actor)
            message = f"{product.name} added to the catalogue."
    except InputError as error:
        context = _context(store)
        context.update(errors={error.field or "form": error.message}, form=data)
        status = 409 if error.__class__.__name__ == "ConflictError" else 422
        return render(request, "products.html", principal, status_code=status, **context)
    return render(request, "products.html", principal, status_code=201, message=message,
                  **_context(store))


@router.get("/recalls/lot")
def recall_page(request: Request, store: StoreDep, lot: str | None = None,
                principal: Principal = Depends(require_page("clinical"))) -> Response:
    """Every patient, session and date a lot was used for (the advisory response)."""
    from dermatrack.services import products

    rows, error = [], None
    if lot:
        try:
            rows = products.recall(store, lot, actor=principal.actor)
        except Exception as problem:  # NotFoundError, InputError: shown on the page
            from dermatrack.errors import DermatrackError

            if not isinstance(problem, DermatrackError):
                raise
            error = str(problem)
    return render(request, "lot_recall.html", principal, lot=lot or "", rows=rows,
                  error=error, patients=len({r.patient_id for r in rows}))


@router.get("/recalls/lot.csv")
def recall_csv(lot: str, store: StoreDep,
               principal: Principal = Depends(require_page("clinical"))) -> Response:
    from dermatrack.services import products

    rows = products.recall(store, lot, actor=principal.actor)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in lot)
    return Response(products.recall_csv(rows), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="recall-{safe}.csv"',
                             "Cache-Control": "private, no-store"})
