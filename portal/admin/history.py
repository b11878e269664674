"""The sign-in history of a person's page: what each audit row says, user agents shortened for the table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from portal.admin.forms import ROLE_VALUES
from portal.audit import AuditEntry
from portal.auth.models import Role

BROWSERS = ((re.compile(r"coc_coc_browser/(\d+)"), "Cốc Cốc"), (re.compile(r"Edg(?:e|A|iOS)?/(\d+)"), "Edge"),
            (re.compile(r"OPR/(\d+)"), "Opera"), (re.compile(r"Firefox/(\d+)"), "Firefox"),
            (re.compile(r"Chrome/(\d+)"), "Chrome"), (re.compile(r"Version/(\d+)[^ ]* .*Safari/"), "Safari"))
SYSTEMS = (("Windows", "Windows"), ("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
           ("Mac OS X", "macOS"), ("Linux", "Linux"))


def short_browser(user_agent: str | None) -> str:
    """"Chrome 126 · Windows" instead of 130 characters of user agent; unknown ones cut short."""
    if not user_agent:
        return ""
    browser = next((f"{name} {m.group(1)}" for pattern, name in BROWSERS if (m := pattern.search(user_agent))), None)
    system = next((name for token, name in SYSTEMS if token in user_agent), None)
    if browser is None:
        return user_agent if len(user_agent) <= 40 else user_agent[:39] + "…"
    return f"{browser} · {system}" if system else browser


# --- sign-in history ----------------------------------------------------------------------------------

ACTION_LABELS = {
    "auth.sign_in": "Đăng nhập",
    "auth.sign_in_failed": "Đăng nhập không thành công",
    "auth.sign_out": "Đăng xuất",
    "auth.locked": "Tự động khóa do nhập sai mật khẩu",
    "auth.lockout_expired": "Hết thời gian tạm khóa",
    "auth.password_change": "Đổi mật khẩu",
    "auth.password_change_failed": "Đổi mật khẩu không thành công",
    "auth.break_glass": "Đăng nhập bằng tài khoản khẩn cấp",
    "auth.session_expired": "Phiên làm việc hết hạn",
    "auth.directory_unavailable": "Không kết nối được máy chủ danh bạ",
    "people.lock": "Quản trị khóa tài khoản",
    "people.unlock": "Quản trị mở khóa tài khoản",
    "people.disable": "Quản trị vô hiệu hóa tài khoản",
    "people.enable": "Quản trị kích hoạt lại tài khoản",
    "people.reset_password": "Quản trị đặt lại mật khẩu",
    "people.roles_change": "Thay đổi vai trò",
    "people.position_change": "Thay đổi chức vụ",
    "people.create": "Tạo tài khoản",
    "people.provision": "Cấp quyền từ danh bạ",
    "people.directory_refresh": "Cập nhật thông tin từ danh bạ",
}

REASON_LABELS = {
    "bad_credentials": "Sai tên đăng nhập hoặc mật khẩu",
    "empty_password": "Bỏ trống mật khẩu",
    "malformed_username": "Tên đăng nhập không hợp lệ",
    "status_locked": "Tài khoản đang bị khóa",
    "status_disabled": "Tài khoản đã bị vô hiệu hóa",
    "temporary_password_expired": "Mật khẩu tạm thời đã hết hạn",
    "no_active_position": "Không có chức vụ đang hiệu lực",
    "idle_timeout": "Không thao tác quá thời gian cho phép",
    "absolute_timeout": "Quá thời gian tối đa của một phiên",
    "bad_current": "Nhập sai mật khẩu hiện tại",
    "policy": "Mật khẩu mới không đạt yêu cầu",
    "directory_refused": "Máy chủ danh bạ từ chối mật khẩu mới",
}

@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    action: str
    actor: str
    ip: str
    browser: str
    user_agent: str
    result: str
    failed: bool


def history_row(entry: AuditEntry) -> HistoryRow:
    details = entry.details_dict
    reason = str(details.get("reason") or "")
    failed = entry.action.endswith("_failed") or entry.action in ("auth.locked", "auth.directory_unavailable")
    if entry.action == "auth.sign_in":
        result = "Thành công"
    elif entry.action == "auth.locked":
        result = f"{details.get('failures', '')} lần nhập sai liên tiếp"
    elif entry.action == "people.roles_change":
        def labels(values: list[str]) -> str:
            return ", ".join(Role(v).label for v in values if v in ROLE_VALUES) or "không có"
        result = f"{labels(details.get('before', []))} → {labels(details.get('after', []))}"
    elif reason:
        result = REASON_LABELS.get(reason, reason)
    else:
        result = ""
    if failed and entry.action != "auth.locked":
        result = f"Không thành công: {result}" if result else "Không thành công"
    return HistoryRow(at=entry.occurred_at, action=ACTION_LABELS.get(entry.action, entry.action),
                      actor=entry.actor_name or "", ip=entry.ip or "", browser=short_browser(entry.user_agent),
                      user_agent=entry.user_agent or "", result=result, failed=failed)
