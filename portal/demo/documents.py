"""The demo's document types, books and documents.

Documents have no issuing service of their own here and are written as rows, but their numbers come
from ``numbering.take_next`` in time order, so every book reads 1..n per year like a real one.
Existing documents are recognised by owner and trích yếu: their numbers depend on what the database
held before, so the numbers cannot name them.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from portal.auth.models import User
from portal.db import session
from portal.demo import people
from portal.demo.catalogue import (
    CONG_VAN_TEMPLATE,
    DOCUMENT_TYPES,
    INCOMING,
    INCOMING_BOOK,
    OUTGOING,
    OUTGOING_BOOK,
    OUTGOING_TEMPLATE,
    DemoIncoming,
    DemoOutgoing,
)
from portal.demo.organisations import ORGANISATIONS, Node
from portal.documents import numbering
from portal.documents.models import (
    Channel,
    Direction,
    DocumentType,
    IncomingDocument,
    IncomingStatus,
    OutgoingDocument,
    OutgoingStatus,
    RegisterBook,
)
from portal.incoming.models import IncomingEvent
from portal.incoming.services import code_key as incoming_code_key
from portal.incoming.services import sort_key as incoming_sort_key
from portal.text import fold
from portal.timeutil import local_today, local_year, now_utc, zone

# the day tỉnh Ninh Bình of the two-level model and its bodies began (Nghị quyết 203/2025/QH15, SPEC §18):
# none of them issued or received anything before it
FOUNDED = date(2025, 7, 1)


def seed_document_types(created: Counter[str]) -> dict[str, DocumentType]:
    types = {t.name: t for t in session.execute(select(DocumentType)).scalars()}
    for name, abbreviation in DOCUMENT_TYPES:
        if name not in types:
            types[name] = DocumentType(name=name, abbreviation=abbreviation, is_normative=False)
            session.add(types[name])
            created["document_types"] += 1
    session.flush()
    return types


def seed_books(nodes: dict[str, Node], created: Counter[str]) -> dict[tuple[str, Direction], RegisterBook]:
    books: dict[tuple[str, Direction], RegisterBook] = {}
    for spec in ORGANISATIONS:
        org = nodes[spec.organ_id].org
        for direction, name in ((Direction.INCOMING, INCOMING_BOOK), (Direction.OUTGOING, OUTGOING_BOOK)):
            book = session.execute(select(RegisterBook).where(
                RegisterBook.organisation_id == org.id, RegisterBook.direction == direction,
                RegisterBook.name == name)).scalars().first()
            if book is None:
                book = RegisterBook(organisation_id=org.id, direction=direction, name=name,
                                    notation_template=OUTGOING_TEMPLATE)
                session.add(book)
                created["books"] += 1
            books[spec.organ_id, direction] = book
    session.flush()
    return books


def _moment(when: tuple[int, float], slot: int) -> datetime:
    """An instant in office hours on a weekday, ``fraction`` of the way through the year (this
    year: through the days so far; 2025: from FOUNDED on), never in the future. ``slot`` spreads
    documents over the day."""
    years_back, fraction = when
    now = now_utc()
    year = local_year(now) - years_back
    last = local_today() if years_back == 0 else date(year, 12, 31)
    first = max(date(year, 1, 1), min(FOUNDED, last))
    day = first + timedelta(days=round(fraction * (last - first).days))
    while day.weekday() >= 5 and day > first:  # Saturday, Sunday: the Friday before
        day -= timedelta(days=1)
    start = datetime.combine(day, time(7, 30), tzinfo=zone()) + timedelta(minutes=slot * 23 % 540)
    return min(start.astimezone(UTC), now)


def seed_outgoing(nodes: dict[str, Node], types: dict[str, DocumentType],
                   books: dict[tuple[str, Direction], RegisterBook],
                   created: Counter[str]) -> dict[str, OutgoingDocument]:
    """Existing ones are looked up; new ones are numbered in order of issue, as a clerk would."""
    found: dict[str, OutgoingDocument] = {}
    planned: list[tuple[datetime, int, DemoOutgoing, str]] = []
    for slot, spec in enumerate(OUTGOING):
        issued_at = _moment(spec.when, slot)
        subject = spec.subject.format(nam=local_year(issued_at))
        doc = session.execute(select(OutgoingDocument).where(
            OutgoingDocument.organisation_id == nodes[spec.organ_id].org.id,
            OutgoingDocument.subject == subject)).scalars().first()
        if doc is None:
            planned.append((issued_at, slot, spec, subject))
        else:
            found[spec.key] = doc
    for issued_at, _slot, spec, subject in sorted(planned, key=lambda p: p[:2]):
        found[spec.key] = _issue(spec, subject, issued_at, nodes[spec.organ_id], types[spec.type_name],
                                 books[spec.organ_id, Direction.OUTGOING])
        created["outgoing"] += 1
    session.flush()
    return found


def _issue(spec: DemoOutgoing, subject: str, issued_at: datetime, node: Node, doc_type: DocumentType,
           book: RegisterBook) -> OutgoingDocument:
    org, unit = node.org, node.units[spec.unit]
    year = local_year(issued_at)
    number = numbering.take_next(book, year)
    so = numbering.display(number)
    template = book.notation_template if doc_type.abbreviation else CONG_VAN_TEMPLATE
    notation = template.format(so=so, loai=doc_type.abbreviation, co_quan=org.short_name,
                               don_vi=unit.short_name, nam=year).removeprefix(f"{so}/")
    issued_date = issued_at.astimezone(zone()).date()
    leader = people.leader(spec.organ_id)
    doc = OutgoingDocument(
        organisation_id=org.id, unit_id=unit.id, status=OutgoingStatus.ISSUED, book_id=book.id, year=year,
        number=number, document_type_id=doc_type.id, issued_at=issued_at, issued_by_id=people.clerk(spec.organ_id).id,
        type_name=_printed_type(doc_type.name), code_number=so, code_notation=notation, issued_date=issued_date,
        organ_name=org.name, subject=subject, subject_folded=fold(subject), page_amount=spec.pages,
        signer_position=leader.title, signer_name=leader.full_name, urgency=spec.urgency,
        document_id=f"{org.organ_id},{issued_date:%Y/%m/%d},{so}/{notation}",
        identifier=f"{org.organ_id}-{year}.{so}/{notation}",
        recipients_text=f"{spec.recipients}; Lưu: VT, {unit.short_name}.",
    )
    session.add(doc)
    return doc


def _printed_type(name: str) -> str:
    """TypeName as printed on the document: "Quyết định", not the catalogue's "(cá biệt)"."""
    return name.removesuffix(" (cá biệt)")


