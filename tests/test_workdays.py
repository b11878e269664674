"""Working days, working hours and the procedures' time limits (portal/workdays, issue 18 item 4): Tết 2027
and a compensating Saturday, counting over weekends and holidays, the issuance limit (signed Friday 16:00 →
Monday 12:00, Tuesday when Monday is a day off), Khẩn and Hỏa tốc, the labels the lists show, the settings,
IT's page and command, and the core importing no feature."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal.audit import AuditEntry
from portal.auth.models import Role
from portal.config import ConfigError, load
from portal.workdays import calendar, hours, limits, service
from portal.workdays.calendar import (
    add_working_days,
    effective_deadline,
    is_working_day,
    next_working_day,
    overdue_cutoff,
    previous_working_day,
    why_off,
    working_days_between,
)
from portal.workdays.models import WorkdayOverride
from tests.conftest import Factory
from tests.incoming_fixtures import act

VN = ZoneInfo("Asia/Ho_Chi_Minh")
HX = {"HX-Request": "true"}


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN)


@pytest.fixture(autouse=True)
def fresh_calendar(app):
    """Each test's overrides are rolled back with it; so is what the application remembers of them."""
    with app.app_context():
        calendar.forget()
    yield
    with app.app_context():
        calendar.forget()


# --- days ------------------------------------------------------------------------------------------------

def test_tet_2027_as_the_holidays_package_has_it(db):
    """Tết Đinh Mùi: 06/02/2027 is mùng một (a Saturday); the package gives 29 Tết (Thu 04/02) to mùng năm
    (Wed 10/02) off, so Wednesday 03/02 and Thursday 11/02 are the working days around it."""
    off = [date(2027, 2, d) for d in range(4, 11)]
    assert [is_working_day(d) for d in off] == [False] * 7
    assert why_off(date(2027, 2, 6)) == "Tết Nguyên Đán"
    assert is_working_day(date(2027, 2, 3))
    assert is_working_day(date(2027, 2, 11))
    assert working_days_between(date(2027, 2, 3), date(2027, 2, 11)) == 1
    assert working_days_between(date(2027, 2, 1), date(2027, 2, 15)) == 5  # Tue 2, Wed 3, Thu 11, Fri 12, Mon 15
    assert working_days_between(date(2027, 2, 15), date(2027, 2, 1)) == -5
    assert add_working_days(date(2027, 2, 3), 1) == date(2027, 2, 11)
    assert add_working_days(date(2027, 2, 3), 3) == date(2027, 2, 15)
    assert next_working_day(date(2027, 2, 3)) == date(2027, 2, 11)
    assert previous_working_day(date(2027, 2, 11)) == date(2027, 2, 3)
    assert effective_deadline(date(2027, 2, 8)) == date(2027, 2, 11)  # a deadline in Tết runs to its end


def test_add_working_days_over_a_weekend_and_a_holiday(db):
    # Thursday 29/04/2027 + 1 → Monday 03/05? No: 30/04 (Fri) and 01/05 (Sat) are holidays, 03/05 is the
    # observed Labour Day: the next working day is Tuesday 04/05
    assert add_working_days(date(2027, 4, 29), 1) == date(2027, 5, 4)
    assert add_working_days(date(2027, 4, 29), 2) == date(2027, 5, 5)
    assert add_working_days(date(2026, 12, 4), 1) == date(2026, 12, 7)  # Friday + 1 = Monday
    assert add_working_days(date(2026, 12, 5), 0) == date(2026, 12, 7)  # "the same working day" of a Saturday
    assert add_working_days(date(2026, 12, 7), 0) == date(2026, 12, 7)
    assert add_working_days(date(2026, 12, 7), -1) == date(2026, 12, 4)
    assert working_days_between(date(2026, 12, 4), date(2026, 12, 7)) == 1
    assert working_days_between(date(2026, 12, 7), date(2026, 12, 7)) == 0
    assert overdue_cutoff(date(2026, 12, 7)) == date(2026, 12, 4)  # on Monday, Friday's deadline is past…
    assert overdue_cutoff(date(2026, 12, 7)) < date(2026, 12, 5)  # …Saturday's is not (it runs to Monday)


