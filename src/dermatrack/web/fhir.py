"""A read-only FHIR R4 API under ``/fhir``, with the app's own sign-in, roles and audit.

* ``GET /fhir/metadata``: the ``CapabilityStatement`` (no sign-in, as FHIR servers do).
* ``GET /fhir/{type}/{id}``: one resource; ``GET /fhir/{type}?patient=&code=&date=``: a
  ``searchset`` Bundle. ``code`` is ``code`` or ``system|code`` (comma for any of
  several); ``date`` is ``[eq|ne|ge|le|gt|lt]YYYY-MM-DD`` and may be repeated.

Resources are built exactly as the FHIR export builds them
(:mod:`dermatrack.services.fhir`). Who gets what:

* anonymous: 401; admin: 403 (no patient data);
* clinician: every resource type, pseudonymous ids, names and contacts on ``Patient``;
* reception: ``Patient``, ``Consent`` and ``Encounter`` only (demographics, scheduling);
* researcher: de-identified searches only (ids re-keyed on every request, each patient's
  dates shifted, no identities, free text, lots or photographs); reading by id or
  searching by patient is refused, since de-identified ids exist for one answer only.

Every answer with patient data is recorded in the audit trail.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse

from dermatrack import __version__
from dermatrack.services.common import Store
from dermatrack.services.fhir import SEARCHABLE
from dermatrack.web.deps import Principal, StoreDep, api_user, audit_reads

router = APIRouter(prefix="/fhir", tags=["fhir"])

FHIR_JSON = "application/fhir+json"
RECEPTION_TYPES = ("Patient", "Consent", "Encounter")
SEARCH_PARAMS = ("patient", "code", "date")


def _response(body: dict[str, Any], code: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=code, media_type=FHIR_JSON)


def _outcome(code: int, issue: str, text: str) -> JSONResponse:
    return _response({"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": issue, "diagnostics": text}]}, code)


@router.get("/metadata")
def metadata(request: Request) -> JSONResponse:
    """The server's CapabilityStatement: read and search of each resource type."""
    base = str(request.base_url).rstrip("/") + "/fhir"
    resources = []
    for kind in SEARCHABLE:
        params = [{"name": "patient", "type": "reference"},
                  {"name": "code", "type": "token"},
                  {"name": "date", "type": "date"}] if kind != "CodeSystem" else []
        resources.append({"type": kind, "interaction": [{"code": "read"},
                                                        {"code": "search-type"}],
                          "searchParam": params})
    return _response({
        "resourceType": "CapabilityStatement", "status": "active",
        "date": dt.date.today().isoformat(), "kind": "instance",
        "software": {"name": "dermatrack", "version": __version__},
        "implementation": {"description": "dermatrack clinic FHIR API (read-only)",
                           "url": base},
        "fhirVersion": "4.3.0", "format": ["json"],
        "rest": [{"mode": "server", "security": {
            "description": "Bearer token from POST /api/token or the web app's session; "
                           "roles: clinician (all), reception (Patient, Consent, "
                           "Encounter), researcher (de-identified searches only)."},
            "resource": resources}]})


def _allowed(principal: Principal, resource_type: str) -> tuple[bool, bool]:
    """(de-identified, identity) for this principal and type, or 403."""
    if resource_type not in SEARCHABLE:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"{resource_type} is not served (types: {', '.join(SEARCHABLE)})")
    if principal.can("clinical"):
        return False, True
    if principal.can("demographics"):
        if resource_type not in RECEPTION_TYPES and resource_type != "CodeSystem":
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"the {principal.role} role may read "
                                f"{', '.join(RECEPTION_TYPES)} only")
        return False, True
    if principal.can("cohort"):
        return True, False
    raise HTTPException(status.HTTP_403_FORBIDDEN,
                        f"the {principal.role} role may not read patient data")


def _photo_url(photo: Any) -> str:
    return f"/api/patients/{photo.patient_id}/photos/{photo.id}/image"


def _resources(store: Store, resource_type: str, patient_id: str | None, deidentified: bool,
               identity: bool) -> list[dict[str, Any]]:
    from dermatrack.services.fhir import api_resources

    return api_resources(store, patient_id=patient_id, deidentified=deidentified,
                         with_identity=identity,
                         photo_url=None if deidentified else _photo_url,
                         reports=resource_type == "DiagnosticReport")


