"""Certificates checked before anything is signed (issue 16.2, SPEC §7): before a server-side signature, before an
uploaded signature is accepted and before the seal at issuance, the certificate must be valid at the signing time
(not expired, not yet valid), allow signing (key usage digitalSignature or nonRepudiation), chain to the
configured trust roots, and not be revoked according to the CRLs that can be had offline (configured files,
or CRLs embedded in the signature). Nothing is fetched (``allow_fetching=False``): a LAN without the CA's
servers gives a warning ("chưa kiểm tra được tình trạng thu hồi"), not a refusal.

Bytes in, bytes out like the rest of ``portal.signing``: ``check_certificate`` raises ``CertificateRefused`` with
a Vietnamese message naming the reason and the date, or returns a ``CertificateCheck`` (with its warnings).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    ExpiredError,
    InsufficientRevinfoError,
    NotYetValidError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
    ValidationError,
)

from portal.signing.pki import to_asn1
from portal.signing.verification import VN_TIME

REVOCATION_UNCHECKED = "chưa kiểm tra được tình trạng thu hồi"

MESSAGES = {
    "expired": "Chứng thư số của {who} đã hết hạn ngày {date}; không ký được.",
    "not_yet_valid": "Chứng thư số của {who} chưa có hiệu lực (có hiệu lực từ ngày {date}); không ký được.",
    "key_usage": "Chứng thư số của {who} không được phép dùng để ký số (thiếu mục đích digitalSignature/"
                 "nonRepudiation), kiểm tra ngày {date}; không ký được.",
    "not_trusted": "Chứng thư số của {who} không thuộc chuỗi tin cậy (không dẫn đến chứng thư gốc được công nhận), "
                   "kiểm tra ngày {date}; không ký được.",
    "revoked": "Chứng thư số của {who} đã bị thu hồi ngày {date}; không ký được.",
    "invalid": "Chứng thư số của {who} không hợp lệ ({detail}), kiểm tra ngày {date}; không ký được.",
}


class CertificateRefused(Exception):
    """``str(exc)`` is the Vietnamese reason; ``code`` one of ``MESSAGES``' keys."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class CertificateCheck:
    revocation_checked: bool
    warnings: list[str] = field(default_factory=list)


def _date(moment: dt.datetime) -> str:
    return moment.astimezone(VN_TIME).strftime("%d/%m/%Y")


def _as_crypto(cert) -> x509.Certificate:
    if isinstance(cert, x509.Certificate):
        return cert
    return x509.load_der_x509_certificate(cert.dump())


def _as_asn1(cert) -> asn1_x509.Certificate:
    return to_asn1(cert) if isinstance(cert, x509.Certificate) else cert


