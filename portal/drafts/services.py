"""Drafts to issued documents (SPEC §6, issue 5): one function per step, each checking on the
server that the actor holds the draft at this step, writing the history and the audit row in the
caller's transaction. No Flask here; signatures go through ``portal.drafts.signatures``.

========================  ======================  ===============================================
action                    from                    actor
========================  ======================  ===============================================
create / add_version      — / DRAFT               an officer (the drafter); versions are immutable
ask_comments, close_round DRAFT                   the drafter
answer                    open round              an invited person
submit                    DRAFT                   the drafter → unit head (or format check)
approve                   UNIT_REVIEW             the unit head holding it → FORMAT_CHECK
format_ok                 FORMAT_CHECK            a format checker of the organisation → SIGNING
send_back                 UNIT_REVIEW, FORMAT_    the holder (any format checker at FORMAT_CHECK)
                          CHECK, SIGNING          → DRAFT, comment mandatory
forward_signing           SIGNING                 the signer holding it → another leader
sign / accept_signed      SIGNING                 the signer holding it (password re-entered)
refuse_issue              SIGNED                  a clerk → SIGNING (back to the signer)
issue                     SIGNED                  a clerk: number, date, seal, delivery
recall                    ISSUED                  a clerk or agency leader → RECALLED (frozen)
cancel                    DRAFT                   the drafter → CANCELLED (never numbered)
========================  ======================  ===============================================
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, exists, or_, select

from portal import audit, storage
from portal.auth.models import Position, PositionRole, Role, User, UserStatus
from portal.db import session, utcnow
from portal.documents import identifiers, numbering
from portal.documents.models import (
    Direction,
    DocumentType,
    IncomingDocument,
    OutgoingDocument,
    OutgoingStatus,
    RegisterBook,
    Secrecy,
    Urgency,
)
from portal.drafts import choices
from portal.drafts.models import (
    Answer,
    CommentInvite,
    CommentRound,
    Draft,
    DraftAttachment,
    DraftEvent,
    DraftStatus,
    DraftVersion,
    Recipient,
    SendMethod,
)
from portal.errors import NotAllowed, NotFound, ValidationFailed
from portal.incoming import services as incoming
from portal.orgs.models import Organisation
from portal.text import fold, limited, nfc
from portal.timeutil import local_today, local_year, to_local

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
    "cancel": "Hủy dự thảo", "recall_answer": "Nơi nhận trả lời thu hồi",
}


class WrongStep(NotAllowed):
    """The draft is not at a step where this action is possible (403 with the reason)."""


def _now() -> datetime:
    return utcnow()


def org_id(user: User) -> int:
    if user.organisation is None:
        raise NotAllowed("drafts.access", "Bạn chưa có chức vụ đang hiệu lực.")
    return user.organisation.id


def is_clerk(user: User, draft: Draft) -> bool:
    return user.has_role(Role.CLERK) and draft.organisation_id == org_id(user)


def is_format_checker(user: User, draft: Draft) -> bool:
    return user.has_role(Role.FORMAT_CHECKER) and draft.organisation_id == org_id(user)


def _step(draft: Draft, action: str, *allowed: S) -> None:
    if draft.status not in allowed:
        raise WrongStep(f"drafts.{action}", f"Dự thảo đang ở bước “{draft.status.label}”, không thể "
                                            f"“{ACTION_LABELS[action].lower()}”.")


def _holder(ok: bool, action: str, message: str | None = None) -> None:
    if not ok:
        raise NotAllowed(f"drafts.{action}", message or "Bạn không phải người đang giữ dự thảo ở bước này.")


def _event(draft: Draft, actor: User | None, action: str, text: str | None = None, *,
           actor_name: str | None = None) -> None:
    draft.updated_at = _now()
    session.add(DraftEvent(draft_id=draft.id, at=draft.updated_at, actor_id=actor.id if actor else None,
                           actor_name=(actor.full_name if actor else actor_name) or "Hệ thống", action=action,
                           status=draft.status.value, version_number=draft.current_version or None,
                           text=(text or None) and text[:2000]))
    audit.record(actor, f"drafts.{action}", object_type="drafts", object_id=draft.id,
                 organisation_id=draft.organisation_id, actor_name=actor_name,
                 details={"status": draft.status.value, "version": draft.current_version,
                          **({"text": text[:200]} if text else {})})


def _move(draft: Draft, actor: User | None, action: str, to: S, holder_id: int | None,
          text: str | None = None) -> None:
    draft.status = to
    draft.holder_id = holder_id
    session.flush()
    _event(draft, actor, action, text)


# --- visibility -----------------------------------------------------------------------------------------

def visible_clause(user: User) -> ColumnElement[bool]:
    """Who sees a draft: its drafter and everyone who has held it or been asked for comments;
    the organisation's clerks once it is signed; the organisation's agency leaders always."""
    d = Draft
    own = d.organisation_id == org_id(user)
    if user.has_role(Role.AGENCY_LEADER):
        return own
    participant = or_(
        d.drafter_id == user.id,
        d.holder_id == user.id,
        d.signer_id == user.id,
        exists().where(DraftEvent.draft_id == d.id, DraftEvent.actor_id == user.id),
        exists().where(CommentRound.draft_id == d.id, CommentInvite.round_id == CommentRound.id,
                       CommentInvite.user_id == user.id),
    )
    if user.has_role(Role.CLERK):
        participant = or_(participant, d.status.in_([S.SIGNED, S.ISSUED, S.RECALLED]))
    if user.has_role(Role.FORMAT_CHECKER):
        participant = or_(participant, d.status == S.FORMAT_CHECK)
    return and_(own, participant)


def get_visible(user: User, draft_id: int) -> Draft:
    draft = session.execute(select(Draft).where(Draft.id == draft_id, visible_clause(user))).scalar_one_or_none()
    if draft is None:
        raise NotFound()
    return draft


# --- drafting -------------------------------------------------------------------------------------------

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


def _check(user: User, data: DraftData) -> DocumentType:
    errors: dict[str, str] = {}
    data.subject = (nfc(data.subject) or "").strip()
    if not data.subject:
        errors["subject"] = "Hãy nhập trích yếu nội dung."
    elif len(data.subject) > 500:
        errors["subject"] = f"Trích yếu tối đa 500 ký tự (đang có {len(data.subject)})."
    doc_type = session.get(DocumentType, data.document_type_id) if data.document_type_id else None
    if doc_type is None or not doc_type.active:
        errors["document_type_id"] = "Hãy chọn loại văn bản."
    try:
        Urgency(int(data.urgency))
        Secrecy(int(data.secrecy))
    except ValueError:
        errors["urgency"] = "Độ khẩn hoặc độ mật không hợp lệ."
    if int(data.secrecy or 0):
        errors["secrecy"] = ("Văn bản mật không được soạn và gửi trên hệ thống (chỉ vào sổ mật, không có tệp); "
                             "hãy chọn “Thường”.")
    if data.authority not in ("", "TM.", "KT.", "TL.", "TUQ.", "Q."):
        errors["authority"] = "Thẩm quyền ký không hợp lệ."
    data.signer_title = (nfc(data.signer_title) or "").strip() or None
    if data.signer_title and len(data.signer_title) > 100:
        errors["signer_title"] = f"Chức vụ người ký tối đa 100 ký tự (đang có {len(data.signer_title)})."
    if data.signer_id is None:
        errors["signer_id"] = "Hãy chọn người ký."
    elif not choices.is_signer(data.signer_id, org_id(user)):
        errors["signer_id"] = "Người ký phải là lãnh đạo cơ quan (người có thẩm quyền ký) đang công tác tại cơ quan."
    if data.reply_to_id is not None:
        try:
            incoming.get_visible(user, data.reply_to_id)
        except NotFound:
            errors["reply_to_id"] = "Không tìm thấy văn bản đến được trả lời trong những văn bản bạn xem được."
    if data.due_date is not None and data.due_date < local_today():
        errors["due_date"] = "Hạn trả lời không thể trước hôm nay."
    for name in ("replaces_id", "corrects_id"):
        linked = getattr(data, name)
        if linked is None:
            continue
        out = session.get(OutgoingDocument, linked)
        if out is None or out.organisation_id != org_id(user) or out.status != OutgoingStatus.ISSUED:
            errors[name] = "Văn bản được đính chính hoặc thay thế phải là văn bản đã phát hành của cơ quan."
    if data.replaces_id and data.corrects_id:
        errors["corrects_id"] = "Một văn bản chỉ đính chính hoặc thay thế, không cả hai."
    if errors:
        raise ValidationFailed(errors)
    assert doc_type is not None
    return doc_type


def _store_version(draft: Draft, actor: User, main: Upload, attachments: Iterable[Upload],
                   note: str | None) -> DraftVersion:
    if not main.filename:
        raise ValidationFailed({"main": "Hãy chọn tệp dự thảo."})
    try:
        stored = storage.save(main.stream, nfc(main.filename) or "du-thao")  # type: ignore[arg-type]
    except storage.StorageError as exc:
        raise ValidationFailed({"main": str(exc)}) from exc
    draft.current_version += 1
    version = DraftVersion(draft_id=draft.id, number=draft.current_version, sha256=stored.sha256,
                           filename=(nfc(main.filename) or "du-thao")[:255], size=stored.size,
                           note=nfc(note) or None, uploaded_by_id=actor.id, uploaded_at=_now())
    session.add(version)
    for upload in attachments:
        if not upload.filename:
            continue
        try:
            extra = storage.save(upload.stream, nfc(upload.filename) or "tep")  # type: ignore[arg-type]
        except storage.StorageError as exc:
            raise ValidationFailed({"attachments": str(exc)}) from exc
        session.add(DraftAttachment(draft_id=draft.id, version_number=draft.current_version, sha256=extra.sha256,
                                    filename=(nfc(upload.filename) or "tep")[:255], size=extra.size))
    session.flush()
    return version


def create(drafter: User, data: DraftData, main: Upload, attachments: Iterable[Upload] = (),
           recipients: Iterable[RecipientSpec] = ()) -> Draft:
    """A new draft (version 1) by an officer of the organisation."""
    _holder(drafter.has_role(Role.OFFICER, Role.UNIT_HEAD, Role.AGENCY_LEADER, Role.CLERK), "create",
            "Chỉ cán bộ của cơ quan được soạn dự thảo.")
    doc_type = _check(drafter, data)
    position = drafter.current_position
    draft = Draft(organisation_id=org_id(drafter), unit_id=position.unit_id if position else None,
                  drafter_id=drafter.id, status=S.DRAFT, holder_id=drafter.id, document_type_id=doc_type.id,
                  type_name=doc_type.name, subject=data.subject, subject_folded=fold(data.subject),
                  urgency=int(data.urgency), secrecy=int(data.secrecy), signer_id=data.signer_id,
                  authority=data.authority, signer_title=data.signer_title, reply_to_id=data.reply_to_id,
                  due_date=data.due_date, replaces_id=data.replaces_id, corrects_id=data.corrects_id,
                  created_at=_now(), updated_at=_now())
    session.add(draft)
    session.flush()
    _store_version(draft, drafter, main, attachments, None)
    set_recipients(drafter, draft, list(recipients), record=False)
    _event(draft, drafter, "create", f"Phiên bản 1: {main.filename}")
    return draft


def update_details(drafter: User, draft: Draft, data: DraftData) -> None:
    _step(draft, "details", S.DRAFT)
    _holder(draft.drafter_id == drafter.id, "details", "Chỉ người soạn thảo được sửa dự thảo.")
    doc_type = _check(drafter, data)
    draft.document_type_id, draft.type_name = doc_type.id, doc_type.name
    draft.subject, draft.subject_folded = data.subject, fold(data.subject)
    draft.urgency, draft.secrecy = int(data.urgency), int(data.secrecy)
    draft.signer_id, draft.authority, draft.signer_title = data.signer_id, data.authority, data.signer_title
    draft.reply_to_id, draft.due_date = data.reply_to_id, data.due_date
    _event(draft, drafter, "details")


def add_version(drafter: User, draft: Draft, main: Upload, attachments: Iterable[Upload] = (),
                note: str | None = None) -> DraftVersion:
    """Every upload is a new immutable version; earlier ones stay viewable."""
    _step(draft, "version", S.DRAFT)
    _holder(draft.drafter_id == drafter.id, "version", "Chỉ người soạn thảo được cập nhật dự thảo.")
    note = limited(note, 500, "note", "Nội dung thay đổi") or None
    version = _store_version(draft, drafter, main, attachments, note)
    _event(draft, drafter, "version", f"Phiên bản {version.number}: {version.filename}"
                                      + (f" — {version.note}" if version.note else ""))
    return version


def set_recipients(drafter: User, draft: Draft, specs: list[RecipientSpec], *, record: bool = True) -> None:
    _step(draft, "details", S.DRAFT)
    _holder(draft.drafter_id == drafter.id, "details", "Chỉ người soạn thảo được sửa nơi nhận.")
    errors: dict[str, str] = {}
    rows = []
    seen: set[tuple[str, object]] = set()
    for spec in specs:
        if spec.organisation_id is not None:
            org = session.get(Organisation, spec.organisation_id)
            if not choices.can_receive(org, draft.organisation_id):
                errors["recipients"] = choices.not_receiving(org)
                continue
            key: tuple[str, object] = ("o", org.id)
            rows.append(Recipient(draft_id=draft.id, organisation_id=org.id, name=org.name, method=SendMethod.SYSTEM))
        else:
            name = (nfc(spec.name) or "").strip()
            if not name or len(name) > 200:
                errors["recipients"] = "Tên nơi nhận ngoài hệ thống từ 1 đến 200 ký tự."
                continue
            if spec.method == SendMethod.SYSTEM:
                errors["recipients"] = "Nơi nhận ngoài hệ thống cần cách gửi (bưu điện, thư điện tử…)."
                continue
            if len(address := (nfc(spec.address) or "").strip()) > 200:
                errors["recipients"] = f"Địa chỉ nơi nhận “{name[:60]}” tối đa 200 ký tự (đang có {len(address)})."
                continue
            key = ("n", fold(name))
            rows.append(Recipient(draft_id=draft.id, name=name, method=spec.method,
                                  address=address or None))
        if key in seen:
            errors["recipients"] = "Một nơi nhận chỉ ghi một lần."
        seen.add(key)
    if errors:
        raise ValidationFailed(errors)
    for old in session.execute(select(Recipient).where(Recipient.draft_id == draft.id)).scalars():
        session.delete(old)
    session.flush()
    session.add_all(rows)
    session.flush()
    if record:
        _event(draft, drafter, "details", "Nơi nhận: " + "; ".join(r.name for r in rows))


def versions(draft: Draft) -> list[DraftVersion]:
    return list(session.execute(select(DraftVersion).where(DraftVersion.draft_id == draft.id)
                                .order_by(DraftVersion.number)).scalars())


def current_version(draft: Draft) -> DraftVersion:
    return session.execute(select(DraftVersion).where(DraftVersion.draft_id == draft.id,
                                                      DraftVersion.number == draft.current_version)).scalar_one()


def attachments_of(draft: Draft, version_number: int | None = None) -> list[DraftAttachment]:
    number = version_number or draft.current_version
    return list(session.execute(select(DraftAttachment).where(DraftAttachment.draft_id == draft.id,
                                                              DraftAttachment.version_number == number)
                                .order_by(DraftAttachment.id)).scalars())


def attachments_by_version(draft: Draft) -> dict[int, list[DraftAttachment]]:
    """Every version's attachments in one query (the draft page lists them per version)."""
    result: dict[int, list[DraftAttachment]] = {}
    for row in session.execute(select(DraftAttachment).where(DraftAttachment.draft_id == draft.id)
                               .order_by(DraftAttachment.version_number, DraftAttachment.id)).scalars():
        result.setdefault(row.version_number, []).append(row)
    return result


