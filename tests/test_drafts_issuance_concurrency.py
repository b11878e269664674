"""Cấp số văn bản đi under real concurrency (SPEC §6.4, §4.3): clerks issuing many signed drafts at
the same moment get one gap-free, duplicate-free sequence per book and year; clerks clicking
"phát hành" on the same draft at once issue it exactly once.

Like tests/test_incoming_numbering.py these tests cannot use the ``db`` fixture (its single outer
transaction would serialise everything and never commit): they get a database of their own, an app
bound to it, and threads that each run one "request" (app context, session, commit or rollback).
The seal is a cheap callable (``seal=``) so the race, not RSA, is what takes the time.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.auth.models import Role, User
from portal.db import session as db_session
from portal.documents.models import (
    Direction,
    DocumentType,
    IncomingDocument,
    OutgoingDocument,
    RegisterBook,
    RegisterCounter,
)
from portal.drafts import common, services
from portal.drafts.models import Draft, DraftEvent, DraftStatus
from portal.orgs import services as orgs
from portal.orgs.models import OrgKind
from portal.workflow import AlreadyDone
from tests import concurrency
from tests.concurrency import run_together
from tests.conftest import Factory

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DRAFTS = 24
SAME_DRAFT_CLERKS = 10
# a fixed instant in the middle of the year, so a run that straddles New Year cannot flake
MIDYEAR = datetime(2026, 6, 15, 3, 0, tzinfo=UTC)
# usernames, organ codes and type names must stay unique across the whole live database of this module
_SEQ = itertools.count(2000)


def act(user: User) -> User:
    user.current_position = user.positions[0]
    return user


def cheap_seal(pdf: bytes, number: str, day: date) -> bytes:
    return pdf + f"% so {number}\n".encode()


# --- a database of its own, with real commits ------------------------------------------------------

@pytest.fixture(scope="module")
def live_app(fresh_database_url: Callable[[], str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    yield from concurrency.live_app(fresh_database_url(), tmp_path_factory.mktemp("issuance-storage"))


@pytest.fixture
def live(live_app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """Binds the shared session (every thread's) to the live database for one test."""
    monkeypatch.setattr(common, "now", lambda: MIDYEAR)
    with concurrency.bound_to(live_app):
        yield live_app


@dataclass
class Office:
    org_id: int
    receiver_id: int
    clerk_ids: list[int]
    draft_ids: list[int]


def make_office(app: Flask, drafts: int, clerks: int = 1, *, book: bool = False) -> Office:
    """An organisation with a drafting unit, its people and ``drafts`` signed drafts (công văn to
    another organisation of the system), committed. No outgoing book unless ``book``: the first
    issuance creates it, as in a new installation."""
    with app.app_context():
        factory = Factory(db_session())
        factory.seq = _SEQ
        n = next(_SEQ)
        org = factory.organisation(short_name=f"SCT{n}")
        unit = orgs.create(None, orgs.OrgData(name=f"Văn phòng {n}", short_name="VP", kind=OrgKind.INTERNAL_UNIT,
                                              is_issuing=False, parent_id=org.id))
        receiver = factory.organisation()
        officer = act(factory.person(Role.OFFICER, organisation=org, unit=unit))
        head = act(factory.person(Role.UNIT_HEAD, organisation=org, unit=unit, title="Chánh Văn phòng"))
        checker = act(factory.person(Role.FORMAT_CHECKER, organisation=org))
        leader = act(factory.person(Role.AGENCY_LEADER, organisation=org, title="Giám đốc"))
        clerk_rows = [factory.person(Role.CLERK, organisation=org, title="Văn thư") for _ in range(clerks)]
        doc_type = DocumentType(name=f"Công văn {n}", abbreviation=None)
        db_session.add(doc_type)
        db_session.flush()
        if book:
            db_session.add(RegisterBook(organisation_id=org.id, direction=Direction.OUTGOING, name="Sổ văn bản đi",
                                        notation_template="{so}/{loai}-{co_quan}"))
        ids = []
        for i in range(drafts):
            draft = services.create(officer, services.DraftData(
                subject=f"Về việc báo cáo số liệu đợt {i + 1}", document_type_id=doc_type.id, signer_id=leader.id,
                signer_title="Giám đốc"), services.Upload("du-thao.pdf", PDF + f"% du thao {n}-{i}\n".encode()),
                recipients=[services.RecipientSpec(organisation_id=receiver.id)])
            services.submit(officer, draft)
            services.approve(head, draft)
            services.format_ok(checker, draft, list(services.FORMAT_CHECKLIST))
            services.sign(leader, draft, True, services.frozen_pdf(leader, draft))
            assert draft.status == DraftStatus.SIGNED
            ids.append(draft.id)
        db_session.commit()
        return Office(org.id, receiver.id, [c.id for c in clerk_rows], ids)


def issue_job(office: Office, draft_id: int, clerk_id: int,
              seal: Callable[[bytes, str, date], bytes] = cheap_seal) -> Callable[[], tuple[int, int]]:
    def job() -> tuple[int, int]:
        clerk = act(db_session.get(User, clerk_id))
        draft = db_session.get(Draft, draft_id)
        out = services.issue(clerk, draft, None, seal=seal).outgoing
        return out.id, out.number

    return job


def outgoing_of(org_id: int) -> list[OutgoingDocument]:
    return list(db_session.execute(select(OutgoingDocument).where(OutgoingDocument.organisation_id == org_id)
                                   .order_by(OutgoingDocument.number)).scalars())


def books_of(org_id: int) -> list[RegisterBook]:
    return list(db_session.execute(select(RegisterBook).where(RegisterBook.organisation_id == org_id,
                                                              RegisterBook.direction == Direction.OUTGOING)
                                   .order_by(RegisterBook.id)).scalars())


def counter(book_id: int, year: int) -> int | None:
    return db_session.execute(select(RegisterCounter.last_number).where(
        RegisterCounter.book_id == book_id, RegisterCounter.year == year)).scalar_one_or_none()


def assert_one_gap_free_sequence(office: Office, expected: int) -> list[OutgoingDocument]:
    [book] = books_of(office.org_id)  # the first issuances racing must not create two books
    rows = outgoing_of(office.org_id)
    assert [r.number for r in rows] == list(range(1, expected + 1))
    assert {(r.book_id, r.year) for r in rows} == {(book.id, 2026)}
    assert counter(book.id, 2026) == expected
    codes = [f"{r.code_number}/{r.code_notation}" for r in rows]
    assert len(set(codes)) == expected
    assert len({r.identifier for r in rows}) == expected
    assert len({r.document_id for r in rows}) == expected
    return rows


# --- many drafts at once ---------------------------------------------------------------------------

@pytest.mark.parametrize("book_exists", [False, True], ids=["first-use-creates-the-book", "book-exists"])
def test_many_signed_drafts_issued_at_once_are_numbered_one_to_n(live, book_exists):
    office = make_office(live, DRAFTS, clerks=3, book=book_exists)
    jobs = [issue_job(office, draft_id, office.clerk_ids[i % 3]) for i, draft_id in enumerate(office.draft_ids)]

    outcome = run_together(live, jobs)

    assert outcome.errors == []
    assert sorted(outcome.numbers.values()) == list(range(1, DRAFTS + 1))
    with live.app_context():
        rows = assert_one_gap_free_sequence(office, DRAFTS)
        assert {r.code_notation for r in rows} == {rows[0].code_notation}
        assert rows[0].code_notation.endswith("-VP")
        drafts = [db_session.get(Draft, d) for d in office.draft_ids]
        assert {d.status for d in drafts} == {DraftStatus.ISSUED}
        assert sorted(d.outgoing_id for d in drafts) == sorted(r.id for r in rows)
        # each recipient item carries its own document's number
        arrivals = db_session.execute(select(IncomingDocument).where(
            IncomingDocument.organisation_id == office.receiver_id)).scalars().all()
        by_source = {a.source_outgoing_id: a for a in arrivals}
        assert len(arrivals) == DRAFTS == len(by_source)
        assert all(by_source[r.id].code_number == r.code_number for r in rows)


def test_failed_issuances_under_concurrency_leave_no_gap(live):
    office = make_office(live, DRAFTS, clerks=1, book=True)

    def seal_failing_for_some(pdf: bytes, number: str, day: date) -> bytes:
        if threading.current_thread().name.startswith("failing"):
            raise RuntimeError("thiết bị ký số của cơ quan không phản hồi")  # after take_next
        return cheap_seal(pdf, number, day)

    names = [("failing-" if n % 4 == 0 else "clerk-") + str(n) for n in range(DRAFTS)]
    outcome = run_together(live, [issue_job(office, d, office.clerk_ids[0], seal_failing_for_some)
                                  for d in office.draft_ids], names)

    failed = DRAFTS // 4
    assert len(outcome.errors) == failed
    assert all(isinstance(e, RuntimeError) for e in outcome.errors)
    assert all(name.startswith("failing") for name in outcome.names)
    with live.app_context():
        assert_one_gap_free_sequence(office, DRAFTS - failed)
        statuses = dict(db_session.execute(select(Draft.status, func.count()).where(Draft.id.in_(office.draft_ids))
                                           .group_by(Draft.status)).all())
        assert statuses == {DraftStatus.ISSUED: DRAFTS - failed, DraftStatus.SIGNED: failed}


# --- one draft, many clicks ------------------------------------------------------------------------

def test_the_same_draft_issued_by_ten_clerks_at_once_is_issued_once(live):
    office = make_office(live, 1, clerks=SAME_DRAFT_CLERKS)
    [draft_id] = office.draft_ids
    outcome = run_together(live, [issue_job(office, draft_id, clerk_id) for clerk_id in office.clerk_ids])

    assert list(outcome.numbers.values()) == [1]
    assert len(outcome.errors) == SAME_DRAFT_CLERKS - 1
    assert all(type(e) is AlreadyDone for e in outcome.errors), outcome.errors  # the losers are told it happened
    with live.app_context():
        [out] = outgoing_of(office.org_id)
        [book] = books_of(office.org_id)
        assert (out.number, counter(book.id, 2026)) == (1, 1)
        draft = db_session.get(Draft, draft_id)
        assert (draft.status, draft.outgoing_id) == (DraftStatus.ISSUED, out.id)
        issues = db_session.execute(select(func.count()).select_from(DraftEvent).where(
            DraftEvent.draft_id == draft_id, DraftEvent.action == "issue")).scalar_one()
        assert issues == 1
        arrivals = db_session.execute(select(IncomingDocument.source_outgoing_id).where(
            IncomingDocument.organisation_id == office.receiver_id)).scalars().all()
        assert arrivals == [out.id]
