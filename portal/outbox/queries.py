"""What the administrators' page of the outbox reads: the messages of one list (failed and waiting by default),
newest first, a keyset page at a time, each with its kind and last error said in plain Vietnamese and whether
it may be sent again (``resend``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from portal.auth.models import User
from portal.db import session, utcnow
from portal.errors import NotAllowed
from portal.outbox import resend
from portal.outbox.models import MessageState, OutboxMessage

PAGE_SIZE = 50
M = MessageState


@dataclass(frozen=True)
class View:
    """One list of the page (a tab, ``?ds=``)."""

    slug: str
    label: str
    states: frozenset[MessageState]


VIEWS = (
    View("chua-gui", "Chưa gửi được", frozenset({M.FAILED, M.QUEUED, M.SENDING})),
    View("loi", "Gửi không được", frozenset({M.FAILED})),
    View("dang-cho", "Đang chờ gửi", frozenset({M.QUEUED, M.SENDING})),
    View("da-gui", "Đã gửi", frozenset({M.SENT})),
    View("tat-ca", "Tất cả", frozenset(M)),
)
DEFAULT = VIEWS[0]


def view(slug: str | None) -> View:
    return next((v for v in VIEWS if v.slug == slug), DEFAULT)


KINDS = {
    "account_locked": "Báo tài khoản bị khóa",
    "password_reset": "Báo mật khẩu được đặt lại",
    "password_expiring": "Báo mật khẩu sắp hết hạn",
    "document": "Văn bản gửi qua thư điện tử",
    "notification": "Thông báo",
    "notification_digest": "Tổng hợp thông báo trong ngày",
}


# --- the last error, for people -------------------------------------------------------------------------------
#
# The drain keeps "<exception class>: <text>" for what it will retry, and a Vietnamese sentence for what failed for
# good (attachments.PermanentFailure, drain.INTERRUPTED). The first kind is said again in words; the original stays
# beside it for IT ("Chi tiết kỹ thuật").

TECHNICAL = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*(?:Error|Exception|Refused|Disconnected|timeout)): ?(.*)", re.S)
PLAIN = {
    "ConnectionRefusedError": "Máy chủ thư từ chối kết nối (máy chủ đang tắt hoặc cấu hình sai cổng).",
    "TimeoutError": "Máy chủ thư không trả lời trong thời gian chờ.",
    "timeout": "Máy chủ thư không trả lời trong thời gian chờ.",
    "gaierror": "Không tìm thấy máy chủ thư theo tên đã cấu hình (PORTAL_SMTP_HOST).",
    "SSLCertVerificationError": "Chứng thư bảo mật của máy chủ thư không hợp lệ hoặc không được tin cậy "
                                "(xem PORTAL_SMTP_CA_FILE).",
    "SSLError": "Lỗi mã hóa kết nối (TLS) với máy chủ thư.",
    "SMTPAuthenticationError": "Máy chủ thư từ chối tên đăng nhập hoặc mật khẩu của hệ thống "
                               "(PORTAL_SMTP_USER, PORTAL_SMTP_PASSWORD).",
    "SMTPNotSupportedError": "Máy chủ thư không hỗ trợ STARTTLS hoặc cách đăng nhập đã cấu hình.",
    "SMTPServerDisconnected": "Máy chủ thư ngắt kết nối giữa chừng.",
    "SMTPConnectError": "Không mở được phiên làm việc với máy chủ thư.",
    "ConnectionResetError": "Kết nối tới máy chủ thư bị ngắt giữa chừng.",
    "OSError": "Lỗi mạng khi kết nối tới máy chủ thư.",
}
SMTP_CODE = re.compile(r"\((\d{3}),")


def plain_error(text: str | None) -> tuple[str, str]:
    """(what a person reads, the technical original or "" when the first says it all)."""
    if not text:
        return "", ""
    match = TECHNICAL.fullmatch(text.strip())
    if match is None:
        return text, ""  # already a sentence in Vietnamese
    name, rest = match.group(1).rpartition(".")[2], match.group(2)
    if name == "IntegrityError":  # portal.storage: its message is Vietnamese
        return rest, ""
    if name in PLAIN:
        return PLAIN[name], text
    if name.startswith("SMTP"):
        code = SMTP_CODE.search(rest)
        said = f" (mã {code.group(1)})" if code else ""
        return f"Máy chủ thư tạm thời không nhận thư{said}.", text
    return "Lỗi không xác định khi gửi thư; xem chi tiết kỹ thuật.", text


# --- the page ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    message: OutboxMessage
    kind: str
    error: str
    technical: str
    stale: str | None  # why a failed message may not be sent again
    resendable: bool


@dataclass
class Page:
    rows: list[Row]
    next_cursor: str | None
    first: bool


def _require(actor: User) -> None:
    if not resend.can_manage(actor):
        raise NotAllowed("outbox.view", resend.REFUSAL)


def page(actor: User, shown: View, after: int | None = None, size: int | None = None,
         now: datetime | None = None) -> Page:
    """Newest first (the id grows with each message), ``size`` rows after the id ``after``: the key is the
    row's own id, so pages neither repeat nor skip rows while the drain changes states."""
    _require(actor)
    size = size or PAGE_SIZE
    query = select(OutboxMessage).where(OutboxMessage.state.in_(shown.states))
    if after is not None:
        query = query.where(OutboxMessage.id < after)
    found = list(session.execute(query.order_by(OutboxMessage.id.desc()).limit(size + 1)).scalars())
    more, found = len(found) > size, found[:size]
    failed = [m for m in found if m.state == M.FAILED]
    resend.warm(failed)
    now = now or utcnow()
    rows = []
    for message in found:
        reason = resend.stale(message, now) if message.state == M.FAILED else None
        error, technical = plain_error(message.last_error)
        rows.append(Row(message, KINDS.get(message.kind, message.kind), error, technical, reason,
                        message.state == M.FAILED and reason is None))
    return Page(rows, str(found[-1].id) if more else None, first=after is None)


def counts(actor: User) -> dict[str, int]:
    """Messages per list, for the tabs ("Đã gửi" and "Tất cả" are not counted: they only grow)."""
    _require(actor)
    by_state = dict(session.execute(
        select(OutboxMessage.state, func.count()).where(OutboxMessage.state.in_(DEFAULT.states))
        .group_by(OutboxMessage.state)).all())
    return {v.slug: sum(by_state.get(s, 0) for s in v.states) for v in VIEWS if M.SENT not in v.states}