def recipients_of(draft: Draft) -> list[Recipient]:
    return list(session.execute(select(Recipient).where(Recipient.draft_id == draft.id)
                                .order_by(Recipient.id)).scalars())


def history(draft: Draft) -> list[DraftEvent]:
    return list(session.execute(select(DraftEvent).where(DraftEvent.draft_id == draft.id)
                                .order_by(DraftEvent.id)).scalars())


def cancel(drafter: User, draft: Draft, reason: str) -> None:
    _step(draft, "cancel", S.DRAFT)
    _holder(draft.drafter_id == drafter.id, "cancel", "Chỉ người soạn thảo được hủy dự thảo.")
    _move(draft, drafter, "cancel", S.CANCELLED, None, _required(reason, "reason", "Hãy ghi lý do hủy."))


# --- comments (xin ý kiến) -----------------------------------------------------------------------------

def ask_comments(drafter: User, draft: Draft, user_ids: list[int], question: str,
                 deadline: date | None) -> CommentRound:
    _step(draft, "ask", S.DRAFT)
    _holder(draft.drafter_id == drafter.id, "ask", "Chỉ người soạn thảo được xin ý kiến.")
    errors = {}
    question = (nfc(question) or "").strip()
    if not question:
        errors["question"] = "Hãy ghi nội dung xin ý kiến."
    elif len(question) > 1000:
        errors["question"] = "Nội dung tối đa 1.000 ký tự."
    people = sorted(set(user_ids) - {drafter.id})
    if not people:
        errors["people"] = "Hãy chọn ít nhất một người cho ý kiến."
    for uid in people:
        member = session.execute(select(Position.id).where(Position.user_id == uid,
                                                           Position.organisation_id == draft.organisation_id)).first()
        if member is None:
            errors["people"] = "Chỉ xin ý kiến người trong cơ quan."
    if deadline is not None and deadline < local_today():
        errors["deadline"] = "Hạn cho ý kiến không thể trước hôm nay."
    if errors:
        raise ValidationFailed(errors)
    round_ = CommentRound(draft_id=draft.id, version_number=draft.current_version, question=question,
                          deadline=deadline, asked_by_id=drafter.id, asked_at=_now())
    session.add(round_)
    session.flush()
    session.add_all(CommentInvite(round_id=round_.id, user_id=uid) for uid in people)
    session.flush()
    names = ", ".join(session.get(User, uid).full_name for uid in people)  # type: ignore[union-attr]
    _event(draft, drafter, "ask", f"{question} (gửi {names}" + (f", hạn {deadline:%d/%m/%Y})" if deadline else ")"))
    return round_


