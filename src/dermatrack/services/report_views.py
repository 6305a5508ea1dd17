"""The typed views the report renderers (:mod:`dermatrack.reports`) take.

Built by the report service (:mod:`dermatrack.services.reports`) from the patient's chart,
its timeline, the stored derived images and the clinic's peers; the renderers name these
types only (under ``TYPE_CHECKING``), so the service that calls the renderers and the
renderers that read these views import no module of each other's in a cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from dermatrack.services.chart import PatientChart, PhotoView
    from dermatrack.services.outcomes.mdc import MdcTable
    from dermatrack.services.outcomes.timeline import Timeline, VisitEntry
    from dermatrack.services.peers import PeerGroup, Percentile


@dataclass(frozen=True)
class PhotoPairView:
    """A baseline photograph and the last follow-up of the same view, aligned, cropped
    to the face: float sRGB ``(H, W, 3)`` arrays ready to encode."""

    first: VisitEntry
    last: VisitEntry
    baseline: np.ndarray
    aligned: np.ndarray
    change_overlay: np.ndarray
    darker_fraction: float
    lighter_fraction: float
    method: str
    reliable: bool
    features_before: np.ndarray | None = None
    features_after: np.ndarray | None = None
    #: How the two photographs were taken differently beyond what the metrics tolerate
    #: (:func:`dermatrack.services.derived.pair_capture_of`); None when either was
    #: stored without what that needs.
    capture_differences: list[str] | None = None
    #: Per region, the share of the baseline's skin the pair cannot compare
    #: (:attr:`dermatrack.services.derived.PairCapture.uncompared`); None when not known.
    uncompared: dict[str, float] | None = None
    #: The sentence naming two versions of the photo method that measured the pair
    #: (:attr:`dermatrack.services.derived.PairCapture.method_difference`), or None.
    method_difference: str | None = None
    #: One photograph is blurred against the other or its skin smoothed
    #: (:attr:`dermatrack.services.derived.PairCapture.fine_detail_lost`).
    fine_detail_lost: bool = False

    @property
    def hides_skin(self) -> bool:
        """Whether one photograph hides more of a region's skin than a comparison allows
        (:func:`dermatrack.imaging.compare.incomparable_regions`): that region's figures,
        and the whole face's, are then of different skin in the two."""
        from dermatrack.imaging.compare import incomparable_regions

        return bool(incomparable_regions(self.uncompared))


@dataclass(frozen=True)
class PatientReportView:
    """Everything the progress report shows
    (:func:`dermatrack.reports.html.render_patient_report`)."""

    chart: PatientChart
    timeline: Timeline
    comparisons: list[PhotoPairView]
    treatment_diagrams: dict[str, str]
    synthetic: bool
    cohort_link: str | None = None

    @property
    def patient_id(self) -> str:
        return self.chart.patient_id


@dataclass(frozen=True)
class SheetVisitView:
    """One photographed visit on the patient sheet: its first photograph, the screen copy
    cropped to the face and, when it was analysed, the features painted on it."""

    visit: VisitEntry
    photo: PhotoView
    image: np.ndarray
    features: np.ndarray | None
    #: Against the first photographed visit's photograph: per region, the share of its
    #: skin the pair cannot compare (:attr:`dermatrack.services.derived.PairCapture.
    #: uncompared`); None for the first visit or when not known.
    uncompared: dict[str, float] | None = None
    #: Against the first photographed visit's photograph: this one is blurred or its
    #: skin smoothed, or the other way round
    #: (:attr:`dermatrack.services.derived.PairCapture.fine_detail_lost`).
    fine_detail_lost: bool = False

    def comparable(self, region: str) -> bool:
        """Whether this photograph's figures of ``region`` compare with the first one's
        (:func:`dermatrack.imaging.compare.incomparable_regions`)."""
        from dermatrack.imaging.compare import incomparable_regions

        return region not in incomparable_regions(self.uncompared)

    def blurred(self, metric: str) -> bool:
        """Whether ``metric`` needs the fine detail this photograph or the first one lost
        (:func:`dermatrack.imaging.definitions.needs_fine_detail`)."""
        from dermatrack.imaging.definitions import needs_fine_detail

        return self.fine_detail_lost and needs_fine_detail(metric)


@dataclass(frozen=True)
class SheetView:
    """Everything the patient sheet shows (:func:`dermatrack.reports.sheet.render_sheet`)."""

    chart: PatientChart
    timeline: Timeline
    visits: list[SheetVisitView]
    peer_group: PeerGroup
    percentiles: list[Percentile]
    synthetic: bool
    min_peers: int

    @property
    def patient_id(self) -> str:
        return self.chart.patient_id


@dataclass(frozen=True)
class CohortReportView:
    """Everything the cohort report shows
    (:func:`dermatrack.reports.html.render_cohort_report`)."""

    summary: dict[str, Any]
    mdc: MdcTable
    synthetic: bool
    modality: str | None = None
    patients: list[dict[str, Any]] | None = None
    patient_links: Mapping[str, str] = field(default_factory=dict)
    extra_tables: list[dict[str, Any]] = field(default_factory=list)

    def mdc_of(self, key: str, region: str | None) -> float | None:
        """The MDC95 of a ``kind:metric`` key in a region (None when unknown)."""
        kind, _, metric = key.partition(":")
        found = self.mdc.lookup(kind, metric, region)
        return None if found is None else found[0]
