"""Real concurrency for tests: a database of its own with real commits (the ``db`` fixture's single
outer transaction would serialise everything), and jobs released together in threads, each with
its own app context and session. Used by the numbering and issuance tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from portal import create_app, migrate
from portal.db import session as db_session
from tests.conftest import TEST_SETTINGS


def live_app(url: str, storage_dir: Path) -> Iterator[Flask]:
    """A migrated database and its app; the shared session stays bound where it was."""
    previous = db_session.session_factory.kw.get("bind")
    migrate.upgrade(url)
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": url, "STORAGE_DIR": str(storage_dir)})
    db_session.configure(bind=previous)  # create_app rebinds the shared session
    yield app
    app.extensions["engine"].dispose()


@contextmanager
def bound_to(app: Flask) -> Iterator[Flask]:
    """Binds the shared session (every thread's) to the app's database for one test."""
    previous = db_session.session_factory.kw.get("bind")
    db_session.remove()
    db_session.configure(bind=app.extensions["engine"])
    try:
        yield app
    finally:
        db_session.remove()
        db_session.configure(bind=previous)


@dataclass
class Outcome:
    numbers: dict[int, int]  # the committed jobs: record id → number
    errors: list[BaseException]
    names: list[str]  # thread names whose job failed


def run_together(app: Flask, jobs: list[Callable[[], tuple[int, int]]],
                 names: list[str] | None = None) -> Outcome:
    """Each job in its own thread, app context and session, all released at once; each commits,
    or rolls back on any exception (what db.init_app does for a request)."""
    barrier = threading.Barrier(len(jobs))
    lock = threading.Lock()
    outcome = Outcome({}, [], [])

    def run(job: Callable[[], tuple[int, int]]) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=60)
                key, number = job()
                db_session.commit()
                with lock:
                    outcome.numbers[key] = number
            except BaseException as exc:
                db_session.rollback()
                with lock:
                    outcome.errors.append(exc)
                    outcome.names.append(threading.current_thread().name)

    threads = [threading.Thread(target=run, args=(job,), name=(names[i] if names else f"clerk-{i}"))
               for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(t.is_alive() for t in threads), "a job hung"
    return outcome