def test_a_compensating_saturday_and_a_day_off_added_by_it(db):
    """IT adds Saturday 13/02/2027 as làm bù and Friday 12/02 as nghỉ bù: the calendar follows at once."""
    assert not is_working_day(date(2027, 2, 13))
    service.add_override(None, date(2027, 2, 13), "lam_bu", "Làm bù cho ngày 12/02 (Thông báo 99/TB-UBND)")
    service.add_override(None, date(2027, 2, 12), "nghi", "Nghỉ bù (Thông báo 99/TB-UBND)")
    assert is_working_day(date(2027, 2, 13))
    assert not is_working_day(date(2027, 2, 12))
    assert why_off(date(2027, 2, 12)) == "Nghỉ bù (Thông báo 99/TB-UBND)"
    assert add_working_days(date(2027, 2, 11), 1) == date(2027, 2, 13)
    assert working_days_between(date(2027, 2, 3), date(2027, 2, 15)) == 3  # Thu 11, Sat 13, Mon 15
    assert service.year_view(_admin_user(db), 2027).working_days == calendar.working_days_between(
        date(2026, 12, 31), date(2027, 12, 31))


def test_the_package_own_compensating_saturday_counts(db):
    """22/08/2026 was worked for the day off on Monday 31/08/2026 (the package's substituted day)."""
    assert is_working_day(date(2026, 8, 22))
    assert not is_working_day(date(2026, 8, 31))


def test_overrides_are_checked(db):
    with pytest.raises(service.ValidationFailed, match="đã là ngày nghỉ"):
        service.add_override(None, date(2027, 2, 8), "nghi", "Trùng Tết")
    with pytest.raises(service.ValidationFailed, match="đã là ngày làm việc"):
        service.add_override(None, date(2027, 2, 11), "lam_bu", "Đã là ngày làm việc")
    with pytest.raises(service.ValidationFailed) as refused:
        service.add_override(None, None, "khac", "")
    assert set(refused.value.errors) == {"day", "kind", "note"}
    service.add_override(None, date(2027, 3, 1), "nghi", "Nghỉ theo quyết định")
    with pytest.raises(service.ValidationFailed, match="hãy xóa dòng đó trước"):
        service.add_override(None, date(2027, 3, 1), "nghi", "Lần nữa")


# --- hours and limits --------------------------------------------------------------------------------------

def test_working_hours_skip_lunch_nights_and_weekends(db):
    assert hours.add_working_hours(vn(2026, 12, 4, 16, 30), timedelta(hours=2)) == vn(2026, 12, 7, 9, 0)
    assert hours.add_working_hours(vn(2026, 12, 7, 12, 0), timedelta(hours=2)) == vn(2026, 12, 7, 15, 0)
    assert hours.add_working_hours(vn(2026, 12, 7, 10, 30), timedelta(hours=2)) == vn(2026, 12, 7, 14, 0)
    assert hours.add_working_hours(vn(2027, 2, 3, 16, 0), timedelta(hours=2)) == vn(2027, 2, 11, 8, 30)  # Tết
    assert hours.working_time_between(vn(2026, 12, 4, 16, 0), vn(2026, 12, 7, 12, 0)) == timedelta(hours=5)
    assert hours.working_time_between(vn(2026, 12, 7, 12, 0), vn(2026, 12, 4, 16, 0)) == -timedelta(hours=5)
    assert hours.hours_per_day() == timedelta(hours=8)


def test_issuance_limit_signed_friday_afternoon(db):
    """SPEC §17 #11: by 12:00 of the next working day; Monday 07/12/2026 is a working day."""
    assert limits.due_for("issue", vn(2026, 12, 4, 16, 0), 0) == vn(2026, 12, 7, 12, 0)
    assert limits.due_for("issue", vn(2026, 12, 4, 18, 30), 0) == vn(2026, 12, 7, 12, 0)  # after closing
    assert limits.due_for("issue", vn(2026, 12, 5, 10, 0), 0) == vn(2026, 12, 7, 12, 0)  # signed on Saturday


def test_issuance_limit_when_monday_is_a_day_off(db):
    service.add_override(None, date(2026, 12, 7), "nghi", "Nghỉ bù (thử)")
    assert limits.due_for("issue", vn(2026, 12, 4, 16, 0), 0) == vn(2026, 12, 8, 12, 0)
    # and across Tết: signed on Wednesday 03/02/2027, issued by 12:00 on Thursday 11/02
    assert limits.due_for("issue", vn(2027, 2, 3, 15, 0), 0) == vn(2027, 2, 11, 12, 0)


