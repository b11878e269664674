"""Gia hạn (SPEC §5.6): the lead handler asks for a later deadline with a reason and a date (or a number
of working days), whoever set the deadline approves or refuses it (once they are gone, whoever stands in:
``deciders.py``); each request keeps the deadline before and after, so the history shows every extension
and the reports read the deadline in force.
The rules of who and when live in the assignment table (``workflow.ASSIGNMENT``). No Flask here."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.auth.models import User
from portal.db import session
from portal.documents.models import IncomingDocument
from portal.errors import NotFound, ValidationFailed
from portal.incoming import events
from portal.incoming.events import _name, guard_row
from portal.incoming.models import Assignment, Extension, ExtensionState
from portal.incoming.workflow import latest_extension
from portal.text import limited
from portal.timeutil import local_today
from portal.workdays import deadlines


def _row(doc: IncomingDocument, assignment_id: int) -> Assignment:
    row = session.get(Assignment, assignment_id)
    if row is None or row.document_id != doc.id:
        raise NotFound()
    return row


def request_extension(user: User, doc: IncomingDocument, assignment_id: int, reason: str,
                      proposed: date | None = None, days: int | None = None) -> Extension:
    """Xin gia hạn: the new date is typed, or counted as ``days`` working days from today."""
    row = _row(doc, assignment_id)
    guard_row(user, "request_extension", doc, row)
    errors: dict[str, str] = {}
    try:
        reason = limited(reason, 1000, "reason", "Lý do").strip()
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if not reason and "reason" not in errors:
        errors["reason"] = "Hãy ghi lý do xin gia hạn."
    try:
        proposed = deadlines.resolve(proposed, days, "proposed", local_today())
    except ValidationFailed as exc:
        errors.update(exc.errors)
        proposed = None
    assert row.deadline is not None  # the table's rule: only a deadline is extended
    if proposed is None:
        errors.setdefault("proposed", "Hãy nhập hạn mới đề nghị (một ngày, hoặc số ngày làm việc).")
    elif proposed <= row.deadline:
        errors["proposed"] = f"Hạn đề nghị phải sau hạn hiện tại ({row.deadline:%d/%m/%Y})."
    elif (parent := session.get(Assignment, row.parent_id) if row.parent_id else None) is not None \
            and parent.deadline is not None and proposed > parent.deadline:
        errors["proposed"] = (f"Hạn đề nghị không được sau hạn của đơn vị ({parent.deadline:%d/%m/%Y}); "
                              "đơn vị cần xin gia hạn trước.")
    if errors:
        raise ValidationFailed(errors)
    assert proposed is not None
    ext = Extension(document_id=doc.id, requested_by_id=user.id, requested_at=events._now(),
                    reason=reason, old_deadline=row.deadline, proposed_deadline=proposed)
    row.extensions.append(ext)
    session.flush()
    events._event(doc, user, "extension_requested", assignment=row,
                  text=f"Xin gia hạn {_name(row)}: {row.deadline:%d/%m/%Y} → {proposed:%d/%m/%Y}. Lý do: {reason}")
    return ext


def _pending(row: Assignment) -> Extension:
    ext = latest_extension(row)
    assert ext is not None  # the table's rule: a request is waiting
    assert ext.state == ExtensionState.PENDING
    return ext


def approve_extension(user: User, doc: IncomingDocument, assignment_id: int, note: str | None = None) -> Extension:
    """Đồng ý: the row's deadline becomes the proposed date."""
    row = _row(doc, assignment_id)
    guard_row(user, "approve_extension", doc, row)
    note = limited(note, 1000, "note", "Ý kiến").strip() or None
    ext = _pending(row)
    ext.state, ext.decided_by_id, ext.decided_at, ext.decision_note = (
        ExtensionState.APPROVED, user.id, events._now(), note)
    row.deadline = ext.proposed_deadline
    session.flush()
    events._event(doc, user, "extension_approved", assignment=row,
                  text=f"Đồng ý gia hạn {_name(row)}: {ext.old_deadline:%d/%m/%Y} → {ext.proposed_deadline:%d/%m/%Y}"
                       + (f". {note}" if note else ""))
    return ext


def refuse_extension(user: User, doc: IncomingDocument, assignment_id: int, reason: str) -> Extension:
    """Không đồng ý, with the reason; the deadline stays."""
    row = _row(doc, assignment_id)
    guard_row(user, "refuse_extension", doc, row)
    reason = limited(reason, 1000, "reason", "Lý do").strip()
    if not reason:
        raise ValidationFailed({"reason": "Hãy ghi lý do không đồng ý gia hạn."})
    ext = _pending(row)
    ext.state, ext.decided_by_id, ext.decided_at, ext.decision_note = (
        ExtensionState.REFUSED, user.id, events._now(), reason)
    session.flush()
    events._event(doc, user, "extension_refused", assignment=row,
                  text=f"Không đồng ý gia hạn {_name(row)} đến {ext.proposed_deadline:%d/%m/%Y}: {reason}")
    return ext


def extensions_of(doc: IncomingDocument) -> list[Extension]:
    """Every request on the document's rows, oldest first (the page's history of extensions)."""
    return list(session.execute(select(Extension).where(Extension.document_id == doc.id)
                                .order_by(Extension.id)).scalars())
