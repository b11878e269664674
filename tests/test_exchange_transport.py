"""Transports (issue 17 item 3): the axis simulator on a loopback port, spoken to by the HTTP transport exactly
as a portal would; the loopback transport with the same rules; the wire mapping's sorting of failures into
"retry" and "refused"; the ``axis-simulator`` command."""

from __future__ import annotations

import datetime as dt
import json
import select
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from portal import config as portal_config
from portal.exchange.edxml import (
    Attachment,
    Business,
    BusinessType,
    Code,
    DocumentPackage,
    DocumentType,
    MessageHeader,
    Organization,
    PromulgationInfo,
    ResponseFor,
    StatusCode,
    StatusPackage,
    TraceHeader,
    build_document,
    build_status,
    make_document_id,
)
from portal.exchange.transport import (
    Agency,
    Delivery,
    PackageUnknown,
    Refused,
    Transport,
    TransportError,
)
from portal.exchange.transport.http import HttpTransport, from_config
from portal.exchange.transport.loopback import LoopbackAxis
from portal.exchange.transport.simulator import Simulator, serve
from portal.exchange.transport.wire import Wire
from tests.edxml_fixtures import PDF, real

ROOT = Path(__file__).resolve().parents[1]
VIETNAM = dt.timezone(dt.timedelta(hours=7))
SYSTEMS = {
    "vpcp": {"secret": "khoa-vpcp-1", "organs": ["000.00.00.G22"]},
    "tinh-a": {"secret": "khoa-tinh-a-2", "organs": ["000.00.00.H41", "000.00.12.H41"]},   # Nghệ An
    "tinh-b": {"secret": "khoa-tinh-b-3", "organs": ["000.00.00.H14", "000.00.05.H14"]},   # Cao Bằng
}
AGENCIES = [
    {"organ_id": "000.00.00.H41", "name": "UBND tỉnh Nghệ An"},
    {"organ_id": "000.00.12.H41", "name": "Sở Tài chính tỉnh Nghệ An", "parent": "000.00.00.H41",
     "email": "stc@nghean.gov.vn"},
    {"organ_id": "000.00.00.H14", "name": "UBND tỉnh Cao Bằng"},
    {"organ_id": "000.00.05.H14", "name": "Sở Nội vụ tỉnh Cao Bằng", "parent": "000.00.00.H14"},
]
A_ORGAN, B_ORGAN = "000.00.12.H41", "000.00.05.H14"


def yesterday() -> dt.date:
    return dt.datetime.now(VIETNAM).date() - dt.timedelta(days=1)


def a_to_b(number: str = "15", subject: str = "V/v phối hợp liên thông văn bản giữa hai tỉnh") -> bytes:
    day = yesterday()
    return build_document(DocumentPackage(
        header=MessageHeader(
            from_=Organization(organ_id=A_ORGAN, organ_name="Sở Tài chính tỉnh Nghệ An",
                               organization_in_charge="UBND tỉnh Nghệ An"),
            to=[Organization(organ_id=B_ORGAN, organ_name="Sở Nội vụ tỉnh Cao Bằng")],
            code=Code(number, "STC-NS"), promulgation_info=PromulgationInfo("Nghệ An", day),
            document_type=DocumentType("1", "0", "Công văn"), subject=subject,
            document_id=make_document_id(A_ORGAN, day, number, "STC-NS")),
        trace=[TraceHeader(A_ORGAN, dt.datetime.now(VIETNAM).replace(microsecond=0))],
        business=Business(BusinessType.NEW, "Văn bản điện tử mới"),
        attachments=[Attachment("cid:1", f"{number}-STC-NS.pdf", "application/pdf", "Công văn", PDF)]))


def status_from_b(code: StatusCode, number: str = "15") -> bytes:
    day = yesterday()
    return build_status(StatusPackage(
        from_=Organization(organ_id=B_ORGAN, organ_name="Sở Nội vụ tỉnh Cao Bằng"),
        response_for=ResponseFor(A_ORGAN, f"{number}/STC-NS", day, make_document_id(A_ORGAN, day, number, "STC-NS")),
        status_code=code, description=code.label, timestamp=dt.datetime.now(VIETNAM).replace(microsecond=0)))


@pytest.fixture
def axis(tmp_path):
    running = serve(tmp_path / "truc", SYSTEMS, agencies=AGENCIES)
    yield running
    running.stop()


