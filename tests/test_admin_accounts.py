"""Account administration pages (issue 3, SPEC §13): the people list and its filters, local
accounts with a one-time password, the person page and its actions, positions and roles,
sign-in history, the provincial directory; who may do what, and what each action leaves behind."""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.audit import AuditEntry
from portal.auth.models import AuthSession, Position, Role, User, UserSource, UserStatus
from portal.db import utcnow
from tests import ldap_fixtures
from tests.conftest import PASSWORD
from tests.ldap_server import closed_port_url

# the real-directory fixtures (tests/ldap_fixtures.py)
slapd = ldap_fixtures.slapd
ldap_settings = ldap_fixtures.ldap_settings

HX = {"HX-Request": "true"}
CHROME_ON_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                     "Chrome/126.0.0.0 Safari/537.36")


# --- helpers and fixtures ---------------------------------------------------------------------------

@pytest.fixture
def home(factory):
    return factory.organisation(name="Sở Nội vụ", short_name="SNV")


@pytest.fixture
def away(factory):
    return factory.organisation(name="Sở Tài chính", short_name="STC")


@pytest.fixture
def provincial(factory):
    return factory.person(Role.SYSTEM_ADMIN, organisation=factory.province(), username="qt.tinh",
                          full_name="Quản Trị Tỉnh", title="Chuyên viên CNTT")


@pytest.fixture
def org_admin(factory, home):
    return factory.person(Role.ORG_ADMIN, organisation=home, username="qt.snv", full_name="Quản Trị Nội Vụ")


@pytest.fixture
def victim(factory, home):
    return factory.person(Role.OFFICER, organisation=home, username="huong.snv", full_name="Nguyễn Thị Hương")


@pytest.fixture
def outsider(factory, away):
    return factory.person(Role.OFFICER, organisation=away, username="anh.stc", full_name="Đỗ Đức Anh")


def second_client(app: Flask, login, user: User, password: str = PASSWORD) -> FlaskClient:
    """Another browser, signed in as ``user``."""
    return login(user, password, c=app.test_client())


def audited(db, action: str, user: User) -> list[AuditEntry]:
    return list(db.execute(select(AuditEntry).where(AuditEntry.action == action,
                                                    AuditEntry.object_id == str(user.id))
                           .order_by(AuditEntry.seq)).scalars())  # in the order written


def open_sessions(db, user: User) -> int:
    return db.execute(select(func.count()).select_from(AuthSession)
                      .where(AuthSession.user_id == user.id, AuthSession.ended_at.is_(None))).scalar_one()


def temporary_password(body: str) -> str:
    match = re.search(r'id="temporary-password">([^<]+)<', body)
    assert match, body[:2000]
    return html.unescape(match.group(1))


def signed_out(c: FlaskClient) -> bool:
    resp = c.get("/")
    return resp.status_code in (302, 303) and resp.headers["Location"].startswith("/auth/login")


@contextlib.contextmanager
def configured(app: Flask, **values: Any) -> Iterator[None]:
    """The app fixture is shared by the session: put every setting back afterwards."""
    old = {key: app.config.get(key) for key in values}
    app.config.update(values)
    try:
        yield
    finally:
        app.config.update(old)


def _body(resp) -> str:
    return resp.get_data(as_text=True)


# --- the list -----------------------------------------------------------------------------------------

def test_search_without_diacritics(client, login, provincial, victim, outsider):
    login(provincial)
    body = _body(client.get("/quan-tri/nguoi-dung", query_string={"q": "do duc anh"}, headers=HX))
    assert "anh.stc" in body
    assert "huong.snv" not in body
    assert "<html" not in body
    page = _body(client.get("/quan-tri/nguoi-dung", query_string={"q": "NGUYEN THI HUONG"}))
    assert "<html" in page
    assert "huong.snv" in page
    assert "anh.stc" not in page
    assert f'href="/quan-tri/nguoi-dung/{victim.id}"' in page


@pytest.fixture
def crowd(db, factory, home, away):
    unit = factory.unit(home, name="Phòng Tổ chức")
    clerk = factory.person(Role.CLERK, organisation=home, unit=unit, username="vanthu.snv", full_name="Lê Thị Thư")
    locked = factory.person(Role.OFFICER, organisation=home, username="khoa.snv", full_name="Trần Văn Khóa")
    gone = factory.person(Role.OFFICER, organisation=away, username="nghi.stc", full_name="Phạm Văn Nghỉ")
    locked.status = UserStatus.LOCKED
    gone.status = UserStatus.DISABLED
    db.flush()
    return {"unit": unit, "clerk": clerk, "locked": locked, "gone": gone}


