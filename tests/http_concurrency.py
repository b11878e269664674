"""Two identical requests at the same moment, over real HTTP (issue 14).

``serve(app)`` runs the app on a loopback port in a threaded Werkzeug server: every request gets its
own thread, app context, database session and connection, and commits as in production. ``Person``
signs in through the real form and keeps its cookies; ``twice`` sends the same request on two
connections released by a barrier, so both reach the server together, and returns both answers.

Use with ``tests.concurrency.live_app`` (a database of its own with real commits) and ``bound_to``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import PASSWORD


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="portal-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


class Person:
    """A signed-in person's browser: cookies, and requests that never follow redirects."""

    def __init__(self, base: str, username: str, password: str = PASSWORD) -> None:
        self.base = base
        self.cookies = requests.cookies.RequestsCookieJar()
        resp = self.request("POST", "/auth/login", data={"username": username, "password": password})
        assert resp.status_code == 303, resp.text[:500]

    def request(self, method: str, path: str, *, htmx: bool = False, **kw: Any) -> requests.Response:
        with requests.Session() as http:  # a connection of its own
            http.cookies.update(self.cookies)
            headers = {"HX-Request": "true", "HX-Target": "main"} if htmx else {}
            resp = http.request(method, self.base + path, headers=headers, allow_redirects=False, timeout=60, **kw)
            self.cookies.update(http.cookies)
            return resp

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)


def twice(person: Person, method: str, path: str, **kw: Any) -> list[requests.Response]:
    """The same request twice, released together on two connections; answers in completion order.
    ``files`` values must be bytes (a stream would be read by the first request only)."""
    barrier = threading.Barrier(2)
    answers: list[requests.Response] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def send() -> None:
        try:
            barrier.wait(timeout=30)
            resp = person.request(method, path, **kw)
            with lock:
                answers.append(resp)
        except BaseException as exc:
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=send, name=f"twice-{i}") for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(answers) == 2, "a request hung"
    return answers
