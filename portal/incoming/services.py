"""The incoming workflow (SPEC §5): one function per step, each checking on the server that the
actor holds the document at this step, writing the history and the audit row in the caller's
transaction. No Flask here.

Statuses only move forward (§5.2). Who may act:

========================  =====================  ===================================================
action                    from                   actor
========================  =====================  ===================================================
return_to_sender          01                     clerk of the receiving organisation
accept                    01                     clerk (tiếp nhận; numbered later: "Chờ vào sổ")
register                  01, 03 without số đến  clerk (accepts too when at 01)
present                   03 with số đến         clerk, to a leader of the organisation
assign_directly           03 with số đến         clerk ("chuyển xử lý" when the handler is clear)
forward                   03p                    the leader it is presented to, to another leader
send_back                 03p                    the leader it is presented to
direct                    03p                    the leader it is presented to (agency leader)
file_for_information      03p                    the leader it is presented to
direct_within_unit        04, 05                 head of a unit assigned by the leader
record_progress           04, 05 (06: own part)  a person assignee (the lead's first note → 05)
  … part_done             04, 05, 06             a co-operating person finishes their own part (handling.py)
mark_seen                 04, 05, 06             a person assignee
finish                    04, 05                 the lead person (closes the lead chain only)
reopen                    06                     an agency leader, or the head of the lead unit
remind                    04, 05                 clerk, agency leader, or whoever assigned it
confirm_recall            not 02/15, recall asked clerk
========================  =====================  ===================================================
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import BinaryIO

from sqlalchemy import ColumnElement, and_, exists, or_, select, update

from portal import audit, storage
from portal.auth.models import Position, PositionRole, Role, User, UserStatus
from portal.db import session, utcnow
from portal.documents import numbering
from portal.documents.models import (
    Channel,
    Direction,
    DocumentType,
    IncomingDocument,
    IncomingStatus,
    OutgoingDocument,
    RegisterBook,
    Secrecy,
    Urgency,
)
from portal.errors import NotAllowed, NotFound, ValidationFailed
from portal.incoming import handling
from portal.incoming.models import (
    Assignment,
    AssignmentRole,
    AssignmentState,
    FileRole,
    IncomingEvent,
    IncomingFile,
    Reminder,
    ReminderKind,
)
from portal.orgs.models import Organisation
from portal.text import fold, limited, nfc
from portal.timeutil import local_today, local_year, to_local

S = IncomingStatus
OPEN_STATUSES = (S.ASSIGNED, S.IN_PROGRESS)
# an assignment not yet done can still be worked on, chased and listed while its document is at
# one of these: the lead's finish (06) leaves co-operating parts open (handling.py)
WORK_STATUSES = (*OPEN_STATUSES, S.DONE)
RETURN_CATEGORIES = {
    "chu_ky": "Chữ ký số không hợp lệ hoặc không toàn vẹn",
    "sai_noi_nhan": "Gửi sai nơi nhận",
    "thieu_tep": "Thiếu hoặc lỗi tệp",
    "khac": "Khác",
}
ACTION_LABELS = {
    "arrive": "Văn bản đến hệ thống",
    "return": "Trả lại nơi gửi",
    "accept": "Tiếp nhận",
    "register": "Tiếp nhận, vào sổ",
    "number": "Vào sổ",
    "digitise": "Nhập văn bản giấy và vào sổ",
    "present": "Trình lãnh đạo",
    "forward": "Chuyển lãnh đạo khác",
    "send_back": "Trả lại văn thư",
    "direct": "Phân phối, chỉ đạo",
    "assign_directly": "Chuyển xử lý",
    "file_info": "Lưu, để biết",
    "unit_direct": "Giao xử lý trong đơn vị",
    "progress": "Cập nhật tiến độ",
    "input": "Gửi ý kiến phối hợp",
    "seen": "Đã xem",
    "finish": "Hoàn thành",
    "finish_part": "Hoàn thành phần việc phối hợp",
    "reopen": "Mở lại",
    "remind": "Đôn đốc",
    "recall_requested": "Nơi gửi đề nghị thu hồi",
    "recalled": "Đã thu hồi",
    "recall_refused": "Từ chối thu hồi",
}


class WrongStep(NotAllowed):
    """The document is not at a step where this action is possible (403 with the reason)."""


def _now() -> datetime:
    return utcnow()


# --- who is who ------------------------------------------------------------------------------------

def org_id(user: User) -> int:
    if user.organisation is None:
        raise NotAllowed("incoming.access", "Bạn chưa có chức vụ đang hiệu lực.")
    return user.organisation.id


def is_clerk(user: User, doc: IncomingDocument | None = None) -> bool:
    return user.has_role(Role.CLERK) and (doc is None or doc.organisation_id == org_id(user))


def is_agency_leader(user: User, doc: IncomingDocument | None = None) -> bool:
    return user.has_role(Role.AGENCY_LEADER) and (doc is None or doc.organisation_id == org_id(user))


def is_leader(user: User) -> bool:
    return user.has_role(Role.AGENCY_LEADER, Role.UNIT_HEAD)


def headed_unit_id(user: User) -> int | None:
    """The unit this person heads in their current position (R3)."""
    position = user.current_position
    if position is None or Role.UNIT_HEAD not in position.role_set:
        return None
    return position.unit_id


def is_front_desk(user: User) -> bool:
    """Clerks and agency leaders see every document of their organisation (R1)."""
    return user.has_role(Role.CLERK, Role.AGENCY_LEADER)


def participant_scope(user: User) -> ColumnElement[bool]:
    """What a participant may see at all: their organisation's documents, once accepted and
    while not returned or recalled."""
    d = IncomingDocument
    return and_(d.organisation_id == org_id(user), d.status.not_in((S.RECALLED, S.RETURNED, S.ARRIVED)))


def participation(user: User) -> tuple[list[ColumnElement[bool]], list[ColumnElement[bool]]]:
    """The ways a participant reaches a document (R2, R3), each its own condition: on the document
    (registered it, it is presented to them) and on one assignment row (assigned to them or by
    them, or to the unit they head). Separate, so a list can walk each one's index."""
    d, a = IncomingDocument, Assignment
    on_document = [d.registered_by_id == user.id, d.presented_to_id == user.id]
    on_assignment = [a.assignee_user_id == user.id, a.assigned_by_id == user.id]
    unit = headed_unit_id(user)
    if unit is not None:
        on_assignment.append(a.assignee_unit_id == unit)
    return on_document, on_assignment


