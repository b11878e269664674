"""Issue 18's walk: the Chánh Văn phòng opens the portal and finds, in "Việc của tôi", a draft waiting for his
signature and an incoming document waiting for his directive; the bell tells of both. He opens each, sees the
document's pages beside the form, acts, and both leave his list. The drafter is told the draft was signed, in
the portal and by an e-mail read back from the SMTP server.

The two pieces of work are brought to him by the services (a script run beside the server, as another
person's earlier steps would); everything the leader and the drafter do is in the browser.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ROOT, portal_command
from tests.e2e.test_browser import sign_in
from tests.smtp_server import MailServer

pytestmark = pytest.mark.e2e

LEADER = ("lanhdao.vp", "LanhDao@VP2026!")  # Trần Văn Đức, Chánh Văn phòng
DRAFTER = ("chuyenvien.vp", "ChuyenVien@VP2026!")
DRAFT_SUBJECT = "Về việc tổng kết công tác văn thư, lưu trữ năm 2026"
INCOMING_SUBJECT = "Về việc chuẩn bị phương án phòng, chống bão số 9"
SLOW = 30_000  # signing is real cryptography on one gunicorn worker

SETUP = r"""
import json, sys
from datetime import timedelta
from sqlalchemy import select
from wsgi import app
from portal.db import session
from portal.auth.models import User
from portal.documents.models import DocumentType
from portal.drafts import services as drafts
from portal.incoming import services as incoming
from portal.timeutil import local_today
from tests.e2e.test_drafts import build_pdf as nd30_pdf

with app.app_context():
    def who(name):
        user = session.execute(select(User).where(User.username == name)).scalar_one()
        user.current_position = user.positions[0]
        return user
    officer, head, checker, leader, clerk = (who(n) for n in ("chuyenvien.vp", "truongphong.vp", "kiemtra.vp",
                                                              "lanhdao.vp", "vanthu.vp"))
    kind = session.execute(select(DocumentType).where(DocumentType.name == "Công văn")).scalars().first()
    draft = drafts.create(officer, drafts.DraftData(subject=sys.argv[1], document_type_id=kind.id,
                          signer_id=leader.id, signer_title="Chánh Văn phòng"),
                          drafts.Upload("du-thao.pdf", nd30_pdf(1)))
    drafts.submit(officer, draft)
    drafts.approve(head, draft)
    drafts.format_ok(checker, draft, list(drafts.FORMAT_CHECKLIST))
    data = incoming.Metadata(type_name="Công văn", code_number="215", code_notation="SNNMT-TL",
                             issued_date=local_today() - timedelta(days=1), organ_name="Sở Nông nghiệp và Môi trường",
                             subject=sys.argv[2])
    doc = incoming.receive(clerk.organisation, data, [incoming.Upload("cv.pdf", nd30_pdf(2), incoming.FileRole.MAIN)])
    incoming.accept(clerk, doc)
    incoming.register(clerk, doc, data)
    incoming.present(clerk, doc, leader.id)
    session.commit()
    print(json.dumps({"draft": draft.id, "doc": doc.id}))
"""


def _bring_work(env: dict[str, str]) -> dict[str, int]:
    result = subprocess.run([sys.executable, "-c", SETUP, DRAFT_SUBJECT, INCOMING_SUBJECT], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _person(browser: Browser, base: str, who: tuple[str, str]) -> Page:
    page = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh").new_page()
    page.goto(f"{base}/auth/login")
    sign_in(page, *who)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Việc của tôi")
    return page


def _unread(page: Page) -> int:
    found = re.search(r"(\d+) chưa đọc", page.locator("#bell").get_attribute("aria-label") or "")
    return int(found.group(1)) if found else 0


def _pages_beside_the_form(page: Page, form: str) -> None:
    """The first page image has really rendered (its pixels arrived), on screen beside the step's form."""
    image = page.locator(".doc-viewer img").first
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 100", arg=image.element_handle())
    expect(page.locator(form)).to_be_visible()
    viewer, action = image.bounding_box(), page.locator(form).bounding_box()
    assert viewer is not None
    assert action is not None
    assert viewer["x"] + viewer["width"] <= action["x"] + 1 or action["x"] + action["width"] <= viewer["x"] + 1, (
        viewer, action)  # side by side at 1366 wide, not stacked


