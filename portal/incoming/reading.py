"""Reading an incoming document: its files (every view and download audited), history,
assignments, the sender's view of what it sent, the pickers' type-ahead, the catalogue lists.
No Flask here."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from portal import audit, storage
from portal.auth.models import Position, PositionRole, Role, User, UserStatus
from portal.db import session
from portal.documents.models import Direction, DocumentType, IncomingDocument, OutgoingDocument, RegisterBook
from portal.errors import NotFound
from portal.incoming.models import Assignment, IncomingEvent, IncomingFile
from portal.incoming.visibility import S, headed_unit_id, org_id
from portal.orgs.models import Organisation
from portal.text import fold
from portal.timeutil import local_today


def files_of(doc: IncomingDocument) -> list[IncomingFile]:
    return list(session.execute(select(IncomingFile).where(IncomingFile.document_id == doc.id)
                                .order_by(IncomingFile.role, IncomingFile.id)).scalars())


def history(doc: IncomingDocument) -> list[IncomingEvent]:
    return list(session.execute(select(IncomingEvent).where(IncomingEvent.document_id == doc.id)
                                .order_by(IncomingEvent.id)).scalars())


def assignments_of(doc: IncomingDocument) -> list[Assignment]:
    return list(session.execute(select(Assignment).where(Assignment.document_id == doc.id)
                                .options(selectinload(Assignment.extensions))  # the rows' steps read them
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


def file_of(doc: IncomingDocument, file_id: int) -> IncomingFile:
    """A file of a document already checked visible (page images for the viewer: not counted as a view)."""
    row = session.get(IncomingFile, file_id)
    if row is None or row.document_id != doc.id:
        raise NotFound()
    return row


def sender_statuses(user: User, limit: int = 100) -> list[IncomingDocument]:
    """What the sender's clerks and leaders see: the receiving side's status of what they sent
    (SPEC §5.2, "Sent to sender")."""
    if not may_see_sent(user):
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
    """Only status changes travel back, never the receiver's internal directives, nor "Đã bị thay thế" (a local
    status without an edXML code: the sender issued the replacement and follows the new document)."""
    return list(session.execute(select(IncomingEvent).where(IncomingEvent.document_id == doc.id,
                                                            IncomingEvent.status_changed.is_(True),
                                                            IncomingEvent.status != S.REPLACED.value)
                                .order_by(IncomingEvent.id)).scalars())



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


def may_see_sent(user: User) -> bool:
    """"Trạng thái văn bản đã gửi" is for the sender's clerks and agency leaders."""
    return user.has_role(Role.CLERK, Role.AGENCY_LEADER)


def event(event_id: int) -> IncomingEvent | None:
    return session.get(IncomingEvent, event_id)


def newest_event_id(doc: IncomingDocument) -> int | None:
    """The document's latest history row: what a one-time form token remembers it made."""
    return session.execute(select(func.max(IncomingEvent.id)).where(IncomingEvent.document_id == doc.id)).scalar()
