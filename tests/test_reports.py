"""Báo cáo tình hình giải quyết văn bản đến/đi (SPEC §8.2, §12): exact figures per unit, per person
and in total for a known quarter, its boundaries in Vietnam time, who may see what, the chart, the
PDF and escaping."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from portal import storage
from portal.auth.models import Role
from portal.documents.models import Direction, OutgoingDocument, OutgoingStatus, RegisterBook
from portal.drafts.models import Draft, DraftStatus
from portal.incoming import services as incoming
from portal.incoming.models import AssignmentRole
from portal.reports import services
from tests.incoming_fixtures import PDF, act, metadata

VN = ZoneInfo("Asia/Ho_Chi_Minh")
TODAY = date(2026, 4, 15)  # the report is looked at mid-April: open items are judged against this day
Q1 = "/bao-cao/?loai={loai}&ky=quy&nam=2026&so=1&theo={theo}"
UNIT_A = "Phòng Văn hóa – Gia đình"
UNIT_B = "Phòng <b>Kế hoạch</b> & Tài chính"


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN).astimezone(UTC)


def days(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 86400


class Clock:
    def __init__(self) -> None:
        self.at = vn(2026, 1, 1, 8)

    def set(self, at: datetime) -> None:
        self.at = at


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(incoming, "_now", lambda: c.at)
    monkeypatch.setattr(incoming, "local_today", lambda: c.at.astimezone(VN).date())
    monkeypatch.setattr(services, "local_today", lambda: TODAY)
    return c


@pytest.fixture
def world(db, factory, clock):
    """One organisation, two units, known documents of the first quarter of 2026 (and two just
    outside it)."""
    org = factory.organisation(name="Sở Văn hóa Báo cáo", short_name="SVHBC")
    a = factory.unit(org, name=UNIT_A)
    b = factory.unit(org, name=UNIT_B)
    p = {
        "clerk": act(factory.person(Role.CLERK, organisation=org, title="Văn thư")),
        "leader": act(factory.person(Role.AGENCY_LEADER, organisation=org, title="Giám đốc")),
        "head_a": act(factory.person(Role.UNIT_HEAD, organisation=org, unit=a, title="Trưởng phòng")),
        "head_b": act(factory.person(Role.UNIT_HEAD, organisation=org, unit=b, title="Trưởng phòng")),
        "a1": act(factory.person(Role.OFFICER, organisation=org, unit=a, full_name="Trần Thị Ánh")),
        "a2": act(factory.person(Role.OFFICER, organisation=org, unit=a, full_name="Lê Văn Đức")),
        "b1": act(factory.person(Role.OFFICER, organisation=org, unit=b, full_name="Phạm Thị Huệ")),
    }
    seq = iter(range(1, 100))

    def meta():
        return metadata(code_number=str(next(seq)), issued_date=date(2025, 12, 30))

    def paper(at):
        clock.set(at)
        return incoming.digitise(p["clerk"], meta(), incoming.Upload("scan.pdf", PDF))

    def electronic(at, verdict=None):
        clock.set(at)
        doc = incoming.receive(org, meta(), [incoming.Upload("vb.pdf", PDF, incoming.FileRole.MAIN)])
        incoming.register(p["clerk"], doc, meta())
        doc.signature_verdict = verdict
        return doc

    def direct(doc, deadline, *, unit=None, user=None):
        incoming.present(p["clerk"], doc, p["leader"].id)
        incoming.direct(p["leader"], doc, "Giải quyết.", [incoming.AssigneeSpec(
            AssignmentRole.LEAD, unit_id=unit.id if unit else None, user_id=user.id if user else None,
            deadline=deadline)])

    def within(doc, head, person, deadline):
        incoming.direct_within_unit(head, doc, "", [incoming.AssigneeSpec(AssignmentRole.LEAD, user_id=person.id,
                                                                          deadline=deadline)])

    def finish(doc, person, at):
        clock.set(at)
        incoming.finish(person, doc, "Đã xong.")

    t = SimpleNamespace()
    # D1 paper, unit A (hạn 15/01), person a1 (hạn 09/01), done 10/01: on time for the unit, late for a1
    d1 = paper(vn(2026, 1, 5, 9))
    direct(d1, date(2026, 1, 15), unit=a)
    within(d1, p["head_a"], p["a1"], date(2026, 1, 9))
    finish(d1, p["a1"], vn(2026, 1, 10, 9))
    t.d1 = days(vn(2026, 1, 10, 9), vn(2026, 1, 5, 9))
    # D2 electronic, validly signed, unit A then a2, hạn 10/02, done 23:30 on 10/02 Vietnam time (16:30 UTC)
    d2 = electronic(vn(2026, 2, 2, 8), "Hợp lệ")
    direct(d2, date(2026, 2, 10), unit=a)
    within(d2, p["head_a"], p["a2"], date(2026, 2, 10))
    finish(d2, p["a2"], vn(2026, 2, 10, 23, 30))
    t.d2 = days(vn(2026, 2, 10, 23, 30), vn(2026, 2, 2, 8))
    # D3 electronic, lead person b1 directly (unit B through the position), hạn 20/02, done 00:30 on 21/02
    # Vietnam time (still 20/02 in UTC). 20/02/2026 is mùng bốn Tết, a day off: in working days the deadline
    # runs to Monday 23/02, so this is on time (issue 18; before, counting calendar days, it was late)
    d3 = electronic(vn(2026, 2, 15, 10))
    direct(d3, date(2026, 2, 20), user=p["b1"])
    finish(d3, p["b1"], vn(2026, 2, 21, 0, 30))
    t.d3 = days(vn(2026, 2, 21, 0, 30), vn(2026, 2, 15, 10))
    # D4 paper, unit B, hạn 10/03, nobody in the unit assigned: open and overdue on 15/04
    d4 = paper(vn(2026, 3, 1, 9))
    direct(d4, date(2026, 3, 10), unit=b)
    # D5 electronic arriving 23:30 on 31/03 Vietnam time (16:30 UTC): in the first quarter; open in time
    d5 = electronic(vn(2026, 3, 31, 23, 30))
    direct(d5, date(2026, 4, 30), unit=a)
    within(d5, p["head_a"], p["a1"], date(2026, 4, 20))
    # D6 electronic arriving 00:30 on 01/04 Vietnam time (17:30 UTC on 31/03): second quarter
    d6 = electronic(vn(2026, 4, 1, 0, 30))
    direct(d6, date(2026, 4, 10), unit=a)
    # D7 paper, registered, not yet presented: nobody leads it
    paper(vn(2026, 1, 20, 14))
    # a recalled outgoing document, a reply, a record without a draft, one just after the quarter
    book = RegisterBook(organisation_id=org.id, direction=Direction.OUTGOING, name="Sổ văn bản đi")
    db.add(book)
    db.flush()
    signed_pdf = storage.save(PDF, "vb-di.pdf").sha256

    def outgoing(n, at, *, file=True, unit=None, drafter=None, signed=False, reply_to=None, recalled=False):
        out = OutgoingDocument(organisation_id=org.id, unit_id=unit.id if unit else None, book_id=book.id,
                               year=2026, number=n, type_name="Công văn", organ_name=org.name,
                               subject=f"Công văn số {n}", issued_at=at, file_sha256=signed_pdf if file else None,
                               status=OutgoingStatus.RECALLED if recalled else OutgoingStatus.ISSUED,
                               recalled_at=at + timedelta(days=1) if recalled else None)
        db.add(out)
        db.flush()
        if drafter is not None:
            db.add(Draft(organisation_id=org.id, unit_id=unit.id, drafter_id=drafter.id, status=DraftStatus.ISSUED,
                         type_name="Công văn", subject=out.subject, outgoing_id=out.id,
                         signed_at=at - timedelta(hours=2) if signed else None,
                         reply_to_id=reply_to.id if reply_to else None))
        return out

    outgoing(1, vn(2026, 2, 1, 10), unit=a, drafter=p["a1"], signed=True, reply_to=d3)  # reply before 20/02
    outgoing(2, vn(2026, 3, 31, 23, 30), file=False, unit=b, drafter=p["b1"], reply_to=d4, recalled=True)
    outgoing(3, vn(2026, 1, 10, 8))  # entered directly: no draft, no unit
    outgoing(4, vn(2026, 4, 1, 0, 30), unit=a, drafter=p["a1"], signed=True)
    db.flush()
    return SimpleNamespace(org=org, a=a, b=b, p=p, t=t)


def avg(*values: float) -> float:
    return round(sum(values) / len(values), 1)


def figures(report):
    return {row.label: row.values for row in report.rows}, report.totals.values


def build(user, kind, grouping, **kw):
    period = services.Period(services.PeriodKind.QUARTER, 2026, 1)
    return services.build(user, kind, period, grouping, **kw)[0]


IN_KEYS = ("received", "electronic", "paper", "signed", "on_time", "late", "open_overdue", "open_in_time")


def counts(values, *numbers):
    return {k: values[k] for k in IN_KEYS} == dict(zip(IN_KEYS, numbers, strict=True))


def test_incoming_by_unit_exact(world):
    rows, total = figures(build(world.p["leader"], services.Kind.INCOMING, services.Grouping.UNIT))
    t = world.t
    assert list(rows) == [UNIT_B, UNIT_A, "Chưa giao xử lý hoặc không thuộc phòng, ban"]  # by name, nobody's last
    #                             recv el paper signed on_time late overdue in_time
    assert counts(rows[UNIT_A], 3, 2, 1, 1, 2, 0, 0, 1)
    assert counts(rows[UNIT_B], 2, 1, 1, 0, 1, 0, 1, 0)  # D3 on time: its deadline was a Tết day (working days)
    assert counts(rows["Chưa giao xử lý hoặc không thuộc phòng, ban"], 1, 0, 1, 0, 0, 0, 0, 1)
    assert counts(total, 6, 3, 3, 1, 3, 0, 1, 2)
    assert rows[UNIT_A]["avg_days"] == avg(t.d1, t.d2)
    assert rows[UNIT_B]["avg_days"] == avg(t.d3)
    assert rows["Chưa giao xử lý hoặc không thuộc phòng, ban"]["avg_days"] is None
    assert total["avg_days"] == avg(t.d1, t.d2, t.d3) == 6.4


def test_incoming_by_person_uses_the_persons_deadline(world):
    rows, total = figures(build(world.p["clerk"], services.Kind.INCOMING, services.Grouping.PERSON))
    t = world.t
    assert counts(rows["Trần Thị Ánh"], 2, 1, 1, 0, 0, 1, 0, 1)  # D1 late against a1's own 09/01
    assert counts(rows["Lê Văn Đức"], 1, 1, 0, 1, 1, 0, 0, 0)  # done 23:30 local on the deadline day
    assert counts(rows["Phạm Thị Huệ"], 1, 1, 0, 0, 1, 0, 0, 0)  # the deadline (Tết) ran to Monday 23/02
    assert counts(rows["Chưa giao cá nhân chủ trì"], 2, 0, 2, 0, 0, 0, 1, 1)
    assert counts(total, 6, 3, 3, 1, 2, 1, 1, 2)
    assert rows["Trần Thị Ánh"]["avg_days"] == avg(t.d1) == 5.0
    assert rows["Lê Văn Đức"]["avg_days"] == avg(t.d2) == 8.6
    assert rows["Phạm Thị Huệ"]["avg_days"] == avg(t.d3) == 5.6


def test_quarter_boundaries_in_vietnam_time(world):
    period = services.Period(services.PeriodKind.QUARTER, 2026, 1)
    start, end = period.bounds()
    assert start == datetime(2025, 12, 31, 17, tzinfo=UTC)
    assert end == datetime(2026, 3, 31, 17, tzinfo=UTC)
    q2 = services.build(world.p["leader"], services.Kind.INCOMING, services.Period(services.PeriodKind.QUARTER,
                                                                                    2026, 2),
                        services.Grouping.UNIT)[0]
    assert q2.totals.values["received"] == 1  # D6, 00:30 on 01/04 local
    march = services.build(world.p["leader"], services.Kind.INCOMING,
                           services.Period(services.PeriodKind.MONTH, 2026, 3), services.Grouping.UNIT)[0]
    assert march.totals.values["received"] == 2  # D4 and D5 (23:30 on 31/03 local)
    half = services.build(world.p["leader"], services.Kind.INCOMING,
                          services.Period(services.PeriodKind.HALF, 2026, 1), services.Grouping.UNIT)[0]
    year = services.build(world.p["leader"], services.Kind.INCOMING,
                          services.Period(services.PeriodKind.YEAR, 2026), services.Grouping.UNIT)[0]
    assert half.totals.values["received"] == year.totals.values["received"] == 7
    outgoing_q2 = services.build(world.p["leader"], services.Kind.OUTGOING,
                                 services.Period(services.PeriodKind.QUARTER, 2026, 2), services.Grouping.UNIT)[0]
    assert outgoing_q2.totals.values["issued"] == 1


@pytest.mark.parametrize(("text", "expected"), [
    (("thang", "2026", "12"), (date(2026, 12, 1), date(2027, 1, 1), "Tháng 12 năm 2026")),
    (("quy", "2026", "3"), (date(2026, 7, 1), date(2026, 10, 1), "Quý III năm 2026")),
    (("6-thang", "2026", "2"), (date(2026, 7, 1), date(2027, 1, 1), "6 tháng cuối năm 2026")),
    (("nam", "2026", None), (date(2026, 1, 1), date(2027, 1, 1), "Năm 2026")),
])
def test_periods(text, expected):
    period = services.Period.parse(*text)
    assert (period.start, period.end, period.label) == expected


@pytest.mark.parametrize("text", [("quy", "2026", "5"), ("tuan", "2026", "1"), ("thang", "x", "1"),
                                  ("thang", "2026", "13")])
def test_bad_periods_are_refused(text):
    with pytest.raises(services.BadPeriod, match="Kỳ báo cáo không hợp lệ"):
        services.Period.parse(*text)


O_KEYS = ("issued", "electronic", "paper", "signed", "recalled", "replies", "replies_on_time")


def ocounts(values, *numbers):
    return {k: values[k] for k in O_KEYS} == dict(zip(O_KEYS, numbers, strict=True))


def test_outgoing_by_unit_and_person_exact(world):
    rows, total = figures(build(world.p["leader"], services.Kind.OUTGOING, services.Grouping.UNIT))
    #                            issued el paper signed recalled replies on_time
    assert ocounts(rows[UNIT_A], 1, 1, 0, 1, 0, 1, 1)
    assert ocounts(rows[UNIT_B], 1, 0, 1, 0, 1, 1, 0)  # 31/03 reply to D4 due 10/03: late
    assert ocounts(rows["Không thuộc phòng, ban"], 1, 1, 0, 0, 0, 0, 0)
    assert ocounts(total, 3, 2, 1, 1, 1, 2, 1)
    rows, total = figures(build(world.p["leader"], services.Kind.OUTGOING, services.Grouping.PERSON))
    assert ocounts(rows["Trần Thị Ánh"], 1, 1, 0, 1, 0, 1, 1)
    assert ocounts(rows["Phạm Thị Huệ"], 1, 0, 1, 0, 1, 1, 0)
    assert ocounts(rows["Không qua dự thảo trên hệ thống"], 1, 1, 0, 0, 0, 0, 0)
    assert ocounts(total, 3, 2, 1, 1, 1, 2, 1)


def test_unit_head_sees_only_their_unit(world):
    rows, total = figures(build(world.p["head_a"], services.Kind.INCOMING, services.Grouping.UNIT))
    assert list(rows) == [UNIT_A]
    assert counts(total, 3, 2, 1, 1, 2, 0, 0, 1)
    rows, _ = figures(build(world.p["head_a"], services.Kind.INCOMING, services.Grouping.PERSON))
    assert sorted(rows) == ["Lê Văn Đức", "Trần Thị Ánh"]
    rows, total = figures(build(world.p["head_b"], services.Kind.OUTGOING, services.Grouping.PERSON))
    assert list(rows) == ["Phạm Thị Huệ"]
    assert total["issued"] == 1


# --- over HTTP ---------------------------------------------------------------------------------------

def page(client, loai="den", theo="don-vi", extra=""):
    return client.get(Q1.format(loai=loai, theo=theo) + extra)


def test_page_with_totals_table_and_chart(world, login):
    resp = page(login(world.p["leader"]))
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "<html" in html
    assert "Báo cáo tình hình giải quyết văn bản đến" in html
    assert "Quý I năm 2026" in html
    body = html.split("report-table\"")[1]
    assert body.index("Tổng cộng") < body.index(UNIT_A)
    chart = html[html.index('<figure class="report-figure">'):]  # the page's icons are SVGs too
    svg = chart[chart.index("<svg"):chart.index("</svg>")]
    assert "<title" in svg
    assert "<desc" in svg
    assert 'role="img"' in svg
    assert svg.count('class="bar-value"') == 3  # one bar per row of the table
    assert "style=" not in svg
    # the unit named with markup is text everywhere: table, chart labels and titles
    assert "<b>Kế hoạch</b>" not in html
    assert "&lt;b&gt;Kế hoạch&lt;/b&gt; &amp; Tài chính" in html
    assert "&lt;b&gt;Kế hoạch" in svg


def test_fragment_for_htmx(world, login):
    resp = login(world.p["clerk"]).get(Q1.format(loai="di", theo="ca-nhan"), headers={"HX-Request": "true"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "<html" not in html
    assert "văn bản đi" in html
    assert "Trần Thị Ánh" in html
    assert "HX-Request" in resp.headers["Vary"]


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(BytesIO(data)).pages).split())


def test_pdf(world, login):
    resp = page(login(world.p["leader"]), extra="&dinh_dang=pdf")
    assert resp.status_code == 200
    assert resp.mimetype == "application/pdf"
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "filename*=UTF-8''" in disposition
    reader = PdfReader(BytesIO(resp.data))
    box = reader.pages[0].mediabox
    assert float(box.width) > float(box.height)  # landscape
    text = pdf_text(resp.data)
    assert "BÁO CÁO TÌNH HÌNH GIẢI QUYẾT VĂN BẢN ĐẾN" in text
    assert "Quý I năm 2026" in text
    assert "Tổng cộng" in text
    assert "Tiếp nhận" in text
    assert "Trang 1/1" in text
    assert UNIT_A in text
    assert "<b>Kế hoạch</b> & Tài chính" in text  # printed literally, not made bold
    fonts = [f.get_object()["/BaseFont"] for f in reader.pages[0]["/Resources"]["/Font"].values()]
    assert fonts
    assert all("DejaVuSerif" in name for name in fonts)


def test_pdf_outgoing_by_person(world, login):
    resp = page(login(world.p["clerk"]), loai="di", theo="ca-nhan", extra="&dinh_dang=pdf")
    text = pdf_text(resp.data)
    assert "BÁO CÁO TÌNH HÌNH GIẢI QUYẾT VĂN BẢN ĐI" in text
    assert "Phạm Thị Huệ" in text
    assert "Phát hành" in text


@pytest.mark.parametrize(("who", "status"), [("leader", 200), ("clerk", 200), ("head_a", 200), ("a1", 403)])
def test_who_may_open_reports(world, login, who, status):
    assert page(login(world.p[who])).status_code == status


def test_unit_head_page_shows_only_their_unit(world, login):
    html = page(login(world.p["head_b"])).get_data(as_text=True)
    assert "Tài chính" in html
    assert UNIT_A not in html


def test_leader_may_not_pick_another_organisation(world, factory, login):
    other = factory.organisation(name="Sở Khác")
    assert page(login(world.p["leader"]), extra=f"&co_quan={other.id}").status_code == 403


def test_overview_sees_another_organisation_at_organisation_level(world, factory, login):
    observer = factory.person(Role.OVERVIEW, organisation=factory.province(), title="Chuyên viên VP UBND tỉnh")
    client = login(observer)
    resp = page(client, extra=f"&co_quan={world.org.id}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert world.org.name in html
    assert "số liệu cấp cơ quan" in html
    assert UNIT_A not in html
    assert "Trần Thị Ánh" not in html
    cells = re.findall(r'<td class="num"[^>]*>(\d+)</td>', html.split("Tổng cộng")[1])
    assert cells[:4] == ["6", "3", "3", "1"]
    assert page(client, extra="&co_quan=999999").status_code == 404


def test_malformed_query_is_422(world, login):
    resp = login(world.p["leader"]).get("/bao-cao/?ky=quy&so=9")
    assert resp.status_code == 422
    assert "Kỳ báo cáo không hợp lệ" in resp.get_data(as_text=True)


def test_menu_item(world, login):
    assert "Báo cáo" in login(world.p["leader"]).get("/").get_data(as_text=True)