@pytest.mark.parametrize(("params", "found", "not_found"), [
    (lambda c, home, away: {"organisation_id": away.id}, {"nghi.stc"}, {"vanthu.snv", "khoa.snv"}),
    (lambda c, home, away: {"organisation_id": home.id}, {"vanthu.snv", "khoa.snv"}, {"nghi.stc"}),
    (lambda c, home, away: {"unit_id": c["unit"].id}, {"vanthu.snv"}, {"khoa.snv", "nghi.stc"}),
    (lambda c, home, away: {"role": "clerk"}, {"vanthu.snv"}, {"khoa.snv", "nghi.stc"}),
    (lambda c, home, away: {"status": "locked"}, {"khoa.snv"}, {"vanthu.snv", "nghi.stc"}),
    (lambda c, home, away: {"status": "disabled"}, {"nghi.stc"}, {"vanthu.snv", "khoa.snv"}),
    (lambda c, home, away: {"organisation_id": home.id, "role": "officer", "status": "active"}, set(),
     {"vanthu.snv", "khoa.snv", "nghi.stc"}),
    (lambda c, home, away: {"role": "no-such-role", "status": "x"},
     {"vanthu.snv", "khoa.snv", "nghi.stc"}, set()),
])
def test_each_filter(client, login, provincial, crowd, home, away, params, found, not_found):
    login(provincial)
    for headers in (HX, {}):
        body = _body(client.get("/quan-tri/nguoi-dung", query_string=params(crowd, home, away), headers=headers))
        assert all(name in body for name in found), body
        assert not any(name in body for name in not_found)


def test_history_gets_only_the_filters_in_use(client, login, provincial, home):
    login(provincial)
    resp = client.get("/quan-tri/nguoi-dung", headers=HX, query_string={
        "q": "nguyen", "organisation_id": home.id, "unit_id": "", "role": "", "status": " "})
    assert resp.headers["HX-Push-Url"] == f"/quan-tri/nguoi-dung?q=nguyen&organisation_id={home.id}"


def test_filter_page_keeps_the_choices(client, login, provincial, crowd, home):
    login(provincial)
    body = _body(client.get("/quan-tri/nguoi-dung", query_string={"organisation_id": home.id, "role": "clerk"}))
    assert f'<option selected value="{home.id}">Sở Nội vụ</option>' in body
    assert '<option selected value="clerk">Văn thư</option>' in body
    assert f'<option value="{crowd["unit"].id}">Phòng Tổ chức</option>' in body  # units of the chosen organisation


def test_unit_options_follow_the_organisation(client, login, provincial, crowd, home, away):
    login(provincial)
    form = _body(client.get("/quan-tri/nguoi-dung/moi"))
    assert re.search(r'<select[^>]*hx-get="/quan-tri/don-vi"[^>]*hx-target="#unit_id"[^>]*id="organisation_id"', form)
    body = _body(client.get("/quan-tri/don-vi", query_string={"organisation_id": home.id}, headers=HX))
    assert "Phòng Tổ chức" in body
    assert "Không thuộc phòng, ban nào" in body
    assert "Phòng Tổ chức" not in _body(client.get("/quan-tri/don-vi", query_string={"organisation_id": away.id}))


def test_list_says_there_are_more(client, db, login, factory, home, org_admin):
    for n in range(51):
        factory.person(organisation=home, username=f"nguoi.{n:02d}")
    login(org_admin)
    body = _body(client.get("/quan-tri/nguoi-dung", headers=HX))
    assert body.count('<td><a href="/quan-tri/nguoi-dung/') == 50
    assert "Còn nữa" in body


# --- scope: an organisation's admin ---------------------------------------------------------------------

def test_org_admin_sees_only_own_people(client, login, org_admin, victim, outsider, away):
    login(org_admin)
    for params in ({}, {"organisation_id": away.id}, {"q": "anh"}):
        body = _body(client.get("/quan-tri/nguoi-dung", query_string=params, headers=HX))
        assert "anh.stc" not in body
    assert "huong.snv" in _body(client.get("/quan-tri/nguoi-dung", headers=HX))
    page = _body(client.get("/quan-tri/nguoi-dung"))
    assert 'name="organisation_id"' not in page  # fixed to their own organisation
    assert "Sở Nội vụ" in page


def person_urls(user: User) -> list[tuple[str, str]]:
    pid = user.positions[0].id
    base = f"/quan-tri/nguoi-dung/{user.id}"
    return [("GET", base), ("POST", f"{base}/khoa"), ("POST", f"{base}/mo-khoa"), ("POST", f"{base}/vo-hieu-hoa"),
            ("POST", f"{base}/kich-hoat"), ("POST", f"{base}/dat-lai-mat-khau"), ("GET", f"{base}/chuc-vu/moi"),
            ("POST", f"{base}/chuc-vu/moi"), ("GET", f"{base}/chuc-vu/{pid}"), ("POST", f"{base}/chuc-vu/{pid}"),
            ("POST", f"{base}/chuc-vu/{pid}/ket-thuc")]


