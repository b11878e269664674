"""What the step-concurrency tests share (issue 14): a live database and server per module, and
the check that a pair of identical requests got clear answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from portal.audit import AuditEntry
from portal.db import session as db_session
from tests.concurrency import bound_to, live_app
from tests.http_concurrency import Person, serve


def live_server(url: str, storage: Path) -> Iterator[tuple[Flask, str]]:
    for app in live_app(url, storage):
        with bound_to(app), app.app_context(), serve(app) as base:
            yield app, base


def read(query: Any) -> Any:
    """One read in the test's own short transaction (on SQLite a held transaction would hold the
    write lock and stall the server's threads)."""
    try:
        return db_session.execute(query).scalar()
    finally:
        db_session.remove()


def audit_rows(action: str, object_id: int | None = None) -> int:
    q = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
    if object_id is not None:
        q = q.where(AuditEntry.object_id == str(object_id))
    return read(q)


def follow(person: Person, resp: requests.Response) -> str:
    """The page a 303 leads to, with the cookies that answer set (its flashed notice)."""
    jar = requests.cookies.RequestsCookieJar()
    jar.update(person.cookies)
    jar.update(resp.cookies)
    with requests.Session() as http:
        http.cookies.update(jar)
        page = http.get(person.base + resp.headers["Location"], allow_redirects=False, timeout=60)
    assert page.status_code == 200, (resp.headers["Location"], page.status_code)
    return page.text


def quiet(*people: Person) -> None:
    """Show each person a page, so notices left by the setup's requests are not read as the pair's."""
    for person in people:
        assert person.get("/").status_code == 200


def clear_answers(person: Person, answers: list[requests.Response], *, success: str, notice: str,
                  htmx: bool = False) -> None:
    """One success, one "already done" with what happened; never 403 or 500."""
    codes = sorted(a.status_code for a in answers)
    assert not {403, 500} & set(codes), codes
    if htmx:
        assert codes == [200, 409], [(a.status_code, a.text[:300]) for a in answers]
        ok = next(a for a in answers if a.status_code == 200)
        repeat = next(a for a in answers if a.status_code == 409)
        assert ok.headers.get("HX-Redirect"), ok.headers
        assert notice in repeat.text, repeat.text[:1000]
        return
    assert codes == [303, 303], [(a.status_code, a.text[:300]) for a in answers]
    pages = [follow(person, a) for a in answers]
    said = sorted(("success" if success in p else "") + ("notice" if notice in p else "") for p in pages)
    assert said == ["notice", "success"], [p[p.find('class="flash'):][:600] for p in pages]


def scenario_for(scenarios: dict[tuple[str, str], Any], key: tuple[str, str]) -> Any:
    if key not in scenarios:
        pytest.fail(f"Bước {key[0]}.{key[1]} chưa có kịch bản hai yêu cầu đồng thời")
    return scenarios[key]
