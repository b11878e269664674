"""Fragment or page, redirects for htmx, error pages, CSRF, security headers and /healthz."""

from __future__ import annotations

import re

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import select

from portal import create_app, migrate
from portal.audit import AuditEntry
from portal.auth.models import Role
from portal.db import session as db_session
from tests.conftest import PASSWORD, TEST_SETTINGS

HX = {"HX-Request": "true"}
BOOSTED = {"HX-Request": "true", "HX-Boosted": "true"}
HISTORY_RESTORE = {"HX-Request": "true", "HX-History-Restore-Request": "true"}


@pytest.fixture
def admin(factory, login):
    person = factory.person(Role.SYSTEM_ADMIN, full_name="Hoàng Quản Trị")
    login(person)
    return person


@pytest.fixture
def officer(factory, login):
    person = factory.person(Role.OFFICER)
    login(person)
    return person


# --- anonymous visitors ---------------------------------------------------------------------------

def test_anonymous_page_redirects_to_login_with_next(client):
    resp = client.get("/quan-tri/nguoi-dung?q=lan")
    assert resp.status_code in (302, 303)
    assert resp.headers["Location"] == "/auth/login?next=%2Fquan-tri%2Fnguoi-dung%3Fq%3Dlan"
    assert "HX-Redirect" not in resp.headers


def test_anonymous_dashboard_redirects_to_login(client):
    resp = client.get("/")
    assert resp.status_code in (302, 303)
    assert resp.headers["Location"] == "/auth/login?next=%2F"


def test_anonymous_htmx_gets_hx_redirect_not_a_302(client):
    """A 302 would be followed by the browser and the login page swapped into the target."""
    resp = client.get("/quan-tri/nguoi-dung?q=lan", headers=HX)
    assert resp.status_code == 200
    assert "Location" not in resp.headers
    assert resp.headers["HX-Redirect"] == "/auth/login?next=%2Fquan-tri%2Fnguoi-dung%3Fq%3Dlan"
    assert resp.get_data(as_text=True) == ""


def test_anonymous_htmx_post_returns_to_the_page_it_came_from(client):
    resp = client.post("/quan-tri/co-quan/moi",
                       headers={**HX, "HX-Current-URL": "http://localhost/quan-tri/co-quan?trang=2"})
    assert resp.headers["HX-Redirect"] == "/auth/login?next=%2Fquan-tri%2Fco-quan%3Ftrang%3D2"


def test_anonymous_htmx_post_from_elsewhere_returns_to_the_dashboard(client):
    resp = client.post("/quan-tri/co-quan/moi", headers={**HX, "HX-Current-URL": "https://evil.example/x"})
    assert resp.headers["HX-Redirect"] in ("/auth/login?next=%2F", "/auth/login?next=%2Fx")
    resp = client.post("/quan-tri/co-quan/moi", headers=HX)
    assert resp.headers["HX-Redirect"] == "/auth/login?next=%2F"


def test_healthz_needs_no_sign_in(client, db, database_url):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.is_json
    data = resp.get_json()
    assert data["status"] == "ok"
    database = data["database"]
    assert database["status"] == "ok"
    assert database["dialect"] == db.get_bind().dialect.name
    assert re.match(r"^\d+\.\d+", database["version"])
    head = ScriptDirectory.from_config(migrate.alembic_config(database_url)).get_current_head()
    assert database["schema_revision"] == head


# --- fragment or page -----------------------------------------------------------------------------

@pytest.mark.parametrize(("headers", "whole_page"), [
    ({}, True),
    (BOOSTED, True),
    (HISTORY_RESTORE, True),
    (HX, False),
])
def test_people_list_is_a_page_or_only_the_rows(client, admin, headers, whole_page):
    resp = client.get("/quan-tri/nguoi-dung", headers=headers)
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert ("<html" in body) is whole_page
    assert "Hoàng Quản Trị" in body
    assert "HX-Request" in resp.headers["Vary"]
    if not whole_page:
        assert body.lstrip().startswith("<tr>")
        assert 'id="people-rows"' not in body


@pytest.mark.parametrize("url", ["/", "/auth/login", "/quan-tri/co-quan", "/khong-co-trang-nay"])
def test_every_answer_varies_on_hx_request(client, admin, url):
    assert "HX-Request" in client.get(url).headers["Vary"]


