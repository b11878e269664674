"""Hostile identifiers and parameters never answer 5xx (issue 13): every route of the URL map is
sent huge, negative and malformed ids in its path, and every query parameter its view declares
(``portal.params``) is sent the same values, NUL bytes, invalid UTF-8 and 10 KB strings. Ids in
paths that are not ids are 404; query values the declaration refuses are 422 with a message
naming the parameter."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from werkzeug.routing import Rule

from portal.auth.models import Role
from portal.params import ID_MAX, BadQuery, Choice, Cursor, Id, IdConverter, Text, parse, parse_id

HX = {"HX-Request": "true"}
HUGE = "99999999999999999999999"
# raw (already percent-encoded) path segments that are no id at all
BAD_PATH_IDS = [HUGE, str(2**63), str(2**31), str(ID_MAX + 1), "-1", "0", "abc", "%00", "%FF", "%C2%B2", "9" * 10_000,
                "1.5", "0x10", "1%20"]
# raw query values: the same, plus what a person cannot type
BAD_QUERY = [HUGE, str(2**63), str(2**31), "-1", "0", "abc", "%00", "%FF", "%C2%B2", "-", "--5", "1e9",
             "x" * 10_000, "9" * 10_000, "%E2%80%AE", "2026-02-31", "31/02/2026", "1.99"]
VALID_STRING = {"monday": "2026-03-02", "token": "khong-co-that", "username": "khongcothat"}
SKIP = {"static"}


def _id_args(rule: Rule) -> set[str]:
    return {name for name, conv in rule._converters.items() if isinstance(conv, IdConverter)}


def _path(rule: Rule, hostile: str | None = None, target: str | None = None) -> str:
    """The rule's path with valid-shaped values, or ``hostile`` (raw) in the argument ``target``."""
    values = {name: "1" if name in _id_args(rule) else VALID_STRING.get(name, "abc") for name in rule.arguments}
    if target is not None:
        values[target] = hostile  # type: ignore[assignment]
    path = rule.rule
    for name in rule.arguments:
        path = path.replace(f"<id:{name}>", values[name]).replace(f"<{name}>", values[name])
    assert "<" not in path, path
    return path


@pytest.fixture
def everyone(factory, login):
    """One person with every role, signed in: most pages are open to them."""
    org = factory.organisation()
    person = factory.person(*Role, organisation=org, unit=factory.unit(org))
    return login(person)


def _send(db, client, method: str, url: str, failures: list[str], **kw) -> int | None:  # type: ignore[no-untyped-def]
    try:
        status = client.open(url, method=method, **kw).status_code
    except Exception as exc:  # under TESTING a 500 propagates; collect them all, then fail
        db.rollback()
        failures.append(f"{method} {url[:120]} → {type(exc).__name__}: {str(exc)[:160]}")
        return None
    if status >= 500:
        failures.append(f"{method} {url[:120]} → {status}")
    return status


def test_every_path_id_that_is_not_an_id_is_404(app, db, everyone):
    failures: list[str] = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP or not rule.arguments:
            continue
        ids = _id_args(rule)
        for name in rule.arguments:
            for value in BAD_PATH_IDS:
                for method in sorted(rule.methods & {"GET", "POST"}):
                    status = _send(db, everyone, method, _path(rule, value, name), failures)
                    if name in ids and status is not None and status != 404:
                        failures.append(f"{method} {_path(rule, value, name)[:120]} → {status}, not 404")
    assert not failures, "\n".join(failures[:60])


def _declared(app):  # type: ignore[no-untyped-def]
    for rule in app.url_map.iter_rules():
        params = getattr(app.view_functions[rule.endpoint], "query_params", ())
        if "GET" in rule.methods and params:
            yield rule, params


def test_views_declare_what_they_read(app):
    """The walk below is only as good as the declarations: the views that read query strings
    have them (a view reading ``request.args`` undeclared would be missed)."""
    declared = {rule.endpoint for rule, _params in _declared(app)}
    assert {"incoming.index", "drafts.index", "reports.index", "schedules.index", "schedules.add_entry",
            "admin.people", "admin.unit_options", "admin.new_organisation", "admin.directory_search",
            "incoming.lookup", "incoming.lookup_row"} <= declared
    assert len(declared) >= 15


def test_every_declared_query_parameter_refuses_hostile_values(app, db, everyone):
    failures: list[str] = []
    for rule, params in _declared(app):
        path = _path(rule)
        for param in params:
            for raw in BAD_QUERY:
                for headers in ({}, HX) if raw == HUGE else ({},):
                    url = f"{path}?{param.name}={raw}"
                    status = _send(db, everyone, "GET", url, failures, headers=headers)
                    if status is not None and _refused(param, raw) and status != 422:
                        failures.append(f"GET {url[:120]} → {status}, not 422")
    assert not failures, "\n".join(failures[:60])


