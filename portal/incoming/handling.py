"""Handling (SPEC §5.6): progress notes, "đã xem", the lead's finish, reopening, reminders, and the
document's replies. No Flask here.

Every assignment row keeps its own state. The lead person's "Hoàn thành" closes the document and
the **lead chain** only: the lead's level-1 row and, when that is a unit, the unit's own lead person
below it. Co-operating parties finish their own part (also after the document is done: they report
by their own deadlines); for-information rows are only marked "Đã xem". Nobody is shown "Hoàn
thành" for work they did not do, and "Mở lại" puts back only what the lead's finish closed.

A reply is a draft written as the document's answer (``Draft.reply_to_id``) and the outgoing
document it became; the link lives on the draft, so finishing or reopening the incoming document
never touches it. Finishing records the newest issued reply as "văn bản trả lời"
(``answer_outgoing_id``, the register's column) unless one is recorded already.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from portal import audit
from portal.auth.models import User
from portal.db import session
from portal.documents.models import IncomingDocument, OutgoingDocument, OutgoingStatus
from portal.errors import NotFound, ValidationFailed
from portal.incoming import events
from portal.incoming.events import _name, guard, guard_parts, guard_row
from portal.incoming.metadata import Upload, _attach
from portal.incoming.models import (
    Assignment,
    AssignmentRole,
    AssignmentState,
    FileRole,
    Reminder,
    ReminderKind,
)
from portal.incoming.parts import close_parts, lead_chain, lead_person_assignment, open_parts
from portal.incoming.visibility import OPEN_STATUSES, WORK_STATUSES, S, headed_unit_id
from portal.incoming.workflow import WrongStep
from portal.text import limited, nfc
from portal.timeutil import local_today
from portal.workdays.calendar import due_soon_cutoff, is_working_day, overdue_cutoff
from portal.workdays.limits import due_soon_days

if TYPE_CHECKING:
    from portal.drafts.models import Draft

__all__ = ["close_parts", "lead_chain", "open_parts"]  # the primitives, re-exported from parts.py


def record_progress(user: User, doc: IncomingDocument, text: str, files: Iterable[Upload] = (), *,
                    part_done: bool = False) -> None:
    """A progress note (the lead's first one moves 04 → 05); co-operating assignees send their
    input to the lead this way, and with ``part_done`` finish their own part, also after the lead
    has finished the document (handling.py); the document's status does not move for that."""
    mine = guard_parts(user, "finish_part" if part_done else "progress", doc)
    text = (nfc(text) or "").strip()
    if not text:
        raise ValidationFailed({"text": "Hãy ghi nội dung tiến độ hoặc ý kiến."})
    if len(text) > 2000:
        raise ValidationFailed({"text": "Nội dung tối đa 2.000 ký tự."})
    parts = mine if part_done else []
    for upload in files:
        _attach(doc, user, upload.stream, upload.filename, FileRole.RESULT)
    if parts:
        close_parts(parts, events._now())
        session.flush()
        events._event(doc, user, "finish_part", text=text, assignment=parts[-1])
        return
    row = mine[-1]
    row.state = AssignmentState.WORKING
    lead = lead_person_assignment(doc)
    action = "progress" if row.role == AssignmentRole.LEAD else "input"
    if lead is not None and lead.assignee_user_id == user.id and doc.status == S.ASSIGNED:
        events._move(doc, user, action, S.IN_PROGRESS, text=text)
    else:
        session.flush()
        events._event(doc, user, action, text=text, assignment=row)


def mark_seen(user: User, doc: IncomingDocument) -> None:
    mine = guard_parts(user, "seen", doc)
    for row in mine:
        row.state = AssignmentState.SEEN
    session.flush()
    events._event(doc, user, "seen", assignment=mine[-1])


def finish(user: User, doc: IncomingDocument, result: str, files: Iterable[Upload] = (),
           answer_outgoing_id: int | None = None) -> None:
    """Hoàn thành (04/05 → 06) by the lead person, with the result (mandatory)."""
    guard(user, "finish", doc)
    result = (nfc(result) or "").strip()
    if not result:
        raise ValidationFailed({"result": "Hãy ghi kết quả xử lý (hoặc số, ký hiệu văn bản trả lời)."})
    if len(result) > 2000:
        raise ValidationFailed({"result": "Kết quả tối đa 2.000 ký tự."})
    for upload in files:
        _attach(doc, user, upload.stream, upload.filename, FileRole.RESULT)
    now = events._now()
    for row in lead_chain(doc):  # co-operating and for-information rows keep their own state
        row.state, row.finished_at = AssignmentState.DONE, now
    doc.result_text = result
    doc.answer_outgoing_id = answer_outgoing_id or doc.answer_outgoing_id or issued_reply_id(doc)
    doc.completed_at = now
    events._move(doc, user, "finish", S.DONE, text=result)


def reopen(user: User, doc: IncomingDocument, reason: str) -> None:
    guard(user, "reopen", doc)  # the table's rule: a document filed for information has no lead to reopen
    reason = limited(reason, 1000, "reason", "Lý do")
    if not reason:
        raise ValidationFailed({"reason": "Hãy ghi lý do mở lại."})
    for row in lead_chain(doc):  # what the finish closed; the others' parts stay as they are
        row.state, row.finished_at = AssignmentState.WORKING, None
    doc.completed_at = None
    events._move(doc, user, "reopen", S.IN_PROGRESS, text=reason)


# --- chasing --------------------------------------------------------------------------------------------

def remind(user: User, doc: IncomingDocument, assignment_id: int, kind: ReminderKind, text: str) -> Reminder:
    row = session.get(Assignment, assignment_id)
    if row is None or row.document_id != doc.id:
        if doc.status not in OPEN_STATUSES:  # the state first, as before (at 06 only an open part is chased)
            raise WrongStep("incoming_assignment.remind",
                            f"Văn bản đang ở trạng thái “{doc.status_label}”, không thể “đôn đốc”.")
        raise NotFound()
    guard_row(user, "remind", doc, row)
    if kind not in (ReminderKind.REMIND, ReminderKind.CRITICISE, ReminderKind.REVIEW):
        raise ValidationFailed({"kind": "Hãy chọn hình thức đôn đốc."})
    text = (nfc(text) or "").strip()
    if len(text) > 1000:
        raise ValidationFailed({"text": "Nội dung tối đa 1.000 ký tự."})
    reminder = Reminder(assignment_id=row.id, kind=kind, text=text or None, sent_by_id=user.id, sent_at=events._now())
    session.add(reminder)
    session.flush()
    events._event(doc, user, "remind", text=f"{kind.label} {_name(row)}" + (f": {text}" if text else ""),
                  assignment=row)
    events.reminded(reminder, row, doc)
    return reminder


def send_due_reminders(today: date | None = None) -> int:
    """The daily job (`portal remind`): one "sắp đến hạn" or "quá hạn" reminder per open
    assignment and day, however often it runs (a unique key per assignment, kind and day). Days
    count as working days (``portal.workdays``): due soon = within ``DUE_SOON_WORKING_DAYS`` working
    days, overdue = past a deadline that ran to its working day's end; on a day off nobody is
    reminded (Monday's run tells them)."""
    today = today or local_today()
    if not is_working_day(today):
        return 0
    cutoff = overdue_cutoff(today)
    rows = session.execute(
        select(Assignment, IncomingDocument).join(IncomingDocument, IncomingDocument.id == Assignment.document_id)
        .where(IncomingDocument.status.in_(WORK_STATUSES), Assignment.deadline.is_not(None),
               Assignment.deadline <= due_soon_cutoff(today, due_soon_days()),
               Assignment.role != AssignmentRole.INFORM, Assignment.state != AssignmentState.DONE)
    ).all()
    sent = 0
    for row, doc in rows:
        kind = ReminderKind.OVERDUE if row.deadline <= cutoff else ReminderKind.DUE_SOON
        exists_already = session.execute(select(Reminder.id).where(
            Reminder.assignment_id == row.id, Reminder.kind == kind, Reminder.for_date == today)).first()
        if exists_already:
            continue
        reminder = Reminder(assignment_id=row.id, kind=kind, for_date=today, sent_at=events._now(),
                            text=f"Hạn xử lý {row.deadline:%d/%m/%Y}")
        with session.begin_nested():
            session.add(reminder)
        events.reminded(reminder, row, doc)  # its notice, in this transaction
        sent += 1
    if sent:
        audit.record(None, "incoming.reminders_sent", actor_name="hệ thống", details={"count": sent,
                                                                                       "date": today.isoformat()})
    return sent


def reminders_for(user: User, limit: int = 50) -> list[Reminder]:
    """What this person has been reminded of, newest first (person assignments, and unit ones
    for the unit's head)."""
    unit = headed_unit_id(user)
    who = Assignment.assignee_user_id == user.id
    if unit is not None:
        who = or_(who, Assignment.assignee_unit_id == unit)
    return list(session.execute(
        select(Reminder).join(Assignment, Assignment.id == Reminder.assignment_id)
        .join(IncomingDocument, IncomingDocument.id == Assignment.document_id)
        .where(who, IncomingDocument.status.not_in((S.RECALLED, S.REPLACED))).order_by(Reminder.id.desc()).limit(limit)
    ).scalars())



# --- replies ---------------------------------------------------------------------------------------------

@dataclass
class Reply:
    draft: Draft | None  # None: an outgoing document recorded as the answer without a draft here
    outgoing: OutgoingDocument | None  # None while the draft is not issued


def replies(doc: IncomingDocument) -> list[Reply]:
    """Every reply of the document in any state but cancelled, oldest first; the recorded answer
    too when no draft here leads to it."""
    from portal.drafts.models import Draft, DraftStatus  # importing portal.drafts at load time is circular

    found = [Reply(draft, out) for draft, out in session.execute(
        select(Draft, OutgoingDocument).outerjoin(OutgoingDocument, OutgoingDocument.id == Draft.outgoing_id)
        .where(Draft.reply_to_id == doc.id, Draft.status != DraftStatus.CANCELLED).order_by(Draft.id)).all()]
    if doc.answer_outgoing_id is not None and all(r.outgoing is None or r.outgoing.id != doc.answer_outgoing_id
                                                  for r in found):
        found.append(Reply(None, session.get(OutgoingDocument, doc.answer_outgoing_id)))
    return found


def issued_reply_id(doc: IncomingDocument) -> int | None:
    """The newest issued (not recalled) outgoing document drafted as this document's reply."""
    from portal.drafts.models import Draft

    return session.execute(
        select(OutgoingDocument.id).join(Draft, Draft.outgoing_id == OutgoingDocument.id)
        .where(Draft.reply_to_id == doc.id, OutgoingDocument.status == OutgoingStatus.ISSUED)
        .order_by(OutgoingDocument.issued_at.desc(), OutgoingDocument.id.desc()).limit(1)).scalar_one_or_none()
