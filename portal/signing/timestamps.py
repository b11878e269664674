"""RFC 3161 timestamps on signatures and seals (PAdES B-T, issue 16.4). Bytes in, bytes out; no Flask.

A signature timestamp is a time-stamp authority's signed statement that the signature value existed at a time
(``genTime``); with it, a signature stays verifiable after the signer's certificate has expired, because the
certificate is then checked at that time instead of today (``verification.verify``).

* ``timestamper(url, timeout=…)``: pyHanko's ``HTTPTimeStamper`` whose failures are ``TsaUnavailable``, with one
  Vietnamese message per reason (unreachable, no answer in time, a bad answer, a refusal);
* ``TsaPolicy``: the timestamper, whether signing stops without it (``required``) and the TSA roots a verifier
  trusts; ``TsaPolicy.sign(fn, pdf, signer, **kw)`` runs ``pdfsign.sign_personal``/``issue``/``sign_seal``
  with the timestamper and, when the TSA fails and a timestamp is not required, signs again without one and
  says so (``Stamped.warning``);
* ``from_config(config)``: the policy from ``TSA_URL``, ``TSA_REQUIRED``, ``TSA_TIMEOUT_SECONDS``,
  ``TSA_TRUST_ROOTS``;
* ``token_time`` and ``describe``: what verification reads from and says about a signature's timestamp.
"""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import aiohttp
from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from pyhanko.sign.timestamps import HTTPTimeStamper, TimestampRequestError
from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

from portal.signing.pdfsign import SigningError
from portal.signing.pki import to_asn1

DEFAULT_TIMEOUT = 10  # seconds: a signing step waits at most this long for the TSA
VN_TIME = ZoneInfo("Asia/Ho_Chi_Minh")
LABEL = "Dấu thời gian"
NONE = "Không có"

MESSAGES = {
    "unreachable": "Không kết nối được máy chủ cấp dấu thời gian (TSA) {url}: {detail}.",
    "timeout": "Không kết nối được máy chủ cấp dấu thời gian (TSA) {url}: quá {timeout:g} giây không có trả lời.",
    "bad_answer": "Máy chủ cấp dấu thời gian (TSA) {url} trả lời không hợp lệ ({detail}).",
    "refused": "Máy chủ cấp dấu thời gian (TSA) {url} từ chối cấp dấu thời gian ({detail}).",
}
UNTRUSTED = "Dấu thời gian không hợp lệ hoặc do máy chủ không thuộc danh sách tin cậy cấp (PORTAL_TSA_TRUST_ROOTS)."
EXPIRED = ("Chứng thư đã hết hạn (hoặc chưa có hiệu lực) tại thời điểm kiểm tra, và không có dấu thời gian tin cậy "
           "chứng minh chữ ký có trước đó.")
STOPPED = "Chưa ký: cấu hình yêu cầu chữ ký phải có dấu thời gian (PORTAL_TSA_REQUIRED)."
WENT_ON = "Đã ký nhưng chữ ký không có dấu thời gian. {reason}"


