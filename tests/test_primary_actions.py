"""One main step per page, the other steps in a menu, the history as a timeline (issue 18.3).

Each workflow declares an order of preference beside its transition table; the page's main button is
the first step of that order the person may take. Tested three ways: over the tables alone (every
set of steps a state can offer gets exactly one main step, one of them), over the real tables with
real people (state × person, the expected main step named), and over HTTP (the page marks one main
step, the others sit closed in "Thao tác khác", a refused form comes back open with what was typed
and the focus on its errors, and the history is a timeline in time order)."""

from __future__ import annotations

from datetime import datetime
from itertools import combinations

import lxml.html
import pytest

from portal import workflow
from portal.documents.models import IncomingStatus
from portal.drafts import services as drafts
from portal.drafts import workflow as draft_flow
from portal.drafts.models import DraftStatus
from portal.incoming import services as incoming
from portal.incoming import workflow as incoming_flow
from portal.incoming.models import AssignmentRole
from portal.incoming.visibility import WORK_STATUSES
from portal.timeutil import format_datetime
from tests.page_forms import PageForms
from tests.test_drafts_pages import (
    _matrix_draft,
    created,
    fake_signatures,  # noqa: F401  (fixture, autouse: signing without a key)
)
from tests.test_drafts_pages import office as drafts_office  # noqa: F401  (fixture)
from tests.test_incoming_pages import HX, PDF, arrived, metadata
from tests.test_incoming_pages import as_ as clients  # noqa: F401  (fixture)
from tests.test_incoming_pages import office as incoming_office  # noqa: F401  (fixture)

D = DraftStatus


@pytest.fixture
def inc(request):
    """The incoming page tests' office: (organisation, unit, people)."""
    return request.getfixturevalue("incoming_office")


@pytest.fixture
def drf(request):
    """The draft page tests' office: (organisation, receiver, document type, people)."""
    return request.getfixturevalue("drafts_office")


@pytest.fixture
def as_person(request):
    """A signed-in client per person."""
    return request.getfixturevalue("clients")


# --- the choice itself, over the tables ---------------------------------------------------------------

def _subsets(actions: list[str]):
    for size in range(1, len(actions) + 1):
        yield from combinations(actions, size)


def test_the_order_of_preference_names_every_step_of_its_table_once():
    incoming_steps = set(incoming_flow.DOCUMENT.transitions) | set(incoming_flow.MY_PART_STEPS)
    assert set(incoming_flow.PREFERENCE.order) == incoming_steps
    assert set(draft_flow.PREFERENCE.order) == set(draft_flow.FLOW.transitions)
    with pytest.raises(ValueError, match="missing \\['close'\\]"):
        workflow.preference(("accept", "note"), {"accept", "note", "close"})
    with pytest.raises(ValueError, match="unknown \\['sign'\\]"):
        workflow.preference(("accept", "sign"), {"accept"})
    with pytest.raises(ValueError, match="named twice"):
        workflow.preference(("accept", "accept"), {"accept"})
    with pytest.raises(ValueError, match="unknown \\['recall'\\]"):
        workflow.preference(("accept",), {"accept"}, ask_first={"recall"})
    assert workflow.preference(("b", "a"), {"a", "b"}, ask_first={"a"}).ranked({"a", "b", "c"}) == ["b", "a"]


def _incoming_open_from(state: IncomingStatus) -> list[str]:
    """The steps the tables can offer at a document state, whoever asks (the person's own part's
    steps wherever the document is being worked on)."""
    steps = [a for a, t in incoming_flow.DOCUMENT.transitions.items() if state in t.frm]
    return steps + (list(incoming_flow.MY_PART_STEPS) if state in WORK_STATUSES else [])


