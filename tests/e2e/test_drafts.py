"""Issue 5 in a real browser: an officer of the Văn phòng drafts a công văn with a real PDF,
chooses the signer and an organisation of the system with the type-ahead pickers and submits it;
the unit head returns it with a comment; the officer reads the comment in the history, uploads
version 2 and submits again; the unit head approves; the format checker ticks the checklist; the
Chánh Văn phòng signs with his password; the clerk numbers and issues it. The Sở Nội vụ's clerk
finds it waiting, with two valid signatures (the signer's and the seal), and the sender sees
"Đã đến" against the Sở Nội vụ. Every person works in their own browser context."""

from __future__ import annotations

import re
import secrets
from io import BytesIO
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from portal.pdf_fonts import SERIF, SERIF_BOLD, register_fonts
from tests.e2e.test_browser import sign_in

pytestmark = pytest.mark.e2e

OFFICER = ("chuyenvien.vp", "ChuyenVien@VP2026!")  # Phạm Thu Hương, Phòng Hành chính - Tổ chức
HEAD = ("truongphong.vp", "TruongPhong@VP2026!")  # Bùi Đức Thắng, head of that unit
CHECKER = ("kiemtra.vp", "KiemTra@VP2026!")  # format checker of the Văn phòng
LEADER = ("lanhdao.vp", "LanhDao@VP2026!")  # Trần Văn Đức, Chánh Văn phòng, the signer
CLERK = ("vanthu.vp", "VanThu@VP2026!")
RECIPIENT_CLERK = ("vanthu.snv", "VanThu@SNV2026!")
SIGNER = "Trần Văn Đức"
RECIPIENT = "Sở Nội vụ"
# unique per run, so the list links below can only be this draft's
SUBJECT = f"Về việc đôn đốc số hóa tài liệu lưu trữ của các sở, ngành năm 2026 (kiểm thử {secrets.token_hex(3)})"
RETURN_COMMENT = "Đề nghị bổ sung thời hạn hoàn thành và đầu mối liên hệ ở Điều 2."
SLOW = 30_000  # signing, sealing and verifying are real cryptography on one gunicorn worker


