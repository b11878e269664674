"""The Huey instance and the hand-over from a committed row to it.

Storage: ``RedisHuey`` when ``PORTAL_REDIS_URL`` is set (queue name carries ``PORTAL_REDIS_PREFIX``),
else ``SqliteHuey`` in a file of its own: next to the SQLite database (``portal.db`` →
``portal-queue.db``), or ``instance/queue.db`` for PostgreSQL; ``PORTAL_JOBS_QUEUE_FILE`` overrides.

A job is pushed to Huey only after the transaction that wrote its row commits (``after_commit``), so
a consumer never looks for a row it cannot see yet and a rolled-back request leaves no task. A push
lost between commit and Huey (the process died) is repaired by the reaper, which pushes again any
queued row left waiting (``runner.reap``). Huey carries only the row's id; the row is the truth.

Immediate mode (``huey.immediate = True``, the tests): Huey keeps everything in memory and runs a
task when it is called; the after-commit push is skipped (the session cannot run SQL inside
``after_commit``) and tests run due rows with ``runner.run_due()``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context
from huey import Huey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.db import session

PENDING = "portal.jobs.pending"  # session.info key: (job id, not_before) pushed after commit


def queue_file(config: dict[str, Any], instance_path: str) -> Path:
    if config.get("JOBS_QUEUE_FILE"):
        return Path(config["JOBS_QUEUE_FILE"])
    url = str(config["DATABASE_URL"])
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        db_file = Path(url.removeprefix("sqlite:///"))
        return db_file.with_name(f"{db_file.stem}-queue.db")
    return Path(instance_path) / "queue.db"


def make_huey(app: Flask) -> Huey:
    config = app.config
    if config.get("REDIS_URL"):
        return RedisHuey(f"{config['REDIS_PREFIX']}jobs", url=config["REDIS_URL"], utc=True)
    path = queue_file(config, app.instance_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("portal-jobs", filename=str(path), utc=True)


def init_app(app: Flask) -> Huey:
    """One Huey per app, with the runner's task and every periodic task of ``periodic.PERIODIC``."""
    from portal.jobs import runner
    from portal.jobs.periodic import PERIODIC  # (portal.jobs.periodic is also the function's name)

    huey = make_huey(app)
    immediate = app.config.get("JOBS_IMMEDIATE")
    huey.immediate = bool(app.config.get("TESTING")) if immediate is None else bool(immediate)

    @huey.task(name="portal.run_job")
    def run_job(job_id: int) -> None:
        with app.app_context():
            runner.run(job_id)

    for task in PERIODIC:
        huey.periodic_task(crontab(**task.cron), name=f"portal.{task.name}")(_in_context(app, task.function))
    app.extensions["huey"] = huey
    app.extensions["huey.run_job"] = run_job
    return huey


def _in_context(app: Flask, function: Any) -> Any:
    def call() -> None:
        with app.app_context():
            try:
                function()
            finally:
                session.remove()
    call.__name__ = function.__name__
    return call


def push_after_commit(job_id: int, not_before: datetime) -> None:
    session.info.setdefault(PENDING, []).append((job_id, not_before))


def push(job_id: int, not_before: datetime | None = None) -> None:
    """Hand a committed row to Huey (at ``not_before`` for a back-off)."""
    huey: Huey = current_app.extensions["huey"]
    if huey.immediate:
        return
    task = current_app.extensions["huey.run_job"]
    task.schedule(args=(job_id,), eta=not_before) if not_before else task(job_id)


@event.listens_for(Session, "after_commit")
def _after_commit(sess: Session) -> None:
    pending = sess.info.pop(PENDING, None)
    if pending and has_app_context():
        for job_id, not_before in pending:
            push(job_id, not_before)


@event.listens_for(Session, "after_rollback")
def _after_rollback(sess: Session) -> None:
    sess.info.pop(PENDING, None)
