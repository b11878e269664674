"""The incoming workflows as data (SPEC §5.2, STYLE §6, issue 14): one table for the document, one
for an assignment row. No Flask here.

Every step function in ``services`` starts with ``DOCUMENT.guard`` (or ``ASSIGNMENT``'s) on the
document locked for this transaction; the page offers ``offered(user, doc)``; the permission matrix
and the concurrency tests iterate over both tables. So they cannot disagree.

Document (``IncomingDocument.status``; 03u = accepted without số đến, 03n = numbered; tt = replaced by the sender's
new document, final: ``replacement.py`` moves it there, no step leaves it or acts on it):

==================  =====================  ==========  ================================================
action              from                   to          who
==================  =====================  ==========  ================================================
accept              01                     03          clerk of the receiving organisation
register            01, 03u                03          clerk (from 01 it accepts too)
return              01                     02          clerk
present             03n                    03p         clerk, to a leader of the organisation
assign_directly     03n                    04          clerk ("chuyển xử lý" when the handler is clear)
forward             03p                    03p         the leader it is presented to
send_back           03p                    03          the leader it is presented to
direct              03p                    04          the leader it is presented to, an agency leader
file_info           03p                    06          the leader it is presented to
unit_direct         04, 05, 06             (stays)     head of an assigned unit not yet distributed
finish              04, 05                 06          the lead person (closes the lead chain only)
reopen              06 with a lead         05          an agency leader, or the head of the lead unit
confirm_recall      not 02/15/tt, asked    15          clerk
refuse_recall       not 02/15/tt, asked    (stays)     clerk
==================  =====================  ==========  ================================================

Assignment (``Assignment.state``; the document must be at 04/05/06 as noted):

==============  ===================  =========  ===========================================================
seen            new                  seen       the assignee person
progress        new, seen, working   working    the assignee person; at 06 only a part of their own
finish_part     new, seen, working   done       a co-operating assignee (not the lead chain, not for-info)
remind          new, seen, working   (stays)    clerk, agency leader, whoever assigned the row, or (within a unit)
                                                the unit's head now
request_ext…    new, seen, working   (stays)    the lead person, or head of the lead unit; 04/05, a deadline,
                                                no request waiting (gia hạn: reason and a new date)
approve_ext…    new, seen, working   (stays)    whoever set its deadline; once they are gone, whoever now directs
                                                at that level (``deciders.py``), never who asked; a request waits
refuse_ext…     new, seen, working   (stays)    the same
==============  ===================  =========  ===========================================================

A step repeated after it happened (a double click, two identical requests) finds, under the lock,
that the state has moved on: the transition's ``done`` reads the history and says what happened and
when, and ``Repeated`` (an ``AlreadyDone``) is raised instead of a refusal. Steps that legitimately
happen again and again (a progress note, a reminder) carry a one-time form token instead
(``portal.once``), so one submission makes one note. Not state transitions, and so not in the
tables: receive (the sender's side), digitise (a creation form, one-time token), request_recall
(the sender's side), send_due_reminders (the daily job).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from portal.auth.models import User
from portal.db import session
from portal.documents import numbering
from portal.documents.models import IncomingDocument
from portal.errors import NotAllowed, NotFound
from portal.incoming.deciders import may_decide, unit_of
from portal.incoming.models import (
    Assignment,
    AssignmentRole,
    AssignmentState,
    Extension,
    ExtensionState,
    IncomingEvent,
)
from portal.incoming.parts import (
    lead_chain,
    lead_person_assignment,
    my_assignments,
    unit_assignment,
)
from portal.incoming.visibility import (
    OPEN_STATUSES,
    WORK_STATUSES,
    S,
    headed_unit_id,
    is_agency_leader,
    is_clerk,
)
from portal.timeutil import to_local
from portal.workflow import AlreadyDone, Transition, Workflow, preference, step


class WrongStep(NotAllowed):
    """The document is not at a step where this action is possible (403 with the reason)."""


class Repeated(AlreadyDone, WrongStep):
    """The step already happened: AlreadyDone for the web layer (409 / notice and back), and still
    a WrongStep for callers that catch refusals."""

    def __init__(self, message: str, url: str | None = None, *, action: str = "") -> None:
        Exception.__init__(self, message)
        self.url = url
        self.action = action


class Flow(Workflow[Any]):
    """A table whose ``done`` is also asked when the person is no longer the one who may act: after
    "Chuyển lãnh đạo khác" the document is still at 03p but held by someone else, and the second
    identical request should hear that it was forwarded, not "you are not the holder"."""

    def guard(self, user: Any, action: str, obj: Any) -> Transition:
        t = self.transitions[action]
        is_open = self.open(action, obj)
        if (not is_open or not t.who(user, obj)) and t.done is not None:
            already = t.done(user, obj)
            if already:
                raise Repeated(already, action=f"{self.name}.{action}")
        if not is_open:
            raise WrongStep(f"{self.name}.{action}", f"Văn bản đang ở trạng thái “{self.label(obj)}”, không thể "
                                                     f"“{t.title.lower()}”.")
        if not t.who(user, obj):
            raise NotAllowed(f"{self.name}.{action}", t.refusal or "Bạn không phải người đang giữ văn bản ở bước này.")
        return t


# --- what already happened, from the history --------------------------------------------------------

def _last(doc: IncomingDocument, *actions: str, actor: User | None = None) -> IncomingEvent | None:
    stmt = select(IncomingEvent).where(IncomingEvent.document_id == doc.id, IncomingEvent.action.in_(actions))
    if actor is not None:
        stmt = stmt.where(IncomingEvent.actor_id == actor.id)
    return session.execute(stmt.order_by(IncomingEvent.id.desc()).limit(1)).scalars().first()


def at(moment: datetime | None) -> str:
    """"09:12 ngày 07/12/2026" in Vietnam time."""
    if moment is None:
        return ""
    local = to_local(moment)
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"


def _whom(event: IncomingEvent, prefix: str) -> str:
    """"Trình Nguyễn Văn A: ghi chú" → "Nguyễn Văn A"."""
    text = (event.text or "").split(":", 1)[0].split("\n", 1)[0]
    return text[len(prefix):].strip() if text.startswith(prefix) else ""


def _said(template: str, *actions: str, states: tuple[S, ...] | None = None, own: bool = False,
          who_prefix: str | None = None) -> Callable[[User, IncomingDocument], str | None]:
    """``done`` from the newest event of ``actions`` (by this person when ``own``), when the
    document is at one of ``states`` (None: any)."""
    def done(user: User, doc: IncomingDocument) -> str | None:
        if states is not None and doc.status not in states:
            return None
        event = _last(doc, *actions, actor=user if own else None)
        if event is None:
            return None
        whom = _whom(event, who_prefix) if who_prefix else ""
        return template.format(at=at(event.at), whom=f" {whom}" if whom else "", actor=event.actor_name)
    return done


def _registered(user: User, doc: IncomingDocument) -> str | None:
    if doc.arrival_number is None:
        return None
    return f"Văn bản đã được vào sổ số {numbering.display(doc.arrival_number)} lúc {at(doc.registered_at)}."


def _accepted(user: User, doc: IncomingDocument) -> str | None:
    if doc.status == S.ARRIVED:
        return None
    event = _last(doc, "accept")
    if event is not None:
        return f"Văn bản đã được tiếp nhận lúc {at(event.at)}."
    return _registered(user, doc) if doc.status not in (S.RETURNED, S.RECALLED) else None


def _forwarded(user: User, doc: IncomingDocument) -> str | None:
    if doc.status == S.PRESENTED and doc.presented_to_id == user.id:
        return None
    return _said("Văn bản đã được chuyển{whom} lúc {at}.", "forward", own=True, who_prefix="Chuyển")(user, doc)


def _sent_back(user: User, doc: IncomingDocument) -> str | None:
    if doc.status == S.PRESENTED and doc.presented_to_id == user.id:
        return None
    return _said("Văn bản đã được trả lại văn thư lúc {at}.", "send_back", own=True)(user, doc)


def _unit_directed(user: User, doc: IncomingDocument) -> str | None:
    parent = unit_assignment(user, doc)
    if parent is None or not _has_children(parent):
        return None
    event = _last(doc, "unit_direct")
    return f"Đơn vị đã giao xử lý văn bản này lúc {at(event.at if event else parent.assigned_at)}."


def _recalled(user: User, doc: IncomingDocument) -> str | None:
    return f"Văn bản đã được thu hồi lúc {at(doc.recalled_at)}." if doc.status == S.RECALLED else None


def _refused_recall(user: User, doc: IncomingDocument) -> str | None:
    if doc.recall_requested_at is not None or doc.status in (S.RETURNED, S.RECALLED):
        return None
    return _said("Đề nghị thu hồi đã được từ chối lúc {at}.", "recall_refused")(user, doc)


# --- who may act -----------------------------------------------------------------------------------------

def _clerk(user: User, doc: IncomingDocument) -> bool:
    return is_clerk(user, doc)


def _presented(user: User, doc: IncomingDocument) -> bool:
    return doc.presented_to_id == user.id


def _directing(user: User, doc: IncomingDocument) -> bool:
    return doc.presented_to_id == user.id and is_agency_leader(user, doc)


def _has_children(row: Assignment) -> bool:
    return session.execute(select(Assignment.id).where(Assignment.parent_id == row.id)).first() is not None


def _unit_head(user: User, doc: IncomingDocument) -> bool:
    parent = unit_assignment(user, doc)
    return parent is not None and parent.state != AssignmentState.DONE and not _has_children(parent)


def _lead_person(user: User, doc: IncomingDocument) -> bool:
    lead = lead_person_assignment(doc)
    return lead is not None and lead.assignee_user_id == user.id


def _top_lead(doc: IncomingDocument) -> Assignment | None:
    return session.execute(select(Assignment).where(Assignment.document_id == doc.id, Assignment.level == 1,
                                                    Assignment.role == AssignmentRole.LEAD)).scalars().first()


def _reopener(user: User, doc: IncomingDocument) -> bool:
    lead = _top_lead(doc)
    return is_agency_leader(user, doc) or (lead is not None and lead.assignee_unit_id is not None
                                           and lead.assignee_unit_id == headed_unit_id(user))


def _numbered(doc: IncomingDocument) -> bool:
    return doc.arrival_number is not None


def _recall_asked(doc: IncomingDocument) -> bool:
    return doc.recall_requested_at is not None


AFTER_PRESENTING = (S.PRESENTED, S.ASSIGNED, S.IN_PROGRESS, S.DONE)
ASSIGNED_OR_LATER = (S.ASSIGNED, S.IN_PROGRESS, S.DONE)
NOT_GONE = tuple(s for s in S if s not in (S.RETURNED, S.RECALLED, S.REPLACED))  # "tt": only viewing is left

DOCUMENT = Flow("incoming", {t.action: t for t in (
    step("accept", "Tiếp nhận văn bản", {S.ARRIVED}, _clerk, S.REGISTERED, done=_accepted,
         refusal="Chỉ văn thư của cơ quan nhận được tiếp nhận văn bản."),
    step("register", "Vào sổ văn bản đến", {S.ARRIVED, S.REGISTERED}, _clerk, S.REGISTERED,
         when=lambda d: d.status == S.ARRIVED or d.arrival_number is None, done=_registered,
         refusal="Chỉ văn thư của cơ quan nhận được vào sổ văn bản đến."),
    step("return", "Trả lại nơi gửi", {S.ARRIVED}, _clerk, S.RETURNED,
         done=_said("Văn bản đã được trả lại nơi gửi lúc {at}.", "return", states=(S.RETURNED,)),
         refusal="Chỉ văn thư của cơ quan nhận được trả lại văn bản."),
    step("present", "Trình lãnh đạo", {S.REGISTERED}, _clerk, S.PRESENTED, when=_numbered,
         done=_said("Văn bản đã được trình{whom} lúc {at}.", "present", states=AFTER_PRESENTING, who_prefix="Trình"),
         refusal="Chỉ văn thư được trình văn bản."),
    step("assign_directly", "Chuyển xử lý", {S.REGISTERED}, _clerk, S.ASSIGNED, when=_numbered,
         done=_said("Văn bản đã được chuyển xử lý lúc {at}.", "assign_directly", states=ASSIGNED_OR_LATER),
         refusal="Chỉ văn thư được chuyển xử lý."),
    step("direct", "Phân phối, chỉ đạo", {S.PRESENTED}, _directing, S.ASSIGNED,
         done=_said("Văn bản đã được phân phối lúc {at}.", "direct", states=ASSIGNED_OR_LATER),
         refusal="Chỉ lãnh đạo cơ quan được phân phối văn bản đến đang trình mình."),
    step("forward", "Chuyển lãnh đạo khác", {S.PRESENTED}, _presented, S.PRESENTED, done=_forwarded),
    step("file_info", "Lưu, để biết", {S.PRESENTED}, _presented, S.DONE,
         done=_said("Văn bản đã được lưu để biết lúc {at}.", "file_info", states=(S.DONE,))),
    step("send_back", "Trả lại văn thư", {S.PRESENTED}, _presented, S.REGISTERED, done=_sent_back),
    step("unit_direct", "Giao xử lý trong đơn vị", WORK_STATUSES, _unit_head, None, done=_unit_directed,
         refusal="Chỉ lãnh đạo đơn vị được giao xử lý (chưa giao trong đơn vị) mới giao tiếp trong đơn vị."),
    step("finish", "Hoàn thành xử lý", OPEN_STATUSES, _lead_person, S.DONE,
         done=_said("Văn bản đã được hoàn thành lúc {at}.", "finish", states=(S.DONE,)),
         refusal="Chỉ cá nhân chủ trì xử lý được hoàn thành văn bản."),
    step("reopen", "Mở lại văn bản", {S.DONE}, _reopener, S.IN_PROGRESS, when=lambda d: _top_lead(d) is not None,
         done=_said("Văn bản đã được mở lại lúc {at}.", "reopen", states=OPEN_STATUSES),
         refusal="Chỉ lãnh đạo cơ quan hoặc lãnh đạo đơn vị chủ trì được mở lại văn bản."),
    step("confirm_recall", "Xác nhận thu hồi", NOT_GONE, _clerk, S.RECALLED, when=_recall_asked, done=_recalled,
         refusal="Chỉ văn thư được xác nhận thu hồi."),
    step("refuse_recall", "Từ chối thu hồi", NOT_GONE, _clerk, None, when=_recall_asked, done=_refused_recall,
         refusal="Chỉ văn thư được trả lời đề nghị thu hồi."),
)})


# --- the assignment table ----------------------------------------------------------------------------

def document_of(row: Assignment) -> IncomingDocument:
    doc = session.get(IncomingDocument, row.document_id)
    assert doc is not None
    return doc


def _assignee(user: User, row: Assignment) -> bool:
    return row.assignee_user_id == user.id


def _own_part(row: Assignment) -> bool:
    """Not the lead chain (the document's finish closes it), not for-information."""
    return row.role != AssignmentRole.INFORM and row.id not in {r.id for r in lead_chain(document_of(row))}


def _may_note(row: Assignment) -> bool:
    status = document_of(row).status
    return status in OPEN_STATUSES or (status == S.DONE and _own_part(row))


def _chaser(user: User, row: Assignment) -> bool:
    doc = document_of(row)
    return is_clerk(user, doc) or is_agency_leader(user, doc) or row.assigned_by_id == user.id or (
        (unit := unit_of(row)) is not None and unit == headed_unit_id(user))  # a new head follows the unit's work


def _row_said(template: str, action: str) -> Callable[[User, Assignment], str | None]:
    def done(user: User, row: Assignment) -> str | None:
        event = _last(document_of(row), action, actor=user)
        return template.format(at=at(event.at)) if event is not None else None
    return done


UNFINISHED = (AssignmentState.NEW, AssignmentState.SEEN, AssignmentState.WORKING)


# --- gia hạn: the lead handler asks, whoever set the deadline decides (SPEC §5.6, ``deciders.py``) ----

def latest_extension(row: Assignment) -> Extension | None:
    """The row's newest request (its ``extensions`` come with the page's rows, so a page of rows asks
    the database once)."""
    return row.extensions[-1] if row.extensions else None


def _pending(row: Assignment) -> bool:
    latest = latest_extension(row)
    return latest is not None and latest.state == ExtensionState.PENDING


def _lead_handler(user: User, row: Assignment) -> bool:
    """The lead person of the row, or the head of the lead unit it names."""
    if row.role != AssignmentRole.LEAD:
        return False
    if row.assignee_user_id is not None:
        return row.assignee_user_id == user.id
    return row.assignee_unit_id is not None and row.assignee_unit_id == headed_unit_id(user)


def _may_ask(row: Assignment) -> bool:
    return row.deadline is not None and document_of(row).status in OPEN_STATUSES and not _pending(row)


def _asked(user: User, row: Assignment) -> str | None:
    latest = latest_extension(row)
    if latest is None or latest.state != ExtensionState.PENDING or latest.requested_by_id != user.id:
        return None
    return (f"Đề nghị gia hạn đến {latest.proposed_deadline:%d/%m/%Y} đã được gửi lúc {at(latest.requested_at)}, "
            "đang chờ ý kiến.")


def _decided(state: ExtensionState, verb: str) -> Callable[[User, Assignment], str | None]:
    def done(user: User, row: Assignment) -> str | None:
        latest = latest_extension(row)
        if latest is None or latest.state != state or latest.decided_by_id != user.id:
            return None
        return f"Đề nghị gia hạn đã được {verb} lúc {at(latest.decided_at)}."
    return done


_DECIDER = ("người đã giao hạn này (khi người đó không còn công tác: lãnh đạo đơn vị, lãnh đạo cơ quan thay), "
            "không phải người đề nghị,")

ASSIGNMENT = Flow("incoming_assignment", {t.action: t for t in (
    step("seen", "Đánh dấu đã xem", {AssignmentState.NEW}, _assignee, AssignmentState.SEEN,
         when=lambda r: document_of(r).status in WORK_STATUSES,
         done=_row_said("Bạn đã đánh dấu đã xem lúc {at}.", "seen"),
         refusal="Bạn không có phần việc mới ở văn bản này."),
    step("progress", "Cập nhật tiến độ, gửi ý kiến", UNFINISHED, _assignee, AssignmentState.WORKING, when=_may_note,
         refusal="Bạn không có phần việc đang mở ở văn bản này."),
    step("finish_part", "Hoàn thành phần việc phối hợp", UNFINISHED, _assignee, AssignmentState.DONE,
         when=lambda r: document_of(r).status in WORK_STATUSES and _own_part(r),
         done=_row_said("Phần việc của bạn đã được ghi hoàn thành lúc {at}.", "finish_part"),
         refusal="Bạn không có phần việc phối hợp đang mở."),
    step("remind", "Đôn đốc", UNFINISHED, _chaser, None, when=lambda r: document_of(r).status in WORK_STATUSES,
         refusal="Chỉ văn thư, lãnh đạo cơ quan, lãnh đạo đơn vị hoặc người giao việc được đôn đốc."),
    step("request_extension", "Xin gia hạn", UNFINISHED, _lead_handler, None, when=_may_ask, done=_asked,
         refusal="Chỉ đơn vị, cá nhân chủ trì được xin gia hạn phần việc của mình."),
    step("approve_extension", "Đồng ý gia hạn", UNFINISHED, may_decide, None, when=_pending,
         done=_decided(ExtensionState.APPROVED, "đồng ý"), refusal=f"Chỉ {_DECIDER} được cho gia hạn."),
    step("refuse_extension", "Không đồng ý gia hạn", UNFINISHED, may_decide, None, when=_pending,
         done=_decided(ExtensionState.REFUSED, "từ chối"), refusal=f"Chỉ {_DECIDER} được trả lời đề nghị gia hạn."),
)}, state=lambda r: r.state, label=lambda r: r.state_label)  # a replaced row never says "Hoàn thành"

# the steps taken on one row of the phiếu (forms per row, ``OnRow``), not on "my part" of the document
ROW_STEPS = ("remind", "request_extension", "approve_extension", "refuse_extension")

# the assignment steps a person takes on "my part" of a document (the page's forms are per document)
MY_PART_STEPS = ("seen", "progress", "finish_part")


class MyParts:
    """The assignment table seen from the document, for the steps on the person's own rows:
    ``guard`` passes with the rows the step may act on, or raises what the table says (a repeat,
    or a refusal). Duck-types ``Workflow.guard`` for ``portal.steps.run_step``."""

    name = ASSIGNMENT.name

    def rows(self, user: User, action: str, doc: IncomingDocument) -> list[Assignment]:
        return [r for r in my_assignments(user, doc) if ASSIGNMENT.may(user, action, r)]

    def guard(self, user: User, action: str, doc: IncomingDocument) -> list[Assignment]:
        rows = self.rows(user, action, doc)
        if rows:
            return rows
        t = ASSIGNMENT[action]
        for row in reversed(my_assignments(user, doc)):
            already = t.done(user, row) if t.done else None
            if already:
                raise Repeated(already, action=f"{ASSIGNMENT.name}.{action}")
        raise NotAllowed(f"{ASSIGNMENT.name}.{action}", t.refusal or "Bạn không có phần việc ở văn bản này.")


MY_PARTS = MyParts()


def offered(user: User, doc: IncomingDocument) -> set[str]:
    """The step forms the page offers: the document table's allowed actions, and an assignment
    step when one of the person's rows allows it. ``remind`` is per row (``can_remind``)."""
    actions = DOCUMENT.allowed(user, doc)
    if doc.status in WORK_STATUSES:
        actions |= {action for action in MY_PART_STEPS if MY_PARTS.rows(user, action, doc)}
    return actions


# The page's main button: the first of these the person may take (issue 18.3); the others go in
# "Thao tác khác". A recall asked by the sender comes before anything else; then the document's
# path (tiếp nhận, vào sổ, trình, chỉ đạo, giao trong đơn vị, hoàn thành) before the person's own
# part, and the side roads (chuyển thẳng, lưu, trả lại) last. Confirming a recall opens when asked.
PREFERENCE = preference((
    "confirm_recall", "accept", "register", "present", "direct", "forward", "unit_direct", "finish",
    "progress", "finish_part", "seen", "reopen", "assign_directly", "file_info", "send_back", "return",
    "refuse_recall"), (*DOCUMENT.transitions, *MY_PART_STEPS), ask_first={"confirm_recall"})
primary_action, ranked_actions = PREFERENCE.primary, PREFERENCE.ranked


def can_remind(user: User, doc: IncomingDocument, row: Assignment) -> bool:
    return row.document_id == doc.id and ASSIGNMENT.may(user, "remind", row)


def row_actions(user: User, doc: IncomingDocument, row: Assignment) -> set[str]:
    """The per-row steps the page offers on one row of the phiếu: exactly those the guard allows."""
    if row.document_id != doc.id:
        return set()
    return {action for action in ROW_STEPS if ASSIGNMENT.may(user, action, row)}


class OnRow:
    """The assignment table for one row of the document (a reminder is about one row); duck-types
    ``Workflow.guard`` for ``run_step``, called with the locked document."""

    name = ASSIGNMENT.name

    def __init__(self, row_id: int) -> None:
        self.row_id = row_id

    def guard(self, user: User, action: str, doc: IncomingDocument) -> Transition:
        row = session.get(Assignment, self.row_id, populate_existing=True)
        if row is None or row.document_id != doc.id:
            raise NotFound()
        return ASSIGNMENT.guard(user, action, row)


def done_out_of_sight(user: User, document_id: int, action: str) -> str | None:
    """What a step already did to a document the step then took out of this person's sight (a recall
    confirmed, a document sent back by a unit head): told only to someone who acted on it before,
    so a repeat gets the notice while anyone else still gets 404."""
    doc = session.get(IncomingDocument, document_id)
    t = DOCUMENT.transitions.get(action)
    if doc is None or t is None or t.done is None:
        return None
    acted = session.execute(select(IncomingEvent.id).where(
        IncomingEvent.document_id == doc.id, IncomingEvent.actor_id == user.id).limit(1)).first()
    return t.done(user, doc) if acted else None
