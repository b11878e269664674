"""Keys where officials keep them (issue 16.1), against a real PKCS#11 token (SoftHSM2, tests/softhsm.py):
the organisation's seal in the "HSM" with its PIN from configuration, a leader's key held centrally with the
PIN entered at signing; the development key files refused unless SIGNING_DEV_PKI is on; IT registers
certificates (page and command line) and a certificate that is not the token key's is refused. For both
server-side paths every bad certificate is refused and nothing changes, number counter included.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from portal import storage
from portal.auth.models import Role
from portal.drafts import services
from portal.drafts.models import Draft, DraftStatus
from portal.errors import NotAllowed, ValidationFailed
from portal.signatures import certificates
from portal.signatures import service as signatures
from portal.signing import pki, verification
from tests import softhsm
from tests.conftest import PASSWORD
from tests.signing_fixtures import fixture_draft_pdf  # noqa: F401  (fixture)
from tests.test_drafts_workflow import CLIENT, new_draft, to_signing
from tests.test_drafts_workflow import world as drafts_world  # noqa: F401  (fixture: two organisations)
from tests.test_signing_checks import CASES, state, vn_date

pytestmark = pytest.mark.skipif(not softhsm.available(), reason="softhsm2/opensc are not installed")

SEAL_TOKEN, PEOPLE_TOKEN = "hsm-tinh-con-dau", "hsm-tinh-ca-nhan"
NOW = dt.datetime.now(dt.UTC)
S = DraftStatus


@dataclass
class Hsm:
    directory: Path
    ca_key: object
    ca: x509.Certificate
    roots_file: Path
    seal_public: bytes
    leader_public: bytes
    other_public: bytes

    def cert(self, public: bytes, name: str, **kw) -> x509.Certificate:
        return softhsm.certificate_for(public, self.ca_key, self.ca, name, **kw)


@pytest.fixture(scope="session")
def hsm(tmp_path_factory) -> Hsm:
    directory = tmp_path_factory.mktemp("softhsm")
    tokens = softhsm.init_tokens(directory, SEAL_TOKEN, PEOPLE_TOKEN)
    seal = tokens[SEAL_TOKEN].generate("con-dau-snvt", "01")
    other = tokens[SEAL_TOKEN].generate("khoa-khac", "02")
    leader = tokens[PEOPLE_TOKEN].generate("le-van-giam", "11")
    ca_key, ca = pki.make_ca(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CA kiểm thử HSM")]))
    roots = directory / "roots.pem"
    roots.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return Hsm(directory, ca_key, ca, roots, seal, leader, other)


@pytest.fixture
def w(request):
    return request.getfixturevalue("drafts_world")


@pytest.fixture
def configured(app, monkeypatch, hsm, tmp_path):
    """A province's configuration: no development PKI; the HSM module; the seal token's PIN in a PIN file
    (the people's token has none: its PIN is entered at signing); the test CA as the trust root."""
    pins = tmp_path / "pins"
    pins.write_text(f"# nhãn thiết bị = PIN\n{SEAL_TOKEN} = {softhsm.PIN}\n")
    for key, value in {"SIGNING_DEV_PKI": False, "PKCS11_MODULE": softhsm.MODULE, "PKCS11_PIN": "",
                       "PKCS11_PIN_FILE": str(pins), "SIGNING_TRUST_ROOTS": str(hsm.roots_file),
                       "SIGNING_CRL_FILES": ""}.items():
        monkeypatch.setitem(app.config, key, value)
    return hsm


def register_keys(w, hsm: Hsm, *, seal_cert=None, leader_cert=None) -> None:
    certificates.register(seal_cert or hsm.cert(hsm.seal_public, w.org.name), organisation=w.org,
                          backend=certificates.PKCS11, token_label=SEAL_TOKEN, key_label="con-dau-snvt")
    certificates.register(leader_cert or hsm.cert(hsm.leader_public, "Lê Văn Giám"), user=w.p["leader"],
                          backend=certificates.PKCS11, token_label=PEOPLE_TOKEN, key_label="le-van-giam")


def pdfsig_report(pdf: bytes, root: x509.Certificate, tmp_path: Path) -> str:
    """poppler's pdfsig with an NSS database holding the test root (libnss3-tools' certutil)."""
    nss = tmp_path / "nss"
    nss.mkdir()
    root_file = tmp_path / "root.pem"
    root_file.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{nss}", "-n", "CA kiem thu", "-t", "CT,C,C", "-i", str(root_file)],
                   check=True, capture_output=True)
    path = tmp_path / "issued.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(["pdfsig", "-nssdir", f"sql:{nss}", str(path)], capture_output=True, text=True,
                            check=False)
    return result.stdout + result.stderr


