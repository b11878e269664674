"""Local sign-in (argon2id), server-side sessions, sign-out, safe ``next`` and position switching."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.audit import AuditEntry
from portal.auth import accounts
from portal.auth.models import AuthSession, Role, UserStatus
from portal.auth.services import BAD_CREDENTIALS
from tests.conftest import PASSWORD

HX = {"HX-Request": "true"}


def _audit(db, action: str) -> list[AuditEntry]:
    return list(db.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)).scalars())


def _sessions(db, user) -> list[AuthSession]:
    return list(db.execute(select(AuthSession).where(AuthSession.user_id == user.id)).scalars())


def _post_login(client, username: str, password: str, **kw):
    return client.post("/auth/login", data={"username": username, "password": password}, **kw)


def test_password_is_stored_as_argon2id(factory):
    person = factory.person()
    assert person.password_hash.startswith("$argon2id$")
    assert PASSWORD not in person.password_hash


def test_correct_password_opens_a_session_and_is_audited(client, db, factory):
    person = factory.person()
    resp = _post_login(client, person.username, PASSWORD)
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/"
    [row] = _sessions(db, person)
    assert row.ended_at is None
    assert row.position_id == person.positions[0].id
    [entry] = _audit(db, "auth.sign_in")
    assert entry.actor_id == person.id


def test_username_is_case_insensitive(client, factory):
    factory.person(username="tran.lan")
    assert _post_login(client, "Tran.Lan", PASSWORD).status_code == 303


def _without_volatile_parts(body: str, username: str) -> str:
    """The CSRF token is signed with a timestamp and the typed name is echoed back; nothing else
    may differ between an unknown user and a wrong password."""
    body = re.sub(r'"X-CSRFToken": "[^"]*"', "", body)
    return body.replace(f'value="{username}"', 'value="…"')


def test_wrong_password_and_unknown_user_look_the_same(client, db, factory):
    person = factory.person()
    wrong = _post_login(client, person.username, "sai-mat-khau-123")
    unknown = _post_login(client, "khong.ton.tai", "sai-mat-khau-123")
    assert wrong.status_code == unknown.status_code == 422
    wrong_body, unknown_body = wrong.get_data(as_text=True), unknown.get_data(as_text=True)
    assert BAD_CREDENTIALS == "Tên đăng nhập hoặc mật khẩu không đúng, hoặc tài khoản đang tạm khóa."
    assert BAD_CREDENTIALS in wrong_body
    assert (_without_volatile_parts(wrong_body, person.username)
            == _without_volatile_parts(unknown_body, "khong.ton.tai"))
    failures = _audit(db, "auth.sign_in_failed")
    assert [f.details_dict["username"] for f in failures] == [person.username, "khong.ton.tai"]
    assert [f.details_dict["reason"] for f in failures] == ["bad_credentials", "bad_credentials"]
    assert "sai-mat-khau-123" not in "".join(f.details for f in failures)
    assert _sessions(db, person) == []
    assert _audit(db, "auth.sign_in") == []


def test_empty_form_is_refused_with_field_messages(client):
    resp = _post_login(client, "", "")
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "Hãy nhập tên đăng nhập." in body
    assert "Hãy nhập mật khẩu." in body


@pytest.mark.parametrize("status", [UserStatus.LOCKED, UserStatus.DISABLED])
def test_locked_and_disabled_accounts_are_refused_with_the_same_message(client, db, factory, status):
    person = factory.person()
    person.status = status
    db.flush()
    resp = _post_login(client, person.username, PASSWORD)
    assert resp.status_code == 422
    assert BAD_CREDENTIALS in resp.get_data(as_text=True)
    assert _sessions(db, person) == []
    [entry] = _audit(db, "auth.sign_in_failed")
    assert entry.details_dict["reason"] == f"status_{status.value}"


def test_sign_out_ends_the_server_side_session(app, client, db, factory, login):
    person = factory.person()
    login(person)
    stolen = app.test_client()
    stolen.set_cookie("qlvb_session", client.get_cookie("qlvb_session").value)
    assert stolen.get("/").status_code == 200  # the copied cookie works while the session lives

    resp = client.post("/auth/logout")
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/auth/login"
    [row] = _sessions(db, person)
    db.refresh(row)
    assert row.ended_at is not None
    assert row.end_reason == "sign_out"
    assert len(_audit(db, "auth.sign_out")) == 1

    after = stolen.get("/")
    assert after.status_code == 303
    assert after.headers["Location"].startswith("/auth/login")
    assert client.get("/").status_code == 303


def test_sign_out_needs_post(client, factory, login):
    login(factory.person())
    assert client.get("/auth/logout").status_code == 405


def test_a_locked_account_loses_its_open_session(client, db, factory, login):
    person = factory.person()
    login(person)
    person.status = UserStatus.LOCKED
    db.flush()
    assert client.get("/").status_code == 303


@pytest.mark.parametrize(("target", "landing"), [
    ("/quan-tri/co-quan", "/quan-tri/co-quan"),
    ("/?trang=2", "/?trang=2"),
    ("//evil.example", "/"),
    ("//evil.example/auth/login", "/"),
    ("https://evil.example/", "/"),
    ("/\\evil.example", "/"),
    ("/\t/evil.example", "/"),
    ("/\n/evil.example", "/"),
    ("javascript:alert(1)", "/"),
    ("", "/"),
])
def test_next_only_allows_local_paths(client, factory, target, landing):
    person = factory.person(Role.SYSTEM_ADMIN)
    resp = client.post("/auth/login", data={"username": person.username, "password": PASSWORD, "next": target})
    assert resp.status_code == 303
    assert resp.headers["Location"] == landing


def test_login_form_carries_next_through(client):
    body = client.get("/auth/login?next=/quan-tri/co-quan").get_data(as_text=True)
    assert 'name="next" type="hidden" value="/quan-tri/co-quan"' in body


def test_signed_in_visit_to_login_goes_on(client, factory, login):
    login(factory.person())
    resp = client.get("/auth/login?next=//evil.example")
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/"


def test_htmx_login_answers_with_hx_redirect(client, factory):
    person = factory.person()
    resp = _post_login(client, person.username, PASSWORD, headers={**HX, "HX-Boosted": "true"})
    assert resp.status_code == 200
    assert resp.headers["HX-Redirect"] == "/"
    assert "Location" not in resp.headers


def test_failed_htmx_login_is_a_whole_page_with_422(client):
    resp = _post_login(client, "khong.ton.tai", "x", headers={**HX, "HX-Boosted": "true"})
    assert resp.status_code == 422
    assert "<html" in resp.get_data(as_text=True)


def _header(body: str) -> str:
    return body[body.index("<header"):body.index("</header>")]


def test_header_shows_who_where_and_roles(client, factory, login):
    org = factory.organisation(name="Sở Tài chính", short_name="STC")
    unit = factory.unit(org, name="Phòng Ngân sách")
    person = factory.person(Role.UNIT_HEAD, Role.CLERK, organisation=org, unit=unit,
                            full_name="Lê Minh Tuấn", title="Trưởng phòng")
    login(person)
    header = _header(client.get("/").get_data(as_text=True))
    for text in ("Lê Minh Tuấn", "Trưởng phòng", "Phòng Ngân sách", "Sở Tài chính",
                 "Lãnh đạo đơn vị", "Văn thư"):
        assert text in header
    assert "Chuyển sang" not in header


def _two_posts(factory):
    home = factory.organisation(name="Sở Nội vụ", short_name="SNV")
    other = factory.organisation(name="Ban Thi đua Khen thưởng", short_name="BTĐKT")
    person = accounts.create_person(None, accounts.PersonData(
        username="kiem.nhiem", full_name="Phạm Thu Hà", positions=[
            accounts.PositionData(organisation_id=home.id, title="Phó Giám đốc", roles=[Role.AGENCY_LEADER]),
            accounts.PositionData(organisation_id=other.id, title="Trưởng ban", roles=[Role.ORG_ADMIN],
                                  is_primary=False),
        ]), password=PASSWORD)
    return person, home, other


def test_a_person_with_two_positions_can_switch(client, db, factory, login):
    person, _home, other = _two_posts(factory)
    login(person)
    header = _header(client.get("/").get_data(as_text=True))
    assert "Sở Nội vụ" in header
    assert "Phó Giám đốc" in header
    assert "Chuyển sang: Trưởng ban, BTĐKT" in header

    second = person.positions[1]
    resp = client.post(f"/auth/position/{second.id}")
    assert resp.status_code == 303
    header = _header(client.get("/").get_data(as_text=True))
    assert "Ban Thi đua Khen thưởng" in header
    assert "Trưởng ban" in header
    assert "Quản trị cơ quan" in header
    assert "Lãnh đạo cơ quan" not in header
    assert "Chuyển sang: Phó Giám đốc, SNV" in header
    [entry] = _audit(db, "auth.switch_position")
    assert entry.organisation_id == other.id


def test_switch_to_someone_elses_position_is_refused(client, db, factory, login):
    person = factory.person()
    stranger = factory.person()
    login(person)
    resp = client.post(f"/auth/position/{stranger.positions[0].id}")
    assert resp.status_code == 403
    assert "Chức vụ này không thuộc về bạn" in resp.get_data(as_text=True)
    assert len(_audit(db, "access.denied")) == 1


def test_switch_position_in_htmx_answers_with_hx_redirect(client, factory, login):
    person, _home, _other = _two_posts(factory)
    login(person)
    resp = client.post(f"/auth/position/{person.positions[1].id}", headers=HX)
    assert resp.headers["HX-Redirect"] == "/"
