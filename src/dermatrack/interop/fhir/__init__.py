"""HL7 FHIR R4 (R4B models) mapping of the clinical record: :mod:`.mapping` writes
resources, :mod:`.reading` reads them back, :mod:`.validate` checks them with
``fhir.resources``."""