def visible_clause(user: User) -> ColumnElement[bool]:
    """One set-based predicate for every list, search, count and page (SPEC §2.3–2.4):
    R1 clerks and agency leaders of the organisation; R2 participants (registering clerk, the
    leader it is presented to, assignees and assigners); R3 the head of an assigned unit.
    Recalled documents are gone for everyone; returned ones stay with the clerks. (A
    participant's list pages are built from the same parts by ``queries.page``.)"""
    d = IncomingDocument
    if is_front_desk(user):
        return and_(d.organisation_id == org_id(user), d.status != S.RECALLED)
    on_document, on_assignment = participation(user)
    reached = exists().where(Assignment.document_id == d.id, or_(*on_assignment))
    return and_(participant_scope(user), or_(*on_document, reached))


def get_visible(user: User, document_id: int) -> IncomingDocument:
    doc = session.execute(select(IncomingDocument).where(IncomingDocument.id == document_id,
                                                         visible_clause(user))).scalar_one_or_none()
    if doc is None:
        raise NotFound()
    return doc


def _step(doc: IncomingDocument, action: str, *allowed: S) -> None:
    if doc.status not in allowed:
        raise WrongStep(f"incoming.{action}",
                        f"Văn bản đang ở trạng thái “{doc.status_label}”, không thể "
                        f"“{ACTION_LABELS[action].lower()}”.")


def _holder(ok: bool, action: str, message: str | None = None) -> None:
    if not ok:
        raise NotAllowed(f"incoming.{action}", message or "Bạn không phải người đang giữ văn bản ở bước này.")


# --- history ----------------------------------------------------------------------------------------

def _event(doc: IncomingDocument, actor: User | None, action: str, *, text: str | None = None,
           status_changed: bool = False, assignment: Assignment | None = None, actor_name: str | None = None) -> None:
    if text and len(text) > 2000:  # composed history (a directive of 2,000 plus names); the directive stays whole
        text = text[:1999] + "…"
    session.add(IncomingEvent(document_id=doc.id, at=_now(), actor_id=actor.id if actor else None,
                              actor_name=(actor.full_name if actor else actor_name) or "Hệ thống",
                              action=action, status=doc.status.value, status_changed=status_changed,
                              text=text, assignment_id=assignment.id if assignment else None))
    audit.record(actor, f"incoming.{action}", doc, organisation_id=doc.organisation_id,
                 details={"status": doc.status.value, **({"text": text[:200]} if text else {})},
                 actor_name=actor_name)


def _move(doc: IncomingDocument, actor: User | None, action: str, to: S, text: str | None = None,
          actor_name: str | None = None) -> None:
    doc.status = to
    set_sort_key(doc)
    session.flush()
    _event(doc, actor, action, text=text, status_changed=True, actor_name=actor_name)


def set_sort_key(doc: IncomingDocument) -> None:
    """The document's sort key and its copy on every assignment row (the participants' lists
    walk the assignment indexes by it), changed together."""
    key = sort_key(doc)
    if key != doc.sort_key:
        doc.sort_key = key
        session.execute(update(Assignment).where(Assignment.document_id == doc.id).values(sort_key=key))


def sort_key(doc: IncomingDocument) -> str:
    """Urgent before ordinary while still open, then by arrival, newest first when sorted
    descending; the id makes it unique, so keyset pagination never skips or repeats a row."""
    closed = doc.status in (S.RETURNED, S.DONE, S.RECALLED)
    urgent = 1 if doc.urgency and int(doc.urgency) >= Urgency.URGENT and not closed else 0
    stamp = int(doc.arrived_at.timestamp() * 1_000_000)
    return f"{urgent}{stamp:017d}{doc.id:012d}"


# --- metadata -----------------------------------------------------------------------------------------

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
    if data.code_number and not data.code_number.isdigit():
        errors.setdefault("code_number", "Số của văn bản chỉ gồm chữ số, ví dụ 05 hoặc 125.")
    if data.page_amount is not None and not 0 < data.page_amount <= 999:
        errors["page_amount"] = "Số trang từ 1 đến 999."
    if data.due_date is not None and data.due_date < local_today():
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


def incoming_book(organisation_id: int, book_id: int | None = None) -> RegisterBook:
    """The organisation's incoming register book: the one chosen, else its first active one,
    created on first use ("Sổ văn bản đến")."""
    stmt = select(RegisterBook).where(RegisterBook.organisation_id == organisation_id,
                                      RegisterBook.direction == Direction.INCOMING, RegisterBook.active.is_(True))
    if book_id is not None:
        book = session.execute(stmt.where(RegisterBook.id == book_id)).scalar_one_or_none()
        if book is None:
            raise ValidationFailed({"book_id": "Sổ văn bản đến không hợp lệ."})
        return book
    default = stmt.where(RegisterBook.is_secret.is_(False)).order_by(RegisterBook.id)
    book = session.execute(default).scalars().first()
    if book is None:
        # Two first registrations at once must not each create a book (PostgreSQL; SQLite's BEGIN
        # IMMEDIATE serialises them anyway): lock the organisation row and look again. FOR NO KEY
        # UPDATE does not wait for transactions that merely insert rows referencing it.
        session.execute(select(Organisation.id).where(Organisation.id == organisation_id)
                        .with_for_update(key_share=True))
        book = session.execute(default).scalars().first()
    if book is None:
        book = RegisterBook(organisation_id=organisation_id, direction=Direction.INCOMING, name="Sổ văn bản đến",
                            notation_template="{so}")
        session.add(book)
        session.flush()
    return book


def _number(doc: IncomingDocument, actor: User, book_id: int | None) -> None:
    """Số đến: the next number of the book's year in Vietnam time, locked with the row that uses
    it (SPEC §4.3)."""
    book = incoming_book(doc.organisation_id, book_id)
    now = _now()
    year = local_year(now)
    doc.book_id = book.id
    doc.year = year
    doc.arrival_number = numbering.take_next(book, year)
    doc.registered_at = now
    doc.registered_by_id = actor.id
    doc.arrival_date = to_local(doc.arrived_at).date()