def test_org_admin_gets_404_for_another_organisations_person(client, db, login, org_admin, outsider, away):
    login(org_admin)
    data = {"lock-reason": "thử", "disable-reason": "thử", "organisation_id": away.id, "title": "Chuyên viên",
            "roles": ["officer"]}
    for method, url in person_urls(outsider):
        for headers in ({}, HX):
            resp = client.open(url, method=method, data=data if method == "POST" else None, headers=headers)
            assert resp.status_code == 404, (method, url)
    db.expire_all()
    assert outsider.status == UserStatus.ACTIVE
    assert outsider.must_change_password is False
    assert [p.role_set for p in outsider.positions] == [frozenset({Role.OFFICER})]
    assert outsider.positions[0].valid_to is None
    assert len(outsider.positions) == 1


def test_org_admin_does_not_manage_the_provinces_admins(client, login, org_admin, factory, home):
    overseer = factory.person(Role.OVERVIEW, organisation=home, username="theodoi")
    login(org_admin)
    assert client.get(f"/quan-tri/nguoi-dung/{overseer.id}").status_code == 404


def test_org_admin_cannot_grant_system_admin(client, db, login, org_admin, victim, home):
    login(org_admin)
    form = _body(client.get(f"/quan-tri/nguoi-dung/{victim.id}/chuc-vu/{victim.positions[0].id}"))
    assert 'value="system_admin"' not in form
    assert 'value="overview"' not in form
    assert 'value="org_admin"' in form
    resp = client.post(f"/quan-tri/nguoi-dung/{victim.id}/chuc-vu/{victim.positions[0].id}", data={
        "organisation_id": home.id, "title": "Chuyên viên", "roles": ["officer", "system_admin"]})
    assert resp.status_code == 403
    db.expire_all()
    assert victim.positions[0].role_set == {Role.OFFICER}
    assert victim.notice is None
    assert audited(db, "people.roles_change", victim) == []
    [denied] = db.execute(select(AuditEntry).where(AuditEntry.action == "access.denied")).scalars()
    assert denied.details_dict["action"] == "people.assign"


def test_org_admin_cannot_create_an_overview_account(client, db, login, org_admin, home):
    login(org_admin)
    assert 'value="overview"' not in _body(client.get("/quan-tri/nguoi-dung/moi"))
    resp = client.post("/quan-tri/nguoi-dung/moi", data={
        "username": "theo.doi", "full_name": "Lê Văn Theo", "organisation_id": home.id, "title": "Chuyên viên",
        "roles": ["overview"]})
    assert resp.status_code == 403
    assert db.execute(select(User).where(User.username == "theo.doi")).first() is None


def test_org_admin_cannot_place_people_in_another_organisation(client, db, login, org_admin, away):
    login(org_admin)
    resp = client.post("/quan-tri/nguoi-dung/moi", data={
        "username": "lac.cho", "full_name": "Lê Văn Lạc", "organisation_id": away.id, "title": "Chuyên viên",
        "roles": ["officer"]})
    assert resp.status_code == 403
    assert db.execute(select(User).where(User.username == "lac.cho")).first() is None


# --- local accounts -------------------------------------------------------------------------------------

