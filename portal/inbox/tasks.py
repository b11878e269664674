"""The nightly rebuild of the inbox: recompute every item and counter, fix and report what differed (it must
be nothing; anything else is a defect, logged as an error and audited)."""

from __future__ import annotations

from flask import current_app

from portal import audit, jobs
from portal.db import session
from portal.inbox.maintain import Report, rebuild


def nightly_rebuild() -> Report:
    report = rebuild(session())
    if not report.agreed:
        current_app.logger.error("inbox-rebuild: %d items, %d counters fixed: %s", report.items, report.counts,
                                 "; ".join(report.details[:20]))
        audit.record(None, "inbox.rebuild_fixed", object_type="work_items", actor_name="inbox-rebuild",
                     details={"items": report.items, "counts": report.counts, "first": report.details[:20]})
    session.commit()
    return report


jobs.periodic("inbox-rebuild", nightly_rebuild, hour="2", minute="15")