def _attach(doc: IncomingDocument, actor: User | None, stream: BinaryIO | bytes, filename: str,
            role: FileRole) -> IncomingFile:
    stored = storage.save(stream, nfc(filename) or "tep")
    row = IncomingFile(document_id=doc.id, sha256=stored.sha256, filename=(nfc(filename) or "tep")[:255],
                       size=stored.size, role=role, uploaded_by_id=actor.id if actor else None)
    session.add(row)
    if role == FileRole.MAIN and doc.main_file_sha256 is None:
        doc.main_file_sha256 = stored.sha256
    return row


@dataclass
class Upload:
    filename: str
    stream: BinaryIO | bytes
    role: FileRole = FileRole.ATTACHMENT


# --- arrival ----------------------------------------------------------------------------------------

def receive(recipient: Organisation, data: Metadata, files: Iterable[Upload] = (), *,
            sender: Organisation | None = None,
            channel: Channel = Channel.INTERNAL, source_outgoing_id: int | None = None,
            sender_organ_id: str | None = None) -> IncomingDocument:
    """An electronic document reaches an organisation (status 01, "Chờ tiếp nhận"). Called when
    another organisation of this system issues to it, and by interconnection; the sender sees 01
    at once."""
    data = clean(data)
    errors = validate(data, registering=False)
    if errors:
        raise ValidationFailed(errors)
    doc = IncomingDocument(organisation_id=recipient.id, status=S.ARRIVED, channel=channel, arrived_at=_now(),
                           sender_organisation_id=sender.id if sender else None,
                           sender_organ_id=sender_organ_id or (sender.organ_id if sender else None),
                           source_outgoing_id=source_outgoing_id)
    _apply(doc, data)
    session.add(doc)
    session.flush()
    for upload in files:
        row = _attach(doc, None, upload.stream, upload.filename, upload.role)
        _check_signatures(doc, row)
    set_sort_key(doc)
    _event(doc, None, "arrive", status_changed=True, actor_name=sender.name if sender else "Hệ thống")
    return doc


def _check_signatures(doc: IncomingDocument, row: IncomingFile) -> None:
    """Each received PDF's signatures are checked at arrival and the Vietnamese report kept
    (SPEC §7.5); the main file's verdict flags the document in lists and on its page."""
    if not row.filename.lower().endswith(".pdf"):
        return
    from portal.drafts import signatures  # the signing side of the portal

    try:
        verdict, report = signatures.report_json(storage.read(row.sha256))
    except Exception as exc:  # a file pyHanko cannot read is reported on the page, never a failed arrival
        verdict, report = "", json.dumps({"loi": str(exc)[:300], "chu_ky": []}, ensure_ascii=False)
    row.signature_verdict = verdict or None
    row.signature_report = report or None
    if row.role == FileRole.MAIN:
        doc.signature_verdict = verdict or None


def digitise(clerk: User, data: Metadata, scan: Upload, attachments: Iterable[Upload] = (),
             *, confirm_duplicate: bool = False) -> IncomingDocument:
    """A paper document scanned by the clerk: PDF plus metadata, registered at once (03)."""
    _holder(is_clerk(clerk), "digitise", "Chỉ văn thư của cơ quan được nhập văn bản giấy.")
    data = clean(data)
    errors = validate(data)
    if not scan.filename.lower().endswith(".pdf"):
        errors["scan"] = "Bản quét phải là tệp PDF."
    if errors:
        raise ValidationFailed(errors)
    if not confirm_duplicate and possible_duplicates(org_id(clerk), data):
        raise Duplicate(possible_duplicates(org_id(clerk), data))
    doc = IncomingDocument(organisation_id=org_id(clerk), status=S.REGISTERED, channel=Channel.PAPER,
                           arrived_at=_now(), has_paper=True)
    _apply(doc, data)
    doc.has_paper = True
    session.add(doc)
    session.flush()
    _attach(doc, clerk, scan.stream, scan.filename, FileRole.MAIN)
    for upload in attachments:
        _attach(doc, clerk, upload.stream, upload.filename, FileRole.ATTACHMENT)
    _number(doc, clerk, data.book_id)
    set_sort_key(doc)
    session.flush()
    _event(doc, clerk, "digitise", status_changed=True, text=f"Số đến {numbering.display(doc.arrival_number)}")
    return doc


class Duplicate(ValidationFailed):
    """It looks registered already; the clerk confirms or opens the earlier one."""

    def __init__(self, matches: list[IncomingDocument]) -> None:
        self.matches = matches
        super().__init__({"duplicate": "Văn bản này có vẻ đã được vào sổ (cùng mã định danh, hoặc cùng số, ký hiệu "
                                       "và cơ quan ban hành)."})


def accept(clerk: User, doc: IncomingDocument) -> None:
    """Tiếp nhận (01 → 03): the clerk has checked it; it waits in "Chờ vào sổ" for its số đến.
    The sender sees 03."""
    _step(doc, "accept", S.ARRIVED)
    _holder(is_clerk(clerk, doc), "accept", "Chỉ văn thư của cơ quan nhận được tiếp nhận văn bản.")
    _move(doc, clerk, "accept", S.REGISTERED)


def register(clerk: User, doc: IncomingDocument, data: Metadata, *, confirm_duplicate: bool = False) -> None:
    """Vào sổ: the clerk completes the metadata and gets the số đến. From 01 this accepts too
    (01 → 03); from 03 (accepted, not yet numbered) the status stays."""
    if doc.status != S.REGISTERED or doc.arrival_number is not None:
        _step(doc, "register", S.ARRIVED)
    _holder(is_clerk(clerk, doc), "register", "Chỉ văn thư của cơ quan nhận được vào sổ văn bản đến.")
    data = clean(data)
    errors = validate(data)
    if errors:
        raise ValidationFailed(errors)
    if not confirm_duplicate:
        matches = possible_duplicates(doc.organisation_id, data, exclude_id=doc.id)
        if matches:
            raise Duplicate(matches)
    _apply(doc, data)
    _number(doc, clerk, data.book_id)
    text = f"Số đến {numbering.display(doc.arrival_number)}"
    if doc.status == S.ARRIVED:
        _move(doc, clerk, "register", S.REGISTERED, text=text)
    else:
        set_sort_key(doc)
        session.flush()
        _event(doc, clerk, "number", text=text)


