"""Signing: bytes in, bytes out (STYLE.md). No Flask, no database.

Order (SPEC §7.1): the frozen draft → one or more personal signatures (``sign_personal``) → the clerk's
``issue``: number, date and the organisation seal. Every step is one incremental update appended to the previous
bytes, and nothing ever touches a page content stream, so every earlier signature stays intact and its
modification analysis stays at "form filling" (see docs/SIGNING.md for why number and date are signature-field
appearances).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import NamedTuple, Protocol, runtime_checkable

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import BoxConstraints
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.stamp import StaticContentStamp

from portal.signing import appearance, pki

Box = tuple[int, float, float, float, float]  # (page index, x1, y1, x2, y2) in PDF points, origin bottom-left
Rect = tuple[float, float, float, float]

PERSONAL_BOX_SIZE = (160.0, 62.0)


class SigningError(Exception):
    """A PDF that cannot be signed (unreadable, encrypted, field name taken, box off the page)."""


@runtime_checkable
class Signer(Protocol):
    """What the signing functions need: a pyHanko signer (holding the certificate and the chain, producing the
    CMS signature). ``KeyFileSigner`` reads the dev PKI; a server token or HSM would return pyHanko's
    ``pkcs11.PKCS11Signer`` here (docs/SIGNING.md). The user's own USB token never reaches the server: that is
    the external path (download frozen bytes, sign locally, upload, ``verify.check_signed_upload``)."""

    def pyhanko_signer(self) -> signers.Signer: ...


@dataclass
class KeyFileSigner:
    """A dev-PKI key pair on disk (PKCS#8 encrypted with ``passphrase``); refused in production by the caller."""

    directory: Path
    key_name: str
    passphrase: bytes

    def pyhanko_signer(self) -> signers.Signer:
        return pki.load_signer(self.directory, self.key_name, self.passphrase)


class Frozen(NamedTuple):
    pdf: bytes
    sha256: str


def _as_pyhanko(signer: Signer | signers.Signer) -> signers.Signer:
    return signer if isinstance(signer, signers.Signer) else signer.pyhanko_signer()


def _reader(pdf: bytes) -> PdfFileReader:
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        reader.root["/Pages"]  # touch the page tree: a broken file fails here
    except Exception as exc:
        raise SigningError("Tệp không phải PDF hợp lệ hoặc bị hỏng.") from exc
    if reader.encrypted:
        raise SigningError("Tệp PDF được mã hoá; cần bản không đặt mật khẩu.")
    return reader


def freeze(pdf: bytes) -> Frozen:
    """Check the draft is a readable, unencrypted PDF whose pages we can find; the bytes are kept exactly as
    they are (signers sign these bytes, SPEC §7.3) and identified by their SHA-256."""
    if pdf.lstrip()[:5] != b"%PDF-":
        raise SigningError("Tệp không phải PDF.")
    reader = _reader(pdf)
    if not reader.root["/Pages"].get("/Count"):
        raise SigningError("Tệp PDF không có trang nào.")
    IncrementalPdfFileWriter(BytesIO(pdf), strict=False)  # an incremental update must be possible
    return Frozen(pdf, hashlib.sha256(pdf).hexdigest())


def page_size(pdf: bytes, page: int = -1) -> tuple[int, float, float]:
    """(page index, width, height) of a page; negative indexes count from the end."""
    reader = _reader(pdf)
    index = page % int(reader.root["/Pages"]["/Count"])
    node = reader.find_page_for_modification(index)[0].get_object()
    while "/MediaBox" not in node and "/Parent" in node:  # MediaBox may be inherited
        node = node["/Parent"].get_object()
    x1, y1, x2, y2 = (float(v) for v in node.get("/MediaBox", (0, 0, 595.28, 841.89)))
    return index, x2 - x1, y2 - y1


# --- where things go -----------------------------------------------------------------------------------

TITLE_RE = re.compile(r"^(TM\.|KT\.|Q\.|TL\.|TUQ\.|CHỦ TỊCH|PHÓ CHỦ TỊCH|GIÁM ĐỐC|PHÓ GIÁM ĐỐC|CHÁNH|TRƯỞNG|"
                      r"PHÓ TRƯỞNG|BỘ TRƯỞNG|THỨ TRƯỞNG|TỔNG GIÁM ĐỐC|BÍ THƯ|HIỆU TRƯỞNG|THỦ TRƯỞNG)")


@dataclass(frozen=True)
class TextLine:
    text: str
    x: float  # start of the line
    y: float  # baseline
    size: float

    @property
    def centre(self) -> float:
        return self.x + len(self.text) * self.size * 0.3  # rough: no font metrics in the text layer


def text_lines(pdf: bytes, page: int) -> list[TextLine]:
    """Lines of the text layer with positions (needs pypdf; without it the fixed fallbacks are used)."""
    try:
        from pypdf import PdfReader
    except ImportError:  # pragma: no cover  (pypdf is a dev dependency)
        return []
    lines: list[TextLine] = []

    def visit(text, cm, tm, font_dict, font_size):
        text = text.strip()
        if not text:
            return
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        lines.append(TextLine(text, x, y, abs(font_size * tm[3] * cm[3]) or font_size))

    try:
        PdfReader(BytesIO(pdf)).pages[page].extract_text(visitor_text=visit)
    except Exception:  # a text layer we cannot read just means: use the fallback
        return []
    return lines


def default_signer_box(pdf: bytes, size: tuple[float, float] = PERSONAL_BOX_SIZE) -> Box:
    """The space between the signer's title line (7a) and full name (7b) on the last page, found in the text
    layer; else a fixed box at the bottom right of the last page."""
    index, width, _ = page_size(pdf, -1)
    w, h = size
    right_half = [ln for ln in text_lines(pdf, index) if ln.x > width * 0.4]
    titles = [ln for ln in right_half if TITLE_RE.match(ln.text)]
    if titles:
        title = min(titles, key=lambda ln: ln.y)  # "CHỦ TỊCH" below "TM. ỦY BAN NHÂN DÂN"
        below = [ln for ln in right_half if ln.y < title.y - 1 and not TITLE_RE.match(ln.text)]
        if below:
            name = max(below, key=lambda ln: ln.y)
            centre = (title.centre + name.centre) / 2
            top, bottom = title.y - 4, name.y + name.size + 2
            if top - bottom >= 24:
                box_h = min(h, top - bottom)
                mid = (top + bottom) / 2
                return (index, centre - w / 2, mid - box_h / 2, centre + w / 2, mid + box_h / 2)
    return (index, width - 56 - w, 90, width - 56, 90 + h)


def default_issue_boxes(pdf: bytes) -> tuple[Box, Box]:
    """(number box, date box) on the first page: after "Số:" and over the "…, ngày … tháng … năm …" line;
    fixed places under the header otherwise (NĐ 30 Phụ lục I: number left, date right, under the header)."""
    _, width, height = page_size(pdf, 0)
    lines = text_lines(pdf, 0)
    number = next((ln for ln in lines if ln.text.startswith("Số:") or ln.text.startswith("Số ")), None)
    date = next((ln for ln in lines if re.search(r"ngày\b.*tháng", ln.text)), None)
    if number:
        x = number.x + number.size * 1.9
        number_box: Box = (0, x, number.y - 4, x + 150, number.y + number.size + 2)
    else:
        number_box = (0, 60, height - 140, 240, height - 122)
    if date:
        date_box: Box = (0, date.x - 20, date.y - 4, min(width - 20, date.x + len(date.text) * date.size * 0.55 + 40),
                         date.y + date.size + 2)
    else:
        date_box = (0, width - 300, height - 140, width - 40, height - 122)
    return number_box, date_box


# --- signing --------------------------------------------------------------------------------------------

def _rect(box: Box) -> tuple[int, Rect]:
    page, x1, y1, x2, y2 = box
    if x2 <= x1 or y2 <= y1:
        raise SigningError("Khung chữ ký không hợp lệ.")
    return page, (float(x1), float(y1), float(x2), float(y2))


def _writer(pdf: bytes) -> IncrementalPdfFileWriter:
    _reader(pdf)
    return IncrementalPdfFileWriter(BytesIO(pdf), strict=False)


def _sign_into(writer: IncrementalPdfFileWriter, signer: Signer | signers.Signer, *, field_name: str,
               page: int, rect: Rect, appearance_pdf: bytes, name: str | None, reason: str | None,
               location: str | None, timestamper: TimeStamper | None = None) -> bytes:
    meta = signers.PdfSignatureMetadata(
        field_name=field_name, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
        name=name, reason=reason, location=location,
    )
    spec = fields.SigFieldSpec(field_name, on_page=page, box=rect)
    style = appearance.static_style(appearance_pdf)
    pdf_signer = signers.PdfSigner(meta, signer=_as_pyhanko(signer), stamp_style=style, new_field_spec=spec,
                                   timestamper=timestamper)  # a timestamper: PAdES B-T (RFC 3161 token)
    try:
        out = pdf_signer.sign_pdf(writer)
    except SigningError:  # already in Vietnamese, e.g. timestamps.TsaUnavailable
        raise
    except Exception as exc:
        raise SigningError(f"Không ký được tệp: {exc}") from exc
    return out.getvalue()


def sign_personal(pdf: bytes, signer: Signer | signers.Signer, *, box: Box, image_png: bytes | None, name: str,
                  signed_at_text: str, field_name: str = "KyCaNhan1", reason: str | None = "Phê duyệt văn bản",
                  location: str | None = None, timestamper: TimeStamper | None = None) -> bytes:
    """The competent person's PAdES signature (ETSI.CAdES.detached), one incremental update, visible in
    ``box``: the blue signature PNG if given, else a generated "Ký bởi / name / time" appearance. With a
    ``timestamper`` (``timestamps.timestamper``) the signature carries an RFC 3161 timestamp, or the TSA's
    failure raises ``timestamps.TsaUnavailable``; ``timestamps.TsaPolicy.sign`` applies the fallback policy."""
    page, rect = _rect(box)
    w, h = rect[2] - rect[0], rect[3] - rect[1]
    look = (appearance.image_pdf(image_png, w, h) if image_png
            else appearance.name_time_pdf(name, signed_at_text, w, h))
    return _sign_into(_writer(pdf), signer, field_name=field_name, page=page, rect=rect, appearance_pdf=look,
                      name=name, reason=reason, location=location, timestamper=timestamper)


def add_stamp_field(writer: IncrementalPdfFileWriter, field_name: str, box: Box, appearance_pdf: bytes,
                    tooltip: str | None = None) -> None:
    """An empty, read-only signature field whose widget shows ``appearance_pdf``: how number and date appear
    without editing the page (pyHanko's diff policy accepts new signature fields with appearances as form
    filling; a new FreeText annotation or a content-stream change would not be)."""
    page, rect = _rect(box)
    page_ref = writer.find_page_for_modification(page)[0]
    created, field_ref = fields.prepare_sig_field(field_name, writer.root, update_writer=writer,
                                                  existing_fields_only=False, box=rect, include_on_page=page_ref)
    if not created:
        raise SigningError(f"Trường {field_name} đã có trong tệp.")
    fields.ensure_sig_flags(writer=writer, lock_sig_flags=False)
    field = field_ref.get_object()
    stamp = StaticContentStamp(writer, appearance.static_style(appearance_pdf),
                               BoxConstraints(width=rect[2] - rect[0], height=rect[3] - rect[1]))
    field[pdf_name("/AP")] = stamp.as_appearances().as_pdf_object()
    field[pdf_name("/Ff")] = generic.NumberObject(1)  # read-only field
    field[pdf_name("/F")] = generic.NumberObject(4 | 64 | 128)  # print, read-only, locked
    if tooltip:
        field[pdf_name("/TU")] = generic.TextStringObject(tooltip)
    writer.update_container(field)


def _add_number_and_date(writer: IncrementalPdfFileWriter, *, number_text: str, date_text: str, number_box: Box,
                         date_box: Box, font_size: float, field_prefix: str) -> None:
    for suffix, box, text, tooltip in (("So", number_box, number_text, "Số, ký hiệu"),
                                       ("Ngay", date_box, date_text, "Địa danh, ngày tháng năm")):
        w, h = box[3] - box[1], box[4] - box[2]
        look = appearance.text_pdf(text, w, h, size=font_size)
        add_stamp_field(writer, f"{field_prefix}{suffix}", box, look, tooltip)


def _seal_into(writer: IncrementalPdfFileWriter, seal_signer: Signer | signers.Signer, *, seal_png: bytes | None,
               signer_box: Box, org_name: str, seal_size: float, field_prefix: str,
               timestamper: TimeStamper | None = None) -> bytes:
    page, person_rect = _rect(signer_box)
    rect = appearance.seal_box(person_rect, seal_size)
    look = (appearance.image_pdf(seal_png, seal_size, seal_size) if seal_png
            else appearance.generated_seal_pdf(org_name, seal_size))
    return _sign_into(writer, seal_signer, field_name=f"{field_prefix}DauCoQuan", page=page, rect=rect,
                      appearance_pdf=look, name=org_name, reason="Ban hành văn bản", location=None,
                      timestamper=timestamper)


def issue(pdf: bytes, seal_signer: Signer | signers.Signer, *, number_text: str, date_text: str, number_box: Box,
          date_box: Box, seal_png: bytes | None, signer_box: Box, org_name: str,
          seal_size: float = appearance.SEAL_SIZE, font_size: float = 13, field_prefix: str = "BanHanh",
          timestamper: TimeStamper | None = None) -> bytes:
    """The clerk's step with a seal key the server can use (SPEC §6.4, §7.1): số và ký hiệu, the
    place-and-date line and the organisation seal, in ONE incremental update whose signature is the seal's,
    so the seal covers number and date. Number and date are appearances of empty read-only signature fields;
    the seal's box has its right edge at x1 + w/3 of the person's box, vertically centred on it (SPEC §7.2).
    ``timestamper``: as in ``sign_personal`` (the seal signature's timestamp)."""
    writer = _writer(pdf)
    _add_number_and_date(writer, number_text=number_text, date_text=date_text, number_box=number_box,
                         date_box=date_box, font_size=font_size, field_prefix=field_prefix)
    return _seal_into(writer, seal_signer, seal_png=seal_png, signer_box=signer_box, org_name=org_name,
                      seal_size=seal_size, field_prefix=field_prefix, timestamper=timestamper)


def add_number_and_date(pdf: bytes, *, number_text: str, date_text: str, number_box: Box, date_box: Box,
                        font_size: float = 13, field_prefix: str = "BanHanh") -> bytes:
    """External seal path, step 1: number and date as their own (unsigned) incremental update; the result is
    frozen and the clerk signs it with the organisation's token (``sign_seal`` or outside the portal)."""
    writer = _writer(pdf)
    _add_number_and_date(writer, number_text=number_text, date_text=date_text, number_box=number_box,
                         date_box=date_box, font_size=font_size, field_prefix=field_prefix)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def sign_seal(pdf: bytes, seal_signer: Signer | signers.Signer, *, seal_png: bytes | None, signer_box: Box,
              org_name: str, seal_size: float = appearance.SEAL_SIZE, field_prefix: str = "BanHanh",
              timestamper: TimeStamper | None = None) -> bytes:
    """The organisation seal alone (after ``add_number_and_date``); ``timestamper`` as in ``sign_personal``."""
    return _seal_into(_writer(pdf), seal_signer, seal_png=seal_png, signer_box=signer_box, org_name=org_name,
                      seal_size=seal_size, field_prefix=field_prefix, timestamper=timestamper)
