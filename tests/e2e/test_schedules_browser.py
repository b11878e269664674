"""Issue 15 in a real browser: the Văn phòng's schedule editor drafts next week's schedule inline
(two entries) and submits it; the Chánh Văn phòng approves and publishes it; an officer reads the
published week and downloads its PDF. Each person works in their own browser context."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from portal.schedules.services import day_heading, monday_of
from portal.timeutil import local_today
from tests.e2e.test_browser import sign_in

pytestmark = pytest.mark.e2e

EDITOR = ("laplich.vp", "LapLich@VP2026!")
LEADER = ("lanhdao.vp", "LanhDao@VP2026!")
OFFICER = ("chuyenvien.vp", "ChuyenVien@VP2026!")
FIRST = "Họp giao ban lãnh đạo Văn phòng tuần (kiểm thử trình duyệt)"
SECOND = "Làm việc với Sở Nội vụ về chuyển đổi số (kiểm thử trình duyệt)"


def person(browser: Browser, base: str, who: tuple[str, str]) -> Page:
    context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", accept_downloads=True)
    page = context.new_page()
    page.goto(f"{base}/auth/login")
    sign_in(page, *who)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Việc của tôi")
    return page


def add_entry(page: Page, day: date, start: str, end: str, content: str, location: str,
              participant: str, typed: str) -> None:
    """"+ Thêm lịch" appends the form as a row under the day; "Thành phần" is typed and chosen as a chip;
    saving shows the entry under its day at once, without reloading the page."""
    page.get_by_role("link", name=f"+ Thêm lịch {day_heading(day)}").click()
    form = page.locator("form.entry-form")
    expect(form).to_have_count(1)
    form.get_by_label("Từ giờ").fill(start)
    form.get_by_label("Đến giờ").fill(end)
    form.get_by_label("Nội dung").fill(content)
    form.get_by_label("Trần Văn Đức").check()
    form.get_by_label("Tìm phòng, ban hoặc người trong cơ quan để thêm").fill(typed)
    form.locator(".lookup-results").get_by_role("button", name=re.compile(f"{participant}$")).click()
    expect(form.locator(".chip", has_text=participant)).to_be_visible()
    form.get_by_label("Địa điểm").fill(location)
    form.get_by_role("button", name="Thêm", exact=True).click()
    expect(page.locator("form.entry-form")).to_have_count(0)
    session = "sang" if start < "12:00" else "chieu"  # in the day's own list, in its session, in time order
    row = page.locator(f"#rows-{day.isoformat()}-{session} tr.entry", has_text=content)
    expect(page.locator(f"#new-{day.isoformat()} tr")).to_have_count(0)
    expect(row).to_contain_text(f"{start} – {end}")
    expect(row).to_contain_text("Trần Văn Đức")
    expect(row).to_contain_text(participant)


def test_a_week_from_draft_to_published_and_printed(browser: Browser, live_server: str) -> None:
    monday = monday_of(local_today()) + timedelta(days=7)  # next week: the demo may fill this one
    url = f"{live_server}/lich-cong-tac/?tuan={monday.isoformat()}"

    # 1. the schedule editor drafts two entries inline and submits the week
    editor = person(browser, live_server, EDITOR)
    editor.get_by_role("navigation", name="Điều hướng chính").get_by_role("link", name="Lịch công tác").click()
    expect(editor.get_by_role("heading", level=1)).to_have_text("Lịch công tác tuần")
    editor.goto(url)
    add_entry(editor, monday, "08:00", "09:30", FIRST, "Phòng họp tầng 2", "Phạm Thu Hương", "thu huong")
    add_entry(editor, monday + timedelta(days=1), "14:00", "16:00", SECOND, "Sở Nội vụ", "Bùi Đức Thắng", "duc thang")
    editor.reload()  # what was saved, in order, from the server
    expect(editor.locator(f"#day-{monday.isoformat()}")).to_contain_text(FIRST)
    expect(editor.locator(f"#day-{(monday + timedelta(days=1)).isoformat()}")).to_contain_text(SECOND)
    editor.get_by_role("button", name="Gửi duyệt").click()
    expect(editor.locator(".week-state")).to_have_text("Chờ duyệt")

    # 2. the Chánh Văn phòng approves and publishes it
    leader = person(browser, live_server, LEADER)
    leader.goto(url)
    expect(leader.locator(".week-state")).to_have_text("Chờ duyệt")
    expect(leader.locator("body")).to_contain_text(FIRST)
    leader.get_by_role("button", name="Duyệt").click()
    expect(leader.locator(".week-state")).to_have_text("Đã duyệt")
    leader.get_by_role("button", name="Công bố").click()
    expect(leader.locator(".week-state")).to_have_text("Đã công bố")

    # 3. an officer reads the published week and downloads its PDF
    officer = person(browser, live_server, OFFICER)
    officer.goto(url)
    expect(officer.locator(".week-state")).to_have_text("Đã công bố")
    expect(officer.locator("body")).to_contain_text(FIRST)
    expect(officer.locator("body")).to_contain_text(SECOND)
    expect(officer.get_by_role("link", name="+ Thêm lịch", exact=False)).to_have_count(0)
    with officer.expect_download() as info:
        officer.get_by_role("link", name="Tải PDF").click()
    path = info.value.path()
    with open(path, "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