def client(running, system_id: str, secret: str | None = None, timeout: float = 10) -> HttpTransport:
    return HttpTransport(running.url, system_id, secret or SYSTEMS[system_id]["secret"], timeout=timeout)


def test_a_real_package_goes_to_every_system_serving_one_of_its_recipients(axis):
    vpcp, a, b = client(axis, "vpcp"), client(axis, "tinh-a"), client(axis, "tinh-b")
    package = real("edoc-new_vpcp-to-3-provinces.edxml")  # To H41 (tỉnh A), H14 (tỉnh B), G17 (nobody here)
    sent_id = vpcp.send_edoc(package)
    [for_a], [for_b] = a.list_received("edoc"), b.list_received("edoc")
    assert len({sent_id, for_a, for_b}) == 3  # each copy has its own id
    assert a.fetch(for_a) == package == a.fetch(for_a)  # the same bytes until acknowledged
    assert b.fetch(for_b) == package
    assert vpcp.list_received("edoc") == []
    assert a.list_received("status") == []
    rows = {row.organ_id: row for row in vpcp.sent()}
    assert {organ: row.status for organ, row in rows.items()} == {
        "000.00.00.H41": Delivery.PENDING, "000.00.00.H14": Delivery.PENDING, "000.00.00.G17": Delivery.UNROUTABLE}
    assert rows["000.00.00.H41"].notation == "7816/VPCP-TTĐT"
    assert rows["000.00.00.H41"].transport_id == sent_id
    a.acknowledge(for_a)
    assert {r.organ_id: r.status for r in vpcp.sent()}["000.00.00.H41"] is Delivery.DONE
    assert b.list_received("edoc") == [for_b]  # one system's acknowledgement is not the other's


def test_a_package_is_delivered_once_and_survives_a_restart(tmp_path):
    directory = tmp_path / "truc"
    with serve(directory, SYSTEMS) as running:
        a, b = client(running, "tinh-a"), client(running, "tinh-b")
        first, second = a_to_b("15"), a_to_b("16")
        a.send_edoc(first)
        a.send_edoc(second)
        taken, waiting = b.list_received("edoc")
        assert b.fetch(taken) == first
        assert b.fetch(waiting) == second
        b.acknowledge(taken)
        assert b.list_received("edoc") == [waiting]
        b.acknowledge(taken)  # twice is harmless
        with pytest.raises(PackageUnknown):
            b.fetch(taken)
        with pytest.raises(PackageUnknown):  # another system's delivery is unknown to A, not readable
            a.fetch(waiting)
        assert a.list_received("edoc") == []
    with serve(directory, SYSTEMS) as again:  # a new process would read the same directory
        b = client(again, "tinh-b")
        assert b.list_received("edoc") == [waiting]
        assert b.fetch(waiting) == second
        b.acknowledge(waiting)
        assert b.list_received("edoc") == []
    assert sorted(p.name for p in (directory / "queues" / "tinh-b").iterdir()) == []  # the files went too
    with serve(directory, SYSTEMS) as third:
        assert client(third, "tinh-b").list_received("edoc") == []
        assert [r.status for r in client(third, "tinh-a").sent()] == [Delivery.DONE, Delivery.DONE]


@pytest.mark.parametrize(("system_id", "secret"), [("tinh-a", "khoa-sai"), ("tinh-x", "khoa-tinh-a-2"), ("", "")])
def test_a_wrong_system_id_or_secret_is_refused(axis, system_id, secret):
    with pytest.raises(Refused) as refused:
        HttpTransport(axis.url, system_id, secret, timeout=10).send_edoc(a_to_b())
    assert refused.value.status == 401
    assert not refused.value.retryable
    assert "SystemId hoặc khóa bí mật không đúng" in str(refused.value)
    assert client(axis, "tinh-b").list_received("edoc") == []


def test_a_malformed_package_is_refused_with_the_parse_error(axis):
    a = client(axis, "tinh-a")
    with pytest.raises(Refused) as refused:
        a.send_edoc(real("edoc-malformed_nested-from.edxml"))
    assert refused.value.status == 422
    assert not refused.value.retryable
    assert "dòng 74" in refused.value.reasons[0]
    assert "mismatch" in refused.value.reasons[0]
    assert "không đọc được gói edXML" in str(refused.value)
    assert a.sent() == []
    assert client(axis, "tinh-b").list_received("edoc") == []