def answer(user: User, draft: Draft, invite_id: int, value: str, text: str) -> None:
    invite = session.get(CommentInvite, invite_id)
    round_ = session.get(CommentRound, invite.round_id) if invite else None
    if invite is None or round_ is None or round_.draft_id != draft.id:
        raise NotFound()
    _holder(invite.user_id == user.id, "answer", "Bạn không được xin ý kiến ở lượt này.")
    if round_.closed_at is not None:
        raise WrongStep("drafts.answer", "Lượt xin ý kiến đã kết thúc.")
    if invite.answered_at is not None:
        raise WrongStep("drafts.answer", "Bạn đã cho ý kiến ở lượt này.")
    errors = {}
    if value not in {a.value for a in Answer}:
        errors["answer"] = "Hãy chọn Đồng ý, Không đồng ý hoặc Ý kiến khác."
    text = (nfc(text) or "").strip()
    if not text:
        errors["text"] = "Hãy ghi nội dung ý kiến."
    elif len(text) > 1000:
        errors["text"] = "Ý kiến tối đa 1.000 ký tự."
    if errors:
        raise ValidationFailed(errors)
    invite.answer, invite.text, invite.answered_at = Answer(value), text, _now()
    session.flush()
    _event(draft, user, "answer", f"{Answer(value).label}: {text}")


