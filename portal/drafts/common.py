"""What every drafts step shares: the labels, the clock, the history row with its audit row, the
inputs the services take (``DraftData``, ``RecipientSpec``, ``Upload``). No Flask here."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from portal import audit
from portal.auth.models import User
from portal.db import session, utcnow
from portal.documents.models import DocumentType
from portal.drafts.models import Draft, DraftEvent, DraftStatus, SendMethod
from portal.errors import ValidationFailed
from portal.text import nfc

S = DraftStatus
OPEN = (S.DRAFT, S.UNIT_REVIEW, S.FORMAT_CHECK, S.SIGNING, S.SIGNED)
FORMAT_CHECKLIST = {
    "quoc_hieu": "Quốc hiệu và Tiêu ngữ",
    "co_quan": "Tên cơ quan, tổ chức ban hành",
    "so_ky_hieu": "Số, ký hiệu (để trống số)",
    "dia_danh": "Địa danh, thời gian ban hành",
    "trich_yeu": "Tên loại và trích yếu nội dung",
    "noi_nhan": "Nơi nhận",
    "chu_ky": "Quyền hạn, chức vụ, họ tên người ký",
    "trinh_bay": "Phông chữ, cỡ chữ, căn lề (Phụ lục I NĐ 30)",
}
ACTION_LABELS = {
    "create": "Tạo dự thảo", "version": "Cập nhật dự thảo", "details": "Sửa thông tin dự thảo",
    "ask": "Xin ý kiến", "answer": "Cho ý kiến", "close_round": "Kết thúc xin ý kiến",
    "submit": "Trình duyệt", "approve": "Duyệt", "format_ok": "Đạt thể thức", "send_back": "Trả lại",
    "forward": "Chuyển lãnh đạo khác", "sign": "Ký số", "sign_external": "Ký số bằng thiết bị riêng",
    "refuse_issue": "Văn thư trả lại người ký", "issue": "Cấp số và phát hành", "recall": "Thu hồi",
    "cancel": "Hủy dự thảo", "recall_answer": "Nơi nhận trả lời thu hồi", "resend": "Gửi lại lên trục liên thông",
}



def now() -> datetime:
    """The clock of every step (tests fix it here)."""
    return utcnow()


# Called after every history row, in the same transaction: (draft, actor, action, text). Other features register
# here (notifications tell the next holder); drafts imports none of them.
LISTENERS: list[Callable[[Draft, User | None, str, str | None], None]] = []


def on_event(listener: Callable[[Draft, User | None, str, str | None], None]) -> None:
    if listener not in LISTENERS:
        LISTENERS.append(listener)


def event(draft: Draft, actor: User | None, action: str, text: str | None = None, *,
          actor_name: str | None = None) -> None:
    """One history row and one audit row for the step."""
    draft.updated_at = now()
    session.add(DraftEvent(draft_id=draft.id, at=draft.updated_at, actor_id=actor.id if actor else None,
                           actor_name=(actor.full_name if actor else actor_name) or "Hệ thống", action=action,
                           status=draft.status.value, version_number=draft.current_version or None,
                           text=(text or None) and text[:2000]))
    audit.record(actor, f"drafts.{action}", object_type="drafts", object_id=draft.id,
                 organisation_id=draft.organisation_id, actor_name=actor_name,
                 details={"status": draft.status.value, "version": draft.current_version,
                          **({"text": text[:200]} if text else {})})
    for listener in LISTENERS:
        listener(draft, actor, action, text)



def move(draft: Draft, actor: User | None, action: str, to: S, holder_id: int | None,
         text: str | None = None) -> None:
    draft.status = to
    draft.holder_id = holder_id
    session.flush()
    event(draft, actor, action, text)


def required(text: str | None, name: str, message: str, limit: int = 2000) -> str:
    text = (nfc(text) or "").strip()
    if not text:
        raise ValidationFailed({name: message})
    if len(text) > limit:
        raise ValidationFailed({name: f"Nội dung tối đa {limit:,} ký tự.".replace(",", ".")})
    return text


@dataclass
class DraftData:
    subject: str = ""
    document_type_id: int | None = None
    urgency: int = 0
    secrecy: int = 0
    signer_id: int | None = None
    authority: str = ""
    signer_title: str | None = None
    reply_to_id: int | None = None
    due_date: date | None = None
    replaces_id: int | None = None  # thay thế: a new document replacing an issued one
    corrects_id: int | None = None  # đính chính: a công văn correcting an issued one


@dataclass
class RecipientSpec:
    name: str = ""
    organisation_id: int | None = None
    method: SendMethod = SendMethod.SYSTEM
    address: str | None = None


@dataclass
class Upload:
    filename: str
    stream: bytes | object


@dataclass
class Checked:
    data: DraftData
    doc_type: DocumentType | None = None
    errors: dict[str, str] = field(default_factory=dict)


def slug(draft: Draft) -> str:
    return f"du-thao-{draft.id}"


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
