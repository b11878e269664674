"""For every state × person × step of the schedule tables (WEEK, ENTRY) and the account table
(ACCOUNT), what the page offers is exactly what the server accepts (issue 14)."""

from __future__ import annotations

from datetime import date, time

import pytest

from portal.auth import management
from portal.auth.models import Role, UserSource, UserStatus
from portal.errors import DomainError
from portal.schedules import services
from portal.schedules.models import WeekState
from portal.workflow import AlreadyDone
from tests.incoming_fixtures import act

MONDAY = date(2026, 3, 2)
S = WeekState


def accepted(db, call) -> bool:
    """Whether the server lets the step through; changes nothing either way."""
    savepoint = db.begin_nested()
    try:
        call()
        return True
    except (DomainError, AlreadyDone):
        return False
    finally:
        savepoint.rollback()
        db.expire_all()


def offered(client, path: str, markers: dict[str, str]) -> set[str]:
    resp = client.get(path)
    if resp.status_code in (403, 404):
        return set()
    assert resp.status_code == 200, resp.status_code
    body = resp.get_data(as_text=True)
    return {action for action, marker in markers.items() if marker in body}


# --- the schedule ----------------------------------------------------------------------------------

@pytest.fixture
def schedule(db, factory, app, login):
    org = factory.organisation(name="Sở Bảng Quyền", short_name="SBQ")
    unit = factory.unit(org, name="Phòng Bảng Quyền")
    people = {
        "editor": act(factory.person(Role.SCHEDULE_EDITOR, organisation=org, unit=unit)),
        "leader": act(factory.person(Role.AGENCY_LEADER, organisation=org, title="Giám đốc")),
        "head": act(factory.person(Role.UNIT_HEAD, organisation=org, unit=unit, title="Trưởng phòng")),
        "staff": act(factory.person(Role.OFFICER, organisation=org)),
        "outsider": act(factory.person(Role.SCHEDULE_EDITOR, Role.AGENCY_LEADER)),
    }
    clients = {name: login(user, c=app.test_client()) for name, user in people.items()}
    return org, unit, people, clients


def _week_in(state, cal, p, *, cancelled: bool = False):
    editor = p["editor"] if services.is_editor(p["editor"], cal) else p["head"]
    approver = p["leader"] if services.is_approver(p["leader"], cal) else p["head"]
    entry, _ = services.add_entry(editor, cal, MONDAY, services.EntryData(day=MONDAY, start=time(8), content="Họp"))
    week = entry.week
    moves = [lambda: services.submit(editor, cal, MONDAY), lambda: services.approve(approver, week),
             lambda: services.publish(approver, week)]
    for move in moves[:list(S).index(state)]:
        move()
    if cancelled:
        services.cancel_entry(editor, entry)
    return week, entry


CASES = [(cal, state, cancelled) for cal in ("organisation", "unit") for state in S
         for cancelled in ((False, True) if state == S.PUBLISHED else (False,))]


@pytest.mark.parametrize(("which", "state", "cancelled"), CASES)
def test_the_week_page_offers_what_the_server_accepts(db, schedule, which, state, cancelled):
    org, unit, p, clients = schedule
    cal = services.calendar_for(org, unit if which == "unit" else None)
    week, entry = _week_in(state, cal, p, cancelled=cancelled)
    base = f"/lich-cong-tac/lich/{cal.id}/{MONDAY.isoformat()}"
    week_markers = {"edit": f"{base}/them", "submit": f"{base}/gui-duyet\"", "approve": f"{base}/duyet\"",
                    "return": f"{base}/tra-lai\"", "publish": f"{base}/cong-bo\""}
    entry_markers = {"change": f"/lich-cong-tac/muc/{entry.id}/sua\"", "cancel": f"/lich-cong-tac/muc/{entry.id}/huy\""}
    assert set(week_markers) == set(services.WEEK.transitions)
    assert set(entry_markers) == set(services.ENTRY.transitions)
    data = services.EntryData(day=MONDAY, start=time(15), content="Làm việc với đoàn công tác")
    steps = {
        "edit": lambda u: services.add_entry(u, cal, MONDAY, data),
        "submit": lambda u: services.submit(u, cal, MONDAY),
        "approve": lambda u: services.approve(u, week),
        "return": lambda u: services.return_week(u, week, "Chưa đủ."),
        "publish": lambda u: services.publish(u, week),
    }
    entry_steps = {"change": lambda u: services.update_entry(u, entry, data),
                   "cancel": lambda u: services.cancel_entry(u, entry)}
    page = f"/lich-cong-tac/?lich={cal.id}&tuan={MONDAY.isoformat()}"
    seen: set[str] = set()
    for name, user in p.items():
        on_page = offered(clients[name], page, {**week_markers, **entry_markers})
        seen |= on_page
        server = {a for a, call in {**steps, **entry_steps}.items() if accepted(db, lambda c=call, u=user: c(u))}
        assert on_page == server, (name, which, state, cancelled)
        visible = services.can_see_week(user, cal, week)
        assert server == ((services.WEEK.allowed(user, week) | services.ENTRY.allowed(user, entry))
                          if visible else set()), (name, state)
    assert seen  # someone may always act on a week: the markers do find the page's forms


