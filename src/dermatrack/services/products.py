"""Product traceability: the catalogue, stock lots, the lots a session used, and the lot
recall (every patient, session and date for a lot, with the contacts an advisory response
needs).

A lot number is unique per product (the database refuses a duplicate). A session may not
use a lot that had expired on the session's day: the charting service refuses it with the
expiry date, and the database refuses it too.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import exc, select
from sqlalchemy.orm import Session

from dermatrack.errors import ConflictError, InputError, NotFoundError
from dermatrack.services.common import Record, Store, validate_input
from dermatrack.store.clinic_day import PRODUCT_KINDS, Product, ProductLot, SessionProduct
from dermatrack.store.models import PatientIdentity, TreatmentSession

ProductKind = Literal["filler", "neurotoxin", "biostimulator", "skin_booster", "peel",
                      "topical", "consumable", "other"]
assert set(ProductKind.__args__) == set(PRODUCT_KINDS)  # type: ignore[attr-defined]


class ProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    manufacturer: str = Field(min_length=1, max_length=200)
    kind: ProductKind


class LotIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    product_id: str
    lot_number: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
    expiry: dt.date
    received_on: dt.date | None = None


class LotUseIn(BaseModel):
    """A lot used in a session, with the amount (e.g. 1.0 ml, 20 U)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    lot_id: str
    amount: float | None = Field(None, gt=0)
    unit: str | None = Field(None, max_length=20)


class LotOut(Record):
    id: str
    product_id: str
    lot_number: str
    expiry: dt.date
    received_on: dt.date | None


class ProductOut(Record):
    id: str
    name: str
    manufacturer: str
    kind: str
    lots: list[LotOut] = Field(default_factory=list)


class SessionLotOut(BaseModel):
    lot_id: str
    lot_number: str
    product: str
    manufacturer: str
    expiry: dt.date
    amount: float | None
    unit: str | None


class RecallRow(BaseModel):
    """One use of a recalled lot."""

    product: str
    manufacturer: str
    lot_number: str
    expiry: dt.date
    patient_id: str
    name: str | None
    email: str | None
    phone: str | None
    session_id: str
    date: dt.date
    modality: str
    operator: str
    amount: float | None
    unit: str | None


RECALL_COLUMNS = tuple(RecallRow.model_fields)


def _flush(session: Session, message: str, field: str) -> None:
    try:
        session.flush()
    except exc.IntegrityError as error:
        raise ConflictError(f"{message} ({error.orig})", field=field) from None


def add_product(store: Store, data: ProductIn | dict[str, Any], *, actor: str) -> ProductOut:
    """Add a product to the catalogue (name and manufacturer unique together)."""
    product_in = validate_input(ProductIn, data)
    with store.transaction(actor) as session:
        existing = session.scalars(select(Product).where(
            Product.name == product_in.name,
            Product.manufacturer == product_in.manufacturer)).first()
        if existing is not None:
            raise ConflictError(f"{product_in.name} by {product_in.manufacturer} is in the "
                                f"catalogue already ({existing.id})", field="name")
        row = Product(**product_in.model_dump())
        session.add(row)
        _flush(session, "the product is in the catalogue already", "name")
        return ProductOut(id=row.id, name=row.name, manufacturer=row.manufacturer,
                          kind=row.kind)


def add_lot(store: Store, data: LotIn | dict[str, Any], *, actor: str) -> LotOut:
    """Add a stock lot of a product; its number must be new for that product."""
    lot_in = validate_input(LotIn, data)
    if lot_in.received_on is not None and lot_in.received_on > lot_in.expiry:
        raise InputError("received after its expiry", field="received_on")
    with store.transaction(actor) as session:
        product = session.get(Product, lot_in.product_id)
        if product is None:
            raise InputError(f"no product {lot_in.product_id!r}", field="product_id")
        existing = session.scalars(select(ProductLot).where(
            ProductLot.product_id == product.id,
            ProductLot.lot_number == lot_in.lot_number)).first()
        if existing is not None:
            raise ConflictError(f"{product.name} lot {lot_in.lot_number} is recorded already "
                                f"({existing.id})", field="lot_number")
        row = ProductLot(**lot_in.model_dump())
        session.add(row)
        _flush(session, f"{product.name} lot {lot_in.lot_number} is recorded already",
               "lot_number")
        return LotOut.model_validate(row)


def list_products(store: Store) -> list[ProductOut]:
    """The catalogue with each product's lots (newest expiry first)."""
    with store.reading() as session:
        lots: dict[str, list[LotOut]] = {}
        for lot in session.scalars(select(ProductLot).order_by(ProductLot.expiry.desc())):
            lots.setdefault(lot.product_id, []).append(LotOut.model_validate(lot))
        return [ProductOut(id=p.id, name=p.name, manufacturer=p.manufacturer, kind=p.kind,
                           lots=lots.get(p.id, []))
                for p in session.scalars(select(Product).order_by(Product.name))]


def find_lots(store: Store, lot_number: str) -> list[LotOut]:
    """Lots with this number (one per product that has it)."""
    with store.reading() as session:
        return [LotOut.model_validate(lot) for lot in session.scalars(
            select(ProductLot).where(ProductLot.lot_number == lot_number.strip()))]


