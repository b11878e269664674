"""Timestamps through the portal (issue 16.4): with PORTAL_TSA_URL the leader's signature and the seal at
issuance both carry an RFC 3161 timestamp from the loopback TSA, the stored report says so; an unreachable
TSA stops signing when a timestamp is required (nothing changes) and otherwise signs without one, recorded
in the audit log and visible on the report."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import select

from portal import storage
from portal.audit import AuditEntry
from portal.drafts import services
from portal.drafts.models import DraftStatus
from portal.errors import ValidationFailed
from portal.signatures import service as signatures
from portal.signing import verification
from tests.conftest import PASSWORD
from tests.signing_fixtures import fixture_draft_pdf  # noqa: F401  (fixture)
from tests.test_drafts_workflow import CLIENT, new_draft, to_signing
from tests.test_drafts_workflow import dev_signing as drafts_signing  # noqa: F401  (fixture: dev PKI on)
from tests.test_drafts_workflow import world as drafts_world  # noqa: F401  (fixture)
from tests.test_signing_checks import state
from tests.tsa import fixture_tsa  # noqa: F401  (fixture)


@pytest.fixture
def w(request):
    request.getfixturevalue("drafts_signing")
    return request.getfixturevalue("drafts_world")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_signature_and_seal_are_timestamped(db, w, app, monkeypatch, tsa, draft_pdf):
    monkeypatch.setitem(app.config, "TSA_URL", tsa.url)
    monkeypatch.setitem(app.config, "TSA_TRUST_ROOTS", str(tsa.root_path))
    signatures.init_demo_pki()
    draft = new_draft(w, draft_pdf)
    to_signing(w, draft)
    assert services.sign_with_key(w.p["leader"], draft, PASSWORD, CLIENT)
    out = services.issue(w.p["clerk"], draft, None).outgoing
    issued = storage.read(out.main_file_sha256)
    report = verification.verify(issued, signatures.trust_roots(), tsa_roots=signatures.tsa().roots)
    assert report.verdict == "Hợp lệ"
    assert len(report.signatures) == 2
    for sig in report.signatures:
        assert sig.timestamp_at is not None
        assert sig.timestamp_trusted
    verdict, stored = signatures.report_json(issued)
    assert verdict == "Hợp lệ"
    lines = signatures.report_lines(stored)
    stamp_lines = [value for sig in lines for label, value in sig["lines"] if label == "Dấu thời gian"]
    assert len(stamp_lines) == 2
    assert all(value and not value.startswith("Không") for value in stamp_lines), stamp_lines


def test_an_unreachable_tsa_required_signs_nothing(db, w, app, monkeypatch, draft_pdf):
    monkeypatch.setitem(app.config, "TSA_URL", f"http://127.0.0.1:{closed_port()}/tsa")
    monkeypatch.setitem(app.config, "TSA_REQUIRED", True)
    monkeypatch.setitem(app.config, "TSA_TIMEOUT_SECONDS", 2)
    signatures.init_demo_pki()
    draft = new_draft(w, draft_pdf)
    to_signing(w, draft)
    before = state(w, draft)
    with pytest.raises(ValidationFailed) as caught:
        services.sign_with_key(w.p["leader"], draft, PASSWORD, CLIENT)
    message = caught.value.errors["password"]
    assert "Không kết nối được máy chủ cấp dấu thời gian (TSA)" in message
    assert "Chưa ký" in message
    assert state(w, draft) == before


def test_an_unreachable_tsa_allowed_signs_without_and_records_it(db, w, app, monkeypatch, draft_pdf):
    monkeypatch.setitem(app.config, "TSA_URL", f"http://127.0.0.1:{closed_port()}/tsa")
    monkeypatch.setitem(app.config, "TSA_REQUIRED", False)
    monkeypatch.setitem(app.config, "TSA_TIMEOUT_SECONDS", 2)
    signatures.init_demo_pki()
    draft = new_draft(w, draft_pdf)
    to_signing(w, draft)
    assert services.sign_with_key(w.p["leader"], draft, PASSWORD, CLIENT)
    assert draft.status == DraftStatus.SIGNED
    row = db.execute(select(AuditEntry).where(AuditEntry.action == "signing.timestamp_missing")).scalars().one()
    assert "không có dấu thời gian" in row.details_dict["warning"]
    report = verification.verify(storage.read(draft.signed_sha256), signatures.trust_roots())
    assert report.signatures[0].timestamp_at is None
