"""Certificates checked before anything is signed (issue 16.2): for each path — personal signing with a
server-side key (sign), an externally signed upload (sign_external) and the seal at issuance (issue) — an
expired, not yet valid, wrong-usage, untrusted or revoked certificate is refused with a Vietnamese reason and
date, and nothing changes: the draft's state, holder, history, the outgoing counter and the deliveries.

Certificates are made with ``portal.signing.pki`` helpers against the development root of the test's
``PKI_DIR`` (or a foreign CA for "untrusted"); the bad pair replaces the person's or the seal's key files and
is registered to them, so the portal's own signer picks it up. Revocation: a CRL signed by the dev root,
configured through ``SIGNING_CRL_FILES``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from sqlalchemy import func, select

from portal.audit import AuditEntry
from portal.auth.models import User
from portal.documents.models import IncomingDocument
from portal.drafts import services
from portal.drafts.models import Draft, DraftStatus
from portal.errors import ValidationFailed
from portal.orgs.models import Organisation
from portal.signatures import service as signatures
from portal.signing import checks, pdfsign, pki, verification
from tests.conftest import PASSWORD
from tests.signing_fixtures import fixture_draft_pdf  # noqa: F401  (fixture)
from tests.test_drafts_workflow import CLIENT, actions, counter_of, key_name_of, new_draft, outgoing_count, to_signing
from tests.test_drafts_workflow import dev_signing as drafts_signing  # noqa: F401  (fixture: dev PKI on)
from tests.test_drafts_workflow import world as drafts_world  # noqa: F401  (fixture: two organisations)

S = DraftStatus


@pytest.fixture
def w(request):
    """The two organisations of tests/test_drafts_workflow.py."""
    return request.getfixturevalue("drafts_world")


@pytest.fixture
def pki_dir(request) -> Path:
    """The development PKI on, in this test's directory."""
    return request.getfixturevalue("drafts_signing")

PASSPHRASE = b"mat-khau-pki-kiem-thu"
NOW = dt.datetime.now(dt.UTC)
CASES = ["expired", "not_yet_valid", "key_usage", "not_trusted", "revoked"]


def vn_date(moment: dt.datetime) -> str:
    return moment.astimezone(verification.VN_TIME).strftime("%d/%m/%Y")


def bad_certificate(case: str, directory: Path, subject: x509.Name, app, monkeypatch, tmp_path):
    """(key, certificate, the expected words of the refusal) for one case."""
    root_key = pki.load_key(pki.key_path(directory, pki.ROOT_KEY), PASSPHRASE)
    root = pki.load_cert(pki.cert_path(directory, pki.ROOT_KEY))
    if case == "expired":
        key, cert = pki.issue_cert(root_key, root, subject, not_before=NOW - dt.timedelta(days=400), days=30)
        return key, cert, f"đã hết hạn ngày {vn_date(cert.not_valid_after_utc)}"
    if case == "not_yet_valid":
        key, cert = pki.issue_cert(root_key, root, subject, not_before=NOW + dt.timedelta(days=10))
        return key, cert, f"chưa có hiệu lực (có hiệu lực từ ngày {vn_date(cert.not_valid_before_utc)})"
    if case == "key_usage":
        key, cert = pki.issue_cert(root_key, root, subject, signing_usage=False)
        return key, cert, f"không được phép dùng để ký số (thiếu mục đích digitalSignature/nonRepudiation), " \
                          f"kiểm tra ngày {vn_date(NOW)}"
    if case == "not_trusted":
        foreign_key, foreign = pki.make_ca(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "CA lạ")]))
        key, cert = pki.issue_cert(foreign_key, foreign, subject)
        return key, cert, "không thuộc chuỗi tin cậy"
    assert case == "revoked"
    key, cert = pki.issue_cert(root_key, root, subject)
    revoked_at = NOW - dt.timedelta(days=2)
    crl = (x509.CertificateRevocationListBuilder().issuer_name(root.subject)
           .last_update(NOW - dt.timedelta(hours=1)).next_update(NOW + dt.timedelta(days=7))
           .add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(cert.serial_number)
                                    .revocation_date(revoked_at).build())
           .sign(root_key, hashes.SHA256()))
    path = tmp_path / "root.crl"
    path.write_bytes(crl.public_bytes(serialization.Encoding.DER))
    monkeypatch.setitem(app.config, "SIGNING_CRL_FILES", str(path))
    return key, cert, f"đã bị thu hồi ngày {vn_date(revoked_at)}"


