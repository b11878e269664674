"""After a replacement (SPEC §5.8, ``replacement.py``): the two pages name each other, and the leader who directs
the new document may give it to the people and units whose parts closed on the replaced one, in one step
("Giao như văn bản bị thay thế"). No Flask here.

The step is the directing service itself (``directing.direct``: its guard, lock, numbering of the phiếu, history,
audit, notifications, inbox and the status the sender is told all follow), with the assignees taken from the
replaced documents' closed level-1 rows (outcome ``thay_the``): the same roles, units and people, their deadlines
when not yet past. It is offered exactly when "Phân phối, chỉ đạo" is (the document is presented to this agency
leader, not yet directed) and those rows make a valid phiếu (one lead). Not a row of the document table: it is a
way of taking the table's ``direct`` step, guarded by it (``CARRY_OVER.guard``), so a repeat hears that the
document was directed already.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from portal import audit
from portal.auth.models import User
from portal.db import session
from portal.documents import numbering
from portal.documents.models import IncomingDocument
from portal.errors import NotAllowed
from portal.incoming.directing import AssigneeSpec, direct
from portal.incoming.models import Assignment, AssignmentOutcome, AssignmentRole
from portal.incoming.visibility import visible_clause
from portal.incoming.workflow import DOCUMENT
from portal.timeutil import local_today

ACTION = "carry_over"
TITLE = "Giao như văn bản bị thay thế"


@dataclass
class Link:
    doc: IncomingDocument
    visible: bool  # the person may open it (else the page names it without a link)

    @property
    def label(self) -> str:
        d = self.doc
        code = f"{d.code_number}/{d.code_notation}" if d.code_number and d.code_notation else ""
        number = f"số đến {numbering.display(d.arrival_number)}" if d.arrival_number is not None else ""
        return ", ".join(p for p in (f"văn bản {code}" if code else "văn bản", number) if p)


@dataclass
class Replacement:
    replaced_by: Link | None
    replaces: list[Link]


def _replaced(doc: IncomingDocument) -> list[IncomingDocument]:
    return list(session.execute(select(IncomingDocument).where(IncomingDocument.replaced_by_id == doc.id)
                                .order_by(IncomingDocument.id)).scalars())


def links(user: User, doc: IncomingDocument) -> Replacement:
    """What replaced this document, and what it replaces, each with whether this person may open it."""
    newer = session.get(IncomingDocument, doc.replaced_by_id) if doc.replaced_by_id else None
    older = _replaced(doc)
    ids = [d.id for d in (*older, *([newer] if newer else []))]
    seen = set(session.execute(select(IncomingDocument.id).where(IncomingDocument.id.in_(ids),
                                                                 visible_clause(user))).scalars()) if ids else set()
    return Replacement(Link(newer, newer.id in seen) if newer else None, [Link(d, d.id in seen) for d in older])


def carried(doc: IncomingDocument) -> list[AssigneeSpec]:
    """The phiếu the replaced documents had: their level-1 rows closed by the replacement, one per unit or person
    (the lead first), deadlines already past left out. Empty unless it has exactly one lead."""
    rows = session.execute(select(Assignment).join(IncomingDocument, IncomingDocument.id == Assignment.document_id)
                           .where(IncomingDocument.replaced_by_id == doc.id, Assignment.level == 1,
                                  Assignment.outcome == AssignmentOutcome.REPLACED)
                           .order_by(Assignment.role != AssignmentRole.LEAD, Assignment.id)).scalars()
    today, specs, seen = local_today(), [], set()
    for row in rows:
        key = (row.assignee_user_id, row.assignee_unit_id)
        if key in seen:
            continue
        seen.add(key)
        deadline = row.deadline if row.deadline is not None and row.deadline >= today else None
        specs.append(AssigneeSpec(row.role, user_id=row.assignee_user_id, unit_id=row.assignee_unit_id,
                                  deadline=deadline))
    return specs if sum(s.role == AssignmentRole.LEAD for s in specs) == 1 else []


class CarryOver:
    """Duck-types ``Workflow.guard`` for ``run_step``: the table's ``direct`` guard (repeat, state, who), then
    whether there is work to carry over."""

    name = DOCUMENT.name

    def guard(self, user: User, action: str, doc: IncomingDocument) -> None:
        DOCUMENT.guard(user, "direct", doc)
        if not carried(doc):
            raise NotAllowed(f"{self.name}.{ACTION}", "Văn bản này không thay thế văn bản nào có phần việc đã đóng "
                                                       "để giao lại; hãy dùng “Phân phối, chỉ đạo”.")


CARRY_OVER = CarryOver()


def may_carry_over(user: User, doc: IncomingDocument) -> bool:
    return DOCUMENT.may(user, "direct", doc) and bool(carried(doc))


def carry_over(leader: User, doc: IncomingDocument) -> list[Assignment]:
    """Phân phối the new document to the replaced one's assignees (see the module's docstring)."""
    CARRY_OVER.guard(leader, ACTION, doc)
    specs, older = carried(doc), _replaced(doc)
    numbers = ", ".join(numbering.display(d.arrival_number) for d in older if d.arrival_number is not None)
    directive = f"Giao như văn bản bị thay thế{f' (số đến {numbers})' if numbers else ''}."
    later = [d.due_date for d in older if d.due_date is not None and d.due_date >= local_today()]
    rows = direct(leader, doc, directive, specs, due_date=None if doc.due_date else min(later, default=None))
    audit.record(leader, "incoming.carry_over", doc, organisation_id=doc.organisation_id,
                 details={"replaced": [d.id for d in older], "assignments": [r.id for r in rows]})
    return rows
