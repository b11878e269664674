"""The draft and outgoing lists: which queue holds a draft at each step for each person, urgent
first where work waits, search without diacritics and by exact số/ký hiệu, filters, keyset
pages, counts, the htmx rows swap, the menu badge and the read-only outgoing page. Drafts are
walked through the real services, signing and issuance included. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from portal.auth.models import Role
from portal.documents.models import Direction, DocumentType, OutgoingDocument, OutgoingStatus, RegisterBook, Urgency
from portal.drafts import queries, services
from portal.drafts.models import DraftStatus
from portal.text import fold
from portal.timeutil import local_year, to_local
from tests.incoming_fixtures import PDF, act

HX = {"HX-Request": "true"}
_seq = itertools.count(1)


def ids(user, slug, **filters):
    page = queries.page(user, queries.QUEUES[slug], queries.Filters(**filters), size=500)
    return [row.id for row in page.rows]


@pytest.fixture
def shop(db, factory, office):
    """The incoming office plus a format checker and a document type to draft."""
    org, _unit, p = office
    p["checker"] = act(factory.person(Role.FORMAT_CHECKER, organisation=org, title="Chuyên viên pháp chế"))
    doc_type = DocumentType(name=f"Tờ trình thử {next(_seq)}", abbreviation="TTr")
    db.add(doc_type)
    db.flush()
    return org, p, doc_type


def make(shop, subject="Tờ trình về công tác văn thư, lưu trữ", urgency=0, drafter="officer"):
    _org, p, doc_type = shop
    data = services.DraftData(subject=subject, document_type_id=doc_type.id, urgency=urgency,
                              signer_id=p["leader"].id)
    return services.create(p[drafter], data, services.Upload("du-thao.pdf", PDF))


def walk(shop, draft, to: DraftStatus):
    """Moves a draft forward through the real steps until it reaches ``to``."""
    _org, p, _type = shop
    steps = [
        (DraftStatus.UNIT_REVIEW, lambda: services.submit(p["officer"], draft)),
        (DraftStatus.FORMAT_CHECK, lambda: services.approve(p["head"], draft)),
        (DraftStatus.SIGNING, lambda: services.format_ok(p["checker"], draft, list(services.FORMAT_CHECKLIST))),
        (DraftStatus.SIGNED, lambda: services.sign(p["leader"], draft, True, PDF + b"%ky-so\n")),
        (DraftStatus.ISSUED, lambda: services.issue(p["clerk"], draft, None, seal=lambda pdf, _n, _d: pdf)),
        (DraftStatus.RECALLED, lambda: services.recall(p["clerk"], draft, "Ban hành nhầm.")),
    ]
    for status, step in steps:
        if draft.status == to:
            break
        step()
        assert draft.status == status
    return draft


def old_outgoing(db, org, number: int, notation: str = "UBND-VP", subject: str = "Công văn cũ nhập sẵn",
                 issued_at: datetime | None = None, status=OutgoingStatus.ISSUED) -> OutgoingDocument:
    """An issued document with no draft, as the demo data and imports create them."""
    book = db.query(RegisterBook).filter_by(organisation_id=org.id, direction=Direction.OUTGOING).first()
    if book is None:
        book = RegisterBook(organisation_id=org.id, direction=Direction.OUTGOING, name="Sổ văn bản đi")
        db.add(book)
        db.flush()
    issued_at = issued_at or datetime.now(UTC)
    out = OutgoingDocument(organisation_id=org.id, status=status, book_id=book.id, year=local_year(issued_at),
                           number=number, type_name="Công văn", code_number=f"{number:02d}", code_notation=notation,
                           issued_date=to_local(issued_at).date(), organ_name=org.name, subject=subject,
                           subject_folded=fold(subject), issued_at=issued_at)
    db.add(out)
    db.flush()
    return out


@pytest.fixture
def stages(db, shop):
    """One draft at every step, one with an open comment round to the unit head, a cancelled
    one and an issued document without a draft."""
    org, p, _type = shop
    d = {status: walk(shop, make(shop, f"Dự thảo {status.label}"), status)
         for status in (DraftStatus.DRAFT, DraftStatus.UNIT_REVIEW, DraftStatus.FORMAT_CHECK, DraftStatus.SIGNING,
                        DraftStatus.SIGNED, DraftStatus.ISSUED, DraftStatus.RECALLED)}
    d["comment"] = make(shop, "Dự thảo xin ý kiến")
    services.ask_comments(p["officer"], d["comment"], [p["head"].id], "Đề nghị góp ý.", None)
    d["cancelled"] = make(shop, "Dự thảo bỏ")
    services.cancel(p["officer"], d["cancelled"], "Không cần nữa.")
    d["old"] = old_outgoing(db, org, 90)
    return d


def test_each_person_sees_exactly_their_queues(db, shop, stages):
    _org, p, _type = shop
    S, d = DraftStatus, stages
    issued, recalled = d[S.ISSUED].outgoing_id, d[S.RECALLED].outgoing_id
    passed_head = {d[s].id for s in (S.FORMAT_CHECK, S.SIGNING, S.SIGNED, S.ISSUED, S.RECALLED)}
    passed_checker = {d[s].id for s in (S.SIGNING, S.SIGNED, S.ISSUED, S.RECALLED)}
    expected = {
        "officer": {"cua-toi": {d[s].id for s in (S.DRAFT, S.UNIT_REVIEW, S.FORMAT_CHECK, S.SIGNING, S.SIGNED)}
                    | {d["comment"].id}, "cho-y-kien": set(),
                    "tat-ca": {x.id for x in d.values() if not isinstance(x, OutgoingDocument)},
                    "da-phat-hanh": {issued}, "da-thu-hoi": {recalled}},
        "head": {"cua-toi": set(), "cho-y-kien": {d["comment"].id}, "cho-duyet": {d[S.UNIT_REVIEW].id},
                 "cho-ky": set(), "tat-ca": passed_head | {d[S.UNIT_REVIEW].id, d["comment"].id},
                 "da-phat-hanh": {issued}, "da-thu-hoi": {recalled}},
        "checker": {"cho-the-thuc": {d[S.FORMAT_CHECK].id}, "tat-ca": passed_checker | {d[S.FORMAT_CHECK].id},
                    "da-phat-hanh": {issued}, "da-thu-hoi": {recalled}},
        "leader": {"cho-ky": {d[S.SIGNING].id}, "cua-toi": set(),
                   "tat-ca": {x.id for x in d.values() if not isinstance(x, OutgoingDocument)},
                   "da-phat-hanh": {issued, d["old"].id}, "da-thu-hoi": {recalled}},
        "clerk": {"cho-phat-hanh": {d[S.SIGNED].id}, "tat-ca": {d[s].id for s in (S.SIGNED, S.ISSUED, S.RECALLED)},
                  "da-phat-hanh": {issued, d["old"].id}, "da-thu-hoi": {recalled}},
        "other": {slug: set() for slug in ("cua-toi", "cho-y-kien", "da-phat-hanh", "da-thu-hoi", "tat-ca")},
        "outsider": {slug: set() for slug in ("cua-toi", "cho-phat-hanh", "da-phat-hanh", "da-thu-hoi", "tat-ca")},
    }
    for who, queues in expected.items():
        offered = {q.slug for q in queries.queues_for(p[who])}
        for slug, want in queues.items():
            assert slug in offered, (who, slug)
            assert set(ids(p[who], slug)) == want, (who, slug)
    assert "cho-duyet" not in {q.slug for q in queries.queues_for(p["officer"])}
    assert "cho-the-thuc" not in {q.slug for q in queries.queues_for(p["clerk"])}
    assert "cho-phat-hanh" not in {q.slug for q in queries.queues_for(p["leader"])}
    assert queries.action_counts(p["head"]) == {"cho-y-kien": 1, "cho-duyet": 1, "cho-ky": 0}
    assert queries.action_counts(p["clerk"])["cho-phat-hanh"] == 1
    assert queries.action_counts(p["checker"])["cho-the-thuc"] == 1
    assert sum(queries.action_counts(p["other"]).values()) == 0


def test_answered_or_closed_comments_leave_the_queue(db, shop):
    _org, p, _type = shop
    draft = make(shop)
    round_ = services.ask_comments(p["officer"], draft, [p["head"].id, p["other"].id], "Góp ý giúp.", None)
    assert ids(p["other"], "cho-y-kien") == [draft.id]
    invite = next(i for i in services.my_open_invites(p["other"], draft))
    services.answer(p["other"], draft, invite.id, "dong_y", "Nhất trí.")
    assert ids(p["other"], "cho-y-kien") == []
    assert ids(p["head"], "cho-y-kien") == [draft.id]
    services.close_round(p["officer"], draft, round_.id)
    assert ids(p["head"], "cho-y-kien") == []
    assert draft.id in ids(p["head"], "tat-ca")  # asked once: still visible


def test_urgent_first_only_where_work_waits(db, shop):
    _org, p, _type = shop
    urgent = walk(shop, make(shop, "Hỏa tốc", urgency=Urgency.EXPRESS), DraftStatus.UNIT_REVIEW)
    plain = [walk(shop, make(shop, f"Thường {i}"), DraftStatus.UNIT_REVIEW) for i in range(3)]
    assert ids(p["head"], "cho-duyet") == [urgent.id] + [x.id for x in reversed(plain)]
    assert ids(p["officer"], "cua-toi") == [x.id for x in reversed(plain)] + [urgent.id]


def test_search_without_diacritics_and_exact_code(db, shop):
    org, p, _type = shop
    hit = walk(shop, make(shop, "Tờ trình về việc kiện toàn Hội đồng lưu trữ"), DraftStatus.ISSUED)
    miss = make(shop, "Kế hoạch đê điều")
    old = old_outgoing(db, org, 5, "QĐ-UBND", "Quyết định về đê điều năm nay")
    old_outgoing(db, org, 50, "QĐ-UBND", "Quyết định khác")
    officer, clerk = p["officer"], p["clerk"]
    assert ids(officer, "tat-ca", q="kien toan hoi dong luu tru") == [hit.id]
    assert ids(officer, "tat-ca", q="HỘI ĐỒNG  tờ trình") == [hit.id]
    assert ids(officer, "tat-ca", q="de dieu") == [miss.id]
    assert ids(officer, "tat-ca", q="100% _") == []  # LIKE wildcards are not wildcards
    out = hit.outgoing_id
    code = db.get(OutgoingDocument, out)
    assert (code.code_number, code.code_notation) == ("01", f"TTr-{org.short_name}")
    assert ids(clerk, "da-phat-hanh", q=f"01/TTr-{org.short_name}") == [out]
    assert ids(clerk, "da-phat-hanh", q=f"1/ttr-{org.short_name.lower()}") == [out]
    assert ids(officer, "tat-ca", q=f"01/TTr-{org.short_name}") == [hit.id]  # a draft by its issued number
    assert ids(clerk, "da-phat-hanh", q="05/QĐ-UBND") == [old.id]  # exact: not 50
    assert ids(clerk, "da-phat-hanh", q="5/qđ-ubnd") == [old.id]
    assert ids(clerk, "da-phat-hanh", q="de dieu") == [old.id]
    assert ids(officer, "da-phat-hanh", q="de dieu") == []  # not his


def test_filters(db, shop):
    _org, p, doc_type = shop
    urgent = make(shop, "Khẩn", urgency=Urgency.URGENT)
    plain = make(shop, "Thường")
    officer = p["officer"]
    assert ids(officer, "tat-ca", urgent=True) == [urgent.id]
    assert set(ids(officer, "tat-ca", type_id=doc_type.id)) == {urgent.id, plain.id}
    assert ids(officer, "tat-ca", type_id=doc_type.id + 1000) == []
    # 23:30 on 1 March in Vietnam is 16:30 UTC; 00:30 on 2 March is 17:30 UTC on 1 March
    plain.created_at = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)
    urgent.created_at = datetime(2026, 3, 1, 16, 30, tzinfo=UTC)
    db.flush()
    day = date(2026, 3, 2)
    assert ids(officer, "tat-ca", date_from=day, date_to=day) == [plain.id]
    assert ids(officer, "tat-ca", date_to=day - timedelta(days=1)) == [urgent.id]


def test_keyset_pages_neither_skip_nor_repeat(db, shop):
    _org, p, _type = shop
    made = [walk(shop, make(shop, f"Dự thảo {i}", urgency=Urgency.URGENT if i % 4 == 0 else 0),
                 DraftStatus.UNIT_REVIEW) for i in range(13)]
    queue, seen, cursor = queries.QUEUES["cho-duyet"], [], None
    while True:
        page = queries.page(p["head"], queue, queries.Filters(), cursor, size=4)
        seen += [d.id for d in page.rows]
        if len(seen) == 4:  # work goes on while the head pages
            walk(shop, make(shop, "Mới trình giữa chừng", urgency=Urgency.URGENT), DraftStatus.UNIT_REVIEW)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen))
    assert set(seen) >= {d.id for d in made}
    urgent = {d.id for d in made if d.urgency}
    assert set(seen[:len(urgent)]) == urgent


def test_outgoing_pages_break_ties_by_id(db, shop):
    org, p, _type = shop
    moment = datetime(2026, 5, 4, 3, 0, 0, 123456, tzinfo=UTC)
    made = [old_outgoing(db, org, n, issued_at=moment) for n in range(1, 6)]
    made.append(old_outgoing(db, org, 6, issued_at=moment - timedelta(days=1)))
    queue, seen, cursor = queries.QUEUES["da-phat-hanh"], [], None
    while True:
        page = queries.page(p["clerk"], queue, queries.Filters(), cursor, size=2)
        seen += [o.id for o in page.rows]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == [o.id for o in reversed(made[:5])] + [made[5].id]


def test_counts_are_capped(db, shop):
    _org, p, _type = shop
    for i in range(4):
        walk(shop, make(shop, f"Dự thảo {i}"), DraftStatus.UNIT_REVIEW)
    assert queries.count(p["head"], queries.QUEUES["cho-duyet"]) == 4
    assert queries.count(p["head"], queries.QUEUES["cho-duyet"], cap=2) == 3
    assert queries.format_count(3, cap=2) == "2+"


# --- through HTTP --------------------------------------------------------------------------------------

def test_list_page_and_rows_fragment(db, client, login, shop):
    _org, p, _type = shop
    draft = walk(shop, make(shop, "Tờ trình về việc kiểm tra công tác văn thư", urgency=Urgency.EXPRESS),
                 DraftStatus.UNIT_REVIEW)
    login(p["head"])
    page = client.get("/du-thao/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<html" in html
    assert "Chờ duyệt" in html
    assert "Tờ trình về việc kiểm tra công tác văn thư" in html
    assert "Hỏa tốc" in html
    assert 'class="urgent"' in html
    assert 'id="drafts-rows"' in html
    assert f'href="/du-thao/{draft.id}"' in html
    assert 'href="/du-thao/moi"' in html  # Soạn dự thảo mới
    assert "HX-Request" in page.headers.get("Vary", "")
    rows = client.get("/du-thao/?ds=tat-ca&q=kiem+tra+van+thu", headers=HX)
    body = rows.get_data(as_text=True)
    assert rows.status_code == 200
    assert "<html" not in body
    assert "<tbody>" in body
    assert "Tờ trình về việc kiểm tra công tác văn thư" in body
    nothing = client.get("/du-thao/?ds=tat-ca&q=khong+co+gi+ca", headers=HX)
    assert "Không có dự thảo nào khớp với bộ lọc" in nothing.get_data(as_text=True)


def test_outgoing_rows_link_to_the_draft_or_the_outgoing_page(db, client, login, shop):
    org, p, _type = shop
    draft = walk(shop, make(shop, "Tờ trình đã ban hành"), DraftStatus.ISSUED)
    old = old_outgoing(db, org, 77, subject="Công văn nhập từ hệ thống cũ")
    login(p["clerk"])
    html = client.get("/du-thao/?ds=da-phat-hanh").get_data(as_text=True)
    assert f'href="/du-thao/{draft.id}"' in html
    assert f'href="/du-thao/van-ban-di/{old.id}"' in html
    page = client.get(f"/du-thao/van-ban-di/{old.id}")
    assert page.status_code == 200
    assert "Công văn nhập từ hệ thống cũ" in page.get_data(as_text=True)
    assert "77/UBND-VP" in page.get_data(as_text=True)


@pytest.mark.parametrize(("who", "status"), [("clerk", 200), ("leader", 200), ("officer", 200), ("head", 200),
                                         ("other", 404), ("outsider", 404)])
def test_outgoing_page_follows_the_list_rule(db, client, login, shop, who, status):
    _org, p, _type = shop
    draft = walk(shop, make(shop, "Tờ trình đã ban hành"), DraftStatus.ISSUED)
    login(p[who])
    assert client.get(f"/du-thao/van-ban-di/{draft.outgoing_id}").status_code == status


def test_demo_outgoing_page_is_for_clerks_and_leaders(db, client, login, shop):
    org, p, _type = shop
    old = old_outgoing(db, org, 12)
    login(p["officer"])
    assert client.get(f"/du-thao/van-ban-di/{old.id}").status_code == 404
    assert client.get("/du-thao/van-ban-di/999999").status_code == 404


def test_nav_badge_counts_waiting_drafts(db, client, login, shop):
    _org, p, _type = shop
    for i in range(2):
        walk(shop, make(shop, f"Dự thảo {i}"), DraftStatus.UNIT_REVIEW)
    login(p["head"])
    html = client.get("/").get_data(as_text=True)
    assert "Dự thảo, văn bản đi" in html
    assert re.search(r"Dự thảo, văn bản đi(</span>)? <span class=\"count count-some\" title=\"Việc đang chờ\">2<", html)


def test_bad_filters_are_422_with_a_message(db, client, login, shop):
    _org, p, _type = shop
    login(p["officer"])
    resp = client.get("/du-thao/?ds=tat-ca&tu=31/02/2026")
    assert resp.status_code == 422
    assert "ngày/tháng/năm" in resp.get_data(as_text=True)
    resp = client.get("/du-thao/?ds=tat-ca&tu=05/03/2026&den=01/03/2026", headers=HX)
    assert resp.status_code == 422
    assert "“Đến ngày” phải sau" in resp.get_data(as_text=True)
    assert client.get("/du-thao/?ds=tat-ca&loai=abc").status_code == 422
    assert client.get("/du-thao/?ds=khong-co").status_code == 404
    assert client.get("/du-thao/?ds=tat-ca&sau=rac").status_code == 422  # a mangled cursor: a message, page 1


@pytest.mark.parametrize("slug", ["cho-duyet", "cho-the-thuc", "cho-ky", "cho-phat-hanh"])
def test_step_queues_are_not_offered_to_officers(db, client, login, shop, slug):
    _org, p, _type = shop
    login(p["officer"])
    assert client.get(f"/du-thao/?ds={slug}").status_code == 404
    assert client.get("/du-thao/?ds=cua-toi").status_code == 200


def test_only_drafting_roles_are_offered_a_new_draft(db, client, login, shop):
    _org, p, _type = shop
    login(p["checker"])
    html = client.get("/du-thao/").get_data(as_text=True)
    assert "Chờ kiểm tra thể thức" in html
    assert "Soạn dự thảo mới" not in html


def test_next_page_link_keeps_filters(db, client, login, shop, monkeypatch):
    _org, p, _type = shop
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    for i in range(5):
        make(shop, f"Kế hoạch số {i}")
    login(p["officer"])
    html = client.get("/du-thao/?ds=cua-toi&q=ke+hoach").get_data(as_text=True)
    assert "Trang sau" in html
    assert "q=ke+hoach" in html
    assert "sau=" in html
