"""The portal's side of signing (SPEC §7): which key, image, trust roots and boxes apply to a
person or an organisation. ``portal.signing`` does the cryptography (bytes in, bytes out); this
module reads the configuration and the registered certificates and turns signing errors into
Vietnamese validation messages.

Keys: the development PKI (``SIGNING_DEV_PKI``; ``flask portal pki init-demo``) keeps encrypted
keys under ``PKI_DIR``. A real province signs with tokens through the external path (download the
frozen PDF, sign it with the CA's software, upload it) or, for seals, a PKCS#11 backend
implementing ``portal.signing.pdfsign.Signer`` (docs/SIGNING.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from flask import current_app
from sqlalchemy import select

from portal import audit, storage
from portal.auth.models import User
from portal.db import session
from portal.errors import ValidationFailed
from portal.orgs import province
from portal.orgs.models import Organisation
from portal.signatures import certificates
from portal.signatures.models import SignatureImage, SigningCertificate
from portal.signatures.report import signer as signer_view
from portal.signing import checks, hsm, pdfsign, pki, timestamps, verification
from portal.timeutil import format_datetime

REPORT_VERSION = 1


def _config() -> Any:
    return current_app.config


dev_pki_enabled = certificates.dev_pki_enabled
pki_dir = certificates.pki_dir
_passphrase = certificates.passphrase
register = certificates.register
_cert_id = certificates.cert_id


def trust_roots() -> list[x509.Certificate]:
    """Explicit roots only (SPEC §7.5): the configured bundle (NEAC, Ban Cơ yếu) and, when the
    development PKI is on, its root. Never the operating system's TLS roots."""
    roots: list[x509.Certificate] = []
    for path in str(_config().get("SIGNING_TRUST_ROOTS") or "").split():
        data = Path(path).read_bytes()
        if b"-----BEGIN" in data:
            roots += x509.load_pem_x509_certificates(data)
        else:
            roots.append(x509.load_der_x509_certificate(data))
    if dev_pki_enabled():
        root = pki.cert_path(pki_dir(), pki.ROOT_KEY)
        if root.exists():
            roots.append(pki.load_cert(root))
    return roots


def _certificate(*, user_id: int | None = None, organisation_id: int | None = None) -> SigningCertificate | None:
    return certificates.active(user_id=user_id, organisation_id=organisation_id)


def _image(*, user_id: int | None = None, organisation_id: int | None = None) -> bytes | None:
    stmt = select(SignatureImage)
    stmt = stmt.where(SignatureImage.user_id == user_id) if user_id is not None else \
        stmt.where(SignatureImage.organisation_id == organisation_id)
    row = session.execute(stmt).scalars().first()
    return storage.read(row.sha256) if row else None


def crls() -> list:
    """The CRLs that can be had on this LAN without fetching: SIGNING_CRL_FILES (PEM or DER files)."""
    paths = str(_config().get("SIGNING_CRL_FILES") or "").split()
    try:
        return checks.load_crls(paths)
    except (OSError, ValueError) as exc:
        raise ValidationFailed({"password": f"Không đọc được danh sách thu hồi chứng thư (CRL): {exc}"}) from exc


def check_certificate(cert: Any, field_name: str, *, actor: User | None = None, at: datetime | None = None,
                      intermediates: list | None = None, extra_crls: list | None = None,
                      organisation_id: int | None = None) -> checks.CertificateCheck:
    """Issue 16.2: refuse, before anything changes, a certificate that is expired, not yet valid, not for
    signing, untrusted or revoked (``ValidationFailed`` on ``field_name``); a revocation status that cannot be
    checked offline is recorded as a warning in the audit log."""
    try:
        result = checks.check_certificate(cert, trust_roots(), at=at, intermediates=intermediates or (),
                                          crls=crls() + list(extra_crls or ()))
    except checks.CertificateRefused as exc:
        raise ValidationFailed({field_name: str(exc)}) from exc
    if result.warnings:
        audit.record(actor, "signing.revocation_unchecked", organisation_id=organisation_id,
                     actor_name=None if actor else "hệ thống",
                     details={"warning": "; ".join(result.warnings)[:500]})
    return result


