"""Register books (SPEC §8.1, §8.3): the four NĐ 30 Phụ lục IV books with their exact headings,
Vietnamese text intact, the cover, "Trang n/N", the header on every page, user text printed
literally, date ranges, recalled rows, permissions, and the job (inline, and in a real thread on
a committed database). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal import jobs as queue
from portal.audit import AuditEntry
from portal.db import session as db_session
from portal.documents.models import (
    Channel,
    Direction,
    IncomingDocument,
    IncomingStatus,
    OutgoingDocument,
    OutgoingStatus,
    RegisterBook,
    Urgency,
)
from portal.drafts.models import Draft, DraftStatus, Recipient, SendMethod
from portal.incoming import services as incoming
from portal.incoming.models import AssignmentRole
from portal.registers import jobs, pdf
from portal.registers.models import JobStatus, ReportJob
from portal.timeutil import local_today
from tests.incoming_fixtures import PDF, metadata

SUBJECT = "Quyết định về công tác văn thư, lưu trữ"
ORGAN = "Ủy ban nhân dân tỉnh Hà Nam"
INJECTION = '<font color="red">X</font><img src="x"/><para>'
HX = {"HX-Request": "true"}
YEAR = local_today().year


def text_of(data: bytes) -> str:
    """All pages' text, whitespace runs made single spaces: wrapped cells still match."""
    reader = PdfReader(BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def pages_of(data: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(BytesIO(data)).pages]


def print_book(client, **form) -> tuple[ReportJob, bytes]:
    """POST the form (a small book is made at once), then download the PDF."""
    data = {"kind": "den", "year": str(YEAR), "volume": "1", **form}
    resp = client.post("/so-van-ban/", data=data)
    assert resp.status_code == 303, resp.get_data(as_text=True)[:800]
    job_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    job = db_session.get(ReportJob, job_id, populate_existing=True)
    assert job.status == JobStatus.DONE, job.error
    download = client.get(f"/so-van-ban/viec/{job_id}/tai-ve")
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    return job, download.data


def digitise(clerk, n: int, **kw) -> IncomingDocument:
    data = metadata(code_number=str(100 + n), **kw)
    return incoming.digitise(clerk, data, incoming.Upload("scan.pdf", PDF, incoming.FileRole.MAIN))


def add_incoming(org, number: int, arrival: date, **kw) -> IncomingDocument:
    """A numbered incoming row written directly: many rows, quickly, on chosen dates."""
    book = incoming.incoming_book(org.id)
    values = {"organisation_id": org.id, "status": IncomingStatus.REGISTERED, "channel": Channel.AXIS,
              "book_id": book.id, "year": arrival.year, "arrival_number": number, "arrival_date": arrival,
              "arrived_at": datetime.combine(arrival, datetime.min.time(), tzinfo=UTC), "type_name": "Công văn",
              "code_number": str(number), "code_notation": "UBND-VP", "issued_date": arrival,
              "organ_name": ORGAN, "subject": f"Về việc triển khai nhiệm vụ số {number}"}
    values.update(kw)
    doc = IncomingDocument(**values)
    db_session.add(doc)
    db_session.flush()
    return doc


def outgoing_book(org) -> RegisterBook:
    book = RegisterBook(organisation_id=org.id, direction=Direction.OUTGOING, name="Sổ văn bản đi")
    db_session.add(book)
    db_session.flush()
    return book


def add_outgoing(org, book, number: int, *, unit=None, **kw) -> OutgoingDocument:
    issued = local_today()
    values = {"organisation_id": org.id, "unit_id": unit.id if unit else None, "status": OutgoingStatus.ISSUED,
              "book_id": book.id, "year": YEAR, "number": number, "issued_at": datetime.now(UTC),
              "type_name": "Quyết định", "code_number": f"{number:02d}", "code_notation": "QĐ-SVHT",
              "issued_date": issued, "organ_name": org.name, "subject": SUBJECT, "signer_name": "Lê Văn Giám",
              "recipients_text": "Sở Tài chính tỉnh Hà Nam; Ủy ban nhân dân huyện Kim Bảng", "issued_amount": 5}
    values.update(kw)
    out = OutgoingDocument(**values)
    db_session.add(out)
    db_session.flush()
    return out


def posted(org, clerk, out: OutgoingDocument, *recipients: tuple[str, str]) -> None:
    draft = Draft(organisation_id=org.id, drafter_id=clerk.id, status=DraftStatus.ISSUED, type_name=out.type_name,
                  subject=out.subject, outgoing_id=out.id)
    db_session.add(draft)
    db_session.flush()
    for name, address in recipients:
        db_session.add(Recipient(draft_id=draft.id, name=name, address=address, method=SendMethod.POST,
                                 sent_at=out.issued_at))
    db_session.flush()


# --- the four books ---------------------------------------------------------------------------------------

def test_incoming_register_has_the_ten_headings_cover_values_and_page_numbers(db, login, office):
    org, unit, p = office
    first = digitise(p["clerk"], 1, subject=SUBJECT, organ_name=ORGAN, urgency=Urgency.URGENT)
    doc = incoming.receive(org, metadata(code_number="27", code_notation="KH-UBND", subject="Kế hoạch chuyển đổi số"),
                           channel=Channel.LGSP)
    incoming.register(p["clerk"], doc, metadata(code_number="27", code_notation="KH-UBND",
                                                subject="Kế hoạch chuyển đổi số"))
    incoming.assign_directly(p["clerk"], doc, "Chuyển xử lý", [
        incoming.AssigneeSpec(AssignmentRole.LEAD, unit_id=unit.id, deadline=local_today() + timedelta(days=5)),
        incoming.AssigneeSpec(AssignmentRole.COOPERATE, user_id=p["other"].id)])
    db.commit()

    job, data = print_book(login(p["clerk"]))

    text = text_of(data)
    for heading in pdf.LAYOUTS["den"].headings:
        assert heading in text, heading
    assert [h for h in pdf.LAYOUTS["den"].headings] == [
        "Ngày đến", "Số đến", "Tác giả", "Số, ký hiệu văn bản", "Ngày tháng văn bản",
        "Tên loại và trích yếu nội dung văn bản", "Đơn vị hoặc người nhận", "Ngày chuyển", "Ký nhận", "Ghi chú"]
    for value in (ORGAN, SUBJECT, "101/QĐ-UBND", "27/KH-UBND", "Kế hoạch chuyển đổi số", "Có bản giấy", "Khẩn",
                  "LGSP tỉnh", f"Chủ trì: {unit.name}", f"Phối hợp: {p['other'].full_name}", "Nhận điện tử",
                  f"{local_today():%d/%m/%Y}"):
        assert value in text, value
    # the cover: parent organisation, organisation, title, year, numbers, volume
    cover = pages_of(data)[0]
    for value in ("ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM", "SỞ VĂN HÓA THỬ", "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN", f"Năm: {YEAR}",
                  f"Từ số: {first.arrival_number:02d} đến số: {doc.arrival_number:02d}",
                  f"Từ ngày: {local_today():%d/%m/%Y} đến ngày: {local_today():%d/%m/%Y}", "Quyển số: 01"):
        assert value in cover, value
    n = len(PdfReader(BytesIO(data)).pages)
    assert f"Trang 1/{n}" in cover
    assert f"Trang {n}/{n}" in pages_of(data)[-1]
    assert f"Người in: {p['clerk'].full_name}" in text
    assert "(giờ Việt Nam)" in text
    # fonts embedded
    assert b"/FontFile2" in data
    assert b"DejaVuSerif" in data
    assert b"Helvetica" not in data  # no font the reader must supply
    entries = db.execute(select(AuditEntry.action).where(AuditEntry.object_type == "report_jobs",
                                                        AuditEntry.object_id == str(job.id))
                         .order_by(AuditEntry.id)).scalars().all()
    assert entries == ["registers.requested", "registers.downloaded"]


def test_outgoing_register_and_the_postal_book(db, login, office):
    org, unit, p = office
    book = outgoing_book(org)
    first = add_outgoing(org, book, 1, unit=unit)
    add_outgoing(org, book, 2, subject="Công văn về việc tổ chức Tết Nguyên đán", type_name="Công văn",
                 code_notation="SVHT-VP", status=OutgoingStatus.RECALLED, recalled_at=datetime.now(UTC),
                 recall_reason="Sai thể thức", urgency=Urgency.EXPRESS)
    posted(org, p["clerk"], first, ("Công ty TNHH Thử Nghiệm Số", "12 Lê Lợi, Phủ Lý, Hà Nam"),
           ("Hợp tác xã Đồng Văn", "Thị trấn Đồng Văn, Duy Tiên"))
    db.commit()
    client = login(p["clerk"])

    _job, data = print_book(client, kind="di")
    text = text_of(data)
    for heading in pdf.LAYOUTS["di"].headings:
        assert heading in text, heading
    assert len(pdf.LAYOUTS["di"].headings) == 10
    for value in ("01/QĐ-SVHT", "02/SVHT-VP", SUBJECT, "Lê Văn Giám", "Sở Tài chính tỉnh Hà Nam",
                  f"Lưu: VT, {unit.short_name}", "Hỏa tốc", "Đã thu hồi", "Sai thể thức"):
        assert value in text, value
    assert "Từ số: 01 đến số: 02" in pages_of(data)[0]

    _job, data = print_book(client, kind="buu_dien")
    text = text_of(data)
    assert pdf.LAYOUTS["buu_dien"].headings == ("Ngày chuyển", "Số, ký hiệu văn bản", "Nơi nhận văn bản",
                                                "Số lượng bì", "Ký nhận và dấu bưu điện", "Ghi chú")
    for value in (*pdf.LAYOUTS["buu_dien"].headings, "Công ty TNHH Thử Nghiệm Số", "12 Lê Lợi, Phủ Lý, Hà Nam",
                  "Hợp tác xã Đồng Văn", "01/QĐ-SVHT"):
        assert value in text, value
    assert "02/SVHT-VP" not in text  # not posted


def test_tracking_book(db, login, office):
    _org, unit, p = office
    doc = digitise(p["clerk"], 1, subject=SUBJECT, organ_name=ORGAN)
    deadline = local_today() + timedelta(days=7)
    incoming.assign_directly(p["clerk"], doc, "Chuyển xử lý",
                             [incoming.AssigneeSpec(AssignmentRole.LEAD, unit_id=unit.id, deadline=deadline)])
    db.commit()

    _job, data = print_book(login(p["leader"]), kind="giai_quyet")

    text = text_of(data)
    assert pdf.LAYOUTS["giai_quyet"].headings == (
        "Số đến", "Tên loại, số, ký hiệu, ngày, tháng và tên cơ quan, tổ chức ban hành văn bản",
        "Đơn vị hoặc người nhận", "Thời hạn giải quyết", "Tiến độ giải quyết", "Số, ký hiệu văn bản trả lời",
        "Ghi chú")
    for value in (*pdf.LAYOUTS["giai_quyet"].headings, "Quyết định số 101/QĐ-UBND", f"của {ORGAN}",
                  f"Chủ trì: {unit.name}", f"{deadline:%d/%m/%Y}", "Đang xử lý", "SỔ THEO DÕI GIẢI QUYẾT VĂN BẢN ĐẾN"):
        assert value in text, value


def test_header_row_repeats_on_every_page_and_numbers_are_in_order(db, login, office):
    org, _unit, p = office
    for n in range(1, 61):
        add_incoming(org, n, date(YEAR, 1, 1) + timedelta(days=n % 200))
    db.commit()

    _job, data = print_book(login(p["clerk"]))

    pages = pages_of(data)
    assert len(pages) >= 4
    for page in pages[1:]:
        for heading in ("Ngày đến", "Số đến", "Tác giả", "Tên loại và trích yếu nội dung văn bản", "(10)"):
            assert heading in page
    assert f"Trang 2/{len(pages)}" in pages[1]
    text = text_of(data)
    positions = [text.index(f"Về việc triển khai nhiệm vụ số {n} ") for n in (1, 2, 30, 60)]
    assert positions == sorted(positions)
    assert "Từ số: 01 đến số: 60" in pages[0]


def test_user_text_prints_literally(db, login, office):
    _org, _unit, p = office
    digitise(p["clerk"], 1, subject=INJECTION, organ_name="Công ty <b>A</b> & Con")
    db.commit()

    _job, data = print_book(login(p["clerk"]))

    text = text_of(data)
    assert INJECTION in text
    assert "Công ty <b>A</b> & Con" in text


def test_a_date_range_selects_its_rows(db, login, office):
    org, _unit, p = office
    for n, day in enumerate([date(YEAR, 1, 10), date(YEAR, 2, 3), date(YEAR, 2, 27), date(YEAR, 3, 1)], start=1):
        add_incoming(org, n, day)
    db.commit()

    _job, data = print_book(login(p["clerk"]), date_from=f"01/02/{YEAR}", date_to=f"28/02/{YEAR}")

    text = text_of(data)
    assert "nhiệm vụ số 2 " in text
    assert "nhiệm vụ số 3 " in text
    assert "nhiệm vụ số 1 " not in text
    assert "nhiệm vụ số 4 " not in text
    cover = pages_of(data)[0]
    assert f"Từ ngày: 03/02/{YEAR} đến ngày: 27/02/{YEAR}" in cover
    assert "Từ số: 02 đến số: 03" in cover
    assert f"Phạm vi in: Từ ngày 01/02/{YEAR} đến ngày 28/02/{YEAR}" in cover


def test_recalled_rows_stay_with_their_note(db, login, office):
    _org, _unit, p = office
    doc = digitise(p["clerk"], 1, subject=SUBJECT)
    incoming.request_recall(doc, "Ban hành sai thẩm quyền", "Ủy ban nhân dân tỉnh Hà Nam")
    incoming.confirm_recall(p["clerk"], doc)
    assert doc.status == IncomingStatus.RECALLED
    db.commit()

    client = login(p["clerk"])
    text = text_of(print_book(client)[1])
    assert SUBJECT in text
    assert "Đã thu hồi" in text
    assert "Ban hành sai thẩm quyền" in text
    assert "Đã thu hồi" in text_of(print_book(client, kind="giai_quyet")[1])


def test_empty_book_and_bad_input(db, login, office):
    _org, _unit, p = office
    db.commit()
    client = login(p["clerk"])
    _job, data = print_book(client)
    assert "Không có văn bản nào" in text_of(data)

    resp = client.post("/so-van-ban/", data={"kind": "den", "date_from": f"10/03/{YEAR}",
                                             "date_to": f"01/03/{YEAR}"}, headers=HX)
    assert resp.status_code == 422
    assert "“Đến ngày” phải sau hoặc bằng “Từ ngày”." in resp.get_data(as_text=True)
    resp = client.post("/so-van-ban/", data={"kind": "den", "year": str(YEAR), "date_from": "31/02/2026",
                                             "date_to": f"01/03/{YEAR}"})
    assert resp.status_code == 422
    assert "Ngày không hợp lệ" in resp.get_data(as_text=True)
    resp = client.post("/so-van-ban/", data={"kind": "den", "year": "", "date_from": f"01/03/{YEAR}"})
    assert resp.status_code == 422
    assert "Hãy nhập đủ từ ngày và đến ngày." in resp.get_data(as_text=True)
    other_book = outgoing_book(p["outsider"].organisation)
    db.commit()
    resp = client.post("/so-van-ban/", data={"kind": "di", "year": str(YEAR), "book_id": str(other_book.id)})
    assert resp.status_code == 422
    assert "Sổ này không thuộc cơ quan" in resp.get_data(as_text=True)
    secret = RegisterBook(organisation_id=p["clerk"].organisation.id, direction=Direction.INCOMING,
                          name="Sổ văn bản đến mật", is_secret=True)
    db.add(secret)
    db.commit()
    assert "Sổ văn bản đến mật" not in client.get("/so-van-ban/").get_data(as_text=True)
    resp = client.post("/so-van-ban/", data={"kind": "den", "year": str(YEAR), "book_id": str(secret.id)})
    assert resp.status_code == 422
    assert "Sổ mật được in riêng" in resp.get_data(as_text=True)


def test_a_row_taller_than_a_page_is_split(app):
    long = " ".join(f"Ủy ban nhân dân xã số {i} huyện Kim Bảng tỉnh Hà Nam;" for i in range(200))
    rows = [pdf.Row(["01", "01/01/2026", "Công văn", "A", long, "", "", "", "", ""], number=1)]
    data = pdf.build_register_pdf(pdf.RegisterData(pdf.LAYOUTS["di"], "Sở Thử", rows=rows, period="Năm 2026"))
    pages = pages_of(data)
    assert len(pages) >= 3
    assert "(tiếp)" in pages[1]
    assert "xã số 199 huyện Kim Bảng" in " ".join(pages)
    assert f"Trang 3/{len(pages)}" in pages[2]


# --- who may print, and the job ----------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [{}, HX])
def test_only_clerks_and_agency_leaders_print(db, login, office, headers):
    _org, _unit, p = office
    db.commit()
    client = login(p["officer"])
    assert client.get("/so-van-ban/", headers=headers).status_code == 403
    assert client.post("/so-van-ban/", data={"kind": "den", "year": str(YEAR)}, headers=headers).status_code == 403
    assert db.execute(select(ReportJob)).first() is None


def test_a_job_is_the_requesters_and_the_organisations(db, login, office, app, factory):
    _org, _unit, p = office
    digitise(p["clerk"], 1)
    db.commit()
    job, _data = print_book(login(p["clerk"]))
    url = f"/so-van-ban/viec/{job.id}"

    leader = login(p["leader"], c=app.test_client())
    assert leader.get(url).status_code == 200
    assert leader.get(f"{url}/tai-ve").status_code == 200
    for person in (p["outsider"], p["officer"]):
        other = login(person, c=app.test_client())
        assert other.get(url).status_code == 404
        assert other.get(f"{url}/tai-ve").status_code == 404
    assert app.test_client().get(url).headers["Location"].startswith("/auth/login")


def test_job_page_polls_until_done_then_offers_the_download(db, login, office, monkeypatch):
    org, _unit, p = office
    for n in range(1, 6):
        add_incoming(org, n, date(YEAR, 1, n))
    db.commit()
    monkeypatch.setattr(jobs, "SYNC_LIMIT", 1)  # every book goes to the queue
    client = login(p["clerk"])

    resp = client.post("/so-van-ban/", data={"kind": "den", "year": str(YEAR)}, headers=HX)
    assert resp.status_code == 200
    assert resp.headers["HX-Redirect"].startswith("/so-van-ban/viec/")
    job_id = int(resp.headers["HX-Redirect"].rsplit("/", 1)[1])
    page = client.get(f"/so-van-ban/viec/{job_id}")
    assert "<html" in page.get_data(as_text=True)
    fragment = client.get(f"/so-van-ban/viec/{job_id}", headers=HX).get_data(as_text=True)
    assert "<html" not in fragment
    assert 'hx-trigger="every 1s"' in fragment
    assert "<progress" in fragment
    assert "Đang chờ" in fragment
    assert client.get(f"/so-van-ban/viec/{job_id}/tai-ve").status_code == 404  # not ready

    queue.run_due()  # what the consumer does
    job = db_session.get_one(ReportJob, job_id, populate_existing=True)

    assert (job.status, job.done_rows, job.total_rows) == (JobStatus.DONE, 5, 5)
    fragment = client.get(f"/so-van-ban/viec/{job_id}", headers=HX).get_data(as_text=True)
    assert "hx-trigger" not in fragment
    assert "Đã xong" in fragment
    assert f"/so-van-ban/viec/{job_id}/tai-ve" in fragment
    download = client.get(f"/so-van-ban/viec/{job_id}/tai-ve")
    assert download.data.startswith(b"%PDF-")
    assert download.headers["Content-Disposition"].startswith(f"attachment; filename=so-dang-ky-van-ban-den-{YEAR}")


def test_a_failed_job_says_so_in_vietnamese(db, login, office, monkeypatch):
    _org, _unit, p = office
    digitise(p["clerk"], 1)
    db.commit()

    def broken(data, out):
        raise RuntimeError("hết bộ nhớ")

    monkeypatch.setattr(pdf, "write_register_pdf", broken)
    client = login(p["clerk"])
    resp = client.post("/so-van-ban/", data={"kind": "den", "year": str(YEAR)})
    job_page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Không tạo được sổ do lỗi hệ thống" in job_page
    assert "Lỗi" in job_page
    job = db.execute(select(ReportJob)).scalar_one()
    assert job.status == JobStatus.FAILED
    assert job.file_sha256 is None


def test_menu_shows_the_books_to_clerks_only(db, login, office, app):
    _org, _unit, p = office
    db.commit()
    assert "Sổ văn bản" in login(p["clerk"]).get("/").get_data(as_text=True)
    officer = login(p["officer"], c=app.test_client())
    assert 'href="/so-van-ban/"' not in officer.get("/").get_data(as_text=True)
