"""E-mail as a delivery channel (issue 17 item 6; Đắk Nông QĐ 35/2016 Điều 8.3.b): a recipient reached only by
e-mail gets the issued document itself, the signed PDF and its attachments, through the outbox.

- ``queue_document`` runs in the issuing transaction (``delivery.deliver``): one outbox message per recipient,
  keyed ``document.<outgoing id>.<recipient id>`` (queued twice = one message; the key is also the Message-ID).
  The files go to ``portal.storage`` (content-addressed: twenty recipients, one copy) and the message names them.
- The address must be one the outbox accepts (``outbox.service.usable_address``, the one rule); drafts checks
  only its length when recipients are set, so a missing or malformed address is refused here, at issuance,
  and the whole issuance rolls back (no number is used up).
- ``status_of`` is the sender's per-recipient view: waiting, sent (when) or failed (why), from the message's row.
- This is delivery, not a notification: notifications never carry files (SPEC §15).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Protocol

from sqlalchemy import select

from portal import storage
from portal.db import session
from portal.documents.models import OutgoingDocument, Urgency
from portal.errors import ValidationFailed
from portal.exchange.delivery import File, Status
from portal.orgs.models import Organisation
from portal.outbox import service as outbox
from portal.outbox.attachments import Attachment, clean_name
from portal.outbox.models import MessageState, OutboxMessage
from portal.timeutil import format_date, format_datetime

KIND = "document"
SUBJECT_MAX = 300
WAITING, SENT, FAILED = "Đang chờ gửi thư", "Đã gửi thư điện tử", "Gửi thư không được"


class Recipient(Protocol):
    """What is read of a ``drafts.models.Recipient`` (exchange does not import drafts)."""

    id: int
    name: str
    address: str | None
    sent_at: datetime | None


def key_of(outgoing_id: int, recipient_id: int) -> str:
    return f"{KIND}.{outgoing_id}.{recipient_id}"


def queue_document(out: OutgoingDocument, org: Organisation, recipient: Recipient, main: File,
                   attachments: list[File]) -> None:
    """Queue the signed document for an e-mail recipient (a ``drafts.models.Recipient``), in the caller's
    transaction. Raises ValidationFailed (field ``recipients``) when its address cannot be used."""
    address = outbox.usable_address(recipient.address)
    if address is None:
        raise ValidationFailed({"recipients": _bad_address(recipient)})
    files = [_stored(main), *(_stored(f) for f in attachments)]
    outbox.add(KIND, address, subject(out, org), body(out, org, recipient, [f.filename for f in files]),
               key_of(out.id, recipient.id), attachments=files)


def _bad_address(recipient: Recipient) -> str:
    name = (recipient.name or "")[:60]
    given = (recipient.address or "").strip()
    what = f"địa chỉ thư “{given[:60]}” không hợp lệ" if given else "chưa có địa chỉ thư điện tử"
    return (f"Nơi nhận “{name}” gửi bằng thư điện tử nhưng {what} (ví dụ: vanthu@soyte.ninhbinh.gov.vn). "
            "Hãy trả lại người ký để sửa nơi nhận.")


def _stored(file: File) -> Attachment:
    """The file in storage (once, whatever the number of recipients) and how the message names it."""
    sha = hashlib.sha256(file.data).hexdigest()
    row = session.get(storage.StoredFile, sha)
    if row is None or not storage.object_path(sha).is_file():
        try:
            row = storage.save(file.data, file.name)
        except storage.UnsupportedFileType:  # a name without a known extension: sent as it is
            row = storage.save(file.data, file.name, inert=True)
    return Attachment(sha, clean_name(file.name), row.content_type)


def code_of(out: OutgoingDocument) -> str:
    return "/".join(p for p in (out.code_number, out.code_notation) if p)


def subject(out: OutgoingDocument, org: Organisation) -> str:
    """"Văn bản số 05/QĐ-SNV của Sở Nội vụ: Về việc …", the trích yếu shortened to fit 300 characters."""
    head = f"Văn bản số {code_of(out) or '(chưa số)'} của {org.name}: "
    text = " ".join((out.subject or "").split())
    if len(head) + len(text) > SUBJECT_MAX:
        text = text[:max(SUBJECT_MAX - len(head) - 1, 0)].rstrip() + "…"
    return (head + text)[:SUBJECT_MAX]


def body(out: OutgoingDocument, org: Organisation, recipient: Recipient, names: list[str]) -> str:
    lines = [f"Kính gửi: {recipient.name}", "", f"{org.name} gửi văn bản sau:", "",
             f"Số, ký hiệu: {code_of(out)}", f"Ngày ban hành: {format_date(out.issued_date)}",
             f"Loại văn bản: {out.type_name}", f"Trích yếu: {' '.join((out.subject or '').split())}"]
    if out.signer_name:
        lines.append(f"Người ký: {' '.join(p for p in (out.signer_position, out.signer_name) if p)}")
    if int(out.urgency or 0):
        lines.append(f"Độ khẩn: {Urgency(int(out.urgency)).label}")
    if out.due_date:
        lines.append(f"Hạn xử lý: {format_date(out.due_date)}")
    if out.document_id:
        lines.append(f"Mã định danh văn bản: {out.document_id}")
    lines += ["", "Tệp đính kèm:", f"- {names[0]} (văn bản chính)", *(f"- {n}" for n in names[1:]), "",
              f"Văn bản chính là tệp PDF có chữ ký số của người ký và của {org.name}; văn bản điện tử được ký số "
              "hợp lệ có giá trị pháp lý như bản gốc văn bản giấy. Đề nghị kiểm tra chữ ký số trên tệp (bằng phần "
              "mềm đọc PDF hoặc công cụ kiểm tra chữ ký số) trước khi sử dụng.",
              "",
              "Thư này là bản văn bản điện tử gửi qua thư điện tử công vụ theo quy định về trao đổi văn bản điện tử, "
              "dành cho nơi nhận chưa kết nối liên thông văn bản với cơ quan gửi."]
    contact = ", ".join(p for p in (org.email, org.phone) if p)
    lines += ["", "--", f"Thư do Cổng quản lý văn bản và điều hành gửi tự động thay mặt {org.name}; vui lòng không "
              "trả lời thư này." + (f" Cần trao đổi về văn bản, xin liên hệ: {contact}." if contact else "")]
    return "\n".join(lines)


# --- what the sender sees --------------------------------------------------------------------------------


def message_of(recipient: Recipient) -> OutboxMessage | None:
    """The document's message to this recipient: by address (indexed), then by the key's recipient part (the
    recipient row knows its draft, not the outgoing document)."""
    address = outbox.usable_address(recipient.address)
    if address is None:
        return None
    return session.execute(
        select(OutboxMessage).where(OutboxMessage.recipient == address, OutboxMessage.kind == KIND,
                                    OutboxMessage.key.startswith(f"{KIND}."),
                                    OutboxMessage.key.endswith(f".{recipient.id}"))
        .order_by(OutboxMessage.id.desc()).limit(1)).scalar_one_or_none()


def status_of(recipient: Recipient) -> Status:
    """Đang chờ gửi thư / Đã gửi thư điện tử (when) / Gửi thư không được (why), with the history."""
    row = message_of(recipient)
    if row is None:
        if recipient.sent_at is None:
            return Status("", "Chưa gửi", None, None, [])
        # issued before e-mail delivery existed: recorded as sent, no message in the outbox
        return Status("", "Đã ghi nhận gửi (không có thư trong hộp thư đi)", recipient.sent_at, None, [])
    history: list[tuple[str, str, datetime | None, str | None]] = [
        ("", f"Đã xếp thư gửi tới {row.recipient} vào hộp thư đi", row.created_at, None)]
    if row.state == MessageState.QUEUED and row.attempts:
        history.append(("", f"Gửi thư chưa được ({row.attempts} lần); thử lại lúc "
                            f"{format_datetime(row.next_attempt_at)}", None, row.last_error))
    elif row.state == MessageState.SENDING:
        history.append(("", f"Đang gửi (lần thử {row.attempts})", None, None))
    elif row.state == MessageState.SENT and row.attempts > 1:
        history.append(("", f"Gửi thư chưa được {row.attempts - 1} lần trước khi gửi được", None, row.last_error))
    if row.state == MessageState.SENT:
        history.append(("", SENT, row.sent_at, None))
        return Status("", SENT, row.sent_at, None, history)
    if row.state == MessageState.FAILED:
        history.append(("", f"{FAILED} (sau {row.attempts} lần thử)", None, row.last_error))
        return Status("", FAILED, None, row.last_error, history)
    return Status("", WAITING, row.created_at, row.last_error, history)
