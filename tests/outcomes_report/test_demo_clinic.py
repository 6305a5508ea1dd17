"""``dermatrack demo`` at a small N, quick mode: the clinic, its reports, and the check that
the measurement and statistics recover the simulated truth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

N_PATIENTS = 5


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, cli):
    # The cli fixture, not ``from conftest import run_cli``: tests/web has a conftest of
    # its own, and whichever was imported last answers to that name.
    out = tmp_path_factory.mktemp("demo") / "clinic"
    human = cli("demo", "--patients", "2", "--out", str(out), "--quick", "--workers", "1")
    # A second run replaces the first demo in place (and gives the JSON view).
    as_json = cli("demo", "--patients", str(N_PATIENTS), "--out", str(out), "--quick",
                  "--workers", "1", "--seed", "3", "--json")
    return out, human, as_json


def test_demo_prints_synthetic_notice_summary_and_true_vs_estimated(demo_run):
    _, human, _ = demo_run
    assert human.code == 0, human.stderr
    assert "SYNTHETIC DATA" in human.stdout and "SYNTHETIC DATA" in human.stderr
    assert "Efficacy and safety by modality" in human.stdout
    assert "TRUE" in human.stdout and "ESTIMATED" in human.stdout


def test_demo_estimates_recover_the_simulated_truth(demo_run):
    _, _, as_json = demo_run
    assert as_json.code == 0, as_json.stderr
    data = as_json.json()
    assert data["synthetic"] is True
    rows = data["true_vs_estimated"]
    assert rows, "no phantom patient was followed to month 3"
    for row in rows:
        true, estimated = row["true_mean_change"], row["estimated_mean_change"]
        # Same direction, and within half of the true change (a capture's noise is far
        # smaller than the simulated treatment effects).
        assert estimated == pytest.approx(true, rel=0.5), row


def test_demo_clinic_opens_from_its_directory(demo_run, monkeypatch):
    from dermatrack.config import DATA_DIR_ENV, DATABASE_URL_ENV, load_settings
    from dermatrack.services.common import open_store
    from dermatrack.services.outcomes import cohort_data, load_mdc, patient_timeline
    from dermatrack.services.patients import list_patients
    from dermatrack.services.photos import list_photos, photo_file

    out, _, as_json = demo_run
    monkeypatch.setenv(DATA_DIR_ENV, str(out))
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    settings = load_settings()
    assert settings.database_url == f"sqlite:///{out / 'dermatrack.db'}"
    with open_store(settings) as store:
        data = cohort_data(store)
        assert data.patients["patient"].nunique() == len(as_json.json()["treated"])
        everyone = list_patients(store, actor="tester").items
        assert sorted(p.fitzpatrick for p in everyone) == ["I", "II", "III", "IV", "V"]
        assert set(data.measurements["kind"]) == {"photo", "surface", "colour", "elasticity",
                                                  "spectral", "elastography"}
        patient = as_json.json()["patients"][0]
        photos = list_photos(store, patient)
        assert [p.observations > 0 for p in photos] == [True] * len(photos) and photos
        assert photo_file(store, photos[0].id).suffix == ".jpg"
        mdc = load_mdc(settings)
        assert mdc.lookup("photo", "wrinkles.length_mm", "whole") is not None
        treated = next(iter(as_json.json()["treated"]))
        timeline = patient_timeline(store, treated)
        (plan,) = timeline.plans
        (item,) = plan.modalities
        sessions = [s["id"] for visit in timeline.visits for s in visit.sessions]
        assert item.modality == as_json.json()["treated"][treated]
        assert [s.session_id for s in item.sessions] == sessions and sessions
        verdicts = {p.verdict for s in timeline.series if s.kind == "photo" for p in s.points}
        assert verdicts & {"improved", "worsened", "no real change"}
        # Every demo patient signed the three example forms on the screen (issue 16).
        from dermatrack.services import consent
        from dermatrack.services.patients import get_patient_record

        record = get_patient_record(store, patient, actor="tester")
        assert sorted(c.kind for c in record.consents) == ["photography", "research",
                                                           "treatment"]
        assert all(consent.get_signed(store, c.id).intact for c in record.consents)


def test_demo_reports_link_every_patient(demo_run):
    from bs4 import BeautifulSoup

    out, _, as_json = demo_run
    index = out / "reports" / "index.html"
    soup = BeautifulSoup(index.read_text(), "html.parser")
    links = {a["href"] for a in soup.find_all("a")}
    patients = as_json.json()["patients"]
    assert links >= {f"{p}.html" for p in patients}
    for patient in patients:
        page = BeautifulSoup((out / "reports" / f"{patient}.html").read_text(), "html.parser")
        assert page.find(class_="synthetic") is not None
        assert page.h1.get_text().endswith(patient)
    assert "true simulated change" in index.read_text()


def test_demo_creates_one_signable_account_per_role(demo_run, cli):
    from dermatrack.config import Settings
    from dermatrack.services.accounts import authenticate, list_users
    from dermatrack.services.common import open_store
    from dermatrack.store.accounts import ROLES

    out, human, as_json = demo_run
    accounts = as_json.json()["demo_accounts"]
    assert sorted(a["role"] for a in accounts) == sorted(ROLES)
    assert len({a["password"] for a in accounts}) == len(ROLES)
    settings = Settings(data_dir=out, database_url=f"sqlite:///{out / 'dermatrack.db'}")
    with open_store(settings) as store:
        assert {(u.username, u.role) for u in list_users(store)} == {
            (a["username"], a["role"]) for a in accounts}
        for account in accounts:
            signed_in = authenticate(store, account["username"], account["password"])
            assert signed_in is not None and signed_in.role == account["role"]
            assert authenticate(store, account["username"], account["password"] + "x") is None
    # The human summary ends with the accounts and says they are demo accounts.
    tail = human.stdout[human.stdout.index("Demo web accounts"):]
    assert all(f"demo-{role}" in tail for role in ROLES) and "demo accounts" in tail
    assert "demo-researcher" in cli("demo", "--help").stdout


def test_demo_refuses_a_directory_it_did_not_make(cli, tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    result = cli("demo", "--patients", "1", "--out", tmp_path, "--quick")
    assert result.code == 2 and "not empty" in result.stderr
    assert (tmp_path / "precious.txt").read_text() == "keep me"
    assert not (tmp_path / "dermatrack.db").exists()


def test_demo_repeatability_file_is_readable_json(demo_run):
    out, _, _ = demo_run
    document = json.loads(Path(out / "repeatability-imaging.json").read_text())
    assert document["metrics"] and all(m["mdc95"] >= 0 for m in document["metrics"])
    assert "area_mm2" not in {m["metric"] for m in document["metrics"]}


def test_demo_device_readings_get_the_clinics_mdc(demo_run):
    from dermatrack.config import Settings
    from dermatrack.services.common import open_store
    from dermatrack.services.outcomes import load_mdc, patient_timeline

    out, _, as_json = demo_run
    settings = Settings(data_dir=out, database_url=f"sqlite:///{out / 'dermatrack.db'}")
    document = json.loads((out / "repeatability.json").read_text())
    assert "device repeatability" in document["source"]
    assert {m["kind"] for m in document["metrics"]} == {"surface", "colour", "elasticity",
                                                         "spectral", "elastography"}
    mdc = load_mdc(settings)
    for kind, metric in (("surface", "Sa"), ("colour", "a_star"), ("elasticity", "R2")):
        value, source = mdc.lookup(kind, metric, "cheeks")
        assert value > 0 and "device repeatability" in source
    # Device metrics are judged (no "MDC unknown"); photo metrics keep the imaging MDC.
    assert "phantoms" in mdc.lookup("photo", "wrinkles.length_mm", "whole")[1]
    with open_store(settings) as store:
        timeline = patient_timeline(store, next(iter(as_json.json()["treated"])))
    device = [s for s in timeline.series if s.kind in ("surface", "colour", "elasticity")
              and s.metric in ("Sa", "a_star", "R2")]
    assert device and all(s.points[-1].verdict is not None for s in device)


def test_report_command_on_the_demo_directory_says_synthetic(demo_run, cli, monkeypatch,
                                                             tmp_path):
    from bs4 import BeautifulSoup

    from dermatrack.config import DATA_DIR_ENV, DATABASE_URL_ENV

    out, _, as_json = demo_run
    monkeypatch.setenv(DATA_DIR_ENV, str(out))
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    patient = as_json.json()["patients"][0]
    for args in (("patient", patient), ("cohort",)):
        target = tmp_path / f"{args[0]}.html"
        result = cli("report", *args, "--out", str(target))
        assert result.code == 0, result.stderr
        banner = BeautifulSoup(target.read_text(), "html.parser").find(class_="synthetic")
        assert banner is not None and "synthetic" in banner.get_text()


def test_demo_has_a_patient_with_spectral_and_elastography_series(demo_run):
    """Patient index 0 (and every fifth) is measured with the spectrophotometer and the
    elastography system at baseline, month 1 and month 3; both series are judged against
    the clinic's MDC like the other devices."""
    import html

    from dermatrack.config import Settings
    from dermatrack.metrics import metric_definition
    from dermatrack.services.common import open_store
    from dermatrack.services.observations import list_observations
    from dermatrack.services.outcomes import patient_timeline

    out, _, as_json = demo_run
    settings = Settings(data_dir=out, database_url=f"sqlite:///{out / 'dermatrack.db'}")
    found = 0
    with open_store(settings) as store:
        for patient_id in as_json.json()["treated"]:
            spectral = list_observations(store, patient_id=patient_id, kind="spectral")
            if not spectral:
                continue
            found += 1
            swe = list_observations(store, patient_id=patient_id, kind="elastography")
            assert len({o.visit_id for o in spectral}) == 3
            assert len({o.visit_id for o in swe}) == 3
            speeds = [o.value for o in swe if o.metric == "speed_median_m_s"]
            assert all(2.0 < v < 4.0 for v in speeds)  # the dermis ROI, not the fat
            mi = [o.value for o in spectral if o.metric == "melanin_index_dawson"]
            assert len(mi) == 9 and all(v > 0 for v in mi)
            timeline = patient_timeline(store, patient_id)
            judged = [s for s in timeline.series if s.kind in ("spectral", "elastography")
                      and s.metric in ("l_star", "youngs_modulus_median_kpa")]
            assert len(judged) == 2
            assert all(s.points[-1].verdict is not None for s in judged)
            report = (out / "reports" / f"{patient_id}.html").read_text(encoding="utf-8")
            for kind, metric in (("elastography", "youngs_modulus_median_kpa"),
                                 ("spectral", "melanin_index_dawson"),
                                 ("spectral", "erythema_index_dawson")):
                label = metric_definition(kind, metric).label  # reports show names
                assert label in html.unescape(report), label
    assert found >= 1


