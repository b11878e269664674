"""The week as a PDF (SPEC §9): A4 landscape, "LỊCH CÔNG TÁC TUẦN (từ ngày … đến ngày …)", by day
and Sáng/Chiều, the seven columns, changes after publication marked, the revision in the footer.

``week_pdf_data`` reads the database into plain ``WeekPdf``; ``build_week_pdf`` makes the bytes
without session or request. Everything typed is escaped before it reaches a ``Paragraph``, whose
text is markup: an entry reading ``<font color=red>`` prints literally instead of recolouring.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from io import BytesIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from portal.pdf_fonts import SANS, SANS_BOLD, register_fonts
from portal.schedules import services
from portal.schedules.models import Calendar, Week

PAGE = landscape(A4)
MARGIN = 12 * mm
COLUMNS = ("Thời gian", "Nội dung", "Chủ trì", "Thành phần", "Địa điểm", "Đơn vị chuẩn bị", "Ghi chú")
KEYS = ("time", "content", "presiding", "participants", "location", "preparing", "notes")
WIDTHS = (24, 78, 36, 50, 32, 30, 23)  # mm; 273 mm between the margins
MARKED = colors.HexColor("#fff4d6")
CANCELLED = colors.HexColor("#eeeeee")


@dataclass(frozen=True)
class PdfRow:
    values: dict[str, str]
    old: dict[str, str]
    mark: str = ""  # "Bổ sung" / "Điều chỉnh" / "Hủy"


@dataclass
class WeekPdf:
    organisation: str
    calendar: str
    monday: date
    state: str
    revision: int
    days: list[tuple[str, list[tuple[str, list[PdfRow]]]]] = field(default_factory=list)
    printed_on: date | None = None


def week_pdf_data(cal: Calendar, monday: date, week: Week | None, printed_on: date) -> WeekPdf:
    entries = week.entries if week is not None else []
    days = [(d.heading, [(label, [PdfRow(r.values, r.old, r.entry.change_mark.label if r.entry.change_mark else "")
                                  for r in rows]) for _slug, label, rows in d.sessions])
            for d in services.layout(monday, entries)]
    return WeekPdf(organisation=cal.organisation.name, calendar=cal.name, monday=monday,
                   state=week.state.label if week is not None else "Dự thảo",
                   revision=week.revision if week is not None else 0, days=days, printed_on=printed_on)


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("cell", fontName=SANS, fontSize=8.5, leading=10.5)
    return {
        "cell": base,
        "head": ParagraphStyle("head", parent=base, fontName=SANS_BOLD, alignment=TA_CENTER),
        "org": ParagraphStyle("org", parent=base, fontName=SANS_BOLD, fontSize=10, leading=13),
        "title": ParagraphStyle("title", parent=base, fontName=SANS_BOLD, fontSize=14, leading=18,
                                alignment=TA_CENTER, spaceBefore=2 * mm),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=10, leading=13, alignment=TA_CENTER,
                                   spaceAfter=3 * mm),
        "day": ParagraphStyle("day", parent=base, fontName=SANS_BOLD, fontSize=9.5, leading=12),
    }


def _cell(row: PdfRow, key: str, style: ParagraphStyle) -> Paragraph:
    text = escape(row.values.get(key, "")).replace("\n", "<br/>")
    if key in row.old:
        text = f"<strike>{escape(row.old[key])}</strike><br/>{text}"
    if key == "time" and row.mark:
        text = f"<b>[{escape(row.mark)}]</b><br/>{text}"
    if row.mark == "Hủy":
        text = f"<strike>{text}</strike>"
    return Paragraph(text, style)


def _table(styles: dict[str, ParagraphStyle], data: WeekPdf) -> Table:
    rows: list[list[object]] = [[Paragraph(c, styles["head"]) for c in COLUMNS]]
    commands: list[tuple[object, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef6"))]
    for heading, sessions in data.days:
        rows.append([Paragraph(escape(heading), styles["day"])] + [""] * 6)
        n = len(rows) - 1
        commands += [("SPAN", (0, n), (-1, n)), ("BACKGROUND", (0, n), (-1, n), colors.HexColor("#f3f3f3"))]
        for label, entries in sessions:
            rows.append([Paragraph(f"<i>{label}</i>", styles["cell"])] + [""] * 6)
            n = len(rows) - 1
            commands.append(("SPAN", (0, n), (-1, n)))
            if not entries:
                rows[-1][0] = Paragraph(f"<i>{label}</i>: không có lịch", styles["cell"])
            for row in entries:
                rows.append([_cell(row, key, styles["cell"]) for key in KEYS])
                if row.mark:
                    commands.append(("BACKGROUND", (0, len(rows) - 1), (-1, len(rows) - 1),
                                     CANCELLED if row.mark == "Hủy" else MARKED))
    table = Table(rows, colWidths=[w * mm for w in WIDTHS], repeatRows=1)
    table.setStyle(TableStyle(commands))
    return table


def _footer(data: WeekPdf):  # type: ignore[no-untyped-def]
    def draw(canvas: Canvas, _doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(SANS, 7.5)
        canvas.setFillColor(colors.grey)
        left = f"{data.calendar} · {data.state}"
        if data.revision:
            left += f" · Lần cập nhật {data.revision}"
        if data.printed_on:
            left += f" · In ngày {data.printed_on:%d/%m/%Y}"
        canvas.drawString(MARGIN, 7 * mm, left)
        canvas.drawRightString(PAGE[0] - MARGIN, 7 * mm, f"Trang {canvas.getPageNumber()}")
        canvas.restoreState()
    return draw


def build_week_pdf(data: WeekPdf) -> bytes:
    """Pure: the same data always gives the same bytes (invariant=True)."""
    register_fonts()
    styles = _styles()
    story: list[Flowable] = [
        Paragraph(escape(data.organisation.upper()), styles["org"]),
        Paragraph("LỊCH CÔNG TÁC TUẦN", styles["title"]),
        Paragraph(f"({escape(services.week_title(data.monday))})", styles["subtitle"]),
    ]
    if data.calendar:
        story.insert(1, Paragraph(escape(data.calendar), styles["cell"]))
    story += [_table(styles, data), Spacer(1, 3 * mm)]
    out = BytesIO()
    doc = SimpleDocTemplate(out, pagesize=PAGE, title=f"Lịch công tác tuần {services.week_title(data.monday)}",
                            author=data.organisation, creator="Cổng QLVB&ĐH", invariant=True,
                            initialFontName=SANS, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=14 * mm)
    footer = _footer(data)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