def close_round(drafter: User, draft: Draft, round_id: int) -> None:
    round_ = session.get(CommentRound, round_id)
    if round_ is None or round_.draft_id != draft.id:
        raise NotFound()
    _holder(round_.asked_by_id == drafter.id, "close_round", "Chỉ người xin ý kiến được kết thúc lượt này.")
    if round_.closed_at is not None:
        raise WrongStep("drafts.close_round", "Lượt xin ý kiến đã kết thúc.")
    round_.closed_at = _now()
    _event(draft, drafter, "close_round")


@dataclass
class RoundSummary:
    round: CommentRound
    invites: list[tuple[CommentInvite, User]]
    counts: dict[str, int]


def comment_rounds(draft: Draft) -> list[RoundSummary]:
    """The drafter's summary: each round with every answer and the count per answer."""
    rounds = session.execute(select(CommentRound).where(CommentRound.draft_id == draft.id)
                             .order_by(CommentRound.id)).scalars().all()
    rows = session.execute(select(CommentInvite, User).join(User, User.id == CommentInvite.user_id)
                           .join(CommentRound, CommentRound.id == CommentInvite.round_id)
                           .where(CommentRound.draft_id == draft.id).order_by(CommentInvite.id)).all()
    result = []
    for r in rounds:
        invites = [(i, u) for i, u in rows if i.round_id == r.id]
        counts = {a.label: sum(1 for i, _ in invites if i.answer == a) for a in Answer}
        counts["Chưa trả lời"] = sum(1 for i, _ in invites if i.answer is None)
        result.append(RoundSummary(r, invites, counts))
    return result