@pytest.mark.skipif(not (shutil.which("pdfsig") and shutil.which("certutil")), reason="poppler-utils/libnss3-tools")
def test_issuance_without_the_development_pki_seals_with_the_hsm_key(db, w, configured, draft_pdf, tmp_path):
    hsm = configured
    register_keys(w, hsm)
    draft = new_draft(w, draft_pdf, doc_type=w.decision)
    to_signing(w, draft)
    leader = w.p["leader"]
    with pytest.raises(ValidationFailed) as caught:  # the people's token has no configured PIN
        services.sign_with_key(leader, draft, PASSWORD, CLIENT)
    assert caught.value.errors["password"] == f"Hãy nhập mã PIN của thiết bị ký «{PEOPLE_TOKEN}»."
    assert services.signing_key_of(leader).needs_pin
    assert services.sign_with_key(leader, draft, PASSWORD, CLIENT, pin=softhsm.PIN)
    out = services.issue(w.p["clerk"], draft, None).outgoing
    issued = storage.read(out.main_file_sha256)

    report = verification.verify(issued, [hsm.ca])
    assert report.verdict == "Hợp lệ"
    personal, seal = report.signatures
    for sig in (personal, seal):
        assert (sig.intact, sig.trusted, sig.valid) == (True, True, True)
    # made by the keys in the token: the registered certificates' public keys
    assert personal.signer.spki_sha256 == pki.cert_fingerprint(
        x509.load_der_x509_certificate(certificates.active(user_id=leader.id).certificate_der)).spki_sha256
    assert seal.signer.spki_sha256 == certificates.active(organisation_id=w.org.id).spki_sha256
    assert seal.covers_whole_file

    text = pdfsig_report(issued, hsm.ca, tmp_path)
    assert text.count("Signature Validation: Signature is Valid.") == 2, text
    assert text.count("Certificate Validation: Certificate is Trusted.") == 2, text


def bad(case: str, hsm: Hsm, public: bytes, name: str, app, monkeypatch, tmp_path) -> tuple[x509.Certificate, str]:
    """A bad certificate for a key that lives in the token, and the words of its refusal."""
    if case == "expired":
        cert = hsm.cert(public, name, not_before=NOW - dt.timedelta(days=400), days=30)
        return cert, f"đã hết hạn ngày {vn_date(cert.not_valid_after_utc)}"
    if case == "not_yet_valid":
        cert = hsm.cert(public, name, not_before=NOW + dt.timedelta(days=10))
        return cert, f"chưa có hiệu lực (có hiệu lực từ ngày {vn_date(cert.not_valid_before_utc)})"
    if case == "key_usage":
        return hsm.cert(public, name, signing_usage=False), "không được phép dùng để ký số"
    if case == "not_trusted":
        foreign_key, foreign = pki.make_ca(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CA lạ")]))
        return softhsm.certificate_for(public, foreign_key, foreign, name), "không thuộc chuỗi tin cậy"
    assert case == "revoked"
    cert = hsm.cert(public, name)
    revoked_at = NOW - dt.timedelta(days=2)
    crl = (x509.CertificateRevocationListBuilder().issuer_name(hsm.ca.subject)
           .last_update(NOW - dt.timedelta(hours=1)).next_update(NOW + dt.timedelta(days=7))
           .add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(cert.serial_number)
                                    .revocation_date(revoked_at).build())
           .sign(hsm.ca_key, hashes.SHA256()))
    path = tmp_path / "ca.crl"
    path.write_bytes(crl.public_bytes(serialization.Encoding.DER))
    monkeypatch.setitem(app.config, "SIGNING_CRL_FILES", str(path))
    return cert, f"đã bị thu hồi ngày {vn_date(revoked_at)}"