def test_create_local_account_shows_a_temporary_password_once(app, client, db, login, org_admin, home, factory):
    unit = factory.unit(home, name="Phòng Công chức")
    login(org_admin)
    page = _body(client.get("/quan-tri/nguoi-dung/moi"))
    assert f'<option selected value="{home.id}">Sở Nội vụ</option>' in page
    assert "Phòng Công chức" in page
    resp = client.post("/quan-tri/nguoi-dung/moi", data={
        "username": "lan.pt", "full_name": "Phạm Thị Lan", "email": "lan.pt@hanam.gov.vn", "phone": "0226 385 2701",
        "organisation_id": home.id, "unit_id": unit.id, "title": "Chuyên viên", "roles": ["officer", "clerk"]})
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["HX-Push-Url"] == "false"
    body = _body(resp)
    temporary = temporary_password(body)
    assert "Bắt buộc đổi mật khẩu ở lần đăng nhập đầu" in body
    assert "hết hạn sau 72 giờ" in body
    user = db.execute(select(User).where(User.username == "lan.pt")).scalar_one()
    assert user.source == UserSource.LOCAL
    assert user.email == "lan.pt@hanam.gov.vn"
    assert user.positions[0].unit_id == unit.id
    assert user.positions[0].role_set == {Role.OFFICER, Role.CLERK}
    assert user.must_change_password is True
    expires = user.temporary_password_expires_at
    assert expires is not None
    assert timedelta(hours=71, minutes=59) < expires - utcnow() <= timedelta(hours=72)
    assert audited(db, "people.create", user)
    # shown once: not on the person page, not in the flashes, not in the audit trail
    assert temporary not in _body(client.get(f"/quan-tri/nguoi-dung/{user.id}"))
    assert temporary not in _body(client.get("/quan-tri/nguoi-dung"))
    assert not any(temporary in entry.details for entry in db.execute(select(AuditEntry)).scalars())
    # and it works, once, for the person
    other = second_client(app, login, user, temporary)
    assert other.get("/").headers["Location"] == "/auth/mat-khau"  # the forced password change
    db.expire_all()
    assert user.must_change_password is True


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"username": "Nguyen Van"}, "username", "Tên đăng nhập chỉ gồm chữ thường không dấu"),
    ({"full_name": ""}, "full_name", "Hãy nhập họ và tên."),
    ({"title": ""}, "title", "Hãy nhập chức vụ."),
    ({"roles": []}, "roles", "Hãy chọn ít nhất một vai trò."),
    ({"email": "khong-phai-thu"}, "email", "Thư điện tử không hợp lệ"),
    ({"phone": "gọi tôi"}, "phone", "Số điện thoại chỉ gồm chữ số"),
    ({"organisation_id": ""}, "organisation_id", "Hãy chọn một cơ quan"),
    ({"roles": ["officer", "thu-ky"]}, "roles", "Hãy chọn vai trò trong danh sách."),
])
def test_create_validation_errors_are_422_on_the_field(client, db, login, provincial, home, data, field, message):
    login(provincial)
    form = {"username": "lan.pt", "full_name": "Phạm Thị Lan", "organisation_id": home.id, "title": "Chuyên viên",
            "roles": ["officer"], **data}
    resp = client.post("/quan-tri/nguoi-dung/moi", data=form)
    assert resp.status_code == 422
    body = _body(resp)
    assert message in body
    assert re.search(rf'aria-invalid="true"[^>]*id="{field}(-0)?"', body), body
    assert db.execute(select(User).where(User.username.in_(["lan.pt", "Nguyen Van"]))).first() is None


def test_unit_from_another_organisation_is_refused(client, db, login, provincial, home, away, factory):
    foreign = factory.unit(away)
    login(provincial)
    resp = client.post("/quan-tri/nguoi-dung/moi", data={
        "username": "lan.pt", "full_name": "Phạm Thị Lan", "organisation_id": home.id, "unit_id": foreign.id,
        "title": "Chuyên viên", "roles": ["officer"]})
    assert resp.status_code == 422
    assert "Phòng, ban phải thuộc chính cơ quan đã chọn." in _body(resp)


def test_duplicate_username_is_a_field_error(client, login, provincial, victim, home):
    login(provincial)
    resp = client.post("/quan-tri/nguoi-dung/moi", data={
        "username": "huong.snv", "full_name": "Phạm Thị Lan", "organisation_id": home.id, "title": "Chuyên viên",
        "roles": ["officer"]})
    assert resp.status_code == 422
    assert "Tên đăng nhập “huong.snv” đã có người dùng." in _body(resp)


# --- the person page and its actions ---------------------------------------------------------------------

def test_person_page_shows_details_positions_and_actions(client, login, org_admin, victim):
    login(org_admin)
    body = _body(client.get(f"/quan-tri/nguoi-dung/{victim.id}"))
    assert "Nguyễn Thị Hương" in body
    assert "huong.snv" in body
    assert "Đang hoạt động" in body
    assert "Chuyên viên" in body
    for action in ("khoa", "vo-hieu-hoa", "dat-lai-mat-khau", f"chuc-vu/{victim.positions[0].id}/ket-thuc"):
        assert f'action="/quan-tri/nguoi-dung/{victim.id}/{action}"' in body
    assert "Lịch sử đăng nhập" in body


def test_lock_ends_the_open_session_at_once(app, client, db, login, org_admin, victim):
    theirs = second_client(app, login, victim)
    assert theirs.get("/").status_code == 200
    login(org_admin)
    resp = client.post(f"/quan-tri/nguoi-dung/{victim.id}/khoa", data={"lock-reason": "Nghi lộ mật khẩu"})
    assert resp.status_code == 303
    assert resp.headers["Location"] == f"/quan-tri/nguoi-dung/{victim.id}"
    assert signed_out(theirs)
    db.expire_all()
    assert victim.status == UserStatus.LOCKED
    assert victim.lock_reason == "Nghi lộ mật khẩu"
    assert victim.locked_until is None
    assert open_sessions(db, victim) == 0
    [entry] = audited(db, "people.lock", victim)
    assert entry.details_dict["reason"] == "Nghi lộ mật khẩu"
    assert entry.actor_id == org_admin.id
    page = _body(client.get(f"/quan-tri/nguoi-dung/{victim.id}"))
    assert "Bị khóa" in page
    assert "Nghi lộ mật khẩu" in page
    assert "đến khi quản trị mở khóa" in page
    # and they cannot sign in again
    assert app.test_client().post("/auth/login", data={"username": victim.username,
                                                       "password": PASSWORD}).status_code == 422