@pytest.mark.parametrize(("name", "states", "open_from", "flow"), [
    ("incoming", list(IncomingStatus), _incoming_open_from, incoming_flow),
    ("drafts", list(DraftStatus), lambda s: [a for a, t in draft_flow.FLOW.transitions.items() if s in t.frm],
     draft_flow),
])
def test_every_set_of_steps_a_state_offers_gets_exactly_one_main_step_among_them(name, states, open_from, flow):
    """Whoever the person is, what they may do at a state is a subset of the steps open from it: for
    every state and every such subset, the choice is one step, and one of those offered; the menu
    holds all the others, each once."""
    tried = 0
    for state in states:
        for offered in _subsets(open_from(state)):
            chosen = flow.primary_action(offered)
            assert isinstance(chosen, str), (name, state, offered)
            assert chosen in offered, (name, state, offered, chosen)
            order = flow.ranked_actions(offered)
            assert order[0] == chosen
            assert sorted(order) == sorted(offered), (name, state, offered, order)
            tried += 1
    assert flow.primary_action(()) is None
    assert tried > 100, name


# --- state × person, the real tables ----------------------------------------------------------------------

_numbers = iter(range(300, 10_000))


def _registered(db, p):
    doc = incoming.digitise(p["clerk"], metadata(code_number=str(next(_numbers))), incoming.Upload("scan.pdf", PDF))
    db.commit()
    return doc


def _incoming_stages(db, factory, office) -> dict[str, object]:
    """One document at each step of the incoming table (and one whose sender asks for it back)."""
    org, unit, p = office
    clerk, leader, head = p["clerk"], p["leader"], p["head"]
    stages = {"01": arrived(factory, db, org, code_number=str(next(_numbers)))}
    stages["03u"] = arrived(factory, db, org, code_number=str(next(_numbers)))
    incoming.accept(clerk, stages["03u"])
    stages["03n"] = _registered(db, p)
    for name in ("03p", "04", "05", "06"):
        stages[name] = doc = _registered(db, p)
        incoming.present(clerk, doc, leader.id)
        if name == "03p":
            continue
        incoming.direct(leader, doc, "Phòng chủ trì.", [incoming.AssigneeSpec(AssignmentRole.LEAD, unit_id=unit.id)])
        if name == "04":
            continue
        incoming.direct_within_unit(head, doc, "", [incoming.AssigneeSpec(AssignmentRole.LEAD,
                                                                          user_id=p["officer"].id)])
        if name == "06":
            incoming.finish(p["officer"], doc, "Đã xong.")
    stages["recall"] = _registered(db, p)
    incoming.request_recall(stages["recall"], "Gửi nhầm", "Sở Gửi Thử")
    db.commit()
    return stages


INCOMING_MAIN = {
    ("01", "clerk"): "accept",             # tiếp nhận (vào sổ, trả lại in the menu)
    ("03u", "clerk"): "register",          # vào sổ
    ("03n", "clerk"): "present",           # trình lãnh đạo (chuyển xử lý in the menu)
    ("03p", "leader"): "direct",           # phân phối, chỉ đạo
    ("04", "head"): "unit_direct",         # giao xử lý trong đơn vị
    ("05", "officer"): "finish",           # hoàn thành (tiến độ, đã xem in the menu)
    ("06", "leader"): "reopen",
    ("06", "deputy"): "reopen",
    ("06", "head"): "reopen",
    ("recall", "clerk"): "confirm_recall",  # the sender's request comes first
}


def test_incoming_main_step_for_each_state_and_person(db, factory, inc):
    _org, _unit, p = inc
    chosen = {}
    for stage, doc in _incoming_stages(db, factory, inc).items():
        for who, user in p.items():
            offered = incoming.available_actions(user, doc)
            if offered:
                chosen[stage, who] = main = incoming_flow.primary_action(offered)
                assert main in offered, (stage, who, offered)
    assert chosen == INCOMING_MAIN


DRAFTS_MAIN = {
    (D.DRAFT, "officer"): "submit",        # trình duyệt (phiên bản, sửa, xin ý kiến, hủy in the menu)
    (D.UNIT_REVIEW, "head"): "approve",    # duyệt (trả lại in the menu)
    (D.FORMAT_CHECK, "checker"): "format_ok",
    (D.SIGNING, "leader"): "sign",         # ký số (thiết bị riêng, chuyển, trả lại in the menu)
    (D.SIGNED, "clerk"): "issue",          # cấp số và phát hành (trả lại người ký in the menu)
    (D.ISSUED, "clerk"): "recall", (D.ISSUED, "leader"): "recall", (D.ISSUED, "deputy"): "recall",
}


