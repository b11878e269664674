"""Every step of both incoming tables, sent twice at the same moment over real HTTP (issue 14).

For each transition of ``DOCUMENT`` and ``ASSIGNMENT`` (iterated, so a new step without a scenario
fails here): a document is brought to the step's start state through the services (real commits in
a database of its own), then the person who may act sends the same valid form twice on two
connections released together. Exactly one effect, one history row and one audit row for the step;
one answer is the success, the other the page with what already happened (htmx: 409 with it), never
403 or 500. Afterwards every register book used holds 1..N without gaps and its counter is at N.
Paper intake sent twice with the same one-time token makes one document.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from portal import once
from portal.audit import AuditEntry
from portal.auth.models import Role, User
from portal.db import session as db_session
from portal.documents.models import IncomingDocument, IncomingStatus, RegisterBook, RegisterCounter
from portal.incoming import services
from portal.incoming.models import Assignment, AssignmentRole, AssignmentState, IncomingEvent, Reminder
from portal.incoming.workflow import ASSIGNMENT, DOCUMENT
from portal.timeutil import local_today
from tests import inbox_check
from tests.concurrency import bound_to, live_app
from tests.conftest import Factory
from tests.http_concurrency import Person, serve, twice
from tests.incoming_fixtures import PDF

S = IncomingStatus
Spec = services.AssigneeSpec
CODES = itertools.count(100)


@dataclass
class World:
    app: Flask
    base: str
    ids: dict[str, int]  # role → user id; "unit" → the unit's id
    people: dict[str, Person] = field(default_factory=dict)


@pytest.fixture(scope="module")
def world(fresh_database_url, tmp_path_factory) -> Iterator[World]:
    """One live database and server for the whole module: an organisation with every role."""
    for app in live_app(fresh_database_url(), tmp_path_factory.mktemp("storage")):
        with bound_to(app), app.app_context():
            factory = Factory(db_session())
            org = factory.organisation(name="Sở Song Song Thử", short_name="SSST")
            unit = factory.unit(org, name="Phòng Tổng hợp")
            people = {
                "clerk": factory.person(Role.CLERK, organisation=org, title="Văn thư"),
                "leader": factory.person(Role.AGENCY_LEADER, organisation=org, title="Giám đốc"),
                "deputy": factory.person(Role.AGENCY_LEADER, organisation=org, title="Phó Giám đốc"),
                "head": factory.person(Role.UNIT_HEAD, organisation=org, unit=unit, title="Trưởng phòng"),
                "officer": factory.person(Role.OFFICER, organisation=org, unit=unit),
                "coop": factory.person(Role.OFFICER, organisation=org, unit=unit),
            }
            ids = {role: user.id for role, user in people.items()} | {"unit": unit.id}
            names = {role: user.username for role, user in people.items()}
            db_session.commit()
            with serve(app) as base:
                w = World(app, base, ids)
                w.people = {role: Person(base, username) for role, username in names.items()}
                yield w


def user(w: World, role: str) -> User:
    person = db_session.get(User, w.ids[role])
    person.current_position = person.positions[0]
    return person


def metadata(code: str) -> services.Metadata:
    return services.Metadata(type_name="Công văn", code_number=code, code_notation="SSST-VP",
                             issued_date=local_today() - timedelta(days=2), organ_name="Ủy ban nhân dân tỉnh Ninh Bình",
                             subject=f"Về việc thử hai yêu cầu cùng lúc {code}")


def register_form(code: str) -> dict[str, str]:
    return {"register-type_name": "Công văn", "register-code_number": code, "register-code_notation": "SSST-VP",
            "register-issued_date": (local_today() - timedelta(days=2)).strftime("%d/%m/%Y"),
            "register-organ_name": "Ủy ban nhân dân tỉnh Ninh Bình", "register-subject": f"Về việc vào sổ {code}",
            "register-urgency": "0", "register-secrecy": "0", "register-language": "Tiếng Việt"}


def rows(*items: tuple[str, int, str]) -> dict[str, list[str]]:
    return {"a_kind": [i[0] for i in items], "a_id": [str(i[1]) for i in items],
            "a_role": [i[2] for i in items], "a_deadline": ["" for _ in items]}


# --- bringing a document to a state, through the services -------------------------------------------

def arrived(w: World) -> IncomingDocument:
    code = str(next(CODES))
    doc = services.receive(user(w, "clerk").organisation, metadata(code),
                           [services.Upload("van-ban.pdf", PDF, services.FileRole.MAIN)])
    doc._code = code  # type: ignore[attr-defined]
    return doc


def numbered(w: World) -> IncomingDocument:
    doc = arrived(w)
    services.register(user(w, "clerk"), doc, metadata(doc._code))  # type: ignore[attr-defined]
    return doc


def presented(w: World) -> IncomingDocument:
    doc = numbered(w)
    services.present(user(w, "clerk"), doc, w.ids["leader"])
    return doc


def to_unit(w: World) -> IncomingDocument:
    doc = presented(w)
    services.direct(user(w, "leader"), doc, "Giao phòng chủ trì.", [Spec(AssignmentRole.LEAD, unit_id=w.ids["unit"])])
    return doc


def to_officer(w: World) -> IncomingDocument:
    """Lead: the officer; co-operating: the other officer."""
    doc = presented(w)
    services.direct(user(w, "leader"), doc, "Giao đồng chí chủ trì, đồng chí phối hợp.",
                    [Spec(AssignmentRole.LEAD, user_id=w.ids["officer"]),
                     Spec(AssignmentRole.COOPERATE, user_id=w.ids["coop"])])
    return doc


def finished(w: World) -> IncomingDocument:
    doc = to_unit(w)
    services.direct_within_unit(user(w, "head"), doc, "", [Spec(AssignmentRole.LEAD, user_id=w.ids["officer"])])
    services.finish(user(w, "officer"), doc, "Đã trả lời bằng công văn.")
    return doc


def recall_asked(w: World) -> IncomingDocument:
    doc = numbered(w)
    services.request_recall(doc, "Ban hành nhầm.", "Sở Gửi")
    return doc


def with_deadline(w: World) -> IncomingDocument:
    """Lead: the officer, due in 5 working days (gia hạn is asked of the leader who set it)."""
    doc = presented(w)
    services.direct(user(w, "leader"), doc, "Giao đồng chí chủ trì.",
                    [Spec(AssignmentRole.LEAD, user_id=w.ids["officer"], days=5)])
    return doc


def asked_extension(w: World) -> IncomingDocument:
    doc = with_deadline(w)
    services.request_extension(user(w, "officer"), doc, row_of(doc, w.ids["officer"]).id, "Chờ số liệu.",
                               days=10)
    return doc


def _extension(w: World, doc: IncomingDocument) -> object:
    row = row_of(doc, w.ids["officer"])
    return len(row.extensions), row.extensions[-1].state.value, row.deadline == row.extensions[-1].proposed_deadline


def row_of(doc: IncomingDocument, user_id: int) -> Assignment:
    return next(a for a in services.assignments_of(doc) if a.assignee_user_id == user_id)


@dataclass
class Scenario:
    build: Callable[[World], IncomingDocument]
    who: str
    path: str  # after /van-ban-den/<id>/ ; "{row}" is the acting row's id (remind)
    data: Callable[[World, IncomingDocument], dict[str, Any]]
    notice: str  # what the repeat is told
    effect: Callable[[World, IncomingDocument], object]  # the state that must be reached exactly once
    token: bool = False


def _status(w: World, doc: IncomingDocument) -> object:
    return doc.status


SCENARIOS: dict[tuple[str, str], Scenario] = {
    ("incoming", "accept"): Scenario(arrived, "clerk", "tiep-nhan", lambda w, d: {}, "Văn bản đã được tiếp nhận lúc",
                                     lambda w, d: (d.status, d.arrival_number)),
    ("incoming", "register"): Scenario(arrived, "clerk", "vao-so", lambda w, d: register_form(d._code),
                                       "Văn bản đã được vào sổ số",
                                       lambda w, d: (d.status, d.arrival_number is not None)),
    ("incoming", "return"): Scenario(arrived, "clerk", "tra-lai", lambda w, d: {
        "return-category": "sai_noi_nhan", "return-reason": "Không thuộc thẩm quyền."},
        "Văn bản đã được trả lại nơi gửi lúc", _status),
    ("incoming", "present"): Scenario(numbered, "clerk", "trinh", lambda w, d: {"present-leader_id": w.ids["leader"]},
                                      "Văn bản đã được trình", lambda w, d: (d.status, d.presented_to_id)),
    ("incoming", "assign_directly"): Scenario(numbered, "clerk", "chuyen-xu-ly", lambda w, d: {
        "assign_directly-directive": "Chuyển phòng.", **rows(("unit", w.ids["unit"], "chu_tri"))},
        "Văn bản đã được chuyển xử lý lúc", _status),
    ("incoming", "direct"): Scenario(presented, "leader", "phan-phoi", lambda w, d: {
        "direct-directive": "Giao phòng chủ trì.", **rows(("unit", w.ids["unit"], "chu_tri"))},
        "Văn bản đã được phân phối lúc", _status),
    ("incoming", "forward"): Scenario(presented, "leader", "chuyen-lanh-dao", lambda w, d: {
        "forward-leader_id": w.ids["deputy"], "forward-note": "Nhờ anh cho ý kiến."},
        "Văn bản đã được chuyển", lambda w, d: (d.status, d.presented_to_id == w.ids["deputy"])),
    ("incoming", "file_info"): Scenario(presented, "leader", "luu-de-biet", lambda w, d: {"file_info-note": "Để biết."},
                                        "Văn bản đã được lưu để biết lúc", _status),
    ("incoming", "send_back"): Scenario(presented, "leader", "tra-van-thu", lambda w, d: {
        "send_back-reason": "Cần bổ sung hồ sơ."}, "Văn bản đã được trả lại văn thư lúc", _status),
    ("incoming", "unit_direct"): Scenario(to_unit, "head", "giao-trong-don-vi", lambda w, d: {
        "unit_direct-directive": "Đồng chí chủ trì.", **rows(("person", w.ids["officer"], "chu_tri"))},
        "Đơn vị đã giao xử lý văn bản này lúc", lambda w, d: len(services.assignments_of(d))),
    ("incoming", "finish"): Scenario(to_officer, "officer", "hoan-thanh", lambda w, d: {
        "finish-result": "Đã báo cáo."}, "Văn bản đã được hoàn thành lúc", _status),
    ("incoming", "reopen"): Scenario(finished, "leader", "mo-lai", lambda w, d: {"reopen-reason": "Bổ sung số liệu."},
                                     "Văn bản đã được mở lại lúc", _status),
    ("incoming", "confirm_recall"): Scenario(recall_asked, "clerk", "xac-nhan-thu-hoi", lambda w, d: {},
                                             "Văn bản đã được thu hồi lúc", _status),
    ("incoming", "refuse_recall"): Scenario(recall_asked, "clerk", "tu-choi-thu-hoi", lambda w, d: {
        "refuse_recall-reason": "Văn bản đã được xử lý xong."}, "Đề nghị thu hồi đã được từ chối lúc",
        lambda w, d: (d.status, d.recall_requested_at is None)),
    ("incoming_assignment", "seen"): Scenario(to_officer, "officer", "da-xem", lambda w, d: {},
                                              "Bạn đã đánh dấu đã xem lúc",
                                              lambda w, d: row_of(d, w.ids["officer"]).state),
    ("incoming_assignment", "progress"): Scenario(to_officer, "officer", "tien-do", lambda w, d: {
        "progress-text": "Đang dự thảo báo cáo."}, "Nội dung này đã được ghi lúc",
        lambda w, d: (d.status, row_of(d, w.ids["officer"]).state), token=True),
    ("incoming_assignment", "finish_part"): Scenario(to_officer, "coop", "tien-do", lambda w, d: {
        "progress-text": "Đã gửi số liệu.", "progress-done": "y"}, "Phần việc của bạn đã được ghi hoàn thành lúc",
        lambda w, d: row_of(d, w.ids["coop"]).state, token=True),
    ("incoming_assignment", "remind"): Scenario(to_officer, "clerk", "phan-cong/{row}/don-doc", lambda w, d: {
        f"remind{row_of(d, w.ids['officer']).id}-kind": "nhac_nho",
        f"remind{row_of(d, w.ids['officer']).id}-text": "Đề nghị khẩn trương."}, "Lời đôn đốc này đã được gửi lúc",
        lambda w, d: db_session.scalar(select(func.count()).select_from(Reminder).where(
            Reminder.assignment_id == row_of(d, w.ids["officer"]).id)), token=True),
    ("incoming_assignment", "request_extension"): Scenario(with_deadline, "officer", "phan-cong/{row}/xin-gia-han",
                                                           lambda w, d: {
        f"request_extension{row_of(d, w.ids['officer']).id}-reason": "Chờ số liệu của các xã.",
        f"request_extension{row_of(d, w.ids['officer']).id}-days": "10"},
        "đã được gửi lúc", _extension),
    ("incoming_assignment", "approve_extension"): Scenario(asked_extension, "leader", "phan-cong/{row}/dong-y-gia-han",
                                                           lambda w, d: {
        f"approve_extension{row_of(d, w.ids['officer']).id}-note": "Đồng ý."},
        "Đề nghị gia hạn đã được đồng ý lúc", _extension),
    ("incoming_assignment", "refuse_extension"): Scenario(asked_extension, "leader", "phan-cong/{row}/tu-choi-gia-han",
                                                          lambda w, d: {
        f"refuse_extension{row_of(d, w.ids['officer']).id}-reason": "Không đủ căn cứ."},
        "Đề nghị gia hạn đã được từ chối lúc", _extension),
}
HTMX = {("incoming", "accept"), ("incoming_assignment", "progress"),
        ("incoming_assignment", "approve_extension")}  # these pairs go as htmx requests
EXPECTED = {
    ("incoming", "accept"): (S.REGISTERED, None), ("incoming", "register"): (S.REGISTERED, True),
    ("incoming", "return"): S.RETURNED, ("incoming", "present"): (S.PRESENTED, None),  # id filled below
    ("incoming", "assign_directly"): S.ASSIGNED, ("incoming", "direct"): S.ASSIGNED,
    ("incoming", "forward"): (S.PRESENTED, True), ("incoming", "file_info"): S.DONE,
    ("incoming", "send_back"): S.REGISTERED, ("incoming", "unit_direct"): 2, ("incoming", "finish"): S.DONE,
    ("incoming", "reopen"): S.IN_PROGRESS, ("incoming", "confirm_recall"): S.RECALLED,
    ("incoming", "refuse_recall"): (S.REGISTERED, True), ("incoming_assignment", "seen"): AssignmentState.SEEN,
    ("incoming_assignment", "progress"): (S.IN_PROGRESS, AssignmentState.WORKING),
    ("incoming_assignment", "finish_part"): AssignmentState.DONE, ("incoming_assignment", "remind"): 1,
    ("incoming_assignment", "request_extension"): (1, "cho_y_kien", False),
    ("incoming_assignment", "approve_extension"): (1, "dong_y", True),
    ("incoming_assignment", "refuse_extension"): (1, "tu_choi", False),
}
ALL_STEPS = [(flow.name, action) for flow in (DOCUMENT, ASSIGNMENT) for action in flow.transitions]


def test_every_step_of_both_tables_has_a_scenario():
    assert set(ALL_STEPS) == set(SCENARIOS), "a step without a concurrency scenario (or a scenario without a step)"
    assert set(EXPECTED) == set(SCENARIOS)


def _counts(doc_id: int) -> tuple[int, int, int]:
    events = db_session.scalar(select(func.count()).select_from(IncomingEvent)
                               .where(IncomingEvent.document_id == doc_id))
    audits = db_session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.object_type == "incoming_documents", AuditEntry.object_id == str(doc_id),
        AuditEntry.action.not_in(("incoming.file_view", "incoming.file_download"))))
    repeats = db_session.scalar(select(func.count()).select_from(AuditEntry)
                                .where(AuditEntry.action == "step.repeated"))
    return events, audits, repeats


def _follow(person: Person, resp: requests.Response) -> str:
    """The page a 303 leads to, seen with the cookies this very answer set (each answer carries
    its own notice in the session cookie)."""
    with requests.Session() as http:
        http.cookies.update(person.cookies)
        http.cookies.update(resp.cookies)
        page = http.get(person.base + resp.headers["Location"], timeout=60)
    assert page.status_code == 200, page.status_code
    return page.text


@pytest.mark.parametrize("step", ALL_STEPS, ids=[f"{t}.{a}" for t, a in ALL_STEPS])
def test_the_same_step_twice_at_once_happens_once(world, step):
    w, scenario = world, SCENARIOS[step]
    doc = scenario.build(w)
    db_session.commit()
    doc_id = doc.id
    data = scenario.data(w, doc)
    path = f"/van-ban-den/{doc_id}/" + scenario.path.format(row=row_of(doc, w.ids["officer"]).id
                                                           if "{row}" in scenario.path else "")
    if scenario.token:
        data[once.FIELD] = once.new_token()
    before = _counts(doc_id)
    db_session.remove()

    person = w.people[scenario.who]
    htmx = step in HTMX
    answers = twice(person, "POST", path, data=data, htmx=htmx)

    codes = sorted(a.status_code for a in answers)
    assert not {403, 500} & set(codes), [(a.status_code, a.text[:300]) for a in answers]
    if htmx:
        assert codes == [200, 409], [(a.status_code, a.text[:300]) for a in answers]
        done, repeat = sorted(answers, key=lambda a: a.status_code)
        assert done.headers.get("HX-Redirect"), done.headers
        assert scenario.notice in repeat.text
    else:
        assert codes == [303, 303], [(a.status_code, a.text[:300]) for a in answers]
        pages = [_follow(person, a) for a in answers]
        told = [p for p in pages if scenario.notice in p]
        assert len(told) == 1, f"exactly one answer tells what already happened ({scenario.notice!r})"

    with w.app.app_context():
        doc = db_session.get(IncomingDocument, doc_id)
        after = _counts(doc_id)
        assert after[0] - before[0] == 1, "one history row for the step"
        assert after[1] - before[1] == 1, "one audit row for the step"
        assert after[2] - before[2] == 1, "the repeat is audited as a repetition"
        expected = EXPECTED[step]
        if step == ("incoming", "present"):
            expected = (S.PRESENTED, w.ids["leader"])
        assert scenario.effect(w, doc) == expected
        db_session.remove()
        inbox_check.agrees_with_a_recount()
        inbox_check.lists_agree(user(w, role) for role in ("clerk", "leader", "deputy", "head", "officer", "coop"))
        inbox_check.owners_may_act(user(w, role) for role in ("clerk", "leader", "deputy", "head", "officer", "coop"))


def test_paper_intake_twice_with_one_token_makes_one_document(world):
    w = world
    code = str(next(CODES))
    data = {k.removeprefix("register-"): v for k, v in register_form(code).items()} | {once.FIELD: once.new_token()}
    answers = twice(w.people["clerk"], "POST", "/van-ban-den/moi", data=data,
                    files={"scan": ("quet.pdf", PDF, "application/pdf")})
    assert [a.status_code for a in answers] == [303, 303], [(a.status_code, a.text[:300]) for a in answers]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    pages = [_follow(w.people["clerk"], a) for a in answers]
    assert sum("Văn bản này đã được nhập lúc" in p for p in pages) == 1
    with w.app.app_context():
        made = db_session.scalar(select(func.count()).select_from(IncomingDocument)
                                 .where(IncomingDocument.code_number == code))
        assert made == 1
        db_session.remove()


def test_zz_every_register_book_is_gap_free(world):
    """After all the pairs above (named to run last in this module)."""
    with world.app.app_context():
        books = db_session.execute(select(RegisterBook.id)).scalars().all()
        assert books
        for book_id in books:
            counters = db_session.execute(select(RegisterCounter).where(RegisterCounter.book_id == book_id))
            for counter in counters.scalars().all():
                numbers = sorted(db_session.execute(select(IncomingDocument.arrival_number).where(
                    IncomingDocument.book_id == book_id, IncomingDocument.year == counter.year)).scalars())
                assert numbers == list(range(1, len(numbers) + 1)), numbers
                assert counter.last_number == len(numbers)
        db_session.remove()
