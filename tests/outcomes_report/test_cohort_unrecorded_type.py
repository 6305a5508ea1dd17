"""A patient registered at the desk has no skin type until a clinician records it: the
cohort reports them in a group of their own instead of failing for everyone."""

from __future__ import annotations


def test_cohort_reports_patients_without_a_skin_type_apart(store):
    from dermatrack.services import charting, observations, patients
    from dermatrack.services.outcomes import cohort_summary

    consents = [{"kind": kind, "version": "1", "signed_at": "2026-01-01T09:00:00Z"}
                for kind in ("treatment", "research")]
    for fitzpatrick in ("III", None):
        data = {"age": 40, "sex": "female", "consents": consents}
        if fitzpatrick:
            data["fitzpatrick"] = fitzpatrick
        patient = patients.add_patient(store, data, actor="t")
        visits = [patients.add_visit(store, {"patient_id": patient.id, "timepoint": tp,
                                             "date": day}, actor="t")
                  for tp, day in (("baseline", "2026-01-05"), ("m3", "2026-04-05"))]
        charting.add_session(store, {"patient_id": patient.id, "date": "2026-01-06",
                                     "operator": "d", "modality": "microneedling",
                                     "region": "cheeks"}, actor="t")
        for visit, value in zip(visits, (10.0, 8.0), strict=True):
            observations.record_observations(
                store, patient_id=patient.id, visit_id=visit.id, region="whole",
                kind="surface", values={"Sa": value}, units={"Sa": "µm"}, device=None,
                method="m", source_sha256=None, settings=None, actor="t")
    summary = cohort_summary(store, deidentified=True)
    assert summary["n_patients"] == 2
    groups = {row["fitzpatrick_group"] for row in summary["responders"]["fitzpatrick_group"]}
    assert groups == {"III-IV", "not recorded"}