def test_drafts_main_step_for_each_state_and_person(db, drf):
    """The comment round stays open through every state: the colleague's main step is always to
    answer it, the drafter's (once the draft left them) to close it; both are the page's main button
    (below)."""
    p = drf[3]
    chosen = {}
    for status in (D.DRAFT, D.UNIT_REVIEW, D.FORMAT_CHECK, D.SIGNING, D.SIGNED, D.ISSUED, D.RECALLED, D.CANCELLED):
        draft = _matrix_draft(db, drf, status)
        for who, user in p.items():
            offered = drafts.allowed(user, draft)
            if offered:
                chosen[status, who] = main = draft_flow.primary_action(offered)
                assert main in offered, (status, who, offered)
    expected = dict(DRAFTS_MAIN)
    for status in D:
        expected[status, "colleague"] = "answer"
        if status != D.DRAFT:
            expected[status, "officer"] = "close_round"
    assert chosen == expected


# --- the page ---------------------------------------------------------------------------------------------

def _tree(resp):
    return lxml.html.fromstring(resp.get_data(as_text=True))


def _panel(tree) -> tuple[list, list]:
    """(the main step's <details>, the menu's <details>) of the page's actions."""
    return tree.xpath('//details[@data-primary]'), tree.xpath('//ul[@class="action-menu"]/li/details')


def _step_of(details) -> str:
    return details.get("id").removeprefix("action-")


def _forms_of(details, step: str) -> list:
    """A step's forms: one per step, but the answer has one per open invitation (answer-<invite>) and
    closing a round one per open round the person asked (close-<round>)."""
    if step == "answer":
        return details.xpath('.//form[starts-with(@id, "answer-")]')
    if step == "close_round":
        return details.xpath('.//form[starts-with(@id, "close-")]')
    return details.xpath(f'.//form[@id="step-{step}"]')


def _assert_panel(tree, main: str, menu: list[str], *, opened: str | None) -> None:
    primary, others = _panel(tree)
    assert [_step_of(d) for d in primary] == [main]
    assert primary[0].get("data-primary") == main
    assert _forms_of(primary[0], main), "the main step's form is inside its button"
    assert [_step_of(d) for d in others] == menu, "the menu in the order of preference"
    for d in others:
        assert _forms_of(d, _step_of(d))
    assert tree.xpath('//div[@class="action-more"]/h3/text()') == (["Thao tác khác"] if menu else [])
    every = primary + others
    assert {d.get("name") for d in every} == {"actions"}, "one exclusive group: opening one closes the others"
    assert [_step_of(d) for d in every if d.get("open") is not None] == ([opened] if opened else [])
    assert len(tree.xpath('//*[@data-primary]')) == 1


def _url(doc, tail: str = "") -> str:
    return f"/van-ban-den/{doc.id}" + (f"/{tail}" if tail else "")


def test_incoming_page_one_main_step_open_the_others_in_the_menu(db, factory, inc, as_person):
    org, _unit, p = inc
    doc = arrived(factory, db, org, code_number=str(next(_numbers)))
    _assert_panel(_tree(as_person(p["clerk"]).get(_url(doc))), "accept", ["register", "return"], opened="accept")
    presented = _registered(db, p)
    incoming.present(p["clerk"], presented, p["leader"].id)
    db.commit()
    _assert_panel(_tree(as_person(p["leader"]).get(_url(presented))), "direct", ["forward", "file_info", "send_back"],
                  opened="direct")
    # no step for the clerk now: no panel at all
    assert _panel(_tree(as_person(p["clerk"]).get(_url(presented)))) == ([], [])


def test_a_step_that_cannot_be_undone_opens_only_when_asked(db, inc, as_person):
    _org, _unit, p = inc
    doc = _registered(db, p)
    incoming.request_recall(doc, "Gửi nhầm", "Sở Gửi Thử")
    db.commit()
    tree = _tree(as_person(p["clerk"]).get(_url(doc)))
    _assert_panel(tree, "confirm_recall", ["present", "assign_directly", "refuse_recall"], opened=None)
    assert tree.xpath('//details[@data-primary]/summary/text()') == ["Xác nhận thu hồi"]