def test_an_invalid_package_is_refused_with_its_violations(axis):
    with pytest.raises(Refused) as refused:
        client(axis, "tinh-a").send_edoc(a_to_b(subject=""))
    assert refused.value.status == 422
    assert any("Subject" in reason for reason in refused.value.reasons)
    assert client(axis, "tinh-b").list_received("edoc") == []


def test_the_axis_refuses_what_the_caller_may_not_send(axis):
    a = client(axis, "tinh-a")
    with pytest.raises(Refused) as refused:  # From G22: tỉnh A does not serve the Government Office
        a.send_edoc(real("edoc-new_vpcp-to-3-provinces.edxml"))
    assert refused.value.status == 403
    assert "000.00.00.G22" in str(refused.value)
    with pytest.raises(Refused) as refused:  # a status package is not sent as a document
        client(axis, "tinh-b").send_edoc(status_from_b(StatusCode.RECEIVED))
    assert refused.value.status == 400
    nobody = a_to_b().replace(B_ORGAN.encode(), b"000.00.00.H99")
    with pytest.raises(Refused, match="không có hệ thống nào"):
        a.send_edoc(nobody)


def test_status_packages_travel_back_to_the_sender(axis):
    vpcp, a, b = client(axis, "vpcp"), client(axis, "tinh-a"), client(axis, "tinh-b")
    a.send_edoc(a_to_b())
    [delivered] = b.list_received("edoc")
    b.fetch(delivered)
    b.acknowledge(delivered)
    for code in (StatusCode.RECEIVED, StatusCode.ACCEPTED):
        b.send_status(status_from_b(code))
    statuses = a.list_received("status")
    assert [b"<edXML:StatusCode>01<" in a.fetch(s) for s in statuses] == [True, False]  # in the order sent
    assert a.list_received("edoc") == []
    assert b.list_received("status") == []
    for status in statuses:
        a.acknowledge(status)
    assert a.list_received("status") == []
    assert [r.title for r in b.sent() if r.kind == "status"] == ["Đã đến", "Đã tiếp nhận"]
    # real status packages: H41's receipt goes back to G22; G22's recall request (13) names H41 in ResponseFor
    a.send_status(real("status-01-received_nghean.edxml"))
    vpcp.send_status(real("status-13-recall-request_vpcp.edxml"))
    assert len(vpcp.list_received("status")) == 1
    assert len(a.list_received("status")) == 1
    assert b.list_received("status") == []


def test_a_receiver_can_refuse_and_the_sender_sees_why(axis):
    a, b = client(axis, "tinh-a"), client(axis, "tinh-b")
    a.send_edoc(a_to_b())
    [delivered] = b.list_received("edoc")
    b.acknowledge(delivered, ok=False, reason="Không đọc được tệp đính kèm; đề nghị gửi lại (mã 02)")
    assert b.list_received("edoc") == []
    [row] = a.sent()
    assert row.status is Delivery.FAIL
    assert row.reason == "Không đọc được tệp đính kèm; đề nghị gửi lại (mã 02)"
    assert row.acknowledged_at.endswith("+07:00")


def test_the_agency_list_names_the_body_in_charge(axis):
    agencies = {a.organ_id: a for a in client(axis, "tinh-a").agencies()}
    assert agencies["000.00.12.H41"] == Agency("000.00.12.H41", "Sở Tài chính tỉnh Nghệ An", "UBND tỉnh Nghệ An",
                                               "stc@nghean.gov.vn", "000.00.00.H41")
    assert agencies["000.00.00.H14"].in_charge == ""
    assert len(agencies) == 4


def test_a_stopped_or_silent_axis_is_a_retryable_transport_error(tmp_path):
    running = serve(tmp_path / "truc", SYSTEMS)
    a = client(running, "tinh-a")
    a.send_edoc(a_to_b())
    running.stop()
    with pytest.raises(TransportError) as failed:
        a.send_edoc(a_to_b("16"))
    assert failed.value.retryable
    assert "Không kết nối được trục liên thông" in str(failed.value)
    with socket.create_server(("127.0.0.1", 0)) as listener:  # accepts the connection, never answers
        silent = HttpTransport(f"http://127.0.0.1:{listener.getsockname()[1]}", "tinh-a", "x", timeout=0.3)
        with pytest.raises(TransportError, match=r"không trả lời trong 0\.3 giây"):
            silent.list_received("edoc")
    with serve(tmp_path / "truc", SYSTEMS) as again:  # what was sent before the outage is still there
        assert len(client(again, "tinh-b").list_received("edoc")) == 1


