"""The approval chain (SPEC §6.3): submit to the unit head, approve, format check (freezes the PDF),
send back, forward to another leader."""

from __future__ import annotations

from sqlalchemy import or_, select

from portal.auth.models import Position, PositionRole, Role, User, UserStatus
from portal.db import session
from portal.drafts import choices, common
from portal.drafts.common import FORMAT_CHECKLIST, S
from portal.drafts.composing import current_version
from portal.drafts.models import Draft
from portal.drafts.workflow import guard
from portal.errors import ValidationFailed
from portal.text import limited
from portal.timeutil import local_today


def unit_head_of(draft: Draft) -> User | None:
    """The head of the drafter's unit (who answers for the content, Điều 12)."""
    if draft.unit_id is None:
        return None
    today = local_today()
    return session.execute(
        select(User).join(Position, Position.user_id == User.id).join(PositionRole)
        .where(Position.organisation_id == draft.organisation_id, Position.unit_id == draft.unit_id,
               PositionRole.role == Role.UNIT_HEAD, User.status == UserStatus.ACTIVE,
               or_(Position.valid_from.is_(None), Position.valid_from <= today),
               or_(Position.valid_to.is_(None), Position.valid_to >= today))
        .order_by(User.id)).scalars().first()


def submit(drafter: User, draft: Draft, note: str | None = None) -> None:
    """Trình: to the head of the drafter's unit; when the drafter is that head (or there is
    none), straight to the format check."""
    draft = guard(drafter, "submit", draft)
    if draft.signer_id is None or not choices.is_signer(draft.signer_id, draft.organisation_id):
        raise ValidationFailed({"signer_id": "Hãy chọn người ký là lãnh đạo cơ quan trước khi trình."})
    head = unit_head_of(draft)
    note = limited(note, 2000, "note", "Ghi chú") or None
    tail = f": {note}" if note else ""
    if head is not None and head.id != drafter.id:
        common.move(draft, drafter, "submit", S.UNIT_REVIEW, head.id, f"Trình {head.full_name}{tail}")
    else:
        common.move(draft, drafter, "submit", S.FORMAT_CHECK, None, f"Trình kiểm tra thể thức{tail}")


def approve(head: User, draft: Draft, note: str | None = None) -> None:
    draft = guard(head, "approve", draft)
    common.move(draft, head, "approve", S.FORMAT_CHECK, None, limited(note, 2000, "note", "Ghi chú") or None)


def format_ok(checker: User, draft: Draft, ticked: list[str], note: str | None = None) -> None:
    """Đạt thể thức: every item of the checklist ticked; on to the signer."""
    draft = guard(checker, "format_ok", draft)
    note = limited(note, 2000, "note", "Ghi chú") or None
    missing = [label for key, label in FORMAT_CHECKLIST.items() if key not in ticked]
    if missing:
        raise ValidationFailed({"checklist": "Chưa kiểm tra: " + "; ".join(missing) + ". Nếu chưa đạt, hãy trả lại."})
    if draft.signer_id is None or not choices.is_signer(draft.signer_id, draft.organisation_id):
        raise ValidationFailed({"checklist": "Người ký của dự thảo không còn là lãnh đạo của cơ quan; hãy trả lại."})
    current = current_version(draft)
    if not current.filename.lower().endswith(".pdf"):
        raise ValidationFailed({"checklist": "Bản trình ký phải là tệp PDF; hãy trả lại để người soạn tải bản PDF."})
    draft.format_checklist = ",".join(k for k in FORMAT_CHECKLIST if k in ticked)
    # the final PDF is frozen now: the signer signs exactly these bytes (SPEC §7.3)
    draft.frozen_sha256 = current.sha256
    common.move(draft, checker, "format_ok", S.SIGNING, draft.signer_id, note)


def send_back(actor: User, draft: Draft, comment: str) -> None:
    """Trả lại: from any review step back to the drafter, with the comment the drafter reads."""
    draft = guard(actor, "send_back", draft)
    comment = common.required(comment, "comment", "Hãy ghi ý kiến trả lại để người soạn thảo sửa.")
    draft.frozen_sha256 = None
    common.move(draft, actor, "send_back", S.DRAFT, draft.drafter_id, comment)


def forward_signing(signer: User, draft: Draft, other_id: int, note: str | None = None) -> None:
    draft = guard(signer, "forward", draft)
    if other_id == signer.id or not choices.is_signer(other_id, draft.organisation_id):
        raise ValidationFailed({"leader_id": "Hãy chọn một lãnh đạo khác của cơ quan."})
    note = limited(note, 500, "note", "Ghi chú") or None
    other = session.get(User, other_id)
    assert other is not None
    draft.signer_id = other.id
    common.move(draft, signer, "forward", S.SIGNING, other.id,
                f"Chuyển {other.full_name}" + (f": {note}" if note else ""))

