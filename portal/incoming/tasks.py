"""Incoming's work on the job queue: the daily reminders (SPEC §5.6), also ``flask portal remind``."""

from __future__ import annotations

from datetime import date

from portal import jobs
from portal.db import session
from portal.incoming import services as incoming


def send_reminders(day: date | None = None) -> int:
    sent = incoming.send_due_reminders(day)
    session.commit()
    return sent


jobs.periodic("remind", send_reminders, hour="6", minute="0")
