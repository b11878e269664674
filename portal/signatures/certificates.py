"""Registered certificates and where their keys are (issue 16.1, SPEC §7.3).

Each certificate is registered to a person (personal signature) or an organisation (seal) and says
where its key is:

- ``pkcs11``: in the province's HSM or a token the server reaches (token label + key label; module and
  PIN from configuration, or the person's PIN entered at signing);
- ``external``: on the person's own USB token at their PC; the server never sees it (download the
  frozen PDF, sign, upload);
- ``dev``: the development PKI's key files, usable only while ``SIGNING_DEV_PKI`` is on.

``server_signer`` turns a registration into a ``portal.signing.Signer`` or a Vietnamese refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from flask import current_app
from sqlalchemy import select

from portal import audit
from portal.auth.models import User
from portal.db import session
from portal.errors import NotAllowed, NotFound, ValidationFailed
from portal.orgs.models import Organisation
from portal.signatures.models import SigningCertificate
from portal.signing import hsm, pdfsign, pki

DEV, PKCS11, EXTERNAL = "dev", "pkcs11", "external"
BACKEND_LABELS = {
    PKCS11: "Khóa trên HSM/thiết bị ký của máy chủ (PKCS#11)",
    EXTERNAL: "Thiết bị ký số riêng (USB token) trên máy người ký",
    DEV: "Bộ khóa thử nghiệm (không có giá trị pháp lý)",
}
DEV_REFUSED = ("Khóa ký thử nghiệm không được dùng: hệ thống chưa bật PORTAL_SIGNING_DEV_PKI. Hãy dùng khóa trên "
               "HSM/thiết bị ký đã đăng ký, hoặc ký bằng thiết bị của mình rồi tải lên.")


def _config() -> Any:
    return current_app.config


def dev_pki_enabled() -> bool:
    return bool(_config().get("SIGNING_DEV_PKI"))


def pki_dir() -> Path:
    return Path(_config()["PKI_DIR"])


def passphrase() -> bytes:
    value = _config().get("PKI_PASSPHRASE") or ""
    if not value:
        raise ValidationFailed({"password": "Chưa cấu hình PORTAL_PKI_PASSPHRASE cho bộ khóa thử nghiệm."})
    return str(value).encode()


def configured_pin(token_label: str) -> str | None:
    """The PIN configuration gives for a token: PKCS11_PIN_FILE's line for its label, else PKCS11_PIN."""
    path = str(_config().get("PKCS11_PIN_FILE") or "")
    if path:
        try:
            pin = hsm.read_pin_file(path).get(token_label)
        except OSError as exc:
            raise ValidationFailed({"password": f"Không đọc được tệp mã PIN (PORTAL_PKCS11_PIN_FILE): {exc}"}) from exc
        if pin:
            return pin
    return str(_config().get("PKCS11_PIN") or "") or None


def active(*, user_id: int | None = None, organisation_id: int | None = None) -> SigningCertificate | None:
    stmt = select(SigningCertificate).where(SigningCertificate.active.is_(True))
    stmt = stmt.where(SigningCertificate.user_id == user_id) if user_id is not None else \
        stmt.where(SigningCertificate.organisation_id == organisation_id)
    return session.execute(stmt.order_by(SigningCertificate.id.desc())).scalars().first()


def cert_id(row: SigningCertificate) -> pki.CertId:
    return pki.CertId(issuer=row.issuer, serial=int(row.serial, 16), spki_sha256=row.spki_sha256)


@dataclass(frozen=True)
class KeyInfo:
    """What the signing form says about a person's key."""

    backend: str
    label: str
    needs_pin: bool


def key_info(row: SigningCertificate | None) -> KeyInfo | None:
    if row is None:
        return None
    needs_pin = row.backend == PKCS11 and not configured_pin(row.token_label or "")
    label = BACKEND_LABELS.get(row.backend, row.backend)
    if row.backend == PKCS11:
        label += f", thiết bị «{row.token_label}»"
    return KeyInfo(row.backend, label, needs_pin)


