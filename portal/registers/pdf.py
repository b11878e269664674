"""The four register books of NĐ 30/2020 Phụ lục IV as PDF (SPEC §8.1, §8.3).

``build_register_pdf(data)`` turns a ``RegisterData`` (cover fields, the book's layout and an
iterator of rows) into bytes (``write_register_pdf(data, file)`` into a file); it never touches
the request or the session: the rows come from whatever iterator the caller hands in
(``services.source`` reads them from the database in keyset batches). The books' columns, the
row and the data types are in ``portal.registers.layouts`` (re-exported here).

Why not platypus: a ``Table`` of ``Paragraph`` cells lays out ≈500 rows a second and keeps every
row in memory until the table is split into pages, while a yearly book has tens of thousands of
rows. Here each row is measured (word widths from ``stringWidth``, cached), wrapped inside its
cell, and its text operators are written straight into the page (``_Text``, cached per line):
one text block and one path of rules per page, a new page with the header row whenever the next
row does not fit, a row taller than a whole page split across pages with "(tiếp)" marks. Memory
stays flat: the content of a finished page is compressed at once (``_compress_page``).

User text only ever becomes a PDF string operand (escaped by ``escapePDF``), never ReportLab
``Paragraph`` markup: a trích yếu of ``<font color=red>`` prints exactly as typed
(CVE-2023-33733 needs markup parsing, which never happens here).

"Trang n/N": the page count is unknown until the last row, so each page's footer is a second,
tiny content stream added in ``finish``. The cover (a form drawn on page 1, written last) shows
"từ số … đến số …", "từ ngày … đến ngày …" of the rows actually printed.
"""

from __future__ import annotations

import zlib
from datetime import date
from io import BytesIO
from typing import BinaryIO

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.rl_accel import escapePDF
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFPage, PDFStream
from reportlab.pdfbase.pdfmetrics import getFont, stringWidth
from reportlab.pdfgen.canvas import Canvas

from portal.pdf_fonts import SERIF, SERIF_BOLD, register_fonts
from portal.registers.layouts import LAYOUTS, Layout, RegisterData, Row

# the books and their rows live in ``portal.registers.layouts``; callers import them from here too
__all__ = ["EMPTY", "LAYOUTS", "Layout", "RegisterData", "Row", "build_register_pdf", "wrap",
           "write_register_pdf"]

# --- geometry -------------------------------------------------------------------------------------------

PAGE_WIDTH, PAGE_HEIGHT = landscape(A4)
MARGIN = 15 * mm
LEFT, RIGHT = MARGIN, PAGE_WIDTH - MARGIN
TOP, BOTTOM = PAGE_HEIGHT - MARGIN, MARGIN
TABLE_WIDTH = RIGHT - LEFT
SIZE = 8.5  # body text
LEADING = 10.2
HEAD_SIZE = 8
HEAD_LEADING = 10
PAD = 2.5  # inside a cell, each side
FOOTER_SIZE = 8
FOOTER_Y = BOTTOM - 11  # the footer sits in the bottom margin, under the table
EMPTY = "Không có văn bản nào trong khoảng thời gian và sổ đã chọn."


class _Widths:
    """Word widths at one font and size, cached: a book repeats the same few thousand words."""

    def __init__(self, font: str, size: float) -> None:
        self.font, self.size = font, size
        self.cache: dict[str, float] = {}
        self.space = stringWidth(" ", font, size)

    def __call__(self, word: str) -> float:
        width = self.cache.get(word)
        if width is None:
            if len(self.cache) >= 50_000:  # numbers and codes are unique: keep the cache bounded
                self.cache.clear()
            width = self.cache[word] = stringWidth(word, self.font, self.size)
        return width


def wrap(text: str, width: float, measure: _Widths) -> list[str]:
    """Greedy word wrap within ``width`` points; "\\n" breaks a line; a word wider than the cell
    is cut between characters. Runs of spaces collapse (as in any printed form)."""
    lines: list[str] = []
    space = measure.space
    for paragraph in text.split("\n"):
        current: list[str] = []
        used = 0.0
        for word in paragraph.split():
            w = measure(word)
            if w > width:  # a URL or a long code: cut it
                if current:
                    lines.append(" ".join(current))
                    current, used = [], 0.0
                piece = ""
                for ch in word:
                    if piece and measure(piece + ch) > width:
                        lines.append(piece)
                        piece = ""
                    piece += ch
                current, used = [piece], measure(piece)
                continue
            if current and used + space + w > width:
                lines.append(" ".join(current))
                current, used = [word], w
            else:
                used = used + space + w if current else w
                current.append(word)
        lines.append(" ".join(current))
    while len(lines) > 1 and not lines[-1]:
        lines.pop()
    return lines


