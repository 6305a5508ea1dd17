"""The demo's photographs: rendered and analysed in the workers, stored by the main process.

:func:`photo_job` renders one patient's photographs at each photographed visit
(:mod:`dermatrack.demo.images`), writes them as PNG and analyses them, aligning each later
photograph onto the first, as the photo service would; :func:`photograph_all` sends those
jobs and the repeatability captures to the workers and imports every photograph with its
analysis through the photo service (SQLite has one writer), then saves the imaging MDC95.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from dermatrack.demo.design import PatientDesign
from dermatrack.demo.records import ACTOR, PHOTO_TIMEPOINTS, DemoResult, Progress
from dermatrack.demo.repeatability import imaging_mdc, repeatability_design


def photo_job(job: dict[str, Any]) -> dict[str, Any]:
    """Render one patient's photographs at each visit, write them as PNG and analyse them.

    The demo's photographs hold no ColorChecker, so the chart search is skipped.
    """
    import cv2

    from dermatrack.demo import images
    from dermatrack.services.photos import analyze_file

    design: PatientDesign = job["design"]
    phantom = design.photo_source == "phantom"
    mm_per_px, use_face = (images.PHANTOM_MM_PER_PX, False) if phantom else (None, True)
    renderer = images.PatientPhotographer(design, quick=job["quick"])
    shots = []
    for visit in job["visits"]:
        rgb, truth = renderer.photograph(visit["timepoint"], visit["number"])
        path = Path(job["incoming"]) / f"{visit['visit_id']}.png"
        # Lowest PNG compression: the file lives a few seconds and is read once.
        pixels = cv2.cvtColor((np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8),
                              cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(path), pixels, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        shots.append({**visit, "path": str(path), "truth": truth,
                      "analysis": analyze_file(path, mm_per_px=mm_per_px, use_face=use_face,
                                               calibrate=False)})
    # Each later photograph aligned onto the first here, in the worker, as the photo
    # service would when storing it (the main process only stores the result).
    if shots and shots[0]["analysis"].display is not None:
        from dermatrack.services.derived import compute_alignment, pack_display

        first = pack_display(shots[0]["analysis"].display)
        for shot in shots[1:]:
            if shot["analysis"].display is not None:
                shot["alignment"] = compute_alignment(first,
                                                      pack_display(shot["analysis"].display))
    return {**job, "shots": shots, "use_face": use_face}


def photograph_all(store: Any, result: DemoResult, built: list[dict[str, Any]], pool: Any,
                    *, seed: int, quick: bool, tick: Progress) -> None:
    """Render and analyse every photograph and the repeatability captures in the workers;
    import the photographs and save the imaging MDC95 here."""
    from dermatrack.services.derived import save_alignment
    from dermatrack.services.outcomes import save_mdc
    from dermatrack.services.photos import import_photo

    settings = result.settings
    incoming = Path(tempfile.mkdtemp(prefix=".incoming-", dir=settings.data_dir))
    jobs = [{"type": "photo", "design": result.designs[record["patient"].id],
             "patient_id": record["patient"].id, "quick": quick, "incoming": str(incoming),
             "visits": [{"timepoint": timepoint, "number": number,
                         "visit_id": record["visits"][timepoint].id}
                        for number, timepoint in enumerate(PHOTO_TIMEPOINTS)
                        if timepoint in record["visits"]]}
            for record in built]
    subjects, captures = repeatability_design(quick)
    repeat_jobs = [{"type": "repeatability", "seed": seed * 1000 + 500 + subject,
                    "capture": capture, "quick": quick}
                   for subject in range(subjects) for capture in range(captures)]
    tick("Analysing photographs", sum(len(j["visits"]) for j in jobs) + len(repeat_jobs))
    repeated = []
    try:
        for done in pool(jobs + repeat_jobs):
            if done["type"] == "repeatability":
                repeated.append(done)
                tick("Analysing photographs", None)
                continue
            first_id = None
            for shot in done["shots"]:
                stored = import_photo(store, patient_id=done["patient_id"],
                                      visit_id=shot["visit_id"], path=shot["path"],
                                      actor=ACTOR, analysis=shot["analysis"],
                                      use_face=done["use_face"], stored_format="jpeg",
                                      align="alignment" not in shot and first_id is not None)
                if first_id is None:
                    first_id = stored.id
                elif "alignment" in shot:
                    save_alignment(store, first_id, stored.id, shot["alignment"], actor=ACTOR)
                if shot["truth"] is not None:
                    result.truth.setdefault(done["patient_id"], {})[shot["timepoint"]] = \
                        shot["truth"]
                Path(shot["path"]).unlink(missing_ok=True)
                tick("Analysing photographs", None)
    finally:
        shutil.rmtree(incoming, ignore_errors=True)
    save_mdc(settings, imaging_mdc(repeated),
             source=f"imaging validation: {subjects} phantoms x {captures} captures under "
                    "ordinary capture changes (dermatrack demo)")
