"""Receiving (issue 17 items 4 and 7): every real package of ../shared/data/realworld/edxml/ imported with
`portal exchange import FILE --to CODE` becomes an incoming document at 01 with its fields, files and warnings,
or is refused with a clear reason and leaves nothing behind; a package is processed once."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from portal.documents.models import Channel, IncomingDocument, IncomingStatus
from portal.exchange import receiving
from portal.exchange.models import Direction, ExchangePackage
from portal.incoming.models import FileRole, IncomingFile
from tests.edxml_fixtures import REALWORLD

pytestmark = pytest.mark.skipif(not REALWORLD.is_dir(), reason="the real packages are not next to the repository")

CREATED = {
    "edoc-new_vpcp-to-3-provinces.edxml": ("7816", "VPCP-TTĐT", "000.00.00.G22"),
    "edoc-new_danang-communes.edxml": ("74fass22", None, "000.00.00.A80"),
    "edoc-new_tayninh-ddmmyyyy-date.edxml": ("2491", "STC-BCTC", "000.00.11.H53"),
}
NOT_FOUND = ["edoc-update-2_vpcp-to-nghean.edxml", "edoc-revoke-1_vpcp-to-nghean.edxml",
             "edoc-replace-3_vpcp-to-nghean.edxml"]


@pytest.fixture
def org(factory, db):
    org = factory.organisation(name="Ủy ban nhân dân tỉnh Thử Nhận", short_name="UBNDTN")
    db.commit()
    return org


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=["portal", "exchange", *args])


def counts(db) -> tuple[int, int, int]:
    return (db.execute(select(func.count()).select_from(IncomingDocument)).scalar_one(),
            db.execute(select(func.count()).select_from(ExchangePackage)).scalar_one(),
            db.execute(select(func.count()).select_from(IncomingFile)).scalar_one())


@pytest.mark.parametrize("name", sorted(CREATED))
def test_new_documents_are_imported_with_their_fields(app, db, org, name):
    number, notation, sender = CREATED[name]
    result = run(app, "import", str(REALWORLD / name), "--to", org.organ_id)
    assert result.exit_code == 0, result.output
    doc_id = int(result.output.strip().splitlines()[-1])
    db.expire_all()
    doc = db.get(IncomingDocument, doc_id)
    assert (doc.organisation_id, doc.status, doc.channel) == (org.id, IncomingStatus.ARRIVED, Channel.AXIS)
    assert doc.code_number == number
    if notation:
        assert doc.code_notation == notation
    assert doc.sender_organ_id == sender
    assert doc.document_id  # kept as sent (the Đà Nẵng one names another sender: a recorded warning)
    files = db.execute(select(IncomingFile).where(IncomingFile.document_id == doc.id)).scalars().all()
    assert files, "the attachments are kept"
    # every real attachment is a ZIP named .doc holding another package: unpacked, flagged, kept inert
    assert all(f.warning for f in files), [(f.filename, f.warning) for f in files]
    assert not any(f.role == FileRole.MAIN for f in files)
    package = db.execute(select(ExchangePackage).where(ExchangePackage.incoming_document_id == doc.id)).scalar_one()
    assert package.transport == "file"
    warnings = json.loads(package.warnings)
    assert any("Nhập bằng tay vào" in w for w in warnings)
    if "ddmmyyyy" in name:
        assert any("dd/MM/yyyy" in line for line in result.output.splitlines())
        assert doc.issued_date.isoformat() == "2020-10-30"
    # an import by hand has no way back: no status is queued
    assert db.execute(select(func.count()).select_from(ExchangePackage).where(
        ExchangePackage.direction == Direction.OUT)).scalar_one() == 0
    # the same package again: processed once
    again = run(app, "import", str(REALWORLD / name), "--to", org.organ_id)
    assert again.exit_code != 0
    assert "đã được nhận trước đó" in again.output


@pytest.mark.parametrize("name", NOT_FOUND)
def test_changes_to_a_document_never_received_are_refused(app, db, org, name):
    before = counts(db)
    result = run(app, "import", str(REALWORLD / name), "--to", org.organ_id)
    assert result.exit_code != 0
    assert "Không tìm thấy văn bản" in result.output
    assert "đã trả lời 16" not in result.output  # an imported file has no way back
    db.expire_all()
    assert counts(db) == before


def test_the_malformed_package_leaves_nothing(app, db, org):
    before = counts(db)
    result = run(app, "import", str(REALWORLD / "edoc-malformed_nested-from.edxml"), "--to", org.organ_id)
    assert result.exit_code != 0
    assert "Tệp không phải XML hợp lệ (dòng 74" in result.output
    db.expire_all()
    assert counts(db) == before


def test_status_packages_for_nothing_sent_are_refused_and_unknown_receivers(app, db, org):
    result = run(app, "import", str(REALWORLD / "status-03-accepted_nghean.edxml"), "--to", org.organ_id)
    assert result.exit_code != 0
    assert "Không có văn bản đi nào có mã 000.00.00.G22,2015/09/30,7816/VPCP-TTĐT" in result.output
    result = run(app, "import", str(REALWORLD / "status-13-recall-request_vpcp.edxml"), "--to", org.organ_id)
    assert result.exit_code != 0
    assert "Không tìm thấy văn bản 000.00.00.G22,2015/09/30,7816/VPCP-TTĐT để thu hồi" in result.output
    result = run(app, "import", str(REALWORLD / "edoc-new_vpcp-to-3-provinces.edxml"), "--to", "000.00.00.X99")
    assert result.exit_code != 0
    assert "Không có cơ quan ban hành nào có mã định danh 000.00.00.X99" in result.output


def test_a_package_addressed_by_its_own_to(db, org):
    """Without --to the package's To decides: an organisation of the portal with that code receives it, once."""
    org.organ_id = "000.00.00.H41"
    db.flush()
    data = (REALWORLD / "edoc-new_vpcp-to-3-provinces.edxml").read_bytes()
    first = receiving.receive(data, transport="axis", transport_id="T-1")
    assert first.outcome == "created"
    [doc] = first.documents
    assert doc.organisation_id == org.id
    assert receiving.receive(data, transport="axis", transport_id="T-1").outcome == "duplicate"
    assert receiving.receive(data, transport="axis", transport_id="T-2").outcome == "duplicate"  # same key
    # 01 goes back to the sender at once
    [status] = db.execute(select(ExchangePackage).where(ExchangePackage.direction == Direction.OUT)).scalars().all()
    assert (status.kind, status.status_code, status.receiver_organ_id) == ("status", "01", "000.00.00.G22")