def _key_signer(row: SigningCertificate | None, whose: str, *, pin: str | None = None) -> pdfsign.Signer:
    """The registered key (development key files or PKCS#11), its certificate checked before it signs
    (issue 16.2). A PKCS#11 session opened for the check is closed again; signing reopens it."""
    field_name = "password" if row is None or row.user_id is not None else "seal"
    signer = certificates.server_signer(row, whose, field_name, pin=pin)
    assert row is not None
    actor = session.get(User, row.user_id) if row.user_id is not None else None
    try:
        cert, others = certificates.signer_certificate(signer, field_name)
        check_certificate(cert, field_name, actor=actor, intermediates=others, organisation_id=row.organisation_id)
    finally:
        certificates.close_signer(signer)
    return signer


def tsa() -> timestamps.TsaPolicy:
    """Timestamps (issue 16.4): PORTAL_TSA_URL, whether signing stops when it fails, the TSA's roots."""
    return timestamps.from_config(_config())


def _stamped(result: timestamps.Stamped, actor: User | None, organisation_id: int | None) -> bytes:
    """The signed bytes; a TSA that failed while the setting lets signing go on is recorded (the signature's
    report then says it has no timestamp)."""
    if result.warning:
        audit.record(actor, "signing.timestamp_missing", organisation_id=organisation_id,
                     actor_name=None if actor else "hệ thống",
                     details={"warning": result.warning[:500], "code": result.code})
    return result.pdf


def _signing_error(field_name: str, exc: Exception) -> ValidationFailed:
    return ValidationFailed({field_name: str(exc) if isinstance(exc, hsm.Pkcs11Error)
                             else f"Không ký được văn bản: {exc}"})


def verified(pdf: bytes, field_name: str) -> bytes:
    """After signing or sealing: the produced PDF must validate, else the step rolls back (the caller's
    transaction: nothing was changed yet when this raises)."""
    report = verification.verify(pdf, trust_roots(), tsa_roots=tsa().roots)
    if not report.signatures or report.verdict != verification.VALID:
        problems = "; ".join(p for s in report.signatures for p in s.problems) or report.verdict
        raise ValidationFailed({field_name: f"Tệp sau khi ký không kiểm tra được là hợp lệ ({problems}); "
                                            "chưa thực hiện bước này."})
    return pdf


def sign_personal_for(user: User, frozen: bytes, at: datetime, *, pin: str | None = None) -> bytes:
    """The signer's PAdES signature on the frozen PDF, with their blue signature image centred in
    the signer block (or a generated appearance with name and time). The certificate is checked first
    and the signed PDF validated after. ``pin``: a PKCS#11 key's PIN entered by the person."""
    signer = _key_signer(_certificate(user_id=user.id), "Bạn", pin=pin)
    try:
        signed = _stamped(tsa().sign(pdfsign.sign_personal, frozen, signer, box=pdfsign.default_signer_box(frozen),
                                     image_png=_image(user_id=user.id), name=user.full_name,
                                     signed_at_text=format_datetime(at)), user,
                          user.organisation.id if user.organisation else None)
    except (pdfsign.SigningError, hsm.Pkcs11Error) as exc:
        raise _signing_error("password", exc) from exc
    finally:
        certificates.close_signer(signer)
    return verified(signed, "password")


def date_line(place: str, day: date) -> str:
    return f"{place}, ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