def seed_incoming(nodes: dict[str, Node], books: dict[tuple[str, Direction], RegisterBook],
                   outgoing: dict[str, OutgoingDocument], created: Counter[str]) -> None:
    """Receipts are registered in order of arrival: that order is what the số đến record."""
    now = now_utc()
    planned: list[tuple[datetime, int, IncomingDocument]] = []
    for slot, spec in enumerate(INCOMING):
        org = nodes[spec.organ_id].org
        doc = _received(spec, slot, nodes, outgoing) if spec.source else _from_outside(spec, slot, nodes)
        doc.organisation_id = org.id
        doc.status = spec.status
        existing = session.execute(select(IncomingDocument.id).where(
            IncomingDocument.organisation_id == org.id, IncomingDocument.subject == doc.subject,
            IncomingDocument.organ_name == doc.organ_name)).first()
        if existing is None:
            planned.append((doc.arrived_at, slot, doc))
    for arrived_at, slot, doc in sorted(planned, key=lambda p: p[:2]):
        spec = INCOMING[slot]
        if spec.due_days is not None:
            doc.due_date = arrived_at.astimezone(zone()).date() + timedelta(days=spec.due_days)
        if spec.status == IncomingStatus.REGISTERED:
            doc.registered_at = min(arrived_at + timedelta(minutes=25), now)
            doc.registered_by_id = people.clerk(spec.organ_id).id
            book = books[spec.organ_id, Direction.INCOMING]
            doc.book_id, doc.year = book.id, local_year(doc.registered_at)
            doc.arrival_number = numbering.take_next(book, doc.year)
            doc.arrival_date = arrived_at.astimezone(zone()).date()
        doc.organ_name_folded = fold(doc.organ_name)
        doc.code_key = incoming_code_key(doc.code_number, doc.code_notation)
        session.add(doc)
        created["incoming"] += 1
    session.flush()
    for _arrived_at, _slot, doc in planned:
        _attach_pdf(doc)
        doc.sort_key = incoming_sort_key(doc)
        session.add(IncomingEvent(document_id=doc.id, at=doc.arrived_at, actor_name=doc.organ_name[:100],
                                  action="arrive", status=IncomingStatus.ARRIVED.value, status_changed=True))
        if doc.registered_at is not None:
            clerk = session.get(User, doc.registered_by_id)
            session.add(IncomingEvent(document_id=doc.id, at=doc.registered_at, actor_id=clerk.id,
                                      actor_name=clerk.full_name, action="register", status=doc.status.value,
                                      status_changed=True,
                                      text=f"Số đến {numbering.display(doc.arrival_number)}"))
    session.flush()


