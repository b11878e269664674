"""Arrival (SPEC §5.2–5.3): an electronic document reaches the organisation, a paper one is
digitised, the clerk accepts, registers (số đến) or returns it. No Flask here."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import select

from portal import storage
from portal.auth.models import User
from portal.db import session
from portal.documents import numbering
from portal.documents.models import Channel, Direction, IncomingDocument, RegisterBook
from portal.errors import NotAllowed, ValidationFailed
from portal.incoming import events, limits
from portal.incoming.events import guard, set_sort_key
from portal.incoming.metadata import (
    Duplicate,
    Metadata,
    Upload,
    _apply,
    _attach,
    clean,
    possible_duplicates,
    validate,
)
from portal.incoming.models import FileRole, IncomingFile
from portal.incoming.visibility import S, is_clerk, org_id
from portal.orgs.models import Organisation
from portal.text import nfc
from portal.timeutil import local_year, to_local

RETURN_CATEGORIES = {
    "chu_ky": "Chữ ký số không hợp lệ hoặc không toàn vẹn",
    "sai_noi_nhan": "Gửi sai nơi nhận",
    "thieu_tep": "Thiếu hoặc lỗi tệp",
    "khac": "Khác",
}


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
    now = events._now()
    year = local_year(now)
    doc.book_id = book.id
    doc.year = year
    doc.arrival_number = numbering.take_next(book, year)
    doc.registered_at = now
    doc.registered_by_id = actor.id
    doc.arrival_date = to_local(doc.arrived_at).date()



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
    doc = IncomingDocument(organisation_id=recipient.id, status=S.ARRIVED, channel=channel, arrived_at=events._now(),
                           sender_organisation_id=sender.id if sender else None,
                           sender_organ_id=sender_organ_id or (sender.organ_id if sender else None),
                           source_outgoing_id=source_outgoing_id)
    _apply(doc, data)
    limits.set_registration_due(doc)
    session.add(doc)
    session.flush()
    for upload in files:
        row = _attach(doc, None, upload.stream, upload.filename, upload.role, inert=upload.inert,
                      warning=upload.warning)
        _check_signatures(doc, row)
    set_sort_key(doc)
    events._event(doc, None, "arrive", status_changed=True, actor_name=sender.name if sender else "Hệ thống")
    return doc


def _check_signatures(doc: IncomingDocument, row: IncomingFile) -> None:
    """Each received PDF's signatures are checked at arrival and the Vietnamese report kept
    (SPEC §7.5); the main file's verdict flags the document in lists and on its page."""
    if not row.filename.lower().endswith(".pdf") or row.warning:
        return
    from portal.signatures import service as signatures  # the signing side of the portal

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
    if not is_clerk(clerk):  # a creation, not a step on a document: the one-time token stops repeats
        raise NotAllowed("incoming.digitise", "Chỉ văn thư của cơ quan được nhập văn bản giấy.")
    data = clean(data)
    errors = validate(data)
    if not scan.filename.lower().endswith(".pdf"):
        errors["scan"] = "Bản quét phải là tệp PDF."
    if errors:
        raise ValidationFailed(errors)
    if not confirm_duplicate and possible_duplicates(org_id(clerk), data):
        raise Duplicate(possible_duplicates(org_id(clerk), data))
    doc = IncomingDocument(organisation_id=org_id(clerk), status=S.REGISTERED, channel=Channel.PAPER,
                           arrived_at=events._now(), has_paper=True)
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
    events._event(doc, clerk, "digitise", status_changed=True, text=f"Số đến {numbering.display(doc.arrival_number)}")
    return doc



def accept(clerk: User, doc: IncomingDocument) -> None:
    """Tiếp nhận (01 → 03): the clerk has checked it; it waits in "Chờ vào sổ" for its số đến.
    The sender sees 03."""
    guard(clerk, "accept", doc)
    events._move(doc, clerk, "accept", S.REGISTERED)


def register(clerk: User, doc: IncomingDocument, data: Metadata, *, confirm_duplicate: bool = False) -> None:
    """Vào sổ: the clerk completes the metadata and gets the số đến. From 01 this accepts too
    (01 → 03); from 03 (accepted, not yet numbered) the status stays."""
    guard(clerk, "register", doc)
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
        events._move(doc, clerk, "register", S.REGISTERED, text=text)
    else:
        set_sort_key(doc)
        session.flush()
        events._event(doc, clerk, "number", text=text)


def return_to_sender(clerk: User, doc: IncomingDocument, category: str, reason: str) -> None:
    """Trả lại (01 → 02, final): the reason is mandatory and the sender sees it."""
    guard(clerk, "return", doc)
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
    events._move(doc, clerk, "return", S.RETURNED, text=f"{RETURN_CATEGORIES[category]}: {reason}")

