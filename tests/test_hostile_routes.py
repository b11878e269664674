"""Hostile input against every route of the URL map, as each kind of demo person (văn thư, lãnh đạo,
trưởng phòng, chuyên viên, quản trị cơ quan, quản trị hệ thống of the demo Văn phòng UBND tỉnh).

The demo province is seeded, plus an incoming document walked to a unit assignment with an extension
request, a draft with an attachment and a comment round, a feed token, a workday override and a
register job, so every id in a path has a real row to stand for. Then:

- every GET route: real ids, then each id in turn replaced by one that does not exist (``ID_MAX``),
  0, negative, huge, non-numeric; each string argument by dates that do not exist or sit at the ends
  of the calendar, NUL, invalid UTF-8, 10,000 characters, SQL and HTML;
- every parameter a view declares (``portal.params.query``): the same values, the edges its type
  accepts (``9999-12-31``, ``9999-W52``, ``Int`` bounds, ``Text`` at its length filled with LIKE
  wildcards), repeated; routes declaring nothing get junk parameters they must ignore;
- every POST route: without a CSRF token, with a wrong one (400), then with a valid token: the page's
  own form (as the first person shown it fills it) with one field at a time 10,000 characters, a huge
  number, 31/12/9999 or 01/01/0001; no fields, empty fields, every field huge, a far date, SQL and HTML,
  or twice; and for ids that do not exist.

Never 5xx; every 4xx says why in Vietnamese (the error section, a field's error or an alert, not just
the menus around it); a refused POST (4xx) leaves the audit chain as it was (``NOT_A_REFUSAL``: the
records a refusal is meant to leave). What is refused before any view, whoever asks, is sent as one
person in turn; what reaches the views, as everyone. Faults found in code others are changing are
listed in ``KNOWN`` and printed, not fixed here. About 45 s on SQLite."""

from __future__ import annotations

import re
import traceback
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from itertools import cycle
from urllib.parse import unquote

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from portal import demo
from portal.audit import AuditEntry
from portal.auth.models import User
from portal.demo.pdfs import document_pdf
from portal.documents.models import DocumentType, OutgoingDocument
from portal.drafts import services as drafts
from portal.incoming import services as incoming
from portal.incoming.models import AssignmentRole
from portal.notifications.models import Notification
from portal.params import ID_MAX, Choice, Date, Flag, Id, IdConverter, Int, Param, Text, Week, parse
from portal.registers import services as registers
from portal.schedules import services as schedules
from portal.schedules.models import Entry, FeedKind
from portal.timeutil import local_today
from portal.workdays import calendar
from portal.workdays import service as workdays
from tests.incoming_fixtures import metadata
from tests.page_forms import PageForms