def seal_for(org: Organisation) -> Callable[[bytes, str, date], bytes]:
    """The clerk's step at issuance: number, date and the organisation's seal signature, added as
    incremental updates without touching the signed page content."""
    signer = _key_signer(_certificate(organisation_id=org.id), "Cơ quan")
    seal_png = _image(organisation_id=org.id)
    place = province.place_name(_config().get("PLACE_NAME"), _config().get("PROVINCE_NAME"))

    def seal(pdf: bytes, number_text: str, issued_on: date) -> bytes:
        number_box, date_box = pdfsign.default_issue_boxes(pdf)
        try:
            sealed = _stamped(tsa().sign(pdfsign.issue, pdf, signer, number_text=number_text,
                                         date_text=date_line(place, issued_on), number_box=number_box,
                                         date_box=date_box, seal_png=seal_png,
                                         signer_box=pdfsign.default_signer_box(pdf), org_name=org.name),
                              None, org.id)
        except (pdfsign.SigningError, hsm.Pkcs11Error) as exc:
            raise _signing_error("seal", exc) from exc
        finally:
            certificates.close_signer(signer)
        return verified(sealed, "seal")  # the issued PDF must validate, else the issuance rolls back

    return seal


def check_upload_for(user: User, frozen: bytes, upload: bytes) -> dict[str, Any]:
    """An externally signed upload: exactly the frozen bytes plus one valid signature by a
    certificate registered to this person (SPEC §7.4), else a Vietnamese reason."""
    rows = session.execute(select(SigningCertificate).where(SigningCertificate.user_id == user.id,
                                                            SigningCertificate.active.is_(True))
                           .order_by(SigningCertificate.id)).scalars().all()  # the same reason every time
    if not rows:
        raise ValidationFailed({"upload": "Bạn chưa đăng ký chứng thư số với hệ thống; hãy liên hệ quản trị."})
    found = checks.upload_signer(upload, frozen)
    if found is not None:  # the new signature's certificate, checked before the upload is accepted
        cert, others, embedded = found
        check_certificate(cert, "upload", actor=user, intermediates=others, extra_crls=embedded,
                          organisation_id=user.organisation.id if user.organisation else None)
    last: verification.UploadRejected | None = None
    for row in rows:
        try:
            report = verification.check_signed_upload(frozen, upload, _cert_id(row), trust_roots(),
                                                      tsa_roots=tsa().roots)
        except verification.UploadRejected as exc:
            last = exc
            if exc.code != "not_registered":
                break
            continue
        return {"signer": report.nguoi_ky, "code": "ok"}
    assert last is not None
    audit.record(user, "drafts.external_signature_rejected", details={"reason": last.code})
    raise ValidationFailed({"upload": str(last)})


def report_json(pdf: bytes) -> tuple[str, str]:
    """(verdict, JSON) of the signatures of a received PDF (SPEC §7.5); no signature → ("", "")."""
    report = verification.verify(pdf, trust_roots(), tsa_roots=tsa().roots)
    if not report.signatures:
        return "", ""
    return report.verdict, json.dumps({"v": REPORT_VERSION, **report.to_dict()}, ensure_ascii=False)


def report_lines(stored: str) -> list[dict[str, Any]]:
    """A stored report per signature, for the page: its (label, value) lines as stored, the verdict,
    and ``signer``, the same as people read it (macros/signatures.html)."""
    data = json.loads(stored)
    labels = dict(verification.LABELS)
    return [{"lines": [(labels[k], sig.get(k, "")) for k in labels], "verdict": sig.get("ket_luan", ""),
             "signer": signer_view(sig)} for sig in data.get("chu_ky", [])]


