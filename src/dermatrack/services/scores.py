"""Clinician scale scores at a visit (GAIS, Glogau, Goodman and Baron, Vancouver, ...).

Each score is checked by :func:`dermatrack.clinic.scales.validate_score` (items within
their levels, total within range and equal to the items' sum) and stored with its
instrument version, rater and whether the rater was blinded to the treatment and
timepoint, so that outcome analyses can keep blinded and unblinded ratings apart.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from dermatrack.services.common import (
    Record,
    Store,
    get_patient,
    get_visit,
    patient_page,
    validate_input,
)
from dermatrack.services.paging import Page
from dermatrack.store.models import ScaleScore, Visit


class ScoreFields(BaseModel):
    """A score as given, but for the patient (whom the API's path names)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    visit_id: str
    instrument: str
    version: str | None = Field(None, description="Default: the version dermatrack ships")
    item_scores: dict[str, Any] | None = None
    total: float | None = None
    rater: str = Field(min_length=1, max_length=120)
    blinded: bool = False


class ScoreIn(ScoreFields):
    """A score for the patient ``patient_id``."""

    patient_id: str


class ScoreOut(Record):
    id: str
    patient_id: str
    visit_id: str
    instrument: str
    version: str | None
    item_scores: dict[str, Any]
    total: float | None
    rater: str
    blinded: bool
    label: str | None = None
    timepoint: str | None = None
    date: dt.date | None = None


def add_score(store: Store, data: ScoreIn | dict[str, Any], *, actor: str) -> ScoreOut:
    """Record a checked scale score at one of the patient's visits."""
    from dermatrack.clinic.scales import validate_score

    score_in = validate_input(ScoreIn, data)
    result = validate_score(score_in.instrument, score_in.version, score_in.item_scores,
                            score_in.total)
    with store.transaction(actor) as session:
        get_patient(session, score_in.patient_id)
        visit = get_visit(session, score_in.visit_id, score_in.patient_id)
        row = ScaleScore(patient_id=score_in.patient_id, visit_id=visit.id,
                         instrument=result.instrument, version=result.version,
                         item_scores=result.item_scores or {}, total=result.total,
                         rater=score_in.rater, blinded=score_in.blinded)
        session.add(row)
        session.flush()
        out = ScoreOut.model_validate(row)
        out.label, out.timepoint, out.date = result.label, visit.timepoint, visit.date
        return out


def _score_out(row: Any) -> ScoreOut:
    score, visit = row
    out = ScoreOut.model_validate(score)
    out.timepoint, out.date = visit.timepoint, visit.date
    return out


def page_scores(store: Store, patient_id: str, *, instrument: str | None = None,
                cursor: str | None = None, limit: int | None = None) -> Page[ScoreOut]:
    """A page of a patient's scores by visit date (:func:`list_scores` reads them all)."""
    query = (select(ScaleScore, Visit).join(Visit, ScaleScore.visit_id == Visit.id)
             .where(ScaleScore.patient_id == patient_id))
    if instrument is not None:
        query = query.where(ScaleScore.instrument == instrument)
    return patient_page(store, patient_id, query, (Visit.date, ScaleScore.id), _score_out,
                        cursor=cursor, limit=limit, tuples=True,
                        key=lambda row: [row[1].date, row[0].id])


def list_scores(store: Store, patient_id: str, *,
                instrument: str | None = None) -> list[ScoreOut]:
    """A patient's scores by visit date, optionally of one instrument."""
    with store.reading() as session:
        get_patient(session, patient_id)
        return scores_of(session, patient_id, instrument=instrument)


def scores_of(session: Any, patient_id: str, *,
              instrument: str | None = None) -> list[ScoreOut]:
    """:func:`list_scores`, read in the caller's transaction."""
    query = (select(ScaleScore, Visit).join(Visit, ScaleScore.visit_id == Visit.id)
             .where(ScaleScore.patient_id == patient_id)
             .order_by(Visit.date, ScaleScore.id))
    if instrument is not None:
        query = query.where(ScaleScore.instrument == instrument)
    results = []
    for row, visit in session.execute(query):
        out = ScoreOut.model_validate(row)
        out.timepoint, out.date = visit.timepoint, visit.date
        results.append(out)
    return results
