"""Exchange with other systems: HL7 FHIR R4 for the record, DICOM for photographs.

These are adapters: they turn the store's rows into exchange documents and back, and read
and write files and servers. The mapping is documented in ``docs/interoperability.md``;
the code tables it uses live in ``codes.yaml`` with their sources.
"""