@pytest.mark.parametrize(("urgency", "due"), [
    (1, vn(2026, 12, 4, 17, 0)),  # Khẩn: the same working day
    (2, vn(2026, 12, 7, 8, 30)),  # Thượng khẩn: 2 working hours (1 on Friday, 1 on Monday from 07:30)
    (3, vn(2026, 12, 7, 8, 30)),  # Hỏa tốc
    (4, vn(2026, 12, 7, 8, 30)),  # Hỏa tốc hẹn giờ
])
def test_urgent_limits_for_both_procedures(db, urgency, due):
    start = vn(2026, 12, 4, 16, 0)
    assert limits.due_for("issue", start, urgency) == due
    assert limits.due_for("register", start, urgency) == due


def test_registration_the_same_working_day(db):
    assert limits.due_for("register", vn(2026, 12, 4, 9, 0), 0) == vn(2026, 12, 4, 17, 0)
    assert limits.due_for("register", vn(2026, 12, 4, 17, 30), 0) == vn(2026, 12, 7, 17, 0)  # after closing
    assert limits.due_for("register", vn(2026, 12, 6, 9, 0), 0) == vn(2026, 12, 7, 17, 0)  # Sunday
    assert limits.due_for("register", vn(2027, 2, 5, 9, 0), 1) == vn(2027, 2, 11, 17, 0)  # Khẩn in Tết


def test_limits_follow_the_settings(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "LIMIT_ISSUE", "1d")
    monkeypatch.setitem(app.config, "LIMIT_MOST_URGENT", "90m")
    monkeypatch.setitem(app.config, "WORK_HOURS", "08:00-12:00,13:30-17:30")
    assert limits.due_for("issue", vn(2026, 12, 4, 16, 0), 0) == vn(2026, 12, 7, 17, 30)
    assert limits.due_for("issue", vn(2026, 12, 4, 11, 0), 3) == vn(2026, 12, 4, 14, 0)


@pytest.mark.parametrize(("due", "now", "label", "level"), [
    (vn(2026, 12, 7, 12, 0), vn(2026, 12, 7, 9, 30), "còn 2 giờ làm việc", "soon"),  # lunch is not counted
    (vn(2026, 12, 7, 12, 0), vn(2026, 12, 7, 10, 0), "còn 1 giờ 30 phút làm việc", "soon"),
    (vn(2026, 12, 7, 12, 0), vn(2026, 12, 7, 10, 30), "còn 1 giờ làm việc", "soon"),
    (vn(2026, 12, 7, 12, 0), vn(2026, 12, 4, 16, 0), "còn 5 giờ làm việc", "ok"),
    (vn(2026, 12, 9, 17, 0), vn(2026, 12, 7, 9, 0), "còn 2 ngày làm việc", "ok"),
    (vn(2026, 12, 7, 12, 0), vn(2026, 12, 7, 14, 0), "trễ 1 giờ làm việc", "late"),
    (vn(2026, 12, 4, 12, 0), vn(2026, 12, 7, 14, 0), "trễ 1 ngày làm việc", "late"),
    (vn(2027, 2, 3, 17, 0), vn(2027, 2, 12, 9, 0), "trễ 2 ngày làm việc", "late"),  # Tết is not counted
])
def test_what_the_lists_say(db, due, now, label, level):
    shown = limits.describe(due, now)
    assert (shown.label, shown.level, shown.late) == (label, level, level == "late")


def test_deadlines_given_as_days(db):
    assert limits.describe_deadline(date(2026, 12, 7), date(2026, 12, 7)).label == "hạn hôm nay"
    assert limits.describe_deadline(date(2026, 12, 5), date(2026, 12, 7)).label == "hạn hôm nay"  # Saturday's
    assert limits.describe_deadline(date(2026, 12, 4), date(2026, 12, 7)).label == "trễ 1 ngày làm việc"
    assert limits.describe_deadline(date(2027, 2, 11), date(2027, 2, 3)).label == "còn 1 ngày làm việc"


