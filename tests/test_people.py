"""People: names, usernames, positions in the tree, never deleted; the admin list and its search."""

from __future__ import annotations

import unicodedata

import pytest
from sqlalchemy import select

from portal.audit import AuditEntry
from portal.auth import accounts
from portal.auth.models import Role, User, UserStatus
from portal.errors import ValidationFailed

HX = {"HX-Request": "true"}


@pytest.mark.parametrize("value", ["Nguyễn Thị Hương", "Lê Văn A", "Đặng Hoàng Yến Nhi", "H'Hen Niê",
                                   "Nguyễn Thị Thu-Hà", "Ksor Y Phơ", "Nguyễn Văn " + "A" * 39])
def test_valid_full_names(value):
    assert len(value) <= 50
    assert accounts.check_full_name(value) is None


@pytest.mark.parametrize(("value", "message"), [
    ("", "Hãy nhập họ và tên."),
    ("A", "ít nhất hai từ"),
    ("Hương", "ít nhất hai từ"),
    ("Nguyễn 123", "chỉ có chữ cái"),
    ("Nguyễn  Hương", "ít nhất hai từ"),
    (" Nguyễn Hương", "ít nhất hai từ"),
    ("Nguyễn_Hương", "ít nhất hai từ"),
    ("Nguyễn Hương\n", "ít nhất hai từ"),
    ("Nguyễn Văn " + "A" * 40, "Họ và tên tối đa 50 ký tự."),
])
def test_invalid_full_names_get_vietnamese_messages(value, message):
    error = accounts.check_full_name(value)
    assert error is not None
    assert message in error


@pytest.mark.parametrize("value", ["nguyen.van.a", "vanthu.snv", "user_01", "a-b", "x" * 64])
def test_valid_usernames(value):
    assert accounts.check_username(value) is None


@pytest.mark.parametrize(("value", "message"), [
    ("", "Hãy nhập tên đăng nhập."),
    ("Nguyen", "chữ thường"),
    ("nguyễn", "không dấu"),
    ("nguyen van", "chữ thường không dấu"),
    ("x" * 65, "tối đa 64 ký tự"),
    ("nguyen@snv", "chữ số và . _ -"),
    ("nguyen\n", "chữ thường"),
])
def test_invalid_usernames_get_vietnamese_messages(value, message):
    error = accounts.check_username(value)
    assert error is not None
    assert message in error


def _person(org, unit=None, **kw) -> accounts.PersonData:
    defaults = {"username": "tran.huong", "full_name": "Trần Thị Hương", "positions": [
        accounts.PositionData(organisation_id=org.id, unit_id=unit.id if unit else None, title="Chuyên viên",
                              roles=[Role.OFFICER])]}
    return accounts.PersonData(**{**defaults, **kw})


def test_create_person_normalises_and_audits(db, factory):
    org = factory.organisation()
    decomposed = unicodedata.normalize("NFD", "Trần Thị Hương")
    person = accounts.create_person(None, _person(org, username=" Tran.Huong ", full_name=decomposed))
    assert person.username == "tran.huong"
    assert person.full_name == "Trần Thị Hương"
    assert person.full_name == unicodedata.normalize("NFC", person.full_name)
    assert person.full_name_folded == "tran thi huong"
    assert person.status == UserStatus.ACTIVE
    [entry] = db.execute(select(AuditEntry).where(AuditEntry.action == "people.create",
                                                  AuditEntry.object_id == str(person.id))).scalars()
    assert entry.details_dict == {"username": "tran.huong", "roles": ["officer"]}
    assert entry.organisation_id == org.id


def test_duplicate_username_is_refused(factory):
    org = factory.organisation()
    accounts.create_person(None, _person(org))
    with pytest.raises(ValidationFailed) as info:
        accounts.create_person(None, _person(org, username="TRAN.HUONG", full_name="Trần Văn Hưng"))
    assert info.value.errors == {"username": "Tên đăng nhập “tran.huong” đã có người dùng."}


def test_bad_name_and_username_are_reported_together(factory):
    with pytest.raises(ValidationFailed) as info:
        accounts.create_person(None, _person(factory.organisation(), username="Trần", full_name="A"))
    assert set(info.value.errors) == {"username", "full_name"}


def test_unit_must_belong_to_the_chosen_organisation(factory):
    org, other = factory.organisation(), factory.organisation()
    foreign_unit = factory.unit(other)
    with pytest.raises(ValidationFailed) as info:
        accounts.create_person(None, _person(org, unit=foreign_unit))
    assert info.value.errors == {"unit_id": "Phòng, ban phải thuộc chính cơ quan đã chọn."}


def test_a_unit_deep_inside_the_organisation_is_fine(factory):
    org = factory.organisation()
    deep = factory.unit(factory.unit(org))
    person = accounts.create_person(None, _person(org, unit=deep))
    assert person.positions[0].unit_id == deep.id


def test_a_unit_is_not_an_organisation(factory):
    org = factory.organisation()
    unit = factory.unit(org)
    with pytest.raises(ValidationFailed) as info:
        accounts.create_person(None, _person(unit))
    assert "organisation_id" in info.value.errors
    with pytest.raises(ValidationFailed) as info:
        accounts.create_person(None, _person(org, unit=org))
    assert "unit_id" in info.value.errors


