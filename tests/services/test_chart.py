"""The chart service: one read of a patient's chart, audited in the same transaction."""

from __future__ import annotations

import pytest


def _reads(store, actor):
    from dermatrack.services import audit

    with store.reading() as session:
        return audit.history(session, action="read", actor=actor)


def _surface(store, patient, visit):
    from dermatrack.services.observations import record_observations

    record_observations(store, patient_id=patient.id, visit_id=visit.id, region="forehead",
                        kind="surface", values={"Sa": 12.5}, units={"Sa": "µm"},
                        device="profilometer", method="ISO 25178-2 Sa", source_sha256=None,
                        settings=None, actor="dr.lee")


def test_a_chart_read_is_one_audit_row_naming_what_was_shown(store, patient, visit):
    from dermatrack.services.chart import read_chart

    _surface(store, patient, visit)
    chart = read_chart(store, patient.id, actor="nurse.kim", purpose="test",
                       fields=("sessions", "measurements"))
    reads = _reads(store, "nurse.kim")
    assert [(r.entity, r.entity_id) for r in reads] == [("patient", patient.id)]
    assert set(reads[0].changes["fields"]) == {"sessions", "measurements"}
    assert reads[0].changes["purpose"] == "test"
    assert [v.id for v in chart.visits] == [visit.id]
    # Observations carry their metric's definition from the core that computes it.
    (observation,) = chart.observations
    assert observation.observation.metric == "Sa"
    assert observation.label != "Sa" and observation.unit == "µm"


def test_a_failed_chart_read_leaves_no_audit_row(store, patient, visit, monkeypatch):
    """The read and its record are committed together: a part that cannot be read
    takes the audit row with it."""
    from dermatrack.services import charting
    from dermatrack.services.chart import read_chart

    def broken(session, patient_id):
        raise RuntimeError("the sessions table is unreadable")

    monkeypatch.setattr(charting, "sessions_of", broken)
    with pytest.raises(RuntimeError):
        read_chart(store, patient.id, actor="nurse.kim", purpose="test")
    assert _reads(store, "nurse.kim") == []


def test_only_the_parts_asked_for_are_read(store, patient, visit):
    from dermatrack.services.chart import read_chart

    _surface(store, patient, visit)
    chart = read_chart(store, patient.id, actor="nurse.kim", parts=("visits",))
    assert chart.parts == frozenset({"visits"})
    assert [v.id for v in chart.visits] == [visit.id] and chart.observations == []
    with pytest.raises(ValueError, match="unknown chart parts"):
        read_chart(store, patient.id, actor="nurse.kim", parts=("notes",))


def test_a_timeline_from_the_chart_equals_the_services_timeline(store, patient, visit):
    from dermatrack.services.chart import TIMELINE_PARTS, read_chart
    from dermatrack.services.outcomes import MdcTable, patient_timeline
    from dermatrack.services.outcomes.timeline import timeline_of

    _surface(store, patient, visit)
    chart = read_chart(store, patient.id, actor="nurse.kim", parts=TIMELINE_PARTS)
    timeline = timeline_of(chart, MdcTable())
    assert timeline == patient_timeline(store, patient.id, mdc=MdcTable())
    assert timeline.get_series("surface", "Sa", "forehead").points[0].value == 12.5


def test_an_unknown_patient_is_not_found_and_nothing_is_recorded(store):
    from dermatrack.errors import NotFoundError
    from dermatrack.services.chart import read_chart

    with pytest.raises(NotFoundError):
        read_chart(store, "P-NOSUCH", actor="nurse.kim")
    assert _reads(store, "nurse.kim") == []


def test_the_cli_progress_report_reads_the_chart_as_an_audited_read(
        cli, store_settings, store, patient, visit, tmp_path, monkeypatch):
    """``report patient`` reads through the report service: one read row as the CLI's
    actor, and the report names the patient."""
    monkeypatch.setenv("DERMATRACK_ACTOR", "nurse.kim")
    out = tmp_path / "report.html"
    result = cli("report", "patient", patient.id, "--out", str(out), "--json")
    assert result.code == 0, result.stderr
    assert patient.id in out.read_text(encoding="utf-8")
    reads = _reads(store, "nurse.kim")
    assert [(r.entity, r.entity_id) for r in reads] == [("patient", patient.id)]
    assert reads[0].changes["fields"] == ["report"]
    assert reads[0].changes["purpose"] == "cli report html"