def my_open_invites(user: User, draft: Draft) -> list[CommentInvite]:
    return list(session.execute(
        select(CommentInvite).join(CommentRound, CommentRound.id == CommentInvite.round_id)
        .where(CommentRound.draft_id == draft.id, CommentRound.closed_at.is_(None), CommentInvite.user_id == user.id,
               CommentInvite.answered_at.is_(None))).scalars())


# --- approval chain -------------------------------------------------------------------------------------

def _required(text: str | None, name: str, message: str, limit: int = 2000) -> str:
    text = (nfc(text) or "").strip()
    if not text:
        raise ValidationFailed({name: message})
    if len(text) > limit:
        raise ValidationFailed({name: f"Nội dung tối đa {limit:,} ký tự.".replace(",", ".")})
    return text


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
    _step(draft, "submit", S.DRAFT)
    _holder(draft.drafter_id == drafter.id, "submit", "Chỉ người soạn thảo được trình dự thảo.")
    if draft.signer_id is None or not choices.is_signer(draft.signer_id, draft.organisation_id):
        raise ValidationFailed({"signer_id": "Hãy chọn người ký là lãnh đạo cơ quan trước khi trình."})
    head = unit_head_of(draft)
    note = limited(note, 2000, "note", "Ghi chú") or None
    tail = f": {note}" if note else ""
    if head is not None and head.id != drafter.id:
        _move(draft, drafter, "submit", S.UNIT_REVIEW, head.id, f"Trình {head.full_name}{tail}")
    else:
        _move(draft, drafter, "submit", S.FORMAT_CHECK, None, f"Trình kiểm tra thể thức{tail}")


def approve(head: User, draft: Draft, note: str | None = None) -> None:
    _step(draft, "approve", S.UNIT_REVIEW)
    _holder(draft.holder_id == head.id, "approve")
    _move(draft, head, "approve", S.FORMAT_CHECK, None, limited(note, 2000, "note", "Ghi chú") or None)


def format_ok(checker: User, draft: Draft, ticked: list[str], note: str | None = None) -> None:
    """Đạt thể thức: every item of the checklist ticked; on to the signer."""
    _step(draft, "format_ok", S.FORMAT_CHECK)
    _holder(is_format_checker(checker, draft), "format_ok", "Chỉ người kiểm tra thể thức của cơ quan được xác nhận.")
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
    _move(draft, checker, "format_ok", S.SIGNING, draft.signer_id, note)


def send_back(actor: User, draft: Draft, comment: str) -> None:
    """Trả lại: from any review step back to the drafter, with the comment the drafter reads."""
    _step(draft, "send_back", S.UNIT_REVIEW, S.FORMAT_CHECK, S.SIGNING)
    if draft.status == S.FORMAT_CHECK:
        _holder(is_format_checker(actor, draft), "send_back")
    else:
        _holder(draft.holder_id == actor.id, "send_back")
    comment = _required(comment, "comment", "Hãy ghi ý kiến trả lại để người soạn thảo sửa.")
    draft.frozen_sha256 = None
    _move(draft, actor, "send_back", S.DRAFT, draft.drafter_id, comment)


def forward_signing(signer: User, draft: Draft, other_id: int, note: str | None = None) -> None:
    _step(draft, "forward", S.SIGNING)
    _holder(draft.holder_id == signer.id, "forward")
    if other_id == signer.id or not choices.is_signer(other_id, draft.organisation_id):
        raise ValidationFailed({"leader_id": "Hãy chọn một lãnh đạo khác của cơ quan."})
    note = limited(note, 500, "note", "Ghi chú") or None
    other = session.get(User, other_id)
    assert other is not None
    draft.signer_id = other.id
    _move(draft, signer, "forward", S.SIGNING, other.id, f"Chuyển {other.full_name}" + (f": {note}" if note else ""))


