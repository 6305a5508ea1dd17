"""DICOM for photographs: VL Photographic Image files (:mod:`.photo`) and a DICOMweb
client for STOW-RS, QIDO-RS and WADO-RS (:mod:`.web`)."""
