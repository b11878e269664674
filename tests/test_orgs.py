"""The organisation tree: identifiers, names, placement, moves, and who may change it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.audit import AuditEntry
from portal.auth.models import Role
from portal.errors import NotAllowed, ValidationFailed
from portal.orgs import services as orgs
from portal.orgs.models import Organisation, OrgKind

HX = {"HX-Request": "true"}


def _acting(person):
    """Outside a request nobody has picked a working position; services read roles from it."""
    person.current_position = person.positions[0]
    return person


# --- identifiers and names --------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["H27.01", "H01.151", "G09", "H27", "A1.B2.C3", "H27." + "0" * 31])
def test_valid_organ_ids(value):
    assert len(value) <= 35
    assert orgs.check_organ_id(value) is None


@pytest.mark.parametrize(("value", "message"), [
    ("h27.01", "chữ in hoa"),
    ("H27 .01", "không có khoảng trắng"),
    ("H27. 01", "không có khoảng trắng"),
    (".H27.01", "dấu chấm ở đầu"),
    ("H27.01.", "dấu chấm ở đầu, cuối"),
    ("H27..01", "các nhóm cách nhau bởi dấu chấm"),
    ("H27." + "0" * 32, "tối đa 35 ký tự"),
    ("HĐ27.01", "không dấu"),
    ("H27.Ư1", "không dấu"),
    ("H27-01", "chữ in hoa"),
    ("H27.01\n", "chữ in hoa"),
])
def test_invalid_organ_ids_get_vietnamese_messages(value, message):
    error = orgs.check_organ_id(value)
    assert error is not None
    assert message in error
    assert error.startswith("Mã định danh")


def test_organ_id_is_optional():
    assert orgs.check_organ_id("") is None
    assert orgs.check_organ_id(None) is None


@pytest.mark.parametrize("value", ["000.00.00.H49", "000.01.27.H27", "123.45.67.G09"])
def test_valid_legacy_organ_ids(value):
    assert orgs.check_legacy_organ_id(value) is None


@pytest.mark.parametrize("value", ["000.00.00.h49", "00.00.00.H49", "000.00.00.H4", "000.00.00.49H",
                                   "000-00-00-H49", "000.00.00.H49.", "H27.01", "000.00.00.Đ49",
                                   "000.00.00.H49\n"])
def test_invalid_legacy_organ_ids(value):
    error = orgs.check_legacy_organ_id(value)
    assert error is not None
    assert "000.00.00.H49" in error


@pytest.mark.parametrize("value", ["UBND", "SNV", "VP", "STTTT", "BTĐKT", "HĐND", "UBND2", "S&T"])
def test_valid_short_names(value):
    assert orgs.check_short_name(value) is None


@pytest.mark.parametrize(("value", "message"), [
    ("", "Hãy nhập tên viết tắt"),
    ("UB ND", "không có khoảng trắng"),
    ("UBND/SNV", "dấu “/”"),
    ("UBND-SNV", "dấu “/” hay “-”"),
    ("ubnd", "bắt đầu bằng chữ in hoa"),
    ("U" * 31, "tối đa 30 ký tự"),
])
def test_invalid_short_names(value, message):
    error = orgs.check_short_name(value)
    assert error is not None
    assert message in error


@pytest.mark.parametrize(("value", "ok"), [
    ("Sở Nội vụ", True), ("", False), ("Sở", False), ("123", False), ("S" * 201, False)])
def test_names(value, ok):
    assert (orgs.check_name(value) is None) is ok


def _data(parent: Organisation | None, **kw) -> orgs.OrgData:
    n = kw.pop("n", 1)
    defaults = {"name": f"Sở Thử Nghiệm {n}", "short_name": f"ST{n}", "kind": OrgKind.DEPARTMENT,
                "is_issuing": True, "parent_id": parent.id if parent else None}
    return orgs.OrgData(**{**defaults, **kw})


def test_service_normalises_identifiers_and_text(factory):
    org = orgs.create(None, _data(factory.province(), organ_id=" h90.07 ", name=" Sở  Nội vụ ",
                                  legacy_organ_id="000.00.07.h90"))
    assert org.organ_id == "H90.07"
    assert org.legacy_organ_id == "000.00.07.H90"
    assert org.name == "Sở  Nội vụ"
    assert org.name_folded == "so noi vu"


def test_service_refuses_bad_fields_with_every_message(factory):
    with pytest.raises(ValidationFailed) as info:
        orgs.create(None, _data(factory.province(), organ_id="H27..01", short_name="UB ND",
                                email="khong-phai-thu", phone="abc", legacy_organ_id="1.2.3"))
    assert set(info.value.errors) == {"organ_id", "short_name", "email", "phone", "legacy_organ_id"}


def test_duplicate_organ_id_is_refused(factory):
    first = factory.organisation()
    with pytest.raises(ValidationFailed) as info:
        orgs.create(None, _data(factory.province(), n=2, organ_id=first.organ_id.lower()))
    assert info.value.errors == {"organ_id": f"Mã “{first.organ_id}” đã được dùng cho một cơ quan khác."}


def test_duplicate_legacy_organ_id_is_refused(factory):
    orgs.create(None, _data(factory.province(), n=1, legacy_organ_id="000.00.01.H90"))
    with pytest.raises(ValidationFailed) as info:
        orgs.create(None, _data(factory.province(), n=2, legacy_organ_id="000.00.01.H90"))
    assert "legacy_organ_id" in info.value.errors


def test_keeping_ones_own_organ_id_on_update_is_fine(factory):
    admin = _acting(factory.person(Role.SYSTEM_ADMIN))
    org = factory.organisation()
    orgs.update(admin, org, _data(factory.province(), name="Tên mới của sở", organ_id=org.organ_id))
    assert org.name == "Tên mới của sở"


def test_only_one_root(factory):
    factory.province()
    with pytest.raises(ValidationFailed) as info:
        orgs.create(None, _data(None))
    assert "parent_id" in info.value.errors
    external = orgs.create(None, _data(None, kind=OrgKind.EXTERNAL, name="Bộ Nội vụ", short_name="BNV"))
    assert external.parent_id is None
    assert external.depth == 0


def test_internal_unit_cannot_issue(factory):
    with pytest.raises(ValidationFailed) as info:
        orgs.create(None, _data(factory.organisation(), kind=OrgKind.INTERNAL_UNIT, is_issuing=True))
    assert "is_issuing" in info.value.errors


def test_unknown_parent(factory):
    factory.province()
    with pytest.raises(ValidationFailed) as info:
        orgs.create(None, orgs.OrgData(name="Sở Mồ Côi", short_name="SMC", kind=OrgKind.DEPARTMENT,
                                       is_issuing=True, parent_id=999_999))
    assert info.value.errors["parent_id"] == "Cơ quan cấp trên không tồn tại."


# --- the tree ---------------------------------------------------------------------------------------

def _chain(factory, issuing: list[bool]) -> list[Organisation]:
    """province → … one node per flag, each the child of the previous."""
    nodes = [factory.province()]
    for depth, is_issuing in enumerate(issuing, start=1):
        kind = OrgKind.DEPARTMENT if is_issuing else OrgKind.INTERNAL_UNIT
        nodes.append(orgs.create(None, _data(nodes[-1], n=depth, kind=kind, is_issuing=is_issuing,
                                             name=f"Cấp thứ {depth}")))
    return nodes


def test_tree_of_any_depth_keeps_path_depth_and_owner(factory):
    # province → sở → phòng → tổ → đơn vị sự nghiệp (issuing) → phòng → tổ
    nodes = _chain(factory, [True, False, False, True, False, False])
    province, so, dvsn = nodes[0], nodes[1], nodes[4]
    assert len(nodes) == 7
    for depth, node in enumerate(nodes):
        assert node.depth == depth
        assert node.path == "/" + "".join(f"{n.id}/" for n in nodes[:depth + 1])
        assert node.ancestor_ids == [n.id for n in nodes[:depth]]
    assert [n.owner_id for n in nodes] == [province.id, so.id, so.id, so.id, dvsn.id, dvsn.id, dvsn.id]
    ordered = [n.id for n in orgs.tree() if n.id in {x.id for x in nodes}]
    assert ordered == [n.id for n in nodes]


def test_moving_a_subtree_recomputes_descendants(db, factory):
    admin = _acting(factory.person(Role.SYSTEM_ADMIN))
    province, so_a, phong, to, to_con = _chain(factory, [True, False, False, False])
    so_b = orgs.create(None, _data(province, n=9, name="Sở Đích"))
    # move "phòng" (with its tổ and tổ con) from sở A to sở B
    orgs.update(admin, phong, _data(so_b, name=phong.name, short_name=phong.short_name,
                                    kind=OrgKind.INTERNAL_UNIT, is_issuing=False))
    db.flush()
    db.expire_all()
    for node, depth in ((phong, 2), (to, 3), (to_con, 4)):
        fresh = db.get(Organisation, node.id)
        assert fresh.owner_id == so_b.id
        assert fresh.depth == depth
        assert fresh.path.startswith(so_b.path)
    assert db.get(Organisation, to_con.id).path == f"{so_b.path}{phong.id}/{to.id}/{to_con.id}/"
    subtree_a = db.execute(select(Organisation.id).where(Organisation.path.startswith(so_a.path))).scalars()
    assert set(subtree_a) == {so_a.id}


def test_moving_a_subtree_deeper_recomputes_depths(db, factory):
    admin = _acting(factory.person(Role.SYSTEM_ADMIN))
    province, _so_a, phong, to = _chain(factory, [True, False, False])
    _, _, _, deep = _chain_from(factory, province)
    orgs.update(admin, phong, _data(deep, name=phong.name, short_name=phong.short_name,
                                    kind=OrgKind.INTERNAL_UNIT, is_issuing=False))
    db.flush()
    db.expire_all()
    assert db.get(Organisation, phong.id).depth == deep.depth + 1
    assert db.get(Organisation, to.id).depth == deep.depth + 2
    assert db.get(Organisation, to.id).owner_id == deep.owner_id


def _chain_from(factory, parent):
    nodes = [parent]
    for i, issuing in enumerate([True, False, False], start=20):
        kind = OrgKind.DEPARTMENT if issuing else OrgKind.INTERNAL_UNIT
        nodes.append(orgs.create(None, _data(nodes[-1], n=i, kind=kind, is_issuing=issuing, name=f"Nhánh {i}")))
    return nodes


def test_a_unit_turned_issuing_owns_its_subtree(db, factory):
    admin = _acting(factory.person(Role.SYSTEM_ADMIN))
    _province, so, phong, to = _chain(factory, [True, False, False])
    orgs.update(admin, phong, _data(so, name=phong.name, short_name=phong.short_name,
                                    kind=OrgKind.PUBLIC_SERVICE_UNIT, is_issuing=True))
    db.flush()
    db.expire_all()
    assert db.get(Organisation, phong.id).owner_id == phong.id
    assert db.get(Organisation, to.id).owner_id == phong.id


@pytest.mark.parametrize("target", [0, 1, 2])
def test_a_node_cannot_move_under_itself_or_its_descendants(factory, target):
    admin = _acting(factory.person(Role.SYSTEM_ADMIN))
    _province, so, phong, to = _chain(factory, [True, False, False])
    new_parent = (so, phong, to)[target]
    with pytest.raises(ValidationFailed) as info:
        orgs.update(admin, so, _data(new_parent, name=so.name, short_name=so.short_name))
    assert "cấp dưới của nó" in info.value.errors["parent_id"]


def test_ids_sharing_digits_are_not_mistaken_for_ancestors(db, factory):
    """The cycle check looks for "/<id>/" in the new parent's path: an ancestor whose id merely
    contains the moving node's digits ("/14/" around 4) must not count. Ids come from a sequence,
    so the path is written by hand here to hold such a segment."""
    admin = _acting(factory.person(Role.SYSTEM_ADMIN))
    province = factory.province()
    mover = orgs.create(None, _data(province, n=1, name="Sở Di Chuyển"))
    target = orgs.create(None, _data(province, n=2, name="Sở Đích Đến"))
    target.path = f"{province.path}1{mover.id}/{mover.id}1/{target.id}/"
    db.flush()
    orgs.update(admin, mover, _data(target, n=1, name=mover.name))
    assert mover.parent_id == target.id


# --- permissions and audit ----------------------------------------------------------------------------

@pytest.mark.parametrize("role", [Role.ORG_ADMIN, Role.CLERK, Role.AGENCY_LEADER])
def test_only_system_admin_changes_the_tree_in_services(factory, role):
    actor = _acting(factory.person(role))
    with pytest.raises(NotAllowed):
        orgs.create(actor, _data(factory.province(), n=5))
    org = factory.organisation()
    with pytest.raises(NotAllowed):
        orgs.update(actor, org, _data(factory.province(), name="Đổi tên trái phép"))
    assert org.name != "Đổi tên trái phép"


def _audit(db, action: str) -> list[AuditEntry]:
    return list(db.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)).scalars())


def test_create_and_update_are_audited(db, factory):
    admin = _acting(factory.person(Role.SYSTEM_ADMIN))
    before = len(_audit(db, "orgs.create"))
    org = orgs.create(admin, _data(factory.province(), n=3, organ_id="H90.03"))
    created = _audit(db, "orgs.create")
    assert len(created) == before + 1
    assert created[-1].actor_id == admin.id
    assert created[-1].object_id == str(org.id)
    assert created[-1].details_dict["organ_id"] == "H90.03"

    orgs.update(admin, org, _data(factory.province(), n=3, organ_id="H90.03", name="Sở Đổi Tên"))
    [updated] = _audit(db, "orgs.update")
    assert updated.actor_id == admin.id
    assert updated.details_dict["changes"]["name"] == ["Sở Thử Nghiệm 3", "Sở Đổi Tên"]
    assert set(updated.details_dict["changes"]) == {"name", "name_folded"}


# --- the admin views ----------------------------------------------------------------------------------

@pytest.fixture
def system_admin(factory, login):
    person = factory.person(Role.SYSTEM_ADMIN)
    login(person)
    return person


def _form(parent: Organisation | None, **kw: str) -> dict[str, str]:
    form = {"name": "Sở Giao thông Vận tải", "short_name": "SGTVT", "kind": "department", "is_issuing": "y",
            "parent_id": str(parent.id) if parent else "", "organ_id": "H90.11"}
    form.update(kw)
    return {k: v for k, v in form.items() if v is not None}


def test_tree_page_lists_nodes(client, system_admin, factory):
    org = factory.organisation(name="Sở Văn hóa", short_name="SVH")
    factory.unit(org, name="Phòng Di sản")
    body = client.get("/quan-tri/co-quan").get_data(as_text=True)
    assert "Sở Văn hóa" in body
    assert "Phòng Di sản" in body
    assert f'href="/quan-tri/co-quan/{org.id}"' in body


def test_new_form_creates_and_redirects(client, db, system_admin, factory):
    province = factory.province()
    resp = client.post("/quan-tri/co-quan/moi", data=_form(province))
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/quan-tri/co-quan"
    org = db.execute(select(Organisation).where(Organisation.organ_id == "H90.11")).scalar_one()
    assert org.parent_id == province.id
    assert org.owner_id == org.id
    [entry] = [e for e in _audit(db, "orgs.create") if e.object_id == str(org.id)]
    assert entry.actor_id == system_admin.id


@pytest.mark.parametrize("headers", [{}, HX])
@pytest.mark.parametrize(("field", "value", "message"), [
    ("organ_id", "H27..01", "các nhóm cách nhau bởi dấu chấm"),
    ("organ_id", "H27." + "0" * 32, "Mã định danh tối đa 35 ký tự."),
    ("short_name", "UB ND", "không có khoảng trắng"),
    ("short_name", "U" * 31, "Tên viết tắt tối đa 30 ký tự."),
    ("name", "", "Hãy nhập tên đầy đủ"),
    ("name", "S" * 201, "Tên cơ quan, đơn vị tối đa 200 ký tự."),
    ("parent_id", "mot", "Mã số cơ quan cấp trên là một số"),
    ("email", "a" * 96 + "@x.vn", "Thư điện tử không hợp lệ"),
    ("legacy_organ_id", "000.00.000.H49", "000.00.00.H49"),
    ("kind", "khong-co", "Hãy chọn một loại trong danh sách."),
])
def test_bad_form_is_rerendered_with_field_errors_and_422(client, db, system_admin, factory, headers,
                                                          field, value, message):
    province = factory.province()
    resp = client.post("/quan-tri/co-quan/moi", data=_form(province, **{field: value}), headers=headers)
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert message in body
    assert 'aria-invalid="true"' in body
    assert 'value="Sở Giao thông Vận tải"' in body or field == "name"  # what was typed stays
    assert ("<html" in body) is (not headers)
    assert "Field " not in body
    assert "Not a valid" not in body
    assert db.execute(select(Organisation).where(Organisation.name == "Sở Giao thông Vận tải")).first() is None


def test_edit_form_moves_a_unit(client, db, system_admin, factory):
    source, target = factory.organisation(), factory.organisation()
    unit = factory.unit(source, name="Phòng Di chuyển")
    child = factory.unit(unit, name="Tổ Đi Theo")
    page = client.get(f"/quan-tri/co-quan/{unit.id}").get_data(as_text=True)
    assert 'value="Phòng Di chuyển"' in page
    assert f'name="parent_id" type="text" value="{source.id}"' in page
    resp = client.post(f"/quan-tri/co-quan/{unit.id}", data=_form(
        target, name="Phòng Di chuyển", short_name=unit.short_name, kind="internal_unit", is_issuing=None,
        organ_id=""))
    assert resp.status_code == 303, resp.get_data(as_text=True)
    db.expire_all()
    assert db.get(Organisation, unit.id).owner_id == target.id
    assert db.get(Organisation, child.id).owner_id == target.id
    assert db.get(Organisation, child.id).path == f"{target.path}{unit.id}/{child.id}/"
    assert len([e for e in _audit(db, "orgs.update") if e.object_id == str(unit.id)]) == 1


def test_an_edit_posted_without_the_parent_keeps_it(client, db, system_admin, factory):
    """A form posted without parent_id (a hand-made request) is not a 500: the organisation keeps its parent."""
    source = factory.organisation()
    unit = factory.unit(source, name="Phòng Giữ Nguyên")
    resp = client.post(f"/quan-tri/co-quan/{unit.id}", data=_form(
        None, name="Phòng Giữ Nguyên", short_name=unit.short_name, kind="internal_unit", is_issuing=None,
        organ_id="", parent_id=None))
    assert resp.status_code == 303, resp.get_data(as_text=True)
    db.expire_all()
    assert db.get(Organisation, unit.id).parent_id == source.id


def test_edit_form_refuses_a_cycle(client, system_admin, factory):
    org = factory.organisation()
    unit = factory.unit(org)
    resp = client.post(f"/quan-tri/co-quan/{org.id}", data=_form(unit, name=org.name, short_name=org.short_name,
                                                                 organ_id=org.organ_id))
    assert resp.status_code == 422
    assert "cấp dưới của nó" in resp.get_data(as_text=True)


@pytest.mark.parametrize("headers", [{}, HX])
def test_org_admin_cannot_create_or_edit(client, db, factory, login, headers):
    org = factory.organisation()
    login(factory.person(Role.ORG_ADMIN, organisation=org))
    count = len(_audit(db, "orgs.create"))
    assert client.get("/quan-tri/co-quan/moi", headers=headers).status_code == 403
    assert client.post("/quan-tri/co-quan/moi", data=_form(factory.province()), headers=headers).status_code == 403
    assert client.get(f"/quan-tri/co-quan/{org.id}", headers=headers).status_code == 403
    resp = client.post(f"/quan-tri/co-quan/{org.id}", data=_form(factory.province(), name="Đổi tên"),
                       headers=headers)
    assert resp.status_code == 403
    assert len(_audit(db, "orgs.create")) == count
    db.expire_all()
    assert db.get(Organisation, org.id).name != "Đổi tên"
    # the tree is visible to them, without edit links
    body = client.get("/quan-tri/co-quan").get_data(as_text=True)
    assert "Thêm cơ quan, đơn vị" not in body
    assert f'href="/quan-tri/co-quan/{org.id}"' not in body


@pytest.mark.parametrize("role", [Role.OFFICER, Role.CLERK, Role.AGENCY_LEADER])
def test_non_admins_cannot_see_the_admin_area(client, factory, login, role):
    login(factory.person(role))
    for url in ("/quan-tri/co-quan", "/quan-tri/co-quan/moi", "/quan-tri/nguoi-dung"):
        assert client.get(url).status_code == 403


# --- external organisations -------------------------------------------------------------------------

def _external(factory, name="Bộ Nội vụ", short_name="BNV", organ_id="G09"):
    factory.province()
    return orgs.create(None, orgs.OrgData(name=name, short_name=short_name, kind=OrgKind.EXTERNAL,
                                          is_issuing=True, organ_id=organ_id))


def test_external_organisations_stay_outside_the_tree(factory):
    ministry = _external(factory)
    assert ministry.parent_id is None
    with pytest.raises(ValidationFailed) as exc:
        orgs.create(None, orgs.OrgData(name="Văn phòng Chính phủ", short_name="VPCP", kind=OrgKind.EXTERNAL,
                                       is_issuing=True, parent_id=factory.province().id, organ_id="G22"))
    assert "ngoài hệ thống" in exc.value.errors["parent_id"]


def test_no_unit_under_an_external_organisation(factory):
    ministry = _external(factory)
    with pytest.raises(ValidationFailed) as exc:
        orgs.create(None, orgs.OrgData(name="Vụ Tổ chức cán bộ", short_name="TCCB", kind=OrgKind.INTERNAL_UNIT,
                                       is_issuing=False, parent_id=ministry.id))
    assert "ngoài hệ thống" in exc.value.errors["parent_id"]
