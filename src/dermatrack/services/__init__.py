"""The application layer: one transaction per call, the audit trail, the core's checks.

The CLI and the web app both call these functions; neither opens a database session of
its own. Inputs and outputs are pydantic models (the web app reuses them as request and
response models); ``.model_dump(mode="json")`` gives the ``--json`` form.

Typical use::

    from dermatrack.services.common import open_store
    from dermatrack.services import patients

    with open_store() as store:
        patient = patients.add_patient(store, patients.PatientIn(...), actor="dr.lee")
"""