@pytest.mark.parametrize(("key", "value"), [
    ("WORK_HOURS", "7h-11h"), ("WORK_HOURS", "13:00-17:00,07:30-11:30"), ("LIMIT_ISSUE", "ngày mai"),
    ("LIMIT_MOST_URGENT", "0h"), ("LIMIT_ISSUE", "1d@25:00"), ("LIMIT_WARN_HOURS", -1),
])
def test_a_setting_that_cannot_be_read_stops_start_up(key, value):
    with pytest.raises(ConfigError, match=key):
        load({"TESTING": True, key: value})


def test_the_defaults_are_the_issue_s():
    settings = load({"TESTING": True})
    assert (settings["WORK_HOURS"], settings["LIMIT_REGISTER"], settings["LIMIT_ISSUE"], settings["LIMIT_URGENT"],
            settings["LIMIT_MOST_URGENT"]) == ("07:30-11:30,13:00-17:00", "0d", "1d@12:00", "0d", "2h")


# --- IT's page and command ---------------------------------------------------------------------------------

def _admin_user(db, factory=None):
    return act((factory or Factory(db)).person(Role.SYSTEM_ADMIN, title="Quản trị hệ thống"))


def test_the_page_for_a_system_admin(db, factory, login, client):
    admin = _admin_user(db, factory)
    login(admin)
    page = client.get("/quan-tri/ngay-lam-viec?nam=2027")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<html" in html
    assert "Ngày làm việc năm 2027" in html
    assert "04/02/2027" in html
    assert "29 Tết" in html
    resp = client.post("/quan-tri/ngay-lam-viec", data={"day": "13/02/2027", "kind": "lam_bu",
                                                         "note": "Làm bù theo Thông báo 99/TB-UBND"})
    assert resp.status_code == 303
    assert is_working_day(date(2027, 2, 13))
    row = db.execute(select(WorkdayOverride).where(WorkdayOverride.day == date(2027, 2, 13))).scalar_one()
    audit = db.execute(select(AuditEntry).where(AuditEntry.action == "workdays.override_added")).scalars().all()
    assert [a.object_id for a in audit] == [str(row.id)]
    assert "13/02/2027" in client.get("/quan-tri/ngay-lam-viec?nam=2027").get_data(as_text=True)
    resp = client.post(f"/quan-tri/ngay-lam-viec/{row.id}/bo", data={}, headers=HX)
    assert resp.status_code == 200
    assert resp.headers["HX-Redirect"].endswith("/quan-tri/ngay-lam-viec?nam=2027")
    assert not is_working_day(date(2027, 2, 13))
    assert db.execute(select(AuditEntry).where(AuditEntry.action == "workdays.override_removed")).scalars().all()


def test_bad_input_is_a_vietnamese_422(db, factory, login, client):
    login(_admin_user(db, factory))
    resp = client.post("/quan-tri/ngay-lam-viec", data={"day": "31/02/2027", "kind": "nghi", "note": "x"})
    assert resp.status_code == 422
    assert "Ngày không hợp lệ" in resp.get_data(as_text=True)
    resp = client.post("/quan-tri/ngay-lam-viec", data={"day": "08/02/2027", "kind": "nghi", "note": "Tết"})
    assert resp.status_code == 422
    assert "đã là ngày nghỉ (Mùng ba Tết Nguyên Đán)" in resp.get_data(as_text=True)
    assert client.get("/quan-tri/ngay-lam-viec?nam=1800").status_code == 422


@pytest.mark.parametrize("role", [Role.ORG_ADMIN, Role.CLERK, Role.OFFICER])
def test_only_provincial_it_changes_the_calendar(db, factory, login, client, role):
    person = factory.person(role)
    login(person)
    assert client.get("/quan-tri/ngay-lam-viec").status_code == (200 if role == Role.ORG_ADMIN else 403)
    resp = client.post("/quan-tri/ngay-lam-viec", data={"day": "13/02/2027", "kind": "lam_bu", "note": "Làm bù"})
    assert resp.status_code == 403
    assert is_working_day(date(2027, 2, 13)) is False
    if role == Role.ORG_ADMIN:
        assert "Thêm vào lịch" not in client.get("/quan-tri/ngay-lam-viec").get_data(as_text=True)
    # whatever is posted: the permission comes before the form (a malformed day was a 422 with no message)
    malformed = client.post("/quan-tri/ngay-lam-viec", data={"day": "31/02/2027", "kind": "x"})
    assert malformed.status_code == 403
    assert client.post("/quan-tri/ngay-lam-viec/1/bo", data={}).status_code == 403