def server_signer(row: SigningCertificate | None, whose: str, field: str, *, pin: str | None = None) -> pdfsign.Signer:
    """The key of a registration as a signer the server can use, or ``ValidationFailed`` on ``field``.
    A PKCS#11 signer holds a session once asked for: the caller closes it (``close_signer``)."""
    if row is None or row.backend == EXTERNAL:
        raise ValidationFailed({field: f"{whose} chưa có khóa ký trên máy chủ. Hãy tải bản PDF, ký bằng thiết bị "
                                       "ký số (token) của mình rồi tải lên."})
    if row.backend == DEV:
        if not dev_pki_enabled() or not row.key_name:
            raise ValidationFailed({field: DEV_REFUSED})
        return pdfsign.KeyFileSigner(pki_dir(), row.key_name, passphrase())
    if row.backend == PKCS11:
        module = str(_config().get("PKCS11_MODULE") or "")
        if pin and len(pin) > 64:
            raise ValidationFailed({field: "Mã PIN tối đa 64 ký tự."})
        token_pin = configured_pin(row.token_label or "") or (pin or None)
        if not token_pin:
            raise ValidationFailed({field: f"Hãy nhập mã PIN của thiết bị ký «{row.token_label}»."
                                    if row.user_id is not None else
                                    f"Chưa cấu hình mã PIN cho HSM/thiết bị ký «{row.token_label}» của cơ quan "
                                    "(PORTAL_PKCS11_PIN hoặc PORTAL_PKCS11_PIN_FILE); liên hệ bộ phận kỹ thuật."})
        return hsm.Pkcs11Signer(module, row.token_label or "", row.key_label or "", token_pin,
                                row.certificate_der)
    raise ValidationFailed({field: f"Không rõ nơi giữ khóa ký ({row.backend})."})


def close_signer(signer: object) -> None:
    close = getattr(signer, "close", None)
    if close is not None:
        close()


def signer_certificate(signer: pdfsign.Signer, field: str) -> tuple[Any, list[Any]]:
    """(certificate, other certificates) of a server-side key; token errors become ``ValidationFailed``."""
    from portal.signing import checks

    try:
        return checks.signer_certificate(signer.pyhanko_signer())
    except hsm.Pkcs11Error as exc:
        raise ValidationFailed({field: str(exc)}) from exc
    except checks.CertificateRefused as exc:
        raise ValidationFailed({field: str(exc)}) from exc


# --- registration ---------------------------------------------------------------------------------------

def load_certificate(data: bytes) -> x509.Certificate:
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise ValidationFailed({"certificate": "Tệp không phải chứng thư số X.509 (PEM hoặc DER)."}) from exc


def register(cert: x509.Certificate, *, user: User | None = None, organisation: Organisation | None = None,
             key_name: str | None = None, backend: str | None = None, token_label: str | None = None,
             key_label: str | None = None) -> SigningCertificate:
    """Register a certificate to a person or an organisation, matched later on issuer, serial and public key,
    never on names. Earlier certificates stay usable (a renewed token while the old one is valid); the newest
    active one signs on the server."""
    backend = backend or (DEV if key_name else EXTERNAL)
    ident = pki.cert_fingerprint(cert)
    serial = format(ident.serial, "X")
    row = session.execute(select(SigningCertificate).where(SigningCertificate.issuer == ident.issuer,
                                                           SigningCertificate.serial == serial)).scalars().first()
    user_id = user.id if user else None  # read before the new row is added: no autoflush of a half-made row
    organisation_id = organisation.id if organisation else None
    if row is None:
        row = SigningCertificate(issuer=ident.issuer, serial=serial)
        session.add(row)
    row.user_id = user_id
    row.organisation_id = organisation_id
    row.subject = cert.subject.rfc4514_string()[:500]
    row.spki_sha256 = ident.spki_sha256
    row.not_after = cert.not_valid_after_utc
    row.key_name = key_name
    row.backend = backend
    row.token_label = token_label
    row.key_label = key_label
    row.certificate_der = cert.public_bytes(serialization.Encoding.DER)
    row.active = True
    session.flush()
    return row


