"""The incoming lists (issue 4 §7): which queue holds a document at each step, urgent first,
search without diacritics and by exact số/ký hiệu, filters, keyset pages, counts, and the
htmx rows swap. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from portal.auth.models import Role
from portal.documents.models import IncomingStatus as S
from portal.documents.models import Urgency
from portal.incoming import queries, services
from portal.incoming.models import AssignmentRole
from portal.timeutil import local_today
from portal.workdays.calendar import add_working_days
from tests.incoming_fixtures import PDF, metadata

Spec = services.AssigneeSpec


def ids(user, slug, **filters):
    page = queries.page(user, queries.QUEUES[slug], queries.Filters(**filters), size=500)
    return [d.id for d in page.rows]


def arrive(org, **kw):
    return services.receive(org, metadata(**kw), [services.Upload("vb.pdf", PDF, services.FileRole.MAIN)])


def test_a_document_moves_through_the_queues(db, office):
    org, unit, p = office
    doc = arrive(org)
    clerk, leader, head, officer = p["clerk"], p["leader"], p["head"], p["officer"]
    assert doc.id in ids(clerk, "cho-tiep-nhan")
    assert doc.id not in ids(officer, "tat-ca")  # 01 is the front desk's only
    services.accept(clerk, doc)
    assert doc.id not in ids(clerk, "cho-tiep-nhan")
    assert doc.id in ids(clerk, "cho-vao-so")
    assert doc.id not in ids(clerk, "cho-trinh")
    services.register(clerk, doc, metadata())
    assert doc.status == S.REGISTERED
    assert doc.arrival_number
    assert doc.id not in ids(clerk, "cho-vao-so")
    assert doc.id in ids(clerk, "cho-trinh")
    services.present(clerk, doc, leader.id)
    assert doc.id not in ids(clerk, "cho-trinh")
    assert doc.id in ids(leader, "cho-phan-phoi")
    services.direct(leader, doc, "Phòng Nghiệp vụ chủ trì.",
                    [Spec(AssignmentRole.LEAD, unit_id=unit.id, deadline=local_today() + timedelta(days=3))])
    assert doc.id not in ids(leader, "cho-phan-phoi")
    assert doc.id in ids(head, "cho-xu-ly")
    assert doc.id not in ids(officer, "cho-xu-ly")
    services.direct_within_unit(head, doc, "", [Spec(AssignmentRole.LEAD, user_id=officer.id)])
    assert doc.id not in ids(head, "cho-xu-ly")
    assert doc.id in ids(head, "dang-xu-ly")
    assert doc.id in ids(officer, "cho-xu-ly")
    services.record_progress(officer, doc, "Đang dự thảo.")
    assert doc.id not in ids(officer, "cho-xu-ly")
    assert doc.id in ids(officer, "dang-xu-ly")
    assert doc.id in ids(clerk, "dang-xu-ly")
    assert doc.id not in ids(p["other"], "tat-ca")
    services.finish(officer, doc, "Đã xong.")
    assert doc.id not in ids(officer, "dang-xu-ly")
    for who in (clerk, leader, head, officer):
        assert doc.id in ids(who, "da-hoan-thanh")
    assert doc.id not in ids(p["outsider"], "tat-ca")


def test_overdue_by_document_and_by_assignment(db, office, monkeypatch):
    _org, _unit, p = office
    doc = services.digitise(p["clerk"], metadata(), services.Upload("scan.pdf", PDF))
    services.present(p["clerk"], doc, p["leader"].id)
    # in working days (issue 18): due on the next working day, late on the one after
    services.direct(p["leader"], doc, "", [Spec(AssignmentRole.LEAD, user_id=p["officer"].id,
                                                deadline=add_working_days(local_today(), 1))])
    assert doc.id not in ids(p["clerk"], "qua-han")
    assert doc.id not in ids(p["officer"], "qua-han")
    later = add_working_days(local_today(), 2)
    monkeypatch.setattr(queries, "local_today", lambda: later)
    assert doc.id in ids(p["clerk"], "qua-han")
    assert doc.id in ids(p["officer"], "qua-han")
    assert doc.id not in ids(p["other"], "qua-han")
    services.finish(p["officer"], doc, "Xong.")
    assert doc.id not in ids(p["clerk"], "qua-han")


def test_urgent_floats_to_the_top_while_open(db, office):
    org, _unit, p = office
    older_urgent = arrive(org, urgency=Urgency.VERY_URGENT, subject="Hỏa tốc cũ")
    newer = [arrive(org, subject=f"Thường {i}") for i in range(3)]
    listed = ids(p["clerk"], "cho-tiep-nhan")
    assert listed[0] == older_urgent.id
    assert listed[1:4] == [d.id for d in reversed(newer)]
    services.return_to_sender(p["clerk"], older_urgent, "sai_noi_nhan", "Không thuộc thẩm quyền.")
    listed = ids(p["clerk"], "tat-ca")
    assert listed.index(older_urgent.id) > listed.index(newer[0].id)  # closed: back in date order


def test_search_without_diacritics_and_exact_code(db, factory, office):
    _org, _unit, p = office
    hit = services.digitise(p["clerk"], metadata(subject="Quyết định về công tác văn thư, lưu trữ năm 2026",
                                                 code_number="15", code_notation="QĐ-UBND"),
                            services.Upload("a.pdf", PDF))
    other = services.digitise(p["clerk"], metadata(subject="Công văn về đê điều", code_number="150",
                                                   code_notation="QĐ-UBND", organ_name="Sở Nông nghiệp"),
                              services.Upload("b.pdf", PDF))
    stranger_org = factory.organisation()
    stranger_clerk = factory.person(Role.CLERK, organisation=stranger_org)
    stranger_clerk.current_position = stranger_clerk.positions[0]
    theirs = services.digitise(stranger_clerk, metadata(subject="Quyết định về công tác văn thư"),
                               services.Upload("c.pdf", PDF))
    clerk = p["clerk"]
    assert ids(clerk, "tat-ca", q="quyet dinh ve cong tac van thu") == [hit.id]
    assert ids(clerk, "tat-ca", q="QUYẾT ĐỊNH văn thư") == [hit.id]
    assert ids(clerk, "tat-ca", q="de dieu") == [other.id]
    assert ids(clerk, "tat-ca", q="so nong nghiep") == [other.id]  # the issuing organisation too
    assert ids(clerk, "tat-ca", q="15/QĐ-UBND") == [hit.id]  # exact: not 150
    assert ids(clerk, "tat-ca", q="015/qđ-ubnd") == [hit.id]
    assert ids(clerk, "tat-ca", q="150/QĐ-UBND") == [other.id]
    assert theirs.id not in ids(clerk, "tat-ca", q="van thu")
    assert ids(clerk, "tat-ca", q="100% _") == []  # LIKE wildcards are not wildcards


def test_filters(db, factory, office):
    _org, _unit, p = office
    clerk = p["clerk"]
    urgent = services.digitise(clerk, metadata(urgency=Urgency.URGENT, organ_name="Bộ Nội vụ"),
                               services.Upload("a.pdf", PDF))
    plain = services.digitise(clerk, metadata(code_number="16", organ_name="Sở Tài chính"),
                              services.Upload("b.pdf", PDF))
    assert ids(clerk, "tat-ca", urgent=True) == [urgent.id]
    assert ids(clerk, "tat-ca", organ="bo noi vu") == [urgent.id]
    assert set(ids(clerk, "tat-ca", status="03")) == {urgent.id, plain.id}
    assert ids(clerk, "tat-ca", status="04") == []
    services.assign_directly(clerk, plain, "", [Spec(AssignmentRole.LEAD, user_id=p["officer"].id)])
    assert ids(clerk, "tat-ca", assignee_id=p["officer"].id) == [plain.id]
    name_word = p["officer"].full_name.split()[-1]
    assert plain.id in ids(clerk, "tat-ca", assignee_name=name_word)
    today = local_today()
    assert set(ids(clerk, "tat-ca", date_from=today, date_to=today)) == {urgent.id, plain.id}
    assert ids(clerk, "tat-ca", date_to=today - timedelta(days=1)) == []


def test_date_filter_uses_vietnam_days(db, office):
    org, _unit, p = office
    doc = arrive(org)
    # 23:30 on 1 March in Vietnam is 16:30 UTC the same day; 00:30 on 2 March is 17:30 UTC on 1 March
    doc.arrived_at = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)
    db.flush()
    day = date(2026, 3, 2)
    assert ids(p["clerk"], "tat-ca", date_from=day, date_to=day) == [doc.id]
    assert ids(p["clerk"], "tat-ca", date_to=day - timedelta(days=1)) == []


def test_keyset_pages_neither_skip_nor_repeat(db, office):
    org, _unit, p = office
    made = [arrive(org, subject=f"Văn bản {i}", urgency=Urgency.URGENT if i % 7 == 0 else Urgency.NORMAL)
            for i in range(23)]
    queue, seen, cursor = queries.QUEUES["tat-ca"], [], None
    while True:
        page = queries.page(p["clerk"], queue, queries.Filters(), cursor, size=5)
        seen += [d.id for d in page.rows]
        if len(seen) == 10:  # someone registers a new one while we page
            arrive(org, subject="Mới đến giữa chừng")
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen))
    assert set(d.id for d in made) <= set(seen)
    urgent = {d.id for d in made if d.urgency}
    assert set(seen[:len(urgent)]) == urgent


def test_counts_are_capped(db, office, monkeypatch):
    org, _unit, p = office
    for i in range(4):
        arrive(org, subject=f"VB {i}")
    assert queries.count(p["clerk"], queries.QUEUES["cho-tiep-nhan"]) == 4
    assert queries.count(p["clerk"], queries.QUEUES["cho-tiep-nhan"], cap=2) == 3
    assert queries.format_count(3, cap=2) == "2+"
    assert queries.format_count(1234, cap=9999) == "1.234"
    assert queries.action_counts(p["clerk"])["cho-tiep-nhan"] == 4
    assert "cho-tiep-nhan" not in queries.action_counts(p["officer"])


# --- through HTTP --------------------------------------------------------------------------------------

def test_list_page_and_rows_fragment(db, client, login, office):
    org, _unit, p = office
    doc = arrive(org, subject="Công văn về việc kiểm tra công tác văn thư", urgency=Urgency.EXPRESS)
    login(p["clerk"])
    page = client.get("/van-ban-den/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<html" in html
    assert "Chờ tiếp nhận" in html
    assert "Công văn về việc kiểm tra công tác văn thư" in html
    assert "Hỏa tốc" in html
    assert 'class="urgent"' in html
    assert f"/van-ban-den/{doc.id}" in html
    assert "HX-Request" in page.headers.get("Vary", "")
    rows = client.get("/van-ban-den/?ds=tat-ca&q=kiem+tra+van+thu", headers={"HX-Request": "true"})
    body = rows.get_data(as_text=True)
    assert rows.status_code == 200
    assert "<html" not in body
    assert "<tbody>" in body
    assert "Công văn về việc kiểm tra công tác văn thư" in body
    nothing = client.get("/van-ban-den/?ds=tat-ca&q=khong+co+gi+ca", headers={"HX-Request": "true"})
    assert "Không có văn bản nào khớp với bộ lọc" in nothing.get_data(as_text=True)


def test_nav_badge_counts_waiting_work(db, client, login, office):
    org, _unit, p = office
    arrive(org)
    arrive(org)
    login(p["clerk"])
    html = client.get("/").get_data(as_text=True)
    assert 'title="Việc đang chờ">2<' in html


def test_bad_filters_are_422_with_a_message(db, client, login, office):
    _org, _unit, p = office
    login(p["clerk"])
    resp = client.get("/van-ban-den/?ds=tat-ca&tu=31/02/2026")
    assert resp.status_code == 422
    assert "ngày/tháng/năm" in resp.get_data(as_text=True)
    resp = client.get("/van-ban-den/?ds=tat-ca&tu=05/03/2026&den=01/03/2026")
    assert resp.status_code == 422
    assert "“Đến ngày” phải sau" in resp.get_data(as_text=True)
    assert client.get("/van-ban-den/?ds=tat-ca&tt=99").status_code == 422
    assert client.get("/van-ban-den/?ds=khong-co").status_code == 404


@pytest.mark.parametrize("slug", ["cho-tiep-nhan", "cho-vao-so", "cho-trinh"])
def test_front_desk_queues_are_not_offered_to_officers(db, client, login, office, slug):
    _org, _unit, p = office
    login(p["officer"])
    assert client.get(f"/van-ban-den/?ds={slug}").status_code == 404
    assert client.get("/van-ban-den/?ds=cho-xu-ly").status_code == 200


def test_next_page_link_keeps_filters(db, client, login, office, monkeypatch):
    org, _unit, p = office
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    for i in range(5):
        arrive(org, subject=f"Kế hoạch số {i}", organ_name="Sở Y tế")
    login(p["clerk"])
    html = client.get("/van-ban-den/?ds=tat-ca&cq=so+y+te").get_data(as_text=True)
    assert "Trang sau" in html
    assert "cq=so+y+te" in html
    assert "sau=" in html