@pytest.mark.parametrize("case", CASES)
def test_a_bad_certificate_on_the_hsm_signs_nothing(db, w, configured, draft_pdf, app, monkeypatch, tmp_path, case):
    hsm = configured
    cert, words = bad(case, hsm, hsm.leader_public, "Lê Văn Giám", app, monkeypatch, tmp_path)
    register_keys(w, hsm, leader_cert=cert)
    draft = new_draft(w, draft_pdf)
    to_signing(w, draft)
    before = state(w, draft)
    with pytest.raises(ValidationFailed) as caught:
        services.sign_with_key(w.p["leader"], draft, PASSWORD, CLIENT, pin=softhsm.PIN)
    message = caught.value.errors["password"]
    assert message.startswith("Chứng thư số của Lê Văn Giám"), message
    assert words in message
    assert message.endswith("không ký được.")
    assert state(w, draft) == before
    assert (draft.status, draft.signed_sha256) == (S.SIGNING, None)


@pytest.mark.parametrize("case", CASES)
def test_a_bad_seal_certificate_on_the_hsm_takes_no_number(db, w, configured, draft_pdf, app, monkeypatch,
                                                           tmp_path, case):
    hsm = configured
    register_keys(w, hsm)
    draft = new_draft(w, draft_pdf)
    to_signing(w, draft)
    assert services.sign_with_key(w.p["leader"], draft, PASSWORD, CLIENT, pin=softhsm.PIN)
    cert, words = bad(case, hsm, hsm.seal_public, w.org.name, app, monkeypatch, tmp_path)
    register_keys(w, hsm, seal_cert=cert)  # the newest registration is the one used
    before = state(w, draft)
    with pytest.raises(ValidationFailed) as caught:
        services.issue(w.p["clerk"], draft, None)
    message = caught.value.errors["seal"]
    assert message.startswith(f"Chứng thư số của {w.org.name}"), message
    assert words in message
    assert state(w, draft) == before
    assert before[5] is None  # the book's counter was never touched


def test_wrong_pin_and_a_certificate_of_another_key(db, w, configured, draft_pdf, monkeypatch, app):
    hsm = configured
    register_keys(w, hsm)
    draft = new_draft(w, draft_pdf)
    to_signing(w, draft)
    before = state(w, draft)
    with pytest.raises(ValidationFailed) as caught:
        services.sign_with_key(w.p["leader"], draft, PASSWORD, CLIENT, pin="0000")
    assert caught.value.errors["password"] == f"Mã PIN của thiết bị ký «{PEOPLE_TOKEN}» không đúng."
    assert state(w, draft) == before
    # a seal registered with another key's certificate: the produced PDF does not validate, nothing issued
    assert services.sign_with_key(w.p["leader"], draft, PASSWORD, CLIENT, pin=softhsm.PIN)
    register_keys(w, hsm, seal_cert=hsm.cert(hsm.other_public, w.org.name))
    db.commit()  # the requests before: signed, the wrong certificate registered
    before = state(w, draft)
    with pytest.raises(ValidationFailed) as caught:
        services.issue(w.p["clerk"], draft, None)
    assert "không kiểm tra được là hợp lệ" in caught.value.errors["seal"]
    db.rollback()  # what the request does on an error: the number taken goes back
    draft = db.get(Draft, draft.id)
    assert state(w, draft) == before
    assert before[5] is None
    # the seal token's PIN missing from configuration: a message for IT
    monkeypatch.setitem(app.config, "PKCS11_PIN_FILE", "")
    register_keys(w, hsm)
    with pytest.raises(ValidationFailed) as caught:
        services.issue(w.p["clerk"], draft, None)
    assert "Chưa cấu hình mã PIN cho HSM/thiết bị ký" in caught.value.errors["seal"]
    assert state(w, draft) == before


