"""Periodic tasks: the list the consumer's scheduler reads (Huey ``crontab``, Vietnam time is the
server's; the times below assume the server runs in Asia/Ho_Chi_Minh or UTC, both at night).

Another feature adds its own with ``periodic(...)``, at import of its module (before the consumer
starts), e.g. the outbox's drain every minute and the nightly backup::

    from portal import jobs

    jobs.periodic("outbox-drain", outbox.drain_once)                       # every minute
    jobs.periodic("backup", backup.nightly, hour="1", minute="30")

The function runs in an application context, commits its own work and is called again at the next
tick if it failed (Huey logs the exception). Keep the CLI command beside each one: operators run
them by hand too. The reaper is not here: each consumer runs it every ``JOBS_REAP_SECONDS``
(``consumer.py``), because a minute is the coarsest Huey's crontab can say."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app

from portal import audit, storage
from portal.db import session


@dataclass(frozen=True)
class Periodic:
    name: str
    function: Callable[[], object]
    cron: dict[str, str] = field(default_factory=dict)  # crontab(minute=…, hour=…, day_of_week=…); {} = every minute


PERIODIC: list[Periodic] = []


def periodic(name: str, function: Callable[[], object], **cron: str) -> Callable[[], object]:
    if any(p.name == name for p in PERIODIC):
        raise ValueError(f"periodic task {name!r} is registered twice")
    PERIODIC.append(Periodic(name, function, cron))
    return function


def verify_audit() -> audit.VerifyResult:
    result = audit.verify(session(), current_app.config["AUDIT_KEY"])
    if not result.ok:
        current_app.logger.error("audit-verify: %s", result.message())
    return result


def verify_storage() -> tuple[list[str], list[str]]:
    """Broken or missing files (each audited) and files no row names (audited together), as the
    lines an operator reads; both empty when all is well."""
    broken = []
    for error in storage.scrub():
        audit.record(None, "storage.integrity_error", object_type="stored_files", object_id=error.sha256,
                     actor_name="storage-verify", details={"actual": error.actual})
        broken.append(str(error))
    base = storage.root()
    stray = [str(path.relative_to(base)) for path in storage.orphans()]
    if stray:
        audit.record(None, "storage.orphans", object_type="stored_files", actor_name="storage-verify",
                     details={"count": len(stray), "first": stray[:20]})
    session.commit()
    lines = broken + [f"Tệp mồ côi (không bản ghi nào tham chiếu): {path}" for path in stray]
    if lines:
        current_app.logger.error("storage-verify: %s", "; ".join(lines[:20]))
    return broken, lines[len(broken):]


def clean_storage() -> int:
    return len(storage.clean_tmp(24 * 3600))


periodic("audit-verify", verify_audit, hour="2", minute="0")
periodic("audit-anchor", audit.anchor_daily, hour="2", minute="15")  # the head, outside the database (SPEC §13.5)
periodic("storage-verify", verify_storage, hour="2", minute="30")
periodic("storage-clean", clean_storage, hour="3", minute="0")
