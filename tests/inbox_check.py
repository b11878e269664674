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
    """Every action queue of the incoming and draft lists counts what the counters say, for each person."""
    from portal.drafts import queries as drafts
    from portal.incoming import queries as incoming

    try:
        for user in users:
            counted = inbox.counts(db_session(), user)
            for name, feature in (("incoming", incoming), ("draft", drafts)):
                mine = counted.slugs(name)
                for queue in feature.queues_for(user):
                    if not queue.action or queue.slug == "qua-han":  # time-based: not a queue of the inbox
                        continue
                    assert mine.get(queue.slug, 0) == feature.count(user, queue), (user.username, name, queue.slug)
    finally:
        db_session.remove()
