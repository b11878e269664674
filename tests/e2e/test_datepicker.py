"""The one date picker in a real browser (issue 18 item 5): on the incoming list's "Đến từ ngày" filter a
clerk opens the month grid, goes back a month, picks a day with the mouse, then another with the keyboard;
the field shows dd/mm/yyyy, the filter (sent on change) puts it in the address, and on a phone the grid
stays on screen with no serious or critical axe violation while open."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page, expect

from portal.timeutil import local_today
from tests.e2e.test_browser import sign_in
from tests.e2e.test_layout import run_axe

pytestmark = pytest.mark.e2e

CLERK = ("vanthu.vp", "VanThu@VP2026!")
WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")


def clerk_on_the_list(browser: Browser, base: str, size: dict[str, int], *, for_axe: bool = False) -> Page:
    # the first walk keeps the portal's CSP (the grid is placed through the CSSOM, which it allows); axe is
    # injected as a page script, which the CSP rightly refuses, so its walk bypasses it
    context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", viewport=size, bypass_csp=for_axe)
    page = context.new_page()
    page.goto(f"{base}/auth/login")
    sign_in(page, *CLERK)
    expect(page).to_have_url(f"{base}/")
    page.goto(f"{base}/van-ban-den/")
    return page


def day_name(day: date) -> str:
    return f"{WEEKDAYS[day.weekday()]}, ngày {day.day} tháng {day.month} năm {day.year}"


def test_a_day_is_picked_from_the_month_grid(browser: Browser, live_server: str) -> None:
    page = clerk_on_the_list(browser, live_server, {"width": 1366, "height": 768})
    field = page.get_by_label("Đến từ ngày", exact=True)
    expect(field).to_have_attribute("placeholder", "dd/mm/yyyy")
    toggle = page.locator(".date-input", has=field).get_by_role("button", name="Mở lịch chọn ngày")
    expect(toggle).to_be_visible()  # the script shows it; without it the field alone takes a typed date

    # the mouse: open, one month back, the 15th
    toggle.click()
    grid = page.get_by_role("dialog", name="Chọn ngày: Đến từ ngày")
    expect(grid).to_be_visible()
    today = local_today()
    expect(grid).to_contain_text(f"Tháng {today.month} năm {today.year}")
    expect(grid.get_by_role("button", name=f"{day_name(today)} (hôm nay)")).to_be_visible()
    grid.get_by_role("button", name="Tháng trước").click()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=15)
    expect(grid).to_contain_text(f"Tháng {last_month.month} năm {last_month.year}")
    with page.expect_response(re.compile(r"/van-ban-den/\?.*tu=")):
        grid.get_by_role("button", name=day_name(last_month)).click()
    expect(grid).to_have_count(0)
    expect(field).to_have_value(f"{last_month:%d/%m/%Y}")
    expect(field).to_be_focused()
    expect(page).to_have_url(re.compile(f"tu={re.escape(quote(f'{last_month:%d/%m/%Y}', safe=''))}"))

    # the keyboard: the grid opens on the chosen day; a week on, a day back, Enter
    toggle.press("Enter")
    expect(grid).to_be_visible()
    chosen = grid.get_by_role("button", name=day_name(last_month))
    expect(chosen).to_be_focused()
    expect(chosen).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowLeft")
    expected = last_month + timedelta(days=6)
    expect(grid.get_by_role("button", name=day_name(expected))).to_be_focused()
    page.keyboard.press("Enter")
    expect(field).to_have_value(f"{expected:%d/%m/%Y}")

    # Escape closes without choosing, back on the button
    toggle.click()
    expect(grid).to_be_visible()
    page.keyboard.press("Escape")
    expect(grid).to_have_count(0)
    expect(toggle).to_be_focused()
    expect(field).to_have_value(f"{expected:%d/%m/%Y}")
    page.context.close()


def test_on_a_phone_the_grid_stays_on_screen_and_passes_axe(browser: Browser, live_server: str) -> None:
    page = clerk_on_the_list(browser, live_server, {"width": 390, "height": 844}, for_axe=True)
    field = page.get_by_label("Đến ngày", exact=True)
    page.locator(".date-input", has=field).get_by_role("button", name="Mở lịch chọn ngày").click()
    grid = page.get_by_role("dialog", name="Chọn ngày: Đến ngày")
    expect(grid).to_be_visible()
    box = grid.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert run_axe(page) == []
    grid.get_by_role("button", name="Hôm nay", exact=True).click()
    expect(field).to_have_value(f"{local_today():%d/%m/%Y}")
    page.context.close()