def test_a_refused_form_opens_again_with_what_was_typed_and_the_focus_on_its_errors(db, inc, as_person):
    _org, _unit, p = inc
    doc = _registered(db, p)
    incoming.present(p["clerk"], doc, p["leader"].id)
    db.commit()
    typed = "Nhờ đồng chí Phó Giám đốc cho ý kiến"
    leader = as_person(p["leader"])
    resp = leader.post(_url(doc, "chuyen-lanh-dao"), data={"forward-note": typed})  # no leader chosen
    assert resp.status_code == 422
    tree = _tree(resp)
    _assert_panel(tree, "direct", ["forward", "file_info", "send_back"], opened="forward")
    form = tree.xpath('//form[@id="step-forward"]')[0]
    assert form.xpath('.//textarea[@name="forward-note"]')[0].text.strip() == typed
    summary = form.xpath('.//div[@class="error-summary"]')
    assert len(summary) == 1
    assert summary[0].get("autofocus") is not None
    assert summary[0].get("tabindex") == "-1"
    assert summary[0].xpath(".//a/@href") == ["#forward-leader_id"]
    assert "Hãy tìm và chọn một lãnh đạo." in summary[0].text_content()
    assert len(tree.xpath("//*[@autofocus]")) == 1
    # htmx swaps the form alone into its open <details>, and focuses what carries autofocus
    resp = leader.post(_url(doc, "chuyen-lanh-dao"), data={"forward-note": typed}, headers=HX)
    assert resp.status_code == 422
    fragment = lxml.html.fragment_fromstring(resp.get_data(as_text=True), create_parent="div")
    assert fragment.xpath("./form/@id") == ["step-forward"]
    assert fragment.xpath('.//textarea[@name="forward-note"]')[0].text.strip() == typed
    assert fragment.xpath('.//div[@class="error-summary"][@autofocus]')
    # a fresh page: the main step open again, no errors, no focus taken
    tree = _tree(leader.get(_url(doc)))
    _assert_panel(tree, "direct", ["forward", "file_info", "send_back"], opened="direct")
    assert not tree.xpath("//*[@autofocus]")


def _draft_url(draft, tail: str = "") -> str:
    return f"/du-thao/{draft.id}" + (f"/{tail}" if tail else "")


@pytest.mark.parametrize(("status", "who", "main", "menu", "opened"), [
    (D.DRAFT, "officer", "submit", ["close_round", "version", "details", "ask", "cancel"], "submit"),
    (D.UNIT_REVIEW, "head", "approve", ["send_back"], "approve"),
    (D.FORMAT_CHECK, "checker", "format_ok", ["send_back"], "format_ok"),
    (D.SIGNING, "leader", "sign", ["sign_external", "forward", "send_back"], "sign"),
    (D.SIGNED, "clerk", "issue", ["refuse_issue"], "issue"),
    (D.ISSUED, "clerk", "recall", [], None),  # cannot be undone: the button opens it
])
def test_draft_page_one_main_step_the_others_in_the_menu(db, drf, as_person, status, who, main, menu, opened):
    p = drf[3]
    draft = _matrix_draft(db, drf, status)
    _assert_panel(_tree(as_person(p[who]).get(_draft_url(draft))), main, menu, opened=opened)


def test_draft_refused_form_opens_again_with_its_errors(db, drf, as_person):
    p = drf[3]
    draft = _matrix_draft(db, drf, D.SIGNING)
    typed = "Đề nghị đồng chí Phó Giám đốc ký thay"
    resp = as_person(p["leader"]).post(_draft_url(draft, "chuyen-lanh-dao"), data={"forward-note": typed})
    assert resp.status_code == 422
    tree = _tree(resp)
    _assert_panel(tree, "sign", ["sign_external", "forward", "send_back"], opened="forward")
    form = tree.xpath('//form[@id="step-forward"]')[0]
    assert form.xpath('.//textarea[@name="forward-note"]')[0].text.strip() == typed
    assert form.xpath('.//div[@class="error-summary"][@autofocus]/ul/li/a/@href') == ["#forward-leader_id"]


