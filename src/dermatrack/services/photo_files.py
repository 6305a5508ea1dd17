"""The stored pixels of a photograph: the file of a ``photo`` row, checked, and its pixels.

Below both :mod:`dermatrack.services.photos` (which stores photographs) and
:mod:`dermatrack.services.derived` (which makes a screen copy of a photograph stored before
derived images existed): both read a stored photograph through here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dermatrack.errors import NotFoundError
from dermatrack.services.common import Store, get_row
from dermatrack.store.models import Photo


def photo_file(store: Store, photo_id: str) -> Path:
    """Path of a stored photograph's pixels (checked against their digest).

    Raises
    ------
    NotFoundError
        No such photograph, or its file is missing or corrupted.
    """
    from dermatrack.store.files import read_bytes

    with store.reading() as session:
        photo = get_row(session, Photo, photo_id)
        relative = photo.stored_path
    read_bytes(store.settings.files_dir, relative)  # raises when missing or corrupted
    path = store.settings.files_dir / relative
    if not path.is_file():
        raise NotFoundError(f"stored file missing for photo {photo_id}")
    return path


def load_photo_rgb(store: Store, photo_id: str) -> np.ndarray:
    """The stored pixels of a photograph as float32 sRGB in [0, 1]."""
    from dermatrack.imaging.io import read_image

    return read_image(photo_file(store, photo_id)).rgb
