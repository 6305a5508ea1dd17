"""The live pose and lighting check of the guided photo capture (clinicians).

The capture page posts a downscaled camera frame every second or so; the answer says how
far the head pose is from the baseline photograph of the same view (or from the view's
standard angle when there is no baseline) and whether the light is usable.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile

from dermatrack.web.api.photos import read_limited
from dermatrack.web.deps import Principal, StoreDep, require

router = APIRouter(tags=["photos"])


@router.post("/patients/{patient_id}/capture/check", response_model=None)
async def check_frame(request: Request, patient_id: str,
                      store: StoreDep,
                      frame: UploadFile = File(..., description="A JPEG camera frame"),
                      view: str = Form(...), principal: Principal = Depends(require("photos"))
                      ) -> dict[str, Any]:
    from starlette.concurrency import run_in_threadpool

    from dermatrack.services import capture
    from dermatrack.services.capture import MAX_FRAME_BYTES
    from dermatrack.services.common import get_patient

    def known_patient() -> None:
        with store.reading() as session:
            get_patient(session, patient_id)

    # The handler is async only to read the upload; database work runs in the pool.
    await run_in_threadpool(known_patient)
    data = await read_limited(frame, MAX_FRAME_BYTES)
    return await run_in_threadpool(capture.check_frame, store, patient_id, view, data)