# --- accounts --------------------------------------------------------------------------------------

@pytest.fixture
def accounts(db, factory, app, login):
    home = factory.organisation(name="Sở Nội vụ Bảng", short_name="SNVB")
    away = factory.organisation(name="Sở Tài chính Bảng", short_name="STCB")
    admins = {
        "provincial": factory.person(Role.SYSTEM_ADMIN, organisation=factory.province(), username="qt.tinh.bang"),
        "org_admin": factory.person(Role.ORG_ADMIN, organisation=home, username="qt.snv.bang"),
        "other_admin": factory.person(Role.ORG_ADMIN, organisation=away, username="qt.stc.bang"),
        "officer": factory.person(Role.OFFICER, organisation=home, username="cv.snv.bang"),
    }
    for admin in admins.values():
        act(admin)
    clients = {name: login(user, c=app.test_client()) for name, user in admins.items()}
    return home, admins, clients


ACCOUNT_MARKERS = {"lock": "/khoa\"", "unlock": "/mo-khoa\"", "disable": "/vo-hieu-hoa\"", "enable": "/kich-hoat\"",
                   "reset_password": "/dat-lai-mat-khau\""}


@pytest.mark.parametrize("source", [UserSource.LOCAL, UserSource.DIRECTORY])
@pytest.mark.parametrize("status", list(UserStatus))
def test_the_person_page_offers_what_the_server_accepts(db, factory, accounts, status, source):
    home, admins, clients = accounts
    assert set(ACCOUNT_MARKERS) == set(management.ACCOUNT.transitions)
    person = factory.person(Role.OFFICER, organisation=home)
    person.status, person.source = status, source
    if source == UserSource.DIRECTORY:
        person.directory_id = f"dir-{person.id}"
    db.flush()
    steps = {"lock": lambda a: management.lock(a, person, "Lý do"), "unlock": lambda a: management.unlock(a, person),
             "disable": lambda a: management.disable(a, person, "Lý do"),
             "enable": lambda a: management.enable(a, person),
             "reset_password": lambda a: management.reset_password(a, person)}
    seen: set[str] = set()
    targets = {"person": person, **{f"self:{n}": a for n, a in admins.items() if n != "officer"}}
    for target_name, target in targets.items():
        for name, admin in admins.items():
            if target_name.startswith("self:") and target_name != f"self:{name}":
                continue
            if target is not person:
                steps_for = {"lock": lambda a, t=target: management.lock(a, t, "Lý do"),
                             "disable": lambda a, t=target: management.disable(a, t, "Lý do"),
                             "reset_password": lambda a, t=target: management.reset_password(a, t)}
            else:
                steps_for = steps
            on_page = offered(clients[name], f"/quan-tri/nguoi-dung/{target.id}",
                              {a: f"/quan-tri/nguoi-dung/{target.id}{m}" for a, m in ACCOUNT_MARKERS.items()})
            server = {a for a, call in steps_for.items() if accepted(db, lambda c=call, u=admin: c(u))}
            assert on_page == server, (name, target_name, status, source)
            seen |= on_page
    assert seen  # an admin may always do something: the markers do find the page's forms