def _audit(store: Store, principal: Principal, resource_type: str, found: list[dict[str, Any]],
           deidentified: bool, patient_ids: list[str]) -> None:
    purpose = "fhir-api-deidentified" if deidentified else "fhir-api"
    fields = ("fhir", resource_type, *(("identity",) if resource_type == "Patient"
                                       and principal.can("demographics") else ()))
    if patient_ids:
        audit_reads(store, principal, "patient", patient_ids, fields=fields, purpose=purpose)


@router.get("/{resource_type}/{resource_id}")
def read(resource_type: str, resource_id: str, store: StoreDep,
         principal: Principal = Depends(api_user)) -> JSONResponse:
    from dermatrack.services.fhir import patients_of

    deidentified, identity = _allowed(principal, resource_type)
    if deidentified:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            "the researcher role gets de-identified searches only "
                            f"(GET /fhir/{resource_type}); ids are re-keyed on every answer")
    from dermatrack.errors import NotFoundError
    from dermatrack.services.fhir import patient_of

    if resource_type == "CodeSystem":
        from dermatrack.interop.fhir.mapping import metric_code_system

        code_system = metric_code_system()
        if resource_id != code_system["id"]:
            return _outcome(404, "not-found", f"no CodeSystem/{resource_id}")
        return _response(code_system)
    patient_id = patient_of(store, resource_type, resource_id)
    if patient_id is None:
        return _outcome(404, "not-found", f"no {resource_type}/{resource_id}")
    try:
        resources = _resources(store, resource_type, patient_id, False, identity)
    except NotFoundError:
        return _outcome(404, "not-found", f"no {resource_type}/{resource_id}")
    found = [r for r in resources if r["resourceType"] == resource_type
             and r["id"] == resource_id]
    if not found:
        return _outcome(404, "not-found", f"no {resource_type}/{resource_id}")
    _audit(store, principal, resource_type, found, False, patients_of(found))
    if principal.can("demographics") and not principal.can("clinical"):
        return _response(_demographic(found[0]))
    return _response(found[0])


@router.get("/{resource_type}")
def search(request: Request, resource_type: str,
           store: StoreDep, patient: str | None = Query(None, description="Patient/<id> or <id>"),
           code: str | None = Query(None, description="code or system|code"),
           date: list[str] | None = Query(None, description="[prefix]YYYY-MM-DD"),
           principal: Principal = Depends(api_user)
           ) -> JSONResponse:
    from dermatrack.errors import InputError, NotFoundError
    from dermatrack.services.fhir import make_bundle, patients_of
    from dermatrack.services.fhir import search as run_search

    unknown = sorted(set(request.query_params) - set(SEARCH_PARAMS) - {"_format"})
    if unknown:
        return _outcome(400, "not-supported", f"unsupported search parameter(s): "
                                              f"{', '.join(unknown)} (supported: "
                                              f"{', '.join(SEARCH_PARAMS)})")
    deidentified, identity = _allowed(principal, resource_type)
    if deidentified and patient:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            "the researcher role may not search by patient: it gets "
                            "de-identified data only")
    patient_id = patient.split("/")[-1] if patient else None
    try:
        resources = _resources(store, resource_type, patient_id, deidentified, identity)
        found = run_search(resources, resource_type, patient=None, code=code, dates=date)
    except NotFoundError:
        found = []
    except InputError as error:
        return _outcome(400, "invalid", str(error))
    if principal.can("demographics") and not principal.can("clinical"):
        found = [_demographic(r) for r in found]
    _audit(store, principal, resource_type, found, deidentified,
           [] if deidentified else patients_of(found))
    if deidentified and found:
        from dermatrack.services.audit import record_read

        with store.transaction(principal.actor) as session:
            record_read(session, entity="cohort", entity_id=f"fhir/{resource_type}",
                        fields=("fhir", resource_type), purpose="fhir-api-deidentified")
    base = str(request.base_url).rstrip("/") + "/fhir"
    return _response(make_bundle(found, base=base, bundle_type="searchset"))


def _demographic(resource: dict[str, Any]) -> dict[str, Any]:
    """What reception sees of a resource: no clinical notes on encounters."""
    if resource["resourceType"] == "Encounter":
        resource = {k: v for k, v in resource.items() if k != "extension"}
    return resource
