"""Thay thế (SPEC §5.8): the sender replaced a document by a new one, which arrives here as a document of its own
(a new số đến). The earlier one's history names the new one, and its open assignments (phiếu giao việc) close:
nobody goes on handling a version that is no longer in force, and their inbox items go with them. Called by
exchange (inside the portal and through the axis) in the transaction that receives the replacement. No Flask here.

A closed row is ``hoan_thanh`` (every "open" predicate leaves it: lists, inbox, reminders) with the outcome
``thay_the``, so the page says "Đã đóng (văn bản bị thay thế)", never that its work was done; a gia hạn request
waiting on it closes undecided. The document keeps its status: what the clerk and the leader do with the new one
(present it, assign it again) is theirs to decide.
"""

from __future__ import annotations

from sqlalchemy import select

from portal import audit
from portal.db import session
from portal.documents.models import IncomingDocument
from portal.incoming import events
from portal.incoming.events import _name
from portal.incoming.models import Assignment, AssignmentOutcome, AssignmentState, ExtensionState
from portal.incoming.workflow import UNFINISHED, latest_extension
from portal.workflow import lock


def replace(doc: IncomingDocument, new: IncomingDocument, text: str, actor_name: str) -> list[Assignment]:
    """``doc`` is replaced by ``new`` (received in this transaction): under the document's lock, as a step, every
    row not done closes, then one history line names the new document and the rows it closed; the audit names
    the new document's id, the rows and the gia hạn requests closed undecided. Returns the rows closed."""
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
    events._event(doc, None, "replaced", text=text + (f"\nĐóng phần việc đang mở: {closed}." if rows else ""),
                  actor_name=actor_name)
    if rows:
        audit.record(None, "incoming.assignments_closed", doc, organisation_id=doc.organisation_id,
                     details={"replaced_by": new.id, "assignments": [row.id for row in rows],
                              "extensions_closed": closed_requests, "outcome": AssignmentOutcome.REPLACED.value},
                     actor_name=actor_name)
    return rows