def test_concurrent_senders_lose_nothing(axis):
    errors: list[BaseException] = []

    def send(n: int) -> None:
        try:
            client(axis, "tinh-a").send_edoc(a_to_b(str(100 + n)))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(client(axis, "tinh-b").list_received("edoc"))) == 8


def test_the_signature_binds_the_parameters_and_the_body(axis):
    wire, simulator = Wire(), Simulator(axis.axis)
    package = a_to_b()
    call = wire.request("send", "tinh-a", SYSTEMS["tinh-a"]["secret"], kind="edoc", package=package)
    status, body = simulator.handle(call.path, call.headers, package.replace(b"STC-NS", b"STC-TC"))
    assert status == 400
    assert "hash-file" in json.loads(body)["ErrorDesc"]
    forged = dict(call.headers)
    forged["XroadVnpt-sign-header"] = forged["XroadVnpt-sign-header"].replace("tinh-a", "tinh-b")
    assert simulator.handle(call.path, forged, package)[0] == 401
    assert simulator.handle(call.path, {}, package)[0] == 401
    assert simulator.handle("/khongCo", call.headers, package)[0] == 404
    status, body = simulator.handle("/lgsp/v1" + call.path, call.headers, package)  # behind a gateway's prefix
    assert status == 200
    assert json.loads(body)["status"] == "OK"
    assert "khoa-tinh-a-2" not in json.dumps(call.headers)  # the secret never travels


@pytest.mark.parametrize(("operation", "status", "body", "expected", "code"), [
    ("send", 503, b"<html>Bad gateway</html>", TransportError, None),
    ("send", 500, b'{"status": "FAIL", "ErrorCode": "500", "ErrorDesc": "x"}', TransportError, None),
    ("received", 429, b"", TransportError, None),
    ("send", 200, "<html>Trang chủ</html>".encode(), TransportError, None),
    ("send", 200, b'{"status": "OK", "ErrorCode": "0"}', TransportError, None),  # no DocId: send again
    ("send", 200, b'{"status": "FAIL", "ErrorCode": "100", "ErrorDesc": "Sai dinh dang"}', Refused, 422),
    ("received", 401, b"Unauthorized", Refused, 401),
    ("fetch", 404, b'{"status": "FAIL", "ErrorCode": "404", "ErrorDesc": "x"}', PackageUnknown, 404),
    ("agencies", 404, b"<html>Not found</html>", Refused, 404),
])
def test_the_wire_sorts_answers_into_retry_and_refused(operation, status, body, expected, code):
    wire = Wire()

    def read() -> str:
        return wire.transport_id(wire.read_answer(operation, status, body, transport_id="abc"))

    with pytest.raises(expected) as failed:
        read()
    assert failed.type is expected
    if code:
        assert failed.value.status == code
        assert not failed.value.retryable
    else:
        assert failed.value.retryable


def test_the_sdk_hash_drops_leading_zeros():
    # SHA-256 of "abc" is ba7816bf 8f01cfea … b00361a3 … f20015ad; Java's Integer.toHexString drops each 0
    assert Wire.file_hash(b"abc") == "ba7816bf8f1cfea414140de5dae2223b0361a396177a9cb410ff61f2015ad"
    assert Wire.timestamp()[8] == "T"
    assert Wire.timestamp()[15] == "+"


