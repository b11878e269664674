"""What every incoming step writes: the history row and the audit row together, the status move,
the sort key; and the guard every step function starts with. No Flask here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import update

from portal import audit
from portal.auth.models import User
from portal.db import session, utcnow
from portal.documents.models import IncomingDocument, Urgency
from portal.incoming.models import Assignment, IncomingEvent, Reminder
from portal.incoming.visibility import S
from portal.incoming.workflow import ASSIGNMENT, DOCUMENT, MY_PARTS
from portal.orgs.models import Organisation
from portal.workflow import lock

ACTION_LABELS = {
    "arrive": "Văn bản đến hệ thống",
    "return": "Trả lại nơi gửi",
    "accept": "Tiếp nhận",
    "register": "Tiếp nhận, vào sổ",
    "number": "Vào sổ",
    "digitise": "Nhập văn bản giấy và vào sổ",
    "present": "Trình lãnh đạo",
    "forward": "Chuyển lãnh đạo khác",
    "send_back": "Trả lại văn thư",
    "direct": "Phân phối, chỉ đạo",
    "assign_directly": "Chuyển xử lý",
    "file_info": "Lưu, để biết",
    "unit_direct": "Giao xử lý trong đơn vị",
    "progress": "Cập nhật tiến độ",
    "input": "Gửi ý kiến phối hợp",
    "seen": "Đã xem",
    "finish": "Hoàn thành",
    "finish_part": "Hoàn thành phần việc phối hợp",
    "reopen": "Mở lại",
    "remind": "Đôn đốc",
    "extension_requested": "Xin gia hạn",
    "extension_approved": "Đồng ý gia hạn",
    "extension_refused": "Không đồng ý gia hạn",
    "recall_requested": "Nơi gửi đề nghị thu hồi",
    "recalled": "Đã thu hồi",
    "recall_refused": "Từ chối thu hồi",
    "replaced": "Nơi gửi ban hành văn bản thay thế",
    "updated": "Nơi gửi cập nhật (đính chính) văn bản",
}


def _now() -> datetime:
    return utcnow()


def guard(user: User, action: str, doc: IncomingDocument) -> IncomingDocument:
    """The table's guard on the document locked for this transaction (re-read under the lock, so
    a second identical request sees the first one's result): passes, or raises Repeated (the step
    already happened), WrongStep or NotAllowed. Pending changes are flushed before the re-read."""
    session.flush()
    locked = lock(session(), IncomingDocument, doc.id)
    assert locked is doc or locked is not None
    DOCUMENT.guard(user, action, locked)
    return locked


def guard_parts(user: User, action: str, doc: IncomingDocument) -> list[Any]:
    """The same for a step on the person's own assignment rows: the rows it may act on."""
    session.flush()
    lock(session(), IncomingDocument, doc.id)
    return MY_PARTS.guard(user, action, doc)


# Called after every history row, in the same transaction: (document, action, text). Other features
# register here (exchange sends the status back to a sender outside the portal); incoming imports none of them.
LISTENERS: list[Callable[[IncomingDocument, str, str | None], None]] = []


def on_event(listener: Callable[[IncomingDocument, str, str | None], None]) -> None:
    if listener not in LISTENERS:
        LISTENERS.append(listener)


# Called when a reminder row is recorded, by a person's đôn đốc or by the daily job (``portal remind``), in the
# same transaction: (reminder, its assignment row, the document). Notifications turn it into the notice there, so
# the notice exists exactly when the reminder does, whenever the job runs.
REMINDER_LISTENERS: list[Callable[[Reminder, Assignment, IncomingDocument], None]] = []


def on_reminder(listener: Callable[[Reminder, Assignment, IncomingDocument], None]) -> None:
    if listener not in REMINDER_LISTENERS:
        REMINDER_LISTENERS.append(listener)


def reminded(reminder: Reminder, row: Assignment, doc: IncomingDocument) -> None:
    """Announce a reminder row just written (flushed: it has its id)."""
    for listener in REMINDER_LISTENERS:
        listener(reminder, row, doc)


def _event(doc: IncomingDocument, actor: User | None, action: str, *, text: str | None = None,
           status_changed: bool = False, assignment: Assignment | None = None, actor_name: str | None = None) -> None:
    if text and len(text) > 2000:  # composed history (a directive of 2,000 plus names); the directive stays whole
        text = text[:1999] + "…"
    session.add(IncomingEvent(document_id=doc.id, at=_now(), actor_id=actor.id if actor else None,
                              actor_name=(actor.full_name if actor else actor_name) or "Hệ thống",
                              action=action, status=doc.status.value, status_changed=status_changed,
                              text=text, assignment_id=assignment.id if assignment else None))
    audit.record(actor, f"incoming.{action}", doc, organisation_id=doc.organisation_id,
                 details={"status": doc.status.value, **({"text": text[:200]} if text else {})},
                 actor_name=actor_name)
    for listener in LISTENERS:
        listener(doc, action, text)


def note_change(doc: IncomingDocument, action: str, text: str, actor_name: str) -> None:
    """The sender corrected this document (SPEC §5.8): a line in its history, naming the new one; the status and
    the work under way stay. A replacement also closes the work: ``replacement.replace``."""
    assert action == "updated", action
    session.flush()
    _event(doc, None, action, text=text, actor_name=actor_name)


def _move(doc: IncomingDocument, actor: User | None, action: str, to: S, text: str | None = None,
          actor_name: str | None = None) -> None:
    doc.status = to
    set_sort_key(doc)
    session.flush()
    _event(doc, actor, action, text=text, status_changed=True, actor_name=actor_name)


def set_sort_key(doc: IncomingDocument) -> None:
    """The document's sort key and its copy on every assignment row (the participants' lists
    walk the assignment indexes by it), changed together."""
    key = sort_key(doc)
    if key != doc.sort_key:
        doc.sort_key = key
        session.execute(update(Assignment).where(Assignment.document_id == doc.id).values(sort_key=key))


def sort_key(doc: IncomingDocument) -> str:
    """Urgent before ordinary while still open, then by arrival, newest first when sorted
    descending; the id makes it unique, so keyset pagination never skips or repeats a row."""
    closed = doc.status in (S.RETURNED, S.DONE, S.RECALLED, S.REPLACED)
    urgent = 1 if doc.urgency and int(doc.urgency) >= Urgency.URGENT and not closed else 0
    stamp = int(doc.arrived_at.timestamp() * 1_000_000)
    return f"{urgent}{stamp:017d}{doc.id:012d}"



def _name(row: Assignment) -> str:
    if row.assignee_user_id:
        user = session.get(User, row.assignee_user_id)
        return user.full_name if user else ""
    unit = session.get(Organisation, row.assignee_unit_id)
    return unit.name if unit else ""



def guard_row(user: User, action: str, doc: IncomingDocument, row: Assignment) -> None:
    """The assignment table's guard on one row of the locked document (e.g. a reminder)."""
    session.flush()
    lock(session(), IncomingDocument, doc.id)
    session.refresh(row)
    ASSIGNMENT.guard(user, action, row)
