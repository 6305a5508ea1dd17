"""Reports: HTML and PDF renderings of a patient's progress and of a cohort, and their plots.

* :mod:`.html`: :func:`~.html.patient_report_html`, :func:`~.html.cohort_report_html`;
* :mod:`.pdf`: the same as PDF (weasyprint);
* :mod:`.plots`: matplotlib figures (metric trajectories, forest plot) as PNG bytes;
* :mod:`.figures`: aligned before/after photographs with the change overlay.
"""
