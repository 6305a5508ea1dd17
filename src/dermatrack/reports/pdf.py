"""PDF reports: the HTML reports of :mod:`.html` and :mod:`.sheet` rendered by weasyprint.

The HTML holds its images as data URIs and its styles inline (A4 pages, DejaVu fonts),
so the PDF needs no other file and nothing is fetched from the network. The report
service (:mod:`dermatrack.services.reports`) offers each report as a PDF.
"""

from __future__ import annotations


def html_to_pdf(html: str) -> bytes:
    """Render a standalone HTML document to PDF bytes."""
    from weasyprint import HTML

    return HTML(string=html, base_url=None).write_pdf()
