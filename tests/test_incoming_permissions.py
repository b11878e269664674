"""Issue 4 §10: only the receiving organisation's clerks and leaders and the people and units
assigned can reach a document; everyone else gets 404 on every URL, fragment and file of it.

The walk is generic: every rule of the ``incoming`` blueprint that names a document is tried with
every method it accepts (as a page and as an htmx fragment), so a route added later is covered
without editing this file."""

from __future__ import annotations

import pytest
from flask import Flask

from portal.audit import AuditEntry
from portal.auth.models import Role
from portal.incoming import services
from portal.incoming.models import AssignmentRole
from tests.incoming_fixtures import PDF, metadata

Spec = services.AssigneeSpec


def document_rules(app: Flask):
    rules = [r for r in app.url_map.iter_rules()
             if r.endpoint.startswith("incoming.") and "document_id" in r.arguments]
    assert len(rules) >= 10, "the incoming blueprint should expose the document page, its steps and files"
    return rules


def _url(rule, doc, file_id, assignment_id):
    values = {}
    for name in rule.arguments:
        if name == "document_id":
            values[name] = doc.id
        elif name == "file_id":
            values[name] = file_id
        elif name == "assignment_id":
            values[name] = assignment_id
        else:
            values[name] = 1
    return rule.build(values, append_unknown=False)[1]


@pytest.fixture
def assigned_doc(db, office):
    org, _unit, p = office
    doc = services.receive(org, metadata(subject="Báo cáo mật về nhân sự"),
                           [services.Upload("vb.pdf", PDF, services.FileRole.MAIN)])
    services.register(p["clerk"], doc, metadata(subject="Báo cáo mật về nhân sự"))
    services.present(p["clerk"], doc, p["leader"].id)
    rows = services.direct(p["leader"], doc, "Giao Phòng chủ trì.",
                           [Spec(AssignmentRole.LEAD, user_id=p["officer"].id)])
    file_id = services.files_of(doc)[0].id
    db.flush()
    return doc, file_id, rows[0].id


@pytest.mark.parametrize("who", ["outsider", "other"])
def test_every_document_url_is_404_for_people_without_access(db, app, client, login, office, assigned_doc, who):
    """``outsider``: the clerk of another organisation; ``other``: an officer of the same
    organisation and unit who was not assigned."""
    _org, _unit, p = office
    doc, file_id, assignment_id = assigned_doc
    login(p[who])
    before = db.query(AuditEntry).filter(AuditEntry.action.like("incoming.%")).count()
    tried = 0
    for rule in document_rules(app):
        url = _url(rule, doc, file_id, assignment_id)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for headers in ({}, {"HX-Request": "true"}):
                resp = client.open(url, method=method, headers=headers,
                                   data={"reason": "x", "text": "x", "result": "x", "leader_id": p["leader"].id})
                assert resp.status_code == 404, f"{method} {url} {headers} → {resp.status_code}"
                body = resp.get_data(as_text=True)
                assert "Báo cáo mật về nhân sự" not in body
                tried += 1
    assert tried >= 20
    # nothing was done, viewed or counted on their behalf
    after = db.query(AuditEntry).filter(AuditEntry.action.like("incoming.%")).count()
    assert after == before
    assert all(f.view_count == 0 and f.download_count == 0 for f in services.files_of(doc))


@pytest.mark.parametrize("who", ["outsider", "other"])
def test_lists_and_search_never_show_it(db, client, login, office, assigned_doc, who):
    _org, _unit, p = office
    login(p[who])
    for url in ("/van-ban-den/?ds=tat-ca", "/van-ban-den/?ds=tat-ca&q=bao+cao+mat",
                "/van-ban-den/?ds=cho-xu-ly", "/van-ban-den/?ds=da-hoan-thanh"):
        resp = client.get(url)
        assert resp.status_code in (200, 404)
        assert "Báo cáo mật về nhân sự" not in resp.get_data(as_text=True)


def test_people_with_access_reach_the_page(db, app, client, login, office, assigned_doc):
    _org, _unit, p = office
    doc, file_id, _ = assigned_doc
    for who in ("clerk", "leader", "officer"):
        resp = login(p[who], c=app.test_client()).get(f"/van-ban-den/{doc.id}")
        assert resp.status_code == 200, who
        assert "Báo cáo mật về nhân sự" in resp.get_data(as_text=True)
    # a file id of another document, through this document's URL, is not found either
    other = services.digitise(p["clerk"], metadata(code_number="99"), services.Upload("khac.pdf", PDF))
    other_file = services.files_of(other)[0].id
    login(p["officer"])
    assert client.get(f"/van-ban-den/{doc.id}/tep/{other_file}").status_code == 404
    assert client.get(f"/van-ban-den/{doc.id}/tep/{file_id}").status_code == 200


def test_recalled_document_is_gone_for_the_receiver(db, client, login, office, assigned_doc, app):
    _org, _unit, p = office
    doc, file_id, assignment_id = assigned_doc
    services.request_recall(doc, "Ban hành nhầm, đề nghị thu hồi.", "Sở Gửi Thử")
    services.confirm_recall(p["clerk"], doc)
    db.flush()
    for who in ("clerk", "leader", "officer"):
        person = login(p[who], c=app.test_client())
        for rule in document_rules(app):
            if "GET" in rule.methods:
                assert person.get(_url(rule, doc, file_id, assignment_id)).status_code == 404
        listed = person.get("/van-ban-den/?ds=tat-ca&q=bao+cao+mat").get_data(as_text=True)
        assert "Báo cáo mật về nhân sự" not in listed
    # metadata kept for the record
    assert doc.subject == "Báo cáo mật về nhân sự"
    assert doc.recalled_at is not None
    assert services.files_of(doc) == []


def test_returned_document_stays_with_the_front_desk(db, app, client, login, office, factory):
    org, _unit, p = office
    doc = services.receive(org, metadata(), [])
    services.return_to_sender(p["clerk"], doc, "sai_noi_nhan", "Không đúng thẩm quyền.")
    db.flush()
    login(p["clerk"])
    assert client.get(f"/van-ban-den/{doc.id}").status_code == 200
    head = factory.person(Role.UNIT_HEAD, organisation=org, unit=_unit)
    other = login(head, c=app.test_client())
    assert other.get(f"/van-ban-den/{doc.id}").status_code == 404
