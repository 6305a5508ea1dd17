"""Treatment maps: where on the face a session's zones, passes, injection points and test
spots were placed, with the product lot and amount (diagram and coordinates in
:mod:`dermatrack.clinic.face_diagram`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from dermatrack.errors import InputError
from dermatrack.services.common import Record, Store, get_patient, get_row, validate_input
from dermatrack.store.clinic_day import Product, ProductLot, TreatmentMark
from dermatrack.store.models import TreatmentSession


class MarkIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    view: Literal["front", "left", "right"]
    kind: Literal["zone", "pass", "injection", "test_spot"]
    points: list[list[float]] = Field(min_length=1, max_length=64,
                                      description="[x, y] pairs from 0 to 1 (relative)")
    lot_id: str | None = None
    amount: float | None = Field(None, gt=0)
    unit: str | None = Field(None, max_length=20)
    notes: str | None = Field(None, max_length=500)


class MapIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: str
    marks: list[MarkIn] = Field(min_length=1, max_length=200)


class MarkOut(Record):
    id: str
    session_id: str
    patient_id: str
    view: str
    kind: str
    points: list[list[float]]
    lot_id: str | None
    amount: float | None
    unit: str | None
    notes: str | None
    lot_number: str | None = None
    product: str | None = None

    def label(self) -> str:
        """A one-line description (the mark's tooltip on the diagram)."""
        from dermatrack.clinic.face_diagram import KIND_LABELS

        parts = [KIND_LABELS.get(self.kind, self.kind)]
        if self.product:
            parts.append(f"{self.product} lot {self.lot_number}")
        if self.amount is not None:
            parts.append(f"{self.amount:g} {self.unit or ''}".strip())
        if self.notes:
            parts.append(self.notes)
        return " · ".join(parts)


def add_marks(store: Store, data: MapIn | dict[str, Any], *, actor: str) -> list[MarkOut]:
    """Add marks to a session's map (all or none). A lot given must exist and not have
    expired before the session's day."""
    from dermatrack.clinic.face_diagram import check_points
    from dermatrack.services.products import usable_lot

    map_in = validate_input(MapIn, data)
    with store.transaction(actor) as session:
        treatment = get_row(session, TreatmentSession, map_in.session_id, field="session_id")
        rows = []
        for i, mark in enumerate(map_in.marks):
            try:
                points = check_points(mark.kind, mark.points)
            except ValueError as error:
                raise InputError(str(error), field=f"marks[{i}].points") from None
            if mark.lot_id:
                usable_lot(session, mark.lot_id, treatment.date, f"marks[{i}].lot_id")
            if mark.amount is not None and mark.unit is None:
                raise InputError("give the unit of the amount (ml, U, mg, ...)",
                                 field=f"marks[{i}].unit")
            rows.append(TreatmentMark(session_id=treatment.id, patient_id=treatment.patient_id,
                                      view=mark.view, kind=mark.kind, points=points,
                                      lot_id=mark.lot_id or None, amount=mark.amount,
                                      unit=mark.unit, notes=mark.notes))
        session.add_all(rows)
        session.flush()
        ids = [r.id for r in rows]
    return [m for m in list_marks(store, treatment.patient_id) if m.id in ids]


def list_marks(store: Store, patient_id: str, *, session_id: str | None = None
               ) -> list[MarkOut]:
    """A patient's marks (of one session, when given), by session then entry order."""
    with store.reading() as session:
        get_patient(session, patient_id)
        return marks_of(session, patient_id, session_id=session_id)


def marks_of(session: Any, patient_id: str, *, session_id: str | None = None
             ) -> list[MarkOut]:
    """:func:`list_marks`, read in the caller's transaction."""
    query = (select(TreatmentMark, ProductLot.lot_number, Product.name)
             .outerjoin(ProductLot, ProductLot.id == TreatmentMark.lot_id)
             .outerjoin(Product, Product.id == ProductLot.product_id)
             .join(TreatmentSession, TreatmentSession.id == TreatmentMark.session_id)
             .where(TreatmentMark.patient_id == patient_id)
             .order_by(TreatmentSession.date, TreatmentMark.session_id, TreatmentMark.id))
    if session_id:
        query = query.where(TreatmentMark.session_id == session_id)
    out = []
    for mark, lot_number, product in session.execute(query):
        item = MarkOut.model_validate(mark)
        item.lot_number, item.product = lot_number, product
        out.append(item)
    return out


def diagrams(marks: list[MarkOut], *, width: float | None = None) -> dict[str, str]:
    """The SVG of each view that has marks (all three when there are none)."""
    from dermatrack.clinic.face_diagram import VIEWS, face_diagram_svg

    views = [v for v in VIEWS if any(m.view == v for m in marks)] or list(VIEWS)
    return {view: face_diagram_svg(view, [{"kind": m.kind, "points": m.points,
                                           "label": m.label()}
                                          for m in marks if m.view == view], width=width)
            for view in views}
