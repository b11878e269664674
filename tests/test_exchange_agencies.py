"""The national agency directory (issue 17 item 5): the real Tây Ninh list of QĐ 20 codes with its dirt
(``../shared/data/realworld/README.md`` §5), lists from the axis, hostile files, the type-ahead and its command."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.audit import AuditEntry
from portal.auth.models import Role
from portal.errors import NotAllowed
from portal.exchange import agencies
from portal.exchange.agencies import AgencyFileRefused, AgencyRow, import_agencies, import_csv, search
from portal.exchange.models import AgencySource, ExternalAgency

TAYNINH = Path(__file__).resolve().parent / "data" / "realworld" / "org-directory" / "tayninh-organ-ids.csv"
HX = {"HX-Request": "true"}


@pytest.fixture(scope="module")
def tayninh() -> bytes:
    return TAYNINH.read_bytes()


def _agencies(db) -> list[ExternalAgency]:  # type: ignore[no-untyped-def]
    return list(db.scalars(select(ExternalAgency).order_by(ExternalAgency.organ_id)))


def _count(db) -> int:  # type: ignore[no-untyped-def]
    return db.scalar(select(func.count()).select_from(ExternalAgency))


def _imports(db) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    return list(db.scalars(select(AuditEntry).where(AuditEntry.action == "exchange.agencies_imported")
                           .order_by(AuditEntry.seq)))  # [-1] is the latest import


# --- the real list ------------------------------------------------------------------------------------------------

def test_the_tay_ninh_list_imports_with_its_dirt_reported(db, tayninh):
    report = import_csv(tayninh, file_name=TAYNINH.name)

    assert (report.rows, report.added, report.updated, report.unchanged) == (455, 448, 0, 0)
    assert report.duplicate_count == 7
    assert len(report.duplicates) == 7
    assert report.malformed_count == 1
    assert "000.1137.H53" in report.malformed[0]
    assert report.skipped_count == 0
    rows = _agencies(db)
    assert len(rows) == _count(db) == 448
    assert not any("\u200b" in a.name or "\xa0" in a.name or "  " in a.name for a in rows)
    assert [a.organ_id for a in rows if not a.code_ok] == ["000.1137.H53"]
    by_code = {a.organ_id: a for a in rows}
    assert by_code["000.12.31.H53"].name == "Thanh tra huyện Bến Cầu"
    assert by_code["000.1137.H53"].name == "Phòng Y tế huyện Tân Châu"
    # an id listed twice keeps its first row, and the report names both
    assert by_code["000.00.00.G15"].name == "Bộ Tư Pháp"
    assert any("000.00.00.G15" in line and "Bộ Tư Pháp - CQCP" in line for line in report.duplicates)
    assert {a.in_charge for a in rows} <= {"Tây Ninh", "TN", "Việt Nam", "Việt nam", "VN"}  # as given
    assert {a.source for a in rows} == {AgencySource.CSV}
    assert all(a.active for a in rows)
    [entry] = _imports(db)
    assert entry.actor_id is None
    assert '"added": 448' in entry.details
    assert '"duplicates": 7' in entry.details
    assert TAYNINH.name in entry.details


def test_importing_the_same_list_again_changes_nothing(db, tayninh):
    import_csv(tayninh)
    db.commit()
    before = [(a.id, a.organ_id, a.name, a.in_charge, a.code_ok, a.search_folded, a.updated_at) for a in _agencies(db)]

    again = import_csv(tayninh)

    assert (again.added, again.updated, again.unchanged, again.duplicate_count) == (0, 0, 448, 7)
    after = [(a.id, a.organ_id, a.name, a.in_charge, a.code_ok, a.search_folded, a.updated_at) for a in _agencies(db)]
    assert after == before
    assert len(_imports(db)) == 2  # every import is audited, even one that changed nothing


def test_a_changed_name_is_updated_in_place(db, tayninh):
    import_csv(tayninh)
    first = db.scalar(select(ExternalAgency).where(ExternalAgency.organ_id == "000.12.31.H53"))
    report = import_csv("organ_id,organ_name,in_charge\n000.12.31.h53,Thanh tra huyện  Bến Cầu (mới),TN\n".encode())
    assert (report.added, report.updated) == (0, 1)
    db.refresh(first)
    assert (first.name, first.in_charge) == ("Thanh tra huyện Bến Cầu (mới)", "TN")
    assert first.updated_at >= first.imported_at


# --- the type-ahead -----------------------------------------------------------------------------------------------

def test_search_finds_by_words_without_diacritics_and_by_code_prefix(db, tayninh):
    import_csv(tayninh)
    assert "Thanh tra huyện Bến Cầu" in [a.name for a in search("ben cau", limit=50)]
    assert [a.name for a in search("thanh tra  BẾN cầu")] == ["Thanh tra huyện Bến Cầu"]
    by_code = search("000.12.31")
    assert by_code[0].organ_id == "000.12.31.H53"
    assert by_code[0].name == "Thanh tra huyện Bến Cầu"
    assert [a.organ_id for a in search("000.12.31.h53")] == ["000.12.31.H53"]
    assert all(a.organ_id.startswith("000.00.") for a in search("000.00.", limit=50)[:10])
    assert len(search("ubnd", limit=500)) == 50  # capped
    assert search("") == []
    assert search("   \u200b ") == []
    assert search("%") == []
    assert search("_") == []


def test_search_offers_active_agencies_only(db, tayninh):
    import_csv(tayninh)
    [agency] = search("000.12.31.H53")
    agency.active = False
    db.flush()
    assert search("000.12.31.H53") == []
    import_csv(tayninh)  # an import does not bring back an agency taken out of the list
    assert search("000.12.31.H53") == []


# --- lists from the axis ------------------------------------------------------------------------------------------

def test_the_axis_list_keeps_gateway_codes_flagged(db):
    report = import_agencies([("000.00.00.H41", "UBND tỉnh Nghệ An\u200b", "Nghệ An"),
                              AgencyRow("vxp.saas.03", "Hệ thống  SaaS 03", ""),
                              ("28.22.H17", "Sở Nội vụ", "Hòa Bình"),
                              ("０００.００.００.Ｇ２２", "Văn phòng Chính phủ", "VN"),
                              ("", "Không mã", ""),
                              ("000.00.00.H41", "Trùng", "")])
    assert (report.rows, report.added, report.duplicate_count, report.malformed_count, report.skipped_count) == \
        (6, 4, 1, 2, 1)
    rows = {a.organ_id: a for a in _agencies(db)}
    assert set(rows) == {"000.00.00.H41", "vxp.saas.03", "28.22.H17", "000.00.00.G22"}
    assert {code for code, a in rows.items() if not a.code_ok} == {"vxp.saas.03", "28.22.H17"}
    assert rows["000.00.00.H41"].name == "UBND tỉnh Nghệ An"
    assert rows["vxp.saas.03"].name == "Hệ thống SaaS 03"
    assert rows["vxp.saas.03"].source == AgencySource.AXIS
    assert any("cổng kết nối" in line for line in report.malformed)
    assert any("ba nhóm" in line for line in report.malformed)


def test_only_system_administrators_import(db, factory):
    clerk, admin = factory.person(Role.CLERK), factory.person(Role.SYSTEM_ADMIN)
    for person in (clerk, admin):
        person.current_position = person.positions[0]  # what signing in sets
    with pytest.raises(NotAllowed):
        import_agencies([("000.00.00.H41", "UBND tỉnh Nghệ An", "")], actor=clerk)
    assert import_agencies([("000.00.00.H41", "UBND tỉnh Nghệ An", "")], actor=admin).added == 1
    assert _imports(db)[-1].actor_id == admin.id


# --- other shapes and hostile files --------------------------------------------------------------------------------

def test_vietnamese_headers_semicolons_bom_and_utf16_are_read(db):
    text = "\ufeffMã định danh;Tên cơ quan;Cơ quan chủ quản\r\n000.00.00.H53;UBND tỉnh Tây Ninh;Tây Ninh\r\n"
    assert import_csv(text.encode("utf-8")).added == 1
    text = "Tên cơ quan\tMã định danh\nSở Tư pháp\t000.00.05.H53\n\n"
    assert import_csv(text.encode("utf-16")).added == 1
    assert import_csv(b"organ_id,organ_name\n000.00.06.H53,\"S\xe1\xbb\x9f Y, t\xe1\xba\xbf\"\n").added == 1
    assert db.scalar(select(ExternalAgency.name).where(ExternalAgency.organ_id == "000.00.06.H53")) == "Sở Y, tế"
    assert _count(db) == 3


HOSTILE = {
    "binary junk": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40, "không phải văn bản UTF-8"),
    "random bytes": (os.urandom(4096) + b"\xff\xfe\xfd", "không phải văn bản UTF-8"),
    "nul bytes": (b"organ_id,organ_name\n000.00.00.H53,UBND\x00\n", "byte rỗng"),
    "empty": (b"  \n\n", "Tệp trống"),
    "wrong columns": (b"ho_ten,ngay_sinh\nNguyen Van A,01/01/1990\n", "Không nhận ra tệp danh sách cơ quan"),
    "no header": (b"000.00.00.H53,UBND tinh Tay Ninh,Tay Ninh\n", "Không nhận ra tệp danh sách cơ quan"),
    "header only": (b"organ_id,organ_name,in_charge\n", "không có cơ quan nào"),
    "huge field": (b"organ_id,organ_name\n000.00.00.H53,\"" + b"a" * 200_000 + b"\"\n", "Tệp CSV hỏng"),
    "xlsx": (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00\xa0" * 500, "không phải văn bản UTF-8"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_file_that_is_not_a_list_is_refused_whole(db, name):
    data, message = HOSTILE[name]
    with pytest.raises(AgencyFileRefused) as refused:
        import_csv(data)
    assert message in str(refused.value)
    assert refused.value.errors == {"file": str(refused.value)}
    assert _count(db) == 0
    assert _imports(db) == []


def test_size_and_row_caps(db, monkeypatch):
    with pytest.raises(AgencyFileRefused, match="quá lớn"):
        import_csv(b"organ_id,organ_name\n" + b"0" * agencies.MAX_BYTES)
    monkeypatch.setattr(agencies, "MAX_ROWS", 10)
    rows = "".join(f"000.{n:02d}.00.H53,Cơ quan {n}\n" for n in range(11))
    with pytest.raises(AgencyFileRefused, match="hơn 10 dòng"):
        import_csv(("organ_id,organ_name\n" + rows).encode())
    with pytest.raises(AgencyFileRefused, match="hơn 10 cơ quan"):
        import_agencies([(f"000.{n:02d}.00.H53", f"Cơ quan {n}", "") for n in range(11)])
    assert _count(db) == 0


def test_rows_that_cannot_be_stored_are_skipped_and_reported(db):
    data = ("organ_id,organ_name,in_charge\n"
            f"{'1' * 36},Mã quá dài,\n"
            f"000.00.01.H53,{'Dài ' * 100},\n"
            ",Không mã,\n"
            "000.00.02.H53,,\n"
            "000.00.03.H53,Sở Xây dựng\n"
            "organ_id,organ_name,in_charge\n"
            "000.00.04.H53,Sở Tài chính,Tây Ninh,cột thừa\n").encode()
    report = import_csv(data)
    assert (report.rows, report.added, report.skipped_count) == (6, 2, 4)
    assert any("quá dài" in line for line in report.skipped)
    assert {a.organ_id for a in _agencies(db)} == {"000.00.03.H53", "000.00.04.H53"}


# --- the command --------------------------------------------------------------------------------------------------

def _cli(app, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["portal", "exchange", *args])


def test_the_command_imports_and_prints_counts(app, db):
    result = _cli(app, "agencies-import", str(TAYNINH))
    assert result.exit_code == 0, result.output
    assert "thêm 448, cập nhật 0, không đổi 0, trùng mã 7, mã không theo QĐ 20 1, bỏ qua 0 (trên 455 dòng)" \
        in result.output
    assert "000.1137.H53" in result.output
    assert _count(db) == 448
    assert _imports(db)[-1].actor_name == "dòng lệnh (exchange agencies-import)"
    again = _cli(app, "agencies-import", str(TAYNINH))
    assert again.exit_code == 0
    assert "thêm 0, cập nhật 0, không đổi 448" in again.output


def test_the_command_refuses_a_broken_file_and_writes_nothing(app, db, tmp_path):
    broken = tmp_path / "danh-sach.csv"
    broken.write_bytes(b"\x00\x01\x02junk" * 100)
    result = _cli(app, "agencies-import", str(broken))
    assert result.exit_code == 1
    assert "Không nhập được danh-sach.csv" in result.output
    assert _count(db) == 0
    assert _imports(db) == []
    assert _cli(app, "agencies-import", str(tmp_path / "khong-co.csv")).exit_code == 2  # click: no such file


# --- the endpoint -------------------------------------------------------------------------------------------------

def test_the_type_ahead_answers_a_signed_in_clerk(db, factory, login, tayninh):
    import_csv(tayninh)
    client = login(factory.person(Role.CLERK))
    for headers in ({}, HX):
        resp = client.get("/lien-thong/co-quan-ngoai?q=ben+cau", headers=headers)
        assert resp.status_code == 200
        body = resp.get_data(as_text=True)
        assert "Thanh tra huyện Bến Cầu" in body
        assert 'value="000.12.31.H53"' in body
    body = client.get("/lien-thong/co-quan-ngoai?q=000.1137").get_data(as_text=True)
    assert "Phòng Y tế huyện Tân Châu" in body
    assert "mã không theo QĐ 20" in body
    assert "Không tìm thấy" in client.get("/lien-thong/co-quan-ngoai?q=khong+co+dau").get_data(as_text=True)
    assert "Gõ tên cơ quan" in client.get("/lien-thong/co-quan-ngoai").get_data(as_text=True)
    assert client.get("/lien-thong/co-quan-ngoai?q=" + "x" * 201).status_code == 422


def test_the_type_ahead_refuses_anonymous(client):
    resp = client.get("/lien-thong/co-quan-ngoai?q=ben+cau")
    assert resp.status_code in (302, 303)
    assert "/auth/login" in resp.headers["Location"]
    resp = client.get("/lien-thong/co-quan-ngoai?q=ben+cau", headers=HX)
    assert resp.headers["HX-Redirect"].startswith("/auth/login")
