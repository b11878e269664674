"""The consumer: ``python -m portal.jobs.consumer`` (``make run`` starts it beside gunicorn).

Huey's consumer with ``JOBS_WORKERS`` worker threads runs the pushed jobs and the periodic tasks;
beside it a reaper thread runs ``runner.reap`` at start and every ``JOBS_REAP_SECONDS``, so a job
whose consumer died is queued again (or failed) within a lease plus that interval. Several
consumers may run against one database: claims and the reaper's updates are guarded."""

from __future__ import annotations

import logging
import threading

from flask import Flask

from portal.db import session

log = logging.getLogger("portal.jobs")


def reaper_loop(app: Flask, stop: threading.Event) -> None:
    from portal.jobs import runner

    interval = float(app.config["JOBS_REAP_SECONDS"])
    while True:
        with app.app_context():
            try:
                requeued, failed = runner.reap()
                if requeued or failed:
                    log.warning("reaper: %s job(s) queued again, %s failed", requeued, failed)
            except Exception:
                log.exception("reaper")
            finally:
                session.remove()
        if stop.wait(interval):
            return


def main() -> None:
    from portal import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = create_app()
    huey = app.extensions["huey"]
    stop = threading.Event()
    threading.Thread(target=reaper_loop, args=(app, stop), name="reaper", daemon=True).start()
    consumer = huey.create_consumer(workers=int(app.config["JOBS_WORKERS"]), worker_type="thread",
                                    periodic=True, initial_delay=0.1, max_delay=1.0, scheduler_interval=1)
    log.info("consumer: %s worker(s), queue %s", app.config["JOBS_WORKERS"], huey.storage.__class__.__name__)
    try:
        consumer.run()
    finally:
        stop.set()


if __name__ == "__main__":
    main()