def _refused(param, raw: str) -> bool:  # type: ignore[no-untyped-def]
    """What the declaration itself refuses, given the decoded value; NUL and invalid UTF-8 always."""
    if raw in ("%00", "%FF"):
        return True
    return bool(parse({param.name: unquote(raw)}, (param,)).errors)


def test_ids_beyond_int4_negative_or_malformed_are_refused_by_the_declaration():
    param = Id("lich", "Lịch")
    for raw in (HUGE, str(2**63), str(2**31), "-1", "0", "abc", "²", "9" * 10_000, "1.5"):
        errors = parse({"lich": raw}, (param,)).errors
        assert errors == {"lich": errors["lich"]}
        assert "“Lịch” (lich)" in errors["lich"]
    assert parse({"lich": str(ID_MAX)}, (param,)) == {"lich": ID_MAX}
    assert parse_id("²") is None
    assert parse_id(" 7 ") == 7
    assert parse_id(str(ID_MAX + 1)) is None


def test_a_bad_query_id_is_422_naming_the_parameter_in_page_and_fragment(db, everyone):
    for headers in ({}, HX):
        resp = everyone.get(f"/lich-cong-tac/?lich={HUGE}", headers=headers)
        assert resp.status_code == 422
        body = resp.get_data(as_text=True)
        assert "“Lịch” (lich) không hợp lệ" in body
        assert ("<html" in body) == (headers == {})
    assert everyone.get("/quan-tri/don-vi?organisation_id=-1").status_code == 422
    assert everyone.get(f"/bao-cao/?co_quan={2**63}").status_code == 422


def test_nul_and_invalid_utf8_are_refused_anywhere(db, everyone):
    assert everyone.get("/van-ban-den/?q=a%00b").status_code == 422
    assert everyone.get("/van-ban-den/?q=%FF").status_code == 422
    assert everyone.get("/van-ban-den/?x%00=1").status_code == 422  # in a name nobody declared, too
    assert everyone.get("/lich-cong-tac/ical/%00.ics").status_code == 404
    assert everyone.get("/quan-tri/danh-ba/%FF/cap-quyen").status_code == 404
    resp = everyone.post("/quan-tri/co-quan/moi", data={"name": "Sở\x00Thử"})
    assert resp.status_code == 422
    assert "byte rỗng" in resp.get_data(as_text=True)


def test_list_cursors_that_the_list_did_not_write_are_422(db, everyone):
    for url in ("/van-ban-den/?ds=tat-ca&sau=", "/du-thao/?ds=tat-ca&sau="):
        for cursor in ("rac", "1" * 41, f"{HUGE}.{HUGE}", "1.99999999999", "²." + "1", "0" * 30 + "%00"):
            resp = everyone.get(url + cursor)
            assert resp.status_code in (404, 422), (url, cursor)  # 404: a queue this person does not have
    assert everyone.get("/du-thao/?sau=1.99999999999").status_code == 422
    assert everyone.get("/van-ban-den/?sau=1" + "0" * 28).status_code == 422
    assert everyone.get("/van-ban-den/?sau=1" + "0" * 29).status_code == 200  # the shape the list writes


@pytest.mark.parametrize("value", [HUGE, str(2**31), "-1", "²", "9" * 10_000, "abc\x00"])
def test_posted_ids_never_500(db, app, everyone, factory, value):
    """Select fields and hidden ids of forms: junk is no id (a message), never an overflow."""
    failures: list[str] = []
    for url, data in (
        ("/quan-tri/co-quan/moi", {"name": "Sở Thử", "short_name": "ST", "parent_id": value, "kind": "so"}),
        ("/quan-tri/nguoi-dung/moi", {"organisation_id": value, "unit_id": value, "full_name": "Lê Văn An"}),
        ("/so-van-ban/", {"kind": "den", "year": "2026", "book_id": value}),
        ("/du-thao/moi", {"subject": "Thử", "document_type_id": value, "signer_id": value, "r_org": value,
                          "reply_to_id": value}),
        ("/van-ban-den/moi", {"book_id": value, "document_type_id": value, "page_amount": value}),
        ("/lich-cong-tac/lich/1/2026-03-02/them", {"presiding_ids": value, "unit_ids": value}),
    ):
        _send(db, everyone, "POST", url, failures, data=data)
    assert not failures, "\n".join(failures)


def test_declarations_are_well_formed(app):
    """Every declared name is unique per view and has a Vietnamese label for its messages."""
    for _rule, params in _declared(app):
        names = [p.name for p in params]
        assert len(names) == len(set(names))
        assert all(p.label for p in params)
        for p in params:
            if isinstance(p, Choice):
                assert p.values
            if isinstance(p, Cursor):
                assert not p.check("rac")
            if isinstance(p, Text):
                assert p.max_len <= 4096
    assert issubclass(BadQuery, Exception)
