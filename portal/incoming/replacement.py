"""Thay thế (SPEC §5.8): the sender replaced a document by a new one, which arrives here as a document of its own
(a new số đến). The earlier one becomes "Đã bị thay thế" (status "tt", final: no step acts on it, it leaves every
open list, count and inbox) and names the new one (``replaced_by_id``: each page links to the other); its open
assignments (phiếu giao việc) close: nobody goes on handling a version that is no longer in force. Called by
exchange (inside the portal and through the axis) in the transaction that receives the replacement. No Flask here.

A closed row is ``hoan_thanh`` (every "open" predicate leaves it: lists, inbox, reminders) with the outcome
``thay_the``, so the page says "Đã đóng (văn bản bị thay thế)", never that its work was done; a gia hạn request
waiting on it closes undecided, and the people whose parts closed are told (``on_replaced`` listeners). "tt" has
no edXML code: no status goes back to the sender (exchange's codes are keyed by action, and "replaced" has none).
A document already returned (02) or recalled (15) keeps that status; one replaced twice names the newest.
What the clerk and the leader do with the new one is theirs to decide; the leader who directs it may give it to
the closed rows' assignees again in one step (``carry_over``).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from portal import audit
from portal.db import session
from portal.documents.models import IncomingDocument
from portal.incoming import events
from portal.incoming.events import _name
from portal.incoming.models import Assignment, AssignmentOutcome, AssignmentState, ExtensionState
from portal.incoming.visibility import S
from portal.incoming.workflow import UNFINISHED, latest_extension
from portal.workflow import lock

# Called after a replacement, in its transaction: (the earlier document, the new one, the rows closed). Notifications
# tell the people whose parts closed; incoming imports none of the listeners.
REPLACED_LISTENERS: list[Callable[[IncomingDocument, IncomingDocument, list[Assignment]], None]] = []


def on_replaced(listener: Callable[[IncomingDocument, IncomingDocument, list[Assignment]], None]) -> None:
    if listener not in REPLACED_LISTENERS:
        REPLACED_LISTENERS.append(listener)


def replace(doc: IncomingDocument, new: IncomingDocument, text: str, actor_name: str) -> list[Assignment]:
    """``doc`` is replaced by ``new`` (received in this transaction): under the document's lock, as a step, every
    row not done closes, the document moves to "Đã bị thay thế" naming ``new``, and one history line names the new
    document and the rows it closed; the audit names the new document's id, the rows and the gia hạn requests
    closed undecided. Returns the rows closed."""
    session.flush()
    lock(session(), IncomingDocument, doc.id)  # a handler's step on the old document waits, then finds it closed
    rows = list(session.execute(select(Assignment).where(Assignment.document_id == doc.id,
                                                         Assignment.state.in_(UNFINISHED))
                                .order_by(Assignment.level, Assignment.id)
                                .execution_options(populate_existing=True)).scalars())
    now = events._now()
    closed_requests = []
    for row in rows:
        row.state, row.finished_at, row.outcome = AssignmentState.DONE, now, AssignmentOutcome.REPLACED
        waiting = latest_extension(row)
        if waiting is not None and waiting.state == ExtensionState.PENDING:
            waiting.state, waiting.decided_at = ExtensionState.CLOSED, now
            waiting.decision_note = "Văn bản đã bị thay thế; phần việc đã đóng."
            closed_requests.append(waiting.id)
    session.flush()
    closed = "; ".join(f"{row.role.label}: {_name(row)}" for row in rows)
    text += f"\nĐóng phần việc đang mở: {closed}." if rows else ""
    doc.replaced_by_id = new.id
    if doc.status in (S.RETURNED, S.RECALLED, S.REPLACED):  # gone already, or replaced before: a history line
        session.flush()
        events._event(doc, None, "replaced", text=text, actor_name=actor_name)
    else:
        events._move(doc, None, "replaced", S.REPLACED, text=text, actor_name=actor_name)
    if rows:
        audit.record(None, "incoming.assignments_closed", doc, organisation_id=doc.organisation_id,
                     details={"replaced_by": new.id, "assignments": [row.id for row in rows],
                              "extensions_closed": closed_requests, "outcome": AssignmentOutcome.REPLACED.value},
                     actor_name=actor_name)
    for listener in REPLACED_LISTENERS:
        listener(doc, new, rows)
    return rows
