"""The draft and outgoing lists (SPEC §6, §14, §16): queues per role, filters, search without
diacritics, exact số/ký hiệu, keyset pagination and capped counts, shaped like
``portal.incoming.queries``. Every query is one set-based statement built on
``services.visible_clause``, so permissions never run row by row. No Flask here.

Drafts have no stored sort column, so their key is (urgent, id): ids never change, so a page
never repeats or skips a draft however drafts move between steps while someone pages. Issued
documents are walked by (issued_at, id).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, literal, or_, select, true

from portal.auth.models import Role, User
from portal.db import session
from portal.documents import numbering
from portal.documents.models import OutgoingDocument, OutgoingStatus, Urgency
from portal.drafts.models import CommentInvite, CommentRound, Draft, DraftStatus
from portal.drafts.services import OPEN, org_id, visible_clause
from portal.listing import COUNT_CAP, local_midnight, words
from portal.listing import format_count as format_count  # re-exported for the views
from portal.text import nfc

D = Draft
O = OutgoingDocument  # noqa: E741  (O for outgoing, as D for draft)
S = DraftStatus
PAGE_SIZE = 50


def _invited(user: User) -> ColumnElement[bool]:
    """An open round asks this person, who has not answered yet."""
    return and_(D.status.in_(OPEN), exists().where(
        CommentRound.draft_id == D.id, CommentRound.closed_at.is_(None), CommentInvite.round_id == CommentRound.id,
        CommentInvite.user_id == user.id, CommentInvite.answered_at.is_(None)))


@dataclass(frozen=True)
class Queue:
    slug: str
    label: str
    predicate: Callable[[User], ColumnElement[bool]]
    roles: frozenset[Role] | None = None  # None: everyone who handles documents
    action: bool = False  # work waiting for this person: counted on the navigation, urgent first
    outgoing: OutgoingStatus | None = None  # lists issued documents instead of drafts

    def available(self, user: User) -> bool:
        return self.roles is None or user.has_role(*self.roles)


_SIGNERS = frozenset({Role.AGENCY_LEADER, Role.UNIT_HEAD})

QUEUES: dict[str, Queue] = {q.slug: q for q in (
    Queue("cua-toi", "Dự thảo của tôi", lambda u: and_(D.drafter_id == u.id, D.status.in_(OPEN))),
    Queue("cho-y-kien", "Chờ cho ý kiến", _invited, action=True),
    Queue("cho-duyet", "Chờ duyệt", lambda u: and_(D.status == S.UNIT_REVIEW, D.holder_id == u.id),
          frozenset({Role.UNIT_HEAD}), action=True),
    Queue("cho-the-thuc", "Chờ kiểm tra thể thức", lambda u: D.status == S.FORMAT_CHECK,
          frozenset({Role.FORMAT_CHECKER}), action=True),
    Queue("cho-ky", "Chờ ký", lambda u: and_(D.status == S.SIGNING, D.holder_id == u.id), _SIGNERS, action=True),
    Queue("cho-phat-hanh", "Chờ phát hành", lambda u: D.status == S.SIGNED, frozenset({Role.CLERK}), action=True),
    Queue("da-phat-hanh", "Đã phát hành", lambda u: O.status == OutgoingStatus.ISSUED,
          outgoing=OutgoingStatus.ISSUED),
    Queue("da-thu-hoi", "Đã thu hồi", lambda u: O.status == OutgoingStatus.RECALLED,
          outgoing=OutgoingStatus.RECALLED),
    Queue("tat-ca", "Tất cả dự thảo", lambda u: true()),
)}


def queues_for(user: User) -> list[Queue]:
    return [q for q in QUEUES.values() if q.available(user)]


def default_queue(user: User) -> Queue:
    """The queue of the person's own step: clerks issue, format checkers check, leaders sign."""
    for role, slug in ((Role.CLERK, "cho-phat-hanh"), (Role.FORMAT_CHECKER, "cho-the-thuc"),
                       (Role.AGENCY_LEADER, "cho-ky"), (Role.UNIT_HEAD, "cho-duyet")):
        if user.has_role(role):
            return QUEUES[slug]
    return QUEUES["cua-toi"]


def outgoing_visible_clause(user: User) -> ColumnElement[bool]:
    """Issued documents of the organisation: all of them for its clerks and agency leaders
    (the demo data's too, which have no draft); for others those whose draft they could see."""
    own = O.organisation_id == org_id(user)
    if user.has_role(Role.CLERK, Role.AGENCY_LEADER):
        return own
    return and_(own, exists().where(D.outgoing_id == O.id, visible_clause(user)))


def get_outgoing(user: User, outgoing_id: int) -> OutgoingDocument | None:
    return session.execute(select(O).where(O.id == outgoing_id, outgoing_visible_clause(user))).scalar_one_or_none()


def draft_of(outgoing: OutgoingDocument) -> int | None:
    return session.execute(select(D.id).where(D.outgoing_id == outgoing.id)).scalar_one_or_none()


@dataclass
class Filters:
    q: str = ""
    date_from: date | None = None
    date_to: date | None = None
    urgent: bool = False
    type_id: int | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def active(self) -> bool:
        return bool(self.q or self.date_from or self.date_to or self.urgent or self.type_id)


def _ascii_lower(text: str) -> str:
    return "".join(ch.lower() if ch.isascii() else ch for ch in text)


