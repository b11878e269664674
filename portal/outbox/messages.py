"""The portal's e-mails, in Vietnamese, plain text: what each says and its idempotency key.

Each function queues in the caller's transaction and returns whether a message was queued (a
person without an e-mail address gets none: the portal's own notice still reaches them). No
message carries a password, a token or a link that signs anyone in.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from portal.outbox import service
from portal.timeutil import format_datetime

if TYPE_CHECKING:  # auth imports this module: no import of auth at run time
    from portal.auth.models import User

FOOTER = ("\n\n--\nThư này do Cổng quản lý văn bản và điều hành (QLVB&ĐH) gửi tự động; vui lòng không trả lời "
          "thư này. Cần hỗ trợ, hãy liên hệ bộ phận quản trị (CNTT) của cơ quan.")


STAMP = "%Y%m%dT%H%M%S%f"
EXPIRING = "password-expiring."


def _stamp(at: datetime) -> str:
    return at.strftime(STAMP)


def expiry_of(key: str) -> datetime | None:
    """The moment a password-expiring notice's key names (its last part, written by :func:`password_expiring`);
    None for any other key. After it, the notice ("sẽ hết hạn sau N ngày") is no longer true."""
    if not key.startswith(EXPIRING):
        return None
    try:
        return datetime.strptime(key.rpartition(".")[2], STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None


def _queue(kind: str, user: User, subject: str, body: str, key: str) -> bool:
    if service.usable_address(user.email) is None:
        return False  # no usable address (a directory may hold anything): the portal's notice remains
    greeting = f"Kính gửi {user.full_name},\n\n"
    return service.add(kind, user.email, subject, greeting + body + FOOTER, key, user_id=user.id)


def account_locked(user: User, at: datetime, text: str) -> bool:
    """The automatic lockout after repeated wrong passwords; ``text`` is the notice the portal shows."""
    return _queue("account_locked", user, "Tài khoản của bạn đã bị tạm khóa",
                  f"{text}\n\nTên đăng nhập: {user.username}", f"account-locked.{user.id}.{_stamp(at)}")


def account_locked_by_admin(user: User, at: datetime, reason: str) -> bool:
    return _queue("account_locked", user, "Tài khoản của bạn đã bị quản trị khóa",
                  f"Tài khoản {user.username} đã bị quản trị khóa lúc {format_datetime(at)}.\nLý do: {reason}\n\n"
                  "Mọi phiên đăng nhập đã kết thúc. Liên hệ bộ phận quản trị (CNTT) nếu cần mở khóa.",
                  f"account-locked.{user.id}.{_stamp(at)}")


def password_reset(user: User, at: datetime, hours: int) -> bool:
    """Says that a reset happened and where to get the temporary password: from IT in person. The
    password itself is shown once on the administrator's screen and never written into a message."""
    return _queue("password_reset", user, "Mật khẩu tài khoản của bạn đã được đặt lại",
                  f"Mật khẩu tài khoản {user.username} đã được quản trị đặt lại lúc {format_datetime(at)}; "
                  "mọi phiên đăng nhập đã kết thúc.\n\n"
                  "Mật khẩu tạm thời không được gửi qua thư. Hãy liên hệ trực tiếp bộ phận quản trị (CNTT) để "
                  f"nhận; mật khẩu tạm thời có hiệu lực {hours} giờ và phải đổi ngay ở lần đăng nhập đầu tiên.\n\n"
                  "Nếu bạn không yêu cầu đặt lại mật khẩu, hãy báo ngay cho quản trị.",
                  f"password-reset.{user.id}.{_stamp(at)}")


def password_expiring(user: User, expires_at: datetime, days_left: int) -> bool:
    """One per person per expiry date: the key carries the date the password expires, so the daily
    run queues it once, and again only after the next change."""
    return _queue("password_expiring", user, f"Mật khẩu của bạn sẽ hết hạn sau {days_left} ngày",
                  f"Mật khẩu tài khoản {user.username} sẽ hết hạn lúc {format_datetime(expires_at)} "
                  f"(còn {days_left} ngày). Hãy đăng nhập Cổng QLVB&ĐH và đổi mật khẩu tại mục "
                  "\"Đổi mật khẩu\" trước thời hạn; sau thời hạn, bạn phải đổi mật khẩu ngay khi đăng nhập.",
                  f"{EXPIRING}{user.id}.{_stamp(expires_at)}")
