"""Device measurements: profilometry height maps, colorimetry and skin elasticity.

Modules
-------
surface
    Form removal, ISO 16610-61 Gaussian S- and L-filters, ISO 25178-2 areal parameters,
    ISO 21920-2 profile parameters across the furrows, furrow depth and volume.
colorimetry
    CIELAB readings (D65/2°), ITA° and its category, Mexameter-style indices.
elasticity
    Suction (Cutometer-style) curves: U-values, R0-R9, Q-parameters.
tables
    Comment headers and CSV rows of the device text exports.
io
    File readers (the adapter): X3P, SDF, CSV/text, TIFF and NPY height maps; text tables.

The core modules take arrays or text and return plain results; only :mod:`.io` touches files.
"""