HX = {"HX-Request": "true"}
HUGE = "99999999999999999999"
MISSING = str(ID_MAX)  # shaped like an id, but no row has it
LONG = "x" * 10_000
# raw (already percent-encoded) path segments that are no id
BAD_PATH_IDS = ["0", "-1", HUGE, "abc", "%00", "%FF"]
# raw values for string path arguments and for every query parameter
BAD_STRINGS = ["2026-02-30", "31-02-2026", "0000-01-01", "0001-01-01", "9999-12-31", "9999-12-27", "%00", "%FF",
               "y" * 5_000, "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "%27%20OR%201%3D1--", "..%2F..%2Fetc", "%E2%80%AE"]
BAD_QUERY = ["%00", "%FF", LONG, HUGE, "-1", "%27%3B%20DROP%20TABLE%20users%3B--",
             "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "2026-02-30", "31%2F02%2F2026", "0000-01-01"]
EDGES: dict[type, list[str]] = {  # accepted by the declaration, so they reach the view
    Id: [MISSING],
    Date: ["0001-01-01", "9999-12-31", "01%2F01%2F0001", "31%2F12%2F9999", "29%2F02%2F2024"],
    Week: ["0001-01-01", "9999-12-31", "0001-W01", "9999-W52", "2026-W53", "2020-W53", "31%2F12%2F9999"],
    Flag: ["1", "on", "0"],
}
POST_BAD = (["0", "-1", HUGE, "abc"], ["2026-02-30", "9999-12-27", "0001-01-01", "y" * 5_000])  # GET has the rest
JUNK_QUERY = f"q={LONG}&id=-1&trang={HUGE}&sau=abc&lich=0&tuan=9999-W52&ds=%3Cb%3E&q=%25%5F"
SKIP = {"static"}
# signing out (or reporting a compromise) ends the session the rest of the sweep needs: these go last
LAST = ("auth.report_compromise", "auth.logout_everywhere", "auth.logout")
# what a refusal is meant to leave: the denial, a repeated step, a wrong current password (counted against
# whoever guesses it)
NOT_A_REFUSAL = ("access.denied", "step.repeated", "auth.password_change_failed")
VIETNAMESE = re.compile("[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]", re.I)
ENGLISH = ("The requested URL", "The browser (or proxy)", "You don't have the permission", "The method is not allowed",
           "Internal Server Error", "CSRF token", "Bad Request")
# Faults in code other people are changing right now, reported to them rather than fixed here: (endpoint,
# a piece of the failure's text). Each is tolerated only in that exact shape, and printed with the summary.
KNOWN: set[tuple[str, str]] = set()  # (endpoint, a piece of the failure) printed, not failed: none now
MESSAGES = re.compile(r'<(section|div|p|li|span)\b[^>]*(?:class="[^"]*\berror\b|role="alert")[^>]*>(.*?)</\1>', re.S)
PEOPLE = {"văn thư": "vanthu.vp", "lãnh đạo": "lanhdao.vp", "trưởng phòng": "truongphong.vp",
          "chuyên viên": "chuyenvien.vp", "quản trị cơ quan": "quantri.vp", "quản trị hệ thống": "quantri.tinh"}
PASSWORDS = {a.username: a.password for a in demo.ACCOUNTS}


# --- the world -------------------------------------------------------------------------------------------

class World:
    """Signed-in clients by person, a real value for every path argument, the audit count."""

    def __init__(self, db, clients: dict[str, FlaskClient], real: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
        self.db = db
        self.clients = clients
        self.real = real
        self.failures: list[str] = []
        self.requests = 0
        self.statuses: Counter[int] = Counter()
        self.known: list[str] = []
        self._turn = cycle(list(clients))

    def one(self) -> str:
        """The next person in turn, for what the portal refuses whoever asks."""
        return next(self._turn)

    def audit_count(self) -> int:
        return self.db.execute(select(func.count()).select_from(AuditEntry)
                               .where(AuditEntry.action.not_in(NOT_A_REFUSAL))).scalar_one()

    def send(self, who: str, method: str, url: str, hx: bool | None = None, note: str = "",  # type: ignore[no-untyped-def]
             **kw) -> TestResponse | None:
        """As htmx (``hx``), or by default three requests in four (fragments, error fragments too, cost
        less to render than pages), the fourth as a page."""
        self.requests += 1
        if hx or (hx is None and self.requests % 4):
            kw["headers"] = {**HX, **kw.get("headers", {})}
        try:
            resp = self.clients[who].open(url, method=method, **kw)
        except Exception as exc:  # under TESTING a 500 propagates: collect them all, then fail
            self.db.rollback()
            last = "".join(traceback.format_exception(exc)[-3:]).strip().replace("\n", " | ")
            self._fault(who, method, url, f"{who}: {method} {url[:160]} {note}→ 500: {last[-600:]}")
            return None
        status = resp.status_code
        self.statuses[status // 100 * 100 if status != 404 else 404] += 1
        if status >= 500:
            self._fault(who, method, url, f"{who}: {method} {url[:160]} → {status}")
        elif 400 <= status < 500 and not _says_why_in_vietnamese(resp):
            self._fault(who, method, url, f"{who}: {method} {url[:160]} {note}→ {status} without a Vietnamese "
                                          f"message: {resp.get_data(as_text=True)[:160]!r}")
        return resp

    def _fault(self, who: str, method: str, url: str, text: str) -> None:
        endpoint = self.clients[who].application.url_map.bind("localhost").match(url.split("?")[0], method)[0]
        known = any(endpoint == e and piece in text for e, piece in KNOWN)
        (self.known if known else self.failures).append(text)

    def fail(self, text: str) -> None:
        self.failures.append(text)

    def check(self, label: str) -> None:
        print(f"{label}: {self.requests} requests, {dict(sorted(self.statuses.items()))}")
        for text in dict.fromkeys(self.known):
            print(f"  known, reported, not fixed here: {text[:300]}")
        assert not self.failures, f"{len(self.failures)} failures of {self.requests} requests:\n" + \
            "\n".join(self.failures[:80])


def _says_why_in_vietnamese(resp: TestResponse) -> bool:
    """The message itself, not the page around it (whose menus are Vietnamese anyway): the error section,
    a field's error, an alert; a plain-text answer whole."""
    body = resp.get_data(as_text=True)
    messages = [m[1] for m in MESSAGES.findall(body)] if resp.mimetype == "text/html" else [body]
    return any(VIETNAMESE.search(m) for m in messages) and not any(text in body for text in ENGLISH)


def _users(db) -> dict[str, User]:  # type: ignore[no-untyped-def]
    names = [*PEOPLE.values(), "luutru.vp"]
    users = {u.username: u for u in db.execute(select(User).where(User.username.in_(names))).scalars()}
    for user in users.values():
        user.current_position = user.positions[0]
    return users


def _pdf(subject: str) -> bytes:
    return document_pdf(organ_name="Văn phòng Ủy ban nhân dân tỉnh", type_name="Công văn", code="1/VP",
                        place_date="Ninh Bình, ngày 02 tháng 3 năm 2026", subject=subject,
                        signer_position="Chánh Văn phòng", signer_name="Trần Văn Đức")


def _seed(db) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The demo province and a row behind every kind of id; returns a real value per path argument."""
    demo.seed()
    u = _users(db)
    clerk, leader, head, officer = (u[PEOPLE[k]] for k in ("văn thư", "lãnh đạo", "trưởng phòng", "chuyên viên"))
    org, unit = clerk.positions[0].organisation, head.positions[0].unit
    pdf = _pdf("Về việc kiểm thử dữ liệu xấu")
    doc = incoming.digitise(clerk, metadata(), incoming.Upload("van-ban.pdf", pdf))
    incoming.present(clerk, doc, leader.id)
    deadline = local_today() + timedelta(days=20)
    incoming.direct(leader, doc, "Giao phòng chủ trì.", [incoming.AssigneeSpec(AssignmentRole.LEAD, unit_id=unit.id,
                                                                                 deadline=deadline)])
    incoming.direct_within_unit(head, doc, "Giao chuyên viên.",
                                [incoming.AssigneeSpec(AssignmentRole.LEAD, user_id=officer.id,
                                                       deadline=deadline - timedelta(days=7))])
    row = next(a for a in incoming.assignments_of(doc) if a.level == 2)
    incoming.mark_seen(officer, doc)
    incoming.request_extension(officer, doc, row.id, "Cần thêm thời gian xác minh.", deadline)
    doc_type = db.execute(select(DocumentType).where(DocumentType.name == "Công văn")).scalar_one()
    draft = drafts.create(officer, drafts.DraftData(
        subject="Về việc kiểm thử", document_type_id=doc_type.id, signer_id=leader.id, signer_title="Chánh Văn phòng"),
        drafts.Upload("du-thao.pdf", pdf), [drafts.Upload("phu-luc.pdf", _pdf("Phụ lục"))],
        [drafts.RecipientSpec(organisation_id=org.parent_id)])
    round_ = drafts.ask_comments(officer, draft, [head.id], "Xin ý kiến góp ý.", None)
    feed, secret = schedules.create_feed(leader, FeedKind.PERSON)
    override = workdays.add_override(u["quantri.tinh"], date(local_today().year, 12, 24), "nghi", "Quyết định số 1")
    job = registers.request(clerk, registers.Params(kind="den", year=local_today().year))
    db.commit()
    cal = schedules.calendar_for(org)
    entry = db.execute(select(Entry).order_by(Entry.id)).scalars().first()
    outgoing = db.execute(select(OutgoingDocument).where(OutgoingDocument.organisation_id == org.id)).scalars().first()
    note = db.execute(select(Notification).where(Notification.user_id == leader.id)).scalars().first()
    other = u["luutru.vp"]  # not one of the six: locking or resetting it spoils nobody's session
    ids = {"document_id": doc.id, "file_id": incoming.files_of(doc)[0].id, "assignment_id": row.id, "page": 1,
           "draft_id": draft.id, "attachment_id": drafts.attachments_of(draft)[0].id, "number": 1,
           "round_id": round_.id, "invite_id": drafts.my_open_invites(head, draft)[0].id, "outgoing_id": outgoing.id,
           "calendar_id": cal.id, "entry_id": entry.id, "week_id": entry.week_id, "token_id": feed.id,
           "org_id": org.id, "user_id": other.id, "position_id": other.positions[0].id, "override_id": override.id,
           "job_id": job.id, "notification_id": note.id if note else ID_MAX, "certificate_id": ID_MAX}
    strings = {"monday": schedules.monday_of(local_today()).isoformat(), "token": secret, "kind": "du-thao",
               "username": "khongcothat"}
    return {**{k: str(v) for k, v in ids.items()}, **strings}


@pytest.fixture
def world(app: Flask, db, login) -> Iterator[World]:  # type: ignore[no-untyped-def]
    calendar.forget()
    real = _seed(db)
    users = _users(db)
    clients = {who: login(users[name], PASSWORDS[name], c=app.test_client()) for who, name in PEOPLE.items()}
    yield World(db, clients, real)
    calendar.forget()  # the override seeded (and any the sweep made) leaves with the rolled-back rows


# --- routes ----------------------------------------------------------------------------------------------

def _rules(app: Flask, method: str) -> list[Rule]:
    rules = [r for r in app.url_map.iter_rules() if method in r.methods and r.endpoint not in SKIP]
    return sorted(rules, key=lambda r: (r.endpoint in LAST, LAST.index(r.endpoint) if r.endpoint in LAST else 0,
                                        r.rule))


def _ids(rule: Rule) -> set[str]:
    return {name for name, conv in rule._converters.items() if isinstance(conv, IdConverter)}


def _path(rule: Rule, real: dict[str, str], **raw: str) -> str:
    path = rule.rule
    for name in rule.arguments:
        value = raw.get(name, real.get(name, "1" if name in _ids(rule) else "abc"))
        path = re.sub(rf"<(?:[a-z]+:)?{name}>", lambda _m, v=value: v, path)
    assert "<" not in path, path
    return path


def _variants(rule: Rule, real: dict[str, str], bad: tuple[list[str], list[str]] | None = None,
              ) -> Iterator[tuple[str, bool]]:
    """(path, reaches the view): each argument in turn hostile, the others real."""
    bad_ids, bad_strings = bad or (BAD_PATH_IDS, BAD_STRINGS)
    ids = _ids(rule)
    for name in rule.arguments:
        if name in ids:
            yield _path(rule, real, **{name: MISSING}), True
            for value in bad_ids:
                yield _path(rule, real, **{name: value}), False
        else:
            for value in bad_strings:
                yield _path(rule, real, **{name: value}), True


def _edges(param: Param) -> list[str]:
    values = list(EDGES.get(type(param), []))
    if isinstance(param, Int):
        values += [str(param.low), str(param.high), str(param.low - 1), str(param.high + 1)]
    if isinstance(param, Choice):
        values += list(param.values)
    if isinstance(param, Text):
        values += ["%25" * param.max_len, "_" * param.max_len, "%27" * param.max_len, "%5C" * param.max_len,
                   "Nguy%E1%BB%85n%20%C4%90%E1%BB%A9c", "%25%5F%5C"]
    return values


def _accepted(param: Param, raw: str) -> bool:
    if "%00" in raw or "%FF" in raw:
        return False
    return not parse({param.name: unquote(raw)}, (param,)).errors


# --- the days a person may ask for ------------------------------------------------------------------------

def test_query_days_and_weeks_outside_1900_to_2100_are_refused_naming_the_years(app, world):
    """At the ends of Python's calendar the views' next day, next week or UTC midnight overflow (a 500)."""
    for param, good, bad in ((Date("tu", "Từ ngày", iso=False), ["01/01/1900", "31/12/2100"],
                              ["31/12/1899", "01/01/2101", "01/01/0001", "31/12/9999"]),
                             (Date("ngay", "Ngày"), ["1900-01-01", "2100-12-31"], ["0001-01-01", "9999-12-31"]),
                             (Week("tuan", "Tuần"), ["1900-01-01", "2100-W52", "31/12/2100"],
                              ["1899-W52", "0001-W01", "9999-W52", "9999-12-31", "01/01/2101"])):
        assert all(not parse({param.name: v}, (param,)).errors for v in good), param
        for value in bad:
            assert "từ năm 1900 đến năm 2100" in parse({param.name: value}, (param,)).errors[param.name], value
    for url in ("/van-ban-den/?den=31%2F12%2F9999", "/du-thao/?tu=01%2F01%2F0001", "/lich-cong-tac/?tuan=9999-W52"):
        resp = world.clients["văn thư"].get(url)
        assert resp.status_code == 422, url
        assert "từ năm 1900 đến năm 2100" in resp.get_data(as_text=True), url
    assert world.clients["lãnh đạo"].get(f"/lich-cong-tac/lich/{world.real['calendar_id']}/9999-12-27/"
                                          "lich-cong-tac.pdf").status_code == 404


# --- GET -------------------------------------------------------------------------------------------------

def test_every_get_route_with_hostile_path_arguments(app, world):
    for rule in _rules(app, "GET"):
        for who in world.clients:
            world.send(who, "GET", _path(rule, world.real))
        for path, reaches_view in _variants(rule, world.real):
            for who in world.clients if reaches_view else [world.one()]:
                resp = world.send(who, "GET", path)
                if resp is not None and not reaches_view and resp.status_code != 404:
                    world.fail(f"{who}: GET {path[:120]} → {resp.status_code}, not 404")
                elif resp is not None and reaches_view and resp.status_code == 200 and MISSING in path:
                    world.fail(f"{who}: GET {path[:120]} → 200 for a row that does not exist")
    adapter = app.url_map.bind("localhost")
    for rule in _rules(app, "POST"):  # a GET where only POST is served: 405, in Vietnamese too
        path = _path(rule, world.real)
        if "GET" not in rule.methods and not adapter.test(path, method="GET"):
            resp = world.send(world.one(), "GET", path)
            if resp is not None and resp.status_code != 405:
                world.fail(f"GET {rule.rule} → {resp.status_code}, not 405")
    world.check("GET, path arguments")


def test_every_get_route_with_hostile_query_strings(app, world):
    for rule in _rules(app, "GET"):
        path = _path(rule, world.real)
        params = getattr(app.view_functions[rule.endpoint], "query_params", ())
        if not params:
            for who in world.clients:
                resp = world.send(who, "GET", f"{path}?{JUNK_QUERY}", hx=False)
                plain = world.send(who, "GET", path, hx=False)
                if resp is not None and plain is not None and resp.status_code != plain.status_code:
                    world.fail(f"{who}: GET {path}?<junk> → {resp.status_code}, without it {plain.status_code}")
            continue
        for param in params:
            for raw in [*BAD_QUERY, *_edges(param)]:
                accepted = _accepted(param, raw)
                everyone = accepted and isinstance(param, (Date, Week, Int, Id))  # where the views compute
                for who in world.clients if everyone else [world.one()]:
                    resp = world.send(who, "GET", f"{path}?{param.name}={raw}")
                    if resp is not None and not accepted and resp.status_code not in (403, 404, 422):
                        world.fail(f"{who}: GET {path}?{param.name}={raw[:40]} → {resp.status_code}, not 422")
            edges = _edges(param) or ["1"]  # repeated: an edge, then junk
            world.send(world.one(), "GET", f"{path}?{param.name}={edges[-1]}&{param.name}=%3Cb%3E")
        for turn, who in enumerate(world.clients):  # every parameter at once at its edges, one end or the other
            query = "&".join(f"{p.name}={_edges(p)[-(turn % 2)]}" for p in params if _edges(p))
            world.send(who, "GET", f"{path}?{query}")
    world.check("GET, query strings")


# --- POST ------------------------------------------------------------------------------------------------

def _page_forms(world: World, app: Flask) -> dict[str, tuple[str, dict[str, list[str]]]]:
    """Every form the six people's pages show, by where it posts: (the first person shown it, its fields
    as the page fills them). Read from every GET route with real ids, the baseline of the sweep too."""
    forms: dict[str, tuple[str, dict[str, list[str]]]] = {}
    for rule in _rules(app, "GET"):
        for who in world.clients:
            resp = world.send(who, "GET", _path(rule, world.real), hx=False)
            if resp is None or resp.status_code != 200 or resp.mimetype != "text/html":
                continue
            for actions, fields in PageForms(resp.get_data(as_text=True)).forms:
                for action in actions:
                    forms.setdefault(action, (who, {k: v for k, v in fields.items() if k != "csrf_token"}))
    return forms


def _token(client: FlaskClient) -> str:
    g.pop("csrf_token", None)  # Flask-WTF keeps the token in ``g``, which the tests' one app context shares
    page = client.get("/thong-bao/").get_data(as_text=True)
    found = re.search(r'"X-CSRFToken": "([^"]+)"', page)
    assert found, page[:300]
    return found.group(1)


def _garbage(names: Iterable[str]) -> Iterator[tuple[str, dict[str, object]]]:
    names = sorted(names)
    yield "no fields", {}
    yield "empty fields", dict.fromkeys(names, "")
    for value in (HUGE, "31/12/9999", "<script>alert(1)</script>' OR 1=1 --"):
        yield f"every field {value[:12]}", dict.fromkeys(names, value)
    yield "every field twice", {n: ["1", "2"] for n in names}


def _post(world: World, who: str, url: str, label: str, **kw) -> TestResponse | None:  # type: ignore[no-untyped-def]
    before = world.audit_count()
    resp = world.send(who, "POST", url, note=f"({label}) ", **kw)
    if resp is not None and 400 <= resp.status_code < 500 and world.audit_count() != before:
        world.fail(f"{who}: POST {url[:120]} ({label}) → {resp.status_code}, yet the audit log changed")
    return resp


def test_posts_without_a_valid_csrf_token_are_refused_and_change_nothing(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    for rule in _rules(app, "POST"):
        url = _path(rule, world.real)
        # checked before any view, whoever asks: each attempt by the next person in turn
        attempts = [("no token", {"data": {"q": "1"}}), ("wrong token", {"data": {"csrf_token": "rac"}}),
                    ("wrong header", {"headers": {"X-CSRFToken": "rac"}})]
        for label, kw in attempts:
            who = world.one()
            resp = _post(world, who, url, label, **kw)
            if resp is not None and (resp.status_code != 400 or "CSRF" not in resp.get_data(as_text=True)):
                world.fail(f"{who}: POST {url} ({label}) → {resp.status_code}, not 400 naming CSRF")
    world.check("POST without CSRF token")


def test_posts_with_garbage_fields_or_missing_ids_never_500_and_refusals_change_nothing(app, db, world, login,
                                                                                         monkeypatch):
    forms = _page_forms(world, app)
    every = set().union(*(fields for _who, fields in forms.values()))
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    tokens = {who: _token(client) for who, client in world.clients.items()}
    for rule in (r for r in _rules(app, "POST") if r.endpoint not in LAST):
        url = _path(rule, world.real)
        shown_to, own = forms.get(url, ("", {}))
        for name in own:  # the page's own form, one field at a time hostile
            for value in (LONG, HUGE, "31/12/9999", "01/01/0001"):
                _post(world, shown_to, url, f"{name}={value[:10]}", data={**own, name: value},
                      headers={"X-CSRFToken": tokens[shown_to]})
        for who in world.clients:
            headers = {"X-CSRFToken": tokens[who]}
            for label, data in _garbage(own or every):
                resp = _post(world, who, url, label, data=data, headers=headers)
                if label == "no fields" and resp is not None and resp.status_code == 400:
                    world.fail(f"{who}: POST {url} with a valid token and no fields → 400")
                if label == "no fields" and resp is not None and resp.status_code in (403, 404):
                    # refused before reading the form (permission first): one garbage form more is enough
                    _post(world, who, url, "every field huge, after a refusal", data=dict.fromkeys(own or every, HUGE),
                          headers=headers)
                    break
            for path, reaches_view in _variants(rule, world.real):
                if reaches_view and MISSING in path:
                    # as htmx: a repeated step is then 409, not the 303 back to the page a plain form gets
                    resp = _post(world, who, path, "missing id", data=own, headers=headers, hx=True)
                    if resp is not None and resp.status_code < 400:
                        world.fail(f"{who}: POST {path} (missing id) → {resp.status_code}")
        for path, reaches_view in _variants(rule, world.real, POST_BAD):  # refused before any view: one person each
            if not reaches_view or MISSING not in path:
                who = world.one()
                resp = _post(world, who, path, "bad argument", headers={"X-CSRFToken": tokens[who]})
                if resp is not None and not reaches_view and resp.status_code != 404:
                    world.fail(f"{who}: POST {path[:120]} (bad id) → {resp.status_code}, not 404")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)  # signing in again takes no token here
    users = _users(db)
    for rule in (r for r in _rules(app, "POST") if r.endpoint in LAST):  # last, each on a session of its own
        for who, name in PEOPLE.items():
            world.clients[who] = login(users[name], PASSWORDS[name], c=app.test_client())
            resp = world.send(who, "POST", _path(rule, world.real), data=dict.fromkeys(("q", "next", "id"), HUGE))
            if resp is not None and resp.status_code >= 400:
                world.fail(f"{who}: POST {rule.rule} → {resp.status_code}")
    world.check("POST with garbage")
