"""The issuance time limit (SPEC §6.3, §17 #11; portal/workdays): a signed document is issued by 12:00 of
the next working day, Khẩn the same working day, Thượng khẩn and Hỏa tốc within 2 working hours (settings).
``issue_due_at`` is set at signing, recomputed while the draft waits if IT changes the calendar, and kept
after issuance for the reports. What the list of drafts waiting for issuance shows, and the source of items
near or past the limit for ``portal.workdays.limits.near_or_past``. No Flask here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import select

from portal.auth.models import Role, User
from portal.db import session
from portal.drafts.models import Draft, DraftStatus
from portal.listing import local_midnight
from portal.timeutil import now_utc
from portal.workdays import limits, service
from portal.workdays.limits import LimitItem, Remaining


def issue_due(draft: Draft) -> datetime:
    assert draft.signed_at is not None
    return limits.due_for("issue", draft.signed_at, draft.urgency)


def time_limits(rows: Iterable[Draft], now: datetime | None = None) -> dict[int, Remaining]:
    """Draft id → how far its issuance limit is, for the signed drafts among a list's rows."""
    now = now or now_utc()
    return {d.id: limits.describe(d.issue_due_at or issue_due(d), now) for d in rows
            if d.status == DraftStatus.SIGNED and d.signed_at is not None}


def near_limits(*, user: User | None = None, organisation_id: int | None = None, now: datetime,
                before: datetime) -> list[LimitItem]:
    """Signed drafts whose issuance limit is at or before ``before``: an organisation's, or those a
    clerk issues."""
    if user is not None:
        if not user.has_role(Role.CLERK) or user.organisation is None:
            return []
        organisation_id = user.organisation.id
    stmt = select(Draft).where(Draft.status == DraftStatus.SIGNED, Draft.issue_due_at <= before)
    if organisation_id is not None:
        stmt = stmt.where(Draft.organisation_id == organisation_id)
    rows = session.execute(stmt.order_by(Draft.issue_due_at, Draft.id).limit(500)).scalars()
    return [LimitItem("issue", "drafts", d.id, d.organisation_id, d.subject, int(d.urgency or 0),
                      d.issue_due_at, limits.describe(d.issue_due_at, now))  # type: ignore[arg-type]
            for d in rows]


def _calendar_changed(day: date) -> None:
    """IT changed ``day``: signed drafts still waiting whose limit runs to that day or later count again."""
    for draft in session.execute(select(Draft).where(Draft.status == DraftStatus.SIGNED,
                                                     Draft.issue_due_at >= local_midnight(day))).scalars():
        draft.issue_due_at = issue_due(draft)


limits.register_source("drafts.issue", near_limits)
service.on_change(_calendar_changed)