def test_lock_needs_a_reason(client, db, login, org_admin, victim):
    login(org_admin)
    resp = client.post(f"/quan-tri/nguoi-dung/{victim.id}/khoa", data={"lock-reason": "   "})
    assert resp.status_code == 422
    body = _body(resp)
    assert "Hãy ghi lý do khóa tài khoản." in body
    assert 'id="lock-reason"' in body
    db.expire_all()
    assert victim.status == UserStatus.ACTIVE
    assert audited(db, "people.lock", victim) == []


def test_htmx_action_gets_hx_redirect(client, login, org_admin, victim):
    login(org_admin)
    resp = client.post(f"/quan-tri/nguoi-dung/{victim.id}/khoa", data={"lock-reason": "Thử"}, headers=HX)
    assert resp.headers["HX-Redirect"] == f"/quan-tri/nguoi-dung/{victim.id}"


def test_unlock(app, client, db, login, org_admin, victim):
    login(org_admin)
    client.post(f"/quan-tri/nguoi-dung/{victim.id}/khoa", data={"lock-reason": "Thử"})
    resp = client.post(f"/quan-tri/nguoi-dung/{victim.id}/mo-khoa")
    assert resp.status_code == 303
    db.expire_all()
    assert victim.status == UserStatus.ACTIVE
    assert victim.lock_reason is None
    assert len(audited(db, "people.unlock", victim)) == 1
    assert second_client(app, login, victim).get("/").status_code == 200
    again = client.post(f"/quan-tri/nguoi-dung/{victim.id}/mo-khoa")  # a repeat: what happened, nothing changed
    assert again.status_code == 303
    assert again.headers["Location"] == f"/quan-tri/nguoi-dung/{victim.id}"
    assert "Tài khoản đã được mở khóa lúc" in _body(client.get(again.headers["Location"]))
    assert len(audited(db, "people.unlock", victim)) == 1
    never_locked = client.post(f"/quan-tri/nguoi-dung/{org_admin.id}/mo-khoa")
    assert never_locked.status_code == 403  # not a repeat: the table's refusal


def test_disable_and_enable(app, client, db, login, org_admin, victim):
    theirs = second_client(app, login, victim)
    login(org_admin)
    empty = client.post(f"/quan-tri/nguoi-dung/{victim.id}/vo-hieu-hoa", data={"disable-reason": ""})
    assert empty.status_code == 422
    assert "Hãy ghi lý do vô hiệu hóa tài khoản." in _body(empty)
    resp = client.post(f"/quan-tri/nguoi-dung/{victim.id}/vo-hieu-hoa", data={"disable-reason": "Nghỉ hưu"})
    assert resp.status_code == 303
    assert signed_out(theirs)
    db.expire_all()
    assert victim.status == UserStatus.DISABLED
    assert audited(db, "people.disable", victim)[0].details_dict["reason"] == "Nghỉ hưu"
    assert "Đã vô hiệu hóa" in _body(client.get(f"/quan-tri/nguoi-dung/{victim.id}"))
    resp = client.post(f"/quan-tri/nguoi-dung/{victim.id}/kich-hoat")
    assert resp.status_code == 303
    db.expire_all()
    assert victim.status == UserStatus.ACTIVE
    assert len(audited(db, "people.enable", victim)) == 1
    assert second_client(app, login, victim).get("/").status_code == 200


def test_reset_password_gives_a_new_temporary_password_and_ends_sessions(app, client, db, login, org_admin,
                                                                         victim):
    theirs = second_client(app, login, victim)
    login(org_admin)
    resp = client.post(f"/quan-tri/nguoi-dung/{victim.id}/dat-lai-mat-khau")
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    temporary = temporary_password(_body(resp))
    assert temporary != PASSWORD
    assert signed_out(theirs)
    db.expire_all()
    assert victim.must_change_password is True
    assert victim.temporary_password_expires_at is not None
    assert open_sessions(db, victim) == 0
    assert audited(db, "people.reset_password", victim)[0].details_dict["sessions_ended"] == 1
    assert app.test_client().post("/auth/login", data={"username": victim.username,
                                                       "password": PASSWORD}).status_code == 422
    second_client(app, login, victim, temporary)


def test_admins_do_not_act_on_themselves(client, db, login, org_admin):
    login(org_admin)
    page = _body(client.get(f"/quan-tri/nguoi-dung/{org_admin.id}"))
    assert f"/quan-tri/nguoi-dung/{org_admin.id}/khoa" not in page
    assert client.post(f"/quan-tri/nguoi-dung/{org_admin.id}/khoa", data={"lock-reason": "x"}).status_code == 403
    db.expire_all()
    assert org_admin.status == UserStatus.ACTIVE


