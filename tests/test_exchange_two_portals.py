"""Two portals and the axis simulator, end to end (issue 17, "Done means"): province A issues a seal-signed
document to an organisation of province B; B receives it, registers it, its leader assigns it, the handler
records progress and finishes; A sees 01, 03, 04, 05, 06 in order; then A recalls it, B agrees and A sees 15.
A second test replaces another document in force: the replacement travels as business type 3 and B's new record
names the one it replaces.

Everything that production runs separately runs separately here: two databases (the kind under test), two
storage directories, two development PKIs; per portal a web server process (werkzeug, over real HTTP) and a
job consumer process (``python -m portal.jobs.consumer``, lease 5 s, no back-off), configured only through
``PORTAL_*`` variables; the axis simulator (``simulator.serve``) on a loopback port, with system "tinh-a"
serving province A's codes and "tinh-b" province B's. Packages travel only through the simulator over HTTP:
each portal's consumer sends what its portal queued, each portal polls the axis (``exchange.tasks.poll``, the
periodic job's body) in its own app context.

The test process drives the steps whose forms would be long to write (drafting, signing, issuing,
registering, assigning) through each portal's services inside that portal's app context (the shared session
bound to its database for the block, committed at its end); the handler's progress and finish and the
recall's confirmation go through B's web server, and A's draft page is read from A's. Nothing waits a fixed
time: each step waits (≤ 30 s) for what the other side must see.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from portal import create_app, migrate, storage
from portal.auth import accounts
from portal.auth.models import Role, User
from portal.db import session as db_session
from portal.documents.models import Channel, DocumentType, IncomingDocument, IncomingStatus, OutgoingDocument
from portal.drafts import services as drafts
from portal.drafts.models import Draft, SendMethod
from portal.exchange import edxml, tasks
from portal.exchange.models import Direction, ExchangePackage, PackageState
from portal.exchange.transport.simulator import serve
from portal.incoming import services as incoming
from portal.incoming.models import AssignmentRole
from portal.orgs import services as orgs
from portal.orgs.models import OrgKind
from portal.signatures import service as signatures
from portal.signing import pki
from tests.concurrency import bound_to
from tests.conftest import PASSWORD, TEST_SETTINGS
from tests.http_concurrency import Person
from tests.signing_fixtures import build_draft_pdf
from tests.test_drafts_workflow import CLIENT

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
WAIT = 30  # seconds any one step may take to show on the other side
CHECKLIST = list(drafts.FORMAT_CHECKLIST)
SERVER = """
import os
from werkzeug.serving import make_server
from portal import create_app
make_server("127.0.0.1", int(os.environ["PORT"]), create_app(), threaded=True).serve_forever()
"""
QUEUE = {"JOBS_IMMEDIATE": False, "JOBS_WORKERS": 1, "JOBS_LEASE_SECONDS": 5, "JOBS_REAP_SECONDS": 1,
         "JOBS_BACKOFF_SECONDS": 0, "AXIS_TIMEOUT_SECONDS": 5}


@dataclass
class Province:
    """What a portal serves: its province (root) and the organisation that sends or receives."""

    key: str  # "a" or "b"
    system_id: str
    secret: str
    root_name: str
    root_code: str
    org_name: str
    org_short: str
    org_code: str
    people: dict[str, tuple[Role, str, bool]]  # key → (role, title, in the unit)


A = Province("a", "tinh-a", "khóa bí mật của tỉnh A", "Ủy ban nhân dân tỉnh Thử A", "000.00.00.H41",
             "Sở Nội vụ tỉnh Thử A", "SNVA", "000.00.12.H41",
             {"officer": (Role.OFFICER, "Chuyên viên", True), "head": (Role.UNIT_HEAD, "Trưởng phòng", True),
              "checker": (Role.FORMAT_CHECKER, "Chuyên viên", False),
              "leader": (Role.AGENCY_LEADER, "Giám đốc", False), "clerk": (Role.CLERK, "Văn thư", False)})
B = Province("b", "tinh-b", "khóa bí mật của tỉnh B", "Ủy ban nhân dân tỉnh Thử B", "000.00.00.H14",
             "Sở Tài chính tỉnh Thử B", "STCB", "000.00.05.H14",
             {"clerk": (Role.CLERK, "Văn thư", False), "leader": (Role.AGENCY_LEADER, "Giám đốc", False),
              "officer": (Role.OFFICER, "Chuyên viên", True)})


@dataclass
class Portal:
    province: Province
    app: Flask
    env: dict[str, str]
    directory: Path
    org_id: int = 0
    people: dict[str, int] = field(default_factory=dict)  # key → user id
    usernames: dict[str, str] = field(default_factory=dict)
    url: str = ""
    processes: list[subprocess.Popen] = field(default_factory=list)

    def logs(self) -> str:
        lines = []
        for log in sorted(self.directory.glob("*.log")):
            lines += [f"--- {log.name}", *log.read_text(errors="replace").splitlines()[-15:]]
        return "\n".join(lines)


@contextmanager
def inside(portal: Portal) -> Iterator[Any]:
    """One unit of work in a portal: its app context, the shared session bound to its database, committed at
    the end (rolled back on an exception), and no transaction left open (SQLite: the write lock)."""
    with bound_to(portal.app), portal.app.app_context():
        try:
            yield db_session
            db_session.commit()
        except BaseException:
            db_session.rollback()
            raise


def person(portal: Portal, key: str) -> User:
    """One of the portal's people, acting in their (only) position; inside ``inside(portal)``."""
    user = db_session.get_one(User, portal.people[key])
    user.current_position = user.positions[0]
    return user