def test_development_keys_only_with_the_development_pki_switched_on(db, w, draft_pdf, app, monkeypatch, tmp_path,
                                                                    client):
    monkeypatch.setitem(app.config, "SIGNING_DEV_PKI", True)
    monkeypatch.setitem(app.config, "PKI_DIR", str(tmp_path / "pki"))
    monkeypatch.setitem(app.config, "PKI_PASSPHRASE", "mat-khau-pki-kiem-thu")
    signatures.init_demo_pki()
    assert "Khóa ký thử nghiệm — văn bản không có giá trị pháp lý" in client.get("/auth/login").get_data(as_text=True)
    draft = new_draft(w, draft_pdf)
    to_signing(w, draft)
    monkeypatch.setitem(app.config, "SIGNING_DEV_PKI", False)  # a province's configuration, keys still on disk
    assert "Khóa ký thử nghiệm" not in client.get("/auth/login").get_data(as_text=True)
    before = state(w, draft)
    with pytest.raises(ValidationFailed) as caught:
        services.sign_with_key(w.p["leader"], draft, PASSWORD, CLIENT)
    assert caught.value.errors["password"] == certificates.DEV_REFUSED
    assert state(w, draft) == before
    monkeypatch.setitem(app.config, "SIGNING_DEV_PKI", True)
    assert services.sign_with_key(w.p["leader"], draft, PASSWORD, CLIENT)
    monkeypatch.setitem(app.config, "SIGNING_DEV_PKI", False)
    before = state(w, draft)
    with pytest.raises(ValidationFailed) as caught:
        services.issue(w.p["clerk"], draft, None)
    assert caught.value.errors["seal"] == certificates.DEV_REFUSED
    assert state(w, draft) == before


def test_it_registers_a_certificate_only_for_the_token_key(db, w, configured, factory):
    hsm = configured
    admin = factory.person(Role.SYSTEM_ADMIN, organisation=w.org, full_name="Quản Trị Tỉnh")
    admin.current_position = admin.positions[0]
    pem = hsm.cert(hsm.seal_public, w.org.name).public_bytes(serialization.Encoding.PEM)
    with pytest.raises(ValidationFailed) as caught:  # the certificate of another key
        certificates.register_by(admin, hsm.cert(hsm.other_public, w.org.name).public_bytes(serialization.Encoding.PEM),
                                 organisation_id=w.org.id, backend="pkcs11", token_label=SEAL_TOKEN,
                                 key_label="con-dau-snvt")
    assert "không khớp với khóa «con-dau-snvt»" in caught.value.errors["certificate"]
    with pytest.raises(ValidationFailed) as caught:
        certificates.register_by(admin, pem, organisation_id=w.org.id, backend="pkcs11", token_label="khong-co",
                                 key_label="con-dau-snvt")
    assert caught.value.errors["token_label"] == "Không tìm thấy thiết bị ký (token) có nhãn «khong-co»."
    with pytest.raises(ValidationFailed) as caught:
        certificates.register_by(admin, b"not a certificate", organisation_id=w.org.id, backend="external")
    assert "không phải chứng thư số" in caught.value.errors["certificate"]
    with pytest.raises(NotAllowed):
        certificates.register_by(w.p["clerk"], pem, organisation_id=w.org.id, backend="external")
    row = certificates.register_by(admin, pem, organisation_id=w.org.id, backend="pkcs11", token_label=SEAL_TOKEN,
                                   key_label="con-dau-snvt")
    assert (row.backend, row.token_label, row.key_label, row.organisation_id) == (
        "pkcs11", SEAL_TOKEN, "con-dau-snvt", w.org.id)
    assert certificates.active(organisation_id=w.org.id) is row


