"""Cấp số và phát hành (SPEC §6.4, §6.5): the outgoing book, number, notation and identifier, the seal,
the OutgoingDocument and delivery to the system's recipients, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from portal import storage
from portal.auth.models import User
from portal.db import session
from portal.documents import identifiers, numbering
from portal.documents.models import (
    Direction,
    DocumentType,
    IncomingDocument,
    OutgoingDocument,
    OutgoingStatus,
    RegisterBook,
)
from portal.drafts import choices, common
from portal.drafts.common import S
from portal.drafts.composing import attachments_of, recipients_of
from portal.drafts.models import Draft, Recipient
from portal.drafts.workflow import guard
from portal.errors import ValidationFailed
from portal.exchange import delivery
from portal.orgs.models import Organisation
from portal.timeutil import local_year, to_local


def outgoing_books(organisation_id: int) -> list[RegisterBook]:
    return list(session.execute(select(RegisterBook).where(
        RegisterBook.organisation_id == organisation_id, RegisterBook.direction == Direction.OUTGOING,
        RegisterBook.active.is_(True), RegisterBook.is_secret.is_(False)).order_by(RegisterBook.id)).scalars())


def _book(draft: Draft, book_id: int | None) -> RegisterBook:
    books = outgoing_books(draft.organisation_id)
    if book_id is not None:
        book = next((b for b in books if b.id == book_id), None)
        if book is None:
            raise ValidationFailed({"book_id": "Sổ văn bản đi không hợp lệ."})
        return book
    if books:
        return books[0]
    # Two first issuances at once must not each create a book (PostgreSQL; SQLite's BEGIN
    # IMMEDIATE serialises them anyway): lock the organisation row and look again, as
    # incoming.incoming_book does.
    session.execute(select(Organisation.id).where(Organisation.id == draft.organisation_id)
                    .with_for_update(key_share=True))
    books = outgoing_books(draft.organisation_id)
    if books:
        return books[0]
    book = RegisterBook(organisation_id=draft.organisation_id, direction=Direction.OUTGOING, name="Sổ văn bản đi",
                        notation_template="{so}/{loai}-{co_quan}")
    session.add(book)
    session.flush()
    return book


def notation(draft: Draft, org: Organisation) -> str:
    """Ký hiệu (NĐ 30 Phụ lục I II.3): "QĐ-UBND" for typed documents; công văn (no type
    abbreviation) "UBND-VP": the organisation and the drafting unit."""
    doc_type = session.get(DocumentType, draft.document_type_id) if draft.document_type_id else None
    unit = session.get(Organisation, draft.unit_id) if draft.unit_id else None
    if doc_type is None or not doc_type.abbreviation:
        parts = [org.short_name] + ([unit.short_name] if unit else [])
    else:
        parts = [doc_type.abbreviation, org.short_name]
    return "-".join(p for p in parts if p)[:30]


def identifier(org: Organisation, year: int, number: int, code_notation: str) -> str:
    """Mã định danh văn bản (SPEC §4.5): {organ_id}-{năm}.{số}/{ký hiệu}."""
    return identifiers.identifier(org.organ_id or org.short_name, year, number, code_notation)


@dataclass
class Issued:
    outgoing: OutgoingDocument
    delivered: list[IncomingDocument]


def issue(clerk: User, draft: Draft, book_id: int | None, seal: object = None) -> Issued:
    """Cấp số và phát hành, in one transaction (SPEC §6.4): lock the draft, take the number of
    the chosen book, put number and date on the signed PDF and add the organisation's seal
    signature (``seal(pdf, number_text, date_text) -> bytes``), create the outgoing record and
    the recipients' incoming items. Any failure rolls everything back: no number is used. A
    second click finds the draft issued and changes nothing."""
    locked = guard(clerk, "issue", draft)
    org = session.get(Organisation, locked.organisation_id)
    assert org is not None
    assert locked.signed_sha256 is not None
    recipients = recipients_of(locked)
    choices.check_delivery(recipients, org.id)
    if seal is None:  # the seal's certificate is checked here, before a book or a number is touched
        from portal.signatures import service as signatures

        seal = signatures.seal_for(org)
    book = _book(locked, book_id)
    now = common.now()
    year = local_year(now)
    number = numbering.take_next(book, year)
    code_notation = notation(locked, org)
    issued_on = to_local(now).date()
    signed = storage.read(locked.signed_sha256)
    sealed = seal(signed, f"{numbering.display(number)}/{code_notation}", issued_on)  # type: ignore[operator]
    stored = storage.save(sealed, f"{numbering.display(number)}-{code_notation}.pdf".replace("/", "-"))
    signer = session.get(User, locked.signed_by_id) if locked.signed_by_id else None
    out = OutgoingDocument(
        organisation_id=org.id, unit_id=locked.unit_id, status=OutgoingStatus.ISSUED, book_id=book.id, year=year,
        number=number, document_type_id=locked.document_type_id, type_name=locked.type_name,
        code_number=numbering.display(number), code_notation=code_notation, issued_date=issued_on,
        organ_name=org.name, subject=locked.subject, subject_folded=locked.subject_folded,
        signer_position=locked.signer_title, signer_name=signer.full_name[:50] if signer else None,
        urgency=locked.urgency, secrecy=locked.secrecy, due_date=locked.due_date, main_file_sha256=stored.sha256,
        file_sha256=stored.sha256, issued_at=now, issued_by_id=clerk.id,
        identifier=identifier(org, year, number, code_notation),
        document_id=identifiers.document_id(org.organ_id or org.short_name, issued_on, number, code_notation),
        recipients_text="; ".join(r.name for r in recipients)[:1000] or None,
        replaces_id=locked.replaces_id, corrects_id=locked.corrects_id)
    session.add(out)
    session.flush()
    locked.outgoing_id = out.id
    delivered = _deliver(locked, out, org, stored.sha256, recipients, now)
    common.move(locked, clerk, "issue", S.ISSUED, None,
          f"Số {out.code_number}/{code_notation}, ngày {issued_on:%d/%m/%Y}; gửi {len(recipients)} nơi nhận")
    return Issued(out, delivered)


def _deliver(draft: Draft, out: OutgoingDocument, org: Organisation, sha256: str, recipients: list[Recipient],
             now: datetime) -> list[IncomingDocument]:
    """Each recipient by its method, through exchange (SPEC §6.5): organisations of this system get an incoming
    item at 01, agencies outside a package through the axis, e-mail recipients the signed PDF; post and hand
    are recorded as sent (sổ gửi văn bản đi bưu điện)."""
    main = delivery.File(f"{out.code_number}-{out.code_notation}.pdf".replace("/", "-"), storage.read(sha256))
    attachments = [delivery.File(a.filename, storage.read(a.sha256)) for a in attachments_of(draft)]
    return delivery.deliver(out, org, recipients, main, attachments, now)
