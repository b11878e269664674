"""The axis protocol on the wire: the one place that knows URLs, header names, the signature and the JSON
answers. ``http.HttpTransport`` speaks it as a client and the simulator as a server, so they cannot disagree;
a province whose LGSP differs subclasses ``Wire`` (or edits it here) and passes it to ``HttpTransport``.

The SDK's wire format is not public text (SPEC §18). What follows mirrors the national axis's Java SDK
(``com.vpcp.services``, SDKVXP 2.0.1) as its decompiled classes and the integrators calling it show in public
repositories; docs/EXCHANGE.md lists what is confirmed and what is inferred. In short:

- ``POST <endpoint>/<operation>`` for every operation: sendEdoc, getReceivedEdocList, getEdoc, updateStatus,
  getSentEdocList, getAgenciesList.
- Every parameter travels as a header ``XroadVnpt-<name>`` (systemid, timestamp, Content-Type, then the
  operation's own: from, servicetype, messagetype, docId, status…). ``XroadVnpt-sign-header`` is the JSON
  object of those headers, ``XroadVnpt-sign-header-key`` their names joined by ";", and
  ``XroadVnpt-hash-header`` the hex HMAC-SHA256 of the sign-header text under the secret key: the secret
  itself never travels. The server reads the parameters from the signed JSON, so nothing unsigned counts.
- sendEdoc's body is the package's bytes (application/octet-stream), bound to the signature by
  ``hash-file`` (SHA-256 written the SDK's way, see ``file_hash``).
- Answers are JSON: ``status`` "OK" or "FAIL", ``ErrorCode`` ("0" = success), ``ErrorDesc``, and ``DocId``
  (sendEdoc) or ``data`` (lists; getEdoc: the package in base64).

Ours on top (the SDK has none of it, an axis ignores what it does not know): the reason of updateStatus fail
in ``XroadVnpt-description`` (UTF-8, percent-encoded), and HTTP status codes on refusals (401, 403, 404,
413, 422) with the violations in ``errors``, so the client can tell "retry" from "refused" without reading
prose. The client also accepts the SDK's habit of HTTP 200 with ``status: FAIL`` (read as refused).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote, unquote

from portal.exchange.transport.base import (
    VIETNAM,
    WRONG_CREDENTIALS,
    Agency,
    Delivery,
    Kind,
    PackageUnknown,
    Refused,
    Sent,
    TransportError,
    TransportFailure,
    Waiting,
)

# our operation names → the SDK's URL path segments
OPERATIONS = {
    "send": "sendEdoc",
    "received": "getReceivedEdocList",
    "fetch": "getEdoc",
    "acknowledge": "updateStatus",
    "sent": "getSentEdocList",
    "agencies": "getAgenciesList",
}


@dataclass(frozen=True)
class Call:
    """One request as the client sends it: ``method endpoint + path`` with these headers and body."""

    operation: str
    path: str
    headers: dict[str, str]
    body: bytes
    method: str = "POST"


@dataclass(frozen=True)
class Signed:
    """What the server read from a request's headers: who says they are calling, the signed parameters (names
    lower-cased), and ``proof(secret)``: whether the signature was made with that secret."""

    system_id: str
    params: dict[str, str]
    proof: Callable[[str], bool]


class Wire:
    prefix = "XroadVnpt-"
    version = "3.0.201608"                       # XroadVnpt-version, as the SDK sends it
    user_agent = "QLVB-portal/1.0 XRoad/VPCP"
    service_type = "eDoc"
    message_types: ClassVar[dict[Kind, str]] = {"edoc": "edoc", "status": "status"}
    # other message types the SDK knows; an axis may label document packages so: all are document packages
    document_message_types = ("edoc", "replacement", "revocation", "update")
    package_content_type = "application/octet-stream"
    json_content_type = "application/json"
    done, fail = "done", "fail"                  # updateStatus values (the SDK also has "processing")

    # --- shared -----------------------------------------------------------------------------------------------

    @staticmethod
    def signature(secret: str, sign_header: str) -> str:
        return hmac.new(secret.encode(), sign_header.encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def file_hash(data: bytes) -> str:
        """SHA-256 as the SDK writes ``hash-file``: each byte in hex *without* its leading zero
        (``Integer.toHexString(0xFF & b)``), so usually fewer than 64 characters. An axis that checked a proper
        hex digest would refuse nearly every package the official SDK sends, so this is what it accepts."""
        return "".join(f"{byte:x}" for byte in hashlib.sha256(data).digest())

    @staticmethod
    def timestamp() -> str:
        """The SDK's ``ddMMyyyy'T'HHmmss+SSSS`` (the "+SSSS" is milliseconds, not an offset), Vietnam time."""
        now = datetime.now(VIETNAM)
        return f"{now:%d%m%Y}T{now:%H%M%S}+{now.microsecond // 1000:04d}"

    # --- client: requests -------------------------------------------------------------------------------------

    def request(self, operation: str, system_id: str, secret: str, *, kind: Kind = "edoc", transport_id: str = "",
                ok: bool = True, reason: str = "", package: bytes = b"") -> Call:
        params: dict[str, str]
        content_type = self.json_content_type
        if operation == "send":
            content_type = self.package_content_type
            # "from" is the SystemId: an integrator notes the VXP requires it (another sends From/OrganId)
            params = {"from": system_id, "servicetype": self.service_type, "messagetype": self.message_types[kind],
                      "hash-file": self.file_hash(package)}
        elif operation == "received":
            params = {"servicetype": self.service_type, "messagetype": self.message_types[kind]}
        elif operation == "fetch":
            params = {"docId": transport_id}
        elif operation == "acknowledge":
            params = {"docid": transport_id, "status": self.done if ok else self.fail}
            if reason:
                params["description"] = quote(reason, safe="")
        elif operation in ("sent", "agencies"):
            params = {"servicetype": self.service_type} if operation == "sent" else {}
        else:
            raise ValueError(f"Thao tác không có trên trục: {operation}")
        return Call(operation, "/" + OPERATIONS[operation],
                    self.headers(system_id, secret, {"Content-Type": content_type, **params}), package)

    def headers(self, system_id: str, secret: str, params: dict[str, str]) -> dict[str, str]:
        signed = {"systemid": system_id, "timestamp": self.timestamp(), **params}
        prefixed = {self.prefix + name: value for name, value in signed.items()}
        sign_header = json.dumps(prefixed, ensure_ascii=True, separators=(",", ":"))
        return {"Content-Type": params["Content-Type"], **prefixed,
                self.prefix + "sign-header-key": ";".join(signed), self.prefix + "sign-header": sign_header,
                self.prefix + "hash-header": self.signature(secret, sign_header), "User-Agent": self.user_agent,
                self.prefix + "version": self.version}

    # --- client: answers --------------------------------------------------------------------------------------

    def read_answer(self, operation: str, status: int, body: bytes, *, transport_id: str = "") -> dict[str, Any]:
        """The answer's JSON when it says OK; else the failure it means, raised."""
        answer = _json_object(body)
        if status in (408, 429) or status >= 500:
            detail = f": {_field(answer, 'ErrorDesc')}" if answer and _field(answer, "ErrorDesc") else ""
            raise TransportError(f"Trục liên thông tạm thời không xử lý được yêu cầu {OPERATIONS[operation]} "
                                 f"(HTTP {status}{detail}); sẽ thử lại.")
        if answer is None:
            if status in (401, 403):
                raise Refused(WRONG_CREDENTIALS, status=status)
            if 200 <= status < 300:
                raise TransportError(f"Trục liên thông trả lời {OPERATIONS[operation]} không đúng định dạng (không "
                                     "phải JSON); có thể địa chỉ PORTAL_AXIS_URL trỏ nhầm máy chủ. Sẽ thử lại.")
            raise Refused(f"Trục liên thông từ chối yêu cầu {OPERATIONS[operation]} (HTTP {status}); kiểm tra "
                          "địa chỉ PORTAL_AXIS_URL.", status=status)
        if 200 <= status < 300 and str(_field(answer, "status")).upper() == "OK" \
                and str(_field(answer, "ErrorCode") or "0") == "0":
            return answer
        raise self.refusal_of(operation, status, answer, transport_id)

    @staticmethod
    def refusal_of(operation: str, status: int, answer: dict[str, Any], transport_id: str) -> TransportFailure:
        code = status if status >= 400 else _int(_field(answer, "ErrorCode"), 422)
        if code == 404 and transport_id and operation in ("fetch", "acknowledge"):
            return PackageUnknown(transport_id)
        message = str(_field(answer, "ErrorDesc") or "").strip() or \
            f"Trục liên thông từ chối yêu cầu {OPERATIONS[operation]} (mã {_field(answer, 'ErrorCode') or code})."
        errors = answer.get("errors")
        reasons = [str(e) for e in errors] if isinstance(errors, list) else []
        return Refused(message, status=code, reasons=reasons)

    @staticmethod
    def transport_id(answer: dict[str, Any]) -> str:
        doc_id = _field(answer, "DocId")
        if not isinstance(doc_id, str | int) or not str(doc_id).strip():
            # the package may have been taken: sending again is safer than losing it (the receiver de-duplicates)
            raise TransportError("Trục liên thông nhận gói nhưng không trả mã gói (DocId); sẽ gửi lại.")
        return str(doc_id).strip()

    @staticmethod
    def received_ids(answer: dict[str, Any]) -> list[str]:
        return [str(item["docId"]) for item in _items(answer) if item.get("docId") not in (None, "")]

    @staticmethod
    def package(answer: dict[str, Any]) -> bytes:
        try:
            return base64.b64decode(str(answer.get("data") or ""), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise TransportError("Trục liên thông trả gói (getEdoc) không đọc được (base64 hỏng); sẽ thử lại.") from exc

    @staticmethod
    def sent_rows(answer: dict[str, Any]) -> list[Sent]:
        rows = []
        for item in _items(answer):
            raw = str(item.get("receiveStatus") or "").strip().lower()
            reason = str(item.get("receiveStatusDesc") or "")
            try:
                status = Delivery(raw or "pending")
            except ValueError:  # a status word of another axis: kept for the reader
                status, reason = Delivery.PENDING, f"{raw}: {reason}".strip(": ")
            kind: Kind = "status" if str(item.get("messageType", "")).lower() == "status" else "edoc"
            rows.append(Sent(str(item.get("senderDocId") or ""), str(item.get("toCode") or ""), kind, status, reason,
                             str(item.get("sentTime") or ""), str(item.get("receivedTime") or ""),
                             str(item.get("title") or ""), str(item.get("notation") or "")))
        return rows

    @staticmethod
    def agency_rows(answer: dict[str, Any]) -> list[Agency]:
        items = _items(answer)
        by_id = {str(item.get("id")): item for item in items if item.get("id") not in (None, "")}
        rows = []
        for item in items:
            parent = by_id.get(str(item.get("pid") or ""))
            rows.append(Agency(str(item.get("code") or "").strip(), str(item.get("name") or "").strip(),
                               str(parent.get("name") or "").strip() if parent else "",
                               str(item.get("mail") or "").strip(),
                               str(parent.get("code") or "") if parent else str(item.get("pid") or "")))
        return [row for row in rows if row.organ_id]

    # --- server: requests -------------------------------------------------------------------------------------

    def operation(self, path: str) -> str:
        """Our name of the operation a URL path asks for (any prefix before it, as behind a gateway)."""
        segment = path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        for name, wire_name in OPERATIONS.items():
            if segment.lower() == wire_name.lower():
                return name
        raise Refused(f"Trục liên thông không có thao tác '{segment}'.", status=404)

    def read_call(self, headers: Mapping[str, str]) -> Signed:
        """``headers``: any mapping with ``items()`` (a dict, http.server's message); names are case-insensitive."""
        lookup = {str(name).lower(): str(value) for name, value in headers.items()}
        sign_header = lookup.get(self.prefix.lower() + "sign-header", "")
        hash_header = lookup.get(self.prefix.lower() + "hash-header", "").strip().lower()
        try:
            signed = json.loads(sign_header) if sign_header and hash_header else None
        except ValueError:
            signed = None
        if not isinstance(signed, dict):
            raise Refused("Trục liên thông từ chối: yêu cầu thiếu chữ ký (XroadVnpt-sign-header, "
                          "XroadVnpt-hash-header).", status=401)
        lowered = self.prefix.lower()
        params = {key[len(lowered):].lower(): value for key, value in signed.items()
                  if isinstance(key, str) and isinstance(value, str) and key.lower().startswith(lowered)}
        return Signed(params.get("systemid", ""), params,
                      lambda secret: hmac.compare_digest(self.signature(secret, sign_header), hash_header))

    def kind(self, params: Mapping[str, str]) -> Kind:
        message_type = params.get("messagetype", "").lower()
        if message_type == self.message_types["status"]:
            return "status"
        if message_type in self.document_message_types:
            return "edoc"
        raise Refused(f"Trục liên thông không biết messagetype '{message_type}' (edoc hoặc status).", status=400)

    def check_body(self, params: Mapping[str, str], body: bytes) -> None:
        """sendEdoc: the body is the one signed (hash-file), when the caller sent one."""
        claimed = params.get("hash-file", "").lower()
        if claimed and not hmac.compare_digest(claimed, self.file_hash(body)):
            raise Refused("Trục liên thông từ chối: nội dung gói không khớp hash-file đã ký.", status=400)

    @staticmethod
    def transport_id_of(params: Mapping[str, str]) -> str:
        doc_id = params.get("docid", "").strip()
        if not doc_id:
            raise Refused("Yêu cầu thiếu mã gói (docId).", status=400)
        return doc_id

    def outcome(self, params: Mapping[str, str]) -> tuple[bool, str]:
        """updateStatus: (done?, the reason given)."""
        status = params.get("status", "").lower()
        if status not in (self.done, self.fail):
            raise Refused(f"updateStatus chỉ nhận '{self.done}' hoặc '{self.fail}' (đang là '{status}').", status=400)
        return status == self.done, unquote(params.get("description", ""))

    # --- server: answers --------------------------------------------------------------------------------------

    @staticmethod
    def answer(**fields: Any) -> bytes:
        return json.dumps({"status": "OK", "ErrorCode": "0", "ErrorDesc": "Thành công", **fields},
                          ensure_ascii=False).encode()

    @staticmethod
    def refusal(exc: Refused) -> tuple[int, bytes]:
        return exc.status, json.dumps({"status": "FAIL", "ErrorCode": str(exc.status),
                                       "ErrorDesc": exc.message, "errors": list(exc.reasons)},
                                      ensure_ascii=False).encode()

    def waiting_item(self, waiting: Waiting) -> dict[str, str]:
        return {"docId": waiting.transport_id, "serviceType": self.service_type,
                "messageType": self.message_types[waiting.kind], "from": waiting.from_organ,
                "to": ",".join(waiting.to_organs), "created_time": waiting.created_at,
                "updated_time": waiting.created_at, "status": "pending", "status_desc": ""}

    def sent_item(self, sent: Sent) -> dict[str, str]:
        return {"senderDocId": sent.transport_id, "toCode": sent.organ_id, "serviceType": self.service_type,
                "messageType": self.message_types[sent.kind], "sentTime": sent.sent_at, "sendStatus": "OK",
                "receiveStatus": sent.status.value, "receiveStatusDesc": sent.reason,
                "receivedTime": sent.acknowledged_at, "title": sent.title, "notation": sent.notation}

    @staticmethod
    def agency_item(agency: Agency) -> dict[str, str]:
        return {"id": agency.organ_id, "code": agency.organ_id, "name": agency.name, "mail": agency.email,
                "pid": agency.parent_id}

    @staticmethod
    def encode_package(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _field(answer: dict[str, Any], name: str) -> Any:
    """A field of an answer whatever its case: the SDK's axis writes ErrorCode and DocId, an LGSP errorCode and
    docId."""
    if name in answer:
        return answer[name]
    wanted = name.lower()
    return next((value for key, value in answer.items() if key.lower() == wanted), None)


def _items(answer: dict[str, Any]) -> list[dict[str, Any]]:
    data = answer.get("data")
    if not isinstance(data, list):
        return []
    return [item for item in data if isinstance(item, dict)]


def _int(value: object, default: int) -> int:
    try:
        number = int(str(value))
    except ValueError:
        return default
    return number if 400 <= number < 600 else default
