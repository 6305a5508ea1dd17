"""Device measurements: profilometry height maps, colorimetry and skin elasticity.

Modules
-------
surface
    Form removal, ISO 16610-61 Gaussian S- and L-filters, ISO 25178-2 areal parameters,
    ISO 21920-2 profile parameters across the furrows, furrow depth and volume.
colorimetry
    CIELAB readings (D65/2°), ITA° and its category, Mexameter-style indices.
spectra
    Reflectance spectra: CIELAB for any CIE illuminant and the 2°/10° observers, ITA°,
    Dawson and Diffey melanin and erythema indices.
elasticity
    Suction (Cutometer-style) curves: U-values, R0-R9, Q-parameters.
elastography
    Shear-wave speed or modulus maps: per-ROI median and IQR of speed and Young's modulus.
tables
    Comment headers and CSV rows of the device text exports.
io, native, elastography_io
    File readers (the adapter): X3P, SDF, CSV/text, TIFF and NPY height maps; Digital Surf
    .sur and Zygo .datx; elastography DICOM, CSV and TIFF maps; text tables.

The core modules take arrays or text and return plain results; only the readers touch files.
"""
