"""Every step of account administration's table (auth/management.py: ACCOUNT), and the new-account
form, sent twice at the same moment over real HTTP by an admin who may act (issue 14): one effect,
one audit row, clear answers (one success, one notice saying what already happened, 409 for an
htmx pair), never 403 or 500. A new step in the table without a scenario here fails. One live
database per module."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select

from portal import once
from portal.auth import management
from portal.auth.models import Role, User, UserStatus
from portal.db import session as db_session
from tests.conftest import Factory
from tests.http_concurrency import Person, twice
from tests.step_pairs import audit_rows, clear_answers, follow, live_server, quiet, read, scenario_for

U = UserStatus
VICTIMS = 8


@pytest.fixture(scope="module")
def live(fresh_database_url, tmp_path_factory) -> Iterator[dict]:
    for _app, base in live_server(fresh_database_url(), tmp_path_factory.mktemp("storage")):
        factory = Factory(db_session())
        home = factory.organisation(name="Sở Nội vụ Đồng Thời", short_name="SNVĐT")
        admin = factory.person(Role.ORG_ADMIN, organisation=home, username="qt.dongthoi", full_name="Quản Trị Nội Vụ")
        victims = [factory.person(Role.OFFICER, organisation=home, username=f"nv{i}.dongthoi") for i in range(VICTIMS)]
        ids = [v.id for v in victims]
        home_id, admin_name = home.id, admin.username
        db_session.commit()
        db_session.remove()
        yield {"base": base, "admin": Person(base, admin_name), "victims": iter(ids), "home": home_id}


def status(user_id: int) -> UserStatus:
    return read(select(User.status).where(User.id == user_id))


def _victim(live: dict, state: UserStatus) -> int:
    """A fresh person, brought to ``state`` through the real pages."""
    user_id = next(live["victims"])
    path = f"/quan-tri/nguoi-dung/{user_id}"
    if state == U.LOCKED:
        assert live["admin"].post(f"{path}/khoa", data={"lock-reason": "Chuẩn bị"}).status_code == 303
    if state == U.DISABLED:
        assert live["admin"].post(f"{path}/vo-hieu-hoa", data={"disable-reason": "Chuẩn bị"}).status_code == 303
    assert status(user_id) == state
    quiet(live["admin"])
    return user_id


def _status_step(start: UserStatus, path: str, action: str, end: UserStatus, success: str, notice: str,
                 form: dict | None = None, htmx: bool = False) -> Callable[[dict], None]:
    def run(live: dict) -> None:
        user_id = _victim(live, start)
        answers = twice(live["admin"], "POST", f"/quan-tri/nguoi-dung/{user_id}/{path}", data=form or {}, htmx=htmx)
        assert status(user_id) == end
        assert audit_rows(f"people.{action}", user_id) == 1
        clear_answers(live["admin"], answers, success=success, notice=notice, htmx=htmx)
    return run


def _reset_twice(live: dict) -> None:
    """The reset form twice with its token: one temporary password (shown once), the other press
    is told it was reset already, never a second password that voids the first."""
    user_id = _victim(live, U.ACTIVE)
    answers = twice(live["admin"], "POST", f"/quan-tri/nguoi-dung/{user_id}/dat-lai-mat-khau",
                    data={once.FIELD: once.new_token()})
    assert audit_rows("people.reset_password", user_id) == 1
    assert sorted(a.status_code for a in answers) == [200, 303], [a.text[:300] for a in answers]
    shown = next(a for a in answers if a.status_code == 200)
    assert 'id="temporary-password"' in shown.text
    notice = follow(live["admin"], next(a for a in answers if a.status_code == 303))
    assert "đã được đặt lại lúc" in notice
    assert "temporary-password" not in notice


def test_the_new_account_form_twice_with_its_token_makes_one_account(live):
    quiet(live["admin"])
    form = {"username": "moi.dongthoi", "full_name": "Phạm Thị Mới", "organisation_id": str(live["home"]),
            "title": "Chuyên viên", "roles": ["officer"], once.FIELD: once.new_token()}
    answers = twice(live["admin"], "POST", "/quan-tri/nguoi-dung/moi", data=form)
    assert read(select(func.count()).select_from(User).where(User.username == "moi.dongthoi")) == 1
    made = read(select(User.id).where(User.username == "moi.dongthoi"))
    assert audit_rows("people.create", made) == 1
    assert sorted(a.status_code for a in answers) == [200, 303], [a.text[:300] for a in answers]
    assert 'id="temporary-password"' in next(a for a in answers if a.status_code == 200).text
    again = next(a for a in answers if a.status_code == 303)
    assert again.headers["Location"] == f"/quan-tri/nguoi-dung/{made}"
    assert "đã được tạo từ lần gửi trước" in follow(live["admin"], again)


SCENARIOS: dict[tuple[str, str], Callable[[dict], None]] = {
    ("account", "lock"): _status_step(U.ACTIVE, "khoa", "lock", U.LOCKED, "Đã khóa tài khoản của",
                                      "Tài khoản đã bị khóa lúc", form={"lock-reason": "Nghi lộ mật khẩu"}),
    ("account", "unlock"): _status_step(U.LOCKED, "mo-khoa", "unlock", U.ACTIVE, "Đã mở khóa tài khoản của",
                                        "Tài khoản đã được mở khóa lúc"),
    ("account", "disable"): _status_step(U.ACTIVE, "vo-hieu-hoa", "disable", U.DISABLED,
                                         "Đã vô hiệu hóa tài khoản của", "Tài khoản đã bị vô hiệu hóa lúc",
                                         form={"disable-reason": "Nghỉ hưu"}),
    ("account", "enable"): _status_step(U.DISABLED, "kich-hoat", "enable", U.ACTIVE, "Đã kích hoạt lại",
                                        "Tài khoản đã được kích hoạt lại lúc", htmx=True),
    ("account", "reset_password"): _reset_twice,
}
STEPS = [(management.ACCOUNT.name, action) for action in management.ACCOUNT.transitions]


@pytest.mark.parametrize("key", STEPS, ids=[f"{t}.{a}" for t, a in STEPS])
def test_the_same_step_twice_at_once_happens_once(live, key):
    scenario_for(SCENARIOS, key)(live)


def test_every_scenario_is_a_step_of_the_table():
    assert set(SCENARIOS) <= set(STEPS), set(SCENARIOS) - set(STEPS)