# --- the answer to a comment round is a step of the panel ------------------------------------------------

@pytest.mark.parametrize("status", [D.DRAFT, D.SIGNING])
def test_an_invited_officer_whose_only_step_is_to_answer_gets_it_as_the_main_step(db, drf, as_person, app,
                                                                                   monkeypatch, status):
    """Before: the answer form sat under its round and the action section was missing, as if there were
    nothing to do. Now the answer is the main step, open, once on the page; the round shows only the
    state of its answers and points to it. Posted from there (its own CSRF token), it is recorded;
    refused, it comes back open with what was typed (whole page, or the form alone for htmx)."""
    p = drf[3]
    draft = _matrix_draft(db, drf, status)
    [invite] = drafts.my_open_invites(p["colleague"], draft)
    colleague = as_person(p["colleague"])  # signed in first: the sign-in form's token is not this test's
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    page = colleague.get(_draft_url(draft))
    tree = _tree(page)
    assert tree.xpath('//section[@id="actions"]/h2/text()') == ["Xử lý dự thảo"]
    _assert_panel(tree, "answer", [], opened="answer")
    assert tree.xpath('//details[@data-primary]/summary/text()') == ["Cho ý kiến"]
    action = _draft_url(draft, f"y-kien/{invite.id}")
    assert len(tree.xpath(f'//form[@action="{action}"]')) == 1, "the answer form once on the page"
    assert tree.xpath(f'//details[@data-primary]//form[@action="{action}"]')
    assert "Góp ý?" in tree.xpath('//details[@data-primary]//p[@class="subject"]/text()'), "under its question"
    assert not tree.xpath('//section[@id="comments"]//form'), "the round shows only the state of its answers"
    assert tree.xpath('//section[@id="comments"]//a[@href="#action-answer"]')

    # refused (no choice made): the page again, the answer open with what was typed and its message
    [(_actions, fields)] = [(a, f) for a, f in PageForms(page.get_data(as_text=True)).forms if action in a]
    assert fields[f"answer{invite.id}-csrf_token"][0], "the page's own token is posted back"
    typed = "Đề nghị bổ sung căn cứ pháp lý tại điều 2."
    refused = {**fields, f"answer{invite.id}-text": typed}
    refused.pop(f"answer{invite.id}-answer", None)
    resp = colleague.post(action, data=refused)
    assert resp.status_code == 422
    tree = _tree(resp)
    _assert_panel(tree, "answer", [], opened="answer")
    (form,) = tree.xpath(f'//details[@data-primary]//form[@id="answer-{invite.id}"]')
    assert form.xpath(f'.//textarea[@name="answer{invite.id}-text"]')[0].text.strip() == typed
    assert "Hãy chọn Đồng ý, Không đồng ý hoặc Ý kiến khác." in form.xpath('.//div[@class="error-summary"]')[0] \
        .text_content()
    assert len(tree.xpath("//*[@autofocus]")) == 1
    resp = colleague.post(action, data=refused, headers=HX)
    assert resp.status_code == 422
    fragment = lxml.html.fragment_fromstring(resp.get_data(as_text=True), create_parent="div")
    assert fragment.xpath("./form/@id") == [f"answer-{invite.id}"]
    assert fragment.xpath(f'.//textarea[@name="answer{invite.id}-text"]')[0].text.strip() == typed
    assert drafts.my_open_invites(p["colleague"], draft) == [invite], "nothing recorded"

    # without the page's CSRF token: refused; with it, from the main step: recorded once
    assert colleague.post(action, data={**refused, f"answer{invite.id}-csrf_token": ""}).status_code == 400
    resp = colleague.post(action, data={**refused, f"answer{invite.id}-answer": "khac"})
    assert resp.status_code == 303
    db.expire_all()
    assert drafts.my_open_invites(p["colleague"], draft) == []
    assert drafts.history(draft)[-1].action == "answer"
    tree = _tree(colleague.get(_draft_url(draft)))
    assert _panel(tree) == ([], []), "nothing left to do: no panel"
    assert not tree.xpath('//section[@id="actions"]')
    assert typed in tree.xpath('//section[@id="comments"]//table')[0].text_content()


