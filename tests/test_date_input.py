"""One date input for every date field (issue 18 item 5): shown and typed as dd/mm/yyyy, ISO still taken
from old links, an impossible day refused in Vietnamese (422) with what was typed kept, and the same macro
(with its picker button) on every form, list filter and the schedule's week chooser."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.auth.models import Role
from portal.documents.models import IncomingDocument
from portal.form_fields import DateVNField, date_error, parse_date
from portal.timeutil import local_today
from portal.workdays.models import WorkdayOverride
from tests.incoming_fixtures import act

ROOT = Path(__file__).resolve().parent.parent
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
INPUT = re.compile(r'<input type="text" name="(?P<name>[^"]+)"[^>]*data-datepicker[^>]*>')


def date_inputs(html: str) -> dict[str, str]:
    """name → the whole tag of every date input (the macro's) on a page."""
    return {m["name"]: m[0] for m in INPUT.finditer(html)}


def value_of(tag: str) -> str:
    found = re.search(r'value="([^"]*)"', tag)
    assert found, tag
    return found[1]


# --- parsing ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "day"), [
    ("07/12/2026", date(2026, 12, 7)), ("7/12/2026", date(2026, 12, 7)), (" 07/12/2026 ", date(2026, 12, 7)),
    ("2026-12-07", date(2026, 12, 7)), ("29/02/2028", date(2028, 2, 29)), ("", None),
])
def test_typed_dates_are_read_day_first_and_iso_still_works(typed, day):
    assert parse_date(typed) == day


@pytest.mark.parametrize("typed", ["31/02/2026", "29/02/2027", "00/01/2026", "12/13/2026", "2026/12/07",
                                   "07-12-2026", "07/12/26", "01/01/99999", "hôm nay"])
def test_impossible_or_misshapen_dates_are_refused(typed):
    with pytest.raises(ValueError, match=re.escape(typed.strip())):
        parse_date(typed)
    assert date_error(typed).startswith("Ngày không hợp lệ")


def test_the_message_says_which_day_does_not_exist():
    assert "không có ngày 31/02/2026 trên lịch" in date_error("31/02/2026")
    assert "dd/mm/yyyy" in date_error("hôm nay")


def test_no_form_uses_a_native_or_another_date_field():
    """The rule itself: every date field is DateVNField rendered by the macro, never WTForms' DateField
    or a browser's type=date (which shows mm/dd/yyyy to half the users)."""
    python = [p for p in (ROOT / "portal").rglob("*.py") if re.search(r"\bDate(Time)?Field\b|DateInput\(",
                                                                    p.read_text(encoding="utf-8"))]
    templates = [p for p in (ROOT / "templates").rglob("*.html")
                 if re.search(r"type=[\"']?date\b", p.read_text(encoding="utf-8"))]
    assert python == []
    assert templates == []


def test_the_macro_shows_a_date_as_typed_and_offers_the_picker(app):
    with app.test_request_context():
        macro = app.jinja_env.get_template("macros/forms.html").module
        html = str(macro.date_input("han", date(2026, 12, 7), id="han", label="Hạn xử lý"))
        iso = str(macro.date_input("han", "2026-12-07"))
        typed = str(macro.date_input("han", "31/02/2026", invalid=True))
    tag = date_inputs(html)["han"]
    assert value_of(tag) == "07/12/2026"
    assert 'inputmode="numeric"' in tag
    assert 'placeholder="dd/mm/yyyy"' in tag
    assert r'pattern="\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}-\d{2}"' in tag
    assert 'class="datepicker-toggle"' in html
    assert 'aria-label="Mở lịch chọn ngày"' in html
    assert 'data-label="Hạn xử lý"' in html  # the grid's name; not the button's, or a label search finds two
    assert value_of(date_inputs(iso)["han"]) == "07/12/2026"
    assert value_of(date_inputs(typed)["han"]) == "31/02/2026"
    assert 'aria-invalid="true"' in typed


def test_the_field_macro_renders_every_date_field_with_the_date_input(app):
    from flask_wtf import FlaskForm

    class OneDate(FlaskForm):
        day = DateVNField("Ngày")

    with app.test_request_context():
        form = OneDate(formdata=None, data={"day": date(2026, 12, 7)}, meta={"csrf": False})
        html = str(app.jinja_env.get_template("macros/forms.html").module.field(form.day))
    assert value_of(date_inputs(html)["day"]) == "07/12/2026"
    assert '<label for="day">Ngày</label>' in html
    assert "datepicker-toggle" in html


