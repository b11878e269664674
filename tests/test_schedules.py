"""Weekly work schedules (SPEC §9): the workflow and who may act at each state, double-booking
warnings, changes after publication, the private iCalendar feed, the PDF and who sees what."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from io import BytesIO

import pytest
from icalendar import Calendar as ICalendar
from pypdf import PdfReader

from portal.audit import AuditEntry
from portal.auth.models import Role
from portal.errors import NotAllowed, ValidationFailed
from portal.schedules import services
from portal.schedules.models import ChangeMark, Entry, FeedKind, WeekState
from portal.timeutil import local_today
from portal.workflow import AlreadyDone
from tests.incoming_fixtures import act

MONDAY = date(2026, 3, 2)
HX = {"HX-Request": "true"}
S = WeekState


@pytest.fixture
def sched(factory):
    org = factory.organisation(name="Sở Lịch Thử", short_name="SLT")
    unit = factory.unit(org, name="Phòng Tổng hợp")
    people = {
        "editor": act(factory.person(Role.SCHEDULE_EDITOR, organisation=org, unit=unit, title="Chuyên viên")),
        "leader": act(factory.person(Role.AGENCY_LEADER, organisation=org, title="Giám đốc",
                                     full_name="Trần Văn Lãnh")),
        "deputy": act(factory.person(Role.AGENCY_LEADER, organisation=org, title="Phó Giám đốc",
                                     full_name="Lê Thị Phó")),
        "head": act(factory.person(Role.UNIT_HEAD, organisation=org, unit=unit, title="Trưởng phòng")),
        "staff": act(factory.person(Role.OFFICER, organisation=org)),
        "outsider": act(factory.person(Role.SCHEDULE_EDITOR, Role.AGENCY_LEADER)),
    }
    return org, unit, services.calendar_for(org), people


def data(**kw) -> services.EntryData:
    base = {"day": MONDAY, "start": time(8), "content": "Họp giao ban đầu tuần"}
    base.update(kw)
    return services.EntryData(**base)


def publish(cal, p, *entries: services.EntryData, monday: date = MONDAY) -> list[Entry]:
    made = [services.add_entry(p["editor"], cal, monday, e)[0] for e in entries]
    week = services.submit(p["editor"], cal, monday)
    services.approve(p["leader"], week)
    services.publish(p["leader"], week)
    return made


def week_in(state: WeekState, cal, p):
    services.add_entry(p["editor"], cal, MONDAY, data())
    week = services.find_week(cal, MONDAY)
    steps = [lambda: services.submit(p["editor"], cal, MONDAY), lambda: services.approve(p["leader"], week),
             lambda: services.publish(p["leader"], week)]
    for step in steps[:list(S).index(state)]:
        step()
    assert week.state == state
    return week


# --- workflow --------------------------------------------------------------------------------------

def test_the_week_goes_from_draft_to_published(db, sched):
    _org, _unit, cal, p = sched
    entry, _ = services.add_entry(p["editor"], cal, MONDAY, data())
    week = entry.week
    assert (week.state, week.revision, entry.change_mark) == (S.DRAFT, 0, None)
    services.submit(p["editor"], cal, MONDAY)
    assert week.state == S.SUBMITTED
    services.return_week(p["leader"], week, "Bổ sung địa điểm.")
    assert (week.state, week.return_comment) == (S.DRAFT, "Bổ sung địa điểm.")
    services.submit(p["editor"], cal, MONDAY)
    services.approve(p["leader"], week)
    assert week.state == S.APPROVED
    assert week.approved_by_id == p["leader"].id
    services.publish(p["leader"], week)
    assert (week.state, week.revision) == (S.PUBLISHED, 1)
    actions = [a.action for a in db.query(AuditEntry).filter(AuditEntry.action.like("schedules.%"))
               .order_by(AuditEntry.id)]  # in the order written: without it PostgreSQL may return any order
    assert actions == ["schedules.entry_added", "schedules.submit", "schedules.return", "schedules.submit",
                       "schedules.approve", "schedules.publish"]


ALLOWED = {
    ("add", S.DRAFT): {"editor"}, ("add", S.PUBLISHED): {"editor"},
    ("submit", S.DRAFT): {"editor"},
    ("approve", S.SUBMITTED): {"leader", "deputy"},
    ("return", S.SUBMITTED): {"leader", "deputy"}, ("return", S.APPROVED): {"leader", "deputy"},
    ("publish", S.APPROVED): {"leader", "deputy"},
}


@pytest.mark.parametrize("action", ["add", "submit", "approve", "return", "publish"])
@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("who", ["editor", "leader", "deputy", "head", "staff", "outsider"])
def test_who_may_act_on_each_state(db, sched, action, state, who):
    _org, _unit, cal, p = sched
    week = week_in(state, cal, p)
    run = {
        "add": lambda u: services.add_entry(u, cal, MONDAY, data(start=time(14))),
        "submit": lambda u: services.submit(u, cal, MONDAY),
        "approve": lambda u: services.approve(u, week),
        "return": lambda u: services.return_week(u, week, "Chưa đủ."),
        "publish": lambda u: services.publish(u, week),
    }[action]
    if who in ALLOWED.get((action, state), set()):
        run(p[who])
    else:
        with pytest.raises((NotAllowed, AlreadyDone)) as exc:
            run(p[who])
        if isinstance(exc.value, AlreadyDone):  # a step already past: told what happened, only to who could act
            assert any(who in people for (a, _s), people in ALLOWED.items() if a == action)
            assert str(exc.value).startswith("Lịch tuần đã được")
        else:  # a Vietnamese reason, shown with the 403
            assert str(exc.value).startswith(("Chỉ ", "Không thể “"))
        assert week.state == state


def test_the_unit_head_keeps_and_approves_the_unit_calendar(db, sched):
    org, unit, _cal, p = sched
    ucal = services.calendar_for(org, unit)
    services.add_entry(p["head"], ucal, MONDAY, data())
    services.add_entry(p["editor"], ucal, MONDAY, data(start=time(9)))
    week = services.submit(p["head"], ucal, MONDAY)
    with pytest.raises(NotAllowed, match="lãnh đạo đơn vị"):
        services.approve(p["leader"], week)
    services.approve(p["head"], week)
    services.publish(p["head"], week)
    assert week.state == S.PUBLISHED
    with pytest.raises(NotAllowed):  # the head of a unit is no editor of the agency calendar
        services.add_entry(p["head"], services.calendar_for(org), MONDAY, data())


def test_returning_needs_a_comment(db, sched):
    _org, _unit, cal, p = sched
    week = week_in(S.SUBMITTED, cal, p)
    with pytest.raises(ValidationFailed) as exc:
        services.return_week(p["leader"], week, "  ")
    assert "lý do" in exc.value.errors["comment"]


@pytest.mark.parametrize(("kw", "field"), [
    ({"content": ""}, "content"), ({"content": "x" * 1001}, "content"), ({"location": "x" * 201}, "location"),
    ({"notes": "x" * 501}, "notes"), ({"start": None}, "start"), ({"end": time(7)}, "end"),
    ({"day": MONDAY + timedelta(days=7)}, "day"),
])
def test_entry_rules(db, sched, kw, field):
    _org, _unit, cal, p = sched
    with pytest.raises(ValidationFailed) as exc:
        services.add_entry(p["editor"], cal, MONDAY, data(**kw))
    assert field in exc.value.errors


def test_people_from_another_organisation_are_refused(db, sched):
    _org, _unit, cal, p = sched
    with pytest.raises(ValidationFailed) as exc:
        services.add_entry(p["editor"], cal, MONDAY, data(presiding_ids=[p["outsider"].id]))
    assert "presiding_ids" in exc.value.errors


# --- double booking --------------------------------------------------------------------------------

@pytest.mark.parametrize(("first", "second", "overlap"), [
    ({"start": time(8), "end": time(10)}, {"start": time(9), "end": time(11)}, True),
    ({"start": time(8), "end": time(9)}, {"start": time(9), "end": time(10)}, False),  # back to back
    ({"start": time(8)}, {"start": time(8, 30)}, True),  # no end: one hour
    ({"start": time(8)}, {"start": time(9)}, False),
    ({"all_day": True, "start": None}, {"start": time(15)}, True),
    ({"start": time(8)}, {"start": time(8), "day": MONDAY + timedelta(days=1)}, False),
])
def test_double_booking_of_the_presiding_leader(db, sched, first, second, overlap):
    _org, _unit, cal, p = sched
    leader = [p["leader"].id]
    earlier, _ = services.add_entry(p["editor"], cal, MONDAY, data(presiding_ids=leader, **first))
    later, found = services.add_entry(p["editor"], cal, MONDAY, data(presiding_ids=leader, content="Tiếp khách",
                                                                       **second))
    assert [c.entry.id for c in found] == ([earlier.id] if overlap else [])
    assert json.loads(later.conflicts or "[]") == ([earlier.id] if overlap else [])
    if overlap:
        assert p["leader"].full_name in found[0].text
        audit = db.query(AuditEntry).filter_by(action="schedules.entry_added", object_id=str(later.id)).one()
        assert audit.details_dict["conflicts"] == [earlier.id]


def test_double_booking_across_calendars_and_by_participants(db, sched):
    org, unit, cal, p = sched
    ucal = services.calendar_for(org, unit)
    first, _ = services.add_entry(p["editor"], cal, MONDAY, data(presiding_ids=[p["leader"].id]))
    _, found = services.add_entry(p["head"], ucal, MONDAY, data(start=time(8, 30), participant_ids=[p["leader"].id]))
    assert [c.entry.id for c in found] == [first.id]
    _, none = services.add_entry(p["editor"], cal, MONDAY, data(presiding_ids=[p["deputy"].id]))
    assert none == []


def test_a_cancelled_entry_no_longer_conflicts(db, sched):
    _org, _unit, cal, p = sched
    (first,) = publish(cal, p, data(presiding_ids=[p["leader"].id]))
    services.cancel_entry(p["editor"], first)
    _, found = services.add_entry(p["editor"], cal, MONDAY, data(presiding_ids=[p["leader"].id]))
    assert found == []


def test_the_warning_shows_and_saving_goes_ahead(db, sched, login):
    _org, _unit, cal, p = sched
    services.add_entry(p["editor"], cal, MONDAY, data(presiding_ids=[p["leader"].id]))
    client = login(p["editor"])
    resp = client.post(f"/lich-cong-tac/lich/{cal.id}/{MONDAY}/them", headers=HX, data={
        "day": MONDAY.isoformat(), "start": "08:30", "content": "Làm việc với đoàn kiểm tra",
        "presiding_ids": str(p["leader"].id)})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "trùng lịch" in body
    assert "Trần Văn Lãnh" in body
    assert "Làm việc với đoàn kiểm tra" in body
    assert "Trùng lịch" in body
    assert len(services.find_week(cal, MONDAY).entries) == 2


# --- after publication -----------------------------------------------------------------------------

def test_changes_after_publication_are_marked_with_the_old_values(db, sched, login):
    _org, _unit, cal, p = sched
    moved, dropped = publish(cal, p, data(location="Phòng họp số 1"), data(start=time(14), content="Tiếp dân"))
    week = moved.week
    services.update_entry(p["editor"], moved, data(start=time(9), location="Hội trường tầng 3"))
    assert (moved.change_mark, moved.sequence, week.revision, week.state) == (ChangeMark.CHANGED, 1, 2, S.PUBLISHED)
    row = services.row_of(moved)
    assert row.old == {"time": "08:00", "location": "Phòng họp số 1"}
    services.update_entry(p["editor"], moved, data(start=time(10), location="Hội trường tầng 3"))
    assert services.row_of(moved).old["time"] == "08:00"  # readers compare with what was published
    added, _ = services.add_entry(p["editor"], cal, MONDAY, data(start=time(16), content="Họp đột xuất"))
    assert added.change_mark == ChangeMark.ADDED
    services.cancel_entry(p["editor"], dropped)
    assert dropped.change_mark == ChangeMark.CANCELLED
    assert dropped.sequence == 1
    assert week.revision == 5
    body = login(p["staff"]).get(f"/lich-cong-tac/?lich={cal.id}&tuan={MONDAY}").get_data(as_text=True)
    assert "Điều chỉnh" in body
    assert "Bổ sung" in body
    assert "Hủy" in body
    assert '<del class="old" title="Trước khi điều chỉnh">Phòng họp số 1</del>' in body
    assert "Họp đột xuất" in body


def test_before_publication_a_removed_entry_is_gone(db, sched):
    _org, _unit, cal, p = sched
    entry, _ = services.add_entry(p["editor"], cal, MONDAY, data())
    week = entry.week
    assert services.cancel_entry(p["editor"], entry) is None
    db.expire(week)
    assert week.entries == []


# --- pages and permissions -------------------------------------------------------------------------

def test_drafts_are_invisible_to_readers_and_outsiders_get_404(db, app, sched, login):
    _org, _unit, cal, p = sched
    services.add_entry(p["editor"], cal, MONDAY, data(content="Họp bàn nhân sự (dự thảo)"))
    url = f"/lich-cong-tac/?lich={cal.id}&tuan={MONDAY}"
    assert "Họp bàn nhân sự" in login(p["editor"], c=app.test_client()).get(url).get_data(as_text=True)
    staff = login(p["staff"], c=app.test_client())
    body = staff.get(url).get_data(as_text=True)
    assert "Họp bàn nhân sự" not in body
    assert "chưa được công bố" in body
    assert staff.get(f"/lich-cong-tac/lich/{cal.id}/{MONDAY}/lich-cong-tac.pdf").status_code == 404
    outsider = login(p["outsider"], c=app.test_client())
    assert outsider.get(url).status_code == 404
    assert outsider.post(f"/lich-cong-tac/lich/{cal.id}/{MONDAY}/gui-duyet").status_code == 404
    assert outsider.get(f"/lich-cong-tac/lich/{cal.id}/{MONDAY}/lich-cong-tac.pdf").status_code == 404


def test_a_reader_pressing_approve_gets_403_in_vietnamese(db, app, sched, login):
    _org, _unit, cal, p = sched
    week_in(S.SUBMITTED, cal, p)
    resp = login(p["staff"]).post(f"/lich-cong-tac/lich/{cal.id}/{MONDAY}/duyet")
    assert resp.status_code == 404  # a week not yet published does not exist for a reader
    week_in_published = services.find_week(cal, MONDAY)
    services.approve(p["leader"], week_in_published)
    services.publish(p["leader"], week_in_published)
    resp = login(p["staff"]).post(f"/lich-cong-tac/lich/{cal.id}/{MONDAY}/duyet")
    assert resp.status_code == 403  # the table's reason: no "already done" for someone who could not approve
    assert "Không thể “duyệt” ở trạng thái “Đã công bố”" in resp.get_data(as_text=True)


def test_the_whole_flow_through_the_pages(db, app, sched, login):
    _org, _unit, cal, p = sched
    editor = login(p["editor"], c=app.test_client())
    base = f"/lich-cong-tac/lich/{cal.id}/{MONDAY}"
    resp = editor.post(f"{base}/them", data={"day": MONDAY.isoformat(), "start": "08:00", "end": "09:30",
                                             "content": "Họp giao ban", "location": "Phòng họp A"})
    assert resp.status_code == 303
    assert editor.post(f"{base}/gui-duyet").status_code == 303
    leader = login(p["leader"], c=app.test_client())
    page = leader.get(f"/lich-cong-tac/?lich={cal.id}&tuan={MONDAY}").get_data(as_text=True)
    assert "Chờ duyệt" in page
    assert "Duyệt" in page
    assert leader.post(f"{base}/duyet").status_code == 303
    assert leader.post(f"{base}/cong-bo").status_code == 303
    staff = login(p["staff"], c=app.test_client())
    page = staff.get(f"/lich-cong-tac/?lich={cal.id}&tuan={MONDAY}").get_data(as_text=True)
    assert "Đã công bố" in page
    assert "Họp giao ban" in page
    assert "08:00 – 09:30" in page
    assert "Sửa" not in page


def test_bad_input_is_rerendered_with_422(db, sched, login):
    _org, _unit, cal, p = sched
    client = login(p["editor"])
    url = f"/lich-cong-tac/lich/{cal.id}/{MONDAY}/them"
    plain = client.post(url, data={"day": MONDAY.isoformat(), "start": "25:99", "content": ""})
    body = plain.get_data(as_text=True)
    assert plain.status_code == 422
    assert "<html" in body
    assert "Giờ không hợp lệ" in body
    assert "Nhập nội dung công việc." in body
    frag = client.post(url, headers=HX, data={"day": MONDAY.isoformat(), "start": "08:00", "content": ""})
    assert frag.status_code == 422
    assert "<html" not in frag.get_data(as_text=True)
    assert frag.get_data(as_text=True).lstrip().startswith(("{#", "<tr"))


def test_inline_editing_swaps_rows(db, sched, login):
    _org, _unit, cal, p = sched
    entry, _ = services.add_entry(p["editor"], cal, MONDAY, data())
    client = login(p["editor"])
    form = client.get(f"/lich-cong-tac/muc/{entry.id}/sua", headers=HX).get_data(as_text=True)
    assert "<html" not in form
    assert f'id="entry-{entry.id}"' in form
    assert "<form" in form
    page = client.get(f"/lich-cong-tac/muc/{entry.id}/sua").get_data(as_text=True)
    assert "<html" in page
    saved = client.post(f"/lich-cong-tac/muc/{entry.id}/sua", headers=HX, data={
        "day": MONDAY.isoformat(), "start": "07:30", "content": "Chào cờ đầu tháng"})
    row = saved.get_data(as_text=True)
    assert saved.status_code == 200
    assert "<html" not in row
    assert "Chào cờ đầu tháng" in row
    assert "07:30" in row
    assert client.get(f"/lich-cong-tac/muc/{entry.id}", headers=HX).status_code == 200
    plain = client.post(f"/lich-cong-tac/muc/{entry.id}/sua", data={
        "day": MONDAY.isoformat(), "start": "07:45", "content": "Chào cờ"})
    assert plain.status_code == 303
    assert f"tuan={MONDAY}" in plain.headers["Location"]
    gone = client.post(f"/lich-cong-tac/muc/{entry.id}/huy", headers=HX)
    assert gone.status_code == 200
    assert "<tr" not in gone.get_data(as_text=True)


def test_markup_in_an_entry_is_shown_literally(db, sched, login):
    _org, _unit, cal, p = sched
    publish(cal, p, data(content='<script>alert(1)</script> <font color="red">đỏ</font> & <b>'))
    body = login(p["staff"]).get(f"/lich-cong-tac/?lich={cal.id}&tuan={MONDAY}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_the_province_calendar_is_for_everyone_in_the_province(db, app, sched, factory, login):
    _org, _unit, _cal, p = sched
    province = factory.province()
    writer = act(factory.person(Role.SCHEDULE_EDITOR, organisation=province))
    boss = act(factory.person(Role.AGENCY_LEADER, organisation=province))
    pcal = services.calendar_for(province)
    services.add_entry(writer, pcal, MONDAY, data(content="Kỳ họp Hội đồng nhân dân tỉnh"))
    week = services.submit(writer, pcal, MONDAY)
    services.approve(boss, week)
    services.publish(boss, week)
    body = login(p["staff"]).get(f"/lich-cong-tac/?lich={pcal.id}&tuan={MONDAY}").get_data(as_text=True)
    assert "Kỳ họp Hội đồng nhân dân tỉnh" in body


def test_a_unit_calendar_is_for_the_unit_and_the_leaders(db, app, sched, login):
    org, unit, _cal, p = sched
    ucal = services.calendar_for(org, unit)
    assert services.can_read(p["leader"], ucal)
    assert services.can_read(p["editor"], ucal)
    assert not services.can_read(p["staff"], ucal)
    assert login(p["staff"]).get(f"/lich-cong-tac/?lich={ucal.id}").status_code == 404


def test_week_addresses(db):
    assert services.parse_week("2026-03-05") == MONDAY
    assert services.parse_week("2026-W10") == MONDAY
    assert services.parse_week("rác").weekday() == 0
    assert services.day_heading(MONDAY) == "Thứ Hai, 02/03"


# --- iCalendar -------------------------------------------------------------------------------------

def _events(client, url):
    resp = client.get(url)
    assert resp.status_code == 200
    assert resp.mimetype == "text/calendar"
    cal = ICalendar.from_ical(resp.get_data())
    return cal, {str(e["UID"]): e for e in cal.walk("VEVENT")}


def test_the_feed_gives_local_times_stable_uids_and_cancellations(db, app, sched):
    """Feeds reach a few weeks back, so this one uses the current week."""
    _org, _unit, cal, p = sched
    this = services.monday_of(local_today())
    entry, other = publish(cal, p, data(day=this, presiding_ids=[p["leader"].id], end=time(9, 30)),
                           data(day=this, start=time(14), content="Tiếp công dân"), monday=this)
    services.add_entry(p["editor"], cal, this + timedelta(days=7), data(day=this + timedelta(days=7),
                                                                        content="Dự thảo tuần sau"))
    _token, secret = services.create_feed(p["staff"], FeedKind.ORGANISATION)
    _mine, mine = services.create_feed(p["leader"], FeedKind.PERSON)
    url = f"/lich-cong-tac/ical/{secret}.ics"
    anonymous = app.test_client()
    ical, events = _events(anonymous, url)
    assert set(events) == {entry.uid, other.uid}  # published only: the next week's draft is not there
    start = events[entry.uid].decoded("DTSTART")
    assert start.tzinfo.key == "Asia/Ho_Chi_Minh"
    assert (start.hour, start.minute) == (8, 0)
    assert start.astimezone(UTC) == datetime.combine(this, time(1), tzinfo=UTC)
    assert "TZID=Asia/Ho_Chi_Minh" in anonymous.get(url).get_data(as_text=True)
    assert [tz["TZID"] for tz in ical.walk("VTIMEZONE")] == ["Asia/Ho_Chi_Minh"]
    assert int(events[entry.uid]["SEQUENCE"]) == 0

    services.update_entry(p["editor"], entry, data(day=this, start=time(8, 30), presiding_ids=[p["leader"].id]))
    services.cancel_entry(p["editor"], other)
    _ical, events = _events(anonymous, url)
    assert set(events) == {entry.uid, other.uid}
    assert int(events[entry.uid]["SEQUENCE"]) == 1
    assert events[entry.uid].decoded("DTSTART").minute == 30
    assert str(events[other.uid]["STATUS"]) == "CANCELLED"

    _ical, personal = _events(anonymous, f"/lich-cong-tac/ical/{mine}.ics")
    assert set(personal) == {entry.uid}  # only what names the leader

    services.revoke_feed(p["staff"], _token.id)
    assert anonymous.get(url).status_code == 404
    assert anonymous.get("/lich-cong-tac/ical/khong-ton-tai.ics").status_code == 404


def test_feed_tokens_are_stored_hashed_and_made_on_the_settings_page(db, sched, login):
    _org, _unit, _cal, p = sched
    client = login(p["staff"])
    resp = client.post("/lich-cong-tac/dong-bo", data={"kind": "co_quan"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "/lich-cong-tac/ical/" in body
    secret = body.split("/lich-cong-tac/ical/")[1].split(".ics")[0]
    (token,) = services.feeds_of(p["staff"])
    assert secret not in token.token_hash
    assert len(token.token_hash) == 64
    assert client.post(f"/lich-cong-tac/dong-bo/{token.id}/thu-hoi").status_code == 303
    assert services.feeds_of(p["staff"]) == []


# --- PDF -------------------------------------------------------------------------------------------

def _pdf_text(raw: bytes) -> str:
    reader = PdfReader(BytesIO(raw))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_the_pdf_is_a_landscape_week_with_vietnamese_text(db, sched, login):
    _org, _unit, cal, p = sched
    entry, _ = publish(cal, p, data(content="Hội nghị tổng kết công tác cải cách hành chính"),
                       data(day=MONDAY + timedelta(days=2), start=time(14),
                            content='<font color="red">Đỏ</font> & <b>'))
    services.update_entry(p["editor"], entry, data(content="Hội nghị sơ kết công tác cải cách hành chính"))
    resp = login(p["staff"]).get(f"/lich-cong-tac/lich/{cal.id}/{MONDAY}/lich-cong-tac.pdf")
    assert resp.status_code == 200
    assert resp.data.startswith(b"%PDF")
    reader = PdfReader(BytesIO(resp.data))
    box = reader.pages[0].mediabox
    assert box.width > box.height  # landscape
    text = _pdf_text(resp.data)
    assert "LỊCH CÔNG TÁC TUẦN" in text
    assert "từ ngày 02/03/2026 đến ngày 08/03/2026" in text
    for heading in ("Thứ Hai, 02/03", "Thứ Tư, 04/03", "Chủ nhật, 08/03", "Sáng", "Chiều", "Đơn vị chuẩn bị"):
        assert heading in text
    assert "Hội nghị sơ kết công tác cải cách hành chính" in text
    assert "[Điều chỉnh]" in text
    assert "Hội nghị tổng kết" in text
    assert '<font color="red">Đỏ</font> & <b>' in text
    assert "Lần cập nhật 2" in text
