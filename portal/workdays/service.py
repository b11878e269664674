"""IT's side of the calendar (Quản trị → Ngày làm việc, ``portal workdays …``): the days added per year
on top of the package's holidays. Provincial IT (system_admin) changes them, any admin reads them;
every change is audited and the limits still running are recomputed by the features that keep them
(``on_change``). No Flask here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from portal import audit
from portal.auth.models import Role, User
from portal.db import session
from portal.errors import NotAllowed, NotFound, ValidationFailed
from portal.text import nfc
from portal.workdays import calendar
from portal.workdays.models import OverrideKind, WorkdayOverride

CLI_ACTOR = "quản trị máy chủ"
LISTENERS: list[Callable[[date], None]] = []


def on_change(listener: Callable[[date], None]) -> None:
    """Features keeping limits computed from the calendar recompute those still running when a day
    changes (called in the same transaction, after the change)."""
    if listener not in LISTENERS:
        LISTENERS.append(listener)


def can_view(actor: User) -> bool:
    return actor.has_role(Role.SYSTEM_ADMIN, Role.ORG_ADMIN)


def can_manage(actor: User | None) -> bool:
    """The calendar is the province's: provincial IT changes it (``None``: the server's operator)."""
    return actor is None or actor.has_role(Role.SYSTEM_ADMIN)


@dataclass
class YearView:
    year: int
    overrides: list[WorkdayOverride]
    holidays: list[tuple[date, str]]  # weekdays off from the package (and overrides), with why
    worked: list[tuple[date, str]]  # weekend days worked
    working_days: int


def year_view(actor: User, year: int) -> YearView:
    if not can_view(actor):
        raise NotAllowed("workdays.view", "Chỉ quản trị hệ thống xem được lịch ngày làm việc.")
    year = _year(year)
    rows = list(session.execute(select(WorkdayOverride).where(
        WorkdayOverride.day >= date(year, 1, 1), WorkdayOverride.day <= date(year, 12, 31))
        .order_by(WorkdayOverride.day)).scalars())
    return YearView(year, rows, calendar.days_off(year), calendar.weekend_worked(year),
                    calendar.working_days_between(date(year - 1, 12, 31), date(year, 12, 31)))


def _year(year: int) -> int:
    if not calendar.FIRST_YEAR <= year <= calendar.LAST_YEAR:
        raise ValidationFailed({"day": f"Năm phải từ {calendar.FIRST_YEAR} đến {calendar.LAST_YEAR}."})
    return year


def require_manage(actor: User | None) -> None:
    """Only provincial IT changes the calendar: checked before the form is read, so anyone else gets a 403
    whatever they posted."""
    if not can_manage(actor):
        raise NotAllowed("workdays.change", "Chỉ quản trị hệ thống cấp tỉnh được sửa lịch ngày làm việc.")


def add_override(actor: User | None, day: date | None, kind: str, note: str) -> WorkdayOverride:
    """A day off (``nghi``) or a working day (``lam_bu``) for ``day``; ``note`` says on what decision."""
    require_manage(actor)
    errors: dict[str, str] = {}
    note = (nfc(note) or "").strip()
    if not note:
        errors["note"] = "Hãy ghi căn cứ (ví dụ: Thông báo số …/TB-UBND về lịch nghỉ)."
    elif len(note) > 200:
        errors["note"] = "Ghi chú tối đa 200 ký tự."
    if kind not in {k.value for k in OverrideKind}:
        errors["kind"] = "Hãy chọn ngày nghỉ hoặc ngày làm bù."
    if day is None:
        errors["day"] = "Hãy nhập ngày theo dạng dd/mm/yyyy."
    if errors:
        raise ValidationFailed(errors)
    assert day is not None
    _year(day.year)
    existing = session.execute(select(WorkdayOverride).where(WorkdayOverride.day == day)).scalar_one_or_none()
    if existing is not None:
        raise ValidationFailed({"day": f"Ngày {day:%d/%m/%Y} đã được ghi là {existing.kind.label.lower()} "
                                       f"({existing.note}); hãy xóa dòng đó trước."})
    off = calendar.why_off(day)
    if kind == OverrideKind.DAY_OFF and off is not None:
        raise ValidationFailed({"day": f"Ngày {day:%d/%m/%Y} đã là ngày nghỉ ({off})."})
    if kind == OverrideKind.WORKING and off is None:
        raise ValidationFailed({"day": f"Ngày {day:%d/%m/%Y} đã là ngày làm việc."})
    row = WorkdayOverride(day=day, kind=OverrideKind(kind), note=note, created_by_id=actor.id if actor else None)
    session.add(row)
    session.flush()
    audit.record(actor, "workdays.override_added", row, actor_name=None if actor else CLI_ACTOR,
                 details={"day": day.isoformat(), "kind": kind, "note": note[:200]})
    _changed(day)
    return row


def remove_override(actor: User | None, override_id: int) -> WorkdayOverride:
    require_manage(actor)
    row = session.get(WorkdayOverride, override_id, with_for_update=True)
    if row is None:
        raise NotFound()
    audit.record(actor, "workdays.override_removed", row, actor_name=None if actor else CLI_ACTOR,
                 details={"day": row.day.isoformat(), "kind": row.kind.value, "note": row.note[:200]})
    session.delete(row)
    session.flush()
    _changed(row.day)
    return row


def find(day: date) -> WorkdayOverride | None:
    return session.execute(select(WorkdayOverride).where(WorkdayOverride.day == day)).scalar_one_or_none()


def _changed(day: date) -> None:
    calendar.forget(day.year)
    for listener in LISTENERS:
        listener(day)