def test_every_page_loads_the_picker_script(db, factory, login, client):
    login(act(factory.person(Role.OFFICER)))
    html = client.get("/").get_data(as_text=True)
    assert '<script src="/static/js/datepicker.js" defer></script>' in html
    script = client.get("/static/js/datepicker.js")
    assert script.status_code == 200
    assert b"datepicker-day" in script.data
    script.close()


# --- forms over HTTP -------------------------------------------------------------------------------

@pytest.fixture
def it_admin(db, factory, login, client):
    login(act(factory.person(Role.SYSTEM_ADMIN, title="Quản trị hệ thống")))
    return client


@pytest.mark.parametrize(("typed", "stored"), [("07/12/2026", date(2026, 12, 7)), ("2026-12-08", date(2026, 12, 8))])
def test_a_typed_day_is_stored_as_that_day(db, it_admin, typed, stored):
    resp = it_admin.post("/quan-tri/ngay-lam-viec", data={"day": typed, "kind": "nghi", "note": "Nghỉ thử"})
    assert resp.status_code == 303
    days = db.execute(select(WorkdayOverride.day)).scalars().all()
    assert days == [stored]


def test_an_impossible_day_is_a_422_with_the_message_and_what_was_typed(db, it_admin):
    resp = it_admin.post("/quan-tri/ngay-lam-viec", data={"day": "31/02/2026", "kind": "nghi", "note": "Nghỉ thử"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Ngày không hợp lệ: không có ngày 31/02/2026 trên lịch" in html
    tag = date_inputs(html)["day"]
    assert value_of(tag) == "31/02/2026"
    assert 'aria-invalid="true"' in tag
    assert db.execute(select(WorkdayOverride)).first() is None


def test_the_paper_intake_stores_the_typed_days(db, office, login):
    _org, _unit, p = office
    client = login(p["clerk"])
    page = client.get("/van-ban-den/moi").get_data(as_text=True)
    assert {"issued_date", "due_date"} <= set(date_inputs(page))
    issued, due = local_today() - timedelta(days=3), local_today() + timedelta(days=20)
    form = {"type_name": "Quyết định", "code_number": "7", "code_notation": "QĐ-UBND",
            "issued_date": issued.strftime("%d/%m/%Y"), "due_date": due.strftime("%d/%m/%Y"),
            "organ_name": "Ủy ban nhân dân tỉnh Hà Nam", "subject": "Về ngày nhập theo dd/mm/yyyy",
            "urgency": "0", "secrecy": "0", "language": "Tiếng Việt"}
    bad = client.post("/van-ban-den/moi", data={**form, "due_date": "31/02/2026", "scan": (_pdf(), "scan.pdf")},
                      content_type="multipart/form-data")
    assert bad.status_code == 422
    assert value_of(date_inputs(bad.get_data(as_text=True))["due_date"]) == "31/02/2026"
    resp = client.post("/van-ban-den/moi", data={**form, "scan": (_pdf(), "scan.pdf")},
                       content_type="multipart/form-data")
    assert resp.status_code == 303, resp.get_data(as_text=True)[:300]
    doc = db.get(IncomingDocument, int(resp.headers["Location"].rsplit("/", 1)[1]))
    assert (doc.issued_date, doc.due_date) == (issued, due)


def _pdf():
    import io

    return io.BytesIO(PDF)


def test_list_filters_and_the_week_chooser_use_the_date_input(db, office, login):
    _org, _unit, p = office
    client = login(p["clerk"])
    listing = client.get("/van-ban-den/?tu=07/12/2026").get_data(as_text=True)
    assert value_of(date_inputs(listing)["tu"]) == "07/12/2026"
    assert "den" in date_inputs(listing)
    week = client.get("/lich-cong-tac/?tuan=09/12/2026")
    html = week.get_data(as_text=True)
    assert week.status_code == 200
    assert value_of(date_inputs(html)["tuan"]) == "07/12/2026"  # the Monday of that week
    assert "từ ngày 07/12/2026 đến ngày 13/12/2026" in html
    old_link = client.get("/lich-cong-tac/?tuan=2026-12-09").get_data(as_text=True)
    assert "từ ngày 07/12/2026 đến ngày 13/12/2026" in old_link
    assert client.get("/lich-cong-tac/?tuan=31/02/2026").status_code == 422