def _who(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()


def _key_usage_ok(cert: x509.Certificate) -> bool:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True  # no restriction (RFC 5280 4.2.1.3)
    return usage.digital_signature or usage.content_commitment


def load_crls(paths: Iterable[str | Path]) -> list[asn1_crl.CertificateList]:
    """CRL files (PEM or DER), e.g. the CA's last published list copied onto the LAN."""
    crls = []
    for path in paths:
        data = Path(path).read_bytes()
        if b"-----BEGIN" in data:
            crls += [asn1_crl.CertificateList.load(x509.load_pem_x509_crl(block).public_bytes(Encoding.DER))
                     for block in _pem_blocks(data, b"X509 CRL")]
        else:
            crls.append(asn1_crl.CertificateList.load(data))
    return crls


def _pem_blocks(data: bytes, label: bytes) -> list[bytes]:
    begin, end = b"-----BEGIN " + label + b"-----", b"-----END " + label + b"-----"
    blocks, rest = [], data
    while begin in rest:
        start = rest.index(begin)
        stop = rest.index(end, start) + len(end)
        blocks.append(rest[start:stop])
        rest = rest[stop:]
    return blocks


def embedded_crls(signed_data) -> list[asn1_crl.CertificateList]:
    """CRLs carried in a CMS SignedData (its ``crls`` field)."""
    found = []
    try:
        for choice in signed_data["crls"] or []:
            if choice.name == "crl":
                found.append(choice.chosen)
    except (KeyError, ValueError, TypeError):
        return []
    return found


def _context(trust_roots, at: dt.datetime, intermediates, crls, mode: str) -> ValidationContext:
    return ValidationContext(trust_roots=[_as_asn1(c) for c in trust_roots],
                             other_certs=[_as_asn1(c) for c in intermediates], moment=at, allow_fetching=False,
                             crls=list(crls), revocation_mode=mode)


def _validate(cert: asn1_x509.Certificate, context: ValidationContext) -> None:
    asyncio.run(CertificateValidator(cert, validation_context=context).async_validate_path())


def check_certificate(cert, trust_roots: list, *, at: dt.datetime | None = None, intermediates: Iterable = (),
                      crls: Iterable = (), who: str | None = None) -> CertificateCheck:
    """Refuse (``CertificateRefused``) a certificate that must not sign at ``at`` (default: now); return the
    check with a warning when revocation could not be checked for want of a CRL."""
    at = at or dt.datetime.now(dt.UTC)
    crypto = _as_crypto(cert)
    who = who or _who(crypto)
    day = _date(at)
    if at > crypto.not_valid_after_utc:
        raise CertificateRefused(MESSAGES["expired"].format(who=who, date=_date(crypto.not_valid_after_utc)),
                                 "expired")
    if at < crypto.not_valid_before_utc:
        raise CertificateRefused(MESSAGES["not_yet_valid"].format(who=who, date=_date(crypto.not_valid_before_utc)),
                                 "not_yet_valid")
    if not _key_usage_ok(crypto):
        raise CertificateRefused(MESSAGES["key_usage"].format(who=who, date=day), "key_usage")
    if not trust_roots:
        raise CertificateRefused(MESSAGES["not_trusted"].format(who=who, date=day), "not_trusted")
    intermediates, crls = list(intermediates), list(crls)
    leaf = _as_asn1(cert)
    try:
        _validate(leaf, _context(trust_roots, at, intermediates, crls, "soft-fail"))
    except RevokedError as exc:
        raise CertificateRefused(MESSAGES["revoked"].format(who=who, date=_date(exc.revocation_dt)),
                                 "revoked") from exc
    except ExpiredError as exc:  # an intermediate in the path
        raise CertificateRefused(MESSAGES["expired"].format(who=who, date=_date(exc.expired_dt)), "expired") from exc
    except NotYetValidError as exc:
        raise CertificateRefused(MESSAGES["not_yet_valid"].format(who=who, date=_date(exc.valid_from)),
                                 "not_yet_valid") from exc
    except PathBuildingError as exc:
        raise CertificateRefused(MESSAGES["not_trusted"].format(who=who, date=day), "not_trusted") from exc
    except (PathValidationError, ValidationError) as exc:
        raise CertificateRefused(MESSAGES["invalid"].format(who=who, date=day, detail=exc), "invalid") from exc
    # Soft-fail (and hard-fail) only check certificates that declare where their revocation status is
    # published; with CRLs at hand, "require" checks every certificate of the path against them.
    checked = False
    if crls:
        try:
            _validate(leaf, _context(trust_roots, at, intermediates, crls, "require"))
            checked = True
        except RevokedError as exc:
            raise CertificateRefused(MESSAGES["revoked"].format(who=who, date=_date(exc.revocation_dt)),
                                     "revoked") from exc
        except (InsufficientRevinfoError, PathValidationError, ValidationError):
            checked = False  # no usable CRL for some certificate of the path: a warning, not a refusal
    return CertificateCheck(revocation_checked=checked,
                            warnings=[] if checked else [f"Chứng thư số của {who}: {REVOCATION_UNCHECKED}."])


def signer_certificate(pyhanko_signer) -> tuple[asn1_x509.Certificate, list]:
    """(signing certificate, other certificates of its chain) of any pyHanko signer (key file, PKCS#11...)."""
    cert = pyhanko_signer.signing_cert
    if cert is None:
        raise CertificateRefused("Khóa ký không kèm chứng thư số; không ký được.", "invalid")
    registry = getattr(pyhanko_signer, "cert_registry", None)
    others = [c for c in (registry or []) if c.dump() != cert.dump()]
    return cert, others


def upload_signer(upload: bytes, frozen: bytes) -> tuple[asn1_x509.Certificate, list, list] | None:
    """(certificate, embedded certificates, embedded CRLs) of the last signature added to ``frozen`` in
    ``upload``; None when there is none to read (``check_signed_upload`` gives the reason then)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(BytesIO(upload), strict=False)
        signatures = list(reader.embedded_regular_signatures)
        old = len(list(PdfFileReader(BytesIO(frozen), strict=False).embedded_regular_signatures))
        if len(signatures) <= old:
            return None
        embedded = signatures[-1]
        return embedded.signer_cert, list(embedded.other_embedded_certs), embedded_crls(embedded.signed_data)
    except Exception:  # unreadable: the upload checks name the problem
        return None

