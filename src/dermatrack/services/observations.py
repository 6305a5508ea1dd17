"""Measured values: photo metrics and device readings, stored alike as observations.

One row per metric: (patient, visit, region, kind, metric, value, unit, device, method,
source file digest, analysis settings). Outcome analyses read every kind of measurement the
same way from here. ``kind`` names the family (``photo``, ``surface``, ``colour``,
``elasticity``, ...); ``metric`` the quantity (``Sa``, ``L_star``, ``R2``, ...).

``visit_id``, when given, must be an existing visit of the same patient; ``None`` stores
a measurement not tied to a visit (a phantom, a calibration check). A value of ``None``
(or NaN) is stored as NULL: the metric could not be computed on that input.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dermatrack.errors import InputError
from dermatrack.services.audit import insert_audited
from dermatrack.services.common import Record, Store, get_patient, get_visit, patient_page
from dermatrack.services.paging import Page
from dermatrack.store.models import Observation, new_id, utc_now

CODE_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.*-]{0,79}$")
"""Metric and region codes: a letter, then letters, digits, ``_ . * -`` (``L_star``, ``R2``)."""
KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")


class ObservationOut(Record):
    id: str
    patient_id: str
    visit_id: str | None
    region: str
    kind: str
    metric: str
    value: float | None
    unit: str
    device: str | None
    method: str
    source_sha256: str | None
    settings: dict[str, Any] | None
    created_at: dt.datetime


def _checked_value(metric: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"expected a number or null, got {value!r}", field=f"values.{metric}")
    value = float(value)
    if math.isnan(value):
        return None
    if math.isinf(value):
        raise InputError("infinite value", field=f"values.{metric}")
    return value


def record_observations(store: Store, *, patient_id: str, visit_id: str | None, region: str,
                        kind: str, values: Mapping[str, float | None],
                        units: Mapping[str, str],
                        device: str | None, method: str, source_sha256: str | None,
                        settings: dict | None, actor: str) -> list[ObservationOut]:
    """Store one observation per entry of ``values``, in one transaction.

    Parameters
    ----------
    patient_id, visit_id:
        The patient and (optionally) one of their visits.
    region:
        Where it was measured (vocabulary region or an imaging region name).
    kind:
        Measurement family, lower-case (``surface``, ``colour``, ...).
    values, units:
        Metric code to value, and metric code to unit; every metric needs a unit
        (``"1"`` for a dimensionless number).
    device, method:
        Instrument (None for photo metrics) and how the value was computed (function and
        standard, e.g. ``"ISO 25178-2 Sa after F-operator"``).
    source_sha256:
        Digest of the source file in the file store, when there is one.
    settings:
        JSON-serialisable analysis settings, kept with each value.

    Raises
    ------
    InputError
        Naming the field (``values.Sa``, ``units.Sa``, ``visit_id``, ...); nothing is stored.
    """
    measurement = Measurement(region=region, kind=kind, values=values, units=units,
                              device=device, method=method, source_sha256=source_sha256,
                              settings=settings)
    return record_measurements(store, patient_id=patient_id, visit_id=visit_id,
                               measurements=[measurement], actor=actor)


def record_measurements(store: Store, *, patient_id: str, visit_id: str | None,
                        measurements: Iterable[Measurement],
                        actor: str) -> list[ObservationOut]:
    """Store several measurements of one patient's visit in one transaction and one write.

    The same checks and audit rows as one :func:`record_observations` call per
    measurement, for loaders that have many (a visit's device readings); every
    measurement is validated before anything is written.

    Raises
    ------
    InputError
        Naming the field of the first bad measurement; nothing is stored.
    """
    measurements = list(measurements)
    for measurement in measurements:
        check_measurement(measurement)
    with store.transaction(actor) as session:
        get_patient(session, patient_id)
        if visit_id is not None:
            get_visit(session, visit_id, patient_id)
        return add_observations(session, patient_id=patient_id, visit_id=visit_id,
                                measurements=measurements)


@dataclass(frozen=True)
class Measurement:
    """The values of one region measured one way: what :func:`add_observations` stores.

    The fields are those of :func:`record_observations`.
    """

    region: str
    kind: str
    values: Mapping[str, float | None]
    units: Mapping[str, str]
    method: str
    device: str | None = None
    source_sha256: str | None = None
    settings: dict[str, Any] | None = None


def check_measurement(measurement: Measurement) -> dict[str, float | None]:
    """Validate a measurement before anything is written; return its checked values.

    Raises
    ------
    InputError
        Naming the field (``region``, ``values.Sa``, ``units.Sa``, ...).
    """
    region, kind, method = measurement.region, measurement.kind, measurement.method
    if not isinstance(region, str) or not CODE_PATTERN.match(region):
        raise InputError(f"not a region code: {region!r}", field="region")
    if not isinstance(kind, str) or not KIND_PATTERN.match(kind):
        raise InputError(f"not a measurement kind (lower-case code): {kind!r}", field="kind")
    if not measurement.values:
        raise InputError("no values to store", field="values")
    if not isinstance(method, str) or not method.strip():
        raise InputError("the method that produced the values is required", field="method")
    digest = measurement.source_sha256
    if digest is not None and not SHA256_PATTERN.match(digest):
        raise InputError(f"not a lower-case SHA-256 hex digest: {digest!r}",
                         field="source_sha256")
    checked: dict[str, float | None] = {}
    for metric, value in measurement.values.items():
        if not isinstance(metric, str) or not CODE_PATTERN.match(metric):
            raise InputError(f"not a metric code: {metric!r}", field="values")
        unit = measurement.units.get(metric)
        if not isinstance(unit, str) or not unit.strip():
            raise InputError(f"no unit for {metric}", field=f"units.{metric}")
        checked[metric] = _checked_value(metric, value)
    if measurement.settings is not None and not isinstance(measurement.settings, dict):
        raise InputError("settings must be a JSON object", field="settings")
    return checked


def add_observations(session: Session, *, patient_id: str, visit_id: str | None,
                     measurements: Iterable[Measurement]) -> list[ObservationOut]:
    """Write observations inside the caller's transaction (the one place that does).

    For services that store observations together with other rows (a photograph and its
    metrics); the caller has checked that the patient and visit exist in ``session``.
    Every measurement is validated (:func:`check_measurement`) before any row is added,
    so an error leaves the session as it was.
    """
    measurements = list(measurements)
    checked = [check_measurement(m) for m in measurements]
    # Plain rows in one audited bulk insert: a visit of a research cohort has hundreds.
    rows: list[dict[str, Any]] = [
        {"id": new_id("O"), "patient_id": patient_id, "visit_id": visit_id,
         "region": m.region, "kind": m.kind, "metric": metric, "value": value,
         "unit": m.units[metric], "device": m.device, "method": m.method.strip(),
         "source_sha256": m.source_sha256, "settings": m.settings}
        for m, values in zip(measurements, checked, strict=True)
        for metric, value in values.items()]
    # A microsecond apart, so that reads (oldest first) return them in the order given.
    now = utc_now()
    for offset, row in enumerate(rows):
        row["created_at"] = now + dt.timedelta(microseconds=offset)
    insert_audited(session, Observation, rows)
    return [ObservationOut.model_validate(row) for row in rows]


def page_observations(store: Store, *, patient_id: str, kind: str | None = None,
                      source_sha256: str | None = None, photo_id: str | None = None,
                      cursor: str | None = None,
                      limit: int | None = None) -> Page[ObservationOut]:
    """A page of a patient's observations, oldest first, optionally of one kind, from one
    source file, or of one stored photograph (the ``photo_id`` its observations carry in
    their settings: the same image stored twice shows its figures once; observations
    stored without one are matched by the file alone). :func:`list_observations` reads
    them all."""
    query = select(Observation).where(Observation.patient_id == patient_id)
    if kind is not None:
        query = query.where(Observation.kind == kind)
    if source_sha256 is not None:
        query = query.where(Observation.source_sha256 == source_sha256)
    if photo_id is not None:
        stored_for = Observation.settings["photo_id"].as_string()
        query = query.where(or_(stored_for == photo_id, stored_for.is_(None)))
    return patient_page(store, patient_id, query, (Observation.created_at, Observation.id),
                        ObservationOut.model_validate, cursor=cursor, limit=limit)


def list_observations(store: Store, *, patient_id: str,
                      kind: str | None = None) -> list[ObservationOut]:
    """A patient's observations, oldest first, optionally of one kind."""
    with store.reading() as session:
        get_patient(session, patient_id)
        return observations_of(session, patient_id, kind=kind)


def observations_of(session: Session, patient_id: str, *,
                    kind: str | None = None) -> list[ObservationOut]:
    """:func:`list_observations`, read in the caller's transaction."""
    query = (select(Observation).where(Observation.patient_id == patient_id)
             .order_by(Observation.created_at, Observation.id))
    if kind is not None:
        query = query.where(Observation.kind == kind)
    return [ObservationOut.model_validate(row) for row in session.scalars(query)]