def _code(text: str) -> ColumnElement[bool] | None:
    """"05/UBND-VP" (or "5/ubnd-vp") is that số and ký hiệu exactly, in any case. SQLite's
    lower() folds ASCII only ("QĐ" → "qĐ"), PostgreSQL's every letter ("qđ"): the typed ký hiệu
    is offered in both forms, so one comparison serves both databases."""
    number, _, notation = (nfc(text) or "").partition("/")
    number, notation = number.strip(), notation.strip()
    if not (number.isascii() and number.isdigit()) or len(number) > 9 or not notation or int(number) == 0:
        return None
    value = int(number)
    forms = {notation.casefold(), _ascii_lower(notation.upper()), _ascii_lower(notation.casefold())}
    return and_(O.code_number.in_({numbering.display(value), str(value)}), func.lower(O.code_notation).in_(forms))


def filter_clause(filters: Filters, outgoing: bool) -> list[ColumnElement[bool]]:
    """Drafts are dated by creation and issued documents by issuance, in Vietnam days."""
    model, stamp = (O, O.issued_at) if outgoing else (D, D.created_at)
    clauses: list[ColumnElement[bool]] = []
    if filters.q:
        code = _code(filters.q)
        if code is not None:  # a draft is found by the number its issued document took
            clauses.append(code if outgoing else D.outgoing_id.in_(select(O.id).where(code)))
        else:
            clauses.extend(model.subject_folded.like(f"%{word}%") for word in words(filters.q))
    if filters.date_from:
        clauses.append(stamp >= local_midnight(filters.date_from))
    if filters.date_to:
        clauses.append(stamp < local_midnight(filters.date_to + timedelta(days=1)))
    if filters.urgent:
        clauses.append(model.urgency >= int(Urgency.URGENT))
    if filters.type_id:
        clauses.append(model.document_type_id == filters.type_id)
    return clauses


def _where(user: User, queue: Queue, filters: Filters) -> list[ColumnElement[bool]]:
    seen = outgoing_visible_clause(user) if queue.outgoing else visible_clause(user)
    return [seen, queue.predicate(user), *filter_clause(filters, bool(queue.outgoing))]


@dataclass
class Page:
    rows: list  # Draft, or OutgoingDocument for the issued queues
    next_cursor: str | None
    first: bool
    names: dict[int, str] = field(default_factory=dict)  # drafters and holders of the drafts shown
    drafts: dict[int, int] = field(default_factory=dict)  # outgoing id → its draft's id


def _cursor(text: str | None) -> tuple[int, int] | None:
    """"<rank>.<id>": rank is 1/0 (urgent) for drafts, microseconds since 1970 for issued ones.
    Anything else starts at the first page."""
    rank, _, last = (text or "").partition(".")
    if not (rank.isascii() and rank.isdigit() and last.isascii() and last.isdigit()) or len(rank + last) > 28:
        return None
    return int(rank), int(last)


def _urgent_rank(queue: Queue) -> ColumnElement[int]:
    """Urgent drafts first in the queues of work waiting; elsewhere newest first."""
    if queue.action:
        return case((D.urgency >= int(Urgency.URGENT), 1), else_=0)
    return literal(0)


def _after(rank: ColumnElement, value: object, id_column: ColumnElement[int], last_id: int) -> ColumnElement[bool]:
    """Rows sorting after (value, last_id) in descending order: a row-value comparison both
    databases plan as an index range."""
    return or_(rank < value, and_(rank == value, id_column < last_id))


def page(user: User, queue: Queue, filters: Filters, cursor: str | None = None,
         size: int | None = None) -> Page:
    """One page after ``cursor`` (the last row's key). The key is unique and never changes while
    the row stays in the list, so pages neither repeat nor skip rows while others work."""
    size = size or PAGE_SIZE
    key = _cursor(cursor)
    if queue.outgoing:
        stmt: Select = select(O).where(*_where(user, queue, filters))
        if key:
            moment = datetime.fromtimestamp(0, UTC) + timedelta(microseconds=key[0])
            stmt = stmt.where(_after(O.issued_at, moment, O.id, key[1]))
        rows = list(session.execute(stmt.order_by(O.issued_at.desc(), O.id.desc()).limit(size + 1)).scalars())
    else:
        rank = _urgent_rank(queue)
        stmt = select(D).where(*_where(user, queue, filters))
        if key:
            stmt = stmt.where(_after(rank, key[0], D.id, key[1]))
        rows = list(session.execute(stmt.order_by(rank.desc(), D.id.desc()).limit(size + 1)).scalars())
    more = len(rows) > size
    rows = rows[:size]
    result = Page(rows=rows, next_cursor=_key(queue, rows[-1]) if more and rows else None, first=not key)
    if queue.outgoing:
        result.drafts = dict(session.execute(select(D.outgoing_id, D.id)
                                             .where(D.outgoing_id.in_([o.id for o in rows]))).all())
    else:
        people = {d.drafter_id for d in rows} | {d.holder_id for d in rows if d.holder_id}
        result.names = dict(session.execute(select(User.id, User.full_name).where(User.id.in_(people))).all())
    return result


def _key(queue: Queue, row: Draft | OutgoingDocument) -> str:
    if isinstance(row, OutgoingDocument):
        delta = row.issued_at - datetime.fromtimestamp(0, UTC)
        return f"{delta // timedelta(microseconds=1)}.{row.id}"
    urgent = 1 if queue.action and int(row.urgency or 0) >= Urgency.URGENT else 0
    return f"{urgent}.{row.id}"


def count(user: User, queue: Queue, filters: Filters | None = None, cap: int = COUNT_CAP) -> int:
    """Counted up to ``cap`` + 1 (shown as "999+")."""
    model = O if queue.outgoing else D
    inner = select(model.id).where(*_where(user, queue, filters or Filters())).limit(cap + 1).subquery()
    return session.execute(select(func.count()).select_from(inner)).scalar_one()


def action_counts(user: User) -> dict[str, int]:
    """The navigation badge and the tabs: drafts waiting for this person in each action queue."""
    if user.organisation is None:
        return {}
    return {q.slug: count(user, q) for q in queues_for(user) if q.action}
