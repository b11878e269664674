"""The notifications' periodic work on the job queue: the time limits of the procedures (registration, issuance)
reach the clerks when near and when past, and the daily digests go out. Each notice's key names its event, so a
second run adds nothing.

The daily reminders (sắp đến hạn, quá hạn) have no job here: incoming announces each reminder row as it records
it (``events.on_reminder``) and its notice is written in that transaction, so the notice exists exactly when the
reminder does, whether ``remind`` runs at 06:00, late or by hand. No catch-up job either: it would have nothing to
catch, since a reminder is never committed without its notice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from portal import jobs
from portal.auth.models import Role
from portal.db import session
from portal.notifications import service
from portal.notifications.events import link, subject_of
from portal.notifications.models import Notification
from portal.timeutil import now_utc
from portal.workdays import limits

# the procedures with a time limit (portal/workdays/limits.py) are the clerks' work: vào sổ, phát hành
LIMIT_WORDS = {"register": "vào sổ", "issue": "cấp số, phát hành"}
LIMIT_LINKS = {"incoming_documents": ("incoming.document", "document_id"), "drafts": ("drafts.draft", "draft_id")}


def notify_limits(now: datetime | None = None) -> int:
    """Every item near its time limit or past it (``limits.near_or_past``) reaches its organisation's clerks:
    once when near, once when past (the key carries the due instant, so a limit IT moves is told again). Asked
    per organisation with clerks, so one organisation's backlog never hides another's."""
    now = now or now_utc()
    sent = 0
    for organisation_id, clerks in service.holders_by_organisation(Role.CLERK).items():
        keyed = [(item, f"limit.{item.kind}.{item.object_id}.{'past' if item.remaining.late else 'near'}."
                        f"{item.due:%Y%m%dT%H%M}")
                 for item in limits.near_or_past(organisation_id=organisation_id, now=now)
                 if item.object_type in LIMIT_LINKS]
        if not keyed:
            continue
        told = set(session.execute(select(Notification.key).where(  # the (user_id, key) index
            Notification.user_id.in_(clerks), Notification.key.in_([key for _, key in keyed]))).scalars())
        for item, key in keyed:
            if key in told:
                continue
            endpoint, name = LIMIT_LINKS[item.object_type]
            title = (f"{'Quá' if item.remaining.late else 'Sắp hết'} thời hạn {LIMIT_WORDS.get(item.kind, item.kind)} "
                     f"({item.remaining.label}): {subject_of(item.title)}")
            sent += service.notify(clerks, "overdue" if item.remaining.late else "deadline", title,
                                   link(endpoint, **{name: item.object_id}), key)
    session.commit()
    return sent


def daily_digest() -> int:
    sent = service.send_digests()
    session.commit()
    return sent


jobs.periodic("notify-limits", notify_limits, minute="*/15")
jobs.periodic("notification-digest", daily_digest, hour="17", minute="30")