def build_pdf(revision: int) -> bytes:
    """One A4 page laid out like NĐ 30 Phụ lục I, with a text layer the signing module reads: "Số:",
    the date line, and the signer block (title above, name below) the signature goes between."""
    register_fonts()
    buf = BytesIO()
    c = Canvas(buf, pagesize=A4)
    width, _ = A4
    c.setFont(SERIF_BOLD, 12)
    c.drawCentredString(150, 790, "ỦY BAN NHÂN DÂN TỈNH HÀ NAM")
    c.drawCentredString(150, 775, "VĂN PHÒNG")
    c.drawCentredString(400, 790, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    c.drawCentredString(400, 775, "Độc lập - Tự do - Hạnh phúc")
    c.setFont(SERIF, 13)
    c.drawString(95, 740, "Số: ......")
    c.drawString(300, 740, "Hà Nam, ngày ...... tháng ...... năm 2026")
    c.setFont(SERIF, 12)
    c.drawCentredString(150, 715, "V/v đôn đốc số hóa tài liệu lưu trữ")
    c.setFont(SERIF, 13)
    c.drawCentredString(width / 2, 670, "Kính gửi: Sở Nội vụ")
    body = ["Thực hiện kế hoạch chuyển đổi số năm 2026 của Ủy ban nhân dân tỉnh,",
            "Văn phòng đề nghị Sở Nội vụ đôn đốc các sở, ngành số hóa tài liệu lưu trữ."]
    if revision >= 2:
        body += ["Thời hạn hoàn thành: trước ngày 30 tháng 9 năm 2026.",
                 "Đầu mối liên hệ: Phòng Hành chính - Tổ chức, Văn phòng."]
    for i, line in enumerate(body):
        c.drawString(85, 630 - i * 20, line)
    c.setFont(SERIF_BOLD, 13)
    c.drawCentredString(420, 480, "CHÁNH VĂN PHÒNG")
    c.drawCentredString(420, 370, SIGNER)
    c.setFont(SERIF, 10)
    c.drawString(85, 480, "Nơi nhận:")
    c.drawString(85, 466, "- Như trên;")
    c.drawString(85, 452, "- Lưu: VT, HCTC.")
    c.showPage()
    c.save()
    return buf.getvalue()


def person(browser: Browser, base: str, who: tuple[str, str]) -> Page:
    context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    page = context.new_page()
    page.goto(f"{base}/auth/login")
    sign_in(page, *who)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Việc của tôi")
    return page


def open_from_queue(page: Page, base: str, queue: str) -> None:
    page.goto(f"{base}/du-thao/?ds={queue}")
    page.get_by_role("link", name=SUBJECT).click()
    expect(page.get_by_role("heading", name="Quá trình xử lý")).to_be_visible()



def fill_new_draft(form: Locator, pdf: Path, subject: str) -> None:
    """The new-draft form as the officer fills it: the PDF, Công văn, the subject, the signer found by the
    type-ahead and his title, and the recipient organisation searched for (the caller picks it)."""
    form.get_by_label("Tệp dự thảo", exact=True).set_input_files(str(pdf))
    form.get_by_label("Loại văn bản").select_option(label="Công văn")
    form.get_by_label("Trích yếu nội dung").fill(subject)
    form.get_by_label("Tìm lãnh đạo theo họ tên").fill("Đức")
    form.get_by_role("radio", name=SIGNER).check()
    form.get_by_label("Chức vụ người ký").fill("Chánh Văn phòng")
    form.get_by_label("Cơ quan trong hệ thống").fill("nội vụ")

def test_draft_from_drafting_to_delivery(browser: Browser, live_server: str, tmp_path: Path) -> None:
    first = tmp_path / "cong-van-so-hoa-v1.pdf"
    first.write_bytes(build_pdf(1))
    second = tmp_path / "cong-van-so-hoa-v2.pdf"
    second.write_bytes(build_pdf(2))

    # 1. the officer drafts it: type, subject, signer and recipient from the type-aheads, the PDF
    officer = person(browser, live_server, OFFICER)
    officer.goto(f"{live_server}/du-thao/moi")
    form = officer.locator("#new-draft")
    fill_new_draft(form, first, SUBJECT)
    # "Thêm<span class=visually-hidden>:</span> Sở Nội vụ": the name ends with the organisation's
    form.locator("#org-results").get_by_role("button", name=re.compile(f"{RECIPIENT}$")).click()
    expect(form.locator("table.recipients").get_by_role("checkbox", name=RECIPIENT, exact=True)).to_be_checked()
    form.get_by_role("button", name="Lưu dự thảo").click()
    expect(officer.locator("h1")).to_contain_text("Đang soạn thảo")
    draft_url = officer.url
    assert re.search(r"/du-thao/\d+$", draft_url), draft_url
    expect(officer.locator("body")).to_contain_text(SIGNER)
    officer.locator("#step-submit").get_by_role("button", name="Trình duyệt").click()
    expect(officer.locator("h1")).to_contain_text("Chờ lãnh đạo đơn vị duyệt")

    # 2. the unit head returns it with a comment
    head = person(browser, live_server, HEAD)
    open_from_queue(head, live_server, "cho-duyet")
    # one main step open (Duyệt); "Trả lại" waits closed in the menu, and opening it closes the main one
    expect(head.locator("details[data-primary]")).to_have_attribute("data-primary", "approve")
    expect(head.locator("#step-approve")).to_be_visible()
    send_back = head.locator("#step-send_back")
    expect(send_back).to_be_hidden()
    head.locator("#action-send_back > summary").click()
    expect(send_back).to_be_visible()
    expect(head.locator("#step-approve")).to_be_hidden()
    # sent empty: the form comes back in place with the focus on what to fix
    send_back.get_by_role("button", name="Trả lại người soạn thảo").click()
    expect(send_back.locator(".error-summary")).to_be_focused()
    send_back.get_by_label("Ý kiến trả lại").fill(RETURN_COMMENT)
    send_back.get_by_role("button", name="Trả lại người soạn thảo").click()
    expect(head.locator("body")).to_contain_text("Đã trả lại dự thảo cho người soạn thảo.")

    # 3. the officer reads the comment in the history, uploads version 2 and submits again
    officer.goto(draft_url)
    expect(officer.locator("h1")).to_contain_text("Đang soạn thảo")
    history = officer.locator("#history")
    expect(history.get_by_role("listitem").filter(has_text="Trả lại")).to_contain_text(RETURN_COMMENT)
    officer.locator("#action-version > summary").click()
    version = officer.locator("#step-version")
    version.get_by_label("Tệp dự thảo mới").set_input_files(str(second))
    version.get_by_label("Nội dung thay đổi").fill("Bổ sung thời hạn và đầu mối theo ý kiến trưởng phòng.")
    version.get_by_role("button", name="Lưu phiên bản mới").click()
    expect(officer.locator("table.versions tr.current")).to_contain_text(second.name)
    expect(officer.locator("table.versions tbody tr")).to_have_count(2)
    officer.locator("#step-submit").get_by_role("button", name="Trình duyệt").click()
    expect(officer.locator("h1")).to_contain_text("Chờ lãnh đạo đơn vị duyệt")

    # 4. the unit head approves
    open_from_queue(head, live_server, "cho-duyet")
    head.locator("#step-approve").get_by_role("button", name="Duyệt", exact=True).click()
    expect(head.locator("body")).to_contain_text("Đã duyệt dự thảo.")

    # 5. the format checker ticks every item and confirms
    checker = person(browser, live_server, CHECKER)
    open_from_queue(checker, live_server, "cho-the-thuc")
    check = checker.locator("#step-format_ok")
    boxes = check.get_by_role("checkbox")
    expect(boxes).to_have_count(8)
    for i in range(boxes.count()):
        boxes.nth(i).check()
    check.get_by_role("button", name="Đạt thể thức").click()
    expect(checker.locator("body")).to_contain_text("Đã xác nhận đạt thể thức")

    # 6. the leader signs with his password
    leader = person(browser, live_server, LEADER)
    open_from_queue(leader, live_server, "cho-ky")
    sign = leader.locator("#step-sign")
    sign.get_by_label("Nhập lại mật khẩu để ký").fill(LEADER[1])
    sign.get_by_role("button", name="Ký số", exact=True).click()
    expect(leader.locator("body")).to_contain_text("Đã ký số văn bản", timeout=SLOW)
    expect(leader.locator("h1")).to_contain_text("Đã ký, chờ phát hành")

    # 7. the clerk numbers and issues it; the page shows the số, ký hiệu and the recipient's status
    clerk = person(browser, live_server, CLERK)
    open_from_queue(clerk, live_server, "cho-phat-hanh")
    clerk.locator("#step-issue").get_by_role("button", name="Cấp số và phát hành").click()
    expect(clerk.locator("h1")).to_contain_text("Đã phát hành", timeout=SLOW)
    heading = clerk.locator("h1").inner_text()
    code = re.search(r"\d+/\S+", heading)
    assert code, heading
    issued = clerk.get_by_role("region", name="Văn bản đã phát hành")
    expect(issued).to_contain_text(code.group(0))
    status_row = issued.locator("table.recipient-status tbody tr").filter(has_text=RECIPIENT)
    expect(status_row).to_contain_text("Đã đến")

    # 8. the Sở Nội vụ's clerk finds it waiting, with two valid signatures
    receiver = person(browser, live_server, RECIPIENT_CLERK)
    receiver.goto(f"{live_server}/van-ban-den/?ds=cho-tiep-nhan")
    receiver.get_by_role("link", name=SUBJECT).click()
    expect(receiver.locator("h1")).to_contain_text(code.group(0))
    signatures = receiver.locator("#signatures")
    expect(signatures.get_by_role("heading", name="Kiểm tra chữ ký số")).to_be_visible()
    expect(signatures.locator("dl.signature-report")).to_have_count(2)
    expect(signatures).to_contain_text("Hợp lệ")
    expect(signatures.locator("dl.signature-report").first).to_contain_text(SIGNER)
    expect(signatures.locator(".verdict")).to_have_text("Hợp lệ")
    expect(signatures).not_to_contain_text("Không hợp lệ")

    # 9. back at the Văn phòng, the draft page still shows it arrived at the Sở Nội vụ
    clerk.goto(draft_url)
    expect(clerk.locator("table.recipient-status tbody tr").filter(has_text=RECIPIENT)).to_contain_text("Đã đến")
    for page in (officer, head, checker, leader, clerk, receiver):
        page.context.close()
