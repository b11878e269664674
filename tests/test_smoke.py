from portal.auth.models import Role


def test_login_page_is_vietnamese(client):
    resp = client.get("/auth/login")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert 'lang="vi"' in body
    assert "Đăng nhập" in body


def test_sign_in_shows_dashboard(client, factory, login):
    org = factory.organisation(name="Sở Nội vụ", short_name="SNV")
    clerk = factory.person(Role.CLERK, organisation=org, full_name="Trần Thị Lan", title="Văn thư")
    login(clerk)
    body = client.get("/").get_data(as_text=True)
    assert "Trần Thị Lan" in body
    assert "Sở Nội vụ" in body
    assert "Văn thư" in body
