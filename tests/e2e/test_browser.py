"""The portal in a real browser: a demo clerk signs in with the keyboard, sees the Vietnamese
dashboard, and pages change through hx-boost (htmx swaps the body; the window, and anything set
on it, survives). Along the way: the people search swaps only the table rows, the layout fits a
phone and a 1366×768 screen, and nothing logs a console error or breaks the CSP (htmx runs
without eval or inline scripts)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Locator, Page, Request, Response, expect

pytestmark = pytest.mark.e2e

CLERK = ("vanthu.vp", "VanThu@VP2026!")
CLERK_ORG = "Văn phòng Ủy ban nhân dân tỉnh"
ADMIN = ("quantri.tinh", "QuanTri@Tinh2026!")
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
SCREENSHOT = "/tmp/e2e-dashboard.png"  # noqa: S108 (a fixed path people can open after the run)
TITLE_SUFFIX = " · QLVB&ĐH"

# Reports every CSP violation of every document to Python, whatever page is loaded at the time.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber} on ${e.target.outerHTML?.slice(0, 120)} in ${location.pathname}`;
  window.__reportCsp(`${e.effectiveDirective} blocked ${e.blockedURI || "(inline)"} at ${where}`);
});
"""


@dataclass
class Watch:
    """What the browser said while we used it: console errors, uncaught exceptions, CSP
    violations, and how many full page loads happened (hx-boost should add none)."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    full_loads: int = 0

    def attach(self, context: BrowserContext) -> Page:
        context.expose_binding("__reportCsp", lambda _source, text: self.csp_violations.append(text))
        context.add_init_script(CSP_LISTENER)
        page = context.new_page()
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        page.on("load", self._loaded)
        return page

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} ({message.location.get('url')})")

    def _loaded(self, _page: Page) -> None:
        self.full_loads += 1

    def assert_clean(self) -> None:
        assert self.console_errors == [], "\n".join(self.console_errors + self.csp_violations)
        assert self.page_errors == []
        assert self.csp_violations == []


def header(request: Request, name: str) -> str | None:
    return request.headers.get(name.lower())


def is_boosted(response: Response) -> bool:
    return header(response.request, "HX-Boosted") == "true"


def is_history_restore(response: Response) -> bool:
    return header(response.request, "HX-History-Restore-Request") == "true"


def htmx_swap(page: Page, watch: Watch, action: Callable[[], None], request_kind: Callable[[Response], bool],
              swapped: str = "main") -> Response:
    """Do `action` and prove htmx answered it in place: the request was htmx's, the old `swapped`
    element was replaced, and no page load happened (the marker on `window` survives)."""
    # a click before htmx has boosted the links of a freshly loaded page is a plain navigation
    # (seen on a loaded machine right after signing in): wait for the page and htmx first
    page.wait_for_load_state("load")
    page.wait_for_function("() => !!window.htmx")
    page.evaluate("(sel) => { window.__marker = 42; document.querySelector(sel).dataset.stale = 'yes'; }", swapped)
    loads = watch.full_loads
    with page.expect_response(request_kind) as info:
        action()
    response = info.value
    assert response.status == 200, response.url
    expect(page.locator("[data-stale]")).to_have_count(0)
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")
    assert page.evaluate("window.__marker") == 42, "the page was reloaded instead of swapped"
    assert watch.full_loads == loads
    return response


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def main_nav(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Điều hướng chính")


def sign_in(page: Page, username: str, password: str) -> None:
    """Fill the two labelled fields and press Enter, as a keyboard user would."""
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_label("Mật khẩu").press("Enter")


def assert_fits(page: Page) -> None:
    """At a phone's and at a 1366×768 width: header and menu are on screen, and the page as a
    whole never scrolls sideways (wide tables scroll inside their own box)."""
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        expect(page.locator("header.topbar")).to_be_in_viewport()
        expect(main_nav(page)).to_be_in_viewport()
        expect(heading(page)).to_be_visible()
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1] + 1, f"{page.url} cuộn ngang ở {size['width']}px: {widths}"


def fold(text: str) -> str:
    """Vietnamese without diacritics, lower case: "Nguyễn Đức" -> "nguyen duc"."""
    text = text.replace("Đ", "D").replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).lower()


def test_clerk_signs_in_and_pages_change_through_hx_boost(browser: Browser, live_server: str) -> None:
    context = browser.new_context(base_url=live_server, viewport=DESKTOP, locale="vi-VN",
                                  timezone_id="Asia/Ho_Chi_Minh")
    context.set_default_timeout(10_000)  # a broken page fails in seconds, not half a minute
    watch = Watch()
    try:
        page = watch.attach(context)

        # The sign-in page is Vietnamese, served under a CSP without eval or inline scripts.
        response = page.goto("/auth/login")
        assert response is not None
        assert response.status == 200
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "unsafe-eval" not in csp
        expect(page.locator("html")).to_have_attribute("lang", "vi")
        expect(page).to_have_title("Đăng nhập" + TITLE_SUFFIX)
        expect(heading(page)).to_have_text("Đăng nhập")
        expect(page.get_by_label("Tên đăng nhập")).to_be_focused()  # autofocus: type straight away
        page.keyboard.press("Tab")
        expect(page.get_by_label("Mật khẩu")).to_be_focused()
        expect(page.get_by_label("Mật khẩu")).to_have_attribute("type", "password")

        # The clerk signs in and lands on the dashboard.
        sign_in(page, *CLERK)
        expect(page).to_have_url(f"{live_server}/")
        expect(heading(page)).to_contain_text("Việc của tôi")
        expect(page.locator("main")).to_contain_text(CLERK_ORG)
        expect(page.locator("header.topbar")).to_contain_text(CLERK_ORG)
        # her work first: the demo's arrivals waiting to be received
        expect(page.locator("#inbox-rows .inbox-row").first).to_contain_text("Tiếp nhận văn bản đến")
        expect(page.locator("#whoami .role")).to_contain_text(["Văn thư"])
        # no admin menu for a clerk; the incoming documents waiting for her beside their menu item
        expect(main_nav(page).get_by_role("link").first).to_have_text("Trang chủ")
        expect(main_nav(page).get_by_role("link", name=re.compile(r"^Văn bản đến \d+$"))).to_be_visible()
        expect(main_nav(page).get_by_role("link", name="Quản trị")).to_have_count(0)
        # caret="initial": hiding the caret leaves style="" on the focused input, which htmx's
        # settle then copies onto the swapped-in twin, a (Playwright-made) style-src violation
        page.screenshot(path=SCREENSHOT, full_page=True, caret="initial")
        assert_fits(page)

        # Following a menu link swaps the body in place.
        htmx_swap(page, watch, lambda: main_nav(page).get_by_role("link", name="Trang chủ").click(), is_boosted)
        expect(heading(page)).to_contain_text("Việc của tôi")

        # Signing out is a boosted form post answered by HX-Redirect: a real page load, to the login page.
        page.get_by_role("button", name="Đăng xuất", exact=True).click()
        expect(page).to_have_url(f"{live_server}/auth/login")
        expect(heading(page)).to_have_text("Đăng nhập")

        # The provincial admin has more to move between.
        sign_in(page, *ADMIN)
        expect(page).to_have_url(f"{live_server}/")
        expect(heading(page)).to_contain_text("Việc của tôi")
        expect(main_nav(page).get_by_role("link", name="Quản trị")).to_be_visible()
        expect(main_nav(page).get_by_role("link", name=re.compile("^Văn bản đến"))).to_have_count(0)

        htmx_swap(page, watch, lambda: main_nav(page).get_by_role("link", name="Quản trị").click(), is_boosted)
        expect(page).to_have_url(f"{live_server}/quan-tri/co-quan")
        expect(heading(page)).to_have_text("Cơ quan, đơn vị")
        expect(page).to_have_title("Cơ quan, đơn vị" + TITLE_SUFFIX)
        expect(main_nav(page).get_by_role("link", name="Quản trị")).to_have_attribute("aria-current", "page")

        htmx_swap(page, watch, lambda: page.locator("main").get_by_role("link", name="Người dùng").click(),
                  is_boosted)
        expect(page).to_have_url(f"{live_server}/quan-tri/nguoi-dung")
        expect(heading(page)).to_have_text("Người dùng")
        expect(page).to_have_title("Người dùng" + TITLE_SUFFIX)

        # Back restores the previous page from the server, still without a page load.
        htmx_swap(page, watch, page.go_back, is_history_restore)
        expect(page).to_have_url(f"{live_server}/quan-tri/co-quan")
        expect(heading(page)).to_have_text("Cơ quan, đơn vị")

        # The people search swaps only the rows; typing without diacritics finds "Nguyễn".
        htmx_swap(page, watch, lambda: page.locator("main").get_by_role("link", name="Người dùng").click(),
                  is_boosted)
        rows = page.locator("#people-rows tr")
        everyone = rows.all_inner_texts()
        assert any("nguyen" not in fold(row) for row in everyone), "demo data should have people not called Nguyễn"
        search = page.get_by_role("searchbox", name=re.compile("Tìm theo họ tên"))
        search.click()
        response = htmx_swap(page, watch, lambda: search.press_sequentially("nguyen", delay=20),
                             lambda r: "q=nguyen" in r.url and not is_boosted(r), swapped="#people-rows tr")
        assert header(response.request, "HX-Request") == "true"
        assert "<html" not in response.text(), "a search swap must get the rows, not a page"
        expect(page).to_have_url(f"{live_server}/quan-tri/nguoi-dung?q=nguyen")
        found = rows.all_inner_texts()
        assert any("Nguyễn" in row for row in found), found
        assert all("nguyen" in fold(row) for row in found), found
        assert len(found) < len(everyone)
        expect(heading(page)).to_have_count(1)
        expect(heading(page)).to_have_text("Người dùng")
        assert_fits(page)

        watch.assert_clean()

        # The watch can see: an inline script is refused by the CSP, and the refusal reaches us.
        blocked = page.evaluate("""() => new Promise((resolve) => {
          document.addEventListener("securitypolicyviolation", (e) => resolve(e.effectiveDirective), {once: true});
          const script = document.createElement("script");
          script.textContent = "window.__inline = 1";
          document.head.append(script);
        })""")
        assert blocked.startswith("script-src")
        assert page.evaluate("window.__inline") is None
        for _ in range(50):  # the binding call is delivered asynchronously
            if watch.csp_violations:
                break
            page.wait_for_timeout(20)
        assert any("script-src" in v for v in watch.csp_violations), watch.csp_violations
    finally:
        context.close()
