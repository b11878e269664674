"""The outbox on the job queue: the drain every minute, the password-expiry notices every morning (the same
two are ``flask portal outbox-drain`` / ``flask portal password-expiry-notices``, in ``portal.cli``).
Imported once by ``create_app`` (before ``jobs.init_app``)."""

from __future__ import annotations

from portal import jobs
from portal.db import session
from portal.outbox.drain import drain_once
from portal.outbox.expiry import queue_password_expiry_notices


def daily_expiry_notices() -> int:
    queued = queue_password_expiry_notices()
    session.commit()
    return queued


jobs.periodic("outbox-drain", drain_once)  # every minute
jobs.periodic("password-expiry-notices", daily_expiry_notices, hour="7", minute="0")