def _numbered(doc: IncomingDocument, action: str) -> None:
    if doc.arrival_number is None:
        raise WrongStep(f"incoming.{action}", "Văn bản chưa được vào sổ; hãy vào sổ để có số đến trước.")


def return_to_sender(clerk: User, doc: IncomingDocument, category: str, reason: str) -> None:
    """Trả lại (01 → 02, final): the reason is mandatory and the sender sees it."""
    _step(doc, "return", S.ARRIVED)
    _holder(is_clerk(clerk, doc), "return", "Chỉ văn thư của cơ quan nhận được trả lại văn bản.")
    reason = (nfc(reason) or "").strip()
    errors = {}
    if category not in RETURN_CATEGORIES:
        errors["category"] = "Hãy chọn lý do trả lại."
    if not reason:
        errors["reason"] = "Hãy ghi rõ lý do trả lại; nơi gửi sẽ thấy nội dung này."
    elif len(reason) > 1000:
        errors["reason"] = "Lý do tối đa 1.000 ký tự."
    if errors:
        raise ValidationFailed(errors)
    doc.return_category = category
    doc.return_reason = reason
    _move(doc, clerk, "return", S.RETURNED, text=f"{RETURN_CATEGORIES[category]}: {reason}")


# --- presenting and directing ---------------------------------------------------------------------------

def _leader_of(doc: IncomingDocument, user_id: int, *, agency: bool = False) -> User:
    roles = (Role.AGENCY_LEADER,) if agency else (Role.AGENCY_LEADER, Role.UNIT_HEAD)
    leader = session.execute(
        select(User).join(Position, Position.user_id == User.id).join(PositionRole)
        .where(User.id == user_id, Position.organisation_id == doc.organisation_id, PositionRole.role.in_(roles))
    ).scalars().first()
    if leader is None or not leader.is_active or not any(
            p.is_active() and p.organisation_id == doc.organisation_id for p in leader.positions):
        raise ValidationFailed({"leader_id": "Hãy chọn một lãnh đạo đang công tác tại cơ quan."})
    return leader


def present(clerk: User, doc: IncomingDocument, leader_id: int, note: str | None = None) -> None:
    """Trình lãnh đạo (03 → chờ phân phối)."""
    _step(doc, "present", S.REGISTERED)
    _numbered(doc, "present")
    _holder(is_clerk(clerk, doc), "present", "Chỉ văn thư được trình văn bản.")
    note = limited(note, 500, "note", "Ghi chú")
    leader = _leader_of(doc, leader_id)
    doc.presented_to_id = leader.id
    doc.presented_at = _now()
    _move(doc, clerk, "present", S.PRESENTED, text=f"Trình {leader.full_name}" + (f": {note}" if note else ""))


def forward(leader: User, doc: IncomingDocument, other_id: int, note: str | None = None) -> None:
    _step(doc, "forward", S.PRESENTED)
    _holder(doc.presented_to_id == leader.id, "forward")
    if other_id == leader.id:
        raise ValidationFailed({"leader_id": "Văn bản đang được trình chính đồng chí; hãy chọn một lãnh đạo khác."})
    note = limited(note, 500, "note", "Ghi chú")
    other = _leader_of(doc, other_id)
    doc.presented_to_id = other.id
    doc.presented_at = _now()
    _event(doc, leader, "forward", text=f"Chuyển {other.full_name}" + (f": {note}" if note else ""))


def send_back(leader: User, doc: IncomingDocument, reason: str) -> None:
    _step(doc, "send_back", S.PRESENTED)
    _holder(doc.presented_to_id == leader.id, "send_back")
    reason = limited(reason, 1000, "reason", "Lý do")
    if not reason:
        raise ValidationFailed({"reason": "Hãy ghi lý do trả lại văn thư."})
    doc.presented_to_id = None
    _move(doc, leader, "send_back", S.REGISTERED, text=reason)


@dataclass
class AssigneeSpec:
    role: AssignmentRole
    user_id: int | None = None
    unit_id: int | None = None
    deadline: date | None = None


def _check_assignees(doc: IncomingDocument, specs: list[AssigneeSpec], *, within_unit: int | None = None,
                     parent_deadline: date | None = None) -> None:
    errors: dict[str, str] = {}
    leads = [s for s in specs if s.role == AssignmentRole.LEAD]
    if len(leads) != 1:
        errors["assignees"] = "Phải có đúng một đơn vị hoặc cá nhân chủ trì."
    seen: set[tuple[str, int]] = set()
    for spec in specs:
        if (spec.user_id is None) == (spec.unit_id is None):
            errors["assignees"] = "Mỗi dòng giao việc là một đơn vị hoặc một cá nhân."
            continue
        key = ("u", spec.user_id) if spec.user_id else ("d", spec.unit_id)
        if key in seen:
            errors["assignees"] = "Một đơn vị hoặc cá nhân chỉ xuất hiện một lần."
        seen.add(key)  # type: ignore[arg-type]
        if spec.deadline is not None and spec.deadline < local_today():
            errors["deadline"] = "Hạn xử lý không thể trước hôm nay."
        if spec.deadline and parent_deadline and spec.deadline > parent_deadline:
            errors["deadline"] = f"Hạn xử lý không được sau hạn của đơn vị ({parent_deadline:%d/%m/%Y})."
        if spec.unit_id is not None:
            unit = session.get(Organisation, spec.unit_id)
            if within_unit is not None or unit is None or unit.owner_id != doc.organisation_id or unit.is_issuing:
                errors["assignees"] = "Chỉ giao cho phòng, ban thuộc cơ quan (trong đơn vị: chỉ giao cho cá nhân)."
        else:
            member = select(Position.id).where(Position.user_id == spec.user_id,
                                               Position.organisation_id == doc.organisation_id)
            if within_unit is not None:
                member = member.where(Position.unit_id == within_unit)
            if session.execute(member).first() is None:
                errors["assignees"] = ("Người được giao phải thuộc đơn vị của bạn." if within_unit is not None
                                       else "Người được giao phải thuộc cơ quan.")
    if errors:
        raise ValidationFailed(errors)