def init_demo_pki() -> tuple[int, int]:
    """`portal pki init-demo`: a development CA, a certificate for every leader (who signs) and a
    seal certificate for every issuing organisation, registered to them; keys encrypted under
    PKI_DIR. Idempotent. Refused unless SIGNING_DEV_PKI is on (never for real documents)."""
    from portal.auth.models import Position, PositionRole, Role, UserStatus

    if not dev_pki_enabled():
        raise ValidationFailed({"pki": "Bộ khóa thử nghiệm chỉ dùng khi bật PORTAL_SIGNING_DEV_PKI; "
                                       "không dùng cho văn bản thật."})
    leaders = session.execute(
        select(User).join(Position, Position.user_id == User.id).join(PositionRole)
        .where(PositionRole.role.in_([Role.AGENCY_LEADER, Role.UNIT_HEAD]), User.status == UserStatus.ACTIVE)
        .distinct().order_by(User.id)).scalars().all()
    orgs = session.execute(select(Organisation).where(Organisation.is_issuing.is_(True))
                           .order_by(Organisation.id)).scalars().all()
    people = [pki.PersonSpec(f"u{u.id}-{pki.slug(u.username)}", u.full_name,
                             u.organisation.name if u.organisation else "", u.email) for u in leaders]
    seals = [pki.OrgSpec(f"o{o.id}-{pki.slug(o.short_name)}", o.name) for o in orgs]
    demo = pki.init_demo(pki_dir(), _passphrase(), people, seals)
    for user, spec in zip(leaders, people, strict=True):
        register(demo.certs[spec.key_name], user=user, key_name=spec.key_name)
    for org, spec in zip(orgs, seals, strict=True):
        register(demo.certs[spec.key_name], organisation=org, key_name=spec.key_name)
    audit.record(None, "signing.demo_pki", actor_name="hệ thống", details={"people": len(people), "seals": len(seals)})
    return len(people), len(seals)


def _dominant_hue(png: bytes) -> str:
    """"blue", "red" or "other": the colour of the visible (non-transparent) pixels."""
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(png)).convert("RGBA")
    image.thumbnail((120, 120))
    red = blue = other = 0
    raw = image.tobytes()
    for i in range(0, len(raw), 4):
        r, g, b, a = raw[i], raw[i + 1], raw[i + 2], raw[i + 3]
        if a < 64:
            continue
        if b > r + 30 and b > g:
            blue += 1
        elif r > b + 30 and r > g + 30:
            red += 1
        else:
            other += 1
    total = red + blue + other
    if total == 0:
        return "other"
    if blue / total > 0.5:
        return "blue"
    if red / total > 0.5:
        return "red"
    return "other"


def save_image(actor: User, png: bytes, *, organisation: Organisation | None = None) -> str | None:
    """A person's signature (blue) or, for the organisation, its seal (red): PNG with an alpha
    channel (SPEC §7.2). Returns a warning when the colour is not the expected one."""
    from io import BytesIO

    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(BytesIO(png))
        image.verify()
        image = Image.open(BytesIO(png))
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ValidationFailed({"image": "Tệp không phải ảnh PNG hợp lệ."}) from exc
    if image.format != "PNG":
        raise ValidationFailed({"image": "Ảnh chữ ký, con dấu phải là tệp PNG."})
    if "A" not in image.getbands() and "transparency" not in image.info:
        raise ValidationFailed({"image": "Ảnh phải có nền trong suốt (PNG có kênh alpha)."})
    if image.width > 2000 or image.height > 2000:
        raise ValidationFailed({"image": "Ảnh tối đa 2000 × 2000 điểm ảnh."})
    stored = storage.save(png, "chu-ky.png")
    who = {"organisation_id": organisation.id} if organisation else {"user_id": actor.id}
    row = session.execute(select(SignatureImage).filter_by(**who)).scalars().first()
    if row is None:
        row = SignatureImage(**who, sha256=stored.sha256)
        session.add(row)
    row.sha256 = stored.sha256
    session.flush()
    audit.record(actor, "signing.image_saved", object_type="signature_images", object_id=row.id,
                 organisation_id=organisation.id if organisation else None)
    expected = "red" if organisation else "blue"
    if _dominant_hue(png) != expected:
        return ("Lưu ý: ảnh con dấu nên có màu đỏ." if organisation else "Lưu ý: ảnh chữ ký nên có màu xanh.")
    return None


def image_of(user: User) -> bytes | None:
    return _image(user_id=user.id)


def certificate_of(user: User) -> SigningCertificate | None:
    return _certificate(user_id=user.id)
