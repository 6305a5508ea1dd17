"""Where a patient stands among the clinic's own patients like them.

A patient sheet may say "your wrinkle length is at the 30th percentile" only against a
reference that exists. dermatrack has no population norms for its photo metrics, and
invents none: the reference is the clinic's own record. The peers of a patient are the
other patients of the **same sex**, **age band** (:data:`AGE_BAND_YEARS`-year bands at
their baseline: 40-49, ...) and **Fitzpatrick skin type**; their value is the one
measured at their own first photographed visit (before treatment), region ``whole``. A
percentile is given only when at least :data:`MIN_PEERS` peers have a value, and always
with how many there were.

The percentile is the share of peers with a lower value, ties counted half (the "mid
rank" definition; Hazen 1914, as in ``scipy.stats.percentileofscore(kind="mean")``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from dermatrack.services.common import Store, get_patient

MIN_PEERS = 20
"""Fewest peers with a value for a percentile: below about 20 one patient more or less
moves a percentile by 5 points or more, too much to tell a patient."""
AGE_BAND_YEARS = 10


@dataclass(frozen=True)
class PeerGroup:
    """Who a patient is compared with."""

    sex: str | None
    age_band: tuple[int, int] | None
    fitzpatrick: str | None
    patient_ids: tuple[str, ...]

    @property
    def description(self) -> str:
        band = "age unknown" if self.age_band is None else \
            f"aged {self.age_band[0]}-{self.age_band[1]}"
        return (f"{self.sex or 'sex unknown'}, {band}, Fitzpatrick type "
                f"{self.fitzpatrick or 'unknown'}")


@dataclass(frozen=True)
class Percentile:
    """A patient's value among their peers' (``percentile`` None when too few)."""

    metric: str
    value: float
    n_peers: int
    percentile: float | None


def age_band(age: int | None, width: int = AGE_BAND_YEARS) -> tuple[int, int] | None:
    """The band holding ``age``: 40 -> (40, 49)."""
    if age is None:
        return None
    start = (age // width) * width
    return start, start + width - 1


def percentile_of(value: float, others: Sequence[float]) -> float:
    """Mid-rank percentile of ``value`` among ``others`` (0-100; module docstring)."""
    if not others:
        raise ValueError("no values to compare with")
    below = sum(1 for v in others if v < value)
    equal = sum(1 for v in others if v == value)
    return 100.0 * (below + 0.5 * equal) / len(others)


def peer_group(store: Store, patient_id: str) -> PeerGroup:
    """The clinic's other patients of the same sex, age band and skin type."""
    from dermatrack.services.outcomes import age_on, baseline_dates
    from dermatrack.store.models import Patient, Visit

    with store.reading() as session:
        me = get_patient(session, patient_id)
        visits = list(session.scalars(select(Visit)))
        baselines = baseline_dates(visits)
        mine = age_band(age_on(me, baselines.get(patient_id)))
        peers = []
        if me.sex is not None and me.fitzpatrick is not None and mine is not None:
            for other in session.scalars(select(Patient).where(
                    Patient.sex == me.sex, Patient.fitzpatrick == me.fitzpatrick,
                    Patient.id != patient_id)):
                if age_band(age_on(other, baselines.get(other.id))) == mine:
                    peers.append(other.id)
        return PeerGroup(sex=me.sex, age_band=mine, fitzpatrick=me.fitzpatrick,
                         patient_ids=tuple(sorted(peers)))


def peer_baselines(store: Store, group: PeerGroup, metrics: Iterable[str], *,
                   kind: str = "photo", region: str = "whole") -> dict[str, list[float]]:
    """Each peer's value of each metric at their first visit where it was measured."""
    from dermatrack.store.models import Observation, Visit

    wanted = list(metrics)
    values: dict[str, list[float]] = {metric: [] for metric in wanted}
    if not group.patient_ids or not wanted:
        return values
    with store.reading() as session:
        rows = session.execute(
            select(Observation.patient_id, Observation.metric, Observation.value, Visit.date)
            .join(Visit, Observation.visit_id == Visit.id)
            .where(Observation.patient_id.in_(group.patient_ids),
                   Observation.kind == kind, Observation.region == region,
                   Observation.metric.in_(wanted), Observation.value.is_not(None))
            .order_by(Visit.date)).all()
    first: dict[tuple[str, str], float] = {}
    for patient, metric, value, _day in rows:
        if value is not None:  # the query excludes them; this tells the type checker
            first.setdefault((patient, metric), float(value))
    for (_patient, metric), value in first.items():
        values[metric].append(value)
    return values


def percentiles(store: Store, patient_id: str, current: dict[str, float]
                ) -> tuple[PeerGroup, list[Percentile]]:
    """The patient's ``current`` values (metric -> value, region ``whole``) among their
    peers' first values; a percentile only with :data:`MIN_PEERS` peers or more."""
    group = peer_group(store, patient_id)
    reference = peer_baselines(store, group, current)
    out = []
    for metric, value in current.items():
        others = reference.get(metric, [])
        out.append(Percentile(metric=metric, value=value, n_peers=len(others),
                              percentile=(percentile_of(value, others)
                                          if len(others) >= MIN_PEERS else None)))
    return group, out