def _create_assignments(doc: IncomingDocument, actor: User, specs: list[AssigneeSpec], directive: str | None, *,
                        level: int, parent: Assignment | None = None) -> list[Assignment]:
    rows = []
    for spec in specs:
        row = Assignment(document_id=doc.id, parent_id=parent.id if parent else None, level=level,
                         assignee_user_id=spec.user_id, assignee_unit_id=spec.unit_id, role=spec.role,
                         deadline=spec.deadline, directive=directive, assigned_by_id=actor.id, assigned_at=_now(),
                         sort_key=doc.sort_key)
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def direct(leader: User, doc: IncomingDocument, directive: str, assignees: list[AssigneeSpec],
           due_date: date | None = None) -> list[Assignment]:
    """Phân phối (chờ phân phối → 04): the ý kiến chỉ đạo and exactly one lead, any number of
    co-operating and for-information units or persons, each with its own deadline. The document's
    own deadline (hạn giải quyết) changes only when the leader sets it here; the lead's deadline
    is the lead's, never copied onto the document."""
    _step(doc, "direct", S.PRESENTED)
    _holder(doc.presented_to_id == leader.id, "direct")
    _holder(is_agency_leader(leader, doc), "direct", "Chỉ lãnh đạo cơ quan được phân phối văn bản đến.")
    if due_date is not None and due_date < local_today():
        raise ValidationFailed({"due_date": "Hạn giải quyết không thể trước hôm nay."})
    rows = _assign(leader, doc, directive, assignees, "direct")
    doc.due_date = due_date or doc.due_date
    return rows


def assign_directly(clerk: User, doc: IncomingDocument, note: str, assignees: list[AssigneeSpec]) -> list[Assignment]:
    """Chuyển xử lý (03 → 04) when the handler is clear (Điều 23.1)."""
    _step(doc, "assign_directly", S.REGISTERED)
    _numbered(doc, "assign_directly")
    _holder(is_clerk(clerk, doc), "assign_directly", "Chỉ văn thư được chuyển xử lý.")
    return _assign(clerk, doc, note, assignees, "assign_directly")


def _assign(actor: User, doc: IncomingDocument, directive: str, assignees: list[AssigneeSpec],
            action: str) -> list[Assignment]:
    directive = (nfc(directive) or "").strip()
    if len(directive) > 2000:
        raise ValidationFailed({"directive": "Ý kiến chỉ đạo tối đa 2.000 ký tự."})
    _check_assignees(doc, assignees)
    rows = _create_assignments(doc, actor, assignees, directive or None, level=1)
    doc.presented_to_id = None
    session.flush()
    names = "; ".join(f"{r.role.label}: {_name(r)}" + (f" (hạn {r.deadline:%d/%m/%Y})" if r.deadline else "")
                      for r in rows)
    doc.to_places = names[:1000]
    _move(doc, actor, action, S.ASSIGNED, text=(directive + "\n" if directive else "") + names)
    return rows


def _name(row: Assignment) -> str:
    if row.assignee_user_id:
        user = session.get(User, row.assignee_user_id)
        return user.full_name if user else ""
    unit = session.get(Organisation, row.assignee_unit_id)
    return unit.name if unit else ""


def file_for_information(leader: User, doc: IncomingDocument, note: str | None = None) -> None:
    _step(doc, "file_info", S.PRESENTED)
    _holder(doc.presented_to_id == leader.id, "file_info")
    note = limited(note, 500, "note", "Ghi chú") or None
    doc.presented_to_id = None
    doc.completed_at = _now()
    _move(doc, leader, "file_info", S.DONE, text=note)


def unit_assignment(user: User, doc: IncomingDocument) -> Assignment | None:
    """The level-1 row naming the unit this person heads, if any."""
    unit = headed_unit_id(user)
    if unit is None:
        return None
    return session.execute(select(Assignment).where(Assignment.document_id == doc.id, Assignment.level == 1,
                                                    Assignment.assignee_unit_id == unit)).scalars().first()


def direct_within_unit(head: User, doc: IncomingDocument, directive: str,
                       assignees: list[AssigneeSpec]) -> list[Assignment]:
    """The unit head's level of the phiếu: persons of the unit, one lead among them."""
    _step(doc, "unit_direct", *WORK_STATUSES)
    parent = unit_assignment(head, doc)
    if parent is None:
        raise NotAllowed("incoming.unit_direct", "Chỉ lãnh đạo đơn vị được giao xử lý mới giao tiếp trong đơn vị.")
    if parent.state == AssignmentState.DONE:
        raise WrongStep("incoming.unit_direct", "Phần việc của đơn vị đã hoàn thành.")
    if session.execute(select(Assignment.id).where(Assignment.parent_id == parent.id)).first():
        raise WrongStep("incoming.unit_direct", "Đơn vị đã giao xử lý văn bản này; hãy xem phiếu giải quyết.")
    directive = limited(directive, 2000, "directive", "Ý kiến chỉ đạo")
    _check_assignees(doc, assignees, within_unit=parent.assignee_unit_id, parent_deadline=parent.deadline)
    rows = _create_assignments(doc, head, assignees, directive or None, level=2, parent=parent)
    parent.state = AssignmentState.WORKING
    names = "; ".join(f"{r.role.label}: {_name(r)}" for r in rows)
    _event(doc, head, "unit_direct", text=(directive + "\n" if directive else "") + names, assignment=parent)
    return rows


def my_assignments(user: User, doc: IncomingDocument) -> list[Assignment]:
    return list(session.execute(select(Assignment).where(Assignment.document_id == doc.id,
                                                         Assignment.assignee_user_id == user.id)
                                .order_by(Assignment.level, Assignment.id)).scalars())


def lead_person_assignment(doc: IncomingDocument) -> Assignment | None:
    """The person who answers for the document: the lead person, directly or through the lead
    unit's own lead."""
    chain = handling.lead_chain(doc)
    return chain[-1] if chain and chain[-1].assignee_user_id is not None else None


def progress_rows(user: User, doc: IncomingDocument) -> list[Assignment]:
    """The rows a progress note may be about: any of mine not done while the document is open;
    after the lead's finish, only my own open part."""
    if doc.status in OPEN_STATUSES:
        return [r for r in my_assignments(user, doc) if r.state != AssignmentState.DONE]
    return handling.open_parts(user, doc) if doc.status == S.DONE else []


