"""The load-test generator (``flask portal bench-seed``): a small province on a fresh database of
the kind under test, checked against the rules the portal itself follows."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal import benchseed, create_app, migrate
from portal.auth.models import Position, User
from portal.db import session
from portal.documents import numbering
from portal.documents.models import IncomingDocument, OutgoingDocument, RegisterBook, RegisterCounter
from portal.drafts.models import Draft, DraftEvent
from portal.inbox.maintain import verify
from portal.inbox.models import WorkItem
from portal.incoming import services
from portal.incoming.models import Assignment, IncomingEvent, IncomingFile
from portal.text import fold
from tests.conftest import TEST_SETTINGS

DOCUMENTS, ORGANISATIONS = 300, 3


@pytest.fixture(scope="module")
def seeded(fresh_database_url: Callable[[], str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    url = fresh_database_url()
    migrate.upgrade(url)
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": url, "STORAGE_DIR": str(tmp_path_factory.mktemp("storage"))})
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["portal", "bench-seed", "--documents", str(DOCUMENTS),
                                                    "--organisations", str(ORGANISATIONS)])
    assert result.exit_code == 0, result.output
    assert "Xong: 300 văn bản" in result.output
    assert benchseed.PASSWORD in result.output
    yield app
    app.extensions["engine"].dispose()


@pytest.fixture
def ctx(seeded: Flask) -> Iterator[None]:
    with seeded.app_context():
        yield
        session.rollback()


def _count(model: type) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.mark.usefixtures("ctx")
def test_every_kind_of_row_is_there() -> None:
    outgoing = round(DOCUMENTS * benchseed.OUTGOING_SHARE)
    assert _count(IncomingDocument) == DOCUMENTS - outgoing
    assert _count(OutgoingDocument) == outgoing
    assert _count(Draft) == outgoing + int(outgoing * benchseed.OPEN_DRAFT_SHARE)
    assert _count(Assignment) > 0
    assert _count(IncomingEvent) > _count(IncomingDocument)
    assert _count(IncomingFile) >= _count(IncomingDocument)
    assert _count(DraftEvent) > _count(Draft)
    statuses = set(session.execute(select(IncomingDocument.status)).scalars())
    assert {"01", "04", "05", "06"} <= {s.value for s in statuses}
    # every issued draft points at its outgoing document
    assert session.execute(select(func.count()).select_from(Draft).where(Draft.outgoing_id.is_not(None))
                           ).scalar_one() == outgoing


@pytest.mark.usefixtures("ctx")
def test_the_inbox_holds_the_loaded_work() -> None:
    """The loads bypass the ORM; the seed's rebuild leaves the inbox as a recount makes it."""
    assert _count(WorkItem) > 0
    assert verify(session()).agreed


@pytest.mark.usefixtures("ctx")
def test_derived_columns_are_what_the_services_compute() -> None:
    for doc in session.execute(select(IncomingDocument)).scalars():
        assert doc.sort_key == services.sort_key(doc), doc.id
        assert doc.code_key == services.code_key(doc.code_number, doc.code_notation)
        assert doc.subject_folded == fold(doc.subject)
        assert doc.organ_name_folded == fold(doc.organ_name)
    for out in session.execute(select(OutgoingDocument)).scalars():
        assert out.subject_folded == fold(out.subject)
        assert out.code_number == numbering.display(out.number)


@pytest.mark.usefixtures("ctx")
def test_counters_hold_the_last_number_and_the_next_follows() -> None:
    counters = list(session.execute(select(RegisterCounter)).scalars())
    assert counters
    for counter in counters:
        book = session.get(RegisterBook, counter.book_id)
        assert book is not None
        if book.direction == "in":
            used = select(func.max(IncomingDocument.arrival_number)).where(
                IncomingDocument.book_id == book.id, IncomingDocument.year == counter.year)
        else:
            used = select(func.max(OutgoingDocument.number)).where(
                OutgoingDocument.book_id == book.id, OutgoingDocument.year == counter.year)
        assert session.execute(used).scalar_one() == counter.last_number
    first = counters[0]
    book = session.get(RegisterBook, first.book_id)
    assert book is not None
    last = first.last_number
    assert numbering.take_next(book, first.year) == last + 1


def test_the_clerk_signs_in_and_sees_the_documents(seeded: Flask) -> None:
    client = seeded.test_client()
    with seeded.app_context():
        resp = client.post("/auth/login", data={"username": benchseed.CLERK, "password": benchseed.PASSWORD})
        assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
        org = session.execute(select(Position.organisation_id).join(User, User.id == Position.user_id)
                              .where(User.username == benchseed.CLERK)).scalar_one()
        visible = session.execute(select(IncomingDocument.id).where(
            IncomingDocument.organisation_id == org, IncomingDocument.status != "15")).scalars().all()
        waiting = session.execute(select(func.count()).select_from(IncomingDocument).where(
            IncomingDocument.organisation_id == org, IncomingDocument.status == "01")).scalar_one()
        session.rollback()
    assert 0 < len(visible) <= 50
    assert waiting > 0
    page = client.get("/van-ban-den/?ds=tat-ca")
    assert page.status_code == 200
    shown = {int(i) for i in re.findall(r'href="/van-ban-den/(\d+)"', page.get_data(as_text=True))}
    assert shown == set(visible)
    queue = client.get("/van-ban-den/?ds=cho-tiep-nhan").get_data(as_text=True)
    assert len(set(re.findall(r'href="/van-ban-den/(\d+)"', queue))) == waiting
    # a document page and its file, stored once and shared by many rows
    with seeded.app_context():
        doc_id, file_id = session.execute(select(IncomingFile.document_id, IncomingFile.id).join(
            IncomingDocument, IncomingDocument.id == IncomingFile.document_id).where(
            IncomingDocument.organisation_id == org).order_by(IncomingFile.id).limit(1)).one()
        session.rollback()
    assert client.get(f"/van-ban-den/{doc_id}").status_code == 200
    download = client.get(f"/van-ban-den/{doc_id}/tep/{file_id}/tai-ve")
    assert download.status_code == 200
    assert download.data.startswith(b"%PDF-")


def test_a_second_fill_needs_force(seeded: Flask) -> None:
    runner = seeded.test_cli_runner()
    with seeded.app_context():
        refused = runner.invoke(args=["portal", "bench-seed", "--documents", "50", "--organisations", "2"])
    assert refused.exit_code != 0
    assert "--force" in refused.output
    with seeded.app_context():
        before = _count(IncomingDocument) + _count(OutgoingDocument)
        session.rollback()
    with seeded.app_context():
        added = runner.invoke(args=["portal", "bench-seed", "--documents", "50", "--organisations", "2", "--force"])
        assert added.exit_code == 0, added.output
        assert _count(IncomingDocument) + _count(OutgoingDocument) == before + 50
        session.rollback()
