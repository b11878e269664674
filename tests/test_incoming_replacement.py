"""A replaced document's open work closes (SPEC §5.8; incoming/replacement.py): when the sender replaces a document,
inside the portal or through the axis, the earlier record's open assignments close in the transaction that receives
the new one, with the outcome "văn bản bị thay thế" (never "Hoàn thành" for work not done), a waiting gia hạn
request closes undecided, the history names the new document and the rows closed, the audit the new document's id,
and the inbox items leave. The earlier record becomes "Đã bị thay thế" (final, no status package goes to the sender),
leaves the open lists and the Quá hạn / Sắp đến hạn counts, names the new one (and the new one it), its register
row says what replaced it, the people whose parts closed are told, and the leader directing the new one may give it
to the same assignees in one step. A correction (cập nhật) closes nothing. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.audit import AuditEntry
from portal.auth.models import Role
from portal.documents.models import IncomingDocument
from portal.drafts import services as drafts
from portal.exchange import edxml, outbound, receiving
from portal.exchange.models import ExchangePackage
from portal.inbox import queries as inbox
from portal.incoming import services
from portal.incoming.models import Assignment, AssignmentOutcome, AssignmentRole, AssignmentState, ExtensionState
from portal.workdays.calendar import add_working_days
from tests import inbox_check
from tests.incoming_fixtures import PDF, act
from tests.test_drafts_workflow import cheap_seal, metadata_of, signed_draft, system, to_signing
from tests.test_drafts_workflow import world as drafts_world  # noqa: F401  (fixture: two organisations)

Spec = services.AssigneeSpec
VPCP = "000.00.00.G22"
VIETNAM = dt.timezone(dt.timedelta(hours=7))
DAY = dt.datetime.now(VIETNAM).date() - dt.timedelta(days=1)
FIRST_ID = edxml.make_document_id(VPCP, DAY, "30", "VPCP-TH")


def package(kind: edxml.BusinessType, number: str, to) -> bytes:  # type: ignore[no-untyped-def]
    """A document of the Văn phòng Chính phủ for ``to``; an update or replacement names the first one (30)."""
    ref = [edxml.ResponseFor(VPCP, "30/VPCP-TH", DAY, FIRST_ID)] if kind != edxml.BusinessType.NEW else []
    replacements = [edxml.ReplacementInfo(FIRST_ID, (to.organ_id,))] if kind == edxml.BusinessType.REPLACE else []
    return edxml.build_document(edxml.DocumentPackage(
        header=edxml.MessageHeader(
            from_=edxml.Organization(organ_id=VPCP, organ_name="Văn phòng Chính phủ"),
            to=[edxml.Organization(organ_id=to.organ_id, organ_name=to.name)],
            code=edxml.Code(number, "VPCP-TH"), promulgation_info=edxml.PromulgationInfo("Hà Nội", DAY),
            document_type=edxml.DocumentType("1", "0", "Công văn"), subject="V/v tổng hợp số liệu",
            response_for=ref, document_id=edxml.make_document_id(VPCP, DAY, number, "VPCP-TH")),
        business=edxml.Business(kind, kind.label, replacements=replacements),
        attachments=[edxml.Attachment("cid:1", f"{number}.pdf", "application/pdf", "Công văn", PDF)]))


def receive(to, kind: edxml.BusinessType, number: str) -> receiving.Received:  # type: ignore[no-untyped-def]
    return receiving.receive(package(kind, number, to), transport="axis", transport_id=f"t-{number}-{kind}")


def work_on(db, users, doc: IncomingDocument) -> set[tuple[str, str]]:
    """The inbox items these people have on this document: (username, queue)."""
    return {(u.username, r.queue) for u in users for r in inbox.page(db, u, limit=1000) if r.subject_id == doc.id}


def checked(db, users) -> None:
    db.commit()
    inbox_check.agrees_with_a_recount()
    inbox_check.owners_may_act(users)


@pytest.fixture
def handled(db, factory, office):
    """The first document from the axis, directed: the unit leads (its head gave the officer the lead inside
    the unit), another officer co-operates, the clerk is told for information; the officer asks for gia hạn."""
    org, unit, p = office
    org.organ_id = "000.00.17.H41"
    p["deputy"] = act(factory.person(Role.AGENCY_LEADER, organisation=org, title="Phó Giám đốc"))
    db.flush()
    [doc] = receive(org, edxml.BusinessType.NEW, "30").documents
    services.register(p["clerk"], doc, services.Metadata(
        type_name="Công văn", code_number="30", code_notation="VPCP-TH", issued_date=DAY,
        organ_name="Văn phòng Chính phủ", subject="V/v tổng hợp số liệu", document_id=FIRST_ID))
    services.present(p["clerk"], doc, p["leader"].id)
    services.direct(p["leader"], doc, "Phòng chủ trì, đồng chí phối hợp.", [
        Spec(AssignmentRole.LEAD, unit_id=unit.id, days=10), Spec(AssignmentRole.COOPERATE, user_id=p["other"].id,
                                                                  days=5),
        Spec(AssignmentRole.INFORM, user_id=p["clerk"].id)])
    [lead] = services.direct_within_unit(p["head"], doc, "Đồng chí chủ trì.",
                                         [Spec(AssignmentRole.LEAD, user_id=p["officer"].id, days=5)])
    services.record_progress(p["officer"], doc, "Đang tổng hợp.")
    services.request_extension(p["officer"], doc, lead.id, "Chờ số liệu các xã.", add_working_days(lead.deadline, 2))
    return org, unit, p, doc


def test_a_replacement_through_the_axis_closes_the_open_work(app: Flask, db, login, handled):
    org, unit, p, doc = handled
    everyone = [p[k] for k in ("clerk", "leader", "deputy", "head", "officer", "other")]
    before = work_on(db, everyone, doc)
    assert {q for _, q in before} >= {"incoming.cho-xu-ly", "incoming.dang-xu-ly", "incoming.gia-han"}
    checked(db, everyone)

    result = receive(org, edxml.BusinessType.REPLACE, "31")
    assert result.outcome == "replace"
    [new] = result.documents
    rows = services.assignments_of(doc)
    assert len(rows) == 4
    assert {(r.state, r.outcome) for r in rows} == {(AssignmentState.DONE, AssignmentOutcome.REPLACED)}
    assert all(r.finished_at is not None for r in rows)
    ext = next(r for r in rows if r.extensions).extensions[-1]
    assert (ext.state, ext.decided_by_id) == (ExtensionState.CLOSED, None)
    assert doc.status == services.S.REPLACED
    assert doc.replaced_by_id == new.id
    assert (doc.status_label, new.status) == ("Đã bị thay thế", services.S.ARRIVED)

    last = services.history(doc)[-1]
    assert (last.action, last.actor_name) == ("replaced", "Văn phòng Chính phủ")
    assert last.text == (f"Văn bản mới: 31/VPCP-TH ({new.document_id}).\nĐóng phần việc đang mở: "
                         f"Chủ trì: {unit.name}; Phối hợp: {p['other'].full_name}; Để biết: {p['clerk'].full_name}; "
                         f"Chủ trì: {p['officer'].full_name}.")
    audit = db.execute(select(AuditEntry).where(AuditEntry.action == "incoming.assignments_closed")).scalar_one()
    assert audit.object_id == str(doc.id)
    assert audit.details_dict == {"replaced_by": new.id, "assignments": [r.id for r in rows],
                                    "extensions_closed": [ext.id], "outcome": "thay_the"}

    # nobody's inbox holds the old version's work any more; the new one waits at the front desk
    assert work_on(db, everyone, doc) == set()
    assert ("incoming.cho-tiep-nhan" in {r.queue for r in inbox.page(db, p["clerk"]) if r.subject_id == new.id})
    services.accept(p["clerk"], new)  # (at 01 the agency leaders see it too, but only a clerk may accept it)
    for who in ("officer", "other", "head", "clerk"):
        assert not services.offered(p[who], doc) & {"progress", "finish_part", "seen", "unit_direct"}, who
    with pytest.raises(services.NotAllowed):
        services.record_progress(p["officer"], doc, "Vẫn làm tiếp?")
    # a step on a closed row is refused naming how it closed, never "Hoàn thành" (the table's label)
    lead = next(r for r in rows if r.extensions)
    for step in (lambda: services.approve_extension(p["head"], doc, lead.id),
                 lambda: services.request_extension(p["officer"], doc, lead.id, "Xin thêm.", days=2)):
        with pytest.raises(services.NotAllowed, match=r"“Đã đóng \(văn bản bị thay thế\)”") as refused:
            step()
        assert "Hoàn thành" not in str(refused.value)
    checked(db, everyone)
    inbox_check.lists_agree(everyone)

    page = login(p["leader"], c=app.test_client()).get(f"/van-ban-den/{doc.id}").get_data(as_text=True)
    assert page.count("Đã đóng (văn bản bị thay thế)") == 4
    assert "Hoàn thành</td>" not in page


def test_the_closing_rolls_back_with_the_replacement(db, handled, monkeypatch):
    """One transaction: a failure after the new document arrived undoes the closing too."""
    org, _unit, p, doc = handled
    db.commit()

    def fails(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("mất kết nối giữa chừng")

    monkeypatch.setattr(outbound, "queue_status", fails)  # after the new document and the closing
    with pytest.raises(RuntimeError):
        receive(org, edxml.BusinessType.REPLACE, "31")
    db.rollback()
    db.expire_all()
    rows = db.execute(select(Assignment).where(Assignment.document_id == doc.id)).scalars().all()
    assert {r.outcome for r in rows} == {None}
    assert AssignmentState.DONE not in {r.state for r in rows}
    assert services.history(doc)[-1].action == "extension_requested"
    assert ("incoming.gia-han" in {r.queue for r in inbox.page(db, p["head"]) if r.subject_id == doc.id})


def test_a_correction_closes_nothing(db, handled):
    org, _unit, p, doc = handled
    assert receive(org, edxml.BusinessType.UPDATE, "31").outcome == "update"
    assert services.history(doc)[-1].action == "updated"
    assert {r.outcome for r in services.assignments_of(doc)} == {None}
    assert ("incoming.gia-han" in {r.queue for r in inbox.page(db, p["head"]) if r.subject_id == doc.id})


def test_a_replacement_inside_the_portal_closes_the_recipients_open_work(db, drafts_world):  # noqa: F811
    w, p = drafts_world, drafts_world.p
    first = drafts.issue(p["clerk"], signed_draft(w), None, seal=cheap_seal)
    [earlier] = first.delivered
    services.register(p["r_clerk"], earlier, metadata_of(earlier))
    services.present(p["r_clerk"], earlier, p["r_leader"].id)
    [row] = services.direct(p["r_leader"], earlier, "Đồng chí chủ trì.",
                            [Spec(AssignmentRole.LEAD, user_id=p["r_officer"].id, days=5)])
    receivers = [p["r_clerk"], p["r_leader"], p["r_officer"]]
    assert work_on(db, receivers, earlier) == {(p["r_officer"].username, "incoming.cho-xu-ly")}

    prefill = drafts.start_follow_up(p["officer"], first.outgoing, "thay_the")
    prefill.signer_id, prefill.signer_title = p["leader"].id, "Giám đốc"
    replacement = drafts.create(p["officer"], prefill, drafts.Upload("thay-the.pdf", PDF + b"% thay the\n"),
                                recipients=[system(w.receiver)])
    to_signing(w, replacement)
    drafts.sign(p["leader"], replacement, True, drafts.frozen_pdf(p["leader"], replacement))
    [new] = drafts.issue(p["clerk"], replacement, None, seal=cheap_seal).delivered

    assert (row.state, row.outcome) == (AssignmentState.DONE, AssignmentOutcome.REPLACED)
    last = services.history(earlier)[-1]
    assert last.action == "replaced"
    assert last.text.startswith(f"Văn bản mới: {new.code_number}/{new.code_notation} ngày ")
    assert f"Đóng phần việc đang mở: Chủ trì: {p['r_officer'].full_name}." in last.text
    audit = db.execute(select(AuditEntry).where(AuditEntry.action == "incoming.assignments_closed")).scalar_one()
    assert audit.details_dict["replaced_by"] == new.id
    assert work_on(db, receivers, earlier) == set()
    services.accept(p["r_clerk"], new)  # (at 01 the agency leaders see it too, but only a clerk may accept it)
    checked(db, receivers)


# --- "Đã bị thay thế": a final status, the links, the register, the counts, the notices, the carry-over ------------

def sent_statuses(db, doc: IncomingDocument) -> list[str]:
    return list(db.execute(select(ExchangePackage.status_code).where(
        ExchangePackage.kind == "status", ExchangePackage.incoming_document_id == doc.id)
        .order_by(ExchangePackage.id)).scalars())


def replaced(db, handled):  # type: ignore[no-untyped-def]
    """The first document replaced by "31", which the clerk registers and presents to the leader."""
    org, _unit, p, _doc = handled
    [new] = receive(org, edxml.BusinessType.REPLACE, "31").documents
    services.register(p["clerk"], new, services.Metadata(
        type_name="Công văn", code_number="31", code_notation="VPCP-TH", issued_date=DAY,
        organ_name="Văn phòng Chính phủ", subject="V/v tổng hợp số liệu (thay thế)", document_id=new.document_id))
    services.present(p["clerk"], new, p["leader"].id)
    db.commit()
    return new


def test_the_replaced_document_is_final_and_tells_the_sender_nothing(app: Flask, db, login, handled):
    _org, _unit, p, doc = handled
    before = sent_statuses(db, doc)
    assert before[-1] == "05"
    new = replaced(db, handled)
    assert sent_statuses(db, doc) == before  # "tt" has no edXML code: nothing goes to the sender for it
    assert doc.status == services.S.REPLACED
    assert services.history(doc)[-1].status_changed
    assert services.sender_events(doc)[-1].status != "tt"
    everyone = [p[k] for k in ("clerk", "leader", "deputy", "head", "officer", "other")]
    for who in everyone:  # only viewing is left
        assert services.offered(who, doc) == set(), who.username
    for who, url in (("officer", "hoan-thanh"), ("leader", "mo-lai"), ("clerk", "trinh"), ("leader", "phan-phoi"),
                     ("officer", "tien-do"), ("clerk", "xac-nhan-thu-hoi")):
        client = login(p[who], c=app.test_client())
        client.get(f"/van-ban-den/{doc.id}")
        resp = client.post(f"/van-ban-den/{doc.id}/{url}", data={}, headers={"HX-Request": "true"})
        assert resp.status_code == 403, (who, url, resp.status_code)
        said = "Bạn không có phần việc đang mở" if url == "tien-do" else "trạng thái “Đã bị thay thế”"
        assert said in resp.get_data(as_text=True), (who, url)
    # a recall asked of it later is no clerk's work: recalled at once, and the sender hears 15
    services.request_recall(doc, "Thu hồi bản cũ", "Văn phòng Chính phủ")
    assert doc.status == services.S.RECALLED
    db.commit()
    assert sent_statuses(db, doc)[-1] == "15"
    checked(db, everyone)
    assert all(item[1] == "incoming.cho-phan-phoi" for item in work_on(db, everyone, new))
    assert work_on(db, everyone, doc) == set()


def test_the_pages_name_each_other(app: Flask, db, login, handled):
    _org, _unit, p, doc = handled
    new = replaced(db, handled)
    old_page = login(p["officer"], c=app.test_client()).get(f"/van-ban-den/{doc.id}").get_data(as_text=True)
    assert "Bị thay thế bởi" in old_page
    assert "văn bản 31/VPCP-TH" in old_page
    assert f'href="/van-ban-den/{new.id}"' not in old_page  # the officer has no part in the new one yet: no link
    leader = login(p["leader"], c=app.test_client())
    old_page = leader.get(f"/van-ban-den/{doc.id}").get_data(as_text=True)
    assert f'<a href="/van-ban-den/{new.id}">văn bản 31/VPCP-TH' in old_page
    assert 'status-tt">Đã bị thay thế' in old_page
    new_page = leader.get(f"/van-ban-den/{new.id}").get_data(as_text=True)
    assert f'Thay thế <a href="/van-ban-den/{doc.id}">văn bản 30/VPCP-TH' in new_page
    assert "Giao như văn bản bị thay thế" in new_page
    # the lists: "Tất cả" shows it with its label, the open ones do not
    listing = leader.get("/van-ban-den/?ds=tat-ca").get_data(as_text=True)
    assert f"/van-ban-den/{doc.id}" in listing
    assert "Đã bị thay thế" in listing
    assert f"/van-ban-den/{doc.id}\"" not in leader.get("/van-ban-den/?ds=dang-xu-ly").get_data(as_text=True)


def test_the_counts_leave_with_it(db, handled):
    from portal.incoming import queries

    _org, _unit, p, doc = handled
    doc.due_date = DAY - dt.timedelta(days=10)  # late for the front desk
    for row in services.assignments_of(doc):
        if row.assignee_user_id == p["other"].id:
            row.deadline = dt.datetime.now(VIETNAM).date()  # due today for the co-operating officer
    db.commit()
    people = [p[k] for k in ("clerk", "leader", "deputy", "head", "officer", "other")]
    assert queries.overdue_count(p["clerk"]) == 1 == queries.overdue_count(p["leader"])
    assert queries.due_soon_count(p["other"]) == 1
    inbox_check.lists_agree(people)
    replaced(db, handled)
    for who in people:
        assert queries.overdue_count(who) == 0, who.username
        assert queries.due_soon_count(who) == 0, who.username
        for slug in ("dang-xu-ly", "cho-xu-ly", "qua-han", "sap-den-han"):
            if queries.QUEUES[slug].available(who):
                assert queries.count(who, queries.QUEUES[slug]) == 0, (who.username, slug)
    checked(db, people)
    inbox_check.lists_agree(people)


def test_the_register_says_what_replaced_it(db, handled):
    from portal.registers import services as registers
    from portal.timeutil import local_today

    org, _unit, _p, doc = handled
    new = replaced(db, handled)
    year = local_today().year
    for kind in ("den", "giai_quyet"):
        rows = {row.number: row for row in registers.source(org.id, registers.Params(kind, year=year))}
        note = f"Bị thay thế bởi văn bản số đến {new.arrival_number:02d}"
        assert any(note in cell for cell in rows[doc.arrival_number].cells), (kind, rows[doc.arrival_number].cells)
        assert not any("Bị thay thế" in cell for cell in rows[new.arrival_number].cells)


def test_the_people_whose_parts_closed_are_told(db, handled):
    from portal.notifications.models import Notification

    _org, _unit, p, doc = handled
    new = replaced(db, handled)
    told = {n.user_id: n for n in db.execute(select(Notification).where(Notification.kind == "replaced")).scalars()}
    assert set(told) == {p["head"].id, p["other"].id, p["clerk"].id, p["officer"].id}
    notice = told[p["officer"].id]
    assert notice.title.startswith("Văn bản đã bị thay thế bởi văn bản 31/VPCP-TH, phần việc của bạn đã đóng")
    assert notice.url == f"/van-ban-den/{doc.id}"
    assert notice.key == f"replaced.{doc.id}.{new.id}"


def test_the_leader_gives_the_new_one_to_the_same_people(app: Flask, db, login, handled):
    _org, _unit, p, doc = handled
    old_rows = {(r.role, r.assignee_user_id, r.assignee_unit_id, r.deadline)
                for r in services.assignments_of(doc) if r.level == 1}
    new = replaced(db, handled)
    assert services.may_carry_over(p["leader"], new)
    assert not services.may_carry_over(p["deputy"], new)
    assert not services.may_carry_over(p["leader"], doc)
    url = f"/van-ban-den/{new.id}/giao-nhu-van-ban-bi-thay-the"
    deputy = login(p["deputy"], c=app.test_client())
    refused = deputy.post(url, data={}, headers={"HX-Request": "true"})
    assert refused.status_code in (400, 403)
    on_old = login(p["leader"], c=app.test_client())
    on_old.get(f"/van-ban-den/{doc.id}")
    resp = on_old.post(f"/van-ban-den/{doc.id}/giao-nhu-van-ban-bi-thay-the", data={})
    assert resp.status_code in (400, 403)

    with app.test_request_context():
        services.carry_over(p["leader"], new)
    assert new.status == services.S.ASSIGNED
    rows = services.assignments_of(new)
    assert {(r.role, r.assignee_user_id, r.assignee_unit_id, r.deadline) for r in rows} == old_rows
    assert rows[0].directive.startswith("Giao như văn bản bị thay thế (số đến ")
    assert services.history(new)[-1].action == "direct"
    audit = db.execute(select(AuditEntry).where(AuditEntry.action == "incoming.carry_over")).scalar_one()
    assert audit.details_dict == {"replaced": [doc.id], "assignments": [r.id for r in rows]}
    assert sent_statuses(db, new)[-1] == "04"  # the sender hears the new one directed, as after "Phân phối"
    with pytest.raises(services.Repeated, match="đã được phân phối"):
        services.carry_over(p["leader"], new)
    db.commit()
    everyone = [p[k] for k in ("clerk", "leader", "deputy", "head", "officer", "other")]
    checked(db, everyone)
    assert (p["other"].username, "incoming.cho-xu-ly") in work_on(db, everyone, new)


def test_the_carry_over_through_the_page(app: Flask, db, login, handled):
    _org, _unit, p, _doc = handled
    new = replaced(db, handled)
    leader = login(p["leader"], c=app.test_client())
    page = leader.get(f"/van-ban-den/{new.id}").get_data(as_text=True)
    assert f'action="/van-ban-den/{new.id}/giao-nhu-van-ban-bi-thay-the"' in page
    url = f"/van-ban-den/{new.id}/giao-nhu-van-ban-bi-thay-the"
    assert leader.post(url, data={}).status_code == 303
    assert db.get(IncomingDocument, new.id, populate_existing=True).status == services.S.ASSIGNED
    again = leader.post(url, data={}, headers={"HX-Request": "true"})
    assert again.status_code == 409
    assert "đã được phân phối" in again.get_data(as_text=True)


def test_a_carry_over_to_someone_who_has_left_is_refused_and_changes_nothing(app: Flask, db, login, factory, handled):
    """The direct service checks the carried phiếu as any other: a co-operating officer who moved to another
    organisation since makes it a 422 that says why, and the new document stays presented, with no phiếu."""
    _org, _unit, p, _doc = handled
    new = replaced(db, handled)
    elsewhere = factory.organisation(name="Sở Khác")
    for position in p["other"].positions:
        position.organisation_id = elsewhere.id
    db.commit()
    leader = login(p["leader"], c=app.test_client())
    leader.get(f"/van-ban-den/{new.id}")
    before = db.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    resp = leader.post(f"/van-ban-den/{new.id}/giao-nhu-van-ban-bi-thay-the", data={})
    assert resp.status_code == 422
    assert "Người được giao phải thuộc cơ quan" in resp.get_data(as_text=True)
    db.expire_all()
    assert db.get(IncomingDocument, new.id).status == services.S.PRESENTED
    assert services.assignments_of(new) == []
    assert db.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == before