def register_by(actor: User | None, data: bytes, *, username: str = "", organisation_id: int | None = None,
                backend: str, token_label: str = "", key_label: str = "") -> SigningCertificate:
    """IT registers a certificate (Quản trị → Chứng thư số, or ``portal pki register``) to a person (by user
    name) or an organisation: for a key in the HSM, the token must be reachable and hold a key with that label
    whose public key is the certificate's. ``actor`` None: the command line (the server's operator)."""
    from portal.auth import management

    if actor is not None and not management.is_admin(actor):
        raise NotAllowed("Chỉ quản trị hệ thống đăng ký chứng thư số.")
    username = (username or "").strip()
    if bool(username) == (organisation_id is not None):
        raise ValidationFailed({"username": "Hãy nhập tên đăng nhập của một người, hoặc chọn một cơ quan "
                                            "(không cả hai)."})
    user = organisation = None
    if username:
        user = session.execute(select(User).where(User.username == username[:100])).scalars().first()
        if user is None or (actor is not None and not management.can_manage(actor, user)):
            raise ValidationFailed({"username": f"Không có người dùng «{username[:100]}» trong phạm vi quản trị."})
    else:
        organisation = session.get(Organisation, organisation_id)
        if organisation is None or not organisation.is_issuing:
            raise ValidationFailed({"organisation_id": "Hãy chọn một cơ quan ban hành."})
    if organisation is not None and actor is not None and management.scope(actor) not in (None, organisation.id):
        raise ValidationFailed({"organisation_id": "Cơ quan này ngoài phạm vi quản trị của bạn."})
    if backend not in (PKCS11, EXTERNAL):
        raise ValidationFailed({"backend": "Hãy chọn nơi giữ khóa ký."})
    cert = load_certificate(data)
    token_label, key_label = token_label.strip(), key_label.strip()
    if backend == PKCS11:
        errors = {}
        if not token_label:
            errors["token_label"] = "Hãy nhập nhãn thiết bị ký (token label)."  # noqa: S105
        if not key_label:
            errors["key_label"] = "Hãy nhập nhãn khóa (key label)."
        if errors:
            raise ValidationFailed(errors)
        _check_token_key(cert, token_label, key_label)
    row = register(cert, user=user, organisation=organisation, backend=backend,
                   token_label=token_label or None, key_label=key_label or None)
    audit.record(actor, "signing.certificate_registered", actor_name=None if actor else "quản trị máy chủ",
                 object_type="signing_certificates", object_id=row.id,
                 organisation_id=organisation.id if organisation else (user.organisation.id if user and
                                                                        user.organisation else None),
                 details={"subject": row.subject[:200], "serial": row.serial, "backend": backend,
                          "token": token_label or None, "key": key_label or None,
                          "owner": f"user:{user.id}" if user else f"organisation:{organisation.id}"})  # type: ignore[union-attr]
    return row


def _check_token_key(cert: x509.Certificate, token_label: str, key_label: str) -> None:
    module = str(_config().get("PKCS11_MODULE") or "")
    try:
        public = hsm.public_key_der(module, token_label, key_label, configured_pin(token_label))
    except hsm.Pkcs11Error as exc:
        raise ValidationFailed({"token_label": str(exc)}) from exc
    wanted = cert.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    if public is not None and public != wanted:
        raise ValidationFailed({"certificate": f"Chứng thư số không khớp với khóa «{key_label}» trên thiết bị "
                                               f"«{token_label}» (khác khóa công khai)."})