def _received(spec: DemoIncoming, slot: int, nodes: dict[str, Node],
              outgoing: dict[str, OutgoingDocument]) -> IncomingDocument:
    """A province-internal exchange: the receiving copy repeats the sender's metadata (§2.2)."""
    source = outgoing[spec.source or ""]
    sender = source.organisation
    return IncomingDocument(
        channel=Channel.INTERNAL, sender_organisation_id=sender.id, sender_organ_id=sender.organ_id,
        source_outgoing_id=source.id, document_id=source.document_id,
        arrived_at=min(source.issued_at + timedelta(minutes=40 + slot % 5 * 10), now_utc()),
        type_name=source.type_name, code_number=source.code_number, code_notation=source.code_notation,
        issued_date=source.issued_date, organ_name=source.organ_name, subject=source.subject,
        subject_folded=source.subject_folded, page_amount=source.page_amount, urgency=source.urgency,
        signer_position=source.signer_position, signer_name=source.signer_name,
    )


def _from_outside(spec: DemoIncoming, slot: int, nodes: dict[str, Node]) -> IncomingDocument:
    sender = nodes[spec.sender or ""].org
    arrived_at = _moment(spec.when, slot)
    issued_date = arrived_at.astimezone(zone()).date() - timedelta(days=3)
    subject = spec.subject.format(nam=local_year(arrived_at))
    number, notation = spec.code.split("/", 1)
    return IncomingDocument(
        channel=spec.channel, has_paper=spec.channel == Channel.PAPER, sender_organisation_id=sender.id,
        sender_organ_id=sender.organ_id, arrived_at=arrived_at, type_name=spec.type_name,
        code_number=number, code_notation=notation, issued_date=issued_date, organ_name=sender.name,
        subject=subject, subject_folded=fold(subject), page_amount=2, urgency=spec.urgency,
        signer_position=spec.signer[0], signer_name=spec.signer[1],
        document_id=(f"{sender.legacy_organ_id},{issued_date:%Y/%m/%d},{spec.code}"
                     if spec.channel == Channel.AXIS else None),
    )


def _attach_pdf(doc: IncomingDocument) -> None:
    """The document's one page (demo only), so the viewer beside the actions shows it."""
    from portal import storage
    from portal.demo.pdfs import document_pdf
    from portal.incoming.models import FileRole, IncomingFile

    code = "/".join(p for p in (doc.code_number, doc.code_notation) if p) or "…"
    day = doc.issued_date
    data = document_pdf(organ_name=doc.organ_name or "", type_name=doc.type_name or "Văn bản", code=code,
                        place_date=f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}" if day else "",
                        subject=doc.subject or "", signer_position=doc.signer_position or "",
                        signer_name=doc.signer_name or "")
    name = f"{code.replace('/', '-')}.pdf"
    stored = storage.save(data, name)
    session.add(IncomingFile(document_id=doc.id, sha256=stored.sha256, filename=name, size=stored.size,
                             role=FileRole.MAIN))
    doc.main_file_sha256 = stored.sha256