def test_positions_need_title_and_roles(factory):
    org = factory.organisation()
    with pytest.raises(ValidationFailed) as info:
        accounts.create_person(None, _person(org, positions=[]))
    assert "positions" in info.value.errors
    with pytest.raises(ValidationFailed) as info:
        accounts.create_person(None, _person(org, positions=[
            accounts.PositionData(organisation_id=org.id, title="", roles=[])]))
    assert set(info.value.errors) == {"title", "roles"}


def test_people_are_never_deleted(app):
    """No route deletes a person: "gone" is status disabled, so history keeps its names."""
    assert {s.value for s in UserStatus} == {"active", "locked", "disabled"}
    for rule in app.url_map.iter_rules():
        assert "DELETE" not in (rule.methods or set()), rule
        assert "delete" not in rule.endpoint, rule
        assert "xoa" not in rule.rule, rule


# --- the admin list ---------------------------------------------------------------------------------

@pytest.fixture
def two_orgs(factory):
    home = factory.organisation(name="Sở Nội vụ", short_name="SNV")
    away = factory.organisation(name="Sở Tài chính", short_name="STC")
    factory.person(organisation=home, full_name="Nguyễn Thị Hương", username="huong.snv")
    factory.person(organisation=away, full_name="Nguyễn Thị Hường", username="huong.stc")
    factory.person(organisation=away, full_name="Đỗ Đức Anh", username="anh.stc")
    return home, away


def _rows(client, query: str = "", headers: dict | None = None) -> str:
    resp = client.get("/quan-tri/nguoi-dung", query_string={"q": query} if query else None,
                      headers=HX if headers is None else headers)
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def test_org_admin_sees_only_their_own_people(client, factory, login, two_orgs):
    home, _away = two_orgs
    login(factory.person(Role.ORG_ADMIN, organisation=home, full_name="Quản Trị Nội Vụ"))
    for headers in (HX, {}):
        body = _rows(client, headers=headers)
        assert "huong.snv" in body
        assert "Quản Trị Nội Vụ" in body
        assert "huong.stc" not in body
        assert "anh.stc" not in body
    assert "huong.stc" not in _rows(client, "huong")


def test_system_admin_sees_everyone(client, factory, login, two_orgs):
    login(factory.person(Role.SYSTEM_ADMIN, organisation=two_orgs[0]))
    body = _rows(client)
    assert all(name in body for name in ("huong.snv", "huong.stc", "anh.stc"))


@pytest.mark.parametrize(("query", "found", "not_found"), [
    ("nguyen thi huong", {"huong.snv", "huong.stc"}, {"anh.stc"}),
    ("NGUYEN THI HUONG", {"huong.snv", "huong.stc"}, {"anh.stc"}),
    ("Nguyễn Thị Hương", {"huong.snv", "huong.stc"}, {"anh.stc"}),
    ("do duc", {"anh.stc"}, {"huong.snv"}),
    ("anh.stc", {"anh.stc"}, {"huong.snv"}),
    ("  huong   ", {"huong.snv", "huong.stc"}, {"anh.stc"}),
    ("%", set(), {"huong.snv", "anh.stc"}),
])
def test_search_ignores_diacritics(client, factory, login, two_orgs, query, found, not_found):
    login(factory.person(Role.SYSTEM_ADMIN, organisation=two_orgs[0]))
    body = _rows(client, query)
    assert all(name in body for name in found), body
    assert not any(name in body for name in not_found)


def test_search_without_diacritics_in_the_service(factory):
    org = factory.organisation()
    factory.person(organisation=org, full_name="Nguyễn Thị Hương", username="nth")
    assert [u.username for u in accounts.list_people(organisation_id=org.id, q="nguyen thi huong")] == ["nth"]


def test_search_page_keeps_the_query(client, factory, login, two_orgs):
    login(factory.person(Role.SYSTEM_ADMIN, organisation=two_orgs[0]))
    body = _rows(client, "nguyen thi", headers={})
    assert "<html" in body
    assert 'value="nguyen thi"' in body
    assert 'hx-target="#people-rows"' in body
    assert 'hx-push-url="true"' in body


def test_empty_search_says_so_in_vietnamese(client, factory, login):
    login(factory.person(Role.SYSTEM_ADMIN))
    assert "Không tìm thấy người dùng nào." in _rows(client, "khong co ai ten nay")


def test_list_shows_status_labels(client, db, factory, login):
    org = factory.organisation()
    locked = factory.person(organisation=org, username="bi.khoa")
    locked.status = UserStatus.LOCKED
    db.flush()
    login(factory.person(Role.ORG_ADMIN, organisation=org))
    assert "Bị khóa" in _rows(client, "bi.khoa")
    assert db.get(User, locked.id) is not None


def test_nobody_holds_a_position_in_an_external_organisation(factory):
    from portal.orgs import services as orgs
    from portal.orgs.models import OrgKind

    factory.province()
    ministry = orgs.create(None, orgs.OrgData(name="Bộ Nội vụ", short_name="BNV", kind=OrgKind.EXTERNAL,
                                              is_issuing=True, organ_id="G09"))
    data = accounts.PersonData(username="nguoingoai", full_name="Lê Văn Ngoại", positions=[
        accounts.PositionData(organisation_id=ministry.id, title="Chuyên viên", roles=[Role.OFFICER])])
    with pytest.raises(ValidationFailed) as exc:
        accounts.create_person(None, data)
    assert "organisation_id" in exc.value.errors
