"""Shared parameter types of the API routes.

:data:`IsoDate` is a calendar date written ``YYYY-MM-DD`` and nothing else. pydantic's
lax ``date`` also reads a number as seconds since 1970 (``on=0`` became 1970-01-01) and
accepts a few other spellings; a clinical date given that way is always a mistake, so it
is a 422 naming the parameter.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("a date is written YYYY-MM-DD, e.g. 2025-03-14")
    return dt.date.fromisoformat(value)


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
"""A ``YYYY-MM-DD`` date (OpenAPI ``format: date``); numbers and other forms are refused."""

InputT = TypeVar("InputT", bound=BaseModel)


def for_patient(model: type[InputT], body: BaseModel, patient_id: str) -> InputT:
    """A service's input ``model`` built from a request ``body`` and the patient the path
    names.

    ``body`` is a model of ``model``'s other fields (its base class, with the same
    definitions), validated already by FastAPI, so its values are taken as they are rather
    than validated a second time; a ``patient_id`` in the body is ignored, as the path's
    wins.
    """
    values = {name: getattr(body, name) for name in model.model_fields if name != "patient_id"}
    fields_set = (body.model_fields_set - {"patient_id"}) | {"patient_id"}
    return model.model_construct(fields_set, patient_id=patient_id, **values)