def wait_for(what: str, look: Callable[[], T | None], portals: list[Portal], seconds: float = WAIT) -> T:
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        last = look()
        if last:
            return last
        time.sleep(0.2)
    logs = "\n".join(p.logs() for p in portals)
    raise AssertionError(f"{what}: nothing after {seconds} s (last look: {last!r})\n{logs}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the two portals, the simulator, the processes ------------------------------------------------------------


def settings_of(province: Province, url: str, directory: Path, axis_url: str, trust: str) -> dict[str, Any]:
    return {**TEST_SETTINGS, **QUEUE, "DATABASE_URL": url, "STORAGE_DIR": str(directory / "storage"),
            "JOBS_QUEUE_FILE": str(directory / "queue.db"), "AXIS_URL": axis_url,
            "AXIS_SYSTEM_ID": province.system_id, "AXIS_SECRET": province.secret, "SIGNING_DEV_PKI": True,
            "PKI_DIR": str(directory / "pki"), "PKI_PASSPHRASE": f"mat-khau-pki-{province.key}",
            "SIGNING_TRUST_ROOTS": trust}


def environment(settings: dict[str, Any]) -> dict[str, str]:
    """The same settings as PORTAL_* variables, as an operator would set them (no TESTING: a real process)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update({f"PORTAL_{k}": str(v).lower() if isinstance(v, bool) else str(v) for k, v in settings.items()
                if k != "TESTING"})
    env["PORTAL_ENV"] = "development"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def make_portal(province: Province, url: str, directory: Path, axis_url: str, trust: str) -> Portal:
    directory.mkdir(parents=True, exist_ok=True)
    settings = settings_of(province, url, directory, axis_url, trust)
    previous = db_session.session_factory.kw.get("bind")
    migrate.upgrade(url)
    app = create_app(settings)
    db_session.configure(bind=previous)  # create_app rebinds the shared session
    return Portal(province, app, environment(settings), directory)


def seed(portal: Portal) -> None:
    """The province, the organisation with its unit and people, two document types; the development PKI
    (a certificate per leader, a seal per issuing organisation)."""
    p = portal.province
    with inside(portal):
        root = orgs.create(None, orgs.OrgData(name=p.root_name, short_name="UBND", kind=OrgKind.PEOPLE_COMMITTEE,
                                              is_issuing=True, organ_id=p.root_code))
        org = orgs.create(None, orgs.OrgData(name=p.org_name, short_name=p.org_short, kind=OrgKind.DEPARTMENT,
                                             is_issuing=True, parent_id=root.id, organ_id=p.org_code))
        unit = orgs.create(None, orgs.OrgData(name="Văn phòng", short_name="VP", kind=OrgKind.INTERNAL_UNIT,
                                              is_issuing=False, parent_id=org.id))
        for n, (key, (role, title, in_unit)) in enumerate(p.people.items(), 1):
            username = f"{key}.{p.key}"
            user = accounts.create_person(None, accounts.PersonData(
                username=username, full_name=f"Người Thử {p.key.upper()} {'ABCDEFGH'[n]}", positions=[
                    accounts.PositionData(organisation_id=org.id, unit_id=unit.id if in_unit else None,
                                          title=title, roles=[role])]), password=PASSWORD)
            portal.people[key], portal.usernames[key] = user.id, username
        db_session.add_all([DocumentType(name="Công văn", abbreviation=None),
                            DocumentType(name="Quyết định", abbreviation="QĐ")])
        db_session.flush()
        portal.org_id = org.id
        signatures.init_demo_pki()


def start(portal: Portal) -> None:
    """The portal's web server and its job consumer, each a process of its own."""
    port = free_port()
    for name, argv in (("web", [sys.executable, "-c", SERVER]), ("consumer", [sys.executable, "-m",
                                                                             "portal.jobs.consumer"])):
        with open(portal.directory / f"{name}.log", "ab") as log:  # the child keeps its own descriptor
            portal.processes.append(subprocess.Popen(argv, cwd=ROOT, env={**portal.env, "PORT": str(port)},
                                                     stdout=log, stderr=subprocess.STDOUT))
    portal.url = f"http://127.0.0.1:{port}"


def started(portal: Portal) -> bool:
    for process in portal.processes:
        assert process.poll() is None, f"a process of portal {portal.province.key} stopped\n{portal.logs()}"
    try:
        return requests.get(portal.url + "/healthz", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def stop(portal: Portal) -> None:
    for process in portal.processes:
        if process.poll() is None:
            process.terminate()
    for process in portal.processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    portal.app.extensions["engine"].dispose()


@pytest.fixture(scope="module")
def portals(fresh_database_url, tmp_path_factory) -> Iterator[tuple[Portal, Portal]]:
    """The simulator, then each portal: its database migrated and seeded, its web server and consumer started."""
    base = tmp_path_factory.mktemp("two-portals")
    systems = {p.system_id: {"secret": p.secret, "organs": [p.root_code, p.org_code]} for p in (A, B)}
    axis = serve(base / "axis", systems)
    made: list[Portal] = []
    try:
        made.append(make_portal(A, fresh_database_url(), base / "a", axis.url, ""))
        # B trusts A's development root for the signatures of the PDFs it receives (as a province trusts NEAC's)
        made.append(make_portal(B, fresh_database_url(), base / "b", axis.url,
                                str(pki.cert_path(base / "a" / "pki", pki.ROOT_KEY))))
        for portal in made:
            seed(portal)
        for portal in made:
            start(portal)
        a, b = made
        wait_for("the web servers answer /healthz", lambda: started(a) and started(b), made)
        yield a, b
    finally:
        for portal in made:
            stop(portal)
        axis.stop()


# --- the steps -----------------------------------------------------------------------------------------------


def issue(a: Portal, subject: str, replaces: int | None = None) -> tuple[int, int, str]:
    """A's draft to B's organisation through the axis, drafted, checked, signed with the leader's key and issued
    with the seal: (draft id, outgoing id, DocumentId)."""
    with inside(a):
        if replaces is None:
            data = drafts.DraftData(subject=subject, document_type_id=db_session.execute(select(DocumentType.id).where(
                DocumentType.abbreviation == "QĐ")).scalar_one())
        else:
            earlier = db_session.get_one(OutgoingDocument, replaces)
            data = drafts.start_follow_up(person(a, "officer"), earlier, "thay_the")
        data.signer_id, data.signer_title = a.people["leader"], "Giám đốc"
        draft = drafts.create(person(a, "officer"), data, drafts.Upload("du-thao.pdf", build_draft_pdf()),
                              recipients=[drafts.RecipientSpec(name=B.org_name, method=SendMethod.OTHER_SYSTEM,
                                                               address=B.org_code)])
        drafts.submit(person(a, "officer"), draft)
        drafts.approve(person(a, "head"), draft)
        drafts.format_ok(person(a, "checker"), draft, CHECKLIST)
        assert drafts.sign_with_key(person(a, "leader"), draft, PASSWORD, CLIENT)
        out = drafts.issue(person(a, "clerk"), draft, None).outgoing
        return draft.id, out.id, out.document_id


def sent_by_a(a: Portal, outgoing_id: int, business_type: int) -> ExchangePackage:
    """A's consumer took the package to the axis."""
    def look() -> ExchangePackage | None:
        with inside(a):
            row = db_session.execute(select(ExchangePackage).where(
                ExchangePackage.outgoing_document_id == outgoing_id, ExchangePackage.direction == Direction.OUT,
                ExchangePackage.business_type == business_type)).scalar_one()
            return row if row.state == PackageState.SENT else None
    return wait_for(f"A's consumer sends the package of type {business_type}", look, [a])


def polled_by_b(b: Portal, document_id: str, a: Portal) -> int:
    """B polls the axis until the document is there: its incoming id."""
    def look() -> int | None:
        with inside(b):
            tasks.poll()
        with inside(b):
            return db_session.execute(select(IncomingDocument.id).where(
                IncomingDocument.document_id == document_id,
                IncomingDocument.organisation_id == b.org_id)).scalar()
    return wait_for(f"B receives {document_id}", look, [a, b])


def a_sees(a: Portal, draft_id: int, code: str, b: Portal) -> drafts.RecipientStatus:
    """A polls the axis until its recipient shows ``code``."""
    def look() -> drafts.RecipientStatus | None:
        with inside(a):
            tasks.poll()
        with inside(a):
            [status] = drafts.recipient_statuses(db_session.get_one(Draft, draft_id))
            return status if status.code == code else None
    return wait_for(f"A sees {code}", look, [a, b])


def b_page_step(b: Portal, who: str, doc_id: int, step: str, data: dict[str, str] | None = None) -> None:
    """A step through B's web server, as the person's browser would post it."""
    resp = Person(b.url, b.usernames[who]).post(f"/van-ban-den/{doc_id}/{step}", data=data or {})
    assert resp.status_code == 303, (resp.status_code, resp.text[:1000], b.logs())


# --- the scenario ---------------------------------------------------------------------------------------------


def test_issued_to_another_province_worked_through_and_recalled(portals):
    a, b = portals
    draft_id, out_id, document_id = issue(a, "Quyết định về việc thử nghiệm liên thông văn bản giữa hai tỉnh")
    sent_by_a(a, out_id, 0)

    # B: the document at 01 with the sender's fields, its seal-signed PDF and the package's XML signature
    doc_id = polled_by_b(b, document_id, a)
    with inside(b):
        doc = db_session.get_one(IncomingDocument, doc_id)
        assert (doc.status, doc.channel, doc.sender_organ_id) == (IncomingStatus.ARRIVED, Channel.AXIS, A.org_code)
        assert doc.subject == "Quyết định về việc thử nghiệm liên thông văn bản giữa hai tỉnh"
        assert doc.code_notation == f"QĐ-{A.org_short}"
        assert doc.signature_verdict == "Hợp lệ"  # A's seal and leader, under A's root, which B trusts
        [package] = db_session.execute(select(ExchangePackage).where(
            ExchangePackage.direction == Direction.IN, ExchangePackage.incoming_document_id == doc_id)).scalars()
        assert (package.transport, package.business_type, package.sender_organ_id) == ("axis", 0, A.org_code)
        assert edxml.verify(storage.read(package.sha256)).status == "valid"
    a_sees(a, draft_id, "01", b)
    page = Person(b.url, b.usernames["clerk"]).get(f"/van-ban-den/{doc_id}")  # B's clerk sees it on B's server
    assert page.status_code == 200
    assert "thử nghiệm liên thông văn bản giữa hai tỉnh" in page.text

    # B: registered (03), presented and assigned by the leader (04), progress (05) and finished (06) by the
    # handler — the last two on B's web server, whose process queues the statuses
    with inside(b):
        clerk = person(b, "clerk")
        doc = db_session.get_one(IncomingDocument, doc_id)
        incoming.register(clerk, doc, incoming.Metadata(
            type_name=doc.type_name, code_number=doc.code_number, code_notation=doc.code_notation,
            issued_date=doc.issued_date, organ_name=doc.organ_name, subject=doc.subject,
            signer_name=doc.signer_name, signer_position=doc.signer_position, document_id=doc.document_id))
    a_sees(a, draft_id, "03", b)
    with inside(b):
        doc = db_session.get_one(IncomingDocument, doc_id)
        incoming.present(person(b, "clerk"), doc, b.people["leader"])
        incoming.direct(person(b, "leader"), doc, "Giao Văn phòng chủ trì tham mưu.",
                        [incoming.AssigneeSpec(AssignmentRole.LEAD, user_id=b.people["officer"])])
    a_sees(a, draft_id, "04", b)
    b_page_step(b, "officer", doc_id, "tien-do", {"progress-text": "Đang dự thảo văn bản triển khai."})
    a_sees(a, draft_id, "05", b)
    b_page_step(b, "officer", doc_id, "hoan-thanh", {"finish-result": "Đã triển khai, báo cáo kèm theo."})
    status = a_sees(a, draft_id, "06", b)

    # A: every status in order, each with its time
    assert (status.code, status.label) == ("06", "Hoàn thành")
    assert [h[0] for h in status.history] == ["", "01", "03", "04", "05", "06"]
    assert [h[1] for h in status.history] == ["Đã gửi lên trục", "Đã đến", "Đã tiếp nhận", "Đã phân công",
                                              "Đang xử lý", "Hoàn thành"]
    times = [h[2] for h in status.history[1:]]
    assert all(times)
    assert times == sorted(times)
    page = Person(a.url, a.usernames["officer"]).get(f"/du-thao/{draft_id}")
    assert page.status_code == 200
    assert "Hoàn thành" in page.text
    assert "Diễn biến (6)" in page.text

    # recall: A asks (type 1 through the axis), B's clerk agrees on B's web server, A sees 15
    with inside(a):
        drafts.recall(person(a, "leader"), db_session.get_one(Draft, draft_id), "Ban hành nhầm đối tượng, thu hồi.")
    sent_by_a(a, out_id, 1)

    def asked() -> bool:
        with inside(b):
            tasks.poll()
        with inside(b):
            return db_session.get_one(IncomingDocument, doc_id).recall_requested_at is not None
    wait_for("B's clerk is asked to recall", asked, [a, b])
    b_page_step(b, "clerk", doc_id, "xac-nhan-thu-hoi")
    with inside(b):
        assert db_session.get_one(IncomingDocument, doc_id).status == IncomingStatus.RECALLED
    status = a_sees(a, draft_id, "15", b)
    assert [h[0] for h in status.history if h[0]] == ["01", "03", "04", "05", "06", "15"]
    assert "Thu hồi: Đã gửi lên trục" in [h[1] for h in status.history]

    # a recalled document is not replaced (SPEC §6.7: only a document in force is corrected or replaced)
    with inside(a), pytest.raises(drafts.WrongStep):
        drafts.start_follow_up(person(a, "officer"), db_session.get_one(OutgoingDocument, out_id), "thay_the")


def test_a_replacement_reaches_the_other_province(portals):
    """SPEC §6.7, §5.8: a replacement of a document in force travels as business type 3 naming the replaced
    DocumentId (ResponseFor and ReplacementInfo); B records it as a new document at 01 that names the one it
    replaces, and A sees its 01."""
    a, b = portals
    _draft_x, out_x, id_x = issue(a, "Quyết định về danh sách đơn vị thử nghiệm")
    sent_by_a(a, out_x, 0)
    doc_x = polled_by_b(b, id_x, a)
    draft_y, out_y, id_y = issue(a, "", replaces=out_x)
    with inside(a):
        assert db_session.get_one(OutgoingDocument, out_y).replaces_id == out_x
    sent = sent_by_a(a, out_y, 3)
    with inside(a):
        package = edxml.parse(storage.read(sent.sha256)).package
    assert package.business.doc_type == edxml.BusinessType.REPLACE
    assert package.header.document_id == id_y
    assert [r.document_id for r in package.header.response_for] == [id_x]
    assert [r.document_id for r in package.business.replacements] == [id_x]

    doc_y = polled_by_b(b, id_y, a)
    with inside(b):
        received = db_session.execute(select(ExchangePackage).where(
            ExchangePackage.direction == Direction.IN, ExchangePackage.kind == "edoc",
            ExchangePackage.document_id == id_y)).scalar_one()
        assert (received.business_type, received.incoming_document_id) == (3, doc_y)
        new, earlier = db_session.get_one(IncomingDocument, doc_y), db_session.get_one(IncomingDocument, doc_x)
        assert doc_y != doc_x
        assert new.status == IncomingStatus.ARRIVED
        assert new.description == (f"Thay thế văn bản {earlier.code_number}/{earlier.code_notation} ({id_x}).")
    a_sees(a, draft_y, "01", b)
