"""Presenting and directing (SPEC §5.4–5.5): the clerk presents to a leader or assigns directly; the
leader forwards, sends back, files for information or distributes (phân phối) with one lead; the
head of an assigned unit distributes within the unit. No Flask here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from portal.auth.models import Position, PositionRole, Role, User
from portal.db import session
from portal.documents.models import IncomingDocument
from portal.errors import ValidationFailed
from portal.incoming import events
from portal.incoming.events import _name, guard
from portal.incoming.models import Assignment, AssignmentRole, AssignmentState
from portal.incoming.parts import unit_assignment
from portal.incoming.visibility import S
from portal.orgs.models import Organisation
from portal.text import limited, nfc
from portal.timeutil import local_today
from portal.workdays import deadlines


def _leader_of(doc: IncomingDocument, user_id: int, *, agency: bool = False) -> User:
    roles = (Role.AGENCY_LEADER,) if agency else (Role.AGENCY_LEADER, Role.UNIT_HEAD)
    leader = session.execute(
        select(User).join(Position, Position.user_id == User.id).join(PositionRole)
        .where(User.id == user_id, Position.organisation_id == doc.organisation_id, PositionRole.role.in_(roles))
    ).scalars().first()
    if leader is None or not leader.is_active or not any(
            p.is_active() and p.organisation_id == doc.organisation_id for p in leader.positions):
        raise ValidationFailed({"leader_id": "Hãy chọn một lãnh đạo đang công tác tại cơ quan."})
    return leader


def present(clerk: User, doc: IncomingDocument, leader_id: int, note: str | None = None) -> None:
    """Trình lãnh đạo (03 → chờ phân phối)."""
    guard(clerk, "present", doc)
    note = limited(note, 500, "note", "Ghi chú")
    leader = _leader_of(doc, leader_id)
    doc.presented_to_id = leader.id
    doc.presented_at = events._now()
    events._move(doc, clerk, "present", S.PRESENTED, text=f"Trình {leader.full_name}" + (f": {note}" if note else ""))


def forward(leader: User, doc: IncomingDocument, other_id: int, note: str | None = None) -> None:
    guard(leader, "forward", doc)
    if other_id == leader.id:
        raise ValidationFailed({"leader_id": "Văn bản đang được trình chính đồng chí; hãy chọn một lãnh đạo khác."})
    note = limited(note, 500, "note", "Ghi chú")
    other = _leader_of(doc, other_id)
    doc.presented_to_id = other.id
    doc.presented_at = events._now()
    events._event(doc, leader, "forward", text=f"Chuyển {other.full_name}" + (f": {note}" if note else ""))


def send_back(leader: User, doc: IncomingDocument, reason: str) -> None:
    guard(leader, "send_back", doc)
    reason = limited(reason, 1000, "reason", "Lý do")
    if not reason:
        raise ValidationFailed({"reason": "Hãy ghi lý do trả lại văn thư."})
    doc.presented_to_id = None
    events._move(doc, leader, "send_back", S.REGISTERED, text=reason)


@dataclass
class AssigneeSpec:
    role: AssignmentRole
    user_id: int | None = None
    unit_id: int | None = None
    deadline: date | None = None
    days: int | None = None  # "N ngày làm việc" instead of a date: the deadline is counted here, from today


def _check_assignees(doc: IncomingDocument, specs: list[AssigneeSpec], *, within_unit: int | None = None,
                     parent_deadline: date | None = None) -> None:
    errors: dict[str, str] = {}
    leads = [s for s in specs if s.role == AssignmentRole.LEAD]
    if len(leads) != 1:
        errors["assignees"] = "Phải có đúng một đơn vị hoặc cá nhân chủ trì."
    seen: set[tuple[str, int]] = set()
    for spec in specs:
        try:
            spec.deadline, spec.days = deadlines.resolve(spec.deadline, spec.days, "deadline", local_today()), None
        except ValidationFailed as exc:
            errors.update(exc.errors)
        if (spec.user_id is None) == (spec.unit_id is None):
            errors["assignees"] = "Mỗi dòng giao việc là một đơn vị hoặc một cá nhân."
            continue
        key = ("u", spec.user_id) if spec.user_id else ("d", spec.unit_id)
        if key in seen:
            errors["assignees"] = "Một đơn vị hoặc cá nhân chỉ xuất hiện một lần."
        seen.add(key)  # type: ignore[arg-type]
        if spec.deadline is not None and spec.deadline < local_today():
            errors["deadline"] = "Hạn xử lý không thể trước hôm nay."
        if spec.deadline and parent_deadline and spec.deadline > parent_deadline:
            errors["deadline"] = f"Hạn xử lý không được sau hạn của đơn vị ({parent_deadline:%d/%m/%Y})."
        if spec.unit_id is not None:
            unit = session.get(Organisation, spec.unit_id)
            if within_unit is not None or unit is None or unit.owner_id != doc.organisation_id or unit.is_issuing:
                errors["assignees"] = "Chỉ giao cho phòng, ban thuộc cơ quan (trong đơn vị: chỉ giao cho cá nhân)."
        else:
            member = select(Position.id).where(Position.user_id == spec.user_id,
                                               Position.organisation_id == doc.organisation_id)
            if within_unit is not None:
                member = member.where(Position.unit_id == within_unit)
            if session.execute(member).first() is None:
                errors["assignees"] = ("Người được giao phải thuộc đơn vị của bạn." if within_unit is not None
                                       else "Người được giao phải thuộc cơ quan.")
    if errors:
        raise ValidationFailed(errors)


def _create_assignments(doc: IncomingDocument, actor: User, specs: list[AssigneeSpec], directive: str | None, *,
                        level: int, parent: Assignment | None = None) -> list[Assignment]:
    rows = []
    for spec in specs:
        row = Assignment(document_id=doc.id, parent_id=parent.id if parent else None, level=level,
                         assignee_user_id=spec.user_id, assignee_unit_id=spec.unit_id, role=spec.role,
                         deadline=spec.deadline, directive=directive, assigned_by_id=actor.id,
                         assigned_at=events._now(), sort_key=doc.sort_key)
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def direct(leader: User, doc: IncomingDocument, directive: str, assignees: list[AssigneeSpec],
           due_date: date | None = None, due_days: int | None = None) -> list[Assignment]:
    """Phân phối (chờ phân phối → 04): the ý kiến chỉ đạo and exactly one lead, any number of
    co-operating and for-information units or persons, each with its own deadline. The document's
    own deadline (hạn giải quyết) changes only when the leader sets it here (a date, or ``due_days``
    working days from today); the lead's deadline is the lead's, never copied onto the document."""
    guard(leader, "direct", doc)
    due_date = deadlines.resolve(due_date, due_days, "due_date", local_today())
    if due_date is not None and due_date < local_today():
        raise ValidationFailed({"due_date": "Hạn giải quyết không thể trước hôm nay."})
    rows = _assign(leader, doc, directive, assignees, "direct")
    doc.due_date = due_date or doc.due_date
    return rows


def assign_directly(clerk: User, doc: IncomingDocument, note: str, assignees: list[AssigneeSpec]) -> list[Assignment]:
    """Chuyển xử lý (03 → 04) when the handler is clear (Điều 23.1)."""
    guard(clerk, "assign_directly", doc)
    return _assign(clerk, doc, note, assignees, "assign_directly")


def _assign(actor: User, doc: IncomingDocument, directive: str, assignees: list[AssigneeSpec],
            action: str) -> list[Assignment]:
    directive = (nfc(directive) or "").strip()
    if len(directive) > 2000:
        raise ValidationFailed({"directive": "Ý kiến chỉ đạo tối đa 2.000 ký tự."})
    _check_assignees(doc, assignees)
    rows = _create_assignments(doc, actor, assignees, directive or None, level=1)
    doc.presented_to_id = None
    session.flush()
    names = "; ".join(f"{r.role.label}: {_name(r)}" + (f" (hạn {r.deadline:%d/%m/%Y})" if r.deadline else "")
                      for r in rows)
    doc.to_places = names[:1000]
    events._move(doc, actor, action, S.ASSIGNED, text=(directive + "\n" if directive else "") + names)
    return rows



def file_for_information(leader: User, doc: IncomingDocument, note: str | None = None) -> None:
    guard(leader, "file_info", doc)
    note = limited(note, 500, "note", "Ghi chú") or None
    doc.presented_to_id = None
    doc.completed_at = events._now()
    events._move(doc, leader, "file_info", S.DONE, text=note)



def direct_within_unit(head: User, doc: IncomingDocument, directive: str,
                       assignees: list[AssigneeSpec]) -> list[Assignment]:
    """The unit head's level of the phiếu: persons of the unit, one lead among them."""
    guard(head, "unit_direct", doc)
    parent = unit_assignment(head, doc)
    assert parent is not None  # the table's rule: the head of an assigned unit
    directive = limited(directive, 2000, "directive", "Ý kiến chỉ đạo")
    _check_assignees(doc, assignees, within_unit=parent.assignee_unit_id, parent_deadline=parent.deadline)
    rows = _create_assignments(doc, head, assignees, directive or None, level=2, parent=parent)
    parent.state = AssignmentState.WORKING
    names = "; ".join(f"{r.role.label}: {_name(r)}" for r in rows)
    events._event(doc, head, "unit_direct", text=(directive + "\n" if directive else "") + names, assignment=parent)
    return rows