def frozen_pdf(signer: User, draft: Draft) -> bytes:
    """The exact bytes the signer signs (also what an external token signs)."""
    _step(draft, "sign", S.SIGNING)
    _holder(draft.holder_id == signer.id, "sign")
    assert draft.frozen_sha256 is not None
    return storage.read(draft.frozen_sha256)


def sign(signer: User, draft: Draft, password_ok: bool, signed: bytes, *, external: bool = False) -> None:
    """Ký số: the signer has re-entered their password (checked by the caller through the auth
    service) and ``signed`` is the frozen PDF plus exactly one valid signature of theirs
    (checked by ``signatures``). Stores it and hands the draft to the clerks."""
    _step(draft, "sign", S.SIGNING)
    _holder(draft.holder_id == signer.id, "sign")
    if not password_ok:
        raise ValidationFailed({"password": "Mật khẩu không đúng; văn bản chưa được ký."})
    stored = storage.save(signed, f"{_slug(draft)}-da-ky.pdf")
    draft.signed_sha256 = stored.sha256
    draft.signed_at = _now()
    draft.signed_by_id = signer.id
    _move(draft, signer, "sign_external" if external else "sign", S.SIGNED, None,
          f"Ký bởi {signer.full_name}, SHA-256 {stored.sha256[:16]}…")


def sign_with_key(signer: User, draft: Draft, password: str, client: object) -> bool:
    """Ký số with the signer's registered key (development PKI, or a server-side token): the
    password is re-entered first. Returns False, having counted and audited the failure, when
    the password is wrong (the caller answers 422 and keeps the transaction)."""
    from portal.auth import services as auth
    from portal.drafts import signatures

    frozen = frozen_pdf(signer, draft)
    if not auth.confirm_password(signer, password, client, "sign"):  # type: ignore[arg-type]
        return False
    signed = signatures.sign_personal_for(signer, frozen, _now())
    sign(signer, draft, True, signed)
    return True


def accept_external(signer: User, draft: Draft, upload: bytes, password: str, client: object) -> bool:
    """The external path (SPEC §7.4): the signer signed the frozen PDF with their own token
    software; the upload is accepted only as exactly that PDF plus one valid signature by the
    certificate registered to them. Raises ValidationFailed with the reason otherwise."""
    from portal.auth import services as auth
    from portal.drafts import signatures

    frozen = frozen_pdf(signer, draft)
    if not auth.confirm_password(signer, password, client, "sign_external"):  # type: ignore[arg-type]
        return False
    report = signatures.check_upload_for(signer, frozen, upload)
    audit.record(signer, "drafts.external_signature_accepted", object_type="drafts", object_id=draft.id,
                 organisation_id=draft.organisation_id, details={"signer": report.get("signer", "")})
    sign(signer, draft, True, upload, external=True)
    return True


def refuse_issue(clerk: User, draft: Draft, reason: str) -> None:
    _step(draft, "refuse_issue", S.SIGNED)
    _holder(is_clerk(clerk, draft), "refuse_issue", "Chỉ văn thư của cơ quan được trả lại văn bản đã ký.")
    reason = _required(reason, "reason", "Hãy ghi lý do trả lại người ký.")
    draft.signed_sha256 = None
    draft.signed_at = None
    _move(draft, clerk, "refuse_issue", S.SIGNING, draft.signer_id, reason)


def _slug(draft: Draft) -> str:
    return f"du-thao-{draft.id}"


# --- issuance -------------------------------------------------------------------------------------------

def outgoing_books(organisation_id: int) -> list[RegisterBook]:
    return list(session.execute(select(RegisterBook).where(
        RegisterBook.organisation_id == organisation_id, RegisterBook.direction == Direction.OUTGOING,
        RegisterBook.active.is_(True), RegisterBook.is_secret.is_(False)).order_by(RegisterBook.id)).scalars())


def _book(draft: Draft, book_id: int | None) -> RegisterBook:
    books = outgoing_books(draft.organisation_id)
    if book_id is not None:
        book = next((b for b in books if b.id == book_id), None)
        if book is None:
            raise ValidationFailed({"book_id": "Sổ văn bản đi không hợp lệ."})
        return book
    if books:
        return books[0]
    # Two first issuances at once must not each create a book (PostgreSQL; SQLite's BEGIN
    # IMMEDIATE serialises them anyway): lock the organisation row and look again, as
    # incoming.incoming_book does.
    session.execute(select(Organisation.id).where(Organisation.id == draft.organisation_id)
                    .with_for_update(key_share=True))
    books = outgoing_books(draft.organisation_id)
    if books:
        return books[0]
    book = RegisterBook(organisation_id=draft.organisation_id, direction=Direction.OUTGOING, name="Sổ văn bản đi",
                        notation_template="{so}/{loai}-{co_quan}")
    session.add(book)
    session.flush()
    return book


def notation(draft: Draft, org: Organisation) -> str:
    """Ký hiệu (NĐ 30 Phụ lục I II.3): "QĐ-UBND" for typed documents; công văn (no type
    abbreviation) "UBND-VP": the organisation and the drafting unit."""
    doc_type = session.get(DocumentType, draft.document_type_id) if draft.document_type_id else None
    unit = session.get(Organisation, draft.unit_id) if draft.unit_id else None
    if doc_type is None or not doc_type.abbreviation:
        parts = [org.short_name] + ([unit.short_name] if unit else [])
    else:
        parts = [doc_type.abbreviation, org.short_name]
    return "-".join(p for p in parts if p)[:30]


