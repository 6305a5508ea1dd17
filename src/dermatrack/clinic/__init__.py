"""The clinic domain core: what a clinic decides and records, with no I/O.

* :mod:`~dermatrack.clinic.intake` checks a patient's clinical facts (``PATIENT.json``).
* :mod:`~dermatrack.clinic.screening` evaluates the knowledge base's contraindication rules.
* :mod:`~dermatrack.clinic.planning` ranks modalities and proposes a course of sessions.
* :mod:`~dermatrack.clinic.charting` checks session parameters, reactions and adverse events.
* :mod:`~dermatrack.clinic.scales` holds the clinician scales and checks recorded scores.
* :mod:`~dermatrack.clinic.questionnaire` scores FHIR Questionnaire-shaped instruments.

Every function takes plain values and dataclasses and returns the same; bad input raises
:class:`dermatrack.errors.InputError` naming the field. The only files read are the bundled
package data (the knowledge base, ``clinic/data/``).
"""