class _Text:
    """PDF text operators for one TrueType font and size, written by hand. ReportLab's TextObject
    splits every string into font subsets and escapes it again on each call (≈60 µs a line when
    ReportLab's optional C accelerator is not installed), which alone caps a book below 1,000
    rows a second. A book repeats the same dates, names and words, so the encoded form of each
    line is cached (bounded). This uses only the documented dynamic-font calls
    (``splitString``, ``getSubsetInternalName``) and ``Canvas.addLiteral``."""

    LIMIT = 20_000

    def __init__(self, canvas: Canvas, font: str, size: float) -> None:
        self.doc = canvas._doc  # the dynamic-font API is per document
        self.font = getFont(font)
        self.size = size
        self.cache: dict[str, list[tuple[int, str]]] = {}
        self.fonts: dict[int, str] = {}

    def encoded(self, line: str) -> list[tuple[int, str]]:
        """(subset, "(…) Tj") pieces of one line."""
        parts = self.cache.get(line)
        if parts is None:
            if len(self.cache) >= self.LIMIT:
                self.cache.clear()
            parts = self.cache[line] = [(subset, f"({escapePDF(chunk)}) Tj")
                                        for subset, chunk in self.font.splitString(line, self.doc)]
        return parts

    def show(self, out: list[str], line: str, x: float, y: float, state: list[int]) -> None:
        """Operators showing ``line`` from (x, y); ``state[0]`` is the subset selected last in
        this BT … ET block (-1 at its start)."""
        out.append(f"1 0 0 1 {x:.2f} {y:.2f} Tm")
        for subset, op in self.encoded(line):
            if subset != state[0]:
                out.append(self.names(subset))
                state[0] = subset
            out.append(op)

    def names(self, subset: int) -> str:
        """The operator selecting a subset at our size."""
        op = self.fonts.get(subset)
        if op is None:
            op = self.fonts[subset] = f"{self.font.getSubsetInternalName(subset, self.doc)} {self.size} Tf"
        return op


# --- drawing ---------------------------------------------------------------------------------------------


