"""Số đến (SPEC §4.3): one gap-free, duplicate-free sequence per register book and year in
Vietnam time, shared by electronic and paper documents, under real concurrency.

The concurrency tests cannot use the ``db`` fixture (its single outer transaction would serialise
everything and never commit): they get a database of their own, an app bound to it, and threads
that each run one "request" (app context, session, commit) like the production server does.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.auth.models import Role, User
from portal.db import session as db_session
from portal.documents.models import Direction, IncomingDocument, RegisterBook, RegisterCounter, Urgency
from portal.documents.models import IncomingStatus as S
from portal.errors import ValidationFailed
from portal.inbox.models import WorkCount
from portal.incoming import services
from portal.incoming.models import IncomingEvent
from portal.timeutil import local_today
from tests import concurrency, inbox_check
from tests.concurrency import run_together
from tests.conftest import DATABASE, Factory

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
THREADS = 50
# a fixed instant in the middle of the year, so a run that straddles New Year cannot flake
MIDYEAR = datetime(2026, 6, 15, 3, 0, tzinfo=UTC)
# usernames and organ codes must stay unique across the whole live database of this module
_SEQ = itertools.count(1000)


def metadata(**kw: object) -> services.Metadata:
    base: dict[str, object] = {
        "type_name": "Công văn", "code_number": "15", "code_notation": "UBND-VP",
        "issued_date": local_today() - timedelta(days=1), "organ_name": "Ủy ban nhân dân tỉnh Hà Nam",
        "subject": "Về việc triển khai công tác văn thư", "urgency": Urgency.NORMAL}
    base.update(kw)
    return services.Metadata(**base)  # type: ignore[arg-type]


def act(user: User) -> User:
    user.current_position = user.positions[0]
    return user


# --- a database of its own, with real commits ------------------------------------------------------

@pytest.fixture(scope="module")
def live_app(fresh_database_url: Callable[[], str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    yield from concurrency.live_app(fresh_database_url(), tmp_path_factory.mktemp("numbering-storage"))


@pytest.fixture
def live(live_app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """Binds the shared session (every thread's) to the live database for one test."""
    monkeypatch.setattr(services, "_now", lambda: MIDYEAR)
    with concurrency.bound_to(live_app):
        yield live_app


@dataclass
class Office:
    org_id: int
    clerk_id: int
    doc_ids: list[int]


def make_office(app: Flask, documents: int) -> Office:
    """One organisation, its clerk and ``documents`` electronic documents at 01, committed. No
    register book yet: the first registration creates it, as in a new installation."""
    with app.app_context():
        factory = Factory(db_session())
        factory.seq = _SEQ
        org = factory.organisation()
        clerk = factory.person(Role.CLERK, organisation=org, title="Văn thư")
        sender = factory.organisation()
        ids = [services.receive(org, metadata(code_number=str(n + 1)), sender=sender).id for n in range(documents)]
        db_session.commit()
        return Office(org.id, clerk.id, ids)


def clerk_of(office: Office) -> User:
    return act(db_session.get(User, office.clerk_id))


def register_job(office: Office, doc_id: int, code: int) -> Callable[[], tuple[int, int]]:
    def job() -> tuple[int, int]:
        doc = db_session.get(IncomingDocument, doc_id)
        services.register(clerk_of(office), doc, metadata(code_number=str(code)))
        return doc.id, doc.arrival_number

    return job


def digitise_job(office: Office, code: int) -> Callable[[], tuple[int, int]]:
    def job() -> tuple[int, int]:
        scan = services.Upload("ban-quet.pdf", PDF + f"% ban quet {code}\n".encode())
        doc = services.digitise(clerk_of(office), metadata(code_number=str(code), subject=f"Văn bản giấy {code}"),
                                scan)
        return doc.id, doc.arrival_number

    return job


def books_of(org_id: int) -> list[RegisterBook]:
    return list(db_session.execute(select(RegisterBook).where(RegisterBook.organisation_id == org_id,
                                                              RegisterBook.direction == Direction.INCOMING)
                                   .order_by(RegisterBook.id)).scalars())


def counter(book_id: int, year: int) -> int | None:
    return db_session.execute(select(RegisterCounter.last_number).where(
        RegisterCounter.book_id == book_id, RegisterCounter.year == year)).scalar_one_or_none()


def assert_one_gap_free_sequence(app: Flask, office: Office, expected: int) -> RegisterBook:
    with app.app_context():
        [book] = books_of(office.org_id)  # the first registrations racing must not create two books
        rows = db_session.execute(select(IncomingDocument.arrival_number, IncomingDocument.year,
                                         IncomingDocument.book_id)
                                  .where(IncomingDocument.organisation_id == office.org_id,
                                         IncomingDocument.arrival_number.is_not(None))).all()
        assert sorted(r.arrival_number for r in rows) == list(range(1, expected + 1))
        assert {(r.year, r.book_id) for r in rows} == {(2026, book.id)}
        assert counter(book.id, 2026) == expected
        return book


# --- concurrency -------------------------------------------------------------------------------------

@pytest.mark.parametrize("book_exists", [False, True], ids=["first-use-creates-the-book", "book-exists"])
def test_fifty_clerks_registering_at_once_get_one_to_fifty(live, book_exists):
    office = make_office(live, THREADS)
    if book_exists:
        with live.app_context():
            services.incoming_book(office.org_id)
            db_session.commit()
    outcome = run_together(live, [register_job(office, doc_id, n + 1) for n, doc_id in enumerate(office.doc_ids)])

    # BEGIN IMMEDIATE (SQLite) or SELECT … FOR UPDATE (PostgreSQL) serialise them; nobody needs a retry
    assert outcome.errors == []
    assert sorted(outcome.numbers.values()) == list(range(1, THREADS + 1))
    assert_one_gap_free_sequence(live, office, THREADS)
    with live.app_context():
        statuses = db_session.execute(select(IncomingDocument.status, func.count())
                                      .where(IncomingDocument.organisation_id == office.org_id)
                                      .group_by(IncomingDocument.status)).all()
        assert [tuple(r) for r in statuses] == [(S.REGISTERED, THREADS)]
        # each document's history names its own number
        for doc_id, number in outcome.numbers.items():
            texts = db_session.execute(select(IncomingEvent.text).where(IncomingEvent.document_id == doc_id,
                                                                        IncomingEvent.action == "register")).scalars()
            assert list(texts) == [f"Số đến {number:02d}"]
        # fifty transactions moved the same organisation's counters at once: none lost, none twice
        inbox_check.agrees_with_a_recount()
        assert db_session.execute(select(func.sum(WorkCount.n)).where(
            WorkCount.owner_id == office.org_id, WorkCount.queue == "incoming.cho-trinh")).scalar() == THREADS


def test_paper_and_electronic_share_one_sequence_under_concurrency(live):
    half = THREADS // 2
    office = make_office(live, half)
    jobs = [register_job(office, doc_id, n + 1) for n, doc_id in enumerate(office.doc_ids)]
    jobs += [digitise_job(office, half + n + 1) for n in range(half)]
    jobs = [job for pair in zip(jobs[:half], jobs[half:], strict=True) for job in pair]  # interleaved

    outcome = run_together(live, jobs)

    assert outcome.errors == []
    assert_one_gap_free_sequence(live, office, 2 * half)
    with live.app_context():
        channels = dict(db_session.execute(
            select(IncomingDocument.channel, func.count()).where(IncomingDocument.organisation_id == office.org_id)
            .group_by(IncomingDocument.channel)).all())
        assert channels == {services.Channel.INTERNAL: half, services.Channel.PAPER: half}


def test_registrations_failing_after_taking_a_number_leave_no_gap_under_concurrency(live, monkeypatch):
    office = make_office(live, THREADS)
    real_event = services._event

    def event_that_fails_for_some(*args, **kwargs):  # type: ignore[no-untyped-def]
        if threading.current_thread().name.startswith("failing"):
            raise RuntimeError("mất kết nối giữa chừng")  # after take_next, before the commit
        return real_event(*args, **kwargs)

    monkeypatch.setattr(services, "_event", event_that_fails_for_some)
    names = [("failing-" if n % 5 == 0 else "clerk-") + str(n) for n in range(THREADS)]
    outcome = run_together(live, [register_job(office, doc_id, n + 1) for n, doc_id in enumerate(office.doc_ids)],
                           names)

    failed = THREADS // 5
    assert len(outcome.errors) == failed
    assert all(isinstance(e, RuntimeError) for e in outcome.errors)
    assert all(name.startswith("failing") for name in outcome.names)
    assert_one_gap_free_sequence(live, office, THREADS - failed)
    with live.app_context():
        untouched = db_session.execute(select(IncomingDocument).where(
            IncomingDocument.organisation_id == office.org_id, IncomingDocument.arrival_number.is_(None))).scalars()
        assert [(d.status, d.book_id, d.year) for d in untouched] == [(S.ARRIVED, None, None)] * failed
        inbox_check.agrees_with_a_recount()  # the rolled-back ones left their counters as they were


def test_a_failed_registration_uses_no_number(live, monkeypatch):
    office = make_office(live, 4)
    first, second, third, fourth = office.doc_ids

    def request(job: Callable[[], object]) -> BaseException | None:
        """One request: commit on success, roll back on an error."""
        with live.app_context():
            try:
                job()
            except Exception as exc:
                db_session.rollback()
                return exc
            db_session.commit()
            return None

    def register(doc_id: int, data: services.Metadata) -> Callable[[], object]:
        return lambda: services.register(clerk_of(office), db_session.get(IncomingDocument, doc_id), data)

    assert request(register(first, metadata(code_number="1"))) is None

    # refused by validation before any number is taken
    failed = request(register(second, metadata(code_number="2", code_notation="")))
    assert isinstance(failed, ValidationFailed)
    # a likely duplicate of the first one
    assert isinstance(request(register(second, metadata(code_number="1"))), services.Duplicate)

    # failing after take_next: the counter was incremented in the transaction that rolled back
    real_event = services._event

    def broken_event(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("lỗi ghi lịch sử")

    monkeypatch.setattr(services, "_event", broken_event)
    assert isinstance(request(register(second, metadata(code_number="2"))), RuntimeError)
    monkeypatch.setattr(services, "_event", real_event)

    with live.app_context():
        [book] = books_of(office.org_id)
        assert counter(book.id, 2026) == 1
        assert db_session.get(IncomingDocument, second).arrival_number is None

    assert request(register(third, metadata(code_number="3"))) is None
    assert request(register(second, metadata(code_number="2"))) is None
    assert request(register(fourth, metadata(code_number="4"))) is None
    with live.app_context():
        numbers = {d: db_session.get(IncomingDocument, d).arrival_number for d in office.doc_ids}
        assert numbers == {first: 1, third: 2, second: 3, fourth: 4}
        assert counter(book.id, 2026) == 4


def test_a_session_kept_across_transactions_sees_numbers_taken_by_others(live):
    """A long-lived session (a CLI job, a worker) keeps the counter it read, commits, and
    registers again after the web has taken a number: the lock must return the current value,
    not the copy in the session's identity map (expire_on_commit is off)."""
    office = make_office(live, 3)
    mine, theirs = db_session.session_factory(), db_session.session_factory()
    try:
        with live.app_context():
            kept = []
            for session_, doc_id, code in ((mine, office.doc_ids[0], 1), (theirs, office.doc_ids[1], 2),
                                           (mine, office.doc_ids[2], 3)):
                db_session.registry.set(session_)
                clerk = act(session_.get(User, office.clerk_id))
                doc = session_.get(IncomingDocument, doc_id)
                services.register(clerk, doc, metadata(code_number=str(code)))
                if session_ is mine and not kept:  # e.g. the job reports the last number it used
                    kept.append(session_.get(RegisterCounter, (doc.book_id, doc.year)))
                session_.commit()
            db_session.registry.clear()
            numbers = [db_session.get(IncomingDocument, d).arrival_number for d in office.doc_ids]
            assert numbers == [1, 2, 3]
            assert kept[0].last_number == 3
    finally:
        mine.close()
        theirs.close()


@pytest.mark.skipif(DATABASE != "postgresql", reason="SQLite's BEGIN IMMEDIATE makes the other clerk wait")
def test_a_counter_read_earlier_in_the_request_is_not_reused_after_another_commit(live):
    """PostgreSQL, READ COMMITTED: a request that read the counter (say, to show the next
    number) before another clerk committed must still number from the locked, current row."""
    office = make_office(live, 3)
    with live.app_context():  # the book and its counter exist, as on any ordinary day
        services.register(clerk_of(office), db_session.get(IncomingDocument, office.doc_ids[0]),
                          metadata(code_number="1"))
        db_session.commit()
        book_id = db_session.get(IncomingDocument, office.doc_ids[0]).book_id
    read, committed = threading.Event(), threading.Event()
    result: dict[str, object] = {}

    def slow_clerk() -> None:
        with live.app_context():
            try:
                preview = db_session.get(RegisterCounter, (book_id, 2026))
                result["preview"] = preview.last_number + 1
                read.set()
                assert committed.wait(timeout=30)
                doc = db_session.get(IncomingDocument, office.doc_ids[1])
                services.register(clerk_of(office), doc, metadata(code_number="2"))
                db_session.commit()
                result["number"] = doc.arrival_number
            except BaseException as exc:
                db_session.rollback()
                result["error"] = exc
                read.set()

    thread = threading.Thread(target=slow_clerk)
    thread.start()
    assert read.wait(timeout=30)
    with live.app_context():
        services.register(clerk_of(office), db_session.get(IncomingDocument, office.doc_ids[2]),
                          metadata(code_number="3"))
        db_session.commit()
    committed.set()
    thread.join(timeout=60)
    assert "error" not in result, result.get("error")
    assert (result["preview"], result["number"]) == (2, 3)


# --- the year turns over at midnight Vietnam time ----------------------------------------------------

def test_year_turns_over_at_midnight_vietnam_time_not_utc(db, factory, monkeypatch):
    org = factory.organisation()
    clerk = act(factory.person(Role.CLERK, organisation=org, title="Văn thư"))
    sender = factory.organisation()
    now = {"at": datetime(2026, 12, 31, 9, 0, tzinfo=UTC)}
    monkeypatch.setattr(services, "_now", lambda: now["at"])
    docs = [services.receive(org, metadata(code_number=str(n + 1)), sender=sender) for n in range(4)]

    def register_at(moment: datetime, doc: IncomingDocument) -> tuple[int | None, int | None]:
        now["at"] = moment
        services.register(clerk, doc, metadata(code_number=doc.code_number))
        return doc.year, doc.arrival_number

    assert register_at(datetime(2026, 12, 31, 16, 30, tzinfo=UTC), docs[0]) == (2026, 1)
    # 23:59:59 on 31/12 in Vietnam: still 2026, the next number
    assert register_at(datetime(2026, 12, 31, 16, 59, 59, tzinfo=UTC), docs[1]) == (2026, 2)
    # 00:00:00 on 1/1/2027 in Vietnam while UTC still says 31/12/2026: a new year, number 1
    assert register_at(datetime(2026, 12, 31, 17, 0, 0, tzinfo=UTC), docs[2]) == (2027, 1)
    # and once UTC reaches 2027 too, it stays 2027 (not back to 2026's counter)
    assert register_at(datetime(2027, 1, 1, 0, 30, tzinfo=UTC), docs[3]) == (2027, 2)

    [book] = db.execute(select(RegisterBook).where(RegisterBook.organisation_id == org.id)).scalars().all()
    assert counter(book.id, 2026) == 2
    assert counter(book.id, 2027) == 2
    # the arrival date is the Vietnam date of arrival (16:00 UTC on 31/12), the number the new year's
    assert docs[2].arrival_date == date(2026, 12, 31)
    assert {d.book_id for d in docs} == {book.id}


def test_arrival_late_on_the_utc_day_is_already_the_next_local_day(db, factory, monkeypatch):
    org = factory.organisation()
    clerk = act(factory.person(Role.CLERK, organisation=org, title="Văn thư"))
    monkeypatch.setattr(services, "_now", lambda: datetime(2026, 12, 31, 17, 30, tzinfo=UTC))
    doc = services.receive(org, metadata(), sender=factory.organisation())
    services.register(clerk, doc, metadata())
    assert (doc.year, doc.arrival_number, doc.arrival_date) == (2027, 1, date(2027, 1, 1))


# --- several register books -------------------------------------------------------------------------

def test_each_incoming_book_has_its_own_sequence(db, factory, monkeypatch):
    monkeypatch.setattr(services, "_now", lambda: MIDYEAR)
    org = factory.organisation()
    other = factory.organisation()
    clerk = act(factory.person(Role.CLERK, organisation=org, title="Văn thư"))

    def book(name: str, organisation_id: int = org.id, **kw: object) -> RegisterBook:
        row = RegisterBook(organisation_id=organisation_id, direction=kw.pop("direction", Direction.INCOMING),
                           name=name, notation_template="{so}", **kw)
        db.add(row)
        db.flush()
        return row

    secret = book("Sổ văn bản đến mật", is_secret=True)
    ordinary = book("Sổ văn bản đến")
    complaints = book("Sổ đơn thư khiếu nại, tố cáo")
    closed = book("Sổ đến cũ", active=False)
    outgoing = book("Sổ văn bản đi", direction=Direction.OUTGOING)
    foreign = book("Sổ văn bản đến của cơ quan khác", other.id)
    sender = factory.organisation()
    codes = itertools.count(1)

    def register(book_id: int | None) -> IncomingDocument:
        code = str(next(codes))
        doc = services.receive(org, metadata(code_number=code), sender=sender)
        services.register(clerk, doc, metadata(code_number=code, book_id=book_id))
        return doc

    got = [(d.book_id, d.arrival_number) for d in (
        register(ordinary.id), register(complaints.id), register(ordinary.id), register(None),
        register(complaints.id), register(secret.id))]
    paper = services.digitise(clerk, metadata(code_number=str(next(codes)), book_id=complaints.id),
                              services.Upload("quet.pdf", PDF))
    got.append((paper.book_id, paper.arrival_number))

    # no book named: the first active, non-secret incoming book
    assert got == [(ordinary.id, 1), (complaints.id, 1), (ordinary.id, 2), (ordinary.id, 3),
                   (complaints.id, 2), (secret.id, 1), (complaints.id, 3)]
    assert (counter(ordinary.id, 2026), counter(complaints.id, 2026), counter(secret.id, 2026)) == (3, 3, 1)

    # a closed book, an outgoing book and another organisation's book are refused, no number used
    for wrong in (closed, outgoing, foreign):
        doc = services.receive(org, metadata(code_number="900"), sender=sender)
        with pytest.raises(ValidationFailed) as caught:
            services.register(clerk, doc, metadata(code_number="900", book_id=wrong.id))
        assert caught.value.errors == {"book_id": "Sổ văn bản đến không hợp lệ."}
        assert (doc.status, doc.arrival_number) == (S.ARRIVED, None)
        assert counter(wrong.id, 2026) is None
    assert (counter(ordinary.id, 2026), counter(complaints.id, 2026)) == (3, 3)
    assert db.scalar(select(func.count()).select_from(RegisterBook)
                     .where(RegisterBook.organisation_id == org.id)) == 5  # none created on the side
