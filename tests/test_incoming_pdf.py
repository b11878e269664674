"""Phiếu giải quyết văn bản đến as a PDF (SPEC §5.7): the three levels of opinions, Vietnamese
text that survives with every diacritic, embedded fonts, user text printed literally (never
read as ReportLab markup), visibility and audit. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, timedelta
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal.audit import AuditEntry
from portal.documents import numbering
from portal.incoming import pdf, services
from portal.incoming.models import AssignmentRole
from portal.timeutil import local_today
from tests.incoming_fixtures import PDF, metadata

Spec = services.AssigneeSpec
SUBJECT = "Quyết định về công tác văn thư, lưu trữ năm 2026"
DIRECTIVE = "Giao Phòng Nghiệp vụ Văn hóa chủ trì, phối hợp các đơn vị liên quan tham mưu, báo cáo Giám đốc."
UNIT_DIRECTIVE = "Đồng chí nghiên cứu, dự thảo văn bản hướng dẫn; xong trước thời hạn."
PROGRESS = "Đã dự thảo hướng dẫn, trình lãnh đạo phòng cho ý kiến."


def walk(office, subject: str = SUBJECT):
    """Registered, presented, directed by the agency leader, directed within the unit, and the
    lead officer's first progress note: every section of the phiếu has something in it."""
    org, unit, p = office
    doc = services.receive(org, metadata(subject=subject), [services.Upload("vb.pdf", PDF, services.FileRole.MAIN)])
    services.register(p["clerk"], doc, metadata(subject=subject))
    services.present(p["clerk"], doc, p["leader"].id)
    today = local_today()
    services.direct(p["leader"], doc, DIRECTIVE, [
        Spec(AssignmentRole.LEAD, unit_id=unit.id, deadline=today + timedelta(days=10)),
        Spec(AssignmentRole.COOPERATE, user_id=p["other"].id, deadline=today + timedelta(days=7)),
    ])
    services.direct_within_unit(p["head"], doc, UNIT_DIRECTIVE, [
        Spec(AssignmentRole.LEAD, user_id=p["officer"].id, deadline=today + timedelta(days=5))])
    services.record_progress(p["officer"], doc, PROGRESS)
    return doc


