"""What weekly schedules put in people's inbox "Việc của tôi" (issue 18 item 1), declared to ``portal.inbox``:
a submitted week for its approver to approve, an approved one to publish, a returned one for its editors.
An organisation's calendar is approved by its agency leaders, a unit's by the unit's head (``access``).
No Flask here."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.auth.models import Role, User
from portal.db import session
from portal.errors import NotFound
from portal.inbox.registry import ORG, UNIT, Item, QueueInfo, Source, register
from portal.schedules.access import can_see_week
from portal.schedules.models import Calendar, Week, WeekState
from portal.schedules.workflow import WEEK

S = WeekState
_LEADER = frozenset({Role.AGENCY_LEADER})

QUEUES = {q.key: q for q in (
    QueueInfo("schedule.cho-duyet", "Duyệt lịch công tác", _LEADER, actions=("approve", "return")),
    QueueInfo("schedule.cho-cong-bo", "Công bố lịch công tác", _LEADER, actions=("publish", "return")),
    QueueInfo("schedule.bi-tra-lai", "Sửa lịch công tác bị trả lại", frozenset({Role.SCHEDULE_EDITOR}),
              actions=("edit", "submit")),
)}


def _title(week: Week, cal: Calendar) -> str:
    return f"{cal.name}: tuần {week.monday:%d/%m} – {week.monday + timedelta(days=6):%d/%m/%Y}"


def items(db: Session, ids: Collection[int]) -> Iterator[Item]:
    for week, cal in db.execute(select(Week, Calendar).join(Calendar, Calendar.id == Week.calendar_id)
                                .where(Week.id.in_(ids))):
        if week.state == S.SUBMITTED:
            queue = "schedule.cho-duyet"
        elif week.state == S.APPROVED:
            queue = "schedule.cho-cong-bo"
        elif week.state == S.DRAFT and week.returned_at is not None:
            queue = "schedule.bi-tra-lai"
        else:
            continue
        common = {"subject_id": week.id, "queue": queue, "title": _title(week, cal), "due_day": week.monday}
        if cal.unit_id is not None:
            yield Item(owner_kind=UNIT, owner_id=cal.unit_id, **common)  # the unit's head approves and edits
            if queue == "schedule.bi-tra-lai":
                yield Item(owner_kind=ORG, owner_id=cal.organisation_id, **common)
        else:
            yield Item(owner_kind=ORG, owner_id=cal.organisation_id, **common)


def candidates(db: Session) -> Iterator[int]:
    return iter(db.scalars(select(Week.id).where(
        Week.state.in_((S.SUBMITTED, S.APPROVED)) | ((Week.state == S.DRAFT) & Week.returned_at.is_not(None)))).all())


def week_location(user: User, week_id: int) -> tuple[int, str]:
    """The calendar and Monday of a week this person may see (the inbox's link), else 404."""
    week = session.get(Week, week_id)
    if week is None or not can_see_week(user, week.calendar, week):
        raise NotFound()
    return week.calendar_id, week.monday.isoformat()


SOURCE = register(Source(
    name="schedule", label="Lịch công tác", model=Week, queues=QUEUES,
    watch={Week: lambda db, w: w.id},
    items=items, candidates=candidates, endpoint="schedules.week_item", id_arg="week_id",
    steps=frozenset(WEEK.transitions),
))