def test_directory_accounts_are_not_reset_here(client, db, login, org_admin, victim):
    victim.source = UserSource.DIRECTORY
    victim.directory_id = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    db.flush()
    login(org_admin)
    assert "dat-lai-mat-khau" not in _body(client.get(f"/quan-tri/nguoi-dung/{victim.id}"))
    resp = client.post(f"/quan-tri/nguoi-dung/{victim.id}/dat-lai-mat-khau")
    assert resp.status_code == 422
    assert "đặt lại mật khẩu trên máy chủ danh bạ" in _body(resp)


# --- positions and roles ------------------------------------------------------------------------------

def test_role_change_is_audited_noticed_and_ends_sessions(app, client, db, login, org_admin, victim, home):
    theirs = second_client(app, login, victim)
    login(org_admin)
    pid = victim.positions[0].id
    form = _body(client.get(f"/quan-tri/nguoi-dung/{victim.id}/chuc-vu/{pid}"))
    assert 'value="Chuyên viên"' in form
    assert re.search(r'checked[^>]*value="officer"|value="officer"[^>]*checked', form)
    resp = client.post(f"/quan-tri/nguoi-dung/{victim.id}/chuc-vu/{pid}", data={
        "organisation_id": home.id, "title": "Văn thư", "roles": ["clerk", "officer"]})
    assert resp.status_code == 303
    assert signed_out(theirs)
    db.expire_all()
    assert victim.positions[0].role_set == {Role.CLERK, Role.OFFICER}
    assert victim.positions[0].title == "Văn thư"
    [entry] = audited(db, "people.roles_change", victim)
    assert entry.details_dict["before"] == ["officer"]
    assert entry.details_dict["after"] == ["clerk", "officer"]
    assert audited(db, "people.position_change", victim)
    assert victim.notice is not None
    assert "Văn thư" in victim.notice
    history = _body(client.get(f"/quan-tri/nguoi-dung/{victim.id}"))
    assert "Thay đổi vai trò" in history


def test_position_without_roles_is_422(client, db, login, org_admin, victim, home):
    login(org_admin)
    pid = victim.positions[0].id
    resp = client.post(f"/quan-tri/nguoi-dung/{victim.id}/chuc-vu/{pid}", data={
        "organisation_id": home.id, "title": "Chuyên viên"})
    assert resp.status_code == 422
    assert "Hãy chọn ít nhất một vai trò." in _body(resp)
    db.expire_all()
    assert victim.positions[0].role_set == {Role.OFFICER}


def test_add_and_end_a_position(client, db, login, provincial, victim, away):
    login(provincial)
    resp = client.post(f"/quan-tri/nguoi-dung/{victim.id}/chuc-vu/moi", data={
        "organisation_id": away.id, "title": "Kiêm nhiệm kế toán", "roles": ["officer"]})
    assert resp.status_code == 303
    db.expire_all()
    added = next(p for p in victim.positions if p.organisation_id == away.id)
    assert added.title == "Kiêm nhiệm kế toán"
    assert audited(db, "people.position_change", victim)
    resp = client.post(f"/quan-tri/nguoi-dung/{victim.id}/chuc-vu/{added.id}/ket-thuc")
    assert resp.status_code == 303
    db.expire_all()
    assert added.valid_to is not None
    assert not added.is_active()
    ended = [e for e in audited(db, "people.position_change", victim) if "ended" in e.details_dict]
    assert len(ended) == 1
    again = client.post(f"/quan-tri/nguoi-dung/{victim.id}/chuc-vu/{added.id}/ket-thuc")
    assert again.status_code == 422
    assert "Chức vụ này đã kết thúc." in _body(again)


def test_org_admin_cannot_touch_a_position_in_another_organisation(client, db, login, org_admin, victim, away):
    foreign = Position(organisation_id=away.id, title="Kiêm nhiệm", is_primary=False)
    victim.positions.append(foreign)
    db.flush()
    login(org_admin)
    assert client.get(f"/quan-tri/nguoi-dung/{victim.id}/chuc-vu/{foreign.id}").status_code == 404
    assert client.post(f"/quan-tri/nguoi-dung/{victim.id}/chuc-vu/{foreign.id}/ket-thuc").status_code == 404
    db.expire_all()
    assert foreign.valid_to is None


# --- sign-in history ---------------------------------------------------------------------------------

def test_history_shows_a_failed_sign_in_with_address_and_browser(app, client, login, org_admin, victim):
    stranger = app.test_client()
    resp = stranger.post("/auth/login", data={"username": victim.username, "password": "Sai-Mat@Khau1"},
                         environ_base={"REMOTE_ADDR": "203.0.113.7", "HTTP_USER_AGENT": CHROME_ON_WINDOWS})
    assert resp.status_code == 422
    second_client(app, login, victim)
    login(org_admin)
    body = _body(client.get(f"/quan-tri/nguoi-dung/{victim.id}"))
    history = body[body.index("Lịch sử đăng nhập"):]
    assert "Đăng nhập không thành công" in history
    assert "Sai tên đăng nhập hoặc mật khẩu" in history
    assert "203.0.113.7" in history
    assert "Chrome 126 · Windows" in history
    assert "Thành công" in history
    assert re.search(r"<td>\d{2}/\d{2}/\d{4} \d{2}:\d{2}</td>", history)
    assert re.search(r'id="open-sessions">1<', body)