def test_two_open_invitations_are_one_step_with_a_form_for_each_question(db, drf, as_person):
    p = drf[3]
    draft = created(db, drf)
    drafts.ask_comments(p["officer"], draft, [p["colleague"].id], "Góp ý điều 1?", None)
    drafts.ask_comments(p["officer"], draft, [p["colleague"].id], "Góp ý điều 2?", None)
    db.commit()
    tree = _tree(as_person(p["colleague"]).get(_draft_url(draft)))
    _assert_panel(tree, "answer", [], opened="answer")
    blocks = tree.xpath('//details[@data-primary]//div[@class="answer-to"]')
    assert [b.xpath('./p[@class="subject"]/text()')[0] for b in blocks] == ["Góp ý điều 1?", "Góp ý điều 2?"]
    assert [len(b.xpath(".//form")) for b in blocks] == [1, 1]
    assert len(tree.xpath('//form[starts-with(@id, "answer-")]')) == 2


def test_a_holder_also_invited_keeps_their_step_main_and_the_answer_in_the_menu(db, drf, as_person):
    """The order of preference puts the holder's step (duyệt) first: the draft waits on it; the
    answer, the person's own side road, is first in "Thao tác khác"."""
    p = drf[3]
    draft = created(db, drf)
    drafts.ask_comments(p["officer"], draft, [p["head"].id], "Trưởng phòng góp ý?", None)
    drafts.submit(p["officer"], draft)
    db.commit()
    tree = _tree(as_person(p["head"]).get(_draft_url(draft)))
    _assert_panel(tree, "approve", ["answer", "send_back"], opened="approve")
    assert len(tree.xpath('//form[starts-with(@id, "answer-")]')) == 1


def test_the_drafters_page_offers_no_answer_and_keeps_the_round(db, drf, as_person):
    p = drf[3]
    draft = _matrix_draft(db, drf, D.DRAFT)
    tree = _tree(as_person(p["officer"]).get(_draft_url(draft)))
    _assert_panel(tree, "submit", ["close_round", "version", "details", "ask", "cancel"], opened="submit")
    assert not tree.xpath('//form[starts-with(@id, "answer-")]')
    assert not tree.xpath('//a[@href="#action-answer"]')
    rows = tree.xpath('//section[@id="comments"]//table[contains(@class, "answers")]/tbody/tr')
    assert [r.xpath("./td/text()")[:2] for r in rows] == [[p["colleague"].full_name, "Chưa trả lời"]]


# --- closing a comment round is a step of the panel -----------------------------------------------------

def _close_url(draft, round_id: int) -> str:
    return _draft_url(draft, f"luot-y-kien/{round_id}/ket-thuc")