def test_settings_choose_the_transport(monkeypatch):
    assert from_config({"AXIS_URL": ""}) is None
    transport = from_config({"AXIS_URL": "https://truc.example.vn/vxp/", "AXIS_SYSTEM_ID": "tinh-a",
                             "AXIS_SECRET": "k", "AXIS_TIMEOUT_SECONDS": "12"})
    assert isinstance(transport, HttpTransport)
    assert isinstance(transport, Transport)
    assert (transport.url, transport.system_id, transport.timeout) == ("https://truc.example.vn/vxp", "tinh-a", 12)
    assert "k" not in repr(transport).replace("truc", "")
    for bad, key in [({"AXIS_URL": "ftp://truc"}, "PORTAL_AXIS_URL"),
                     ({"AXIS_URL": "http://truc"}, "PORTAL_AXIS_SYSTEM_ID"),
                     ({"AXIS_URL": "http://truc", "AXIS_SYSTEM_ID": "a"}, "PORTAL_AXIS_SECRET"),
                     ({"AXIS_URL": "http://truc", "AXIS_SYSTEM_ID": "a", "AXIS_SECRET": "k",
                       "AXIS_TIMEOUT_SECONDS": "0"}, "PORTAL_AXIS_TIMEOUT_SECONDS")]:
        with pytest.raises(ValueError, match=key):
            from_config(bad)
    monkeypatch.setenv("PORTAL_AXIS_URL", "http://127.0.0.1:9")
    with pytest.raises(portal_config.ConfigError, match="PORTAL_AXIS_SYSTEM_ID"):
        portal_config.load({"TESTING": True})
    monkeypatch.setenv("PORTAL_AXIS_SYSTEM_ID", "tinh-a")
    monkeypatch.setenv("PORTAL_AXIS_SECRET", "1234")  # all digits: still a text secret
    settings = portal_config.load({"TESTING": True})
    assert settings["AXIS_SECRET"] == "1234"
    assert settings["AXIS_TIMEOUT_SECONDS"] == 30


def test_the_loopback_transport_keeps_the_same_rules():
    hub = LoopbackAxis(SYSTEMS, AGENCIES)
    a, b = hub.transport("tinh-a", SYSTEMS["tinh-a"]["secret"]), hub.transport("tinh-b", SYSTEMS["tinh-b"]["secret"])
    assert isinstance(a, Transport)
    package = a_to_b()
    a.send_edoc(package)
    [delivered] = b.list_received("edoc")
    assert b.fetch(delivered) == package
    b.acknowledge(delivered)
    assert b.list_received("edoc") == []
    assert [r.status for r in a.sent()] == [Delivery.DONE]
    b.send_status(status_from_b(StatusCode.RECEIVED))
    assert len(a.list_received("status")) == 1
    with pytest.raises(Refused) as refused:
        a.send_edoc(real("edoc-malformed_nested-from.edxml"))
    assert "dòng 74" in str(refused.value)
    with pytest.raises(Refused, match="khóa bí mật"):
        hub.transport("tinh-a", "sai").list_received("edoc")
    assert {x.organ_id: x.in_charge for x in a.agencies()}["000.00.05.H14"] == "UBND tỉnh Cao Bằng"
    hub.available = False
    with pytest.raises(TransportError):
        a.send_edoc(package)


def test_the_command_starts_and_serves_until_stopped(tmp_path):
    config = tmp_path / "truc.json"
    config.write_text(json.dumps({"systems": SYSTEMS, "agencies": AGENCIES}, ensure_ascii=False), encoding="utf-8")
    command = [sys.executable, "-m", "portal.exchange.simulator_cli", "--config", str(config),
               "--dir", str(tmp_path / "truc"), "--port", "0"]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            ready, _, _ = select.select([process.stdout], [], [], 60)
            assert ready, "the simulator printed nothing within 60 s"
            line = process.stdout.readline()
            assert "Trục liên thông mô phỏng đang chạy tại http://127.0.0.1:" in line, process.stderr.read()
            url = line.split(" tại ", 1)[1].split()[0]
            transport = HttpTransport(url, "tinh-a", SYSTEMS["tinh-a"]["secret"], timeout=10)
            assert len(transport.agencies()) == 4
            transport.send_edoc(a_to_b())
        finally:
            process.terminate()
        assert process.wait(timeout=30) == 0
        assert "Đã dừng trục liên thông mô phỏng." in process.stdout.read()
    with serve(tmp_path / "truc", SYSTEMS) as again:
        assert len(client(again, "tinh-b").list_received("edoc")) == 1


def test_the_command_names_a_broken_configuration(tmp_path):
    from click.testing import CliRunner

    from portal.exchange.simulator_cli import axis_simulator

    config = tmp_path / "truc.json"
    config.write_text('{"systems": {"tinh a": {"secret": "k", "organs": ["000.00.00.H41"]}}}', encoding="utf-8")
    result = CliRunner().invoke(axis_simulator, ["--config", str(config), "--dir", str(tmp_path / "truc")])
    assert result.exit_code == 1
    assert "SystemId 'tinh a' không hợp lệ" in result.output
    result = CliRunner().invoke(axis_simulator, ["--config", str(tmp_path / "khong-co.json")])
    assert result.exit_code == 1
    assert "Không đọc được tệp cấu hình" in result.output
