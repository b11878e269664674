"""Menu badges read the inbox's counters (issue 18 item 1): never cached, never stale. Another person's
change shows on the next page at once, and the page a person's own step answers with already counts it."""

from __future__ import annotations

from portal.incoming import services
from tests.incoming_fixtures import PDF, metadata


def _arrive(org):
    services.receive(org, metadata(), [services.Upload("vb.pdf", PDF, services.FileRole.MAIN)])


def _badge(client) -> str:
    html = client.get("/").get_data(as_text=True)
    marker = 'title="Việc đang chờ">'
    return html.split(marker, 1)[1].split("<", 1)[0] if marker in html else "0"


def test_someone_elses_change_shows_on_the_next_page(db, client, login, office):
    org, _unit, p = office
    _arrive(org)
    login(p["clerk"])
    assert _badge(client) == "1"
    _arrive(org)  # an arrival by another path (the axis, another clerk): no cache to wait for
    assert _badge(client) == "2"
