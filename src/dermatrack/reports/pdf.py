"""PDF reports: the HTML reports of :mod:`.html` rendered by weasyprint.

The HTML holds its images as data URIs and its styles inline (A4 pages, DejaVu fonts),
so the PDF needs no other file and nothing is fetched from the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dermatrack.services.common import Store


def html_to_pdf(html: str) -> bytes:
    """Render a standalone HTML document to PDF bytes."""
    from weasyprint import HTML

    return HTML(string=html, base_url=None).write_pdf()


def patient_report_pdf(store: Store, patient_id: str, **options: Any) -> bytes:
    """:func:`dermatrack.reports.html.patient_report_html` as a PDF."""
    from dermatrack.reports.html import patient_report_html

    return html_to_pdf(patient_report_html(store, patient_id, **options))


def cohort_report_pdf(store: Store, *, modality: str | None = None,
                      patient_links: Mapping[str, str] | None = None,
                      **options: Any) -> bytes:
    """:func:`dermatrack.reports.html.cohort_report_html` as a PDF."""
    from dermatrack.reports.html import cohort_report_html

    return html_to_pdf(cohort_report_html(store, modality=modality,
                                          patient_links=patient_links, **options))
