"""Menu badges are reused for NAV_COUNT_SECONDS (they cost a quarter of a list page under load);
the person's own changes refresh them at once."""

from __future__ import annotations

import pytest

from portal import navigation
from portal.incoming import services
from tests.incoming_fixtures import PDF, metadata


@pytest.fixture
def cached_counts(app, monkeypatch):
    monkeypatch.setitem(app.config, "NAV_COUNT_SECONDS", 30)
    navigation._counts.clear()
    yield
    navigation._counts.clear()


def _arrive(org):
    services.receive(org, metadata(), [services.Upload("vb.pdf", PDF, services.FileRole.MAIN)])


def _badge(client) -> str:
    html = client.get("/").get_data(as_text=True)
    marker = 'title="Việc đang chờ">'
    return html.split(marker, 1)[1].split("<", 1)[0] if marker in html else "0"


def test_badges_are_reused_until_the_person_changes_something(db, client, login, office, cached_counts):
    org, _unit, p = office
    _arrive(org)
    login(p["clerk"])
    assert _badge(client) == "1"
    _arrive(org)  # someone else's change: seen within the TTL, not at once
    assert _badge(client) == "1"
    client.post("/auth/keepalive")  # any write by the person forgets their counts
    assert _badge(client) == "2"


def test_without_a_ttl_every_page_counts(db, client, login, office):
    org, _unit, p = office
    _arrive(org)
    login(p["clerk"])
    assert _badge(client) == "1"
    _arrive(org)
    assert _badge(client) == "2"