def test_the_command(app, db):
    runner = app.test_cli_runner()
    added = runner.invoke(args=["portal", "workdays", "add", "2027-02-13", "--lam-bu", "--ghi-chu",
                                "Làm bù theo Thông báo 99/TB-UBND"])
    assert added.exit_code == 0, added.output
    assert "Đã thêm ngày làm bù 13/02/2027" in added.output
    assert is_working_day(date(2027, 2, 13))
    audit = db.execute(select(AuditEntry).where(AuditEntry.action == "workdays.override_added")).scalar_one()
    assert audit.actor_name == "quản trị máy chủ"
    listed = runner.invoke(args=["portal", "workdays", "list", "--nam", "2027"])
    assert "13/02/2027  làm bù" in listed.output
    assert "04/02/2027  nghỉ    29 Tết" in listed.output
    refused = runner.invoke(args=["portal", "workdays", "add", "2027-02-08", "--nghi", "--ghi-chu", "Tết"])
    assert refused.exit_code != 0
    assert "đã là ngày nghỉ" in refused.output
    assert runner.invoke(args=["portal", "workdays", "add", "13/02/2027", "--nghi", "--ghi-chu", "x"]).exit_code == 2
    assert runner.invoke(args=["portal", "workdays", "add", "2027-03-01", "--ghi-chu", "x"]).exit_code == 2
    removed = runner.invoke(args=["portal", "workdays", "remove", "2027-02-13"])
    assert removed.exit_code == 0, removed.output
    assert not is_working_day(date(2027, 2, 13))
    assert runner.invoke(args=["portal", "workdays", "remove", "2027-02-13"]).exit_code == 1


# --- the shape ---------------------------------------------------------------------------------------------

FEATURES = ("portal.incoming", "portal.drafts", "portal.schedules", "portal.registers", "portal.reports",
            "portal.admin", "portal.main", "portal.exchange")


def test_the_calendar_is_core_and_imports_no_feature():
    """incoming, drafts, reports and registers all count days with it, so it may know none of them."""
    package = Path(__file__).resolve().parent.parent / "portal" / "workdays"
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith(FEATURES), f"{path.name} imports {name}"


def test_time_is_vietnam_time(db):
    """An instant stored in UTC is judged in Vietnam time: 09:30 UTC on Friday is 16:30 local."""
    friday_afternoon = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
    assert limits.due_for("issue", friday_afternoon, 0) == vn(2026, 12, 7, 12, 0)


def test_a_hostile_note_is_a_vietnamese_422(db, factory, login, client):
    login(_admin_user(db, factory))
    resp = client.post("/quan-tri/ngay-lam-viec", data={"day": "01/03/2027", "kind": "nghi",
                                                         "note": "Nghỉ bù " * 2000})
    assert resp.status_code == 422
    assert "Ghi chú tối đa 200 ký tự." in resp.get_data(as_text=True)
    assert service.find(date(2027, 3, 1)) is None
    assert client.post("/quan-tri/ngay-lam-viec", data={"day": "01/03/2027", "kind": "x" * 10_000,
                                                        "note": "Nghỉ bù"}).status_code == 422


def test_counting_a_year_at_a_time_agrees_with_counting_day_by_day(db):
    """``working_days_between`` counts by years (an inbox of items years late must not walk every day); it must
    give what walking the days gives, across Tết, a compensating Saturday and a day off IT added."""
    import random

    from portal.workdays.calendar import is_working_day, working_days_between

    service.add_override(None, date(2027, 2, 13), "lam_bu", "Làm bù")
    service.add_override(None, date(2027, 2, 12), "nghi", "Nghỉ bù")
    rng = random.Random(18)  # noqa: S311  (test data)
    start = date(2025, 11, 1)
    for _ in range(300):
        a = start + timedelta(days=rng.randrange(0, 1100))
        b = a + timedelta(days=rng.randrange(-400, 400))
        lo, hi = min(a, b), max(a, b)
        walked = sum(is_working_day(lo + timedelta(days=i)) for i in range(1, (hi - lo).days + 1))
        assert working_days_between(a, b) == (walked if b >= a else -walked), (a, b)