class _Book:
    """One PDF being drawn: the page number, the y of the next row, the current page's text
    operators and the y of each rule under a row.

    What repeats on every page (running title, header row, column numbers) is one form XObject
    drawn by reference; the cover's text is a form too. Both are written in ``finish``, when the
    first and last numbers and dates are known; so is each page's footer ("Người in …",
    "Trang n/N"), as a second content stream of the page."""

    def __init__(self, data: RegisterData, out: BinaryIO) -> None:
        self.data = data
        self.layout = data.layout
        # the initial font is ours, so the PDF names no unembedded Helvetica
        self.canvas = Canvas(out, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), pageCompression=1, initialFontName=SERIF)
        self.canvas.setTitle(f"{self.layout.title} - {data.organisation}")
        self.canvas.setAuthor(data.organisation)
        self.canvas.setSubject(data.period)
        self.canvas.setCreator("Hệ thống quản lý văn bản và điều hành")
        total = sum(self.layout.widths)
        self.widths = [TABLE_WIDTH * w / total for w in self.layout.widths]
        self.xs = [LEFT]
        for w in self.widths:
            self.xs.append(self.xs[-1] + w)
        self.body = _Widths(SERIF, SIZE)
        self.head = _Widths(SERIF_BOLD, HEAD_SIZE)
        self.head_lines = [wrap(h, w - 2 * PAD, self.head)
                           for h, w in zip(self.layout.headings, self.widths, strict=True)]
        self.head_height = max(len(lines) for lines in self.head_lines) * HEAD_LEADING + 2 * PAD
        self.numbers_height = HEAD_LEADING + 2
        self.table_top = TOP - 14
        self.first_row_y = self.table_top - self.head_height - self.numbers_height
        self.rows_per_page = int((self.first_row_y - BOTTOM - 2 * PAD) // LEADING)  # lines, in fact
        self.page = 0
        self.y = 0.0
        self.text: list[str] | None = None  # the page's text operators (one BT … ET block)
        self.subset = [-1]
        self.ink = _Text(self.canvas, SERIF, SIZE)
        self.origins = [f"1 0 0 1 {x + PAD:.2f}" for x in self.xs[:-1]]
        self.rules: list[float] = []
        self.pages: list[PDFPage] = []  # each gets its footer in ``finish``
        self.wrapped: dict[tuple[str, int], list[str]] = {}
        self.first_number: int | None = None
        self.last_number: int | None = None
        self.first_day: date | None = None
        self.last_day: date | None = None

    # --- pages

    def cover(self) -> None:
        self.page += 1
        self.canvas.doForm("cover")
        self.canvas.showPage()
        self.pages.append(_compress_page(self.canvas))

    def new_page(self) -> None:
        if self.text is not None:
            self.end_page()
        self.page += 1
        self.canvas.doForm("header")
        self.text = ["BT", f"{LEADING} TL"]
        self.subset = [-1]
        self.y = self.first_row_y
        self.rules = []

    def end_page(self) -> None:
        c = self.canvas
        assert self.text is not None
        self.text.append("ET")
        c.addLiteral("\n".join(self.text))
        grid = ["q 0.5 w"]
        grid += [f"{LEFT:.2f} {y:.2f} m {RIGHT:.2f} {y:.2f} l" for y in self.rules]
        grid += [f"{x:.2f} {self.first_row_y:.2f} m {x:.2f} {self.y:.2f} l" for x in self.xs]
        grid.append("S Q")
        c.addLiteral("\n".join(grid))
        c.showPage()
        self.pages.append(_compress_page(c))
        self.text = None

    # --- rows

    def _wrap(self, text: str, column: int) -> list[str]:
        key = (text, column)
        lines = self.wrapped.get(key)
        if lines is None:
            if len(self.wrapped) >= 5_000:
                self.wrapped.clear()
            lines = self.wrapped[key] = wrap(text, self.widths[column] - 2 * PAD, self.body)
        return lines

    def add(self, row: Row) -> None:
        if row.number is not None:
            if self.first_number is None or row.number < self.first_number:
                self.first_number = row.number
            if self.last_number is None or row.number > self.last_number:
                self.last_number = row.number
        if row.day is not None:
            if self.first_day is None or row.day < self.first_day:
                self.first_day = row.day
            if self.last_day is None or row.day > self.last_day:
                self.last_day = row.day
        cells = [self._wrap(text or "", i) for i, text in enumerate(row.cells)]
        needed = max(len(lines) for lines in cells)
        capacity = int((self.y - BOTTOM - 2 * PAD) // LEADING)
        full_page = self.rows_per_page
        # a row moves to the next page whole, unless it is taller than a page: then it starts here
        # (if a few lines fit) and continues, each part marked "(tiếp)"
        if needed > capacity and (needed <= full_page or capacity < 3):
            self.new_page()
            capacity = full_page
        start = 0
        while True:
            take = min(needed - start, capacity)
            self._draw(cells, start, take, more=start + take < needed)
            start += take
            if start >= needed:
                return
            self.new_page()
            capacity = full_page

    def _draw(self, cells: list[list[str]], start: int, take: int, *, more: bool) -> None:
        """Lines of a cell go down by the text leading (``T*``): one positioning per cell, not per
        line, except centred lines, which each need their own x."""
        out = self.text
        assert out is not None
        encoded, names, measure = self.ink.encoded, self.ink.names, self.body
        subset = self.subset[0]
        top = self.y - PAD - SIZE + 1
        tm = f" {top:.2f} Tm"
        for i, lines in enumerate(cells):
            part = lines[start:start + take]
            if not part:
                continue
            if more and len(lines) > start + take:
                part = [*part[:-1], part[-1] + " (tiếp)"]
            centred = self.layout.align[i] == "c"
            if not centred:
                out.append(self.origins[i] + tm)
            y = top
            for k, line in enumerate(part):
                if centred:
                    x = (self.xs[i] + self.xs[i + 1] - measure(line)) / 2
                    out.append(f"1 0 0 1 {x:.2f} {y:.2f} Tm")
                    y -= LEADING
                elif k:
                    out.append("T*")
                for chunk_subset, op in encoded(line):
                    if chunk_subset != subset:
                        out.append(names(chunk_subset))
                        subset = chunk_subset
                    out.append(op)
        self.subset[0] = subset
        self.y -= take * LEADING + 2 * PAD
        self.rules.append(self.y)

    # --- the forms written last

    def finish(self) -> None:
        if self.text is not None:
            self.end_page()
        self._header_form()
        self._cover_form()
        ink = _Text(self.canvas, SERIF, FOOTER_SIZE)
        d = self.data
        when = f"{d.printed_at:%d/%m/%Y %H:%M}" if d.printed_at else ""
        printed = f"Người in: {d.printed_by} - thời gian in: {when} (giờ Việt Nam)"
        for n, page in enumerate(self.pages, start=1):
            # the footer is a second content stream of the page, written now that N is known: one
            # text block, so "Trang n/N" reads (and extracts) as one string
            out, state = ["BT"], [-1]
            ink.show(out, printed, LEFT, FOOTER_Y, state)
            label = f"Trang {n}/{self.page}"
            ink.show(out, label, RIGHT - stringWidth(label, SERIF, FOOTER_SIZE), FOOTER_Y, state)
            out.append("ET")
            page.Contents = PDFArray([page.Contents, _flate("\n".join(out))])
        self.canvas.save()

    def _header_form(self) -> None:
        c = self.canvas
        c.beginForm("header")
        c.setFont(SERIF_BOLD, 9)
        c.drawString(LEFT, TOP - 9, f"{self.layout.title.upper()} - {self.data.organisation}")
        c.setFont(SERIF, 9)
        c.drawRightString(RIGHT, TOP - 9, self.data.period)
        top = self.table_top
        c.setFillGray(0.92)
        c.rect(LEFT, top - self.head_height, TABLE_WIDTH, self.head_height, stroke=0, fill=1)
        c.setFillGray(0)
        c.setFont(SERIF_BOLD, HEAD_SIZE)
        for i, lines in enumerate(self.head_lines):
            cx = (self.xs[i] + self.xs[i + 1]) / 2
            y = top - (self.head_height - len(lines) * HEAD_LEADING) / 2 - HEAD_SIZE + 1
            for line in lines:
                c.drawCentredString(cx, y, line)
                y -= HEAD_LEADING
        c.setFont(SERIF, 8)
        numbers_top = top - self.head_height
        for i in range(len(self.widths)):
            c.drawCentredString((self.xs[i] + self.xs[i + 1]) / 2, numbers_top - HEAD_LEADING + 1, f"({i + 1})")
        c.setLineWidth(0.5)
        path = c.beginPath()
        for y in (top, numbers_top, self.first_row_y):
            path.moveTo(LEFT, y)
            path.lineTo(RIGHT, y)
        for x in self.xs:
            path.moveTo(x, top)
            path.lineTo(x, self.first_row_y)
        c.drawPath(path, stroke=1, fill=0)
        c.endForm()

    def _cover_form(self) -> None:
        c = self.canvas
        d = self.data
        c.beginForm("cover")
        mid = PAGE_WIDTH / 2
        y = TOP - 20
        if d.governing_body:
            c.setFont(SERIF, 13)
            c.drawCentredString(mid, y, d.governing_body.upper())
            y -= 18
        c.setFont(SERIF_BOLD, 13)
        c.drawCentredString(mid, y, d.organisation.upper())
        c.setLineWidth(0.6)
        c.line(mid - 60, y - 6, mid + 60, y - 6)
        y -= 120
        c.setFont(SERIF_BOLD, 26)
        c.drawCentredString(mid, y, self.layout.title.upper())
        y -= 34
        c.setFont(SERIF_BOLD, 15)
        c.drawCentredString(mid, y, f"Năm: {d.year_label}")
        y -= 50
        x = mid - 150

        def day(v: date | None) -> str:
            return f"{v:%d/%m/%Y}" if v else "…"

        def number(v: int | None) -> str:
            return f"{v:02d}" if v is not None else "…"

        lines = [f"Từ ngày: {day(self.first_day)} đến ngày: {day(self.last_day)}",
                 f"Từ số: {number(self.first_number)} đến số: {number(self.last_number)}",
                 f"Quyển số: {d.volume}"]
        if d.books:
            lines.append(f"Sổ: {d.books}")
        if d.period:
            lines.append(f"Phạm vi in: {d.period}")
        c.setFont(SERIF, 13)
        for line in lines:
            c.drawString(x, y, line)
            y -= 24
        c.endForm()


def _flate(text: str) -> PDFStream:
    return PDFStream(PDFDictionary({"Filter": PDFArray([PDFName("FlateDecode")])}),
                     zlib.compress(text.encode("latin-1"), 6))


def _compress_page(canvas: Canvas) -> PDFPage:
    """ReportLab keeps every page's content stream as text until ``save()``: about 2 kB a row.
    Compressing it as soon as the page is finished keeps a 50,000-row book in a few MB instead of
    a hundred; ``save()`` then writes the already-deflated stream."""
    page = canvas._doc.Pages.pages[-1]  # no public hook after showPage
    if page.Contents is None and isinstance(page.stream, str):
        page.Contents = _flate(page.stream)
        page.stream = None
    return page


def build_register_pdf(data: RegisterData) -> bytes:
    out = BytesIO()
    write_register_pdf(data, out)
    return out.getvalue()


def write_register_pdf(data: RegisterData, out: BinaryIO) -> None:
    """The same, written to a file: a yearly book is tens of MB, and the job streams it from a
    temporary file into storage instead of holding more copies in memory."""
    register_fonts()
    book = _Book(data, out)
    book.cover()
    book.new_page()
    done = 0
    for row in data.rows:
        book.add(row)
        done += 1
        if data.progress is not None and done % data.progress_every == 0:
            data.progress(done)
    if done == 0:
        book.add(Row([EMPTY] + [""] * (len(book.widths) - 1)))
    if data.progress is not None:
        data.progress(done)
    book.finish()

