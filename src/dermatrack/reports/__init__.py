"""Reports: HTML and PDF renderings of a patient's progress and of a cohort, and their plots.

Pure renderers of the typed views built by :mod:`dermatrack.services.reports` (which
adapters call): nothing here reads the store or analyses an image.

* :mod:`.html`: :func:`~.html.render_patient_report`, :func:`~.html.render_cohort_report`;
* :mod:`.sheet`: :func:`~.sheet.render_sheet`, the patient sheet;
* :mod:`.pdf`: HTML to PDF (weasyprint);
* :mod:`.plots`: matplotlib figures (metric trajectories, forest plot) as PNG bytes;
* :mod:`.labels`: human labels of every code.
"""
