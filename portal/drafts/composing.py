"""Composing a draft (SPEC §6.1): create, versions, details and recipients, cancel, follow-ups
(đính chính, thay thế), and reading a draft's versions, attachments, recipients and history."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from portal import storage
from portal.auth.models import User
from portal.db import session
from portal.documents.models import DocumentType, OutgoingDocument, OutgoingStatus, Secrecy, Urgency
from portal.drafts import choices, common
from portal.drafts import permissions as perm
from portal.drafts.common import DraftData, RecipientSpec, S, Upload
from portal.drafts.models import Draft, DraftAttachment, DraftEvent, DraftVersion, Recipient, SendMethod
from portal.drafts.workflow import guard, when
from portal.errors import NotAllowed, NotFound, ValidationFailed
from portal.incoming import services as incoming
from portal.orgs.models import Organisation
from portal.text import fold, limited, nfc
from portal.timeutil import local_today
from portal.workflow import AlreadyDone


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
    elif not choices.is_signer(data.signer_id, perm.org_id(user)):
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
        if out is None or out.organisation_id != perm.org_id(user) or out.status != OutgoingStatus.ISSUED:
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
    if draft.current_version:
        _not_stored_already(draft, stored.sha256)
    draft.current_version += 1
    version = DraftVersion(draft_id=draft.id, number=draft.current_version, sha256=stored.sha256,
                           filename=(nfc(main.filename) or "du-thao")[:255], size=stored.size,
                           note=nfc(note) or None, uploaded_by_id=actor.id, uploaded_at=common.now())
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


def _not_stored_already(draft: Draft, sha256: str) -> None:
    """The same file as the current version is this request's twin (a double click, a resubmitted
    form): no second version of the same bytes."""
    latest = current_version(draft)
    if latest.sha256 == sha256:
        uploader = session.get(User, latest.uploaded_by_id)
        raise AlreadyDone(f"Phiên bản {latest.number} ({latest.filename}) với cùng nội dung đã được lưu "
                          f"{when(latest.uploaded_at, uploader.full_name if uploader else '?')}.",
                          action="drafts.version")


def create(drafter: User, data: DraftData, main: Upload, attachments: Iterable[Upload] = (),
           recipients: Iterable[RecipientSpec] = ()) -> Draft:
    """A new draft (version 1) by an officer of the organisation."""
    if not perm.can_create(drafter):
        raise NotAllowed("drafts.create", "Chỉ cán bộ của cơ quan được soạn dự thảo.")
    doc_type = _check(drafter, data)
    position = drafter.current_position
    draft = Draft(organisation_id=perm.org_id(drafter), unit_id=position.unit_id if position else None,
                  drafter_id=drafter.id, status=S.DRAFT, holder_id=drafter.id, document_type_id=doc_type.id,
                  type_name=doc_type.name, subject=data.subject, subject_folded=fold(data.subject),
                  urgency=int(data.urgency), secrecy=int(data.secrecy), signer_id=data.signer_id,
                  authority=data.authority, signer_title=data.signer_title, reply_to_id=data.reply_to_id,
                  due_date=data.due_date, replaces_id=data.replaces_id, corrects_id=data.corrects_id,
                  created_at=common.now(), updated_at=common.now())
    session.add(draft)
    session.flush()
    _store_version(draft, drafter, main, attachments, None)
    set_recipients(drafter, draft, list(recipients), record=False)
    common.event(draft, drafter, "create", f"Phiên bản 1: {main.filename}")
    return draft


def update_details(drafter: User, draft: Draft, data: DraftData, *, record: bool = True) -> None:
    draft = guard(drafter, "details", draft)
    doc_type = _check(drafter, data)
    draft.document_type_id, draft.type_name = doc_type.id, doc_type.name
    draft.subject, draft.subject_folded = data.subject, fold(data.subject)
    draft.urgency, draft.secrecy = int(data.urgency), int(data.secrecy)
    draft.signer_id, draft.authority, draft.signer_title = data.signer_id, data.authority, data.signer_title
    draft.reply_to_id, draft.due_date = data.reply_to_id, data.due_date
    if record:
        common.event(draft, drafter, "details")


def _details_of(draft: Draft) -> tuple[object, ...]:
    return (draft.document_type_id, draft.subject, draft.urgency, draft.secrecy, draft.signer_id, draft.authority,
            draft.signer_title, draft.reply_to_id, draft.due_date,
            [(r.organisation_id, r.name, r.method, r.address) for r in recipients_of(draft)])


def edit(drafter: User, draft: Draft, data: DraftData, specs: list[RecipientSpec]) -> None:
    """Sửa thông tin và nơi nhận, one step with one history row. Saving exactly what is there
    already (the same form sent twice) changes nothing and says when it was saved."""
    draft = guard(drafter, "details", draft)
    before = _details_of(draft)
    update_details(drafter, draft, data, record=False)
    set_recipients(drafter, draft, specs, record=False)
    session.flush()
    if _details_of(draft) == before:
        last = next((e for e in reversed(history(draft)) if e.action in ("details", "create")), None)
        raise AlreadyDone(f"Thông tin dự thảo đã được lưu {when(last.at, last.actor_name)}." if last
                          else "Thông tin dự thảo không có gì thay đổi.", action="drafts.details")
    common.event(draft, drafter, "details", "Nơi nhận: " + "; ".join(r.name for r in recipients_of(draft)))


def add_version(drafter: User, draft: Draft, main: Upload, attachments: Iterable[Upload] = (),
                note: str | None = None) -> DraftVersion:
    """Every upload is a new immutable version; earlier ones stay viewable."""
    draft = guard(drafter, "version", draft)
    note = limited(note, 500, "note", "Nội dung thay đổi") or None
    version = _store_version(draft, drafter, main, attachments, note)
    common.event(draft, drafter, "version", f"Phiên bản {version.number}: {version.filename}"
                                      + (f" — {version.note}" if version.note else ""))
    return version


def set_recipients(drafter: User, draft: Draft, specs: list[RecipientSpec], *, record: bool = True) -> None:
    draft = guard(drafter, "details", draft)
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
        common.event(draft, drafter, "details", "Nơi nhận: " + "; ".join(r.name for r in rows))


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
    draft = guard(drafter, "cancel", draft)
    common.move(draft, drafter, "cancel", S.CANCELLED, None, common.required(reason, "reason", "Hãy ghi lý do hủy."))



def start_follow_up(drafter: User, out: OutgoingDocument, kind: str) -> DraftData:
    """Đính chính or thay thế: a new draft linked to the issued one (SPEC §6.7); returns the
    data to prefill. The link is stored when the new draft is created."""
    if kind not in ("dinh_chinh", "thay_the"):
        raise ValidationFailed({"kind": "Hãy chọn đính chính hoặc thay thế."})
    if out.organisation_id != perm.org_id(drafter):
        raise NotFound()
    if out.status != OutgoingStatus.ISSUED:
        raise perm.WrongStep("drafts.create", "Chỉ đính chính hoặc thay thế văn bản đang có hiệu lực (đã phát hành).")
    if kind == "dinh_chinh":
        return DraftData(subject=f"Đính chính Văn bản số {out.code_number}/{out.code_notation}", corrects_id=out.id)
    return DraftData(subject=out.subject, document_type_id=out.document_type_id, replaces_id=out.id)