def deactivate(actor: User, row_id: int) -> SigningCertificate:
    from portal.auth import management

    if not management.is_admin(actor):
        raise NotAllowed("Chỉ quản trị hệ thống quản lý chứng thư số.")
    row = session.get(SigningCertificate, row_id, with_for_update=True)
    if row is None:
        raise NotFound()
    scope = management.scope(actor)
    if scope is not None:
        owner_org = row.organisation_id
        if row.user_id is not None:
            user = session.get(User, row.user_id)
            if user is None or (actor is not None and not management.can_manage(actor, user)):
                raise NotFound()
        elif owner_org != scope:
            raise NotFound()
    if row.active:
        row.active = False
        audit.record(actor, "signing.certificate_deactivated", object_type="signing_certificates", object_id=row.id,
                     details={"serial": row.serial})
    return row


def organisation_choices(actor: User) -> list[Organisation]:
    """The issuing organisations an admin may register a seal for."""
    from portal.auth import management

    scope = management.scope(actor)
    stmt = select(Organisation).where(Organisation.is_issuing.is_(True)).order_by(Organisation.name)
    if scope is not None:
        stmt = stmt.where(Organisation.id == scope)
    return list(session.execute(stmt).scalars())


def owner_names(rows: list[SigningCertificate]) -> dict[int, str]:
    """Certificate id → the person's or organisation's name, for the list."""
    names: dict[int, str] = {}
    for row in rows:
        owner = session.get(User, row.user_id) if row.user_id else session.get(Organisation, row.organisation_id)
        names[row.id] = (owner.full_name if isinstance(owner, User) else owner.name) if owner else "—"
    return names


def listing(actor: User) -> list[SigningCertificate]:
    from portal.auth import management

    if not management.is_admin(actor):
        raise NotAllowed("Chỉ quản trị hệ thống quản lý chứng thư số.")
    stmt = select(SigningCertificate).order_by(SigningCertificate.active.desc(), SigningCertificate.id.desc())
    scope = management.scope(actor)
    rows = list(session.execute(stmt.limit(500)).scalars())
    if scope is None:
        return rows
    keep = []
    for row in rows:
        if row.organisation_id == scope:
            keep.append(row)
        elif row.user_id is not None:
            user = session.get(User, row.user_id)
            if user is not None and management.can_manage(actor, user):
                keep.append(row)
    return keep


def xml_signer(organisation_id: int) -> tuple[Any, x509.Certificate] | None:
    """The organisation's seal key as ``sign(bytes) -> bytes`` with its certificate, for the XML signature of an
    outgoing edXML package; None when the server holds no usable key (the package then goes unsigned)."""
    row = active(organisation_id=organisation_id)
    if row is None or row.backend == EXTERNAL:
        return None
    if row.backend == DEV:
        if not dev_pki_enabled() or not row.key_name:
            return None
        key, cert = _dev_pair(str(pki.key_path(pki_dir(), row.key_name)), str(pki.cert_path(pki_dir(), row.key_name)),
                              passphrase())
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        return (lambda data: key.sign(data, padding.PKCS1v15(), hashes.SHA256())), cert
    if row.backend == PKCS11 and row.certificate_der:
        module = str(_config().get("PKCS11_MODULE") or "")
        pin = configured_pin(row.token_label or "")
        if not pin:
            return None
        token, label = row.token_label or "", row.key_label or ""
        return (lambda data: hsm.sign_bytes(module, token, label, pin, data),
                x509.load_der_x509_certificate(row.certificate_der))
    return None


_pairs: dict[tuple[str, str, float, bytes], tuple[Any, x509.Certificate]] = {}


def _dev_pair(key_file: str, cert_file: str, secret: bytes) -> tuple[Any, x509.Certificate]:
    """A development seal key decrypted once per process (about 40 ms each time otherwise), kept until its file
    changes."""
    import os

    stamp = os.stat(key_file).st_mtime
    cached = _pairs.get((key_file, cert_file, stamp, secret))
    if cached is None:
        cached = (pki.load_key(Path(key_file), secret), pki.load_cert(Path(cert_file)))
        if len(_pairs) > 64:
            _pairs.clear()
        _pairs[(key_file, cert_file, stamp, secret)] = cached
    return cached
