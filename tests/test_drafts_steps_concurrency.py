"""Every step of the draft's transition table, sent twice at the same moment over real HTTP (issue 14).

For each transition of ``portal.drafts.workflow.FLOW`` (iterated, so a new step without a scenario
fails here): a draft is brought to the step's start state through the services in a database of its
own with real commits; the person who may act sends the same valid POST twice on two connections
released together. Exactly one effect, one history row and one audit row for the step; one answer is
the success (303, or 200 with HX-Redirect for htmx) and the other says what already happened (303 to
the draft page whose notice says it, or 409 with the text for htmx), never 403 or 500. At the end every
outgoing register book reads 1..N with its counter at N. The new-draft form sent twice with the same
one-time token creates one draft.

The signature adapter is replaced by cheap fakes (as in tests/test_drafts_pages.py): the race, not
RSA, is under test; tests/test_drafts_workflow.py covers the real PKI.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from portal import once
from portal.audit import AuditEntry
from portal.auth.models import Role, User
from portal.db import session as db
from portal.documents.models import DocumentType, OutgoingDocument, RegisterBook, RegisterCounter
from portal.drafts import services
from portal.drafts.models import CommentRound, Draft, DraftEvent, DraftStatus, DraftVersion
from portal.drafts.workflow import FLOW
from portal.errors import ValidationFailed
from portal.signatures import service as signatures
from tests import concurrency, inbox_check
from tests.conftest import PASSWORD, Factory
from tests.http_concurrency import Person, serve, twice

S = DraftStatus
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
_SEQ = itertools.count(5000)


# --- one live database, one server and one office per module ----------------------------------------------

@dataclass
class Office:
    base: str
    app: Flask
    ids: dict[str, int]
    doc_type_id: int
    receiver_id: int
    people: dict[str, Person] = field(default_factory=dict)

    def user(self, key: str) -> User:
        user = db.get(User, self.ids[key])
        assert user is not None
        user.current_position = user.positions[0]
        return user


def _fake_signatures(mp: pytest.MonkeyPatch) -> None:
    def check_upload_for(signer: User, frozen: bytes, upload: bytes) -> dict[str, str]:
        if not upload.startswith(frozen) or upload == frozen:
            raise ValidationFailed({"upload": "Tệp tải lên không phải bản trình ký có chữ ký của bạn."})
        return {"signer": signer.full_name}

    mp.setattr(signatures, "sign_personal_for", lambda signer, pdf, at, pin=None: pdf + b"%ky-so\n")
    mp.setattr(signatures, "seal_for", lambda org: lambda pdf, number, day: pdf + f"%dong-dau {number}\n".encode())
    mp.setattr(signatures, "check_upload_for", check_upload_for)


@pytest.fixture(scope="module")
def office(fresh_database_url: Callable[[], str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    with pytest.MonkeyPatch.context() as mp:
        _fake_signatures(mp)
        for app in concurrency.live_app(fresh_database_url(), tmp_path_factory.mktemp("steps-storage")):
            with concurrency.bound_to(app), app.app_context():
                factory = Factory(db())
                factory.seq = _SEQ
                org = factory.organisation(short_name="SBT")
                unit = factory.unit(org, name="Văn phòng Sở")
                receiver = factory.organisation()
                people = {
                    "officer": factory.person(Role.OFFICER, organisation=org, unit=unit),
                    "colleague": factory.person(Role.OFFICER, organisation=org, unit=unit),
                    "head": factory.person(Role.UNIT_HEAD, organisation=org, unit=unit, title="Chánh Văn phòng"),
                    "checker": factory.person(Role.FORMAT_CHECKER, organisation=org),
                    "leader": factory.person(Role.AGENCY_LEADER, organisation=org, title="Giám đốc"),
                    "deputy": factory.person(Role.AGENCY_LEADER, organisation=org, title="Phó Giám đốc"),
                    "clerk": factory.person(Role.CLERK, organisation=org, title="Văn thư"),
                }
                doc_type = DocumentType(name="Công văn thử đồng thời", abbreviation=None)
                db.add(doc_type)
                db.commit()
                names = {key: u.username for key, u in people.items()}
                with serve(app) as base:
                    result = Office(base, app, {k: u.id for k, u in people.items()}, doc_type.id, receiver.id)
                    result.people = {key: Person(base, name) for key, name in names.items()}
                    yield result


# --- bringing a draft to a step's start ----------------------------------------------------------------------

def new_draft(o: Office) -> Draft:
    n = next(_SEQ)
    return services.create(o.user("officer"), services.DraftData(
        subject=f"Về việc báo cáo đợt {n}", document_type_id=o.doc_type_id, signer_id=o.ids["leader"],
        signer_title="Giám đốc"), services.Upload("du-thao.pdf", PDF + f"% {n}\n".encode()),
        recipients=[services.RecipientSpec(organisation_id=o.receiver_id)])


def at(o: Office, status: S) -> Draft:
    draft = new_draft(o)
    order = [S.UNIT_REVIEW, S.FORMAT_CHECK, S.SIGNING, S.SIGNED, S.ISSUED]
    moves: dict[S, Callable[[], object]] = {
        S.UNIT_REVIEW: lambda: services.submit(o.user("officer"), draft),
        S.FORMAT_CHECK: lambda: services.approve(o.user("head"), draft),
        S.SIGNING: lambda: services.format_ok(o.user("checker"), draft, list(services.FORMAT_CHECKLIST)),
        S.SIGNED: lambda: services.sign(o.user("leader"), draft, True,
                                        services.frozen_pdf(o.user("leader"), draft) + b"%ky\n"),
        S.ISSUED: lambda: services.issue(o.user("clerk"), draft, None),
    }
    for step in order[:order.index(status) + 1] if status != S.DRAFT else []:
        moves[step]()
    assert draft.status == status
    return draft


@dataclass
class Scenario:
    """Where the step starts, who acts, the form; ``effect`` reads the one effect (counted)."""

    status: S
    who: str
    path: Callable[[Office, Draft], str]
    form: Callable[[Office, Draft], dict[str, Any]] = lambda o, d: {}
    files: Callable[[Office, Draft], dict[str, Any]] | None = None
    prepare: Callable[[Office, Draft], None] | None = None
    effect: Callable[[Draft], int] | None = None  # must be 1 after the pair
    event: str | None = None  # the history action, when not the step's name


def _ask(o: Office, d: Draft) -> None:
    services.ask_comments(o.user("officer"), d, [o.ids["colleague"]], "Xin góp ý dự thảo?", None)


def _invite(o: Office, d: Draft) -> int:
    return services.my_open_invites(o.user("colleague"), d)[0].id


def _round(d: Draft) -> int:
    return db.execute(select(CommentRound.id).where(CommentRound.draft_id == d.id)).scalar_one()


def _count(model: Any, *where: Any) -> int:
    return db.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


SCENARIOS: dict[str, Scenario] = {
    "version": Scenario(S.DRAFT, "officer", lambda o, d: "phien-ban",
                        files=lambda o, d: {"version-main": ("v2.pdf", PDF + b"% phien ban 2\n", "application/pdf")},
                        effect=lambda d: _count(DraftVersion, DraftVersion.draft_id == d.id) - 1),
    "details": Scenario(S.DRAFT, "officer", lambda o, d: "sua", lambda o, d: {
        "details-document_type_id": str(o.doc_type_id), "details-subject": f"Trích yếu mới {d.id}",
        "details-urgency": "1", "details-signer_id": str(o.ids["deputy"]), "details-authority": "",
        "details-signer_title": "Phó Giám đốc", "r_org": [str(o.receiver_id)]}),
    "ask": Scenario(S.DRAFT, "officer", lambda o, d: "xin-y-kien",
                    lambda o, d: {"ask-question": "Xin góp ý về căn cứ pháp lý", "people": [str(o.ids["colleague"])]},
                    effect=lambda d: _count(CommentRound, CommentRound.draft_id == d.id)),
    "submit": Scenario(S.DRAFT, "officer", lambda o, d: "trinh", effect=lambda d: int(d.status == S.UNIT_REVIEW)),
    "cancel": Scenario(S.DRAFT, "officer", lambda o, d: "huy", lambda o, d: {"cancel-reason": "Không cần nữa"}),
    "approve": Scenario(S.UNIT_REVIEW, "head", lambda o, d: "duyet", effect=lambda d: int(d.status == S.FORMAT_CHECK)),
    "format_ok": Scenario(S.FORMAT_CHECK, "checker", lambda o, d: "the-thuc",
                          lambda o, d: {"format_ok-checklist": list(services.FORMAT_CHECKLIST)}),
    "send_back": Scenario(S.UNIT_REVIEW, "head", lambda o, d: "tra-lai",
                          lambda o, d: {"send_back-comment": "Sửa căn cứ"}),
    "forward": Scenario(S.SIGNING, "leader", lambda o, d: "chuyen-lanh-dao",
                        lambda o, d: {"forward-leader_id": str(o.ids["deputy"])}),
    "sign": Scenario(S.SIGNING, "leader", lambda o, d: "ky-so", lambda o, d: {"sign-password": PASSWORD}),
    "sign_external": Scenario(S.SIGNING, "leader", lambda o, d: "ky-ngoai",
                              lambda o, d: {"sign_external-password": PASSWORD},
                              files=lambda o, d: {"sign_external-upload": (
                                  "da-ky.pdf", services.frozen_pdf(o.user("leader"), d) + b"%token\n",
                                  "application/pdf")}),
    "refuse_issue": Scenario(S.SIGNED, "clerk", lambda o, d: "tra-nguoi-ky",
                             lambda o, d: {"refuse_issue-reason": "Sai chức vụ người ký"}),
    "issue": Scenario(S.SIGNED, "clerk", lambda o, d: "phat-hanh",
                      effect=lambda d: _count(OutgoingDocument, OutgoingDocument.subject == d.subject)),
    "recall": Scenario(S.ISSUED, "clerk", lambda o, d: "thu-hoi", lambda o, d: {"recall-reason": "Sai căn cứ"}),
    "answer": Scenario(S.DRAFT, "colleague", lambda o, d: f"y-kien/{_invite(o, d)}", lambda o, d: {
        f"answer{_invite(o, d)}-answer": "dong_y", f"answer{_invite(o, d)}-text": "Đồng ý với dự thảo"},
        prepare=_ask),
    "close_round": Scenario(S.DRAFT, "officer", lambda o, d: f"luot-y-kien/{_round(d)}/ket-thuc", prepare=_ask),
}


def test_every_transition_has_a_scenario():
    assert set(SCENARIOS) == set(FLOW.transitions), "a step of the draft table has no concurrency scenario"


def flashes(app: Flask, resp: Any) -> list[tuple[str, str]]:
    """The notices a response put in the session cookie (each answer carries its own)."""
    cookie = resp.cookies.get(app.config["SESSION_COOKIE_NAME"])
    if not cookie:
        return []
    data = app.session_interface.get_signing_serializer(app).loads(cookie)  # type: ignore[attr-defined]
    return [tuple(f) for f in data.get("_flashes", [])]


def audited(action: str, draft_id: int | None = None) -> int:
    where = [AuditEntry.action == action]
    if draft_id is not None:
        where.append(AuditEntry.object_id == str(draft_id))
    return _count(AuditEntry, *where)


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
@pytest.mark.parametrize("action", list(FLOW.transitions))
def test_the_same_step_twice_at_once_happens_once(office, action, htmx):
    o = office
    if action not in SCENARIOS:
        pytest.fail(f"no scenario for the step “{action}”")
    sc = SCENARIOS[action]
    draft = at(o, sc.status)
    if sc.prepare:
        sc.prepare(o, draft)
    db.commit()
    path = f"/du-thao/{draft.id}/{sc.path(o, draft)}"
    form = sc.form(o, draft)
    files = sc.files(o, draft) if sc.files else None
    event = sc.event or action
    repeated_before = audited("step.repeated")
    page = f"/du-thao/{draft.id}"
    db.commit()  # SQLite: no write transaction of this thread may stand in the server's way
    person = o.people[sc.who]
    assert person.get("/").status_code == 200  # earlier notices shown and gone

    answers = twice(person, "POST", path, data=form, files=files, htmx=htmx)

    codes = sorted(a.status_code for a in answers)
    if htmx:
        assert codes == [200, 409], [(a.status_code, a.text[:300]) for a in answers]
        [won] = [a for a in answers if a.status_code == 200]
        [lost] = [a for a in answers if a.status_code == 409]
        assert won.headers["HX-Redirect"].endswith(page)
        assert "Đã thực hiện trước đó" in lost.text
        notice = lost.text
    else:
        assert codes == [303, 303], [(a.status_code, a.text[:300]) for a in answers]
        assert all(a.headers["Location"].endswith(page) or action == "cancel" for a in answers)
        kinds = sorted(kind for a in answers for kind, _ in flashes(o.app, a))
        assert kinds == ["info", "success"], [flashes(o.app, a) for a in answers]
        [notice] = [text for a in answers for kind, text in flashes(o.app, a) if kind == "info"]
        [lost] = [a for a in answers if ("info", notice) in flashes(o.app, a)]
        shown = requests.get(o.base + lost.headers["Location"], cookies={**person.cookies.get_dict(),
                                                                        **lost.cookies.get_dict()}, timeout=60)
        assert shown.status_code == 200
        assert notice in html.unescape(shown.text)  # the page the loser lands on says what happened
    assert " lúc " in notice or "đã " in notice.lower(), notice  # says what happened

    db.expire_all()
    draft = db.get(Draft, draft.id)
    assert _count(DraftEvent, DraftEvent.draft_id == draft.id, DraftEvent.action == event) == 1
    assert audited(f"drafts.{event}", draft.id) == 1
    assert audited("step.repeated") == repeated_before + 1
    if sc.effect:
        assert sc.effect(draft) == 1
    if FLOW[action].to is not None and action != "submit":
        assert draft.status == FLOW[action].to
    db.commit()
    inbox_check.agrees_with_a_recount()
    everyone = ("officer", "colleague", "head", "checker", "leader", "deputy", "clerk")
    inbox_check.lists_agree(o.user(who) for who in everyone)
    inbox_check.owners_may_act(o.user(who) for who in everyone)


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_a_new_draft_sent_twice_with_its_token_is_created_once(office, htmx):
    o = office
    token = once.new_token()
    subject = f"Về việc tạo một lần {token[:8]}"
    form = {"document_type_id": str(o.doc_type_id), "subject": subject, "urgency": "0",
            "signer_id": str(o.ids["leader"]), "authority": "", "signer_title": "Giám đốc",
            "r_org": [str(o.receiver_id)], once.FIELD: token}
    files = {"main": ("du-thao.pdf", PDF + token.encode(), "application/pdf")}
    db.commit()

    assert o.people["officer"].get("/").status_code == 200  # earlier notices shown and gone
    answers = twice(o.people["officer"], "POST", "/du-thao/moi", data=form, files=files, htmx=htmx)

    assert all(a.status_code == (200 if htmx else 303) for a in answers), [a.text[:300] for a in answers]
    targets = {a.headers["HX-Redirect" if htmx else "Location"] for a in answers}
    [draft_id] = db.execute(select(Draft.id).where(Draft.subject == subject)).scalars().all()
    assert len(targets) == 1
    assert targets.pop().endswith(f"/du-thao/{draft_id}")
    if not htmx:
        kinds = sorted(kind for a in answers for kind, _ in flashes(o.app, a))
        assert kinds == ["info", "success"]


def test_every_outgoing_book_reads_one_to_n(office):
    """After all the double issuances above (and the services' own for recall): gap-free books."""
    books = db.execute(select(RegisterBook)).scalars().all()
    outgoing = [b for b in books if _count(OutgoingDocument, OutgoingDocument.book_id == b.id)]
    assert outgoing, "no book was used"
    for book in outgoing:
        numbers = db.execute(select(OutgoingDocument.number).where(OutgoingDocument.book_id == book.id)
                             .order_by(OutgoingDocument.number)).scalars().all()
        assert numbers == list(range(1, len(numbers) + 1)), (book.name, numbers)
        last = db.execute(select(func.max(RegisterCounter.last_number))
                          .where(RegisterCounter.book_id == book.id)).scalar_one()
        assert last == len(numbers)
