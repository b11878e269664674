"""Incoming's time limits (SPEC §5.3, §5.6; portal/workdays): an arrival is registered within the
registration limit of its urgency (``register_due_at``, fixed at arrival and recomputed while it
waits if IT changes the calendar); a document being handled runs against its deadline in working
days. What the lists show ("còn 2 giờ làm việc", "trễ 1 ngày làm việc"), and the source of items
near or past a limit that ``portal.workdays.limits.near_or_past`` reads. No Flask here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, or_, select

from portal.auth.models import User
from portal.db import session
from portal.documents.models import IncomingDocument
from portal.incoming.models import Assignment, AssignmentRole, AssignmentState
from portal.incoming.visibility import OPEN_STATUSES, S, is_clerk
from portal.listing import local_midnight
from portal.timeutil import local_today, now_utc
from portal.workdays import limits, service
from portal.workdays.limits import LimitItem, Remaining

D = IncomingDocument


def waiting_registration() -> ColumnElement[bool]:
    """Arrived and not yet given a số đến (accepted without one counts as still waiting)."""
    return or_(D.status == S.ARRIVED, and_(D.status == S.REGISTERED, D.arrival_number.is_(None)))


def registration_due(doc: IncomingDocument) -> datetime:
    return limits.due_for("register", doc.arrived_at, doc.urgency)


def set_registration_due(doc: IncomingDocument) -> None:
    """At arrival: the clock of the registration limit starts."""
    doc.register_due_at = registration_due(doc)


def _waiting(doc: IncomingDocument) -> bool:
    return doc.status == S.ARRIVED or (doc.status == S.REGISTERED and doc.arrival_number is None)


def time_limits(rows: Iterable[IncomingDocument], now: datetime | None = None,
                today: date | None = None) -> dict[int, tuple[str, Remaining]]:
    """Document id → (what runs, how far) for a list's rows: the registration limit while waiting for
    a số đến, the document's deadline while it is handled (04, 05)."""
    now, today = now or now_utc(), today or local_today()
    shown: dict[int, tuple[str, Remaining]] = {}
    for doc in rows:
        if _waiting(doc):
            shown[doc.id] = ("Vào sổ", limits.describe(doc.register_due_at or registration_due(doc), now))
        elif doc.status in OPEN_STATUSES and doc.due_date is not None:
            shown[doc.id] = ("Hạn giải quyết", limits.describe_deadline(doc.due_date, today))
    return shown


def assignment_limits(rows: Iterable[Assignment], today: date | None = None) -> dict[int, Remaining]:
    """Row id → how far its deadline is, for the phiếu's rows still being worked on."""
    today = today or local_today()
    return {row.id: limits.describe_deadline(row.deadline, today) for row in rows
            if row.deadline is not None and row.state != AssignmentState.DONE and row.role != AssignmentRole.INFORM}


def near_limits(*, user: User | None = None, organisation_id: int | None = None, now: datetime,
                before: datetime) -> list[LimitItem]:
    """Arrivals whose registration limit is at or before ``before``: an organisation's, or those a
    clerk must register."""
    if user is not None:
        if not is_clerk(user):
            return []
        organisation_id = user.organisation.id if user.organisation else None
    stmt = select(D).where(waiting_registration(), D.register_due_at <= before)
    if organisation_id is not None:
        stmt = stmt.where(D.organisation_id == organisation_id)
    rows = session.execute(stmt.order_by(D.register_due_at, D.id).limit(500)).scalars()
    return [LimitItem("register", "incoming_documents", d.id, d.organisation_id, d.subject, int(d.urgency or 0),
                      d.register_due_at, limits.describe(d.register_due_at, now))  # type: ignore[arg-type]
            for d in rows]


def _calendar_changed(day: date) -> None:
    """IT changed ``day``: arrivals still waiting whose limit runs to that day or later count again."""
    for doc in session.execute(select(D).where(waiting_registration(),
                                                D.register_due_at >= local_midnight(day))).scalars():
        doc.register_due_at = registration_due(doc)


limits.register_source("incoming.register", near_limits)
service.on_change(_calendar_changed)