class TsaUnavailable(SigningError):
    """The TSA could not give a timestamp. ``message`` is the Vietnamese text shown to the user; ``code`` one of
    ``MESSAGES`` (for the audit row); the technical cause is ``__cause__``."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


RULES: list[tuple[type | tuple[type, ...], str, str]] = [  # most specific first
    (TimeoutError, "timeout", ""),  # aiohttp.ServerTimeoutError and asyncio's timeout are TimeoutErrors
    (aiohttp.ContentTypeError, "bad_answer", "nội dung trả về không phải application/timestamp-reply"),
    (aiohttp.ClientResponseError, "bad_answer", "mã HTTP {status}"),
    ((aiohttp.ClientConnectorDNSError, socket.gaierror), "unreachable", "không tìm thấy tên máy chủ"),
    (ConnectionRefusedError, "unreachable", "máy chủ từ chối kết nối"),
    (aiohttp.InvalidURL, "unreachable", "địa chỉ không hợp lệ"),
    (aiohttp.ClientError, "unreachable", "lỗi mạng"),
]


def _classify(exc: BaseException) -> tuple[str, str]:
    """(code, Vietnamese detail) of a failed request, from the exception and its causes."""
    chain = _chain(exc)
    for kind, code, detail in RULES:
        for err in chain:
            if isinstance(err, kind):
                return code, detail.format(status=getattr(err, "status", ""))
    for err in chain:
        if isinstance(err, OSError) and not isinstance(err, TimestampRequestError):
            return "unreachable", "lỗi mạng"
    text = str(exc)
    if "refused our request" in text:
        return "refused", text.partition("statusString")[2].strip() or "không rõ lý do"
    if "nonce" in text:
        return "bad_answer", "số ngẫu nhiên (nonce) trả về không khớp"
    return "bad_answer", "không đọc được câu trả lời theo RFC 3161"


class PortalTimeStamper(HTTPTimeStamper):
    """pyHanko's HTTP timestamper, checked harder and failing in Vietnamese: every failure, including an answer
    whose token does not parse or stamps another digest, becomes ``TsaUnavailable``."""

    async def async_timestamp(self, message_digest, md_algorithm) -> cms.ContentInfo:
        try:
            token = await super().async_timestamp(message_digest, md_algorithm)
            info = token["content"]["encap_content_info"]["content"].parsed
            info["gen_time"].native  # noqa: B018  (parse now: a broken token fails here, not inside pyHanko)
            imprint = info["message_imprint"]["hashed_message"].native
        except Exception as exc:
            code, detail = _classify(exc)
            raise self._error(code, detail) from exc
        if imprint != message_digest:
            raise self._error("bad_answer", "dấu thời gian không khớp với chữ ký")
        return token

    def _error(self, code: str, detail: str) -> TsaUnavailable:
        return TsaUnavailable(MESSAGES[code].format(url=self.url, detail=detail, timeout=self.timeout), code)


def timestamper(url: str, *, timeout: float = DEFAULT_TIMEOUT) -> PortalTimeStamper:
    """A timestamper for an RFC 3161 TSA over HTTP(S) (``timeout`` seconds for the whole request)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"PORTAL_TSA_URL phải là địa chỉ http:// hoặc https:// (đang là {url!r}).")
    if not timeout or float(timeout) <= 0:
        raise ValueError("PORTAL_TSA_TIMEOUT_SECONDS phải là số giây lớn hơn 0.")
    return PortalTimeStamper(url, timeout=float(timeout))


class Stamped(NamedTuple):
    """What ``TsaPolicy.sign`` produced: the signed PDF, whether its new signature carries a timestamp, and, when
    the TSA failed and signing went on without it, the Vietnamese ``warning`` and the failure's ``code``."""

    pdf: bytes
    timestamped: bool
    warning: str | None = None
    code: str | None = None


@dataclass(frozen=True)
class TsaPolicy:
    timestamper: HTTPTimeStamper | None = None  # None: signatures get no timestamp
    required: bool = False  # True: refuse to sign when the TSA fails; False: sign without, and say so
    roots: tuple[asn1_x509.Certificate, ...] = ()  # the TSAs' roots, for ``verification.verify(tsa_roots=…)``

    def __iter__(self):  # ``timestamper, required = from_config(config)``
        return iter((self.timestamper, self.required))

    def sign(self, fn: Callable[..., bytes], pdf: bytes, signer: Any, /, **kwargs: Any) -> Stamped:
        """``fn(pdf, signer, timestamper=…, **kwargs)``, one of ``pdfsign.sign_personal``, ``issue``,
        ``sign_seal``. TSA failure: raise ``TsaUnavailable`` (message ending in ``STOPPED``) when required,
        else sign again without a timestamp and return the warning. Other ``SigningError``s pass through."""
        if self.timestamper is None:
            return Stamped(fn(pdf, signer, **kwargs), timestamped=False)
        try:
            return Stamped(fn(pdf, signer, timestamper=self.timestamper, **kwargs), timestamped=True)
        except TsaUnavailable as exc:
            if self.required:
                raise TsaUnavailable(f"{exc.message} {STOPPED}", exc.code) from exc
            unstamped = fn(pdf, signer, **kwargs)
            return Stamped(unstamped, timestamped=False, warning=WENT_ON.format(reason=exc.message), code=exc.code)


