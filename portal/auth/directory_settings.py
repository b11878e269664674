"""The directory's settings (``LDAP_*`` keys), checked at start-up so that a half-configured
directory stops the portal with the key's name instead of failing at the first sign-in. Pure: no
LDAP, no Flask. ``portal.auth.directory`` re-exports :class:`DirectorySettings`."""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

LOOPBACK_NAMES = ("localhost",)
KINDS = ("openldap", "ad")


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class DirectorySettings:
    urls: tuple[str, ...] = ()
    start_tls: bool = False
    ca_file: str = ""
    bind_dn: str = ""
    bind_password: str = field(default="", repr=False)
    user_base: str = ""
    user_filter: str = "(uid={username})"
    attr_id: str = "entryUUID"
    attr_username: str = "uid"
    attr_name: str = "cn"
    attr_email: str = "mail"
    attr_title: str = "title"
    attr_unit: str = "ou"
    timeout: int = 5
    kind: str = "openldap"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DirectorySettings:
        """Build and check the settings; ValueError names the ``PORTAL_LDAP_*`` key at fault."""
        urls = tuple(str(config.get("LDAP_URL") or "").split())
        start_tls = _flag(config.get("LDAP_START_TLS", False))
        try:
            timeout = max(1, math.ceil(float(config.get("LDAP_TIMEOUT", 5))))
        except (TypeError, ValueError) as exc:
            raise ValueError("PORTAL_LDAP_TIMEOUT phải là số giây (số nguyên dương).") from exc
        settings = cls(
            urls=urls,
            start_tls=start_tls,
            ca_file=str(config.get("LDAP_CA_FILE") or ""),
            bind_dn=str(config.get("LDAP_BIND_DN") or ""),
            bind_password=str(config.get("LDAP_BIND_PASSWORD") or ""),
            user_base=str(config.get("LDAP_USER_BASE") or ""),
            user_filter=str(config.get("LDAP_USER_FILTER") or "(uid={username})"),
            attr_id=str(config.get("LDAP_ATTR_ID") or "entryUUID"),
            attr_username=str(config.get("LDAP_ATTR_USERNAME") or "uid"),
            attr_name=str(config.get("LDAP_ATTR_NAME") or "cn"),
            attr_email=str(config.get("LDAP_ATTR_EMAIL") or "mail"),
            attr_title=str(config.get("LDAP_ATTR_TITLE") or "title"),
            attr_unit=str(config.get("LDAP_ATTR_UNIT") or "ou"),
            timeout=timeout,
            kind=str(config.get("LDAP_KIND") or "openldap").strip().lower(),
        )
        if settings.enabled:
            settings._check()
        return settings

    def _check(self) -> None:
        for url in self.urls:
            parts = urlsplit(url)
            if parts.scheme not in ("ldap", "ldaps") or not parts.hostname:
                raise ValueError(
                    f"PORTAL_LDAP_URL phải có dạng ldap://máy-chủ:389 hoặc ldaps://máy-chủ:636 (đang là {url!r})."
                )
            try:
                parts.port  # noqa: B018 - urlsplit checks the port only when asked
            except ValueError as exc:
                raise ValueError(f"PORTAL_LDAP_URL có cổng không hợp lệ: {url!r}.") from exc
            if parts.path not in ("", "/") or parts.query or parts.fragment:
                raise ValueError(f"PORTAL_LDAP_URL chỉ gồm giao thức, máy chủ và cổng (đang là {url!r}).")
            if parts.scheme == "ldap" and not self.start_tls and not _is_loopback(parts.hostname):
                raise ValueError(
                    f"Kết nối danh bạ tới {parts.hostname} không được mã hóa: đặt PORTAL_LDAP_START_TLS=true "
                    "hoặc dùng ldaps:// trong PORTAL_LDAP_URL (mật khẩu không bao giờ đi qua mạng dạng rõ)."
                )
        if self.ca_file and not Path(self.ca_file).is_file():
            raise ValueError(f"PORTAL_LDAP_CA_FILE không tồn tại: {self.ca_file}.")
        if "{username}" not in self.user_filter:
            raise ValueError("PORTAL_LDAP_USER_FILTER phải chứa {username}, ví dụ (uid={username}).")
        try:
            probe = self.user_filter.format(username="x")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError("PORTAL_LDAP_USER_FILTER chỉ được chứa một chỗ đặt {username}.") from exc
        if not (probe.startswith("(") and probe.endswith(")")):
            raise ValueError("PORTAL_LDAP_USER_FILTER phải là một bộ lọc LDAP trong ngoặc, ví dụ (uid={username}).")
        if not self.user_base:
            raise ValueError("Thiếu PORTAL_LDAP_USER_BASE (nhánh chứa tài khoản người dùng).")
        if not self.bind_dn or not self.bind_password:
            raise ValueError("Thiếu PORTAL_LDAP_BIND_DN hoặc PORTAL_LDAP_BIND_PASSWORD (tài khoản dịch vụ chỉ đọc).")
        if self.kind not in KINDS:
            raise ValueError(f"PORTAL_LDAP_KIND phải là openldap hoặc ad (đang là {self.kind!r}).")

    @property
    def enabled(self) -> bool:
        return bool(self.urls)

    @property
    def encrypted(self) -> bool:
        return self.start_tls or all(url.lower().startswith("ldaps://") for url in self.urls)

    @property
    def attributes(self) -> list[str]:
        names = [self.attr_id, self.attr_username, self.attr_name, self.attr_email, self.attr_title, self.attr_unit]
        return list(dict.fromkeys(names))


Settings = DirectorySettings | Mapping[str, Any]
