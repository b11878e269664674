"""Hostile values in POST bodies never answer 5xx (the companion of tests/test_hostile_input.py):
each significant form, posted by the person who may use it, gets a 10,000-character value in
each of its text fields in turn. PostgreSQL refuses text longer than a VARCHAR(n) column with an
error (SQLite stores it), so every field that reaches a ``String(n)`` column must be refused
first: 422 with the Vietnamese "tối đa … ký tự" beside the field, nothing stored, nothing cut.
Numbers with thousands of digits, dates of year 0000 or 99999 and choices not in the list are
422 (or at least never 500) too. Run it on PostgreSQL: that is where an overflow would show."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterable
from datetime import time, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.auth.models import Role, User
from portal.documents.models import DocumentType
from portal.drafts import services as drafts
from portal.drafts.models import Draft
from portal.incoming import services as incoming
from portal.incoming.models import AssignmentRole
from portal.orgs.models import Organisation
from portal.schedules import services as schedules
from portal.timeutil import local_today
from tests.conftest import PASSWORD
from tests.incoming_fixtures import metadata

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LONG = ("Đường phố Việt Nam " * 600)[:10_000]  # 10,000 characters, many of them not ASCII
HUGE_NUMBER = "9" * 10_000
BAD_DATES = ["01/01/99999", "00/00/0000", "31/12/0000", "0000-01-01", "99999-01-01", "31/02/2026", HUGE_NUMBER]
LIMIT = "tối đa"  # every length message says "… tối đa N ký tự"


def act(user: User) -> User:
    user.current_position = user.positions[0]
    return user


@pytest.fixture
def as_(app: Flask, login):  # type: ignore[no-untyped-def]
    clients: dict[int, FlaskClient] = {}

    def _as(user: User) -> FlaskClient:
        if user.id not in clients:
            clients[user.id] = login(user, c=app.test_client())
        return clients[user.id]

    return _as


class Poster:
    """Posts hostile variants of a valid form, collecting every 5xx (TESTING propagates them as
    exceptions) and every field that was not refused as it should be; fails once at the end."""

    def __init__(self, db) -> None:  # type: ignore[no-untyped-def]
        self.db = db
        self.failures: list[str] = []

    def post(self, client: FlaskClient, url: str, data: dict, label: str):  # type: ignore[no-untyped-def, type-arg]
        data = {k: (io.BytesIO(v[0].getvalue()), v[1]) if isinstance(v, tuple) else v for k, v in data.items()}
        try:
            resp = client.post(url, data=data)
        except Exception as exc:  # a 500 under TESTING
            self.db.rollback()
            self.failures.append(f"{url} {label} → {type(exc).__name__}: {str(exc)[:200]}")
            return None
        if resp.status_code >= 500:
            self.failures.append(f"{url} {label} → {resp.status_code}")
        return resp

    def long_text(self, client: FlaskClient, url: str, base: dict, limited: Iterable[str],  # type: ignore[type-arg]
                  others: Iterable[str] = (), *, message: str = LIMIT) -> None:
        """Each field in ``limited`` alone at 10,000 characters: 422 with the limit's message.
        Each of ``others`` (no column of its own, or checked otherwise): below 500."""
        for name in limited:
            resp = self.post(client, url, {**base, name: LONG}, f"{name}=10000 ký tự")
            if resp is not None and (resp.status_code != 422 or message not in resp.get_data(as_text=True)):
                self.failures.append(f"{url} {name}=10000 ký tự → {resp.status_code}, không có “{message}”")
        for name in others:
            self.post(client, url, {**base, name: LONG}, f"{name}=10000 ký tự")
        everything = {**base, **{name: LONG for name in (*limited, *others)}}
        resp = self.post(client, url, everything, "mọi trường 10000 ký tự")
        if limited and resp is not None and resp.status_code != 422:
            self.failures.append(f"{url} mọi trường 10000 ký tự → {resp.status_code}, không phải 422")

    def refused(self, client: FlaskClient, url: str, base: dict, name: str, values: Iterable[str],  # type: ignore[type-arg]
                expect: int | None = 422) -> None:
        for value in values:
            resp = self.post(client, url, {**base, name: value}, f"{name}={value[:20]}")
            if expect is not None and resp is not None and resp.status_code != expect:
                self.failures.append(f"{url} {name}={value[:20]} → {resp.status_code}, không phải {expect}")

    def check(self) -> None:
        assert not self.failures, "\n".join(self.failures)


@pytest.fixture
def poster(db):  # type: ignore[no-untyped-def]
    return Poster(db)


# --- văn bản đến ------------------------------------------------------------------------------------------

@pytest.fixture
def desk(factory, db):  # type: ignore[no-untyped-def]
    org = factory.organisation(name="Sở Thử Dữ Liệu Xấu", short_name="STDX")
    unit = factory.unit(org, name="Phòng Thử Dữ Liệu")
    people = {
        "clerk": act(factory.person(Role.CLERK, organisation=org, title="Văn thư")),
        "leader": act(factory.person(Role.AGENCY_LEADER, organisation=org, title="Giám đốc")),
        "deputy": act(factory.person(Role.AGENCY_LEADER, organisation=org, title="Phó Giám đốc")),
        "head": act(factory.person(Role.UNIT_HEAD, organisation=org, unit=unit, title="Trưởng phòng")),
        "officer": act(factory.person(Role.OFFICER, organisation=org, unit=unit)),
    }
    db.commit()
    return org, unit, people


METADATA_TEXT = ("type_name", "code_notation", "organ_name", "subject", "signer_position", "signer_name",
                 "language", "document_id", "description")


def metadata_form(prefix: str = "") -> dict[str, str]:
    base = {"type_name": "Quyết định", "code_number": "15", "code_notation": "QĐ-UBND",
            "issued_date": (local_today() - timedelta(days=2)).strftime("%d/%m/%Y"),
            "organ_name": "Ủy ban nhân dân tỉnh Thử", "subject": "Về công tác văn thư năm 2026",
            "urgency": "0", "secrecy": "0", "language": "Tiếng Việt"}
    return {prefix + k: v for k, v in base.items()}


def _check_metadata_form(poster: Poster, client: FlaskClient, url: str, base: dict, prefix: str) -> None:  # type: ignore[type-arg]
    poster.long_text(client, url, base, [prefix + n for n in (*METADATA_TEXT, "code_number")])
    poster.refused(client, url, base, prefix + "code_number", [HUGE_NUMBER, "999999999999", "-1", "1e9"])
    poster.refused(client, url, base, prefix + "page_amount", [HUGE_NUMBER, "99999999999", "0", "-5", "1000", "²"])
    poster.refused(client, url, base, prefix + "issued_date", BAD_DATES)
    poster.refused(client, url, base, prefix + "due_date", BAD_DATES)
    poster.refused(client, url, base, prefix + "urgency", ["9", "-1", HUGE_NUMBER, "abc"])
    poster.refused(client, url, base, prefix + "secrecy", ["9", "-1", HUGE_NUMBER, "abc"])
    poster.refused(client, url, base, prefix + "document_type_id", [HUGE_NUMBER, "0", "abc"], expect=None)
    poster.refused(client, url, base, prefix + "book_id", [HUGE_NUMBER, "0", "abc"], expect=None)


def test_paper_intake(db, desk, as_, poster):
    _org, _unit, p = desk
    base = {**metadata_form(), "scan": (io.BytesIO(PDF), "scan.pdf")}
    _check_metadata_form(poster, as_(p["clerk"]), "/van-ban-den/moi", base, "")
    poster.check()


def test_register_step(db, factory, desk, as_, poster):
    org, _unit, p = desk
    doc = incoming.receive(org, metadata(), [incoming.Upload("van-ban.pdf", PDF, incoming.FileRole.MAIN)],
                           sender=factory.organisation(name="Sở Gửi Thử"))
    db.commit()
    clerk = as_(p["clerk"])
    poster.long_text(clerk, f"/van-ban-den/{doc.id}/tra-lai", {"return-category": "sai_noi_nhan",
                                                               "return-reason": "Sai nơi nhận."}, ["return-reason"])
    poster.refused(clerk, f"/van-ban-den/{doc.id}/tra-lai", {"return-reason": "Sai nơi nhận."}, "return-category",
                   ["khong_co", LONG])
    incoming.accept(p["clerk"], doc)
    db.commit()
    _check_metadata_form(poster, clerk, f"/van-ban-den/{doc.id}/vao-so", metadata_form("register-"), "register-")
    poster.check()


def rows(*items) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    return {"a_kind": [i[0] for i in items], "a_id": [str(i[1]) for i in items],
            "a_role": [i[2] for i in items], "a_deadline": [i[3] for i in items]}


def test_directives_notes_progress_and_reminders(db, desk, as_, poster):
    _org, unit, p = desk
    doc = incoming.digitise(p["clerk"], metadata(), incoming.Upload("scan.pdf", PDF))
    db.commit()
    clerk, leader = as_(p["clerk"]), as_(p["leader"])
    url = f"/van-ban-den/{doc.id}"
    poster.long_text(clerk, f"{url}/trinh", {"present-leader_id": str(p["leader"].id)}, ["present-note"])
    poster.refused(clerk, f"{url}/trinh", {}, "present-leader_id", [HUGE_NUMBER, "-1", LONG])
    incoming.present(p["clerk"], doc, p["leader"].id)
    db.commit()
    deadline = (local_today() + timedelta(days=5)).strftime("%d/%m/%Y")
    direct = {"direct-directive": "Giao phòng chủ trì.", **rows(("unit", unit.id, "chu_tri", deadline))}
    poster.long_text(leader, f"{url}/phan-phoi", direct, ["direct-directive"])
    poster.refused(leader, f"{url}/phan-phoi", direct, "direct-due_date", BAD_DATES)
    poster.refused(leader, f"{url}/phan-phoi", direct, "a_deadline", BAD_DATES)
    poster.refused(leader, f"{url}/phan-phoi", direct, "a_role", ["khong_co", LONG])
    poster.refused(leader, f"{url}/phan-phoi", direct, "a_id", [HUGE_NUMBER, "-1"])
    poster.long_text(leader, f"{url}/luu-de-biet", {}, ["file_info-note"])
    poster.long_text(leader, f"{url}/tra-van-thu", {}, ["send_back-reason"])
    poster.long_text(leader, f"{url}/chuyen-lanh-dao", {"forward-leader_id": str(p["deputy"].id)}, ["forward-note"])
    incoming.direct(p["leader"], doc, "Phòng chủ trì.", [incoming.AssigneeSpec(AssignmentRole.LEAD, unit_id=unit.id)])
    db.commit()
    unit_direct = {"unit_direct-directive": "Giao anh.", **rows(("person", p["officer"].id, "chu_tri", deadline))}
    poster.long_text(as_(p["head"]), f"{url}/giao-trong-don-vi", unit_direct, ["unit_direct-directive"])
    incoming.direct_within_unit(p["head"], doc, "", [incoming.AssigneeSpec(AssignmentRole.LEAD,
                                                                           user_id=p["officer"].id)])
    db.commit()
    officer = as_(p["officer"])
    poster.long_text(officer, f"{url}/tien-do", {}, ["progress-text"])
    poster.long_text(officer, f"{url}/hoan-thanh", {}, ["finish-result"])
    row = next(a for a in incoming.assignments_of(doc) if a.level == 2)
    remind = {f"remind{row.id}-kind": "nhac_nho"}
    poster.long_text(as_(p["head"]), f"{url}/phan-cong/{row.id}/don-doc", remind, [f"remind{row.id}-text"])
    poster.refused(as_(p["head"]), f"{url}/phan-cong/{row.id}/don-doc", {}, f"remind{row.id}-kind",
                   ["khong_co", LONG])
    incoming.finish(p["officer"], doc, "Đã xong.", [])
    db.commit()
    poster.long_text(leader, f"{url}/mo-lai", {}, ["reopen-reason"])
    poster.check()


# --- dự thảo --------------------------------------------------------------------------------------------

@pytest.fixture
def drafting(factory, db):  # type: ignore[no-untyped-def]
    org = factory.organisation(name="Sở Soạn Thảo Thử", short_name="SSTT")
    unit = factory.unit(org, name="Phòng Soạn Thảo")
    receiver = factory.organisation(name="Sở Nhận Thử", short_name="SNT")
    people = {
        "officer": act(factory.person(Role.OFFICER, organisation=org, unit=unit)),
        "colleague": act(factory.person(Role.OFFICER, organisation=org, unit=unit)),
        "head": act(factory.person(Role.UNIT_HEAD, organisation=org, unit=unit, title="Trưởng phòng")),
        "checker": act(factory.person(Role.FORMAT_CHECKER, organisation=org)),
        "leader": act(factory.person(Role.AGENCY_LEADER, organisation=org, title="Giám đốc")),
        "deputy": act(factory.person(Role.AGENCY_LEADER, organisation=org, title="Phó Giám đốc")),
        "clerk": act(factory.person(Role.CLERK, organisation=org, title="Văn thư")),
    }
    doc_type = DocumentType(name=f"Công văn thử {uuid.uuid4().hex[:6]}", abbreviation=None)
    db.add(doc_type)
    db.commit()
    return receiver, doc_type, people


def details(doc_type: DocumentType, signer: User, receiver: Organisation, prefix: str = "") -> dict:  # type: ignore[type-arg]
    base = {"document_type_id": str(doc_type.id), "subject": "Về việc kiện toàn tổ công tác", "urgency": "0",
            "signer_id": str(signer.id), "authority": "KT.", "signer_title": "Phó Giám đốc"}
    return {**{prefix + k: v for k, v in base.items()}, "r_org": str(receiver.id),
            "r_name": "Bưu điện tỉnh Thử", "r_method": "buu_dien", "r_address": "01 Đường Thử"}


def _check_details(poster: Poster, client: FlaskClient, url: str, base: dict, prefix: str) -> None:  # type: ignore[type-arg]
    poster.long_text(client, url, base, [prefix + "subject", prefix + "signer_title", "r_name", "r_address"])
    poster.refused(client, url, base, prefix + "urgency", ["9", "-1", HUGE_NUMBER])
    poster.refused(client, url, base, prefix + "authority", ["XYZ", LONG])
    poster.refused(client, url, base, prefix + "due_date", BAD_DATES)
    poster.refused(client, url, base, "r_method", ["khong_co", LONG], expect=None)
    poster.refused(client, url, base, prefix + "reply_to_id", [HUGE_NUMBER, LONG], expect=None)


def test_new_draft_and_details(db, drafting, as_, poster):
    receiver, doc_type, p = drafting
    officer = as_(p["officer"])
    base = {**details(doc_type, p["leader"], receiver), "main": (io.BytesIO(PDF), "du-thao.pdf")}
    _check_details(poster, officer, "/du-thao/moi", base, "")
    poster.check()
    draft = _created(db, receiver, doc_type, p)
    _check_details(poster, officer, f"/du-thao/{draft.id}/sua", details(doc_type, p["leader"], receiver, "details-"),
                   "details-")
    poster.check()


def _created(db, receiver, doc_type, p) -> Draft:  # type: ignore[no-untyped-def]
    draft = drafts.create(p["officer"], drafts.DraftData(
        subject="Về việc kiện toàn tổ công tác", document_type_id=doc_type.id, signer_id=p["leader"].id,
        authority="KT.", signer_title="Phó Giám đốc"), drafts.Upload("du-thao.pdf", PDF), [],
        [drafts.RecipientSpec(organisation_id=receiver.id)])
    db.commit()
    return draft


def test_draft_steps_and_comments(db, drafting, as_, poster):
    receiver, doc_type, p = drafting
    draft = _created(db, receiver, doc_type, p)
    url = f"/du-thao/{draft.id}"
    officer = as_(p["officer"])
    poster.long_text(officer, f"{url}/phien-ban", {"version-main": (io.BytesIO(PDF + b"%2\n"), "v2.pdf")},
                     ["version-note"])
    ask = {"ask-question": "Xin ý kiến góp ý.", "people": str(p["colleague"].id)}
    poster.long_text(officer, f"{url}/xin-y-kien", ask, ["ask-question"])
    poster.refused(officer, f"{url}/xin-y-kien", ask, "ask-deadline", BAD_DATES)
    poster.long_text(officer, f"{url}/huy", {}, ["cancel-reason"])
    drafts.ask_comments(p["officer"], draft, [p["colleague"].id], "Xin ý kiến.", None)
    db.commit()
    invite = drafts.my_open_invites(p["colleague"], draft)[0]
    answer = {f"answer{invite.id}-answer": "dong_y", f"answer{invite.id}-text": "Đồng ý."}
    poster.long_text(as_(p["colleague"]), f"{url}/y-kien/{invite.id}", answer, [f"answer{invite.id}-text"])
    poster.refused(as_(p["colleague"]), f"{url}/y-kien/{invite.id}", answer, f"answer{invite.id}-answer",
                   ["khong_co", LONG])
    poster.long_text(officer, f"{url}/trinh", {}, ["submit-note"])
    drafts.submit(p["officer"], draft)
    db.commit()
    head = as_(p["head"])
    poster.long_text(head, f"{url}/duyet", {}, ["approve-note"])
    poster.long_text(head, f"{url}/tra-lai", {}, ["send_back-comment"])
    drafts.approve(p["head"], draft)
    db.commit()
    poster.long_text(as_(p["checker"]), f"{url}/the-thuc", {"format_ok-checklist": list(drafts.FORMAT_CHECKLIST)},
                     ["format_ok-note"])
    poster.refused(as_(p["checker"]), f"{url}/the-thuc", {}, "format_ok-checklist", ["khong_co", LONG])
    drafts.format_ok(p["checker"], draft, list(drafts.FORMAT_CHECKLIST))
    db.commit()
    leader = as_(p["leader"])
    poster.long_text(leader, f"{url}/chuyen-lanh-dao", {"forward-leader_id": str(p["deputy"].id)}, ["forward-note"])
    poster.long_text(leader, f"{url}/ky-so", {}, ["sign-password"], message="Mật khẩu")
    poster.check()


# --- lịch công tác ------------------------------------------------------------------------------------

def test_schedule_entry_and_return(db, factory, as_, poster):
    org = factory.organisation(name="Sở Lịch Dữ Liệu Xấu", short_name="SLDX")
    editor = act(factory.person(Role.SCHEDULE_EDITOR, Role.AGENCY_LEADER, organisation=org, title="Chánh Văn phòng"))
    db.commit()
    cal = schedules.calendar_for(org)
    monday = local_today() + timedelta(days=7 - local_today().weekday())
    db.commit()
    client = as_(editor)
    url = f"/lich-cong-tac/lich/{cal.id}/{monday.isoformat()}/them"
    base = {"day": monday.isoformat(), "start": "08:00", "end": "09:30", "content": "Họp giao ban"}
    poster.long_text(client, url, base, ["content", "presiding_text", "participants_text", "location", "notes"])
    poster.refused(client, url, base, "start", ["99:99", HUGE_NUMBER, "-1:00", LONG])
    poster.refused(client, url, base, "day", [*BAD_DATES, LONG])
    poster.refused(client, url, base, "presiding_ids", [HUGE_NUMBER, "-1", "abc"])
    poster.refused(client, url, base, "unit_ids", [HUGE_NUMBER, "-1", "abc"])
    entry, _ = schedules.add_entry(editor, cal, monday, schedules.EntryData(day=monday, start=time(8), content="Họp"))
    db.commit()
    poster.long_text(client, f"/lich-cong-tac/muc/{entry.id}/sua", base, ["content", "location", "notes"])
    schedules.submit(editor, cal, monday)
    db.commit()
    poster.long_text(client, f"/lich-cong-tac/lich/{cal.id}/{monday.isoformat()}/tra-lai", {}, ["comment"])
    poster.refused(client, "/lich-cong-tac/dong-bo", {}, "kind", ["khong_co", LONG], expect=None)
    poster.check()


# --- quản trị, mật khẩu, sổ ---------------------------------------------------------------------------

@pytest.fixture
def admin(factory, db):  # type: ignore[no-untyped-def]
    org = factory.organisation(name="Sở Quản Trị Thử", short_name="SQTT")
    person = act(factory.person(Role.SYSTEM_ADMIN, Role.CLERK, organisation=org, unit=factory.unit(org)))
    db.commit()
    return org, person


def test_admin_organisation_and_account(db, factory, admin, as_, poster):
    org, person = admin
    client = as_(person)
    org_base = {"name": "Sở Thử Mới", "short_name": "STM", "kind": "so", "parent_id": str(org.parent_id)}
    org_fields = ["name", "short_name", "organ_id", "legacy_organ_id", "address", "email", "phone", "fax", "website"]
    poster.long_text(client, "/quan-tri/co-quan/moi", org_base, org_fields)
    poster.refused(client, "/quan-tri/co-quan/moi", org_base, "kind", ["khong_co", LONG])
    poster.long_text(client, f"/quan-tri/co-quan/{org.id}", {**org_base, "name": org.name, "short_name": "SQTT"},
                     org_fields)
    person_base = {"username": "thu.du.lieu", "full_name": "Lê Văn Thử", "organisation_id": str(org.id),
                   "title": "Chuyên viên", "roles": "officer"}
    poster.long_text(client, "/quan-tri/nguoi-dung/moi", person_base, ["username", "full_name", "phone", "title"])
    poster.long_text(client, "/quan-tri/nguoi-dung/moi", person_base, ["email"], message="Thư điện tử không hợp lệ")
    poster.refused(client, "/quan-tri/nguoi-dung/moi", person_base, "email", ["a" * 60 + "@" + "b" * 60 + ".gov.vn"])
    poster.refused(client, "/quan-tri/nguoi-dung/moi", person_base, "roles", ["khong_co", LONG])
    other = act(factory.person(Role.OFFICER, organisation=org))
    db.commit()
    poster.long_text(client, f"/quan-tri/nguoi-dung/{other.id}/khoa", {}, ["lock-reason"])
    poster.long_text(client, f"/quan-tri/nguoi-dung/{other.id}/vo-hieu-hoa", {}, ["disable-reason"])
    position = other.positions[0]
    poster.long_text(client, f"/quan-tri/nguoi-dung/{other.id}/chuc-vu/{position.id}",
                     {"organisation_id": str(org.id), "title": "Chuyên viên", "roles": "officer"}, ["title"])
    poster.check()


def test_password_change(db, factory, as_, poster):
    person = act(factory.person(Role.OFFICER))
    db.commit()
    base = {"current_password": PASSWORD, "new_password": "Mới-Hơn@2026xyzq", "confirm": "Mới-Hơn@2026xyzq"}
    poster.long_text(as_(person), "/auth/mat-khau", base, ["current_password", "new_password", "confirm"],
                     message="Mật khẩu")
    poster.check()


def test_register_book_print(db, admin, as_, poster):
    _org, person = admin
    client = as_(person)
    base = {"kind": "den", "year": str(local_today().year)}
    poster.refused(client, "/so-van-ban/", base, "year", [HUGE_NUMBER, "99999", "0", "-1", "2026.5"])
    poster.refused(client, "/so-van-ban/", base, "volume", [HUGE_NUMBER, "99999999999", "-1"])
    poster.refused(client, "/so-van-ban/", base, "date_from", BAD_DATES)
    poster.refused(client, "/so-van-ban/", base, "kind", ["khong_co", LONG])
    poster.refused(client, "/so-van-ban/", base, "book_id", [HUGE_NUMBER, LONG], expect=None)
    poster.check()
