"""Every step of the schedule's tables (schedules/workflow.py: WEEK, ENTRY), sent twice at the same
moment over real HTTP by the person who may take it (issue 14): one effect, one audit row, and
clear answers: one success, one notice saying what already happened (409 for an htmx pair), never
403 or 500. A new step in a table without a scenario here fails. One live database per module."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal import once
from portal.auth.models import Role
from portal.db import session as db_session
from portal.schedules import services
from portal.schedules.models import Calendar, ChangeMark, Entry, Week, WeekState
from tests import inbox_check
from tests.conftest import Factory
from tests.http_concurrency import Person, twice
from tests.step_pairs import audit_rows, clear_answers, live_server, quiet, read, scenario_for

S = WeekState
FIRST_MONDAY = date(2027, 1, 4)


@pytest.fixture(scope="module")
def live(fresh_database_url, tmp_path_factory) -> Iterator[dict]:
    for app, base in live_server(fresh_database_url(), tmp_path_factory.mktemp("storage")):
        factory = Factory(db_session())
        org = factory.organisation(name="Sở Lịch Đồng Thời", short_name="SLĐT")
        editor = factory.person(Role.SCHEDULE_EDITOR, organisation=org, title="Chuyên viên")
        leader = factory.person(Role.AGENCY_LEADER, organisation=org, title="Giám đốc")
        cal_id = services.calendar_for(org).id
        names = editor.username, leader.username
        db_session.commit()
        db_session.remove()
        yield {"app": app, "base": base, "cal": cal_id, "editor": Person(base, names[0]),
               "leader": Person(base, names[1]), "weeks": itertools.count()}


class Week_:
    """A fresh week of the calendar, moved along by the real pages."""

    def __init__(self, live: dict) -> None:
        self.live = live
        self.monday = FIRST_MONDAY + timedelta(weeks=next(live["weeks"]))
        self.path = f"/lich-cong-tac/lich/{live['cal']}/{self.monday.isoformat()}"

    def add(self, content: str = "Họp giao ban", **extra: str) -> int:
        form = {"day": self.monday.isoformat(), "start": "08:00", "content": content, **extra}
        resp = self.live["editor"].post(f"{self.path}/them", data=form)
        assert resp.status_code == 303, resp.text[:500]
        return read(select(func.max(Entry.id)))

    def to(self, state: WeekState) -> Week_:
        self.entry = self.add()
        moves = [("editor", "gui-duyet"), ("leader", "duyet"), ("leader", "cong-bo")]
        for who, path in moves[:list(S).index(state)]:
            assert self.live[who].post(f"{self.path}/{path}").status_code == 303
        assert self.state() == state
        quiet(self.live["editor"], self.live["leader"])
        return self

    def row(self) -> Week:
        try:
            return db_session.execute(select(Week).where(Week.calendar_id == self.live["cal"],
                                                         Week.monday == self.monday)).scalar_one()
        finally:
            db_session.expunge_all()

    def state(self) -> WeekState:
        return read(select(Week.state).where(Week.calendar_id == self.live["cal"], Week.monday == self.monday))

    def week_id(self) -> int:
        return read(select(Week.id).where(Week.calendar_id == self.live["cal"], Week.monday == self.monday))


def _week_step(start: WeekState, who: str, path: str, action: str, end: WeekState, success: str, notice: str,
               form: dict | None = None, htmx: bool = False) -> Callable[[dict], None]:
    def run(live: dict) -> None:
        week = Week_(live).to(start)
        answers = twice(live[who], "POST", f"{week.path}/{path}", data=form or {}, htmx=htmx)
        assert week.state() == end
        assert audit_rows(f"schedules.{action}", week.week_id()) == 1
        clear_answers(live[who], answers, success=success, notice=notice, htmx=htmx)
    return run


def _add_twice(live: dict) -> None:
    """WEEK.edit: the new-entry form sent twice with its one-time token makes one entry."""
    week = Week_(live).to(S.PUBLISHED)  # after publication, where an addition goes live at once
    before = read(select(func.count()).select_from(Entry).join(Week).where(Week.id == week.week_id()))
    token = once.new_token()
    form = {"day": week.monday.isoformat(), "start": "14:00", "content": "Tiếp công dân định kỳ", once.FIELD: token}
    answers = twice(live["editor"], "POST", f"{week.path}/them", data=form)
    after = read(select(func.count()).select_from(Entry).join(Week).where(Week.id == week.week_id()))
    assert after == before + 1
    made = read(select(func.max(Entry.id)))
    assert audit_rows("schedules.entry_added", made) == 1
    assert read(select(Week.revision).where(Week.id == week.week_id())) == 2  # one revision, not two
    clear_answers(live["editor"], answers, success="Đã thêm mục lịch.", notice="đã được thêm trước đó")


def _change_twice(live: dict) -> None:
    """ENTRY.change: the same edit twice changes the entry once; the second finds nothing to change.
    (No notice here: a save that changes nothing is an ordinary save.)"""
    week = Week_(live).to(S.PUBLISHED)
    form = {"day": week.monday.isoformat(), "start": "09:30", "content": "Họp giao ban (dời giờ)"}
    answers = twice(live["editor"], "POST", f"/lich-cong-tac/muc/{week.entry}/sua", data=form)
    assert sorted(a.status_code for a in answers) == [303, 303], [a.text[:300] for a in answers]
    assert audit_rows("schedules.entry_changed", week.entry) == 1
    assert read(select(Entry.sequence).where(Entry.id == week.entry)) == 1
    assert read(select(Week.revision).where(Week.id == week.week_id())) == 2


def _cancel_twice(live: dict) -> None:
    """ENTRY.cancel after publication (marked "Hủy") and before it (removed): once each."""
    week = Week_(live).to(S.PUBLISHED)
    answers = twice(live["editor"], "POST", f"/lich-cong-tac/muc/{week.entry}/huy")
    assert read(select(Entry.change_mark).where(Entry.id == week.entry)) == ChangeMark.CANCELLED
    assert audit_rows("schedules.entry_cancelled", week.entry) == 1
    clear_answers(live["editor"], answers, success="Đã hủy mục lịch.", notice="đã được hủy lúc")
    draft = Week_(live).to(S.DRAFT)
    answers = twice(live["editor"], "POST", f"/lich-cong-tac/muc/{draft.entry}/huy")
    assert read(select(func.count()).select_from(Entry).where(Entry.id == draft.entry)) == 0
    assert audit_rows("schedules.entry_deleted", draft.entry) == 1
    clear_answers(live["editor"], answers, success="Đã xóa mục lịch.", notice="đã được xóa lúc")


SCENARIOS: dict[tuple[str, str], Callable[[dict], None]] = {
    ("schedule_week", "edit"): _add_twice,
    ("schedule_week", "submit"): _week_step(S.DRAFT, "editor", "gui-duyet", "submit", S.SUBMITTED,
                                            "Đã gửi lịch tuần để lãnh đạo duyệt.", "Lịch tuần đã được gửi duyệt lúc"),
    ("schedule_week", "approve"): _week_step(S.SUBMITTED, "leader", "duyet", "approve", S.APPROVED,
                                             "Đã duyệt lịch tuần.", "Lịch tuần đã được duyệt lúc"),
    ("schedule_week", "return"): _week_step(S.APPROVED, "leader", "tra-lai", "return", S.DRAFT,
                                            "Đã trả lại lịch tuần cho người lập lịch.", "Lịch tuần đã được trả lại lúc",
                                            form={"comment": "Bổ sung địa điểm."}),
    ("schedule_week", "publish"): _week_step(S.APPROVED, "leader", "cong-bo", "publish", S.PUBLISHED,
                                             "Đã công bố lịch tuần.", "Lịch tuần đã được công bố lúc", htmx=True),
    ("schedule_entry", "change"): _change_twice,
    ("schedule_entry", "cancel"): _cancel_twice,
}
STEPS = [(table.name, action) for table in (services.WEEK, services.ENTRY) for action in table.transitions]


@pytest.mark.parametrize("key", STEPS, ids=[f"{t}.{a}" for t, a in STEPS])
def test_the_same_step_twice_at_once_happens_once(live, key):
    scenario_for(SCENARIOS, key)(live)
    with live["app"].app_context():
        inbox_check.agrees_with_a_recount()


def test_every_scenario_is_a_step_of_a_table():
    assert set(SCENARIOS) <= set(STEPS), set(SCENARIOS) - set(STEPS)


def test_two_first_views_of_a_new_calendar_make_one_row(live):
    """The calendar row is made the first time it is needed: two first views at the same moment both
    answer 200 and leave one row (ON CONFLICT DO NOTHING), never a unique-violation 500."""
    factory = Factory(db_session())
    factory.seq = itertools.count(90)  # past the codes the module's first factory gave out
    org = factory.organisation(name="Sở Lịch Mới", short_name="SLM")
    factory.unit(org, name="Phòng Tổng hợp")
    reader = factory.person(Role.AGENCY_LEADER, organisation=org, title="Giám đốc")
    org_id, username = org.id, reader.username
    db_session.commit()
    db_session.remove()
    assert read(select(func.count()).select_from(Calendar).where(Calendar.organisation_id == org_id)) == 0
    answers = twice(Person(live["base"], username), "GET", "/lich-cong-tac/")
    assert [a.status_code for a in answers] == [200, 200]
    keys = read(select(func.count(func.distinct(Calendar.key))).where(Calendar.organisation_id == org_id))
    rows = read(select(func.count()).select_from(Calendar).where(Calendar.organisation_id == org_id))
    assert rows == keys >= 1
