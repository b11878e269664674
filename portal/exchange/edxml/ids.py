"""Identifiers in packages: the DocumentId ("000.00.00.G22,2015/09/30,7816/VPCP-TTĐT", SPEC §4.5) and the
organisation codes of QĐ 20/2020/QĐ-TTg ("000.00.00.H41").

Real peers send codes that do not follow QĐ 20 (gateway codes such as ``vxp.saas.03``, three-group codes such
as ``28.22.H17``): they are warnings, never refusals, because the axis routes on them all the same."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from portal.exchange.edxml.dates import read_date, write_date

QD20 = re.compile(r"\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}")
_THREE_GROUPS = re.compile(r"\d{2,3}\.\d{2}\.[A-Z]\d{2}")
_GATEWAY = re.compile(r"[a-z][a-z0-9]*(\.[a-z0-9]+)+", re.IGNORECASE)


def organ_code_problem(code: str) -> str | None:
    """None for a QĐ 20 code, else why it is not one (a Vietnamese clause)."""
    if QD20.fullmatch(code):
        return None
    if _THREE_GROUPS.fullmatch(code):
        return f"mã '{code}' chỉ có ba nhóm; mã định danh theo QĐ 20 có bốn nhóm, ví dụ 000.00.00.H41"
    if _GATEWAY.fullmatch(code) and not code[0].isdigit():
        return f"mã '{code}' là mã cổng kết nối, không phải mã định danh theo QĐ 20 (ví dụ 000.00.00.H41)"
    return f"mã '{code}' không theo dạng mã định danh QĐ 20 (ví dụ 000.00.00.H41)"


@dataclass(frozen=True)
class DocumentRef:
    """A DocumentId read into its parts. ``promulgation_date`` is None when the id's date is impossible
    (real packages carry 2014/02/30); ``text`` is the id as sent, the key to match on."""

    organ_id: str
    promulgation_date: date | None
    code: str
    text: str


def make_document_id(organ_id: str, promulgation_date: date, code_number: str, code_notation: str) -> str:
    code = f"{code_number}/{code_notation}" if code_notation else code_number
    return f"{organ_id},{write_date(promulgation_date)},{code}"


def parse_document_id(text: str) -> tuple[DocumentRef | None, str | None]:
    """(ref, None); (ref with no date, problem) for an impossible date; (None, problem) for another shape
    (a UUID, say)."""
    parts = [p.strip() for p in text.split(",", 2)]
    if len(parts) != 3 or not all(parts):
        return None, f"'{text}' không theo dạng 'mã cơ quan,yyyy/MM/dd,số/ký hiệu'"
    organ_id, day_text, code = parts
    day, note = read_date(day_text)
    ref = DocumentRef(organ_id=organ_id, promulgation_date=day, code=code, text=text)
    return ref, f"'{text}': {note}" if note else None
