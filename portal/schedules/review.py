"""The week's way to publication: submit, approve, return (with a comment), publish. Each step
locks the week's row, asks the table (``workflow.WEEK``) and writes one audit row."""

from __future__ import annotations

from datetime import date

from portal import audit
from portal.auth.models import User
from portal.db import session, utcnow
from portal.errors import ValidationFailed
from portal.schedules.access import ensure_week
from portal.schedules.models import Calendar, Week, WeekState
from portal.schedules.workflow import WEEK
from portal.text import nfc
from portal.workflow import relock

S = WeekState


def _record(actor: User, action: str, week: Week, **details: object) -> None:
    audit.record(actor, f"schedules.{action}", week, organisation_id=week.calendar.organisation_id,
                 details={"week": week.monday.isoformat(), "state": week.state.value, **details})


def _guarded(actor: User, action: str, week: Week) -> Week:
    week = relock(session, week)
    WEEK.guard(actor, action, week)
    return week


def submit(actor: User, cal: Calendar, monday: date) -> Week:
    week = _guarded(actor, "submit", ensure_week(cal, monday))
    week.state, week.submitted_by_id, week.submitted_at = S.SUBMITTED, actor.id, utcnow()
    _record(actor, "submit", week)
    return week


def approve(actor: User, week: Week) -> Week:
    week = _guarded(actor, "approve", week)
    week.state, week.approved_by_id, week.approved_at = S.APPROVED, actor.id, utcnow()
    _record(actor, "approve", week)
    return week


def return_week(actor: User, week: Week, comment: str) -> Week:
    week = _guarded(actor, "return", week)
    comment = nfc(comment) or ""
    if not comment:
        raise ValidationFailed({"comment": "Nhập lý do trả lại để người lập lịch biết cần sửa gì."})
    if len(comment) > 1000:
        raise ValidationFailed({"comment": "Lý do trả lại tối đa 1.000 ký tự."})
    week.state, week.returned_by_id, week.returned_at, week.return_comment = S.DRAFT, actor.id, utcnow(), comment
    week.approved_by_id = week.approved_at = None
    _record(actor, "return", week, comment=comment[:200])
    return week


def publish(actor: User, week: Week) -> Week:
    week = _guarded(actor, "publish", week)
    week.state, week.published_by_id, week.published_at, week.revision = S.PUBLISHED, actor.id, utcnow(), 1
    _record(actor, "publish", week)
    return week