def test_the_certificates_page_and_command(db, w, configured, factory, login, client, app, tmp_path):
    hsm = configured
    admin = factory.person(Role.SYSTEM_ADMIN, organisation=w.org, full_name="Quản Trị Tỉnh")
    db.commit()
    login(w.p["clerk"])
    assert client.get("/quan-tri/chung-thu-so").status_code == 403
    client.post("/auth/logout")
    login(admin)
    page = client.get("/quan-tri/chung-thu-so")
    assert page.status_code == 200
    assert "Chưa có chứng thư số nào được đăng ký." in page.get_data(as_text=True)
    cert = hsm.cert(hsm.seal_public, w.org.name)
    pem = cert.public_bytes(serialization.Encoding.PEM)
    form = {"username": "", "organisation_id": str(w.org.id), "backend": "pkcs11",
            "token_label": SEAL_TOKEN, "key_label": "khong-co-khoa"}
    resp = client.post("/quan-tri/chung-thu-so", data={**form, "certificate": (BytesIO(pem), "con-dau.pem")},
                       content_type="multipart/form-data")
    assert resp.status_code == 422
    assert "không có khóa nhãn «khong-co-khoa»" in resp.get_data(as_text=True)
    resp = client.post("/quan-tri/chung-thu-so", data={**form, "key_label": "con-dau-snvt",
                                                        "certificate": (BytesIO(pem), "con-dau.pem")},
                       content_type="multipart/form-data")
    assert resp.status_code == 303
    body = client.get("/quan-tri/chung-thu-so").get_data(as_text=True)
    assert format(cert.serial_number, "X") in body
    assert f"thiết bị «{SEAL_TOKEN}», khóa «con-dau-snvt»" in body
    # the command line: a person's certificate on the people's token (public key checked without a PIN)
    path = tmp_path / "leader.pem"
    path.write_bytes(hsm.cert(hsm.leader_public, "Lê Văn Giám").public_bytes(serialization.Encoding.PEM))
    result = app.test_cli_runner().invoke(args=["portal", "pki", "register", str(path), "--user",
                                                w.p["leader"].username, "--token", PEOPLE_TOKEN, "--key",
                                                "le-van-giam"])
    assert result.exit_code == 0, result.output
    assert "Đã đăng ký chứng thư số" in result.output
    db.expire_all()
    row = certificates.active(user_id=w.p["leader"].id)
    assert (row.backend, row.token_label) == ("pkcs11", PEOPLE_TOKEN)
    result = app.test_cli_runner().invoke(args=["portal", "pki", "register", str(path), "--user",
                                                w.p["leader"].username, "--token", PEOPLE_TOKEN, "--key", "khac"])
    assert result.exit_code != 0
    assert "không có khóa nhãn «khac»" in result.output


def test_an_edxml_package_is_signed_by_the_seal_key_in_the_hsm(db, w, configured, app, monkeypatch):
    """Issue 17: outgoing packages carry an XML signature by the organisation's seal key, here through PKCS#11."""
    from portal.exchange import edxml, xml_signing

    hsm = configured
    register_keys(w, hsm)
    package = edxml.build_status(edxml.StatusPackage(
        from_=edxml.Organization(organ_id=w.org.organ_id, organ_name=w.org.name),
        response_for=edxml.ResponseFor("000.00.00.G22", "7816/VPCP-TTĐT", None,
                                       "000.00.00.G22,2026/12/01,7816/VPCP-TTĐT"),
        status_code=edxml.StatusCode.ACCEPTED, description="Đã tiếp nhận"))
    signed = xml_signing.sign_for(w.org, package)
    check = edxml.verify(signed)
    assert check.status == "valid", check
    seal = x509.load_der_x509_certificate(certificates.active(organisation_id=w.org.id).certificate_der)
    assert seal.subject.rfc4514_string() in check.signer
    # the seal token's PIN not configured: the package goes unsigned rather than failing
    monkeypatch.setitem(app.config, "PKCS11_PIN_FILE", "")
    assert xml_signing.sign_for(w.org, package) == package
