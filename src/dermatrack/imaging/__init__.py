"""Objective skin metrics from photographs: arrays in, arrays and plain results out.

Modules by topic: ``io`` (the adapter that decodes and writes files), ``colour`` (CIELAB,
ΔE2000, ColorChecker calibration), ``chart`` (a rendered ColorChecker), ``regions`` (face
landmarks and region masks), ``scale`` (mm per pixel) and ``align`` (follow-up to
baseline registration), with the metric modules beside them. Import the module you need;
nothing heavy is imported here.
"""