def identifier(org: Organisation, year: int, number: int, code_notation: str) -> str:
    """Mã định danh văn bản (SPEC §4.5): {organ_id}-{năm}.{số}/{ký hiệu}."""
    return identifiers.identifier(org.organ_id or org.short_name, year, number, code_notation)


@dataclass
class Issued:
    outgoing: OutgoingDocument
    delivered: list[IncomingDocument]


def issue(clerk: User, draft: Draft, book_id: int | None, seal: object = None) -> Issued:
    """Cấp số và phát hành, in one transaction (SPEC §6.4): lock the draft, take the number of
    the chosen book, put number and date on the signed PDF and add the organisation's seal
    signature (``seal(pdf, number_text, date_text) -> bytes``), create the outgoing record and
    the recipients' incoming items. Any failure rolls everything back: no number is used. A
    second click finds the draft issued and changes nothing."""
    locked = session.execute(select(Draft).where(Draft.id == draft.id).with_for_update()
                             .execution_options(populate_existing=True)).scalar_one()
    _step(locked, "issue", S.SIGNED)
    _holder(is_clerk(clerk, locked), "issue", "Chỉ văn thư của cơ quan được cấp số và phát hành.")
    org = session.get(Organisation, locked.organisation_id)
    assert org is not None
    assert locked.signed_sha256 is not None
    recipients = recipients_of(locked)
    choices.check_delivery(recipients, org.id)
    book = _book(locked, book_id)
    now = _now()
    year = local_year(now)
    number = numbering.take_next(book, year)
    code_notation = notation(locked, org)
    issued_on = to_local(now).date()
    signed = storage.read(locked.signed_sha256)
    if seal is None:
        from portal.drafts import signatures

        seal = signatures.seal_for(org)
    sealed = seal(signed, f"{numbering.display(number)}/{code_notation}", issued_on)  # type: ignore[operator]
    stored = storage.save(sealed, f"{numbering.display(number)}-{code_notation}.pdf".replace("/", "-"))
    signer = session.get(User, locked.signed_by_id) if locked.signed_by_id else None
    out = OutgoingDocument(
        organisation_id=org.id, unit_id=locked.unit_id, status=OutgoingStatus.ISSUED, book_id=book.id, year=year,
        number=number, document_type_id=locked.document_type_id, type_name=locked.type_name,
        code_number=numbering.display(number), code_notation=code_notation, issued_date=issued_on,
        organ_name=org.name, subject=locked.subject, subject_folded=locked.subject_folded,
        signer_position=locked.signer_title, signer_name=signer.full_name[:50] if signer else None,
        urgency=locked.urgency, secrecy=locked.secrecy, due_date=locked.due_date, main_file_sha256=stored.sha256,
        file_sha256=stored.sha256, issued_at=now, issued_by_id=clerk.id,
        identifier=identifier(org, year, number, code_notation),
        document_id=identifiers.document_id(org.organ_id or org.short_name, issued_on, number, code_notation),
        recipients_text="; ".join(r.name for r in recipients)[:1000] or None,
        replaces_id=locked.replaces_id, corrects_id=locked.corrects_id)
    session.add(out)
    session.flush()
    locked.outgoing_id = out.id
    delivered = _deliver(locked, out, org, stored.sha256, recipients, now)
    _move(locked, clerk, "issue", S.ISSUED, None,
          f"Số {out.code_number}/{code_notation}, ngày {issued_on:%d/%m/%Y}; gửi {len(recipients)} nơi nhận")
    return Issued(out, delivered)


def _deliver(draft: Draft, out: OutgoingDocument, org: Organisation, sha256: str, recipients: list[Recipient],
             now: datetime) -> list[IncomingDocument]:
    """Organisations of this system get an incoming item at 01 (SPEC §6.5); outside bodies are
    recorded as sent by their method (sổ gửi văn bản đi bưu điện)."""
    data = storage.read(sha256)
    attachments = attachments_of(draft)
    delivered = []
    for r in recipients:
        r.sent_at = now
        if r.method != SendMethod.SYSTEM or r.organisation_id is None:
            continue
        target = session.get(Organisation, r.organisation_id)
        assert target is not None
        files = [incoming.Upload(f"{out.code_number}-{out.code_notation}.pdf".replace("/", "-"), data,
                                 incoming.FileRole.MAIN)]
        files += [incoming.Upload(a.filename, storage.read(a.sha256), incoming.FileRole.ATTACHMENT)
                  for a in attachments]
        doc = incoming.receive(target, incoming.Metadata(
            type_name=out.type_name, document_type_id=out.document_type_id, code_number=out.code_number,
            code_notation=out.code_notation, issued_date=out.issued_date, organ_name=org.name, subject=out.subject,
            signer_name=out.signer_name, signer_position=out.signer_position, urgency=Urgency(int(out.urgency or 0)),
            due_date=out.due_date, document_id=out.document_id), files, sender=org, source_outgoing_id=out.id)
        r.incoming_document_id = doc.id
        delivered.append(doc)
    session.flush()
    return delivered


