"""The inbox's counters against a full recount (issue 18 item 1), for the step tests to call after every step
of every table: the stored items and counters equal what the features compute from scratch, and each
person's counters equal what their own lists count with the lists' predicates."""

from __future__ import annotations

from collections.abc import Iterable

from portal.auth.models import User
from portal.db import session as db_session
from portal.inbox import queries as inbox
from portal.inbox.maintain import verify


def agrees_with_a_recount() -> None:
    try:
        report = verify(db_session())
        assert report.agreed, report.details
    finally:
        db_session.remove()


def lists_agree(users: Iterable[User]) -> None:
    """Every action queue of the incoming and draft lists counts what the counters say, for each person, and the
    time tabs (Quá hạn, Sắp đến hạn) what the inbox's items say."""
    from portal.drafts import queries as drafts
    from portal.incoming import queries as incoming

    try:
        for user in users:
            counted = inbox.counts(db_session(), user)
            for name, feature in (("incoming", incoming), ("draft", drafts)):
                mine = counted.slugs(name)
                for queue in feature.queues_for(user):
                    if queue.slug == "sap-den-han":
                        counted_here = feature.due_soon_count(user)
                    elif not queue.action:
                        continue
                    else:
                        counted_here = (feature.overdue_count(user) if queue.slug == "qua-han"
                                        else mine.get(queue.slug, 0))
                    assert counted_here == feature.count(user, queue), (user.username, name, queue.slug)
    finally:
        db_session.remove()


def _may(user: User, source: str, subject_id: int) -> set[str]:
    """What the feature's transition tables let this person do on the subject now."""
    from sqlalchemy import select

    from portal.documents.models import IncomingDocument
    from portal.drafts.models import Draft
    from portal.drafts.workflow import FLOW
    from portal.incoming.models import Assignment
    from portal.incoming.workflow import ASSIGNMENT, DOCUMENT
    from portal.schedules.models import Week
    from portal.schedules.workflow import WEEK

    db = db_session()
    if source == "incoming":
        doc = db.get(IncomingDocument, subject_id)
        rows = db.scalars(select(Assignment).where(Assignment.document_id == subject_id)).all()
        return DOCUMENT.allowed(user, doc) | {a for row in rows for a in ASSIGNMENT.allowed(user, row)}
    if source == "draft":
        return FLOW.allowed(user, db.get(Draft, subject_id))
    return WEEK.allowed(user, db.get(Week, subject_id))


def owners_may_act(users: Iterable[User]) -> None:
    """Every item in a person's inbox is work their feature's table lets them do: one of its queue's steps."""
    from portal.inbox.registry import all_queues

    queues = all_queues()
    try:
        for user in users:
            for row in inbox.page(db_session(), user, limit=1000):
                may = _may(user, row.source, row.subject_id)
                assert may & set(queues[row.queue].actions), (user.username, row.queue, row.subject_id, may)
    finally:
        db_session.remove()
