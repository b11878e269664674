"""The two names of one issued document (SPEC §4.5), rendered in one place.

- **Mã định danh văn bản** (QĐ 395): the issuing organisation's identifier, the year and số/ký
  hiệu, ``H35.01-2026.03/BC-VP``. It is what people quote; the sender shows it and so must every
  receiver.
- **DocumentId** (edXML exchange key): ``H35.01,2026/12/07,03/BC-VP``. It travels with the
  document and the receiver keeps it as received; it is a machine key, shown labelled as such.

Both come from the same triple, so the sender renders them here at issuance and a receiver
renders the identifier from the triple it received (``of_incoming``): an internal arrival takes
the sender's stored identifier, so both sides always show the same text.
"""

from __future__ import annotations

import re
from datetime import date

from portal.documents.models import IncomingDocument, OutgoingDocument

# QĐ 20 codes (H35.01); a QCVN 102:2016 code (000.00.00.G09) is not what the identifier uses
LEGACY = re.compile(r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")


def number_text(code_number: str | int) -> str:
    """Số as printed: at least two digits (Phụ lục I II.3.c)."""
    text = str(code_number).strip()
    return text.zfill(2) if text.isdigit() else text


def identifier(organ_code: str, year: int, code_number: str | int, code_notation: str) -> str:
    """Mã định danh văn bản, Default template ``{organ_id}-{năm}.{số}/{ký hiệu}``."""
    return f"{organ_code}-{year}.{number_text(code_number)}/{code_notation}"[:120]


def document_id(organ_code: str, issued_on: date, code_number: str | int, code_notation: str) -> str:
    """edXML DocumentId: ``<OrganId>,<yyyy/MM/dd>,<CodeNumber>/<CodeNotation>``."""
    return f"{organ_code},{issued_on:%Y/%m/%d},{number_text(code_number)}/{code_notation}"[:100]


def of_incoming(doc: IncomingDocument, source: OutgoingDocument | None) -> str | None:
    """The sender's mã định danh of a received document: the issued record's own identifier when
    it came from an organisation of this portal (``source``), else rendered from the triple the
    sender sent (its QĐ 20 code, the year of issue, số/ký hiệu). None when a part is missing:
    an identifier is never guessed from a name or a legacy code."""
    if source is not None and source.identifier:
        return source.identifier
    organ = (doc.sender_organ_id or "").strip()
    if not organ or LEGACY.match(organ) or doc.issued_date is None or not doc.code_number or not doc.code_notation:
        return None
    return identifier(organ, doc.issued_date.year, doc.code_number, doc.code_notation)