@pytest.mark.parametrize("status", [D.UNIT_REVIEW, D.SIGNED, D.CANCELLED])
def test_a_drafter_whose_only_step_is_to_close_the_round_gets_it_as_the_main_step(db, drf, as_person, app,
                                                                                  monkeypatch, status):
    """Before: once the draft had left the drafter, closing their comment round was a small button beside
    the round and the page had no action section. Now it is the main step, open, once on the page, under
    the round's question; the round shows the state of its answers and points to it. Posted from there
    (its own CSRF token), the round closes and the section goes away."""
    p = drf[3]
    draft = _matrix_draft(db, drf, status)
    assert drafts.allowed(p["officer"], draft) == {"close_round"}
    round_id = drafts.comment_rounds(draft)[0].round.id
    officer = as_person(p["officer"])  # signed in first: the sign-in form's token is not this test's
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    page = officer.get(_draft_url(draft))
    tree = _tree(page)
    assert tree.xpath('//section[@id="actions"]/h2/text()') == ["Xử lý dự thảo"]
    _assert_panel(tree, "close_round", [], opened="close_round")
    assert tree.xpath('//details[@data-primary]/summary/text()') == ["Kết thúc xin ý kiến"]
    action = _close_url(draft, round_id)
    assert len(tree.xpath(f'//form[@action="{action}"]')) == 1, "the form once on the page"
    (block,) = tree.xpath('//details[@data-primary]//div[@class="close-to"]')
    assert block.get("data-round") == str(round_id)
    assert block.xpath('./p[@class="subject"]/text()') == ["Góp ý?"], "under its question"
    assert block.xpath(f'.//form[@action="{action}"]')
    assert "Chưa trả lời: 1" in block.xpath('./p[@class="counts"]')[0].text_content()
    assert not tree.xpath('//section[@id="comments"]//form'), "the round shows only the state of its answers"
    assert tree.xpath('//section[@id="comments"]//a[@href="#action-close_round"]')

    # without the page's CSRF token: refused; the page's own form posted back: closed once
    [(_actions, fields)] = [(a, f) for a, f in PageForms(page.get_data(as_text=True)).forms if action in a]
    assert fields[f"close{round_id}-csrf_token"][0], "the page's own token is posted back"
    assert officer.post(action, data={f"close{round_id}-csrf_token": ""}).status_code == 400
    db.expire_all()
    assert drafts.comment_rounds(draft)[0].round.closed_at is None, "nothing closed without the token"
    resp = officer.post(action, data=fields)
    assert resp.status_code == 303
    db.expire_all()
    assert drafts.comment_rounds(draft)[0].round.closed_at is not None
    assert drafts.history(draft)[-1].action == "close_round"
    assert drafts.allowed(p["officer"], draft) == set()
    tree = _tree(officer.get(_draft_url(draft)))
    assert _panel(tree) == ([], []), "nothing left to do: no panel"
    assert not tree.xpath('//section[@id="actions"]')
    assert not tree.xpath('//a[@href="#action-close_round"]')
    assert tree.xpath('//section[@id="comments"]//h3/span[@class="tag"]/text()') == ["Đã kết thúc"]


def test_a_drafter_with_other_steps_finds_closing_where_the_order_of_preference_puts_it(db, drf, as_person):
    """At DRAFT the drafter's step that moves the draft (trình) stays main; closing a round comes first in
    "Thao tác khác", as PREFERENCE ranks it; two open rounds = one step with a form under each question.
    Each closes its own round (htmx or plain), and the step goes when none is left."""
    p = drf[3]
    draft = created(db, drf)
    drafts.ask_comments(p["officer"], draft, [p["colleague"].id], "Góp ý điều 1?", None)
    drafts.ask_comments(p["officer"], draft, [p["head"].id], "Góp ý điều 2?", None)
    db.commit()
    first, second = (s.round.id for s in drafts.comment_rounds(draft))
    officer = as_person(p["officer"])
    tree = _tree(officer.get(_draft_url(draft)))
    menu = ["close_round", "version", "details", "ask", "cancel"]
    _assert_panel(tree, "submit", menu, opened="submit")
    assert ["submit", *menu] == draft_flow.ranked_actions(drafts.allowed(p["officer"], draft))
    blocks = tree.xpath('//details[@id="action-close_round"]//div[@class="close-to"]')
    assert [b.xpath('./p[@class="subject"]/text()')[0] for b in blocks] == ["Góp ý điều 1?", "Góp ý điều 2?"]
    assert [b.xpath(".//form/@action") for b in blocks] == [[_close_url(draft, first)], [_close_url(draft, second)]]
    assert len(tree.xpath('//form[starts-with(@id, "close-")]')) == 2, "each form once on the page"
    assert not tree.xpath('//section[@id="comments"]//form')
    assert len(tree.xpath('//section[@id="comments"]//a[@href="#action-close_round"]')) == 2

    resp = officer.post(_close_url(draft, first), headers=HX)
    assert resp.status_code == 200
    assert resp.headers["HX-Redirect"] == _draft_url(draft)
    tree = _tree(officer.get(_draft_url(draft)))
    _assert_panel(tree, "submit", menu, opened="submit")
    assert tree.xpath('//details[@id="action-close_round"]//div[@class="close-to"]/@data-round') == [str(second)]
    assert len(tree.xpath('//section[@id="comments"]//a[@href="#action-close_round"]')) == 1

    assert officer.post(_close_url(draft, second)).status_code == 303
    tree = _tree(officer.get(_draft_url(draft)))
    _assert_panel(tree, "submit", ["version", "details", "ask", "cancel"], opened="submit")
    assert not tree.xpath('//form[starts-with(@id, "close-")]')
    assert not tree.xpath('//a[@href="#action-close_round"]')


