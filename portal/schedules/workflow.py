"""The weekly schedule's workflows as data (SPEC §9, issue 14).

``WEEK``: a week of one calendar.

========  =====================  ================  ==============================================
action    from                   to                who
========  =====================  ================  ==============================================
edit      Dự thảo, Đã công bố    (stays)           an editor: SCHEDULE_EDITOR of the organisation
                                                   (unit calendars: also the unit head); adds,
                                                   changes and cancels entries
submit    Dự thảo                Chờ duyệt         an editor
approve   Chờ duyệt              Đã duyệt          the approver: an agency leader (unit
                                                   calendars: the unit head)
return    Chờ duyệt, Đã duyệt    Dự thảo           the approver, with a comment
publish   Đã duyệt               Đã công bố        the approver
========  =====================  ================  ==============================================

``ENTRY``: one entry of a week the editor may change (``change``) or cancel (``cancel``: removed
before publication, marked "Hủy" after it).

The service guard, the buttons the week page offers and the tests read these tables. Each
``done`` says, for a person who could have taken the step, what already happened ("Lịch tuần đã
được duyệt lúc 09:12 ngày 05/03/2026 bởi Trần Văn Lãnh"), so a repeated request is answered with
that notice instead of a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from portal.audit import AuditEntry
from portal.auth.models import User
from portal.db import session
from portal.schedules.access import is_approver, is_editor
from portal.schedules.forms import ReturnForm
from portal.schedules.models import Calendar, Entry, Week, WeekState
from portal.timeutil import to_local
from portal.workflow import Workflow, step

S = WeekState
CANCELLED = "huy"  # an entry's own state once cancelled after publication


@dataclass
class Unsaved:
    """A week nobody has written to yet (no row): a draft, for the page's offered actions."""

    calendar: Calendar
    monday: date | None = None
    state: WeekState = S.DRAFT
    submitted_at: datetime | None = None
    approved_at: datetime | None = None
    published_at: datetime | None = None
    returned_at: datetime | None = None


def at_by(moment: datetime | None, by: User | str | None) -> str:
    """"lúc 09:12 ngày 05/03/2026 bởi Trần Văn Lãnh"."""
    if moment is None:
        return ""
    local = to_local(moment)
    name = by.full_name if isinstance(by, User) else by
    return f"lúc {local:%H:%M} ngày {local:%d/%m/%Y}" + (f" bởi {name}" if name else "")


def _editor(user: Any, week: Any) -> bool:
    return is_editor(user, week.calendar)


def _approver(user: Any, week: Any) -> bool:
    return is_approver(user, week.calendar)


def _submitted(user: Any, week: Any) -> str | None:
    if _editor(user, week) and week.state != S.DRAFT and week.submitted_at:
        return f"Lịch tuần đã được gửi duyệt {at_by(week.submitted_at, week.submitted_by)}."
    return None


def _approved(user: Any, week: Any) -> str | None:
    if _approver(user, week) and week.state in (S.APPROVED, S.PUBLISHED) and week.approved_at:
        return f"Lịch tuần đã được duyệt {at_by(week.approved_at, week.approved_by)}."
    return None


def _returned(user: Any, week: Any) -> str | None:
    if (_approver(user, week) and week.state == S.DRAFT and week.returned_at
            and (week.submitted_at is None or week.returned_at >= week.submitted_at)):
        return f"Lịch tuần đã được trả lại {at_by(week.returned_at, week.returned_by)}: “{week.return_comment}”."
    return None


def _published(user: Any, week: Any) -> str | None:
    if _approver(user, week) and week.state == S.PUBLISHED and week.published_at:
        return f"Lịch tuần đã được công bố {at_by(week.published_at, week.published_by)}."
    return None


REFUSE_EDIT = "Chỉ người lập lịch của lịch này mới được thêm, sửa hoặc hủy mục lịch."
REFUSE_APPROVER = ("Chỉ lãnh đạo cơ quan (lịch cơ quan) hoặc lãnh đạo đơn vị (lịch của đơn vị) mới được duyệt, "
                   "trả lại hoặc công bố lịch này.")

WEEK: Workflow[Week] = Workflow("schedule_week", {
    "edit": step("edit", "Thêm, sửa, hủy mục lịch", {S.DRAFT, S.PUBLISHED}, _editor, refusal=REFUSE_EDIT),
    "submit": step("submit", "Gửi duyệt", {S.DRAFT}, _editor, to=S.SUBMITTED, done=_submitted,
                   refusal="Chỉ người lập lịch của lịch này mới được gửi duyệt."),
    "approve": step("approve", "Duyệt", {S.SUBMITTED}, _approver, to=S.APPROVED, done=_approved,
                    refusal=REFUSE_APPROVER),
    "return": step("return", "Trả lại", {S.SUBMITTED, S.APPROVED}, _approver, to=S.DRAFT, form=ReturnForm,
                   done=_returned, refusal=REFUSE_APPROVER),
    "publish": step("publish", "Công bố", {S.APPROVED}, _approver, to=S.PUBLISHED, done=_published,
                    refusal=REFUSE_APPROVER),
}, state=lambda week: week.state, label=lambda week: week.state.label)


# --- entries -------------------------------------------------------------------------------------------

def entry_state(entry: Entry) -> str:
    return CANCELLED if entry.cancelled else entry.week.state


def _entry_editor(user: Any, entry: Entry) -> bool:
    return is_editor(user, entry.week.calendar)


def _cancelled(user: Any, entry: Entry) -> str | None:
    if not (_entry_editor(user, entry) and entry.cancelled):
        return None
    row = last_audit("schedules.entry_cancelled", "schedule_entries", entry.id)
    when = at_by(row.occurred_at, row.actor_name) if row else at_by(entry.changed_at, None)
    return f"Mục lịch “{entry.content[:80]}” đã được hủy {when}."


ENTRY: Workflow[Entry] = Workflow("schedule_entry", {
    "change": step("change", "Sửa mục lịch", {S.DRAFT, S.PUBLISHED}, _entry_editor, refusal=REFUSE_EDIT),
    "cancel": step("cancel", "Hủy mục lịch", {S.DRAFT, S.PUBLISHED}, _entry_editor, to=CANCELLED,
                   done=_cancelled, refusal=REFUSE_EDIT),
}, state=entry_state, label=lambda entry: "Hủy" if entry.cancelled else entry.week.state.label)


def last_audit(action: str, object_type: str, object_id: int) -> AuditEntry | None:
    return session.execute(select(AuditEntry).where(
        AuditEntry.action == action, AuditEntry.object_type == object_type, AuditEntry.object_id == str(object_id))
        .order_by(AuditEntry.seq.desc()).limit(1)).scalar_one_or_none()


def deleted(user: User, entry_id: int) -> tuple[str, int, date] | None:
    """An entry removed before publication, for a person who could have removed it: what
    happened, and the week (calendar, Monday) it was in."""
    row = last_audit("schedules.entry_deleted", "schedule_entries", entry_id)
    details = row.details_dict if row else {}
    cal = session.get(Calendar, details["calendar_id"]) if "calendar_id" in details else None
    if row is None or cal is None or not is_editor(user, cal):
        return None
    content = str(details.get("content", ""))[:80]
    return (f"Mục lịch “{content}” đã được xóa {at_by(row.occurred_at, row.actor_name)}.",
            cal.id, date.fromisoformat(details["week"]))
