"""The report as a PDF (SPEC §8.3): A4 landscape, DejaVu Serif embedded, header row repeated on
every page, "Trang n/N", and who printed it when.

``build_report_pdf`` is pure: a ``Report`` (plain data) and the printing person's name and time in,
bytes out. Unit and person names are typed by people, so each is escaped before it becomes
Paragraph markup: a unit called ``<b>Phòng</b>`` prints those characters, and ``<para>`` or a stray
``&`` cannot stop the build (CVE-2023-33733 shows what unescaped markup can do).
"""

from __future__ import annotations

from datetime import datetime
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from portal.pdf_fonts import SERIF, SERIF_BOLD, register_fonts
from portal.reports.services import Report

PAGE_WIDTH, PAGE_HEIGHT = landscape(A4)
MARGIN = 15 * mm
SIZE = 9.5


def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=SERIF, fontSize=SIZE, leading=SIZE * 1.3)
    return {
        "body": body,
        "bold": ParagraphStyle("bold", parent=body, fontName=SERIF_BOLD),
        "num": ParagraphStyle("num", parent=body, alignment=TA_RIGHT),
        "num_bold": ParagraphStyle("num_bold", parent=body, fontName=SERIF_BOLD, alignment=TA_RIGHT),
        "head": ParagraphStyle("head", parent=body, fontName=SERIF_BOLD, alignment=TA_CENTER),
        "org": ParagraphStyle("org", parent=body, fontName=SERIF_BOLD, fontSize=11, leading=14),
        "title": ParagraphStyle("title", parent=body, fontName=SERIF_BOLD, fontSize=14, leading=18,
                                alignment=TA_CENTER, spaceBefore=6, spaceAfter=2),
        "subtitle": ParagraphStyle("subtitle", parent=body, fontSize=11, leading=14, alignment=TA_CENTER,
                                   spaceAfter=8),
    }


def _value(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


class _NumberedCanvas(Canvas):
    """Keeps each page until the end so "Trang n/N" knows N (ReportLab's two-pass recipe)."""

    footer_left = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont(SERIF, 8)
            self.setFillColor(colors.grey)
            self.drawString(MARGIN, 8 * mm, self.footer_left)
            self.drawRightString(PAGE_WIDTH - MARGIN, 8 * mm, f"Trang {self._pageNumber}/{total}")
            super().showPage()
        super().save()


def build_report_pdf(report: Report, printed_by: str, printed_at: datetime) -> bytes:
    """``printed_at`` is already local time; nothing here reads the clock, session or request."""
    register_fonts()
    styles = _styles()
    scope = report.organisation + (f" – {report.unit}" if report.unit else "")
    subtitle = f"{report.period.label} · {report.grouping.label if report.detail else 'Cấp cơ quan'}"
    story: list[Any] = [
        Paragraph(escape(scope.upper()), styles["org"]),
        Paragraph(escape(report.title.upper()), styles["title"]),
        Paragraph(escape(f"{subtitle} · Từ ngày {report.period.start:%d/%m/%Y} đến ngày "
                         f"{report.period.last_day:%d/%m/%Y}"), styles["subtitle"]),
    ]
    header = [Paragraph("TT", styles["head"]), Paragraph(escape(report.group_label), styles["head"])]
    header += [Paragraph(escape(col.label), styles["head"]) for col in report.columns]
    totals = [Paragraph("", styles["bold"]), Paragraph(escape(report.totals.label), styles["bold"])]
    totals += [Paragraph(_value(report.totals.values[c.key]), styles["num_bold"]) for c in report.columns]
    data = [header, totals]
    for i, row in enumerate(report.rows, start=1):
        data.append([Paragraph(str(i), styles["num"]), Paragraph(escape(row.label), styles["body"])]
                    + [Paragraph(_value(row.values[c.key]), styles["num"]) for c in report.columns])
    usable = PAGE_WIDTH - 2 * MARGIN
    name_width = 70 * mm
    other = (usable - 10 * mm - name_width) / len(report.columns)
    table = Table(data, colWidths=[10 * mm, name_width] + [other] * len(report.columns), repeatRows=1)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), SERIF),  # else empty cells ask for Helvetica, which is not embedded
        ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f5")),
        ("BACKGROUND", (0, 1), (-1, 1), colors.HexColor("#fbf3f3")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))
    story += [table, Spacer(1, 4 * mm)]

    out = BytesIO()
    doc = SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=MARGIN, title=f"{report.title} – {report.period.label}",
                            author=report.organisation, creator="Cổng QLVB&ĐH", invariant=True,
                            initialFontName=SERIF)
    canvas_class = type("ReportCanvas", (_NumberedCanvas,),
                        {"footer_left": f"In bởi {printed_by} lúc {printed_at:%H:%M ngày %d/%m/%Y}"})
    doc.build(story, canvasmaker=canvas_class)
    return out.getvalue()
