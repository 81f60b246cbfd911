"""Real PDFs for tests, drawn with reportlab (dev extra): one list of lines per page."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

REPORT = [
    ["Annual report of the lighthouse keepers.", "The lamp was cleaned every morning."],
    ["The new lens was installed in March.", "Storms broke three windows in the tower.", "Keepers logged"],
    ["every passing ship by name.", "The fog horn sounds twice a minute in fog."],
]  # page 2 ends and page 3 starts in the middle of a sentence


def make_pdf(path: Path, pages: Sequence[Sequence[str]] = REPORT) -> Path:
    """Write a PDF with one page per item, each line drawn as its own text line."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    for lines in pages:
        y = 780
        for line in lines:
            pdf.drawString(72, y, line)
            y -= 18
        pdf.showPage()
    pdf.save()
    return path