def test_fragment_carries_flashes_out_of_band(client, admin, factory):
    province = factory.province()
    created = client.post("/quan-tri/co-quan/moi", data={
        "name": "Sở Khoa học và Công nghệ", "short_name": "SKHCN", "kind": "department",
        "is_issuing": "y", "parent_id": str(province.id), "organ_id": "H90.30"})
    assert created.status_code == 303
    body = client.get("/quan-tri/nguoi-dung", headers=HX).get_data(as_text=True)
    assert "<html" not in body
    flashes = re.search(r'<div id="flashes"[^>]*>.*?</div>\s*</div>', body, re.S)
    assert flashes, body
    assert 'hx-swap-oob="true"' in flashes.group(0)
    assert "Đã thêm “Sở Khoa học và Công nghệ”." in flashes.group(0)
    # shown once: the next fragment carries an empty flash area
    again = client.get("/quan-tri/nguoi-dung", headers=HX).get_data(as_text=True)
    assert "Đã thêm" not in again


def test_htmx_write_answers_with_hx_redirect(client, admin, factory):
    province = factory.province()
    resp = client.post("/quan-tri/co-quan/moi", headers=HX, data={
        "name": "Sở Y tế", "short_name": "SYT", "kind": "department", "is_issuing": "y",
        "parent_id": str(province.id)})
    assert resp.status_code == 200
    assert resp.headers["HX-Redirect"] == "/quan-tri/co-quan"
    assert "Location" not in resp.headers


# --- error pages ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("headers", "whole_page"), [({}, True), (BOOSTED, True), (HX, False)])
def test_forbidden_page_is_vietnamese(client, officer, headers, whole_page):
    resp = client.get("/quan-tri/co-quan", headers=headers)
    assert resp.status_code == 403
    body = resp.get_data(as_text=True)
    assert "Không có quyền truy cập" in body
    assert "Bạn không có quyền thực hiện thao tác này." in body
    assert "Forbidden" not in body
    assert ("<html" in body) is whole_page


@pytest.mark.parametrize(("headers", "whole_page"), [({}, True), (HX, False)])
def test_not_found_page_is_vietnamese(client, headers, whole_page):
    resp = client.get("/khong-co-trang-nay", headers=headers)
    assert resp.status_code == 404
    body = resp.get_data(as_text=True)
    assert "Không tìm thấy" in body
    assert "Not Found" not in body
    assert ("<html" in body) is whole_page
    if whole_page:
        assert 'lang="vi"' in body


def test_unknown_object_is_a_vietnamese_404(client, admin):
    resp = client.get("/quan-tri/co-quan/999999")
    assert resp.status_code == 404
    assert "Không tìm thấy" in resp.get_data(as_text=True)


def test_wrong_method_is_vietnamese(client):
    resp = client.get("/auth/logout")
    assert resp.status_code == 405
    assert "Phương thức không được hỗ trợ" in resp.get_data(as_text=True)


@pytest.fixture
def crashing_app(app, database_url, tmp_path):
    """A separate app: the session-scoped one must not gain routes. Exceptions are not propagated,
    as in production, so the 500 handler answers. Its create_app rebinds the shared session, so
    the binding goes back to the suite's app afterwards."""
    crashing = create_app({**TEST_SETTINGS, "DATABASE_URL": database_url, "STORAGE_DIR": str(tmp_path),
                           "PROPAGATE_EXCEPTIONS": False})

    @crashing.get("/hong")
    def broken():
        raise RuntimeError("boom")

    yield crashing
    crashing.extensions["engine"].dispose()
    db_session.configure(bind=app.extensions["engine"])


@pytest.mark.parametrize(("headers", "whole_page"), [({}, True), (HX, False)])
def test_server_error_page_is_vietnamese(crashing_app, headers, whole_page):
    resp = crashing_app.test_client().get("/hong", headers=headers)
    assert resp.status_code == 500
    body = resp.get_data(as_text=True)
    assert "Lỗi hệ thống" in body
    assert "Thao tác chưa được lưu" in body
    assert "boom" not in body
    assert "Internal Server Error" not in body
    assert ("<html" in body) is whole_page