def test_demo_stores_alignments_completes_plans_and_peels_with_one_agent(demo_run,
                                                                       monkeypatch):
    """Every follow-up photograph is stored with its alignment onto the baseline (pages
    read it); plans whose sessions were all carried out are completed; a superficial
    peel session applies one agent; the output carries no native log lines."""
    from sqlalchemy import select

    from dermatrack.config import DATA_DIR_ENV, DATABASE_URL_ENV, load_settings
    from dermatrack.services.common import open_store
    from dermatrack.store.models import (
        Photo,
        PhotoDerivative,
        TreatmentPlan,
        TreatmentSession,
        Visit,
    )

    out, human, as_json = demo_run
    for run in (human, as_json):
        for noise in ("absl::InitializeLog", "TensorFlow Lite", "W0000", "XNNPACK"):
            assert noise not in run.stderr and noise not in run.stdout
    monkeypatch.setenv(DATA_DIR_ENV, str(out))
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    with open_store(load_settings()) as store, store.reading() as session:
        photos = session.execute(select(Photo, Visit.date).join(
            Visit, Photo.visit_id == Visit.id).order_by(Visit.date)).all()
        first: dict[str, str] = {}
        followups = []
        for photo, _day in photos:
            if photo.patient_id in first:
                followups.append((first[photo.patient_id], photo.id))
            else:
                first[photo.patient_id] = photo.id
        assert followups
        aligned = {(d.baseline_id, d.photo_id) for d in session.scalars(
            select(PhotoDerivative).where(PhotoDerivative.kind == "alignment"))}
        assert set(followups) <= aligned
        displays = {d.photo_id for d in session.scalars(
            select(PhotoDerivative).where(PhotoDerivative.kind == "display"))}
        assert {p.id for p, _ in photos} <= displays
        statuses = {plan.status for plan in session.scalars(select(TreatmentPlan))}
        assert statuses == {"completed"}
        for treatment in session.scalars(select(TreatmentSession).where(
                TreatmentSession.modality == "superficial_peel")):
            agents = {code.split("_")[0] for code in treatment.parameters}
            assert len(agents) == 1, treatment.parameters
