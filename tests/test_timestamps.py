"""RFC 3161 timestamps on signatures and seals (issue 16.4), against a real TSA on loopback (tests/tsa.py:
``openssl ts -reply`` behind an HTTP handler, with its own CA and a timestamping certificate).

A timestamped signature carries the token (pyHanko validates it), the report says so ("Dấu thời gian"), and it
still validates once its certificate has expired, when an un-timestamped one by the same certificate does not.
An unreachable TSA stops signing with a Vietnamese message when a timestamp is required, and otherwise the PDF
is signed without one and the caller is told.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import socket
import threading
from io import BytesIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from portal import config
from portal.signing import pdfsign, pki, timestamps, verification
from tests.signing_fixtures import (  # noqa: F401  (fixture_*: fixtures)
    CHAIRMAN,
    PASSPHRASE,
    SEAL,
    fixture_dev_pki,
    fixture_draft_pdf,
)
from tests.tsa import fixture_tsa  # noqa: F401  (fixture)

NOW = dt.datetime.now(dt.UTC)
CONNECT = "Không kết nối được máy chủ cấp dấu thời gian (TSA)"


@pytest.fixture
def frozen(draft_pdf) -> bytes:
    return pdfsign.freeze(draft_pdf).pdf


def personal(pdf: bytes, signer, **kw) -> bytes:
    return pdfsign.sign_personal(pdf, signer, box=pdfsign.default_signer_box(pdf), image_png=None,
                                 name=CHAIRMAN.full_name, signed_at_text="07/12/2026 09:00", **kw)


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def embedded(pdf: bytes, index: int = -1):
    return list(PdfFileReader(BytesIO(pdf), strict=False).embedded_regular_signatures)[index]


def context(*roots, moment=None) -> ValidationContext:
    return ValidationContext(trust_roots=[pki.to_asn1(r) for r in roots], allow_fetching=False,
                             revocation_mode="soft-fail", moment=moment)


# --- a real TSA -------------------------------------------------------------------------------------------

def test_the_signature_carries_a_timestamp_pyhanko_validates(dev_pki, frozen, tsa):
    signed = personal(frozen, dev_pki.signer(CHAIRMAN.key_name), timestamper=timestamps.timestamper(tsa.url))

    status = validate_pdf_signature(embedded(signed), context(dev_pki.root), context(tsa.root))
    token = status.timestamp_validity
    assert token is not None
    assert token.intact
    assert token.valid
    assert token.trusted
    assert abs(token.timestamp - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=2)
    assert token.signing_cert.subject.native["common_name"] == "Máy chủ cấp dấu thời gian thử nghiệm"
    assert status.bottom_line


def test_the_report_shows_the_timestamp_and_its_time(dev_pki, frozen, tsa):
    signed = personal(frozen, dev_pki.signer(CHAIRMAN.key_name), timestamper=timestamps.timestamper(tsa.url))
    report = verification.verify(signed, [dev_pki.root], tsa_roots=[tsa.root])
    (sig,) = report.signatures
    lines = dict(sig.lines())
    assert lines["Dấu thời gian"].startswith("Có, lúc ")
    assert "Máy chủ cấp dấu thời gian thử nghiệm" in lines["Dấu thời gian"]
    assert "(hợp lệ, tin cậy)" in lines["Dấu thời gian"]
    assert sig.timestamp_trusted
    assert sig.timestamp_at is not None
    assert sig.signed_at == sig.timestamp_at  # the signing time is the TSA's, not the signer's own claim
    assert "(do người ký khai)" not in lines["Thời gian ký"]
    assert lines["Dấu thời gian"].split("lúc ")[1].startswith(lines["Thời gian ký"])
    assert report.verdict == verification.VALID
    assert sig.to_dict()["timestamp_at"] == sig.timestamp_at.isoformat()

    untrusted = verification.verify(signed, [dev_pki.root]).signatures[0]  # the TSA's root not configured
    assert "không thuộc danh sách tin cậy" in untrusted.dau_thoi_gian
    assert not untrusted.timestamp_trusted
    assert untrusted.ket_luan == verification.INDETERMINATE
    assert timestamps.UNTRUSTED in untrusted.problems

    plain = verification.verify(personal(frozen, dev_pki.signer(CHAIRMAN.key_name)), [dev_pki.root],
                                tsa_roots=[tsa.root]).signatures[0]
    assert dict(plain.lines())["Dấu thời gian"] == "Không có"
    assert plain.timestamp_at is None
    assert plain.ket_luan == verification.VALID


def test_the_seal_at_issuance_is_timestamped(dev_pki, frozen, tsa):
    signed = personal(frozen, dev_pki.signer(CHAIRMAN.key_name))
    number_box, date_box = pdfsign.default_issue_boxes(signed)
    issued = pdfsign.issue(signed, dev_pki.signer(SEAL.key_name), number_text="125/QĐ-UBND",
                           date_text="Hà Nam, ngày 07 tháng 12 năm 2026", number_box=number_box, date_box=date_box,
                           seal_png=None, signer_box=pdfsign.default_signer_box(frozen), org_name=SEAL.name,
                           timestamper=timestamps.timestamper(tsa.url))
    report = verification.verify(issued, [dev_pki.root], tsa_roots=[tsa.root])
    first, seal = report.signatures
    assert first.dau_thoi_gian == "Không có"
    assert seal.timestamp_trusted
    assert seal.dau_thoi_gian.startswith("Có, lúc ")
    assert report.verdict == verification.VALID


def test_sign_seal_takes_a_timestamper_too(dev_pki, frozen, tsa):
    signed = personal(frozen, dev_pki.signer(CHAIRMAN.key_name))
    number_box, date_box = pdfsign.default_issue_boxes(signed)
    stamped = pdfsign.add_number_and_date(signed, number_text="126/QĐ-UBND", date_text="Hà Nam, ngày 07 tháng 12",
                                          number_box=number_box, date_box=date_box)
    sealed = pdfsign.sign_seal(stamped, dev_pki.signer(SEAL.key_name), seal_png=None,
                               signer_box=pdfsign.default_signer_box(frozen), org_name=SEAL.name,
                               timestamper=timestamps.timestamper(tsa.url))
    assert verification.verify(sealed, [dev_pki.root], tsa_roots=[tsa.root]).signatures[1].timestamp_trusted


# --- after the certificate expired ------------------------------------------------------------------------

@pytest.fixture
def short_lived(dev_pki, tmp_path: Path):
    """A pyHanko signer whose certificate, from the dev root, expires in one day."""
    root_key = pki.load_key(pki.key_path(dev_pki.directory, pki.ROOT_KEY), PASSPHRASE)
    subject = dev_pki.cert(CHAIRMAN.key_name).subject
    key, cert = pki.issue_cert(root_key, dev_pki.root, subject, not_before=NOW - dt.timedelta(hours=1), days=1)
    pki.save_pair(tmp_path, "ngan-han", key, cert, PASSPHRASE)
    (tmp_path / "root.cert.pem").write_bytes(dev_pki.root.public_bytes(serialization.Encoding.PEM))
    return pki.load_signer(tmp_path, "ngan-han", PASSPHRASE), cert


def test_a_timestamped_signature_validates_after_its_certificate_expired(dev_pki, frozen, tsa, short_lived):
    signer, cert = short_lived
    stamped = personal(frozen, signer, timestamper=timestamps.timestamper(tsa.url))
    plain = personal(frozen, signer)
    later = cert.not_valid_after_utc + dt.timedelta(days=30)

    for pdf in (stamped, plain):  # today both are valid
        assert verification.verify(pdf, [dev_pki.root], tsa_roots=[tsa.root]).verdict == verification.VALID

    after = verification.verify(stamped, [dev_pki.root], at=later, tsa_roots=[tsa.root]).signatures[0]
    assert after.ket_luan == verification.VALID, after.problems
    assert after.trusted
    assert after.timestamp_trusted
    assert after.valid_at_signing_time
    assert after.signed_at < cert.not_valid_after_utc < later

    expired = verification.verify(plain, [dev_pki.root], at=later, tsa_roots=[tsa.root]).signatures[0]
    assert expired.ket_luan != verification.VALID
    assert not expired.trusted
    assert expired.dau_thoi_gian == "Không có"
    assert timestamps.EXPIRED in expired.problems

    # an untrusted timestamp earns nothing: without the TSA's root the certificate is checked at ``later``
    unknown_tsa = verification.verify(stamped, [dev_pki.root], at=later).signatures[0]
    assert unknown_tsa.ket_luan != verification.VALID
    assert not unknown_tsa.trusted


# --- when the TSA fails ------------------------------------------------------------------------------------

def test_an_unreachable_tsa_stops_signing_when_a_timestamp_is_required(dev_pki, frozen):
    policy = timestamps.TsaPolicy(timestamps.timestamper(f"http://127.0.0.1:{closed_port()}/tsa", timeout=3),
                                  required=True)
    produced: list[bytes] = []

    def sign(pdf, signer, **kw):
        produced.append(out := personal(pdf, signer, **kw))
        return out

    with pytest.raises(timestamps.TsaUnavailable) as info:
        policy.sign(sign, frozen, dev_pki.signer(CHAIRMAN.key_name))
    assert str(info.value).startswith(CONNECT)
    assert "máy chủ từ chối kết nối" in str(info.value)
    assert str(info.value).endswith(timestamps.STOPPED)
    assert info.value.code == "unreachable"
    assert isinstance(info.value, pdfsign.SigningError)  # callers' existing SigningError handling applies
    assert produced == []


def test_an_unreachable_tsa_signs_without_a_timestamp_when_allowed_and_says_so(dev_pki, frozen, tsa):
    policy = timestamps.TsaPolicy(timestamps.timestamper(f"http://127.0.0.1:{closed_port()}/tsa", timeout=3),
                                  required=False)
    result = policy.sign(pdfsign.sign_personal, frozen, dev_pki.signer(CHAIRMAN.key_name),
                         box=pdfsign.default_signer_box(frozen), image_png=None, name=CHAIRMAN.full_name,
                         signed_at_text="07/12/2026 09:00")
    assert not result.timestamped
    assert result.code == "unreachable"
    assert result.warning.startswith("Đã ký nhưng chữ ký không có dấu thời gian. " + CONNECT)
    report = verification.verify(result.pdf, [dev_pki.root], tsa_roots=[tsa.root])
    assert report.verdict == verification.VALID
    assert report.signatures[0].dau_thoi_gian == "Không có"


def test_a_working_tsa_through_the_policy(dev_pki, frozen, tsa):
    result = timestamps.TsaPolicy(timestamps.timestamper(tsa.url), required=True).sign(
        personal, frozen, dev_pki.signer(CHAIRMAN.key_name))
    assert result.timestamped
    assert result.warning is None
    assert result.code is None
    assert verification.verify(result.pdf, [dev_pki.root], tsa_roots=[tsa.root]).signatures[0].timestamp_trusted
    plain = timestamps.TsaPolicy().sign(personal, frozen, dev_pki.signer(CHAIRMAN.key_name))  # no TSA configured
    assert not plain.timestamped
    assert plain.warning is None
    assert plain.code is None
    assert verification.verify(plain.pdf, [dev_pki.root]).verdict == verification.VALID


@pytest.mark.parametrize(("path", "detail"), [("hong", "application/timestamp-reply"), ("loi", "mã HTTP 500")])
def test_a_bad_answer_is_named(dev_pki, frozen, tsa, path, detail):
    with pytest.raises(timestamps.TsaUnavailable) as info:
        personal(frozen, dev_pki.signer(CHAIRMAN.key_name), timestamper=timestamps.timestamper(tsa.path_url(path)))
    assert info.value.code == "bad_answer"
    assert "trả lời không hợp lệ" in str(info.value)
    assert detail in str(info.value)


def test_a_silent_tsa_times_out(dev_pki, frozen):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/tsa"
        with pytest.raises(timestamps.TsaUnavailable) as info:
            personal(frozen, dev_pki.signer(CHAIRMAN.key_name), timestamper=timestamps.timestamper(url, timeout=1))
    assert info.value.code == "timeout"
    assert str(info.value) == f"{CONNECT} {url}: quá 1 giây không có trả lời."


def test_concurrent_requests_each_get_their_own_token(tsa):
    stamper = timestamps.timestamper(tsa.url)
    digests = [hashlib.sha256(str(i).encode()).digest() for i in range(6)]
    tokens: dict[int, object] = {}

    def ask(i: int) -> None:
        tokens[i] = asyncio.run(stamper.async_timestamp(digests[i], "sha256"))

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(digests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    infos = [tokens[i]["content"]["encap_content_info"]["content"].parsed for i in range(len(digests))]
    assert [info["message_imprint"]["hashed_message"].native for info in infos] == digests
    assert len({info["serial_number"].native for info in infos}) == len(digests)


# --- settings ----------------------------------------------------------------------------------------------

def test_from_config(tsa):
    assert timestamps.from_config({}) == timestamps.TsaPolicy(None, False, ())
    policy = timestamps.from_config({"TSA_URL": tsa.url, "TSA_REQUIRED": "true", "TSA_TIMEOUT_SECONDS": 4,
                                     "TSA_TRUST_ROOTS": str(tsa.root_path)})
    stamper, required = policy
    assert isinstance(stamper, HTTPTimeStamper)
    assert stamper.url == tsa.url
    assert stamper.timeout == 4
    assert required is True
    assert [r.dump() for r in policy.roots] == [pki.to_asn1(tsa.root).dump()]
    roots_only = timestamps.from_config({"TSA_TRUST_ROOTS": str(tsa.root_path)})
    assert roots_only.timestamper is None
    assert len(roots_only.roots) == 1


@pytest.mark.parametrize(("settings", "key"), [
    ({"TSA_URL": "ftp://tsa.example"}, "PORTAL_TSA_URL"),
    ({"TSA_URL": "http://tsa.example", "TSA_TIMEOUT_SECONDS": 0}, "PORTAL_TSA_TIMEOUT_SECONDS"),
    ({"TSA_URL": "http://tsa.example", "TSA_TIMEOUT_SECONDS": "nhanh"}, "PORTAL_TSA_TIMEOUT_SECONDS"),
    ({"TSA_URL": "http://tsa.example", "TSA_REQUIRED": "có lẽ"}, "PORTAL_TSA_REQUIRED"),
    ({"TSA_REQUIRED": True}, "PORTAL_TSA_URL"),
    ({"TSA_TRUST_ROOTS": "/khong/co/tep.pem"}, "PORTAL_TSA_TRUST_ROOTS"),
])
def test_settings_that_cannot_work_stop_start_up(monkeypatch, settings, key):
    with pytest.raises(ValueError, match=key):
        timestamps.from_config(settings)
    for name in [k for k in os.environ if k.startswith("PORTAL_")]:
        monkeypatch.delenv(name)
    with pytest.raises(config.ConfigError, match=key):
        config.load({"ENV": "development", **settings})


def test_settings_come_from_the_environment(monkeypatch, tsa):
    monkeypatch.setenv("PORTAL_TSA_URL", tsa.url)
    monkeypatch.setenv("PORTAL_TSA_REQUIRED", "true")
    monkeypatch.setenv("PORTAL_TSA_TIMEOUT_SECONDS", "3")
    monkeypatch.setenv("PORTAL_TSA_TRUST_ROOTS", str(tsa.root_path))
    settings = config.load({"ENV": "development"})
    assert settings["TSA_REQUIRED"] is True
    assert settings["TSA_TIMEOUT_SECONDS"] == 3
    policy = timestamps.from_config(settings)
    assert policy.timestamper.url == tsa.url
    assert policy.required
    assert len(policy.roots) == 1
    assert config.DEFAULTS["TSA_URL"] == ""
    assert config.DEFAULTS["TSA_REQUIRED"] is False


def test_a_plain_pyhanko_signer_works_with_the_policy(dev_pki, frozen, tsa):
    signer = signers.SimpleSigner.load(str(pki.key_path(dev_pki.directory, CHAIRMAN.key_name)),
                                       str(pki.cert_path(dev_pki.directory, CHAIRMAN.key_name)),
                                       ca_chain_files=[str(pki.cert_path(dev_pki.directory, pki.ROOT_KEY))],
                                       key_passphrase=PASSPHRASE)
    result = timestamps.TsaPolicy(timestamps.timestamper(tsa.url)).sign(personal, frozen, signer)
    assert result.timestamped
