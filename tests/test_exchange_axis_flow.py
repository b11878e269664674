"""The portal and the axis simulator (issue 17 items 3–5), in one process: a document issued to an agency outside
travels as a seal-signed edXML package through the job queue; the agency's statuses come back on the poll and
show per recipient, with their history; a recall goes out as a type-1 package. A document from outside becomes
an incoming document at 01, 01 and 03 go back as the clerk acts, a repeat is processed once. The outbox: with the
axis down the package waits and is retried, and arrives exactly once when the axis is back."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from sqlalchemy import select

from portal import jobs, storage
from portal.documents.models import IncomingDocument, IncomingStatus
from portal.drafts import services
from portal.drafts.models import SendMethod
from portal.exchange import edxml, tasks
from portal.exchange.models import Direction, ExchangePackage, PackageState
from portal.exchange.transport.http import HttpTransport
from portal.exchange.transport.simulator import serve
from portal.incoming import services as incoming
from portal.jobs.models import JobState
from portal.signatures import service as signatures
from portal.signing import verification
from tests.conftest import PASSWORD
from tests.edxml_fixtures import PDF
from tests.signing_fixtures import fixture_draft_pdf  # noqa: F401  (fixture)
from tests.test_drafts_workflow import CLIENT, new_draft, to_signing
from tests.test_drafts_workflow import dev_signing as drafts_signing  # noqa: F401  (fixture)
from tests.test_drafts_workflow import world as drafts_world  # noqa: F401  (fixture)

VPCP = "000.00.00.G22"
VIETNAM = dt.timezone(dt.timedelta(hours=7))
LATER = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)  # every back-off is over


@pytest.fixture
def w(request):
    request.getfixturevalue("drafts_signing")
    return request.getfixturevalue("drafts_world")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def axis(tmp_path, app, monkeypatch, w):
    systems = {"tinh": {"secret": "khoa-tinh", "organs": [w.org.organ_id, w.receiver.organ_id]},
               "vpcp": {"secret": "khoa-vpcp", "organs": [VPCP]}}
    port = free_port()
    running = serve(tmp_path / "truc", systems, port=port)
    for key, value in {"AXIS_URL": running.url, "AXIS_SYSTEM_ID": "tinh", "AXIS_SECRET": "khoa-tinh",
                       "AXIS_TIMEOUT_SECONDS": 5}.items():
        monkeypatch.setitem(app.config, key, value)
    state = {"running": running, "dir": tmp_path / "truc", "systems": systems, "port": port}
    yield state
    state["running"].stop()


def vpcp(axis) -> HttpTransport:
    return HttpTransport(axis["running"].url, "vpcp", "khoa-vpcp", timeout=5)


def run_jobs(db) -> list:
    """Every queued job, as the consumer would (back-off over)."""
    db.commit()
    queued = db.execute(select(jobs.Job).where(jobs.Job.state == JobState.QUEUED).order_by(jobs.Job.id)).scalars().all()
    done = [jobs.run(job.id, now=LATER) for job in queued]
    db.expire_all()
    return done


def issued_to_vpcp(db, w, draft_pdf):
    signatures.init_demo_pki()
    draft = new_draft(w, draft_pdf, doc_type=w.decision, recipients=[services.RecipientSpec(
        name="Văn phòng Chính phủ", method=SendMethod.OTHER_SYSTEM, address=VPCP)])
    to_signing(w, draft)
    assert services.sign_with_key(w.p["leader"], draft, PASSWORD, CLIENT)
    out = services.issue(w.p["clerk"], draft, None).outgoing
    return draft, out


def status_from_vpcp(w, out, code: edxml.StatusCode) -> bytes:
    return edxml.build_status(edxml.StatusPackage(
        from_=edxml.Organization(organ_id=VPCP, organ_name="Văn phòng Chính phủ"),
        response_for=edxml.ResponseFor(w.org.organ_id, f"{out.code_number}/{out.code_notation}", out.issued_date,
                                       out.document_id),
        status_code=code, description=code.label, timestamp=dt.datetime.now(VIETNAM).replace(microsecond=0)))


def test_issued_to_an_agency_outside_and_what_comes_back(db, w, axis, draft_pdf):
    draft, out = issued_to_vpcp(db, w, draft_pdf)
    [package] = db.execute(select(ExchangePackage).where(ExchangePackage.outgoing_document_id == out.id)).scalars()
    assert (package.direction, package.kind, package.state) == (Direction.OUT, "edoc", PackageState.QUEUED)
    [status] = services.recipient_statuses(draft)
    assert status.label.startswith("Đang chờ gửi lên trục")
    run_jobs(db)
    package = db.get(ExchangePackage, package.id)
    assert package.state == PackageState.SENT
    assert package.transport_id

    # the agency reads it: the fields, the seal's XML signature, the signed PDF
    ministry = vpcp(axis)
    [tid] = ministry.list_received("edoc")
    data = ministry.fetch(tid)
    parsed = edxml.parse(data)
    header = parsed.package.header
    assert (header.code.code_number, header.code.code_notation) == (out.code_number, out.code_notation)
    assert header.subject == out.subject
    assert header.from_.organ_id == w.org.organ_id
    assert header.document_id == out.document_id
    assert edxml.validate(parsed).ok
    assert edxml.verify(data).status == "valid"
    [pdf] = [a.data for a in parsed.package.attachments]
    assert verification.verify(pdf, signatures.trust_roots()).verdict == "Hợp lệ"
    ministry.acknowledge(tid)

    # its statuses come back on the poll, in order, each with its time
    for code in (edxml.StatusCode.RECEIVED, edxml.StatusCode.ACCEPTED, edxml.StatusCode.ASSIGNED):
        ministry.send_status(status_from_vpcp(w, out, code))
    result = tasks.poll()
    assert (result.received, result.errors) == (3, [])
    db.commit()
    db.expire_all()
    [status] = services.recipient_statuses(draft)
    assert (status.code, status.label) == ("04", "Đã phân công")
    assert [h[1] for h in status.history] == ["Đã gửi lên trục", "Đã đến", "Đã tiếp nhận", "Đã phân công"]
    from portal.notifications.models import Notification  # the drafter hears each answer

    heard = db.execute(select(Notification.title).where(Notification.user_id == w.p["officer"].id,
                                                        Notification.kind == "recipient_status")
                       .order_by(Notification.id)).scalars().all()  # in the order told; without it, any order
    assert len(heard) == 3
    assert heard[-1].startswith("Văn phòng Chính phủ: Đã phân công (04)")
    assert tasks.poll().received == 0  # acknowledged: nothing twice

    # recall: a type-1 package to the agency; its 15 comes back
    services.recall(w.p["leader"], draft, "Văn bản ban hành nhầm, thu hồi để sửa.")
    run_jobs(db)
    [status] = services.recipient_statuses(draft)
    assert (status.code, status.label) == ("13", "Đang yêu cầu thu hồi")  # until the agency answers
    assert [h[1] for h in status.history][-1] == "Thu hồi: Đã gửi lên trục"  # in time order
    [tid] = ministry.list_received("edoc")
    recall = edxml.parse(ministry.fetch(tid)).package
    assert recall.business.doc_type == edxml.BusinessType.RECALL
    assert recall.header.response_for[0].document_id == out.document_id
    ministry.acknowledge(tid)
    ministry.send_status(status_from_vpcp(w, out, edxml.StatusCode.CHANGE_ACCEPTED))
    tasks.poll()
    db.commit()
    db.expire_all()
    [status] = services.recipient_statuses(draft)
    assert status.code == "15"


def test_a_document_from_outside_and_the_statuses_that_go_back(db, w, axis):
    day = dt.datetime.now(VIETNAM).date() - dt.timedelta(days=1)
    document_id = edxml.make_document_id(VPCP, day, "7816", "VPCP-TTĐT")
    package = edxml.build_document(edxml.DocumentPackage(
        header=edxml.MessageHeader(
            from_=edxml.Organization(organ_id=VPCP, organ_name="Văn phòng Chính phủ"),
            to=[edxml.Organization(organ_id=w.receiver.organ_id, organ_name=w.receiver.name)],
            code=edxml.Code("7816", "VPCP-TTĐT"), promulgation_info=edxml.PromulgationInfo("Hà Nội", day),
            document_type=edxml.DocumentType("1", "0", "Công văn"),
            subject="V/v triển khai liên thông văn bản điện tử", document_id=document_id),
        trace=[edxml.TraceHeader(VPCP, dt.datetime.now(VIETNAM).replace(microsecond=0))],
        business=edxml.Business(edxml.BusinessType.NEW, "Văn bản điện tử mới"),
        attachments=[edxml.Attachment("cid:1", "7816-VPCP-TTĐT.pdf", "application/pdf", "Công văn", PDF)]))
    ministry = vpcp(axis)
    ministry.send_edoc(package)
    ministry.send_edoc(package)  # sent twice by the ministry: one document here
    result = tasks.poll()
    assert (result.received, result.duplicates) == (1, 1)
    db.commit()
    [doc] = db.execute(select(IncomingDocument).where(IncomingDocument.organisation_id == w.receiver.id)).scalars()
    assert (doc.status, doc.code_number, doc.code_notation) == (IncomingStatus.ARRIVED, "7816", "VPCP-TTĐT")
    assert (doc.sender_organ_id, doc.document_id) == (VPCP, document_id)
    [main] = [f for f in incoming.files_of(doc) if f.role == incoming.FileRole.MAIN]
    assert storage.read(main.sha256) == PDF

    run_jobs(db)  # 01 goes back at once
    incoming.accept(w.p["r_clerk"], doc)  # tiếp nhận: 03 goes back
    run_jobs(db)
    codes = []
    for tid in ministry.list_received("status"):
        status = edxml.parse(ministry.fetch(tid)).package
        codes.append(status.code.value)
        assert status.response_for.document_id == document_id
        assert status.from_.organ_id == w.receiver.organ_id
        ministry.acknowledge(tid)
    assert codes == ["01", "03"]


def test_the_axis_down_then_back_delivers_exactly_once(db, w, axis, draft_pdf):
    axis["running"].stop()
    draft, out = issued_to_vpcp(db, w, draft_pdf)
    [job] = run_jobs(db)
    assert job.state == JobState.QUEUED  # a transport error: tried again later
    [package] = db.execute(select(ExchangePackage).where(ExchangePackage.outgoing_document_id == out.id)).scalars()
    assert (package.state, package.attempts) == (PackageState.QUEUED, 0)  # the failed attempt rolled back
    assert "Đang chờ gửi lên trục" in services.recipient_statuses(draft)[0].label
    axis["running"] = serve(axis["dir"], axis["systems"], port=axis["port"])
    [job] = run_jobs(db)
    assert job.state == JobState.DONE
    run_jobs(db)  # nothing left
    ministry = vpcp(axis)
    assert len(ministry.list_received("edoc")) == 1
    assert db.get(ExchangePackage, package.id).state == PackageState.SENT


def test_a_failed_package_is_shown_and_sent_again(db, w, axis, draft_pdf, app, login):
    from portal.exchange import agencies

    axis["running"].stop()
    draft, out = issued_to_vpcp(db, w, draft_pdf)
    for _ in range(5):  # every attempt fails: the fifth is the last
        run_jobs(db)
    [package] = db.execute(select(ExchangePackage).where(ExchangePackage.outgoing_document_id == out.id)).scalars()
    assert package.state == PackageState.FAILED
    assert "Không kết nối được" in package.error or "trục" in package.error
    db.commit()
    clerk = login(w.p["clerk"], c=app.test_client())
    page = clerk.get(f"/du-thao/{draft.id}").get_data(as_text=True)
    assert "1 gói tin chưa gửi được lên trục liên thông" in page
    assert "Gửi không được" in page
    leader = login(w.p["leader"], c=app.test_client())
    assert "Gửi lại</button>" not in leader.get(f"/du-thao/{draft.id}").get_data(as_text=True)
    assert leader.post(f"/du-thao/{draft.id}/gui-lai").status_code == 403
    axis["running"] = serve(axis["dir"], axis["systems"], port=axis["port"])
    assert clerk.post(f"/du-thao/{draft.id}/gui-lai").status_code == 303
    db.expire_all()
    assert db.get(ExchangePackage, package.id).state == PackageState.QUEUED
    assert clerk.post(f"/du-thao/{draft.id}/gui-lai").status_code == 303  # a repeat: nothing failed, no change
    run_jobs(db)
    assert db.get(ExchangePackage, package.id).state == PackageState.SENT
    assert len(vpcp(axis).list_received("edoc")) == 1

    # the picker: an agency of the national directory becomes a row sent through the axis, its code the address
    agencies.import_agencies([(VPCP, "Văn phòng Chính phủ", "Chính phủ")])
    db.commit()
    officer = login(w.p["officer"], c=app.test_client())
    found = officer.get("/du-thao/tim-co-quan-truc?q=van+phong+chinh").get_data(as_text=True)
    assert f"truc={VPCP}" in found
    row = officer.get(f"/du-thao/noi-nhan/dong?truc={VPCP}").get_data(as_text=True)
    assert 'value="he_thong_khac" selected' in row
    assert f'name="r_address" value="{VPCP}"' in row
    assert officer.get("/du-thao/noi-nhan/dong?truc=000.00.00.X99").status_code == 404


def test_the_clerk_fetches_now_and_imports_a_package_by_hand(db, w, axis, app, login):
    from io import BytesIO

    from tests.edxml_fixtures import REALWORLD

    day = dt.datetime.now(VIETNAM).date() - dt.timedelta(days=1)
    package = edxml.build_document(edxml.DocumentPackage(
        header=edxml.MessageHeader(
            from_=edxml.Organization(organ_id=VPCP, organ_name="Văn phòng Chính phủ"),
            to=[edxml.Organization(organ_id=w.receiver.organ_id, organ_name=w.receiver.name)],
            code=edxml.Code("12", "VPCP-KSTT"), promulgation_info=edxml.PromulgationInfo("Hà Nội", day),
            document_type=edxml.DocumentType("1", "0", "Công văn"), subject="V/v nhận ngay",
            document_id=edxml.make_document_id(VPCP, day, "12", "VPCP-KSTT")),
        business=edxml.Business(edxml.BusinessType.NEW, "Văn bản điện tử mới"),
        attachments=[edxml.Attachment("cid:1", "12-VPCP-KSTT.pdf", "application/pdf", "Công văn", PDF)]))
    vpcp(axis).send_edoc(package)
    db.commit()
    officer = login(w.p["r_officer"], c=app.test_client())
    assert officer.post("/lien-thong/nhan").status_code == 403
    clerk = login(w.p["r_clerk"], c=app.test_client())
    assert "Nhận văn bản" in clerk.get("/van-ban-den/").get_data(as_text=True)
    resp = clerk.post("/lien-thong/nhan")
    assert resp.status_code == 303
    db.expire_all()
    assert db.execute(select(IncomingDocument).where(IncomingDocument.code_notation == "VPCP-KSTT")).scalar_one()

    # by hand: the real three-province package into the clerk's own organisation
    data = (REALWORLD / "edoc-new_vpcp-to-3-provinces.edxml").read_bytes()
    resp = clerk.post("/lien-thong/nhap-goi-tin", data={"package": (BytesIO(data), "goi.edxml")},
                      content_type="multipart/form-data")
    assert resp.status_code == 303, resp.get_data(as_text=True)[:800]
    page = clerk.get(resp.headers["Location"]).get_data(as_text=True)
    assert "7816" in page
    assert "Lưu ý:" in page  # the ZIP named .doc, unpacked and flagged
    assert "gói tin gửi tới: 000.00.00.H41" in page  # its own To, kept and shown
    again = clerk.post("/lien-thong/nhap-goi-tin", data={"package": (BytesIO(data), "goi.edxml")},
                       content_type="multipart/form-data")
    assert again.status_code == 422
    assert "đã được nhận trước đó" in again.get_data(as_text=True)
    bad = (REALWORLD / "edoc-malformed_nested-from.edxml").read_bytes()
    resp = clerk.post("/lien-thong/nhap-goi-tin", data={"package": (BytesIO(bad), "hong.edxml")},
                      content_type="multipart/form-data")
    assert resp.status_code == 422
    assert "dòng 74" in resp.get_data(as_text=True)


def test_a_replacement_goes_out_as_type_3_and_a_recall_answered_03_reads_15(db, w, axis, draft_pdf):
    draft, old = issued_to_vpcp(db, w, draft_pdf)
    run_jobs(db)
    ministry = vpcp(axis)
    [tid] = ministry.list_received("edoc")
    ministry.acknowledge(tid)
    # the replacement: same recipient, type 3 naming the earlier document
    prefill = services.start_follow_up(w.p["officer"], old, "thay_the")
    prefill.signer_id, prefill.signer_title = w.p["leader"].id, "Giám đốc"
    replacement = services.create(w.p["officer"], prefill, services.Upload("thay-the.pdf", draft_pdf),
                                  recipients=[services.RecipientSpec(name="Văn phòng Chính phủ",
                                                                     method=SendMethod.OTHER_SYSTEM, address=VPCP)])
    to_signing(w, replacement)
    assert services.sign_with_key(w.p["leader"], replacement, PASSWORD, CLIENT)
    new = services.issue(w.p["clerk"], replacement, None).outgoing
    run_jobs(db)
    [tid] = ministry.list_received("edoc")
    package = edxml.parse(ministry.fetch(tid)).package
    ministry.acknowledge(tid)
    assert package.business.doc_type == edxml.BusinessType.REPLACE
    assert package.header.document_id == new.document_id
    assert [r.document_id for r in package.business.replacements] == [old.document_id]
    assert package.header.response_for[0].document_id == old.document_id
    # a peer answering the recall with 03 instead of 15 (inferred): read as 15, with a warning kept
    services.recall(w.p["leader"], draft, "Thu hồi, đã có văn bản thay thế.")
    run_jobs(db)
    [tid] = ministry.list_received("edoc")
    ministry.acknowledge(tid)
    ministry.send_status(status_from_vpcp(w, old, edxml.StatusCode.ACCEPTED))
    tasks.poll()
    db.commit()
    db.expire_all()
    [status] = services.recipient_statuses(draft)
    assert status.code == "15"
    answer = db.execute(select(ExchangePackage).where(ExchangePackage.direction == Direction.IN,
                                                      ExchangePackage.status_code == "15")).scalar_one()
    assert "hiểu là 15" in answer.warnings


def test_an_update_from_outside_arrives_as_a_new_document_naming_the_earlier_one(db, w, axis):
    day = dt.datetime.now(VIETNAM).date() - dt.timedelta(days=1)
    first_id = edxml.make_document_id(VPCP, day, "30", "VPCP-TH")

    def package(kind: edxml.BusinessType, number: str, response_for: list) -> bytes:
        return edxml.build_document(edxml.DocumentPackage(
            header=edxml.MessageHeader(
                from_=edxml.Organization(organ_id=VPCP, organ_name="Văn phòng Chính phủ"),
                to=[edxml.Organization(organ_id=w.receiver.organ_id, organ_name=w.receiver.name)],
                code=edxml.Code(number, "VPCP-TH"), promulgation_info=edxml.PromulgationInfo("Hà Nội", day),
                document_type=edxml.DocumentType("1", "0", "Công văn"), subject="V/v tổng hợp số liệu",
                response_for=response_for, document_id=edxml.make_document_id(VPCP, day, number, "VPCP-TH")),
            business=edxml.Business(kind, kind.label),
            attachments=[edxml.Attachment("cid:1", f"{number}.pdf", "application/pdf", "Công văn", PDF)]))

    ministry = vpcp(axis)
    ref = [edxml.ResponseFor(VPCP, "30/VPCP-TH", day, first_id)]
    ministry.send_edoc(package(edxml.BusinessType.UPDATE, "31", ref))  # never received here: 16
    tasks.poll()
    db.commit()
    run_jobs(db)
    [tid] = ministry.list_received("status")
    answer = edxml.parse(ministry.fetch(tid)).package
    assert answer.code == edxml.StatusCode.CHANGE_REFUSED
    assert "Không tìm thấy văn bản" in answer.description
    ministry.acknowledge(tid)
    ministry.send_edoc(package(edxml.BusinessType.NEW, "30", []))
    ministry.send_edoc(package(edxml.BusinessType.UPDATE, "31", ref))
    tasks.poll()
    db.commit()
    docs = db.execute(select(IncomingDocument).where(IncomingDocument.organisation_id == w.receiver.id)
                      .order_by(IncomingDocument.id)).scalars().all()
    assert [d.code_number for d in docs] == ["30", "31"]
    assert docs[1].description.startswith("Cập nhật văn bản 30/VPCP-TH")
    last = incoming.history(docs[0])[-1]
    assert (last.action, last.actor_name) == ("updated", "Văn phòng Chính phủ")
    assert "31/VPCP-TH" in last.text


def test_export_round_trips_and_the_agency_list_comes_from_the_axis(db, w, axis, draft_pdf, app, tmp_path):
    from portal.exchange.models import ExternalAgency

    _draft, out = issued_to_vpcp(db, w, draft_pdf)
    db.commit()
    path = tmp_path / "goi.edxml"
    result = app.test_cli_runner().invoke(args=["portal", "exchange", "export", str(out.id), "--out", str(path)])
    assert result.exit_code == 0, result.output
    data = path.read_bytes()
    parsed = edxml.parse(data)
    assert edxml.validate(parsed).ok
    assert edxml.verify(data).status == "valid"  # the seal's key signed it
    header = parsed.package.header
    assert (header.code.code_number, header.code.code_notation, header.subject, header.document_id) == (
        out.code_number, out.code_notation, out.subject, out.document_id)
    assert header.promulgation_info.promulgation_date == out.issued_date
    assert [t.organ_id for t in header.to] == [VPCP]
    assert header.from_.organ_id == w.org.organ_id
    [attachment] = parsed.package.attachments
    assert attachment.data == storage.read(out.main_file_sha256)
    missing = app.test_cli_runner().invoke(args=["portal", "exchange", "export", "99999", "--out", str(path)])
    assert missing.exit_code != 0
    assert "Không có văn bản đi mã số 99999" in missing.output

    axis["running"].stop()
    axis["running"] = serve(axis["dir"], axis["systems"], port=axis["port"], agencies=[
        {"organ_id": VPCP, "name": "Văn phòng Chính phủ"},
        {"organ_id": "000.00.00.H41", "name": "UBND tỉnh Nghệ An"}])
    result = app.test_cli_runner().invoke(args=["portal", "exchange", "agencies-sync"])
    assert result.exit_code == 0, result.output
    assert "thêm 2" in result.output
    db.expire_all()
    assert {a.organ_id for a in db.execute(select(ExternalAgency)).scalars()} == {VPCP, "000.00.00.H41"}


def test_a_package_for_nobody_here_is_answered_02_from_the_code_it_was_sent_to(db, w, axis):
    """The axis routes by code; a code this portal serves but no organisation holds (yet) is answered 02 with
    the reason, in the name of that code, and the sender's axis accepts that answer."""
    axis["running"].stop()
    systems = {**axis["systems"], "tinh": {**axis["systems"]["tinh"],
                                           "organs": [*axis["systems"]["tinh"]["organs"], "000.00.77.H99"]}}
    axis["running"] = serve(axis["dir"], systems, port=axis["port"])
    day = dt.datetime.now(VIETNAM).date() - dt.timedelta(days=1)
    ministry = vpcp(axis)
    ministry.send_edoc(edxml.build_document(edxml.DocumentPackage(
        header=edxml.MessageHeader(
            from_=edxml.Organization(organ_id=VPCP, organ_name="Văn phòng Chính phủ"),
            to=[edxml.Organization(organ_id="000.00.77.H99", organ_name="Sở chưa có")],
            code=edxml.Code("9", "VPCP-X"), promulgation_info=edxml.PromulgationInfo("Hà Nội", day),
            document_type=edxml.DocumentType("1", "0", "Công văn"), subject="V/v không ai nhận",
            document_id=edxml.make_document_id(VPCP, day, "9", "VPCP-X")),
        business=edxml.Business(edxml.BusinessType.NEW, "Văn bản điện tử mới"),
        attachments=[edxml.Attachment("cid:1", "9.pdf", "application/pdf", "Công văn", PDF)])))
    result = tasks.poll()
    assert result.refused == 1
    run_jobs(db)
    [tid] = ministry.list_received("status")
    answer = edxml.parse(ministry.fetch(tid)).package
    assert (answer.code, answer.from_.organ_id) == (edxml.StatusCode.REJECTED, "000.00.77.H99")
    assert "Không có cơ quan nhận có mã định danh 000.00.77.H99" in answer.description