def _flag(value: Any, key: str) -> bool:
    if isinstance(value, bool) or value is None:
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ValueError(f"PORTAL_{key} phải là true hoặc false (đang là {value!r}).")


def load_roots(paths: list[str] | tuple[str, ...]) -> list[asn1_x509.Certificate]:
    """Certificates from PEM (one or several per file) or DER files."""
    roots: list[asn1_x509.Certificate] = []
    for path in paths:
        try:
            data = Path(path).read_bytes()
            certs = (x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data
                     else [x509.load_der_x509_certificate(data)])
        except (OSError, ValueError) as exc:
            raise ValueError(f"PORTAL_TSA_TRUST_ROOTS: không đọc được chứng thư gốc {path} ({exc}).") from exc
        roots += [to_asn1(c) for c in certs]
    return roots


def from_config(config: Mapping[str, Any]) -> TsaPolicy:
    """The policy of a configuration (``portal/config.py``): ``TSA_URL`` (empty = no timestamps),
    ``TSA_REQUIRED``, ``TSA_TIMEOUT_SECONDS``, ``TSA_TRUST_ROOTS`` (space-separated files). ``ValueError``
    naming the key for a setting that cannot work."""
    url = str(config.get("TSA_URL") or "").strip()
    required = _flag(config.get("TSA_REQUIRED", False), "TSA_REQUIRED")
    try:
        timeout = config.get("TSA_TIMEOUT_SECONDS")
        timeout = DEFAULT_TIMEOUT if timeout in (None, "") else float(timeout)
    except (TypeError, ValueError) as exc:
        raise ValueError("PORTAL_TSA_TIMEOUT_SECONDS phải là số giây lớn hơn 0.") from exc
    roots = tuple(load_roots(str(config.get("TSA_TRUST_ROOTS") or "").split()))
    if not url:
        if required:
            raise ValueError("PORTAL_TSA_REQUIRED=true nhưng chưa đặt PORTAL_TSA_URL (máy chủ cấp dấu thời gian).")
        return TsaPolicy(None, False, roots)
    return TsaPolicy(timestamper(url, timeout=timeout), required, roots)


# --- reading a signature's timestamp (verification) -------------------------------------------------------

def token_time(signer_info: cms.SignerInfo) -> dt.datetime | None:
    """The ``genTime`` of the signature's first timestamp token, NOT validated (None: no token, or unreadable).
    Only a caller that then validates the token may rely on it."""
    try:
        for signed_data in extract_tst_data_iter(signer_info, signed=False):
            return signed_data["encap_content_info"]["content"].parsed["gen_time"].native
    except Exception:  # a token that does not parse is reported by pyHanko's own validation
        return None
    return None


def trusted(tst_status) -> bool:
    """A timestamp that may stand for the signing time: intact, cryptographically valid, chained to a root."""
    return bool(tst_status is not None and tst_status.intact and tst_status.valid and tst_status.trusted)


def describe(tst_status) -> str:
    """The report's ``Dấu thời gian`` line for pyHanko's ``TimestampSignatureStatus`` (None: no token)."""
    if tst_status is None:
        return NONE
    when = tst_status.timestamp.astimezone(VN_TIME).isoformat(timespec="seconds")
    try:
        subject = tst_status.signing_cert.subject
        tsa = subject.native.get("common_name") or subject.human_friendly
    except Exception:  # no usable TSA certificate in the token
        tsa = "không rõ"
    if trusted(tst_status):
        return f"Có, lúc {when}, do {tsa} cấp (hợp lệ, tin cậy)"
    if not (tst_status.intact and tst_status.valid):
        return f"Có, ghi lúc {when}, nhưng KHÔNG hợp lệ (dấu thời gian bị sửa hoặc sai chữ ký)"
    return f"Có, ghi lúc {when}, do {tsa} cấp, nhưng máy chủ cấp dấu thời gian không thuộc danh sách tin cậy"
