"""Schedule entries (issue 18 item 5): "Thành phần" chosen by type-ahead as removable chips, never a
hold-Ctrl list; every chosen id checked again on saving (422 otherwise); and a new entry shown under
its own day, in time order, as soon as it is added (the day's rows swapped out of band)."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest

from portal.auth.models import Role
from portal.schedules import services
from tests.incoming_fixtures import act

MONDAY = date(2026, 3, 2)
TUESDAY = MONDAY + timedelta(days=1)
HX = {"HX-Request": "true"}


@pytest.fixture
def cal_people(factory):
    org = factory.organisation(name="Sở Thành Phần Thử", short_name="STPT")
    unit = factory.unit(org, name="Phòng Kế hoạch Tài chính")
    other = factory.organisation(name="Sở Khác Thử", short_name="SKT")
    people = {
        "editor": act(factory.person(Role.SCHEDULE_EDITOR, organisation=org, unit=unit, title="Chuyên viên")),
        "leader": act(factory.person(Role.AGENCY_LEADER, organisation=org, title="Giám đốc",
                                     full_name="Trần Văn Lãnh")),
        "staff": act(factory.person(Role.OFFICER, organisation=org, unit=unit, title="Chuyên viên",
                                    full_name="Đỗ Thị Lành")),
        "outsider": act(factory.person(Role.OFFICER, organisation=other, full_name="Lê Văn Lạnh")),
    }
    return services.calendar_for(org), unit, factory.unit(other, name="Phòng Lạnh Ngoài"), people


def base(cal, monday=MONDAY):
    return f"/lich-cong-tac/lich/{cal.id}/{monday.isoformat()}"


def entry_form(day=MONDAY, **kw):
    return {"day": day.isoformat(), "start": "08:00", "content": "Họp bàn kế hoạch", **kw}


# --- the form ---------------------------------------------------------------------------------------

def test_the_form_offers_a_type_ahead_and_no_hold_ctrl_list(db, cal_people, login):
    cal, unit, _far, p = cal_people
    entry, _ = services.add_entry(p["editor"], cal, MONDAY, services.EntryData(
        day=MONDAY, start=time(8), content="Giao ban", participant_ids=[p["staff"].id], unit_ids=[unit.id]))
    client = login(p["editor"])
    for url in (f"{base(cal)}/them", f"/lich-cong-tac/muc/{entry.id}/sua"):
        html = client.get(url, headers=HX).get_data(as_text=True)
        assert "<select multiple" not in html
        assert "Giữ Ctrl" not in html
        assert f'hx-get="/lich-cong-tac/lich/{cal.id}/thanh-phan"' in html
    edit = client.get(f"/lich-cong-tac/muc/{entry.id}/sua", headers=HX).get_data(as_text=True)
    chips = re.findall(r'<li class="chip"><input type="hidden" name="(\w+)" value="(\d+)">', edit)
    assert chips == [("unit_ids", str(unit.id)), ("participant_ids", str(p["staff"].id))]
    assert 'aria-label="Bỏ Đỗ Thị Lành"' in edit
    assert "data-chip-remove" in edit


def test_typing_finds_the_organisations_units_and_people_only(db, cal_people, login):
    cal, unit, _far, p = cal_people
    client = login(p["editor"])
    html = client.get(f"/lich-cong-tac/lich/{cal.id}/thanh-phan?q=lanh", headers=HX).get_data(as_text=True)
    assert "Trần Văn Lãnh" in html
    assert "Đỗ Thị Lành" in html  # without diacritics, "lanh" finds both
    assert "Lê Văn Lạnh" not in html  # another organisation's
    assert "Phòng Lạnh Ngoài" not in html
    assert f"kind=person&amp;id={p['leader'].id}" in html
    units = client.get(f"/lich-cong-tac/lich/{cal.id}/thanh-phan?q=ke+hoach").get_data(as_text=True)
    assert f"kind=unit&amp;id={unit.id}" in units
    nothing = client.get(f"/lich-cong-tac/lich/{cal.id}/thanh-phan?q=khong+ai+ten+nay").get_data(as_text=True)
    assert "Không tìm thấy “khong ai ten nay” trong cơ quan." in nothing


def test_only_the_calendars_editors_may_look_people_up(db, cal_people, factory, login, app):
    cal, _unit, _far, p = cal_people
    staff = login(p["staff"], c=app.test_client())
    assert staff.get(f"/lich-cong-tac/lich/{cal.id}/thanh-phan?q=lanh").status_code == 403
    chip = f"/lich-cong-tac/lich/{cal.id}/thanh-phan/chon?kind=person&id={p['leader'].id}"
    assert staff.get(chip).status_code == 403
    stranger = act(factory.person(Role.SCHEDULE_EDITOR))  # another organisation's editor
    assert login(stranger, c=app.test_client()).get(f"/lich-cong-tac/lich/{cal.id}/thanh-phan").status_code == 404


def test_a_chip_is_a_hidden_input_once_and_only_for_the_organisation(db, cal_people, login):
    cal, unit, far, p = cal_people
    client = login(p["editor"])
    url = f"/lich-cong-tac/lich/{cal.id}/thanh-phan/chon"
    chip = client.get(f"{url}?kind=person&id={p['staff'].id}", headers=HX)
    assert chip.status_code == 200
    html = chip.get_data(as_text=True)
    assert f'<input type="hidden" name="participant_ids" value="{p["staff"].id}">' in html
    assert "Đỗ Thị Lành" in html
    unit_chip = client.get(f"{url}?kind=unit&id={unit.id}", headers=HX).get_data(as_text=True)
    assert f'<input type="hidden" name="unit_ids" value="{unit.id}">' in unit_chip
    again = client.get(f"{url}?kind=person&id={p['staff'].id}&participant_ids={p['staff'].id}", headers=HX)
    assert again.status_code == 204
    assert client.get(f"{url}?kind=person&id={p['outsider'].id}", headers=HX).status_code == 404
    assert client.get(f"{url}?kind=unit&id={far.id}", headers=HX).status_code == 404
    assert client.get(f"{url}?kind=ai&id=1", headers=HX).status_code == 422


# --- saving checks every id again -------------------------------------------------------------------

@pytest.mark.parametrize(("field", "who", "message"), [
    ("participant_ids", "outsider", "Thành phần phải là người của cơ quan."),
    ("unit_ids", "far", "Đơn vị tham dự phải thuộc cơ quan."),
    ("participant_ids", "junk", "Hãy chọn trong danh sách."),
])
def test_a_forged_choice_is_refused_with_422_and_nothing_saved(db, cal_people, login, field, who, message):
    cal, unit, far, p = cal_people
    client = login(p["editor"])
    value = {"outsider": str(p["outsider"].id), "far": str(far.id), "junk": "abc"}[who]
    resp = client.post(f"{base(cal)}/them", headers=HX, data={
        **entry_form(), "participant_ids": [str(p["staff"].id), value] if field == "participant_ids" else [],
        "unit_ids": [str(unit.id), value] if field == "unit_ids" else []})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert message in html
    assert services.find_week(cal, MONDAY) is None or services.find_week(cal, MONDAY).entries == []
    good = (f'name="unit_ids" value="{unit.id}"' if field == "unit_ids"
            else f'name="participant_ids" value="{p["staff"].id}"')
    assert good in html  # the good choice stays chosen
    assert "Lê Văn Lạnh" not in html  # a forged id gets no chip, so no name
    assert "Phòng Lạnh Ngoài" not in html


def test_the_chosen_participants_are_saved(db, cal_people, login):
    cal, unit, _far, p = cal_people
    client = login(p["editor"])
    resp = client.post(f"{base(cal)}/them", data={**entry_form(), "participant_ids": [str(p["staff"].id)],
                                                  "unit_ids": [str(unit.id)]})
    assert resp.status_code == 303
    (entry,) = services.find_week(cal, MONDAY).entries
    assert [u.id for u in entry.participants] == [p["staff"].id]
    assert [u.id for u in entry.participant_units] == [unit.id]


# --- a new entry under its day at once --------------------------------------------------------------

def _tbody(html: str, day: date, session: str) -> str:
    found = re.search(rf'<tbody id="rows-{day.isoformat()}-{session}" hx-swap-oob="true">(.*?)</tbody>', html, re.S)
    assert found, html[:1500]
    return found[1]


def test_a_new_entry_appears_under_its_day_in_time_order(db, cal_people, login):
    cal, _unit, _far, p = cal_people
    services.add_entry(p["editor"], cal, MONDAY, services.EntryData(day=TUESDAY, start=time(10),
                                                                    content="Tiếp đoàn công tác"))
    client = login(p["editor"])
    # the form was opened under Monday, the day chosen in it is Tuesday
    resp = client.post(f"{base(cal)}/them", headers=HX, data=entry_form(day=TUESDAY, start="07:30",
                                                                     content="Chào cờ đầu tuần"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    morning = _tbody(html, TUESDAY, "sang")
    assert morning.index("Chào cờ đầu tuần") < morning.index("Tiếp đoàn công tác")
    assert "07:30" in morning
    assert "Không có lịch." in _tbody(html, TUESDAY, "chieu")
    assert f"rows-{MONDAY.isoformat()}" not in html  # only the day that changed
    before = html[:html.index("<tbody")]
    assert "<tr" not in before  # the form's row is swapped for nothing
    assert re.search(r'id="flashes"[^>]*hx-swap-oob="true">\s*<div class="flash[^"]*">Đã thêm mục lịch.', html)


def test_the_week_page_still_lists_the_days_rows(db, cal_people, login):
    cal, _unit, _far, p = cal_people
    services.add_entry(p["editor"], cal, MONDAY, services.EntryData(day=MONDAY, start=time(14), content="Họp chiều"))
    html = login(p["editor"]).get(f"/lich-cong-tac/?lich={cal.id}&tuan={MONDAY.isoformat()}").get_data(as_text=True)
    afternoon = re.search(rf'<tbody id="rows-{MONDAY.isoformat()}-chieu">(.*?)</tbody>', html, re.S)
    assert afternoon
    assert "Họp chiều" in afternoon[1]
    assert "hx-swap-oob" not in html.split('class="week"')[1]