def usable_lot(session: Session, lot_id: str, on: dt.date, field: str) -> ProductLot:
    """The lot, refused when unknown or expired before ``on`` (a session's day)."""
    lot = session.get(ProductLot, lot_id)
    if lot is None:
        raise InputError(f"no product lot {lot_id!r}", field=field)
    if lot.expiry < on:
        product = session.get(Product, lot.product_id)
        raise InputError(f"{product.name if product else 'product'} lot {lot.lot_number} "
                         f"expired on {lot.expiry.isoformat()}, before the session on "
                         f"{on.isoformat()}; it cannot be used", field=field)
    return lot


def record_uses(session: Session, treatment: TreatmentSession,
                uses: list[LotUseIn]) -> None:
    """Store the lots a session used (inside the charting transaction)."""
    seen = set()
    for i, use in enumerate(uses):
        field = f"lots[{i}].lot_id"
        if use.lot_id in seen:
            raise InputError("the same lot is listed twice", field=field)
        seen.add(use.lot_id)
        usable_lot(session, use.lot_id, treatment.date, field)
        session.add(SessionProduct(session_id=treatment.id, lot_id=use.lot_id,
                                   amount=use.amount, unit=use.unit))
    if uses:
        try:
            session.flush()
        except exc.IntegrityError as error:
            raise ConflictError(f"the database refused a lot: {error.orig}",
                                field="lots") from None


def lots_of_sessions(session: Session, session_ids: list[str]) -> dict[str, list[SessionLotOut]]:
    """The lots each session used."""
    out: dict[str, list[SessionLotOut]] = {sid: [] for sid in session_ids}
    if not session_ids:
        return out
    rows = session.execute(
        select(SessionProduct, ProductLot, Product)
        .join(ProductLot, ProductLot.id == SessionProduct.lot_id)
        .join(Product, Product.id == ProductLot.product_id)
        .where(SessionProduct.session_id.in_(session_ids))
        .order_by(SessionProduct.id))
    for use, lot, product in rows:
        out[use.session_id].append(SessionLotOut(
            lot_id=lot.id, lot_number=lot.lot_number, product=product.name,
            manufacturer=product.manufacturer, expiry=lot.expiry, amount=use.amount,
            unit=use.unit))
    return out


def recall(store: Store, lot_number: str, *, actor: str,
           product_id: str | None = None) -> list[RecallRow]:
    """Every use of a lot number: patient (with contacts), session, date, amount.

    The identity read is recorded in the audit trail (purpose ``lot recall``).

    Raises
    ------
    NotFoundError
        No lot has this number (of this product, when given).
    """
    from dermatrack.services.audit import record_read

    lot_number = (lot_number or "").strip()
    if not lot_number:
        raise InputError("give the lot number", field="lot")
    with store.transaction(actor) as session:
        lot_query = select(ProductLot.id).where(ProductLot.lot_number == lot_number)
        if product_id:
            lot_query = lot_query.where(ProductLot.product_id == product_id)
        lot_ids = list(session.scalars(lot_query))
        if not lot_ids:
            raise NotFoundError(f"no lot {lot_number!r} in the product catalogue")
        query = (select(SessionProduct.amount, SessionProduct.unit, ProductLot.lot_number,
                        ProductLot.expiry, Product.name, Product.manufacturer,
                        TreatmentSession.id, TreatmentSession.date,
                        TreatmentSession.modality, TreatmentSession.operator,
                        TreatmentSession.patient_id, PatientIdentity.name,
                        PatientIdentity.email, PatientIdentity.phone)
                 .join(ProductLot, ProductLot.id == SessionProduct.lot_id)
                 .join(Product, Product.id == ProductLot.product_id)
                 .join(TreatmentSession, TreatmentSession.id == SessionProduct.session_id)
                 .outerjoin(PatientIdentity,
                            PatientIdentity.patient_id == TreatmentSession.patient_id)
                 .where(SessionProduct.lot_id.in_(lot_ids),
                        TreatmentSession.deleted_at.is_(None))
                 .order_by(TreatmentSession.date, TreatmentSession.id))
        rows = [RecallRow(amount=r[0], unit=r[1], lot_number=r[2], expiry=r[3], product=r[4],
                          manufacturer=r[5], session_id=r[6], date=r[7], modality=r[8],
                          operator=r[9], patient_id=r[10], name=r[11], email=r[12],
                          phone=r[13])
                for r in session.execute(query)]
        for patient_id in dict.fromkeys(r.patient_id for r in rows):
            record_read(session, entity="patient_identity", entity_id=patient_id,
                        fields=("name", "email", "phone"), purpose="lot recall")
        return rows


def recall_csv(rows: list[RecallRow]) -> str:
    """The recall as CSV (one line per use; the columns of :class:`RecallRow`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(RECALL_COLUMNS)
    for row in rows:
        values = row.model_dump(mode="json")
        writer.writerow(["" if values[c] is None else _csv_safe(values[c])
                         for c in RECALL_COLUMNS])
    return buffer.getvalue()


def _csv_safe(value: Any) -> Any:
    # A cell starting with = + - @ would be a formula in a spreadsheet (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def get_product(store: Store, product_id: str) -> ProductOut:
    for product in list_products(store):
        if product.id == product_id:
            return product
    raise NotFoundError(f"no product {product_id!r}")
