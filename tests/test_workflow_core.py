"""The core of every workflow (portal/workflow.py) and one-time form tokens (portal/once.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from portal import once, workflow
from portal.errors import NotAllowed
from portal.workflow import AlreadyDone, Workflow, step


def _table() -> Workflow:
    return Workflow("thu_nghiem", {
        "accept": step("accept", "Tiếp nhận", {"01"}, lambda u, o: u.clerk, to="03",
                       done=lambda u, o: f"Đã tiếp nhận lúc {o.at}." if o.status != "01" else None),
        "note": step("note", "Ghi chú", {"03", "04"}, lambda u, o: True, when=lambda o: o.open),
        "close": step("close", "Đóng", {"03"}, lambda u, o: u.clerk, to="06", refusal="Chỉ văn thư được đóng."),
    })


def test_allowed_is_exactly_what_guard_lets_through():
    table = _table()
    clerk, other = SimpleNamespace(clerk=True), SimpleNamespace(clerk=False)
    for status in ("01", "03", "04", "06"):
        for is_open in (True, False):
            obj = SimpleNamespace(status=status, open=is_open, at="09:12", status_label=status)
            for user in (clerk, other):
                offered = table.allowed(user, obj)
                for action in table.transitions:
                    if action in offered:
                        assert table.guard(user, action, obj).action == action
                    else:
                        with pytest.raises((NotAllowed, AlreadyDone)):
                            table.guard(user, action, obj)


def test_a_repeated_step_is_already_done_not_refused():
    table = _table()
    obj = SimpleNamespace(status="03", open=True, at="09:12", status_label="Đã tiếp nhận")
    with pytest.raises(AlreadyDone, match="Đã tiếp nhận lúc 09:12"):
        table.guard(SimpleNamespace(clerk=True), "accept", obj)
    with pytest.raises(NotAllowed, match="Chỉ văn thư được đóng"):
        table.guard(SimpleNamespace(clerk=False), "close", obj)
    with pytest.raises(NotAllowed, match="“đóng” ở trạng thái “Xong”"):
        table.guard(SimpleNamespace(clerk=True), "close", SimpleNamespace(status="06", status_label="Xong"))


def test_tables_register_themselves():
    table = _table()
    assert workflow.REGISTRY["thu_nghiem"] is table


def test_a_token_claimed_then_remembered_returns_the_record(db, factory):
    from portal.auth.models import Role

    person = factory.person(Role.CLERK)
    other = factory.person(Role.CLERK)
    token = once.new_token()
    assert once.claim(person.id, token, "incoming") is None  # first time: create
    once.remember(token, 42)
    assert once.claim(person.id, token, "incoming") == 42  # the resubmission gets the record
    assert once.claim(other.id, token, "incoming") is None  # never someone else's record
    assert once.claim(person.id, token, "draft") is None
    for bad in (None, "", "ngắn", "x" * 65, "a b" * 10):
        assert once.claim(person.id, bad, "incoming") is None
