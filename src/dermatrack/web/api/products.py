"""The product catalogue, stock lots and the lot recall (clinicians)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status
from fastapi.responses import Response

from dermatrack.services.products import LotOut, ProductIn, ProductOut, RecallRow
from dermatrack.web.deps import Principal, StoreDep, require

router = APIRouter(tags=["products"])


@router.get("/products", response_model=list[ProductOut])
def list_products(store: StoreDep,
                  _principal: Principal = Depends(require("clinical"))) -> list[ProductOut]:
    from dermatrack.services import products

    return products.list_products(store)


@router.post("/products", response_model=ProductOut, status_code=status.HTTP_201_CREATED)
def add_product(body: ProductIn, store: StoreDep,
                principal: Principal = Depends(require("clinical"))) -> ProductOut:
    from dermatrack.services import products

    return products.add_product(store, body, actor=principal.actor)


@router.post("/products/{product_id}/lots", response_model=LotOut,
             status_code=status.HTTP_201_CREATED)
def add_lot(product_id: str, body: dict, store: StoreDep,
            principal: Principal = Depends(require("clinical"))) -> LotOut:
    """Add a lot (``lot_number``, ``expiry``, optional ``received_on``); 409 when the
    product has that lot number already."""
    from dermatrack.services import products

    return products.add_lot(store, {**body, "product_id": product_id}, actor=principal.actor)


@router.get("/recalls/lot/{lot_number}", response_model=list[RecallRow],
            responses={200: {"content": {"text/csv": {}}}})
def recall_lot(lot_number: str, store: StoreDep, product_id: str | None = None,
               format: str = "json",
               principal: Principal = Depends(require("clinical"))
               ) -> list[RecallRow] | Response:
    """Every patient, session and date for a lot, with contacts (``format=csv`` for the
    advisory response's spreadsheet)."""
    from dermatrack.services import products

    rows = products.recall(store, lot_number, product_id=product_id, actor=principal.actor)
    if format == "csv":
        return Response(products.recall_csv(rows), media_type="text/csv",
                        headers={"Content-Disposition":
                                 f'attachment; filename="recall-{lot_number}.csv"',
                                 "Cache-Control": "private, no-store"})
    return rows