def replace_key(directory: Path, key_name: str, key, cert: x509.Certificate, *, user: User | None = None,
                organisation: Organisation | None = None) -> None:
    pki.save_pair(directory, key_name, key, cert, PASSPHRASE)
    signatures.register(cert, user=user, organisation=organisation, key_name=key_name)


def state(w, draft: Draft) -> tuple:
    received = select(func.count()).select_from(IncomingDocument).where(
        IncomingDocument.organisation_id == w.receiver.id)
    from portal.db import session

    return (draft.status, draft.holder_id, draft.signed_sha256, draft.outgoing_id, actions(draft),
            counter_of(w.org.id), outgoing_count(w.org.id), session.execute(received).scalar_one())


@pytest.mark.parametrize("case", CASES)
def test_personal_signing_refuses_a_bad_certificate(db, w, pki_dir, draft_pdf, app, monkeypatch,
                                                     tmp_path, case):
    signatures.init_demo_pki()
    leader = w.p["leader"]
    name = key_name_of(leader)
    subject = pki.load_cert(pki.cert_path(pki_dir, name)).subject
    key, cert, words = bad_certificate(case, pki_dir, subject, app, monkeypatch, tmp_path)
    replace_key(pki_dir, name, key, cert, user=leader)
    draft = new_draft(w, draft_pdf)
    to_signing(w, draft)
    before = state(w, draft)
    with pytest.raises(ValidationFailed) as caught:
        services.sign_with_key(leader, draft, PASSWORD, CLIENT)
    message = caught.value.errors["password"]
    assert message.startswith(f"Chứng thư số của Lê Văn Giám {words}"), message
    assert message.endswith("không ký được.")
    assert state(w, draft) == before
    assert (draft.status, draft.signed_sha256) == (S.SIGNING, None)


@pytest.mark.parametrize("case", CASES)
def test_upload_refuses_a_bad_certificate(db, w, pki_dir, draft_pdf, app, monkeypatch, tmp_path, case):
    signatures.init_demo_pki()
    leader = w.p["leader"]
    name = key_name_of(leader)
    subject = pki.load_cert(pki.cert_path(pki_dir, name)).subject
    key, cert, words = bad_certificate(case, pki_dir, subject, app, monkeypatch, tmp_path)
    replace_key(pki_dir, name, key, cert, user=leader)
    draft = new_draft(w, draft_pdf)
    to_signing(w, draft)
    frozen = services.frozen_pdf(leader, draft)
    upload = pdfsign.sign_personal(frozen, pdfsign.KeyFileSigner(pki_dir, name, PASSPHRASE),
                                   box=pdfsign.default_signer_box(frozen), image_png=None, name=leader.full_name,
                                   signed_at_text="07/12/2026 09:30:15")
    before = state(w, draft)
    with pytest.raises(ValidationFailed) as caught:
        services.accept_external(leader, draft, upload, PASSWORD, CLIENT)
    message = caught.value.errors["upload"]
    assert message.startswith(f"Chứng thư số của Lê Văn Giám {words}"), message
    assert message.endswith("không ký được.")
    assert state(w, draft) == before


@pytest.mark.parametrize("case", CASES)
def test_seal_at_issuance_refuses_a_bad_certificate(db, w, pki_dir, draft_pdf, app, monkeypatch, tmp_path,
                                                     case):
    signatures.init_demo_pki()
    draft = new_draft(w, draft_pdf)
    to_signing(w, draft)
    assert services.sign_with_key(w.p["leader"], draft, PASSWORD, CLIENT)  # a good personal signature
    seal_row = signatures._certificate(organisation_id=w.org.id)
    assert seal_row is not None
    assert seal_row.key_name
    subject = pki.load_cert(pki.cert_path(pki_dir, seal_row.key_name)).subject
    key, cert, words = bad_certificate(case, pki_dir, subject, app, monkeypatch, tmp_path)
    replace_key(pki_dir, seal_row.key_name, key, cert, organisation=w.org)
    before = state(w, draft)
    with pytest.raises(ValidationFailed) as caught:
        services.issue(w.p["clerk"], draft, None)
    message = caught.value.errors["seal"]
    assert message.startswith(f"Chứng thư số của {w.org.name} {words}"), message
    assert message.endswith("không ký được.")
    assert state(w, draft) == before
    assert before[5] is None  # no number was ever taken: the counter does not exist yet


