"""The pickers' type-ahead on the draft forms (SPEC §6.1): signers, people of the organisation,
recipients in and outside the system (and, after issuance, "Gửi lại" of what the axis never took).
What they offer is ``drafts.choices``, the rule the
services apply again when the form is saved, so a forged choice is refused there (422)."""

from __future__ import annotations

from flask import abort, url_for
from flask_login import current_user, login_required

from portal.auth import accounts
from portal.auth.forms import EmptyForm
from portal.auth.models import User, UserStatus
from portal.db import session
from portal.drafts import bp, choices, services
from portal.drafts.forms import OUTSIDE_METHODS, RecipientRow
from portal.drafts.models import SendMethod
from portal.exchange import agencies
from portal.orgs.models import Organisation, OrgKind
from portal.params import Choice, Flag, Id, Ids, Text, Texts, args, query
from portal.web import client_redirect, flash_ok, render

FIELDS = ("signer_id", "details-signer_id", "forward-leader_id")


def _colleagues(oid: int, q: str) -> list[User]:
    """Active people holding a position in this organisation today, at most 15."""
    return [user for user in accounts.list_people(organisation_id=oid, q=q[:100], limit=60)
            if user.status == UserStatus.ACTIVE and any(p.organisation_id == oid for p in user.active_positions())][:15]


@bp.get("/tim-nguoi")
@login_required
@query(Choice("kind", "Loại", ("leader", "person")), Choice("field", "Ô chọn", FIELDS), Text("q", "Từ khóa", 200))
def lookup_people():
    """``kind=leader``: the signers, as radio buttons named ``field``; ``kind=person``: buttons
    adding a row."""
    kind = args()["kind"] or "person"
    field = args()["field"] or "signer_id"
    if field not in FIELDS:
        abort(400)
    q = args()["q"][:100]
    oid = services.org_id(current_user)
    results = choices.signers(oid, q) if kind == "leader" else _colleagues(oid, q)
    return render("drafts/_draft_people_results.html", kind=kind, field=field, q=q, results=results, oid=oid)


@bp.get("/tim-nguoi/dong")
@login_required
@query(Id("id", "Người"), Ids("people", "Người đã chọn"))
def people_row():
    ident = args()["id"]
    who = session.get(User, ident) if ident else None
    if who is None or who not in _colleagues(services.org_id(current_user), who.full_name):
        abort(404)
    if who.id in args()["people"]:
        return "", 204
    return render("drafts/_draft_person_row.html", person=who, checked=True)


@bp.get("/tim-co-quan")
@login_required
@query(Text("q", "Từ khóa", 200), Flag("ngoai", "Ngoài hệ thống"))
def lookup_organisations():
    """Organisations of the system that receive electronically, never one's own; with
    ``ngoai=1`` the bodies outside it (catalogue), which are sent to by post or e-mail."""
    q = args()["q"][:100]
    if args()["ngoai"]:
        return render("drafts/_draft_org_results.html", results=choices.outside_bodies(q), q=q, outside=True)
    found = choices.receiving_organisations(services.org_id(current_user), q)
    return render("drafts/_draft_org_results.html", results=found, q=q, outside=False)


@bp.get("/tim-co-quan-truc")
@login_required
@query(Text("q", "Từ khóa", 200))
def lookup_agencies():
    """Agencies outside the province from the national directory (QĐ 20 codes), sent to through the axis."""
    q = args()["q"][:100]
    return render("drafts/_draft_agency_results.html", results=agencies.search(q) if q.strip() else [], q=q)


@bp.get("/noi-nhan/dong")
@login_required
@query(Id("id", "Cơ quan nhận"), Id("ngoai", "Cơ quan ngoài hệ thống"), Text("truc", "Cơ quan liên thông", 40),
       Ids("r_org", "Nơi nhận đã chọn"), Texts("r_name", "Nơi nhận đã chọn", 300))
def recipient_row():
    """One recipient row: ``id`` an organisation of the system, ``ngoai`` an outside body of the
    catalogue (a row of the other kind, filled in), ``truc`` an agency of the national directory (sent
    through the axis, its code as the address), none of them a blank outside row."""
    taken = [str(i) for i in args()["r_org"]] + args()["r_name"]
    ident, outside, agency_code = args()["id"], args()["ngoai"], args()["truc"]
    if agency_code:
        agency = agencies.by_code(agency_code)
        if agency is None:
            abort(404)
        row = RecipientRow(None, agency.name[:200], SendMethod.OTHER_SYSTEM.value, agency.organ_id)
    elif outside is not None:
        body = session.get(Organisation, outside)
        if body is None or body.kind != OrgKind.EXTERNAL:
            abort(404)
        method = SendMethod.EMAIL if body.email else SendMethod.POST
        row = RecipientRow(None, body.name, method.value, body.email or body.address or "")
    elif ident is not None:
        org = session.get(Organisation, ident)
        if org is None or not choices.can_receive(org, services.org_id(current_user)):
            abort(404)
        row = RecipientRow(org.id, org.name, SendMethod.SYSTEM.value, "")
    else:
        row = RecipientRow(None, "", SendMethod.POST.value, "")
    if row.name and (str(row.organisation_id) if row.organisation_id else row.name) in taken:
        return "", 204
    return render("drafts/_draft_recipient_row.html", row=row, methods=OUTSIDE_METHODS)


@bp.post("/<id:draft_id>/gui-lai")
@login_required
def resend(draft_id: int):
    """Gửi lại: the packages to agencies outside that the axis never took go to the queue again."""
    form = EmptyForm(prefix="resend")
    if not form.validate_on_submit():
        abort(400)
    draft = services.get_visible(current_user, draft_id)
    count = services.resend(current_user, draft)
    flash_ok(f"Đã xếp gửi lại {count} gói tin lên trục liên thông." if count else "Không có gói tin nào cần gửi lại.")
    return client_redirect(url_for("drafts.draft", draft_id=draft_id))
