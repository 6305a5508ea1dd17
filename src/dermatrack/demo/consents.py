"""Consents of the demo clinic's patients, signed on the screen as a clinic would have them
(issue 16): the neutral example templates, a synthetic signature drawn from the patient's
index, the reception account as witness, signed on the consultation day."""

from __future__ import annotations

import base64
import datetime as dt

import numpy as np

from dermatrack.services.common import Store

KINDS = ("treatment", "photography", "research")


def synthetic_signature(index: int) -> str:
    """A PNG data URL of a scribble unique to ``index`` (no real person's signature)."""
    import cv2

    rng = np.random.default_rng(10_000 + index)
    canvas = np.full((130, 420, 3), 255, np.uint8)
    xs = np.linspace(25, 395, 9)
    ys = 65 + rng.normal(0, 22, xs.size)
    points = np.stack([xs, np.clip(ys, 15, 115)], axis=1).astype(np.int32)
    cv2.polylines(canvas, [points], False, (25, 25, 25), 3, lineType=cv2.LINE_AA)
    ok, buffer = cv2.imencode(".png", canvas)
    assert ok
    return "data:image/png;base64," + base64.b64encode(buffer.tobytes()).decode()


def sign_demo_consents(store: Store, patient_id: str, index: int, day: dt.date, *,
                       actor: str) -> list[str]:
    """Sign the treatment, photography and research example forms for a demo patient at
    09:00 UTC on ``day``; returns the consent ids."""
    from dermatrack.services import consent

    active = {t.kind: t for t in consent.list_templates(store, active_only=True)
              if t.scope == "any"}
    if any(kind not in active for kind in KINDS):
        consent.load_examples(store, actor=actor)
        active = {t.kind: t for t in consent.list_templates(store, active_only=True)
                  if t.scope == "any"}
    signed_at = dt.datetime.combine(day, dt.time(9, 0), tzinfo=dt.UTC)
    signature = synthetic_signature(index)  # one patient, one scribble: drawn once
    return [consent.sign(store, {"patient_id": patient_id, "template_id": active[kind].id,
                                 "witness": "reception (demo)",
                                 "signature_png": signature},
                         actor=actor, now=signed_at).consent_id
            for kind in KINDS]