# --- CSRF -----------------------------------------------------------------------------------------

def test_body_sends_the_csrf_token_with_every_htmx_request(client):
    body = client.get("/auth/login").get_data(as_text=True)
    assert re.search(r'<body[^>]* hx-headers=\'\{"X-CSRFToken": "[^"]+"\}\'', body)


@pytest.fixture
def csrf_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


@pytest.mark.parametrize("headers", [{}, HX])
def test_post_without_csrf_token_is_refused_in_vietnamese(client, csrf_on, factory, headers):
    person = factory.person()
    resp = client.post("/auth/login", data={"username": person.username, "password": PASSWORD},
                       headers=headers)
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert "thiếu mã bảo vệ CSRF" in body
    assert "The CSRF token is missing" not in body


def test_post_with_the_header_token_passes_csrf(client, csrf_on, factory):
    person = factory.person()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    resp = client.post("/auth/login", data={"username": person.username, "password": PASSWORD},
                       headers={"X-CSRFToken": token})
    assert resp.status_code == 303


def test_sign_out_without_csrf_token_is_refused(client, csrf_on, factory, db):
    person = factory.person()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/auth/login", data={"username": person.username, "password": PASSWORD, "csrf_token": token})
    assert client.post("/auth/logout").status_code == 400
    assert client.get("/").status_code == 200  # still signed in
    assert db.execute(select(AuditEntry).where(AuditEntry.action == "auth.sign_out")).first() is None


# --- headers and assets ---------------------------------------------------------------------------

def _csp(resp) -> dict[str, str]:
    return dict(([*part.strip().split(" ", 1), ""])[:2] for part in resp.headers["Content-Security-Policy"].split(";"))


@pytest.mark.parametrize("url", ["/auth/login", "/khong-co-trang-nay"])
def test_security_headers(client, url):
    resp = client.get(url)
    csp = _csp(resp)
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")


def test_signed_in_pages_are_not_cached(client, admin):
    for url in ("/", "/quan-tri/nguoi-dung"):
        assert "no-store" in client.get(url).headers["Cache-Control"]
    assert "no-store" in client.get("/quan-tri/nguoi-dung", headers=HX).headers["Cache-Control"]


def test_htmx_is_vendored_and_no_cdn_is_referenced(client, admin):
    body = client.get("/").get_data(as_text=True)
    assert '<script src="/static/js/htmx.min.js"' in body
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", body)
    assert "http://" not in body
    assert "https://" not in body
    script = client.get("/static/js/htmx.min.js")
    assert script.status_code == 200
    assert b"htmx" in script.data[:2000]
    script.close()


def test_htmx_config_swaps_422_and_keeps_history_restores_whole(client):
    body = client.get("/auth/login").get_data(as_text=True)
    meta = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'', body).group(1)
    assert '"historyRestoreAsHxRequest": false' in meta
    assert '{"code": "422", "swap": true}' in meta
    assert '{"code": "204", "swap": false}' in meta


@pytest.mark.parametrize(("proxies", "expected"), [(0, "127.0.0.1"), (1, "203.0.113.7")])
def test_client_address_comes_from_a_trusted_proxy_only(app, database_url, tmp_path, proxies, expected):
    """Behind nginx every audit row would name the proxy; without a trusted proxy a client could
    forge X-Forwarded-For. The failed sign-in's audit row shows which address was taken."""
    from sqlalchemy import select

    from portal.audit import AuditEntry

    proxied = create_app({**TEST_SETTINGS, "DATABASE_URL": database_url, "STORAGE_DIR": str(tmp_path),
                          "TRUSTED_PROXIES": proxies})
    username = f"khongtontai{proxies}"
    try:
        resp = proxied.test_client().post("/auth/login", data={"username": username, "password": "Sai@mật-khẩu1"},
                                          headers={"X-Forwarded-For": "203.0.113.7"},
                                          environ_base={"REMOTE_ADDR": "127.0.0.1"})
        assert resp.status_code == 422
        with proxied.app_context():
            row = db_session.execute(select(AuditEntry).where(AuditEntry.actor_name == username)).scalar_one()
            assert row.ip == expected
    finally:
        proxied.extensions["engine"].dispose()
        db_session.configure(bind=app.extensions["engine"])
