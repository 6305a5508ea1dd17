"""The patient chart: one read of a patient's record, audited in the same transaction.

Every adapter that shows a patient's chart reads it here: the CLI (``patient show``,
``report``), the web chart page, the timeline API and the report pages. One call of
:func:`read_chart`

* opens one transaction as the reader (``actor``);
* reads the patient and the parts asked for (visits, sessions, events, scores,
  photographs with their stored derived data, observations with the definition of their
  metric, plans, treatment marks);
* records one ``read`` row in the audit trail naming the parts shown and the purpose
  (and one more for name and contacts when ``with_identity``), in that transaction: the
  read and its record are committed together or not at all.

The result is a :class:`PatientChart` of typed views: nothing in it is a loose dict, and
nothing in it touches the database again. The course visit by visit with the change from
baseline of every series is built from it, above this module, by
:func:`dermatrack.services.outcomes.timeline.timeline_of`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from dermatrack.metrics import MetricDefinition, describe_metric
from dermatrack.services.common import Store, get_patient

if TYPE_CHECKING:
    from dermatrack.services.charting import EventOut, SessionOut
    from dermatrack.services.observations import ObservationOut
    from dermatrack.services.patients import PatientOut, VisitOut
    from dermatrack.services.photos import PhotoOut
    from dermatrack.services.plans import PlanOut
    from dermatrack.services.scores import ScoreOut
    from dermatrack.services.treatment_maps import MarkOut

#: The parts of a chart :func:`read_chart` can read.
CHART_PARTS = ("visits", "sessions", "events", "scores", "photos", "observations", "plans",
               "marks")
#: What a timeline needs (:func:`dermatrack.services.outcomes.timeline.timeline_of`).
TIMELINE_PARTS = ("visits", "sessions", "events", "scores", "photos", "observations",
                  "plans")


@dataclass(frozen=True)
class StoredDisplay:
    """The screen copy of a photograph stored with it (``photo_derivative`` of kind
    ``display``, :mod:`dermatrack.services.derived`): file-store paths of the JPEG and of
    the packed feature masks (None when not analysed), face landmarks in screen-copy
    pixels (None without a face), the screen copy's and the original's (rows, columns)."""

    image: str
    masks: str | None
    landmarks: tuple[tuple[float, float], ...] | None
    shape: tuple[int, int]
    source_shape: tuple[int, int] | None


@dataclass(frozen=True)
class StoredAlignment:
    """A photograph's stored alignment onto a baseline photograph (``photo_derivative``
    of kind ``alignment``): the 3x3 follow-up -> baseline matrix in screen-copy pixels,
    the method and its quality figures."""

    baseline_id: str
    matrix: tuple[tuple[float, ...], ...]
    method: str
    reliable: bool
    ecc_correlation: float | None
    landmark_rmse_px: float | None

    def as_dict(self) -> dict[str, Any]:
        """The stored JSON form (as :func:`dermatrack.services.derived.alignment_of`)."""
        return {"matrix": [list(row) for row in self.matrix], "method": self.method,
                "reliable": self.reliable, "ecc_correlation": self.ecc_correlation,
                "landmark_rmse_px": self.landmark_rmse_px}


@dataclass(frozen=True)
class PhotoView:
    """A stored photograph, its analysis summary and the derived data stored with it."""

    photo: PhotoOut
    display: StoredDisplay | None = None
    alignments: tuple[StoredAlignment, ...] = ()

    @property
    def id(self) -> str:
        return self.photo.id

    def alignment_onto(self, baseline_id: str) -> StoredAlignment | None:
        """The stored alignment of this photograph onto ``baseline_id``, if any."""
        return next((a for a in self.alignments if a.baseline_id == baseline_id), None)


@dataclass(frozen=True)
class ObservationView:
    """An observation with the definition of its metric from the core that computes it
    (label, unit as stored, direction, decimals; :mod:`dermatrack.metrics`)."""

    observation: ObservationOut
    definition: MetricDefinition

    @property
    def label(self) -> str:
        return self.definition.label

    @property
    def unit(self) -> str:
        return self.observation.unit

    @property
    def display_unit(self) -> str:
        return self.definition.display_unit


@dataclass(frozen=True)
class PatientChart:
    """What :func:`read_chart` read of one patient (the parts not asked for are empty)."""

    patient: PatientOut
    parts: frozenset[str]
    visits: list[VisitOut] = field(default_factory=list)
    sessions: list[SessionOut] = field(default_factory=list)
    events: list[EventOut] = field(default_factory=list)
    scores: list[ScoreOut] = field(default_factory=list)
    photos: list[PhotoView] = field(default_factory=list)
    observations: list[ObservationView] = field(default_factory=list)
    plans: list[PlanOut] = field(default_factory=list)
    marks: list[MarkOut] = field(default_factory=list)

    @property
    def patient_id(self) -> str:
        return self.patient.id

    def photo(self, photo_id: str) -> PhotoView:
        """One of the chart's photographs (KeyError if it is not the patient's)."""
        for item in self.photos:
            if item.id == photo_id:
                return item
        raise KeyError(photo_id)

    def visit_photos(self, visit_id: str) -> list[PhotoView]:
        """The photographs of one visit, in chart order."""
        return [p for p in self.photos if p.photo.visit_id == visit_id]


def _as_pairs(points: Any) -> tuple[tuple[float, float], ...] | None:
    if points is None:
        return None
    return tuple((float(x), float(y)) for x, y in points)


def _derived(session: Any, photo_ids: list[str]
             ) -> tuple[dict[str, StoredDisplay], dict[str, list[StoredAlignment]]]:
    """The newest stored display and every stored alignment of each photograph."""
    from dermatrack.store.models import PhotoDerivative

    displays: dict[str, StoredDisplay] = {}
    alignments: dict[str, list[StoredAlignment]] = {}
    if not photo_ids:
        return displays, alignments
    rows = session.scalars(select(PhotoDerivative).where(
        PhotoDerivative.photo_id.in_(photo_ids))
        .order_by(PhotoDerivative.created_at.desc(), PhotoDerivative.id))
    for row in rows:
        data = row.data or {}
        if row.kind == "display" and row.photo_id not in displays:
            source = data.get("source_shape")
            displays[row.photo_id] = StoredDisplay(
                image=str(data["image"]), masks=data.get("masks"),
                landmarks=_as_pairs(data.get("landmarks")),
                shape=(int(data["shape"][0]), int(data["shape"][1])),
                source_shape=None if source is None else (int(source[0]), int(source[1])))
        elif row.kind == "alignment" and row.baseline_id is not None:
            alignments.setdefault(row.photo_id, []).append(StoredAlignment(
                baseline_id=row.baseline_id,
                matrix=tuple(tuple(float(v) for v in r) for r in data["matrix"]),
                method=str(data["method"]), reliable=bool(data.get("reliable", True)),
                ecc_correlation=data.get("ecc_correlation"),
                landmark_rmse_px=data.get("landmark_rmse_px")))
    return displays, alignments


def _read_parts(session: Any, patient_id: str, parts: frozenset[str], patient: PatientOut
                ) -> PatientChart:
    from dermatrack.services import (
        charting,
        observations,
        patients,
        photos,
        plans,
        scores,
        treatment_maps,
    )

    chart: dict[str, Any] = {}
    if "visits" in parts:
        chart["visits"] = patients.visits_of(session, patient_id)
    if "sessions" in parts:
        chart["sessions"] = charting.sessions_of(session, patient_id)
    if "events" in parts:
        chart["events"] = charting.events_of(session, patient_id)
    if "scores" in parts:
        chart["scores"] = scores.scores_of(session, patient_id)
    if "photos" in parts:
        found = photos.photos_of(session, patient_id)
        displays, alignments = _derived(session, [p.id for p in found])
        chart["photos"] = [PhotoView(photo=p, display=displays.get(p.id),
                                     alignments=tuple(alignments.get(p.id, ())))
                           for p in found]
    if "observations" in parts:
        chart["observations"] = [
            ObservationView(observation=o, definition=describe_metric(o.kind, o.metric,
                                                                      o.unit))
            for o in observations.observations_of(session, patient_id)]
    if "plans" in parts:
        chart["plans"] = plans.plans_of(session, patient_id)
    if "marks" in parts:
        chart["marks"] = treatment_maps.marks_of(session, patient_id)
    return PatientChart(patient=patient, parts=parts, **chart)


def read_chart(store: Store, patient_id: str, *, actor: str | None,
               parts: Iterable[str] = CHART_PARTS, fields: Iterable[str] | None = None,
               purpose: str | None = None, with_identity: bool = False) -> PatientChart:
    """Read a patient's chart and record the read, in one transaction.

    Parameters
    ----------
    store:
        The open store.
    patient_id:
        The patient (``P-XXXXXX``).
    actor:
        Who reads (``user@address`` on the web, the ``--actor`` on the CLI). ``None``
        only for a service that composes a chart into its own output and audits that
        itself (an export, the demo): the chart is then read without an audit row.
    parts:
        Which of :data:`CHART_PARTS` to read; the others stay empty.
    fields:
        What the caller is about to show, as recorded in the audit trail (``"sessions"``,
        ``"report"``, ...); default ``parts``.
    purpose:
        Why (``chart``, ``cli``, ``report html``, ``api``), recorded with the read.
    with_identity:
        Include name and contacts (their read is recorded as well).

    Returns
    -------
    PatientChart

    Raises
    ------
    NotFoundError
        No such patient (with an ``actor``).
    InputError
        No such patient (without an ``actor``; field ``patient_id``).
    ValueError
        A part that is not one of :data:`CHART_PARTS`.
    """
    from dermatrack.services.patients import patient_record_of

    wanted = frozenset(parts)
    unknown = wanted - set(CHART_PARTS)
    if unknown:
        raise ValueError(f"unknown chart parts: {', '.join(sorted(unknown))}")
    if actor is None:
        if with_identity:
            raise ValueError("reading the identity needs an actor, for the audit trail")
        with store.reading() as session:
            get_patient(session, patient_id)
            patient = patient_record_of(session, patient_id)
            return _read_parts(session, patient_id, wanted, patient)
    shown = tuple(fields) if fields is not None else tuple(p for p in CHART_PARTS
                                                           if p in wanted)
    with store.transaction(actor) as session:
        patient = patient_record_of(session, patient_id, with_identity=with_identity,
                                    read_fields=shown, purpose=purpose)
        return _read_parts(session, patient_id, wanted, patient)


def record_reads(store: Store, actor: str, entity: str, entity_ids: Collection[str], *,
                 fields: Iterable[str] = (), purpose: str | None = None) -> None:
    """Record reads of rows other than a chart (a photograph's file, a consent document,
    a page of patients) in one transaction as ``actor``."""
    from dermatrack.services.audit import record_read

    fields = tuple(fields)
    with store.transaction(actor) as session:
        for entity_id in entity_ids:
            record_read(session, entity=entity, entity_id=entity_id, fields=fields,
                        purpose=purpose)
