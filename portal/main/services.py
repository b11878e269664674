"""What the dashboard and the health check need. No Flask here."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from portal.auth.models import User
from portal.db import session
from portal.documents.models import Direction, RegisterBook, RegisterCounter
from portal.inbox import queries as inbox
from portal.inbox.queries import Counts
from portal.inbox.registry import SOURCES
from portal.timeutil import local_today, now_utc
from portal.workdays.limits import Remaining, describe, describe_deadline


def database_health() -> dict[str, object]:
    """Reachability and server version; never raises, so /healthz can always answer."""
    try:
        bind = session.get_bind()
        dialect = bind.dialect.name
        if dialect == "postgresql":
            version = session.execute(text("SHOW server_version")).scalar_one()
        else:
            version = session.execute(text("SELECT sqlite_version()")).scalar_one()
        revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return {"status": "ok", "dialect": dialect, "version": str(version), "schema_revision": revision}
    except SQLAlchemyError as exc:
        session.rollback()
        return {"status": "error", "error": type(exc).__name__}


def readiness(anchor_file: str) -> dict[str, object]:
    """/healthz's answer plus what an operator must fix though the portal works: a PostgreSQL role
    that could shorten the audit log, no anchor file configured. Warnings do not make it unready."""
    from portal import db_roles

    health = database_health()
    warnings = []
    if health["status"] == "ok":
        try:
            reason = db_roles.unprotected_reason(session.connection())
        except SQLAlchemyError:
            session.rollback()
            reason = None
        if reason:
            warnings.append(reason)
    if not anchor_file:
        warnings.append("Chưa đặt PORTAL_AUDIT_ANCHOR_FILE: đầu chuỗi nhật ký không được neo ra ngoài cơ sở dữ liệu, "
                        "nên việc xóa các bản ghi mới nhất không bị phát hiện.")
    return {"status": health["status"], "database": health, "warnings": warnings}


@dataclass(frozen=True)
class Summary:
    incoming_waiting: int
    incoming_this_year: int
    outgoing_this_year: int


def _numbered(org_id: int, direction: Direction, year: int) -> int:
    """Numbers given in a year in the organisation's books of one direction: the register counters the
    numbering keeps (1..N without gaps, SPEC §4.3), a few rows, never a scan of the documents."""
    stmt = (select(func.coalesce(func.sum(RegisterCounter.last_number), 0))
            .join(RegisterBook, RegisterBook.id == RegisterCounter.book_id)
            .where(RegisterBook.organisation_id == org_id, RegisterBook.direction == direction,
                   RegisterCounter.year == year))
    return int(session.execute(stmt).scalar_one())


def summary(user: User, year: int, counted: Counts) -> Summary:
    """The organisation's figures: arrivals waiting from the inbox's counters, the year's numbers from the
    register counters."""
    org_id = user.organisation.id if user.organisation else -1
    return Summary(incoming_waiting=counted.queues["incoming.cho-tiep-nhan"],
                   incoming_this_year=_numbered(org_id, Direction.INCOMING, year),
                   outgoing_this_year=_numbered(org_id, Direction.OUTGOING, year))


def figures(user: User, counted: Counts) -> Counts:
    """The home page's Quá hạn / Sắp đến hạn: the counters' days, then today's limits with a time to the hour."""
    if user.organisation is None:
        return counted
    return inbox.late_by_the_hour(session(), user, counted, now_utc())


@dataclass(frozen=True)
class InboxRow:
    row: inbox.Row
    remaining: Remaining | None


@dataclass(frozen=True)
class Pages:
    number: int  # from 1
    count: int  # at least 1

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.count else None


def pages(counted: Counts, source: str | None, number: int) -> Pages:
    """Which page of the person's items (the counters give their number; past the last one shows the last)."""
    count = max(1, -(-counted.listed(source) // inbox.PAGE_SIZE))
    return Pages(min(number, count), count)


def inbox_rows(user: User, source: str | None, page_no: int = 1) -> list[InboxRow]:
    """The person's items with how far each limit is ("còn 2 giờ làm việc", "trễ 1 ngày làm việc")."""
    now, today = now_utc(), local_today()
    rows = []
    size = inbox.PAGE_SIZE
    for row in inbox.page(session(), user, source, limit=size, today=today, offset=(page_no - 1) * size, now=now):
        if row.due_at is not None:
            remaining: Remaining | None = describe(row.due_at, now)
        elif row.due_day is not None:
            remaining = describe_deadline(row.due_day, today)
        else:
            remaining = None
        rows.append(InboxRow(row, remaining))
    return rows


def inbox_sources() -> list[tuple[str, str]]:
    return [(name, source.label) for name, source in SOURCES.items()]