def test_a_leader_clears_his_inbox_and_the_drafter_hears_of_it(browser: Browser, live_server: str,
                                                               live_env: dict[str, str],
                                                               mail_server: MailServer) -> None:
    leader = _person(browser, live_server, LEADER)
    leader.set_viewport_size({"width": 1366, "height": 768})
    unread = _unread(leader)  # other tests share the server: what was there before this walk
    _bring_work(live_env)
    leader.reload()

    # 1. both are in his list, with what he must do; the bell counts them
    inbox = leader.locator("#inbox-rows")
    draft_row = inbox.locator(".inbox-row").filter(has_text=DRAFT_SUBJECT)
    doc_row = inbox.locator(".inbox-row").filter(has_text=INCOMING_SUBJECT)
    expect(draft_row).to_contain_text("Ký văn bản")
    expect(doc_row).to_contain_text("Cho ý kiến chỉ đạo, phân công")
    waiting = int(leader.locator("#inbox-waiting").inner_text())
    bell = leader.locator("#bell")
    expect(bell).to_have_attribute("aria-label", f"Thông báo: {unread + 2} chưa đọc")
    bell.click()
    notices = leader.locator("main")
    expect(notices).to_contain_text(DRAFT_SUBJECT)
    expect(notices).to_contain_text(INCOMING_SUBJECT)

    # 2. the incoming document: its pages beside the directive form; he directs it to a unit
    leader.goto(live_server + "/")
    leader.locator("#inbox-rows").get_by_role("link", name=INCOMING_SUBJECT).click()
    _pages_beside_the_form(leader, "#step-direct")
    direct = leader.locator("#step-direct")
    direct.get_by_label("Ý kiến chỉ đạo").fill("Giao Phòng Hành chính - Tổ chức chủ trì, báo cáo trước thứ Sáu.")
    direct.get_by_label("Tìm phòng, ban hoặc cá nhân").fill("Hành chính")
    direct.get_by_role("button", name="Phòng Hành chính - Tổ chức").click()
    direct.get_by_label("Vai trò của Phòng Hành chính - Tổ chức").select_option("chu_tri")
    direct.get_by_role("button", name="Phân phối, chỉ đạo").click()
    expect(leader.locator("body")).to_contain_text("Đã phân phối")

    # 3. the draft: the frozen PDF's pages beside the signing form; he signs with his password
    leader.goto(live_server + "/")
    expect(leader.locator("#inbox-rows")).not_to_contain_text(INCOMING_SUBJECT)
    leader.locator("#inbox-rows").get_by_role("link", name=DRAFT_SUBJECT).click()
    _pages_beside_the_form(leader, "#step-sign")
    sign = leader.locator("#step-sign")
    sign.get_by_label("Nhập lại mật khẩu để ký").fill(LEADER[1])
    sign.get_by_role("button", name="Ký số", exact=True).click()
    expect(leader.locator("body")).to_contain_text("Đã ký số văn bản", timeout=SLOW)

    # 4. both have left his list (what stays is the demo's arrivals, which a leader may accept too)
    leader.goto(live_server + "/")
    expect(leader.locator("#inbox-rows")).not_to_contain_text(DRAFT_SUBJECT)
    expect(leader.locator("#inbox-rows")).not_to_contain_text(INCOMING_SUBJECT)
    expect(leader.locator("#inbox-waiting")).to_have_text(str(waiting - 2))

    # 5. the drafter is told: the bell and the notice page, and an e-mail (the outbox drained as the
    #    job consumer does every minute), with no attachment
    drafter = _person(browser, live_server, DRAFTER)
    expect(drafter.locator("#bell .bell-count")).to_be_visible()
    drafter.locator("#bell").click()
    expect(drafter.locator("main")).to_contain_text(DRAFT_SUBJECT)
    expect(drafter.locator("main")).to_contain_text("Văn bản đã được ký số")
    portal_command(live_env, "outbox-drain")
    mails = [mail for _sender, rcpts, mail, tls in mail_server.received
             if "chuyenvien.vp@ninhbinh.example" in rcpts and DRAFT_SUBJECT in mail.get_body().get_content()]
    assert mails, [(r, m["Subject"]) for _s, r, m, _t in mail_server.received]
    assert all(not list(mail.iter_attachments()) for mail in mails)