def record_progress(user: User, doc: IncomingDocument, text: str, files: Iterable[Upload] = (), *,
                    part_done: bool = False) -> None:
    """A progress note (the lead's first one moves 04 → 05); co-operating assignees send their
    input to the lead this way, and with ``part_done`` finish their own part, also after the lead
    has finished the document (handling.py); the document's status does not move for that."""
    _step(doc, "progress", *WORK_STATUSES)
    mine = progress_rows(user, doc)
    _holder(bool(mine), "progress", "Bạn không có phần việc đang mở ở văn bản này.")
    text = (nfc(text) or "").strip()
    if not text:
        raise ValidationFailed({"text": "Hãy ghi nội dung tiến độ hoặc ý kiến."})
    if len(text) > 2000:
        raise ValidationFailed({"text": "Nội dung tối đa 2.000 ký tự."})
    parts = handling.open_parts(user, doc) if part_done else []
    if part_done and not parts:
        raise ValidationFailed({"done": "Bạn không có phần việc phối hợp đang mở; người chủ trì dùng “Hoàn thành”."})
    for upload in files:
        _attach(doc, user, upload.stream, upload.filename, FileRole.RESULT)
    if parts:
        handling.close_parts(parts, _now())
        session.flush()
        _event(doc, user, "finish_part", text=text, assignment=parts[-1])
        return
    row = mine[-1]
    row.state = AssignmentState.WORKING
    lead = lead_person_assignment(doc)
    action = "progress" if row.role == AssignmentRole.LEAD else "input"
    if lead is not None and lead.assignee_user_id == user.id and doc.status == S.ASSIGNED:
        _move(doc, user, action, S.IN_PROGRESS, text=text)
    else:
        session.flush()
        _event(doc, user, action, text=text, assignment=row)


def mark_seen(user: User, doc: IncomingDocument) -> None:
    _step(doc, "seen", S.ASSIGNED, S.IN_PROGRESS, S.DONE)  # a recalled document is gone for everyone
    mine = [a for a in my_assignments(user, doc) if a.state == AssignmentState.NEW]
    _holder(bool(mine), "seen", "Bạn không có phần việc mới ở văn bản này.")
    for row in mine:
        row.state = AssignmentState.SEEN
    session.flush()
    _event(doc, user, "seen", assignment=mine[-1])


def finish(user: User, doc: IncomingDocument, result: str, files: Iterable[Upload] = (),
           answer_outgoing_id: int | None = None) -> None:
    """Hoàn thành (04/05 → 06) by the lead person, with the result (mandatory)."""
    _step(doc, "finish", *OPEN_STATUSES)
    lead = lead_person_assignment(doc)
    _holder(lead is not None and lead.assignee_user_id == user.id, "finish",
            "Chỉ cá nhân chủ trì xử lý được hoàn thành văn bản.")
    result = (nfc(result) or "").strip()
    if not result:
        raise ValidationFailed({"result": "Hãy ghi kết quả xử lý (hoặc số, ký hiệu văn bản trả lời)."})
    if len(result) > 2000:
        raise ValidationFailed({"result": "Kết quả tối đa 2.000 ký tự."})
    for upload in files:
        _attach(doc, user, upload.stream, upload.filename, FileRole.RESULT)
    now = _now()
    for row in handling.lead_chain(doc):  # co-operating and for-information rows keep their own state
        row.state, row.finished_at = AssignmentState.DONE, now
    doc.result_text = result
    doc.answer_outgoing_id = answer_outgoing_id or doc.answer_outgoing_id or handling.issued_reply_id(doc)
    doc.completed_at = now
    _move(doc, user, "finish", S.DONE, text=result)


def reopen(user: User, doc: IncomingDocument, reason: str) -> None:
    _step(doc, "reopen", S.DONE)
    lead = session.execute(select(Assignment).where(Assignment.document_id == doc.id, Assignment.level == 1,
                                                    Assignment.role == AssignmentRole.LEAD)).scalars().first()
    heads_lead_unit = lead is not None and lead.assignee_unit_id is not None \
        and lead.assignee_unit_id == headed_unit_id(user)
    _holder(is_agency_leader(user, doc) or heads_lead_unit, "reopen",
            "Chỉ lãnh đạo cơ quan hoặc lãnh đạo đơn vị chủ trì được mở lại văn bản.")
    reason = limited(reason, 1000, "reason", "Lý do")
    if not reason:
        raise ValidationFailed({"reason": "Hãy ghi lý do mở lại."})
    if lead is None:
        raise WrongStep("incoming.reopen", "Văn bản được lưu để biết, không có đơn vị chủ trì để xử lý lại.")
    for row in handling.lead_chain(doc):  # what the finish closed; the others' parts stay as they are
        row.state, row.finished_at = AssignmentState.WORKING, None
    doc.completed_at = None
    _move(doc, user, "reopen", S.IN_PROGRESS, text=reason)


# --- chasing --------------------------------------------------------------------------------------------

def remind(user: User, doc: IncomingDocument, assignment_id: int, kind: ReminderKind, text: str) -> Reminder:
    row = session.get(Assignment, assignment_id)
    open_part = row is not None and row.document_id == doc.id and row.state != AssignmentState.DONE
    _step(doc, "remind", *(WORK_STATUSES if open_part else OPEN_STATUSES))  # at 06: a part still open
    if row is None or row.document_id != doc.id:
        raise NotFound()
    if row.state == AssignmentState.DONE:
        raise WrongStep("incoming.remind", "Phần việc này đã hoàn thành.")
    _holder(is_clerk(user, doc) or is_agency_leader(user, doc) or row.assigned_by_id == user.id, "remind",
            "Chỉ văn thư, lãnh đạo cơ quan hoặc người giao việc được đôn đốc.")
    if kind not in (ReminderKind.REMIND, ReminderKind.CRITICISE, ReminderKind.REVIEW):
        raise ValidationFailed({"kind": "Hãy chọn hình thức đôn đốc."})
    text = (nfc(text) or "").strip()
    if len(text) > 1000:
        raise ValidationFailed({"text": "Nội dung tối đa 1.000 ký tự."})
    reminder = Reminder(assignment_id=row.id, kind=kind, text=text or None, sent_by_id=user.id, sent_at=_now())
    session.add(reminder)
    session.flush()
    _event(doc, user, "remind", text=f"{kind.label} {_name(row)}" + (f": {text}" if text else ""), assignment=row)
    return reminder


DUE_SOON_DAYS = 1


