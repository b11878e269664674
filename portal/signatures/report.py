"""The signature report as people read it (issue 18 item 5, SPEC §7.5): who signed (the name, the
organisation and the country in the certificate's subject), when (dd/mm/yyyy HH:mm, Vietnam time) and
the verdict, with its reasons; the hashes, serial numbers, algorithms and the other checks are kept
as technical details. Reads a stored report (``service.report_json``); nothing is verified again here,
and a report stored before a field existed still reads (that line is left out or unknown)."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from babel import Locale
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from portal.signing import verification
from portal.timeutil import format_datetime, to_local

UNKNOWN = verification.UNKNOWN
SELF_REPORTED = " (do người ký khai)"
ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)")
# the checks, shown as they were stored (their labels are the report's own, verification.LABELS)
CHECKS = ("toan_ven", "hop_le_tai_thoi_diem_ky", "chuoi_tin_cay", "pham_vi_ky", "them_sau_khi_ky",
          "tinh_trang_thu_hoi", "dau_thoi_gian", "thoi_han_chung_thu", "to_chuc_cap", "so_hieu_chung_thu")


@dataclass(frozen=True)
class Signer:
    """One signature, for people."""

    name: str
    organisation: str  # "" when the subject names none (or only repeats the name, as a seal's does)
    country: str  # "Việt Nam" for C=VN; the code itself for one Babel does not know; "" when absent
    signed_at: str  # "07/12/2026 09:30", or UNKNOWN
    signed_at_iso: str  # for <time datetime>; "" when unknown
    signed_at_note: str  # "do người ký khai" when no trusted timestamp vouches for it
    verdict: str  # exactly the report's ("Hợp lệ", "Có dữ liệu được thêm sau khi ký", …)
    problems: list[str] = field(default_factory=list)
    technical: list[tuple[str, str]] = field(default_factory=list)

    @property
    def level(self) -> str:
        """"ok", "bad" or "warn": the verdict's colour."""
        if self.verdict == verification.VALID:
            return "ok"
        return "bad" if self.verdict == verification.INVALID else "warn"


def country_name(code: str | None) -> str:
    if not code:
        return ""
    return Locale.parse("vi").territories.get(code.upper(), code.upper())


def local_moments(text: str) -> str:
    """Every ISO 8601 moment in a stored line ("từ 2026-01-01T07:00:00+07:00 đến …") as dd/mm/yyyy HH:mm."""
    def one(match: re.Match[str]) -> str:
        try:
            return format_datetime(datetime.fromisoformat(match[0].replace("Z", "+00:00")))
        except ValueError:
            return match[0]
    return ISO_MOMENT.sub(one, text or "")


def _certificate(data: dict[str, Any]) -> x509.Certificate | None:
    try:
        return x509.load_der_x509_certificate(base64.b64decode(data["certificate_der"]))
    except Exception:  # absent (an older report, a CMS blob without a certificate) or unreadable
        return None


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    values = [str(a.value).strip() for a in name.get_attributes_for_oid(oid)]
    return ", ".join(v for v in values if v)


def _key(cert: x509.Certificate) -> str:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size} bit"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"ECDSA {key.curve.name}"
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return type(key).__name__.removesuffix("PublicKey")
    if isinstance(key, dsa.DSAPublicKey):
        return f"DSA {key.key_size} bit"
    return type(key).__name__


def _algorithm(cert: x509.Certificate) -> str:
    return getattr(cert.signature_algorithm_oid, "_name", "") or cert.signature_algorithm_oid.dotted_string


def _signed_at(data: dict[str, Any]) -> tuple[str, str]:
    raw = data.get("signed_at") or ""
    if not raw:  # an older report: the line itself, if it holds a moment
        found = ISO_MOMENT.search(data.get("thoi_gian_ky") or "")
        raw = found[0] if found else ""
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00")) if raw else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        return UNKNOWN, ""
    return format_datetime(moment), to_local(moment).isoformat(timespec="seconds")


def signer(data: dict[str, Any]) -> Signer:
    """One stored signature (a ``SignatureReport.to_dict()``) as people read it."""
    labels = dict(verification.LABELS)
    cert = _certificate(data)
    if cert is not None:
        name = _attribute(cert.subject, x509.NameOID.COMMON_NAME) or data.get("nguoi_ky", UNKNOWN)
        organisation = ", ".join(p for p in (_attribute(cert.subject, x509.NameOID.ORGANIZATIONAL_UNIT_NAME),
                                             _attribute(cert.subject, x509.NameOID.ORGANIZATION_NAME)) if p)
        country = country_name(_attribute(cert.subject, x509.NameOID.COUNTRY_NAME))
    else:
        name, _sep, organisation = (data.get("nguoi_ky") or UNKNOWN).partition(", ")
        country = ""
    if organisation == name:
        organisation = ""
    signed_at, signed_at_iso = _signed_at(data)
    technical = [(labels[key], local_moments(str(data.get(key) or ""))) for key in CHECKS if data.get(key)]
    technical.append(("Thời gian ký (ISO 8601, như trong báo cáo)", data.get("thoi_gian_ky") or UNKNOWN))
    identity = data.get("signer") or {}
    if identity.get("issuer"):
        technical.append(("Tên đầy đủ của tổ chức cấp (DN)", identity["issuer"]))
    if cert is not None:
        der = cert.public_bytes(Encoding.DER)
        technical += [("Dấu vân tay chứng thư (SHA-256)", hashlib.sha256(der).hexdigest()),
                      ("Khóa công khai", _key(cert)), ("Thuật toán ký của chứng thư", _algorithm(cert))]
    if identity.get("spki_sha256"):
        technical.append(("Dấu vân tay khóa công khai (SHA-256)", identity["spki_sha256"]))
    if data.get("field_name"):
        technical.append(("Trường chữ ký trong tệp", data["field_name"]))
    return Signer(name=name or UNKNOWN, organisation=organisation, country=country, signed_at=signed_at,
                  signed_at_iso=signed_at_iso,
                  signed_at_note="do người ký khai" if (data.get("thoi_gian_ky") or "").endswith(SELF_REPORTED) else "",
                  verdict=data.get("ket_luan", ""), problems=[p for p in data.get("problems") or [] if p],
                  technical=technical)
