"""Structural validation of FHIR resources with ``fhir.resources`` (R4B models).

``fhir.resources`` 8 makes R5 its default package; ``fhir.resources.R4B`` holds the 4.3.0
models, which are wire-compatible with R4 for the resources dermatrack exchanges. The
models check structure, cardinality, data types and required elements, not code
bindings; dermatrack checks the codes it reads itself
(:mod:`dermatrack.interop.fhir.reading`).
"""

from __future__ import annotations

from typing import Any

from dermatrack.errors import InputError


def _where(loc: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def validate_resource(resource: Any, *, where: str = "resource") -> Any:
    """The ``fhir.resources.R4B`` model of a resource dict, or :class:`InputError`.

    The message names the resource (``Observation/O-123``) and the field
    (``valueQuantity.value``) of the first problem found.
    """
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError

    if not isinstance(resource, dict):
        raise InputError(f"{where}: a resource must be a JSON object", field=where)
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str) or not resource_type:
        raise InputError(f"{where}: resourceType is missing", field=f"{where}.resourceType")
    name = f"{resource_type}/{resource.get('id', '?')}"
    try:
        model = get_fhir_model_class(resource_type)
    except (KeyError, ValueError, AttributeError):
        raise InputError(f"{where} {name}: {resource_type!r} is not a FHIR R4 resource type",
                         field=f"{where}.resourceType") from None
    try:
        return model.model_validate(resource)
    except ValidationError as error:
        first = error.errors()[0]
        field = _where(first["loc"]) or "resource"
        message = first["msg"].removeprefix("Value error, ")
        prefix = f"{where}.resource" if where.startswith("entry") else where
        raise InputError(f"{where} {name}: {field}: {message}",
                         field=f"{prefix}.{field}") from None