def send_due_reminders(today: date | None = None) -> int:
    """The daily job (`portal remind`): one "sắp đến hạn" or "quá hạn" reminder per open
    assignment and day, however often it runs (a unique key per assignment, kind and day)."""
    today = today or local_today()
    rows = session.execute(
        select(Assignment).join(IncomingDocument, IncomingDocument.id == Assignment.document_id)
        .where(IncomingDocument.status.in_(WORK_STATUSES), Assignment.deadline.is_not(None),
               Assignment.deadline <= today + timedelta(days=DUE_SOON_DAYS),
               Assignment.role != AssignmentRole.INFORM, Assignment.state != AssignmentState.DONE)
    ).scalars().all()
    sent = 0
    for row in rows:
        kind = ReminderKind.OVERDUE if row.deadline < today else ReminderKind.DUE_SOON
        exists_already = session.execute(select(Reminder.id).where(
            Reminder.assignment_id == row.id, Reminder.kind == kind, Reminder.for_date == today)).first()
        if exists_already:
            continue
        with session.begin_nested():
            session.add(Reminder(assignment_id=row.id, kind=kind, for_date=today, sent_at=_now(),
                                 text=f"Hạn xử lý {row.deadline:%d/%m/%Y}"))
        sent += 1
    if sent:
        audit.record(None, "incoming.reminders_sent", actor_name="hệ thống", details={"count": sent,
                                                                                       "date": today.isoformat()})
    return sent


def reminders_for(user: User, limit: int = 50) -> list[Reminder]:
    """What this person has been reminded of, newest first (person assignments, and unit ones
    for the unit's head)."""
    unit = headed_unit_id(user)
    who = Assignment.assignee_user_id == user.id
    if unit is not None:
        who = or_(who, Assignment.assignee_unit_id == unit)
    return list(session.execute(
        select(Reminder).join(Assignment, Assignment.id == Reminder.assignment_id)
        .join(IncomingDocument, IncomingDocument.id == Assignment.document_id)
        .where(who, IncomingDocument.status != S.RECALLED).order_by(Reminder.id.desc()).limit(limit)
    ).scalars())


# --- recall -------------------------------------------------------------------------------------------

def request_recall(doc: IncomingDocument, reason: str, sender_name: str) -> None:
    """The sender recalls (called by the outgoing side). At 01 it is recalled at once; later the
    receiving clerk confirms."""
    if doc.status in (S.RETURNED, S.RECALLED):
        return
    doc.recall_requested_at = _now()
    doc.recall_reason = (nfc(reason) or "")[:1000]
    if doc.status == S.ARRIVED:
        _destroy(doc, None, sender_name)
    else:
        session.flush()
        _event(doc, None, "recall_requested", text=doc.recall_reason, actor_name=sender_name)


def confirm_recall(clerk: User, doc: IncomingDocument) -> None:
    _holder(is_clerk(clerk, doc), "recalled", "Chỉ văn thư được xác nhận thu hồi.")
    if doc.recall_requested_at is None or doc.status in (S.RETURNED, S.RECALLED):
        raise WrongStep("incoming.recalled", "Văn bản này không có đề nghị thu hồi.")
    _destroy(doc, clerk, None)
    _tell_sender(doc, agreed=True, reason=None)


def refuse_recall(clerk: User, doc: IncomingDocument, reason: str) -> None:
    """Từ chối thu hồi (16): the document stays; the reason goes back to the sender."""
    _holder(is_clerk(clerk, doc), "recall_refused", "Chỉ văn thư được trả lời đề nghị thu hồi.")
    if doc.recall_requested_at is None or doc.status in (S.RETURNED, S.RECALLED):
        raise WrongStep("incoming.recall_refused", "Văn bản này không có đề nghị thu hồi.")
    reason = (nfc(reason) or "").strip()
    if not reason:
        raise ValidationFailed({"reason": "Hãy ghi lý do từ chối thu hồi; nơi gửi sẽ thấy nội dung này."})
    if len(reason) > 1000:
        raise ValidationFailed({"reason": "Lý do tối đa 1.000 ký tự."})
    doc.recall_requested_at = None
    session.flush()
    _event(doc, clerk, "recall_refused", text=reason)
    _tell_sender(doc, agreed=False, reason=reason)


def _tell_sender(doc: IncomingDocument, *, agreed: bool, reason: str | None) -> None:
    if doc.source_outgoing_id is None:
        return
    from portal.drafts import services as drafts  # the sender side of the same system

    drafts.record_recall_answer(doc, agreed, reason)


def _destroy(doc: IncomingDocument, clerk: User | None, sender_name: str | None) -> None:
    """Thu hồi (SPEC §5.8): file references go, the content disappears from every view; the
    identity and the recall record stay."""
    for row in session.execute(select(IncomingFile).where(IncomingFile.document_id == doc.id)).scalars():
        session.delete(row)
    doc.main_file_sha256 = None
    doc.recalled_at = _now()
    doc.recalled_by_id = clerk.id if clerk else None
    _move(doc, clerk, "recalled", S.RECALLED, text=doc.recall_reason, actor_name=sender_name)


# --- reading --------------------------------------------------------------------------------------------

def files_of(doc: IncomingDocument) -> list[IncomingFile]:
    return list(session.execute(select(IncomingFile).where(IncomingFile.document_id == doc.id)
                                .order_by(IncomingFile.role, IncomingFile.id)).scalars())


def history(doc: IncomingDocument) -> list[IncomingEvent]:
    return list(session.execute(select(IncomingEvent).where(IncomingEvent.document_id == doc.id)
                                .order_by(IncomingEvent.id)).scalars())


def assignments_of(doc: IncomingDocument) -> list[Assignment]:
    return list(session.execute(select(Assignment).where(Assignment.document_id == doc.id)
                                .order_by(Assignment.level, Assignment.id)).scalars())


def open_file(user: User, doc: IncomingDocument, file_id: int, *, download: bool) -> tuple[IncomingFile, bytes]:
    """A file of a visible document; every view and download is audited and counted (SPEC §13.5)."""
    row = session.get(IncomingFile, file_id)
    if row is None or row.document_id != doc.id:
        raise NotFound()
    data = storage.read(row.sha256)
    if download:
        row.download_count += 1
    else:
        row.view_count += 1
    audit.record(user, "incoming.file_download" if download else "incoming.file_view", doc,
                 organisation_id=doc.organisation_id, details={"file_id": row.id, "sha256": row.sha256})
    return row, data


