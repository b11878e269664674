"""Issue 4 in a real browser: the clerk of the Văn phòng digitises and registers a paper document
and presents it; the Chánh Văn phòng directs it to a unit with a deadline; the unit head assigns
an officer; the officer finishes it; the history shows each step. Every person works in their
own browser context, with the keyboard where a clerk would."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from portal.timeutil import local_today
from tests.e2e.test_browser import sign_in

pytestmark = pytest.mark.e2e

CLERK = ("vanthu.vp", "VanThu@VP2026!")
LEADER = ("lanhdao.vp", "LanhDao@VP2026!")
HEAD = ("truongphong.vp", "TruongPhong@VP2026!")
OFFICER = ("chuyenvien.vp", "ChuyenVien@VP2026!")
SUBJECT = "Công văn về việc rà soát hồ sơ lưu trữ điện tử năm 2026 (kiểm thử trình duyệt)"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def person(browser: Browser, base: str, who: tuple[str, str]) -> Page:
    context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    page = context.new_page()
    page.goto(f"{base}/auth/login")
    sign_in(page, *who)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Việc của tôi")
    return page


def open_from_queue(page: Page, base: str, queue: str) -> None:
    page.goto(f"{base}/van-ban-den/?ds={queue}")
    page.get_by_role("link", name=SUBJECT).click()
    expect(page.get_by_role("heading", name="Quá trình xử lý")).to_be_visible()


def test_paper_document_from_registration_to_done(browser: Browser, live_server: str, tmp_path: Path) -> None:
    scan = tmp_path / "cong-van-12.pdf"
    scan.write_bytes(PDF)
    issued = (local_today() - timedelta(days=3)).strftime("%d/%m/%Y")
    deadline = local_today() + timedelta(days=7)

    # 1. the clerk digitises and registers it, then presents it to the Chánh Văn phòng
    clerk = person(browser, live_server, CLERK)
    clerk.goto(f"{live_server}/van-ban-den/")
    clerk.get_by_role("link", name="Nhập văn bản giấy").click()
    clerk.get_by_label("Bản quét văn bản (PDF)").set_input_files(str(scan))
    clerk.get_by_label("Tên loại văn bản").fill("Công văn")
    clerk.get_by_label("Số của văn bản").fill("12")
    clerk.get_by_label("Ký hiệu").fill("SNV-VP")
    clerk.get_by_label("Ngày văn bản").fill(issued)
    clerk.get_by_label("Cơ quan ban hành").fill("Sở Nội vụ tỉnh Ninh Bình")
    clerk.get_by_label("Trích yếu").fill(SUBJECT)
    clerk.get_by_role("button", name="Vào sổ").click()
    expect(clerk.locator("h1")).to_contain_text("12/SNV-VP")
    expect(clerk.locator("body")).to_contain_text("Số đến")
    present = clerk.locator("#step-present")
    present.get_by_label("Tìm theo họ tên").fill("Đức")
    present.get_by_label("Trần Văn Đức").check()
    present.get_by_role("button", name="Trình lãnh đạo").click()
    expect(clerk.locator("h1")).to_contain_text("Chờ phân phối")

    # 2. the leader directs it to the Phòng Hành chính - Tổ chức with a deadline
    leader = person(browser, live_server, LEADER)
    open_from_queue(leader, live_server, "cho-phan-phoi")
    direct = leader.locator("#step-direct")
    direct.get_by_label("Ý kiến chỉ đạo").fill("Giao Phòng Hành chính - Tổ chức chủ trì rà soát, báo cáo.")
    search = direct.get_by_label("Tìm phòng, ban hoặc cá nhân")
    search.fill("phong")  # a first search, then a narrower one: each answer lands in the same box
    expect(direct.locator(".lookup-list")).to_contain_text("Phòng Quản trị - Tài vụ")
    search.fill("hanh chinh")
    expect(direct.locator(".lookup-list")).not_to_contain_text("Phòng Quản trị - Tài vụ")
    direct.get_by_role("button", name="Phòng Hành chính - Tổ chức").click()
    direct.get_by_label("Vai trò của Phòng Hành chính - Tổ chức").select_option("chu_tri")
    direct.get_by_label("Hạn xử lý của Phòng Hành chính - Tổ chức", exact=True).fill(deadline.isoformat())
    direct.get_by_role("button", name="Phân phối, chỉ đạo").click()
    expect(leader.locator("h1")).to_contain_text("Đã phân công")
    expect(leader.locator("body")).to_contain_text(deadline.strftime("%d/%m/%Y"))

    # 3. the unit head gives it to an officer of the unit
    head = person(browser, live_server, HEAD)
    open_from_queue(head, live_server, "cho-xu-ly")
    unit = head.locator("#step-unit_direct")
    unit.get_by_label("Tìm cán bộ trong đơn vị").fill("Hương")
    unit.get_by_role("button", name="Phạm Thu Hương").click()
    unit.get_by_label("Vai trò của Phạm Thu Hương").select_option("chu_tri")
    unit.get_by_role("button", name="Giao xử lý trong đơn vị").click()
    expect(head.locator("body")).to_contain_text("Phạm Thu Hương")

    # 4. the officer finishes it
    officer = person(browser, live_server, OFFICER)
    open_from_queue(officer, live_server, "cho-xu-ly")
    finish = officer.locator("#step-finish")
    finish.get_by_label("Kết quả xử lý").fill("Đã rà soát xong, báo cáo bằng Công văn số 45/VP-HCTC.")
    finish.get_by_role("button", name="Hoàn thành").click()
    expect(officer.locator("h1")).to_contain_text("Hoàn thành")

    # 5. the history shows every step, in order, with the directive
    clerk.reload()
    history = clerk.locator("#history")
    for text in ("Nhập văn bản giấy và vào sổ", "Trình lãnh đạo", "Phân phối, chỉ đạo",
                 "Giao Phòng Hành chính - Tổ chức chủ trì rà soát", "Giao xử lý trong đơn vị", "Hoàn thành",
                 "Đã rà soát xong"):
        expect(history).to_contain_text(text)
    order = history.inner_text()
    positions = [order.index(t) for t in ("Nhập văn bản giấy và vào sổ", "Trình lãnh đạo", "Phân phối, chỉ đạo",
                                          "Giao xử lý trong đơn vị", "Đã rà soát xong")]
    assert positions == sorted(positions)
    for page in (clerk, leader, head, officer):
        page.context.close()
