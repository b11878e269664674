"""A replaced document's open work closes (SPEC §5.8; incoming/replacement.py): when the sender replaces a document,
inside the portal or through the axis, the earlier record's open assignments close in the transaction that receives
the new one, with the outcome "văn bản bị thay thế" (never "Hoàn thành" for work not done), a waiting gia hạn
request closes undecided, the history names the new document and the rows closed, the audit the new document's id,
and the inbox items leave. A correction (cập nhật) closes nothing. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import select

from portal.audit import AuditEntry
from portal.auth.models import Role
from portal.documents.models import IncomingDocument
from portal.drafts import services as drafts
from portal.exchange import edxml, outbound, receiving
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
    assert doc.status == services.S.IN_PROGRESS  # the document's own step stays the clerk's and the leader's

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