@pytest.mark.parametrize("status", [D.DRAFT, D.UNIT_REVIEW, D.SIGNED, D.ISSUED])
def test_other_peoples_pages_offer_no_closing_and_keep_their_steps(db, drf, as_person, status):
    """Only whoever asked may close a round: everyone else's panel is still their table's steps in the
    order of preference, with no closing form and no link to one."""
    p = drf[3]
    draft = _matrix_draft(db, drf, status)
    seen = 0
    for who, user in p.items():
        resp = as_person(user).get(_draft_url(draft))
        if who == "officer" or resp.status_code == 404:
            continue
        seen += 1
        tree = _tree(resp)
        assert not tree.xpath('//form[starts-with(@id, "close-")]'), (status, who)
        assert not tree.xpath('//*[@id="action-close_round"] | //a[@href="#action-close_round"]'), (status, who)
        primary, others = _panel(tree)
        assert [_step_of(d) for d in primary + others] == draft_flow.ranked_actions(drafts.allowed(user, draft)), \
            (status, who)
        assert tree.xpath('//section[@id="comments"]//p[@class="subject"]/text()') == ["Góp ý?"], (status, who)
    assert seen >= 2


# --- the history as a timeline ------------------------------------------------------------------------

def _timeline(tree) -> list:
    items = tree.xpath('//section[@id="history"]/ol[@class="timeline"]/li')
    for li in items:
        (moment,) = li.xpath("./time")
        at = datetime.fromisoformat(moment.get("datetime"))
        assert at.tzinfo is not None
        assert moment.text == format_datetime(at)  # dd/mm/yyyy HH:mm, Vietnam time
    return items


def test_incoming_history_is_a_timeline_oldest_first(db, inc, as_person):
    _org, unit, p = inc
    doc = _registered(db, p)
    incoming.present(p["clerk"], doc, p["leader"].id, "Kính trình Giám đốc")
    incoming.direct(p["leader"], doc, "Phòng chủ trì, báo cáo trước ngày 15.",
                    [incoming.AssigneeSpec(AssignmentRole.LEAD, unit_id=unit.id)])
    db.commit()
    items = _timeline(_tree(as_person(p["clerk"]).get(_url(doc))))
    events = incoming.history(doc)
    assert [li.get("data-action") for li in items] == [e.action for e in events] == ["digitise", "present", "direct"]
    assert [li.xpath("./p/strong/text()")[0] for li in items] == [incoming.ACTION_LABELS[e.action] for e in events]
    assert [li.xpath('.//span[@class="timeline-who"]/text()')[0] for li in items] == \
        [p["clerk"].full_name, p["clerk"].full_name, p["leader"].full_name]
    assert "Phòng chủ trì, báo cáo trước ngày 15." in items[2].xpath('./p[@class="timeline-note"]')[0].text_content()
    assert [li.xpath("./time/@datetime")[0] for li in items] == sorted(li.xpath("./time/@datetime")[0] for li in items)


def test_draft_history_is_a_timeline_oldest_first_with_versions(db, drf, as_person):
    p = drf[3]
    draft = _matrix_draft(db, drf, D.UNIT_REVIEW)
    drafts.send_back(p["head"], draft, "Sửa lại căn cứ pháp lý.")
    db.commit()
    items = _timeline(_tree(as_person(p["officer"]).get(_draft_url(draft))))
    events = drafts.history(draft)
    assert [li.get("data-action") for li in items] == [e.action for e in events]
    assert [li.get("data-action") for li in items][-2:] == ["submit", "send_back"]
    assert items[-1].xpath('./p[@class="timeline-note"]/text()') == ["Sửa lại căn cứ pháp lý."]
    assert all(li.xpath('.//span[@class="timeline-version"]/text()') == ["phiên bản 1"] for li in items)