def text_of(data: bytes) -> str:
    """All pages' text with runs of whitespace made single spaces, so wrapped lines still match."""
    reader = PdfReader(BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def fetch(client, doc):
    return client.get(f"/van-ban-den/{doc.id}/phieu.pdf")


def test_clerk_prints_the_slip_with_every_level(db, login, office):
    _org, unit, p = office
    doc = walk(office)
    db.commit()  # the request ends in a commit or, on 404, a rollback: keep the setup out of reach

    resp = fetch(login(p["clerk"]), doc)

    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    assert resp.mimetype == "application/pdf"
    number = numbering.display(doc.arrival_number)
    assert resp.headers["Content-Disposition"] == f"inline; filename=phieu-giai-quyet-{number}.pdf"
    assert "no-store" in resp.headers["Cache-Control"]
    text = text_of(resp.data)
    today = local_today()
    for expected in [
        "SỞ VĂN HÓA THỬ", "PHIẾU GIẢI QUYẾT VĂN BẢN ĐẾN",
        "Tên loại văn bản: Quyết định", "Số và ký hiệu: 15/QĐ-UBND",
        f"Ngày, tháng, năm: {today - timedelta(days=2):%d/%m/%Y}",
        "Cơ quan ban hành: Ủy ban nhân dân tỉnh Hà Nam", f"Trích yếu: {SUBJECT}", f"Số đến: {number}",
        "1. Ý kiến của lãnh đạo cơ quan, tổ chức:", DIRECTIVE,
        f"Giao đơn vị, cá nhân chủ trì: {unit.name}",
        f"Giao đơn vị, cá nhân phối hợp: {p['other'].full_name}",
        f"{unit.name}: {today + timedelta(days=10):%d/%m/%Y}",
        f"{p['other'].full_name}: {today + timedelta(days=7):%d/%m/%Y}",
        f"Ngày cho ý kiến: {today:%d/%m/%Y}", f"Người cho ý kiến: {p['leader'].full_name}",
        "2. Ý kiến của lãnh đạo đơn vị:", f"{unit.name} (chủ trì)", UNIT_DIRECTIVE,
        f"Giao cho cá nhân chủ trì: {p['officer'].full_name}",
        f"{p['officer'].full_name}: {today + timedelta(days=5):%d/%m/%Y}",
        f"Người cho ý kiến: {p['head'].full_name}",
        "3. Ý kiến đề xuất của người giải quyết:",
        f"{today:%d/%m/%Y}, {p['officer'].full_name} (cập nhật tiến độ): {PROGRESS}",
    ]:
        assert expected in text, expected


def test_fonts_are_embedded_dejavu(db, login, office):
    _org, _unit, p = office
    doc = walk(office)
    db.commit()
    reader = PdfReader(BytesIO(fetch(login(p["clerk"]), doc).data))
    fonts = [font.get_object() for page in reader.pages for font in page["/Resources"]["/Font"].values()]
    assert fonts
    for font in fonts:
        assert "DejaVu" in font["/BaseFont"]  # no Helvetica left to the reader's substitutes
        assert "/FontFile2" in font["/FontDescriptor"]  # the TrueType glyphs travel with the file
        assert "/ToUnicode" in font  # so search and copy give back the Vietnamese text


def test_markup_in_user_text_prints_literally(db, login, office):
    _org, _unit, p = office
    subject = 'Báo cáo <font color="red">X</font> và <para> & <b>đậm</b> năm 2026'
    doc = walk(office, subject=subject)
    db.commit()

    resp = fetch(login(p["clerk"]), doc)

    assert resp.status_code == 200
    assert f"Trích yếu: {subject}" in text_of(resp.data)
    content = PdfReader(BytesIO(resp.data)).pages[0].get_contents().get_data()
    assert b"1 0 0 rg" not in content  # nothing turned red


@pytest.mark.parametrize("who", ["outsider", "other"])
def test_who_may_not_see_the_document_gets_404(app, db, login, office, who):
    """The outsider is a clerk of another organisation; the colleague is in the unit but was
    never assigned (R2/R3)."""
    org, unit, p = office
    doc = services.receive(org, metadata(), [services.Upload("vb.pdf", PDF, services.FileRole.MAIN)])
    services.register(p["clerk"], doc, metadata())
    services.present(p["clerk"], doc, p["leader"].id)
    services.direct(p["leader"], doc, "", [Spec(AssignmentRole.LEAD, unit_id=unit.id)])
    db.commit()

    resp = fetch(login(p[who], c=app.test_client()), doc)

    assert resp.status_code == 404
    assert not db.execute(select(AuditEntry).where(AuditEntry.action == "incoming.slip_printed")).first()


def test_anonymous_is_sent_to_sign_in(client, db, office):
    doc = walk(office)
    db.commit()
    resp = fetch(client, doc)
    assert resp.status_code in (302, 303)
    assert "/auth/login" in resp.headers["Location"]


def test_the_print_is_audited(db, login, office):
    _org, _unit, p = office
    doc = walk(office)
    db.commit()

    assert fetch(login(p["officer"]), doc).status_code == 200  # the handler prints it too

    [entry] = db.execute(select(AuditEntry).where(AuditEntry.action == "incoming.slip_printed")).scalars()
    assert (entry.actor_id, entry.object_type, entry.object_id) == (p["officer"].id, "incoming_documents",
                                                                  str(doc.id))
    assert entry.organisation_id == doc.organisation_id


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) không có trên máy này")
def test_page_one_renders(db, login, office, tmp_path):
    _org, _unit, p = office
    doc = walk(office)
    db.commit()
    source = tmp_path / "phieu.pdf"
    source.write_bytes(fetch(login(p["clerk"]), doc).data)

    done = subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(source), str(tmp_path / "p")],
                          capture_output=True, check=False, timeout=60)

    assert done.returncode == 0, done.stderr
    [image] = tmp_path.glob("p*.png")
    assert image.read_bytes().startswith(b"\x89PNG")
    assert image.stat().st_size > 1000


# --- the builder alone -------------------------------------------------------------------------------

def test_blank_slip_has_room_to_write_by_hand():
    data = pdf.SlipData(organisation="Sở Văn Hóa Thử", governing_body="Ủy ban nhân dân tỉnh Thử Nghiệm")
    text = text_of(pdf.build_slip_pdf(data))
    assert "ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM" in text
    for label in ["Trích yếu:", "Giao đơn vị, cá nhân chủ trì:", "Giao cho cá nhân chủ trì:", "Ngày đề xuất:"]:
        assert label in text


def test_builder_is_pure_same_data_same_bytes():
    data = pdf.SlipData(organisation="Sở Văn Hóa Thử", subject=SUBJECT, issued_date=date(2026, 1, 5),
                        agency=pdf.Opinion(author="Trần Thị Lan", given_on=date(2026, 1, 6), text=DIRECTIVE,
                                           lead=[pdf.Assignee("Phòng Nghiệp vụ Văn hóa", date(2026, 1, 20))]),
                        printed_on=date(2026, 1, 7))
    assert pdf.build_slip_pdf(data) == pdf.build_slip_pdf(data)


def test_long_history_flows_onto_more_pages():
    notes = [pdf.Note("Nguyễn Văn Minh", date(2026, 1, 8), "Cập nhật tiến độ", f"Lần {i}: " + PROGRESS * 6)
             for i in range(1, 31)]
    data = pdf.SlipData(organisation="Sở Văn Hóa Thử", notes=notes, printed_on=date(2026, 1, 9))
    reader = PdfReader(BytesIO(pdf.build_slip_pdf(data)))
    assert len(reader.pages) > 1
    assert "Lần 30:" in reader.pages[-1].extract_text()
    assert "Trang 2" in reader.pages[1].extract_text()
