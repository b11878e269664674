"""Signature appearances (NĐ 30 Phụ lục I; SPEC §7.2), each a one-page PDF drawn with ReportLab.

pyHanko's own text stamps use a simple font that has no glyphs for "ế", "ộ", "ữ" (pyHanko #459), so every
appearance is a small ReportLab page with embedded DejaVu glyphs, imported by pyHanko as a form XObject through
a ``StaticStampStyle`` without border (``static_style``). Page size = box size, so nothing is rescaled.
"""

from __future__ import annotations

import binascii
import uuid
from io import BytesIO

from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.content import PdfContent
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.stamp import StaticStampStyle
from reportlab.lib.colors import Color, black, white
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from portal.pdf_fonts import SANS, SANS_BOLD, SERIF, register_fonts

BLUE = Color(0.05, 0.15, 0.65)
RED = Color(0.8, 0.05, 0.05)
SEAL_SIZE = 102.0  # points: a 36 mm round seal, the common size for a provincial agency


def _canvas(width: float, height: float) -> tuple[Canvas, BytesIO]:
    register_fonts()
    buf = BytesIO()
    canvas = Canvas(buf, pagesize=(width, height), pageCompression=1)
    canvas.setCreator("portal.signing")
    return canvas, buf


def _finish(canvas: Canvas, buf: BytesIO) -> bytes:
    canvas.showPage()
    canvas.save()
    return buf.getvalue()


def _fit_font(text: str, font: str, size: float, width: float) -> float:
    while size > 4 and stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def image_pdf(png: bytes, width: float, height: float) -> bytes:
    """A PNG (alpha kept) centred in a width × height page, aspect ratio preserved."""
    canvas, buf = _canvas(width, height)
    canvas.drawImage(ImageReader(BytesIO(png)), 0, 0, width, height, mask="auto",
                     preserveAspectRatio=True, anchor="c")
    return _finish(canvas, buf)


def name_time_pdf(name: str, signed_at_text: str, width: float, height: float) -> bytes:
    """Generated personal appearance when the person has no signature image: "Ký bởi", name and time, blue."""
    canvas, buf = _canvas(width, height)
    canvas.setFillColor(BLUE)
    canvas.setStrokeColor(BLUE)
    lines = [(SANS, "Ký bởi:"), (SANS_BOLD, name), (SANS, signed_at_text)]
    size = min(10.0, height / 4.2)
    size = min(_fit_font(text, font, size, width - 6) for font, text in lines)
    top = height / 2 + size * 1.6
    for i, (font, text) in enumerate(lines):
        canvas.setFont(font, size)
        canvas.drawCentredString(width / 2, top - (i + 1) * size * 1.3, text)
    return _finish(canvas, buf)


def text_pdf(text: str, width: float, height: float, *, size: float = 13, font: str = SERIF,
             align: str = "left", opaque: bool = True) -> bytes:
    """One line of black text (number, date) vertically centred; ``opaque`` paints the box white first so
    the dotted placeholder of the draft ("Số: ......") does not show through."""
    canvas, buf = _canvas(width, height)
    if opaque:
        canvas.setFillColor(white)
        canvas.rect(0, 0, width, height, stroke=0, fill=1)
    canvas.setFillColor(black)
    size = _fit_font(text, font, size, width - 2)
    canvas.setFont(font, size)
    y = (height - size * 0.72) / 2
    if align == "center":
        canvas.drawCentredString(width / 2, y, text)
    elif align == "right":
        canvas.drawRightString(width - 1, y, text)
    else:
        canvas.drawString(1, y, text)
    return _finish(canvas, buf)


def generated_seal_pdf(org_name: str, size: float = SEAL_SIZE) -> bytes:
    """A plain red ring with the organisation name, for organisations without a seal PNG (dev and tests)."""
    canvas, buf = _canvas(size, size)
    canvas.setStrokeColor(RED)
    canvas.setFillColor(RED)
    canvas.setLineWidth(2)
    canvas.circle(size / 2, size / 2, size / 2 - 2, stroke=1, fill=0)
    canvas.circle(size / 2, size / 2, size / 2 - 7, stroke=1, fill=0)
    canvas.circle(size / 2, size / 2, size / 7, stroke=1, fill=0)
    words = org_name.upper().split()
    half = (len(words) + 1) // 2
    for i, line in enumerate((" ".join(words[:half]), " ".join(words[half:]))):
        font_size = _fit_font(line, SANS_BOLD, 7, size - 24)
        canvas.setFont(SANS_BOLD, font_size)
        canvas.drawCentredString(size / 2, size / 2 + (size / 5 if i == 0 else -size / 5 - font_size), line)
    return _finish(canvas, buf)


def seal_box(signer_box: tuple[float, float, float, float], size: float = SEAL_SIZE) -> tuple[float, ...]:
    """SPEC §7.2: seal of its real size, right edge at x1 + w/3 of the person's box, vertically centred."""
    x1, y1, x2, y2 = signer_box
    right = x1 + (x2 - x1) / 3
    mid = (y1 + y2) / 2
    return (right - size, mid - size / 2, right, mid + size / 2)


def static_style(pdf: bytes):
    """A pyHanko ``StaticStampStyle`` drawing page 1 of ``pdf`` as-is: no border, full opacity, no margins."""
    return StaticStampStyle(
        background=PdfPageContent(pdf), border_width=0, background_opacity=1.0,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID, y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins.uniform(0)),
    )


class PdfPageContent(PdfContent):
    """Like pyHanko's ``ImportedPdfPage``, but from bytes instead of a file name."""

    def __init__(self, pdf: bytes, page_ix: int = 0):
        super().__init__()
        self.pdf = pdf
        self.page_ix = page_ix

    def render(self) -> bytes:
        writer = self._ensure_writer
        xobj = writer.import_page_as_xobject(PdfFileReader(BytesIO(self.pdf)), page_ix=self.page_ix)
        name = b"/Import" + binascii.hexlify(uuid.uuid4().bytes)
        self.resources.xobject[name.decode("ascii")] = xobj
        x1, y1, x2, y2 = xobj.get_object()["/BBox"]
        self.box = layout.BoxConstraints(width=abs(x1 - x2), height=abs(y1 - y2))
        return name + b" Do"
