"""Test data of the web app tests: small images and a patient."""

from __future__ import annotations

PASSWORD = "a long enough password"
"""Password of every test account."""
ROLES = ("clinician", "reception", "researcher", "admin")

def png_bytes(height: int = 96, width: int = 128, seed: int = 0, shift: int = 0) -> bytes:
    """A small textured PNG (a smooth pattern plus noise, in skin colours so that it
    passes as a close-up of skin), optionally shifted."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = 0.5 + 0.25 * np.sin((x + shift) / 7.0) * np.cos(y / 9.0)
    rgb = np.stack([base, base * 0.8, base * 0.7], axis=2) + rng.normal(0, 0.02, (height, width, 3))
    pixels = (np.clip(rgb, 0, 1) * 255).astype(np.uint8)
    ok, buffer = cv2.imencode(".png", np.ascontiguousarray(pixels[..., ::-1]))  # RGB -> BGR
    assert ok
    return buffer.tobytes()


NEW_PATIENT = {
    "age": 41, "sex": "female", "fitzpatrick": "III",
    "concerns": [{"code": "fine_lines", "region": "periorbital", "severity": 2}],
    "identity": {"name": "Ada Lovelace", "email": "ada@example.org", "phone": "+44 20 7946 0000"},
    # Charting, photographs and cohort inclusion need these on file (issue 16).
    "consents": [{"kind": kind, "version": "paper-1", "signed_at": "2025-06-01T09:00:00Z"}
                 for kind in ("treatment", "photography", "research")],
}
