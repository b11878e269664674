"""Phiếu giải quyết văn bản đến (NĐ 30/2020 Phụ lục IV mục VII; SPEC §5.7).

Two halves: ``slip_data(doc)`` reads the database (assignments, history, names) into a plain
``SlipData``; ``build_slip_pdf(data)`` turns that into bytes without touching the session or the
request, so the same data always gives the same PDF.

Everything a person typed (trích yếu, ý kiến chỉ đạo, notes, even names) is escaped before it
reaches a ReportLab ``Paragraph``: Paragraph text is a markup language, and an unescaped
``<font color=red>`` in a trích yếu would recolour the phiếu, while ``<para>`` or a stray ``&``
would make ReportLab refuse to build it at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from io import BytesIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    HRFlowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from portal.documents import numbering
from portal.documents.models import IncomingDocument
from portal.incoming import services
from portal.incoming.models import Assignment, AssignmentRole
from portal.orgs.models import OrgKind
from portal.pdf_fonts import SERIF, SERIF_BOLD, register_fonts
from portal.timeutil import local_today, to_local

# --- the data -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assignee:
    name: str
    deadline: date | None = None


@dataclass
class Opinion:
    """One leader's block of the phiếu: the agency leader's (section 1) or a unit head's for
    their unit (section 2). ``author`` empty means nobody has written it yet: dotted lines."""

    author: str = ""
    given_on: date | None = None
    text: str = ""
    unit: str = ""  # section 2: the unit this head answers for
    unit_role: str = ""  # section 2: "Chủ trì" / "Phối hợp", the unit's part at level 1
    lead: list[Assignee] = field(default_factory=list)
    cooperate: list[Assignee] = field(default_factory=list)
    inform: list[Assignee] = field(default_factory=list)
    by_clerk: bool = False  # "chuyển xử lý" by the clerk (Điều 23.1) instead of a leader's opinion


@dataclass(frozen=True)
class Note:
    """Section 3: what a handler proposed or reported, and when."""

    author: str
    on: date
    label: str
    text: str


@dataclass
class SlipData:
    organisation: str
    governing_body: str = ""
    type_name: str = ""
    code: str = ""
    issued_date: date | None = None
    organ_name: str = ""
    subject: str = ""
    arrival_number: str = ""
    arrival_date: date | None = None
    agency: Opinion | None = None
    units: list[Opinion] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    printed_on: date | None = None


NOTE_ACTIONS = ("progress", "input", "finish")


def slip_data(doc: IncomingDocument) -> SlipData:
    """Everything the phiếu shows, read in one place (the only database access of this module)."""
    org = doc.organisation
    parent = org.parent
    governing = parent.name if parent is not None and parent.kind != OrgKind.EXTERNAL else ""
    rows = services.assignments_of(doc)
    events = services.history(doc)
    top = [r for r in rows if r.level == 1]
    children: dict[int, list[Assignment]] = {}
    for row in rows:
        if row.parent_id is not None:
            children.setdefault(row.parent_id, []).append(row)
    agency = _opinion(top) if top else None
    if agency is not None:
        agency.by_clerk = any(e.action == "assign_directly" for e in events)
    units = []
    for row in top:
        if row.assignee_unit_id is None or (row.role == AssignmentRole.INFORM and row.id not in children):
            continue
        block = _opinion(children.get(row.id, [])) if row.id in children else Opinion()
        block.unit = row.assignee_name
        block.unit_role = row.role.label
        units.append(block)
    notes = [Note(author=e.actor_name, on=to_local(e.at).date(), label=services.ACTION_LABELS[e.action],
                  text=e.text or "") for e in events if e.action in NOTE_ACTIONS]
    code = "/".join(p for p in (doc.code_number, doc.code_notation) if p)
    return SlipData(organisation=org.name, governing_body=governing, type_name=doc.type_name or "", code=code,
                    issued_date=doc.issued_date, organ_name=doc.organ_name or "", subject=doc.subject or "",
                    arrival_number=numbering.display(doc.arrival_number), arrival_date=doc.arrival_date,
                    agency=agency, units=units, notes=notes, printed_on=local_today())


def _opinion(rows: list[Assignment]) -> Opinion:
    """Rows of one level given together share their author, time and directive."""
    first = rows[0]
    by_role: dict[AssignmentRole, list[Assignee]] = {role: [] for role in AssignmentRole}
    for row in rows:
        by_role[row.role].append(Assignee(row.assignee_name, row.deadline))
    return Opinion(author=first.assigned_by.full_name if first.assigned_by else "",
                   given_on=to_local(first.assigned_at).date(),
                   text=next((r.directive for r in rows if r.directive), ""),
                   lead=by_role[AssignmentRole.LEAD], cooperate=by_role[AssignmentRole.COOPERATE],
                   inform=by_role[AssignmentRole.INFORM])


# --- the PDF ---------------------------------------------------------------------------------------

PAGE_WIDTH, PAGE_HEIGHT = A4
# NĐ 30 Phụ lục I: top and bottom 20–25 mm, left 30–35 mm, right 15–20 mm
MARGINS = {"leftMargin": 30 * mm, "rightMargin": 20 * mm, "topMargin": 20 * mm, "bottomMargin": 20 * mm}
SIZE = 12
LEADING = 16


def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=SERIF, fontSize=SIZE, leading=LEADING, spaceAfter=2)
    return {
        "body": body,
        "indent": ParagraphStyle("indent", parent=body, leftIndent=5 * mm),
        "section": ParagraphStyle("section", parent=body, fontName=SERIF_BOLD, spaceBefore=8, spaceAfter=4),
        "unit": ParagraphStyle("unit", parent=body, fontName=SERIF_BOLD, spaceBefore=4, leftIndent=5 * mm),
        "title": ParagraphStyle("title", parent=body, fontName=SERIF_BOLD, fontSize=14, leading=18,
                                alignment=TA_CENTER, spaceBefore=14, spaceAfter=12),
        "head": ParagraphStyle("head", parent=body, fontSize=11, leading=14, alignment=TA_CENTER),
        "head_bold": ParagraphStyle("head_bold", parent=body, fontName=SERIF_BOLD, fontSize=11, leading=14,
                                    alignment=TA_CENTER),
    }


def _text(value: str) -> str:
    """User text as Paragraph markup that prints literally; line breaks are kept."""
    return escape(value).replace("\n", "<br/>")


def _date(value: date | None) -> str:
    return f"{value:%d/%m/%Y}" if value else ""


class DottedLines(Flowable):
    """Room to write by hand: an optional label, then dotted rules to the right margin, as on the
    printed form."""

    def __init__(self, label: str = "", lines: int = 1, indent: float = 0) -> None:
        super().__init__()
        self.label = label
        self.lines = lines
        self.indent = indent

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = avail_width
        return avail_width, self.lines * LEADING + 2

    def draw(self) -> None:
        canvas = self.canv
        canvas.setFont(SERIF, SIZE)
        canvas.setStrokeColor(colors.grey)
        canvas.setLineWidth(0.5)
        canvas.setDash(1, 2)
        for i in range(self.lines):
            y = (self.lines - 1 - i) * LEADING + 4
            start = self.indent
            if i == 0 and self.label:
                canvas.drawString(self.indent, y, self.label)
                start += stringWidth(self.label, SERIF, SIZE) + 3
            canvas.line(start, y, self.width, y)


def _field(styles: dict[str, ParagraphStyle], label: str, value: str, *, indent: bool = False):  # type: ignore[no-untyped-def]
    """"Label: value", or the label and dots when the value is still to be written."""
    if not value:
        return DottedLines(f"{label}:", indent=5 * mm if indent else 0)
    return Paragraph(f"{escape(label)}: {_text(value)}", styles["indent" if indent else "body"])


def _names(people: list[Assignee]) -> str:
    return "; ".join(p.name for p in people)


def _deadlines(people: list[Assignee]) -> str:
    return "; ".join(f"{p.name}: {_date(p.deadline)}" for p in people if p.deadline)


def _agency(styles: dict[str, ParagraphStyle], opinion: Opinion | None) -> list[Flowable]:
    opinion = opinion or Opinion()
    parts: list[Flowable] = [Paragraph("1. Ý kiến của lãnh đạo cơ quan, tổ chức:", styles["section"])]
    if opinion.by_clerk:
        parts.append(Paragraph("(Văn thư chuyển xử lý theo quy chế của cơ quan)", styles["indent"]))
    if opinion.text:
        parts.append(Paragraph(_text(opinion.text), styles["indent"]))
    elif not opinion.author:
        parts.append(DottedLines(lines=2, indent=5 * mm))
    everyone = opinion.lead + opinion.cooperate + opinion.inform
    parts += [
        _field(styles, "- Giao đơn vị, cá nhân chủ trì", _names(opinion.lead), indent=True),
        _field(styles, "- Giao đơn vị, cá nhân phối hợp", _names(opinion.cooperate), indent=True)
        if opinion.cooperate or not opinion.author else None,
        _field(styles, "- Để biết", _names(opinion.inform), indent=True) if opinion.inform else None,
        _field(styles, "- Thời hạn giải quyết đối với mỗi đơn vị, cá nhân", _deadlines(everyone), indent=True)
        if _deadlines(everyone) or not opinion.author else None,
        _field(styles, "- Ngày cho ý kiến", _date(opinion.given_on), indent=True),
        _field(styles, "- Người cho ý kiến", opinion.author, indent=True),
    ]
    return [p for p in parts if p is not None]


def _unit(styles: dict[str, ParagraphStyle], opinion: Opinion) -> list[Flowable]:
    parts: list[Flowable] = []
    if opinion.unit:
        parts.append(Paragraph(f"{_text(opinion.unit)} ({escape(opinion.unit_role.lower())})", styles["unit"]))
    if opinion.text:
        parts.append(Paragraph(_text(opinion.text), styles["indent"]))
    elif not opinion.author:
        parts.append(DottedLines(lines=2, indent=5 * mm))
    persons = opinion.lead + opinion.cooperate + opinion.inform
    parts += [
        _field(styles, "- Giao cho cá nhân chủ trì", _names(opinion.lead), indent=True),
        _field(styles, "- Cá nhân phối hợp", _names(opinion.cooperate), indent=True) if opinion.cooperate else None,
        _field(styles, "- Để biết", _names(opinion.inform), indent=True) if opinion.inform else None,
        _field(styles, "- Thời hạn giải quyết", _deadlines(persons), indent=True)
        if _deadlines(persons) or not opinion.author else None,
        _field(styles, "- Ngày cho ý kiến", _date(opinion.given_on), indent=True),
        _field(styles, "- Người cho ý kiến", opinion.author, indent=True),
    ]
    return [p for p in parts if p is not None]


def _handler(styles: dict[str, ParagraphStyle], notes: list[Note]) -> list[Flowable]:
    parts: list[Flowable] = [Paragraph("3. Ý kiến đề xuất của người giải quyết:", styles["section"])]
    if not notes:
        return [*parts, DottedLines(lines=3, indent=5 * mm), DottedLines("- Ngày đề xuất:", indent=5 * mm)]
    for note in notes:
        parts.append(Paragraph(f"- {_date(note.on)}, {_text(note.author)} ({escape(note.label.lower())}): "
                               f"{_text(note.text)}", styles["indent"]))
    return parts


def _header(styles: dict[str, ParagraphStyle], data: SlipData) -> Table:
    """Tên cơ quan chủ quản and tên cơ quan in capitals, left, centred over a short rule."""
    cells: list[Flowable] = []
    if data.governing_body:
        cells.append(Paragraph(_text(data.governing_body.upper()), styles["head"]))
    cells.append(Paragraph(_text(data.organisation.upper()), styles["head_bold"]))
    cells.append(HRFlowable(width=25 * mm, thickness=0.6, color=colors.black, spaceBefore=1, hAlign="CENTER"))
    table = Table([[cells, ""]], colWidths=[85 * mm, None])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (0, 0), (0, 0), "CENTER"),
                               ("FONTNAME", (0, 0), (-1, -1), SERIF),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def _footer(printed_on: date | None):  # type: ignore[no-untyped-def]
    """Page number and print date, small and grey, under the bottom margin."""
    def draw(canvas: Canvas, _doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(SERIF, 8)
        canvas.setFillColor(colors.grey)
        canvas.drawRightString(PAGE_WIDTH - MARGINS["rightMargin"], 10 * mm, f"Trang {canvas.getPageNumber()}")
        if printed_on:
            canvas.drawString(MARGINS["leftMargin"], 10 * mm, f"In ngày {_date(printed_on)}")
        canvas.restoreState()
    return draw


def build_slip_pdf(data: SlipData) -> bytes:
    """A4 portrait, DejaVu Serif embedded; pure: no session, no request, no clock."""
    register_fonts()
    styles = _styles()
    story: list[Flowable] = [_header(styles, data),
                             Paragraph("PHIẾU GIẢI QUYẾT VĂN BẢN ĐẾN", styles["title"])]
    story += [
        _field(styles, "Tên loại văn bản", data.type_name),
        _field(styles, "Số và ký hiệu", data.code),
        _field(styles, "Ngày, tháng, năm", _date(data.issued_date)),
        _field(styles, "Cơ quan ban hành", data.organ_name),
        _field(styles, "Trích yếu", data.subject),
        _field(styles, "Số đến", data.arrival_number),
        _field(styles, "Ngày đến", _date(data.arrival_date)),
    ]
    story += _agency(styles, data.agency)
    story.append(Paragraph("2. Ý kiến của lãnh đạo đơn vị:", styles["section"]))
    for opinion in data.units or [Opinion()]:
        story.append(KeepTogether(_unit(styles, opinion)))
    story += _handler(styles, data.notes)
    story.append(Spacer(1, 4 * mm))

    out = BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, title=f"Phiếu giải quyết văn bản đến {data.arrival_number}".strip(),
                            author=data.organisation, subject=data.subject, creator="Cổng QLVB&ĐH",
                            invariant=True, initialFontName=SERIF, **MARGINS)
    footer = _footer(data.printed_on)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
