"""The password-policy response control of OpenLDAP's ppolicy overlay (draft-behera-ldap-password-
policy §6.2): its error codes decoded from BER and turned into Vietnamese messages. Pure: no LDAP
connection here; ``portal.auth.directory`` sends the request control and reads the answer."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)

PPOLICY_OID = "1.3.6.1.4.1.42.2.27.8.5.1"  # draft-behera-ldap-password-policy request/response control
WRONG_OLD_MESSAGE = "Mật khẩu hiện tại không đúng."

# ppolicy response control errors → (reason, message)
PPOLICY_ERRORS = {
    1: ("locked", "Tài khoản đang bị khóa trong hệ thống danh bạ. Vui lòng liên hệ quản trị."),
    3: ("not_allowed", "Hệ thống danh bạ không cho phép tài khoản này tự đổi mật khẩu. Vui lòng liên hệ quản trị."),
    4: ("wrong_old", WRONG_OLD_MESSAGE),
    5: ("quality", "Mật khẩu mới chưa đủ độ phức tạp theo chính sách mật khẩu của hệ thống danh bạ."),
    6: ("too_short", "Mật khẩu mới quá ngắn theo chính sách mật khẩu của hệ thống danh bạ."),
    7: ("too_young", "Mật khẩu vừa được đổi gần đây; chính sách của hệ thống danh bạ chưa cho phép đổi lại."),
    8: ("history", "Mật khẩu mới trùng với một mật khẩu đã dùng gần đây. Vui lòng chọn mật khẩu khác."),
}
POLICY_MESSAGE = "Hệ thống danh bạ không chấp nhận mật khẩu mới vì không đáp ứng chính sách mật khẩu."
REFUSED_MESSAGE = "Hệ thống danh bạ từ chối đổi mật khẩu. Vui lòng liên hệ quản trị."


def ppolicy_error(controls: Any) -> int | None:
    """The ``error`` field of a PasswordPolicyResponseValue (draft-behera §6.2):
    SEQUENCE { warning [0] ... OPTIONAL, error [1] ENUMERATED OPTIONAL }, BER-encoded."""
    if not isinstance(controls, Mapping) or PPOLICY_OID not in controls:
        return None
    value = (controls[PPOLICY_OID] or {}).get("value")
    if not isinstance(value, bytes | bytearray) or len(value) < 2 or value[0] != 0x30:
        return None
    try:
        body, _ = ber_value(bytes(value), 0)
        position = 0
        while position < len(body):
            tag = body[position]
            content, position = ber_value(body, position)
            if tag == 0x81 and content:  # [1] IMPLICIT ENUMERATED
                return int.from_bytes(content, "big")
    except IndexError:
        log.warning("Control ppolicy trong câu trả lời của danh bạ không đọc được")
    return None


def ber_value(data: bytes, position: int) -> tuple[bytes, int]:
    """(content, position after it) of the BER element whose tag is at ``position``."""
    length = data[position + 1]
    start = position + 2
    if length & 0x80:
        octets = length & 0x7F
        length = int.from_bytes(data[start:start + octets], "big")
        start += octets
    return data[start:start + length], start + length
