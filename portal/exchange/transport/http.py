"""The HTTP transport: the national document axis (Văn phòng Chính phủ) or a provincial LGSP, reached at an
endpoint URL with a SystemId and a secret key (``PORTAL_AXIS_URL``, ``PORTAL_AXIS_SYSTEM_ID``,
``PORTAL_AXIS_SECRET``, ``PORTAL_AXIS_TIMEOUT_SECONDS``).

Standard library only (urllib). What goes on the wire is ``wire.Wire``'s business; this module sends it and
sorts what comes back into an answer, ``TransportError`` (no connection, timeout, 5xx: retry) or ``Refused``.
Proxies come from the usual environment variables (``https_proxy``, ``no_proxy``), as urllib reads them.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from portal.exchange.edxml import DEFAULT_LIMITS
from portal.exchange.transport.base import Agency, Kind, Refused, Sent, TransportError
from portal.exchange.transport.wire import Call, Wire

DEFAULT_TIMEOUT = 30.0
# getEdoc answers carry the package in base64 inside JSON: a third more than the largest package, and some room
MAX_ANSWER = DEFAULT_LIMITS.max_bytes * 4 // 3 + 1024 * 1024


class HttpTransport:
    def __init__(self, url: str, system_id: str, secret: str, *, timeout: float = DEFAULT_TIMEOUT,
                 wire: Wire | None = None) -> None:
        self.url = url.rstrip("/")
        self.system_id = system_id
        self.secret = secret
        self.timeout = timeout
        self.wire = wire or Wire()

    def __repr__(self) -> str:  # never the secret
        return f"HttpTransport({self.url!r}, system_id={self.system_id!r})"

    def send_edoc(self, package: bytes) -> str:
        return self.wire.transport_id(self._call(self._request("send", kind="edoc", package=package)))

    def send_status(self, package: bytes) -> str:
        return self.wire.transport_id(self._call(self._request("send", kind="status", package=package)))

    def list_received(self, kind: Kind) -> list[str]:
        return self.wire.received_ids(self._call(self._request("received", kind=kind)))

    def fetch(self, transport_id: str) -> bytes:
        answer = self._call(self._request("fetch", transport_id=transport_id), transport_id=transport_id)
        return self.wire.package(answer)

    def acknowledge(self, transport_id: str, *, ok: bool = True, reason: str = "") -> None:
        self._call(self._request("acknowledge", transport_id=transport_id, ok=ok, reason=reason),
                   transport_id=transport_id)

    def agencies(self) -> list[Agency]:
        return self.wire.agency_rows(self._call(self._request("agencies")))

    def sent(self) -> list[Sent]:
        return self.wire.sent_rows(self._call(self._request("sent")))

    def _request(self, operation: str, **kwargs: Any) -> Call:
        return self.wire.request(operation, self.system_id, self.secret, **kwargs)

    def _call(self, call: Call, *, transport_id: str = "") -> dict[str, Any]:
        # http(s) only: from_config checks the scheme
        request = urllib.request.Request(self.url + call.path, data=call.body or None,  # noqa: S310
                                         headers=call.headers, method=call.method)
        try:
            status, body = self._exchange(request)
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise TransportError(self._timed_out()) from exc
            raise TransportError(f"Không kết nối được trục liên thông tại {self.url}: {exc.reason}; "
                                 "sẽ thử lại.") from exc
        except TimeoutError as exc:
            raise TransportError(self._timed_out()) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise TransportError(f"Kết nối tới trục liên thông tại {self.url} bị ngắt: "
                                 f"{exc or type(exc).__name__}; sẽ thử lại.") from exc
        return self.wire.read_answer(call.operation, status, body, transport_id=transport_id)

    def _timed_out(self) -> str:
        return f"Trục liên thông tại {self.url} không trả lời trong {self.timeout:g} giây; sẽ thử lại."

    def _exchange(self, request: urllib.request.Request) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return response.status, _read(response)
        except urllib.error.HTTPError as exc:  # 4xx and 5xx still carry the axis's JSON
            try:
                return exc.code, _read(exc)
            finally:
                exc.close()


def _read(response: Any) -> bytes:
    body = response.read(MAX_ANSWER + 1)
    if len(body) > MAX_ANSWER:
        raise Refused(f"Câu trả lời của trục liên thông lớn hơn {MAX_ANSWER:,} byte; không đọc tiếp."
                      .replace(",", "."), status=413)
    return body


def from_config(config: Mapping[str, Any]) -> HttpTransport | None:
    """The transport a configuration (``portal/config.py``) asks for; None when ``AXIS_URL`` is empty (no axis).
    ``ValueError`` naming the key for a setting that cannot work."""
    url = str(config.get("AXIS_URL") or "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"PORTAL_AXIS_URL phải là địa chỉ http:// hoặc https:// của trục (đang là {url!r}).")
    system_id = str(config.get("AXIS_SYSTEM_ID") or "").strip()
    if not system_id or not system_id.isascii() or not system_id.isprintable():
        raise ValueError("Đã đặt PORTAL_AXIS_URL nhưng PORTAL_AXIS_SYSTEM_ID (mã hệ thống do trục cấp) trống "
                         "hoặc có ký tự không phải ASCII.")
    secret = str(config.get("AXIS_SECRET") or "")
    if not secret:
        raise ValueError("Đã đặt PORTAL_AXIS_URL nhưng thiếu PORTAL_AXIS_SECRET (khóa bí mật do trục cấp).")
    raw = config.get("AXIS_TIMEOUT_SECONDS")
    try:
        timeout = DEFAULT_TIMEOUT if raw in (None, "") else float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        timeout = 0.0
    if not timeout > 0:
        raise ValueError("PORTAL_AXIS_TIMEOUT_SECONDS phải là số giây lớn hơn 0.")
    return HttpTransport(url, system_id, secret, timeout=timeout)