def sender_statuses(user: User, limit: int = 100) -> list[IncomingDocument]:
    """What the sender's clerks and leaders see: the receiving side's status of what they sent
    (SPEC §5.2, "Sent to sender")."""
    if not user.has_role(Role.CLERK, Role.AGENCY_LEADER):
        return []
    return list(session.execute(select(IncomingDocument).where(IncomingDocument.sender_organisation_id == org_id(user))
                                .order_by(IncomingDocument.id.desc()).limit(limit)).scalars())


@dataclass
class Source:
    """The issued document behind an internal arrival, and what it corrects or replaces."""

    outgoing: OutgoingDocument
    corrects: OutgoingDocument | None
    replaces: OutgoingDocument | None
    recalled: bool


def source_of(doc: IncomingDocument) -> Source | None:
    if doc.source_outgoing_id is None:
        return None
    out = session.get(OutgoingDocument, doc.source_outgoing_id)
    if out is None:
        return None
    return Source(out, session.get(OutgoingDocument, out.corrects_id) if out.corrects_id else None,
                  session.get(OutgoingDocument, out.replaces_id) if out.replaces_id else None,
                  out.recalled_at is not None)


def sender_events(doc: IncomingDocument) -> list[IncomingEvent]:
    """Only status changes travel back, never the receiver's internal directives."""
    return list(session.execute(select(IncomingEvent).where(IncomingEvent.document_id == doc.id,
                                                            IncomingEvent.status_changed.is_(True))
                                .order_by(IncomingEvent.id)).scalars())


# --- for the document page --------------------------------------------------------------------------

def available_actions(user: User, doc: IncomingDocument) -> set[str]:
    """Which step forms to offer this person now: the same rules the step functions enforce
    (they check again), so the page never shows a button the server would refuse."""
    status = doc.status
    clerk = is_clerk(user, doc)
    actions: set[str] = set()
    if clerk and status == S.ARRIVED:
        actions |= {"accept", "return"}
    if clerk and (status == S.ARRIVED or (status == S.REGISTERED and doc.arrival_number is None)):
        actions.add("register")
    if clerk and status == S.REGISTERED and doc.arrival_number is not None:
        actions |= {"present", "assign_directly"}
    if status == S.PRESENTED and doc.presented_to_id == user.id:
        actions |= {"forward", "send_back", "file_info"}
        if is_agency_leader(user, doc):
            actions.add("direct")
    if status in WORK_STATUSES:
        parent = unit_assignment(user, doc)
        if parent is not None and parent.state != AssignmentState.DONE and not session.execute(
                select(Assignment.id).where(Assignment.parent_id == parent.id)).first():
            actions.add("unit_direct")
        if progress_rows(user, doc):
            actions.add("progress")
        if handling.open_parts(user, doc):
            actions.add("finish_part")
    if status in OPEN_STATUSES:
        lead = lead_person_assignment(doc)
        if lead is not None and lead.assignee_user_id == user.id:
            actions.add("finish")
    if status in (*OPEN_STATUSES, S.DONE) and any(a.state == AssignmentState.NEW for a in my_assignments(user, doc)):
        actions.add("seen")
    if status == S.DONE:
        lead = session.execute(select(Assignment).where(Assignment.document_id == doc.id, Assignment.level == 1,
                                                        Assignment.role == AssignmentRole.LEAD)).scalars().first()
        if lead is not None and (is_agency_leader(user, doc) or (
                lead.assignee_unit_id is not None and lead.assignee_unit_id == headed_unit_id(user))):
            actions.add("reopen")
    if clerk and doc.recall_requested_at is not None and status not in (S.RETURNED, S.RECALLED):
        actions.update(("confirm_recall", "refuse_recall"))
    return actions


def can_remind(user: User, doc: IncomingDocument, row: Assignment) -> bool:
    return doc.status in WORK_STATUSES and row.state != AssignmentState.DONE and (
        is_clerk(user, doc) or is_agency_leader(user, doc) or row.assigned_by_id == user.id)


LOOKUP_KINDS = ("unit", "person", "leader", "member")


def lookup(user: User, doc: IncomingDocument, kind: str, q: str, limit: int = 15) -> list[User] | list[Organisation]:
    """Type-ahead for the pickers, always inside the document's organisation: its units, its
    people, its leaders, or (``member``) the people of the unit this person heads."""
    folded = fold(q)
    if kind == "unit":
        o = Organisation
        stmt = select(o).where(o.owner_id == doc.organisation_id, o.is_issuing.is_(False))
        if folded:
            stmt = stmt.where(o.name_folded.contains(folded, autoescape=True))
        return list(session.execute(stmt.order_by(o.name).limit(limit)).scalars())
    today = local_today()
    stmt = select(User).join(Position, Position.user_id == User.id).where(
        Position.organisation_id == doc.organisation_id, User.status == UserStatus.ACTIVE,
        or_(Position.valid_from.is_(None), Position.valid_from <= today),
        or_(Position.valid_to.is_(None), Position.valid_to >= today))
    if kind == "leader":
        stmt = stmt.join(PositionRole, PositionRole.position_id == Position.id).where(
            PositionRole.role.in_((Role.AGENCY_LEADER, Role.UNIT_HEAD)))
        if doc.status == S.PRESENTED and doc.presented_to_id is not None:  # "chuyển": never to oneself
            stmt = stmt.where(User.id != doc.presented_to_id)
    elif kind == "member":
        unit = headed_unit_id(user)
        if unit is None:
            return []
        stmt = stmt.where(Position.unit_id == unit)
    if folded:
        stmt = stmt.where(or_(User.full_name_folded.contains(folded, autoescape=True),
                              User.username.contains(folded, autoescape=True)))
    return list(session.execute(stmt.distinct().order_by(User.full_name, User.id).limit(limit)).scalars())


def incoming_books(organisation_id: int) -> list[RegisterBook]:
    return list(session.execute(select(RegisterBook).where(
        RegisterBook.organisation_id == organisation_id, RegisterBook.direction == Direction.INCOMING,
        RegisterBook.active.is_(True)).order_by(RegisterBook.id)).scalars())


def document_types() -> list[DocumentType]:
    return list(session.execute(select(DocumentType).where(DocumentType.active.is_(True))
                                .order_by(DocumentType.name)).scalars())
