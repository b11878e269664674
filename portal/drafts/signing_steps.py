"""Ký số (SPEC §7): the frozen PDF, signing with the registered key or accepting a token-signed upload
(password re-entered), and the clerk's refusal back to the signer."""

from __future__ import annotations

from portal import audit, storage
from portal.auth.models import User
from portal.drafts import common, limits
from portal.drafts.common import S
from portal.drafts.models import Draft
from portal.drafts.workflow import guard
from portal.errors import ValidationFailed


def frozen_pdf(signer: User, draft: Draft) -> bytes:
    """The exact bytes the signer signs (also what an external token signs)."""
    draft = guard(signer, "sign", draft)
    assert draft.frozen_sha256 is not None
    return storage.read(draft.frozen_sha256)


def sign(signer: User, draft: Draft, password_ok: bool, signed: bytes, *, external: bool = False) -> None:
    """Ký số: the signer has re-entered their password (checked by the caller through the auth
    service) and ``signed`` is the frozen PDF plus exactly one valid signature of theirs
    (checked by ``signatures``). Stores it and hands the draft to the clerks."""
    draft = guard(signer, "sign_external" if external else "sign", draft)
    if not password_ok:
        raise ValidationFailed({"password": "Mật khẩu không đúng; văn bản chưa được ký."})
    stored = storage.save(signed, f"{common.slug(draft)}-da-ky.pdf")
    draft.signed_sha256 = stored.sha256
    draft.signed_at = common.now()
    draft.signed_by_id = signer.id
    draft.issue_due_at = limits.issue_due(draft)  # the issuance limit's clock starts (SPEC §6.3)
    common.move(draft, signer, "sign_external" if external else "sign", S.SIGNED, None,
          f"Ký bởi {signer.full_name}, SHA-256 {stored.sha256[:16]}…")


def sign_with_key(signer: User, draft: Draft, password: str, client: object, *, pin: str | None = None) -> bool:
    """Ký số with the signer's registered key (development PKI, or a key in the province's HSM: ``pin`` is
    its PIN when configuration does not hold it): the password is re-entered first. Returns False, having
    counted and audited the failure, when the password is wrong (the caller answers 422 and keeps the
    transaction)."""
    from portal.auth import services as auth
    from portal.signatures import service as signatures

    frozen = frozen_pdf(signer, draft)
    if not auth.confirm_password(signer, password, client, "sign"):  # type: ignore[arg-type]
        return False
    signed = signatures.sign_personal_for(signer, frozen, common.now(), pin=pin)
    sign(signer, draft, True, signed)
    return True


def accept_external(signer: User, draft: Draft, upload: bytes, password: str, client: object) -> bool:
    """The external path (SPEC §7.4): the signer signed the frozen PDF with their own token
    software; the upload is accepted only as exactly that PDF plus one valid signature by the
    certificate registered to them. Raises ValidationFailed with the reason otherwise."""
    from portal.auth import services as auth
    from portal.signatures import service as signatures

    frozen = frozen_pdf(signer, draft)
    if not auth.confirm_password(signer, password, client, "sign_external"):  # type: ignore[arg-type]
        return False
    report = signatures.check_upload_for(signer, frozen, upload)
    sign(signer, draft, True, upload, external=True)  # stores the upload before any audit row holds the head
    audit.record(signer, "drafts.external_signature_accepted", object_type="drafts", object_id=draft.id,
                 organisation_id=draft.organisation_id, details={"signer": report.get("signer", "")})
    return True


def signing_key_of(user: User) -> object:
    """What the signing form says about the person's key (where it is, whether a PIN is asked)."""
    from portal.signatures import certificates

    return certificates.key_info(certificates.active(user_id=user.id))


def refuse_issue(clerk: User, draft: Draft, reason: str) -> None:
    draft = guard(clerk, "refuse_issue", draft)
    reason = common.required(reason, "reason", "Hãy ghi lý do trả lại người ký.")
    draft.signed_sha256 = None
    draft.signed_at = None
    draft.issue_due_at = None
    common.move(draft, clerk, "refuse_issue", S.SIGNING, draft.signer_id, reason)



def placement_boxes(pdf: bytes) -> list:
    """Where the signature, the number, the date and the seal will go on this PDF (the preview's dashed boxes):
    the same places signing and issuance compute."""
    from portal.signing import appearance, pdfsign
    from portal.viewer import Box

    signer = pdfsign.default_signer_box(pdf)
    number, date = pdfsign.default_issue_boxes(pdf)
    seal = appearance.seal_box(signer[1:], appearance.SEAL_SIZE)
    return [Box(number[0], *number[1:], "Số, ký hiệu"), Box(date[0], *date[1:], "Địa danh, ngày"),
            Box(signer[0], *signer[1:], "Chữ ký"), Box(signer[0], *seal, "Dấu")]