def test_good_certificates_sign_and_issue_and_revocation_is_checked_or_warned(db, w, pki_dir, draft_pdf,
                                                                               app, monkeypatch, tmp_path):
    """Without a CRL the step goes on with the recorded warning; with the root's CRL (not listing the
    certificate) revocation counts as checked and no warning is recorded."""
    signatures.init_demo_pki()
    draft = new_draft(w, draft_pdf)
    to_signing(w, draft)
    assert services.sign_with_key(w.p["leader"], draft, PASSWORD, CLIENT)
    warnings = db.execute(select(AuditEntry).where(AuditEntry.action == "signing.revocation_unchecked")).scalars()
    assert any(checks.REVOCATION_UNCHECKED in str(row.details or "") for row in warnings)

    root_key = pki.load_key(pki.key_path(pki_dir, pki.ROOT_KEY), PASSPHRASE)
    root = pki.load_cert(pki.cert_path(pki_dir, pki.ROOT_KEY))
    crl = (x509.CertificateRevocationListBuilder().issuer_name(root.subject)
           .last_update(NOW - dt.timedelta(hours=1)).next_update(NOW + dt.timedelta(days=7))
           .sign(root_key, hashes.SHA256()))
    path = tmp_path / "root.crl.pem"
    path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    monkeypatch.setitem(app.config, "SIGNING_CRL_FILES", str(path))
    count = db.scalar(select(func.count()).select_from(AuditEntry)
                      .where(AuditEntry.action == "signing.revocation_unchecked"))
    out = services.issue(w.p["clerk"], draft, None).outgoing
    assert (out.number, draft.status) == (1, S.ISSUED)
    assert db.scalar(select(func.count()).select_from(AuditEntry)
                     .where(AuditEntry.action == "signing.revocation_unchecked")) == count
    seal_cert = pki.load_cert(pki.cert_path(pki_dir, signatures._certificate(organisation_id=w.org.id).key_name))
    assert checks.check_certificate(seal_cert, [root], crls=checks.load_crls([path])).revocation_checked


def test_a_produced_pdf_that_does_not_validate_rolls_the_step_back(db, w, pki_dir, draft_pdf, monkeypatch):
    signatures.init_demo_pki()
    draft = new_draft(w, draft_pdf)
    to_signing(w, draft)
    before = state(w, draft)
    monkeypatch.setattr(verification, "verify", lambda pdf, roots, at=None, tsa_roots=(): verification.Report([]))
    with pytest.raises(ValidationFailed) as caught:
        services.sign_with_key(w.p["leader"], draft, PASSWORD, CLIENT)
    assert "không kiểm tra được là hợp lệ" in caught.value.errors["password"]
    assert state(w, draft) == before


def test_an_issued_pdf_that_does_not_validate_uses_no_number(db, w, pki_dir, draft_pdf, monkeypatch):
    signatures.init_demo_pki()
    draft = new_draft(w, draft_pdf)
    to_signing(w, draft)
    assert services.sign_with_key(w.p["leader"], draft, PASSWORD, CLIENT)
    db.commit()  # the request before: the draft is signed
    before = state(w, draft)
    monkeypatch.setattr(verification, "verify", lambda pdf, roots, at=None, tsa_roots=(): verification.Report([]))
    with pytest.raises(ValidationFailed) as caught:
        services.issue(w.p["clerk"], draft, None)
    assert "không kiểm tra được là hợp lệ" in caught.value.errors["seal"]
    db.rollback()  # what the request does on an error
    draft = db.get(Draft, draft.id)
    assert state(w, draft) == before
    assert before[5] is None