# --- after issuance ---------------------------------------------------------------------------------------

@dataclass
class RecipientStatus:
    recipient: Recipient
    code: str
    label: str
    at: datetime | None
    reason: str | None


STATUS_LABELS = {"01": "Đã đến", "02": "Bị trả lại", "03": "Đã tiếp nhận", "03p": "Đã tiếp nhận",
                 "04": "Đã phân công", "05": "Đang xử lý", "06": "Hoàn thành", "13": "Đang yêu cầu thu hồi",
                 "15": "Đã thu hồi", "16": "Từ chối thu hồi"}


def recipient_statuses(draft: Draft) -> list[RecipientStatus]:
    """What the sender sees per recipient: the latest status and when it changed (SPEC §6.6)."""
    rows = recipients_of(draft)
    docs = {d.id: d for d in session.execute(select(IncomingDocument).where(
        IncomingDocument.id.in_([r.incoming_document_id for r in rows if r.incoming_document_id]))).scalars()}
    result = []
    for r in rows:
        doc = docs.get(r.incoming_document_id) if r.incoming_document_id else None
        if doc is None:
            label = f"Đã gửi ({r.method.label})" if r.sent_at else "Chưa gửi"
            result.append(RecipientStatus(r, "", label, r.sent_at, None))
            continue
        events = incoming.sender_events(doc)
        code = doc.status.value
        at = events[-1].at if events else r.sent_at
        reason = doc.return_reason if code == "02" else None
        if r.recall_answer == "16":
            code, at, reason = "16", r.recall_answered_at, r.recall_answer_text
        elif doc.recall_requested_at and code not in ("02", "15"):
            code, at, reason = "13", doc.recall_requested_at, None
        result.append(RecipientStatus(r, code, STATUS_LABELS.get(code, code), at, reason))
    return result


def recall(actor: User, draft: Draft, reason: str) -> None:
    """Thu hồi (SPEC §6.8): the sender's record is frozen; each internal recipient is asked (at
    01 it disappears at once); each answers, and the sender sees the answer."""
    _step(draft, "recall", S.ISSUED)
    _holder(is_clerk(actor, draft) or (actor.has_role(Role.AGENCY_LEADER) and draft.organisation_id == org_id(actor)),
            "recall", "Chỉ văn thư hoặc lãnh đạo cơ quan được thu hồi văn bản.")
    reason = _required(reason, "reason", "Hãy ghi lý do thu hồi; nơi nhận sẽ thấy nội dung này.", 1000)
    out = session.get(OutgoingDocument, draft.outgoing_id)
    assert out is not None
    out.status = OutgoingStatus.RECALLED
    out.recalled_at, out.recall_reason, out.recalled_by_id = _now(), reason, actor.id
    org = session.get(Organisation, draft.organisation_id)
    for r in recipients_of(draft):
        if r.incoming_document_id is None:
            continue
        doc = session.get(IncomingDocument, r.incoming_document_id)
        assert doc is not None
        incoming.request_recall(doc, reason, org.name if org else "Nơi gửi")
        if doc.status.value == "15":
            r.recall_answer, r.recall_answered_at = "15", _now()
    _move(draft, actor, "recall", S.RECALLED, None, reason)


def record_recall_answer(doc: IncomingDocument, agreed: bool, reason: str | None) -> None:
    """Called by the incoming side when the receiving clerk agrees (15) or refuses (16)."""
    r = session.execute(select(Recipient).where(Recipient.incoming_document_id == doc.id)).scalar_one_or_none()
    if r is None:
        return
    r.recall_answer = "15" if agreed else "16"
    r.recall_answer_text = reason
    r.recall_answered_at = _now()
    draft = session.get(Draft, r.draft_id)
    if draft is not None:
        _event(draft, None, "recall_answer", f"{r.name}: {'đồng ý thu hồi' if agreed else 'từ chối thu hồi'}"
                                             + (f" — {reason}" if reason else ""), actor_name=r.name)


def start_follow_up(drafter: User, out: OutgoingDocument, kind: str) -> DraftData:
    """Đính chính or thay thế: a new draft linked to the issued one (SPEC §6.7); returns the
    data to prefill. The link is stored when the new draft is created."""
    if kind not in ("dinh_chinh", "thay_the"):
        raise ValidationFailed({"kind": "Hãy chọn đính chính hoặc thay thế."})
    if out.organisation_id != org_id(drafter):
        raise NotFound()
    if out.status != OutgoingStatus.ISSUED:
        raise WrongStep("drafts.create", "Chỉ đính chính hoặc thay thế văn bản đang có hiệu lực (đã phát hành).")
    if kind == "dinh_chinh":
        return DraftData(subject=f"Đính chính Văn bản số {out.code_number}/{out.code_notation}", corrects_id=out.id)
    return DraftData(subject=out.subject, document_type_id=out.document_type_id, replaces_id=out.id)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
