"""The typed fields of an incoming document (NĐ 30 Phụ lục VI Mục II), their checks, the duplicate
check, and files attached to a document. No Flask here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

from sqlalchemy import and_, or_, select

from portal import storage
from portal.auth.models import User
from portal.db import session
from portal.documents.models import DocumentType, IncomingDocument, Secrecy, Urgency
from portal.errors import ValidationFailed
from portal.incoming.models import FileRole, IncomingFile
from portal.incoming.visibility import S
from portal.text import fold, nfc
from portal.timeutil import local_today


@dataclass
class Metadata:
    """The typed fields of NĐ 30 Phụ lục VI Mục II; the automatic ones are filled here."""

    type_name: str = ""
    document_type_id: int | None = None
    code_number: str | None = None
    code_notation: str | None = None
    issued_date: date | None = None
    organ_name: str = ""
    subject: str = ""
    language: str = "Tiếng Việt"
    page_amount: int | None = None
    description: str | None = None
    signer_position: str | None = None
    signer_name: str | None = None
    urgency: Urgency = Urgency.NORMAL
    secrecy: Secrecy = Secrecy.NONE
    due_date: date | None = None
    has_paper: bool = False
    document_id: str | None = None
    book_id: int | None = None


LIMITS = {"type_name": 100, "code_number": 11, "code_notation": 30, "organ_name": 200, "subject": 500,
          "language": 30, "description": 500, "signer_position": 100, "signer_name": 50, "document_id": 100}
LABELS = {"type_name": "Tên loại văn bản", "code_number": "Số của văn bản", "code_notation": "Ký hiệu",
          "organ_name": "Cơ quan ban hành", "subject": "Trích yếu", "language": "Ngôn ngữ",
          "description": "Ghi chú", "signer_position": "Chức vụ người ký", "signer_name": "Họ tên người ký",
          "document_id": "Mã văn bản liên thông (DocumentId)"}


def clean(data: Metadata) -> Metadata:
    for name in LIMITS:
        value = getattr(data, name)
        if isinstance(value, str):
            setattr(data, name, (nfc(value) or "").strip() or None)
    if data.document_type_id is not None:
        doc_type = session.get(DocumentType, data.document_type_id)
        if doc_type is not None:
            data.type_name = doc_type.name
    return data


def validate(data: Metadata, *, registering: bool = True) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, limit in LIMITS.items():
        value = getattr(data, name)
        if value and len(value) > limit:
            errors[name] = f"{LABELS[name]} tối đa {limit} ký tự (đang có {len(value)})."
    for name in ("type_name", "organ_name", "subject"):
        if not getattr(data, name):
            errors.setdefault(name, f"Hãy nhập {LABELS[name].lower()}.")
    if registering:
        if data.issued_date is None:
            errors["issued_date"] = "Hãy nhập ngày, tháng, năm của văn bản (dd/mm/yyyy)."
        elif data.issued_date > local_today():
            errors["issued_date"] = "Ngày văn bản không thể sau hôm nay."
        if not data.code_number:
            errors["code_number"] = "Hãy nhập số của văn bản."
        if not data.code_notation:
            errors["code_notation"] = "Hãy nhập ký hiệu của văn bản."
    # what another system sent is kept as it came (a "74fass22" số, a deadline already past); the clerk
    # corrects it when registering, where these rules apply
    if registering and data.code_number and not data.code_number.isdigit():
        errors.setdefault("code_number", "Số của văn bản chỉ gồm chữ số, ví dụ 05 hoặc 125.")
    if data.page_amount is not None and not 0 < data.page_amount <= 999:
        errors["page_amount"] = "Số trang từ 1 đến 999."
    if registering and data.due_date is not None and data.due_date < local_today():
        errors["due_date"] = "Hạn giải quyết không thể trước hôm nay."
    try:
        Urgency(int(data.urgency))
    except ValueError:
        errors["urgency"] = "Mức độ khẩn không hợp lệ."
    return errors


def _apply(doc: IncomingDocument, data: Metadata) -> None:
    for name in ("type_name", "document_type_id", "code_number", "code_notation", "issued_date", "organ_name",
                 "subject", "language", "page_amount", "description", "signer_position", "signer_name",
                 "urgency", "secrecy", "due_date", "has_paper"):
        setattr(doc, name, getattr(data, name))
    doc.language = data.language or "Tiếng Việt"
    doc.document_id = data.document_id or doc.document_id
    doc.subject_folded = fold(doc.subject)
    doc.organ_name_folded = fold(doc.organ_name)
    doc.code_key = code_key(doc.code_number, doc.code_notation)


def code_key(code_number: str | None, code_notation: str | None) -> str | None:
    """The comparable form of "số/ký hiệu": "015" and "QĐ-UBND" → "15/qđ-ubnd"."""
    number = (code_number or "").strip().lstrip("0")
    notation = (nfc(code_notation) or "").strip().casefold()
    if not number or not notation:
        return None
    return f"{number}/{notation}"[:45]


def parse_code(text: str) -> str | None:
    """A search box that holds "15/QĐ-UBND" looks for that số and ký hiệu exactly."""
    text = (nfc(text) or "").strip()
    number, _, notation = text.partition("/")
    if not number.isdigit() or not notation:
        return None
    return code_key(number, notation)


def possible_duplicates(organisation_id: int, data: Metadata, exclude_id: int | None = None) -> list[IncomingDocument]:
    """Registered already? Same document identifier, or the same số + ký hiệu + issuing
    organisation (case-insensitive) (SPEC §4.6)."""
    d = IncomingDocument
    conditions = []
    if data.document_id:
        conditions.append(d.document_id == data.document_id)
    key = code_key(data.code_number, data.code_notation)
    if key and data.organ_name:
        conditions.append(and_(d.code_key == key, d.organ_name_folded == fold(data.organ_name)))
    if not conditions:
        return []
    stmt = select(d).where(d.organisation_id == organisation_id, d.status.not_in([S.RETURNED, S.RECALLED]),
                           d.arrival_number.is_not(None), or_(*conditions))
    if exclude_id is not None:
        stmt = stmt.where(d.id != exclude_id)
    return list(session.execute(stmt.order_by(d.id).limit(5)).scalars())



def _attach(doc: IncomingDocument, actor: User | None, stream: BinaryIO | bytes, filename: str,
            role: FileRole, *, inert: bool = False, warning: str | None = None) -> IncomingFile:
    stored = storage.save(stream, nfc(filename) or "tep", inert=inert)
    row = IncomingFile(document_id=doc.id, sha256=stored.sha256, filename=(nfc(filename) or "tep")[:255],
                       size=stored.size, role=role, uploaded_by_id=actor.id if actor else None,
                       warning=(warning or None) and warning[:300])
    session.add(row)
    if role == FileRole.MAIN and doc.main_file_sha256 is None:
        doc.main_file_sha256 = stored.sha256
    return row


@dataclass
class Upload:
    filename: str
    stream: BinaryIO | bytes
    role: FileRole = FileRole.ATTACHMENT
    inert: bool = False  # received from another system: kept as it came, not type-checked (issue 17)
    warning: str | None = None  # why it is flagged (content does not match its name, …)



class Duplicate(ValidationFailed):
    """It looks registered already; the clerk confirms or opens the earlier one."""

    def __init__(self, matches: list[IncomingDocument]) -> None:
        self.matches = matches
        super().__init__({"duplicate": "Văn bản này có vẻ đã được vào sổ (cùng mã định danh, hoặc cùng số, ký hiệu "
                                       "và cơ quan ban hành)."})