@pytest.mark.parametrize(("agent", "short"), [
    (CHROME_ON_WINDOWS, "Chrome 126 · Windows"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) coc_coc_browser/121.0.228 "
     "Chrome/115.0.5790.228 Safari/537.36", "Cốc Cốc 121 · Windows"),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox 128 · Linux"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Mobile/15E148 Safari/604.1", "Safari 17 · iPhone"),
    ("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36 "
     "Edg/126.0", "Edge 126 · Android"),
    ("Werkzeug/3.1", "Werkzeug/3.1"),
    ("x" * 80, "x" * 39 + "…"),
    (None, ""),
])
def test_user_agents_are_shortened(agent, short):
    from portal.admin.history import short_browser

    assert short_browser(agent) == short


# --- who may open the pages ---------------------------------------------------------------------------

def test_non_admins_get_403_everywhere(client, db, login, factory, home, victim):
    login(factory.person(Role.AGENCY_LEADER, Role.UNIT_HEAD, organisation=home))
    urls = [("GET", "/quan-tri/nguoi-dung"), ("GET", "/quan-tri/nguoi-dung/moi"), ("POST", "/quan-tri/nguoi-dung/moi"),
            ("GET", "/quan-tri/don-vi"), ("GET", "/quan-tri/danh-ba?q=huong"),
            ("GET", "/quan-tri/danh-ba/huong.nt/cap-quyen"), ("POST", "/quan-tri/danh-ba/huong.nt/cap-quyen"),
            *person_urls(victim)]
    for method, url in urls:
        for headers in ({}, HX):
            data = {"lock-reason": "x"} if method == "POST" else None
            resp = client.open(url, method=method, headers=headers, data=data)
            assert resp.status_code == 403, (method, url)
    db.expire_all()
    assert victim.status == UserStatus.ACTIVE


def test_anonymous_people_are_sent_to_sign_in(client, victim):
    resp = client.get(f"/quan-tri/nguoi-dung/{victim.id}")
    assert resp.status_code == 303
    assert resp.headers["Location"].startswith("/auth/login")
    resp = client.get(f"/quan-tri/nguoi-dung/{victim.id}", headers=HX)
    assert resp.headers["HX-Redirect"].startswith("/auth/login")


def test_every_post_needs_the_csrf_token(app, client, db, login, provincial, victim):
    login(provincial)
    pid = victim.positions[0].id
    base = f"/quan-tri/nguoi-dung/{victim.id}"
    posts = ["/quan-tri/nguoi-dung/moi", f"{base}/khoa", f"{base}/mo-khoa", f"{base}/vo-hieu-hoa",
             f"{base}/kich-hoat", f"{base}/dat-lai-mat-khau", f"{base}/chuc-vu/moi", f"{base}/chuc-vu/{pid}",
             f"{base}/chuc-vu/{pid}/ket-thuc", "/quan-tri/danh-ba/huong.nt/cap-quyen"]
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        for url in posts:
            resp = client.post(url, data={"lock-reason": "x", "disable-reason": "x", "title": "x", "roles": ["clerk"]})
            assert resp.status_code == 400, url
            assert "CSRF" in _body(resp)
        # with the token the person page renders, the same request goes through
        page = _body(client.get(base))
        token = re.search(r'name="lock-csrf_token" type="hidden" value="([^"]+)"', page)
        assert token, page
        assert client.post(f"{base}/khoa", data={"lock-csrf_token": token.group(1),
                                                 "lock-reason": ""}).status_code == 422
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    db.expire_all()
    assert victim.status == UserStatus.ACTIVE
    assert victim.must_change_password is False
    assert victim.positions[0].role_set == {Role.OFFICER}
    assert len(victim.positions) == 1


def test_admin_subnavigation(client, login, provincial):
    login(provincial)
    for url in ("/quan-tri/co-quan", "/quan-tri/nguoi-dung", "/quan-tri/danh-ba"):
        body = _body(client.get(url))
        for link in ('href="/quan-tri/co-quan"', 'href="/quan-tri/nguoi-dung"', 'href="/quan-tri/danh-ba"'):
            assert link in body, (url, link)
    assert re.search(r'href="/quan-tri/danh-ba" aria-current="page"', _body(client.get("/quan-tri/danh-ba")))


# --- the provincial directory ----------------------------------------------------------------------

