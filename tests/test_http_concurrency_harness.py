"""The harness of tests/http_concurrency.py itself: a real server, real sign-in, two requests together."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from portal.auth.models import Role
from portal.db import session as db_session
from tests.concurrency import bound_to, live_app
from tests.conftest import Factory
from tests.http_concurrency import Person, serve, twice


@pytest.fixture
def live(fresh_database_url, tmp_path) -> Iterator:
    for app in live_app(fresh_database_url(), tmp_path / "storage"):
        with bound_to(app), app.app_context():
            yield app


def test_two_signed_in_requests_arrive_together_and_both_answer(live):
    person = Factory(db_session()).person(Role.CLERK)
    username = person.username
    db_session.commit()
    with serve(live) as base:
        clerk = Person(base, username)
        answers = twice(clerk, "GET", "/")
        assert [a.status_code for a in answers] == [200, 200]
        assert all("Việc của tôi" in a.text for a in answers)
        assert Person(base, username).get("/auth/login").status_code in (200, 303)