def test_directory_not_configured_says_so(app, client, login, provincial):
    login(provincial)
    with configured(app, LDAP_URL=""):
        body = _body(client.get("/quan-tri/danh-ba", query_string={"q": "huong"}))
        assert "chưa cấu hình máy chủ danh bạ" in body
        resp = client.get("/quan-tri/danh-ba/huong.nt/cap-quyen")
        assert resp.status_code == 303
        assert resp.headers["Location"] == "/quan-tri/danh-ba"


def test_directory_down_is_503_with_a_message(app, client, db, login, provincial, home):
    login(provincial)
    with configured(app, LDAP_URL=closed_port_url(), LDAP_USER_BASE="ou=people,dc=x",
                    LDAP_BIND_DN="cn=svc,dc=x", LDAP_BIND_PASSWORD="x", LDAP_TIMEOUT=1):
        for headers in ({}, HX):
            resp = client.get("/quan-tri/danh-ba", query_string={"q": "huong"}, headers=headers)
            assert resp.status_code == 503
            assert "Không kết nối được máy chủ danh bạ" in _body(resp)
        resp = client.post("/quan-tri/danh-ba/huong.nt/cap-quyen", data={
            "organisation_id": home.id, "title": "Chuyên viên", "roles": ["officer"]})
        assert resp.status_code == 503
        assert "Không kết nối được máy chủ danh bạ" in _body(resp)
    assert db.execute(select(User).where(User.username == "huong.nt")).first() is None


def test_directory_search_and_provision(app, client, db, login, org_admin, home, factory, ldap_settings):
    unit = factory.unit(home, name="Phòng Tổng hợp")
    login(org_admin)
    with configured(app, **ldap_settings):
        body = _body(client.get("/quan-tri/danh-ba", query_string={"q": "huong"}))
        assert "Nguyễn Thị Hương" in body
        assert "huong.nt@hanam.gov.vn" in body
        assert 'href="/quan-tri/danh-ba/huong.nt/cap-quyen"' in body
        rows = _body(client.get("/quan-tri/danh-ba", query_string={"q": "huong"}, headers=HX))
        assert "<html" not in rows
        assert "huong.nt" in rows
        form = _body(client.get("/quan-tri/danh-ba/huong.nt/cap-quyen"))
        assert 'value="Chuyên viên"' in form  # title from the directory
        assert f'<option selected value="{unit.id}">Phòng Tổng hợp</option>' in form  # unit matched by name
        assert re.search(r'id="must_change_password"[^>]*checked|checked[^>]*id="must_change_password"', form)
        resp = client.post("/quan-tri/danh-ba/huong.nt/cap-quyen", data={
            "organisation_id": home.id, "unit_id": unit.id, "title": "Chuyên viên", "roles": ["officer"],
            "must_change_password": "y"})
        assert resp.status_code == 303
        user = db.execute(select(User).where(User.username == "huong.nt")).scalar_one()
        assert resp.headers["Location"] == f"/quan-tri/nguoi-dung/{user.id}"
        assert user.source == UserSource.DIRECTORY
        assert user.directory_id
        assert user.must_change_password is True
        assert user.password_hash is None
        assert user.positions[0].unit_id == unit.id
        [entry] = audited(db, "people.provision", user)
        assert entry.details_dict["must_change_password"] is True
        again = _body(client.get("/quan-tri/danh-ba", query_string={"q": "huong"}))
        assert f'href="/quan-tri/nguoi-dung/{user.id}"' in again
        assert "Đã có tài khoản" in again
        twice = client.post("/quan-tri/danh-ba/huong.nt/cap-quyen", data={
            "organisation_id": home.id, "title": "Chuyên viên", "roles": ["officer"]})
        assert twice.status_code == 422
        assert "Người này đã có tài khoản trên hệ thống." in _body(twice)


def test_provision_without_forced_change_and_refusals(app, client, db, login, org_admin, home, ldap_settings):
    login(org_admin)
    with configured(app, **ldap_settings):
        assert client.get("/quan-tri/danh-ba/khong.co.ai/cap-quyen").status_code == 404
        denied = client.post("/quan-tri/danh-ba/dung.lv/cap-quyen", data={
            "organisation_id": home.id, "title": "Trưởng phòng", "roles": ["officer", "system_admin"]})
        assert denied.status_code == 403
        assert db.execute(select(User).where(User.username == "dung.lv")).first() is None
        invalid = client.post("/quan-tri/danh-ba/dung.lv/cap-quyen", data={
            "organisation_id": home.id, "title": "", "roles": ["officer"]})
        assert invalid.status_code == 422
        assert "Hãy nhập chức vụ." in _body(invalid)
        resp = client.post("/quan-tri/danh-ba/dung.lv/cap-quyen", data={
            "organisation_id": home.id, "title": "Trưởng phòng", "roles": ["unit_head"]})
        assert resp.status_code == 303
        user = db.execute(select(User).where(User.username == "dung.lv")).scalar_one()
        assert user.must_change_password is False
        assert user.positions[0].role_set == {Role.UNIT_HEAD}
