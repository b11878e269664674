from __future__ import annotations

from flask import abort, request, url_for
from flask_login import current_user, login_required

from portal.admin import bp
from portal.admin.forms import OrganisationForm
from portal.auth import accounts
from portal.auth.models import Role
from portal.errors import ValidationFailed
from portal.orgs import services as orgs
from portal.orgs.models import OrgKind
from portal.web import client_redirect, flash_ok, render

ADMINS = (Role.SYSTEM_ADMIN, Role.ORG_ADMIN)


def _crumbs(*extra: tuple[str, str]) -> list[tuple[str, str]]:
    return [("Trang chủ", url_for("main.dashboard")), ("Quản trị", url_for("admin.organisations")), *extra]


@bp.get("/co-quan")
@login_required
def organisations():
    if not current_user.has_role(*ADMINS):
        abort(403)
    return render("admin/organisations.html", nodes=orgs.tree(), can_edit=orgs.can_manage_tree(current_user),
                  breadcrumbs=_crumbs(("Cơ quan, đơn vị", url_for("admin.organisations"))))


def _org_data(form: OrganisationForm) -> orgs.OrgData:
    parent = (form.parent_id.data or "").strip()
    return orgs.OrgData(
        name=form.name.data or "", short_name=form.short_name.data or "", kind=OrgKind(form.kind.data),
        is_issuing=bool(form.is_issuing.data), parent_id=int(parent) if parent.isdigit() else None,
        organ_id=form.organ_id.data, legacy_organ_id=form.legacy_organ_id.data, address=form.address.data,
        email=form.email.data, phone=form.phone.data, fax=form.fax.data, website=form.website.data,
    )


def _save_org(form: OrganisationForm, org=None):  # type: ignore[no-untyped-def]
    """Validate and save; on a rule broken, put each message on its field and return None."""
    parent = (form.parent_id.data or "").strip()
    if parent and not parent.isdigit():
        form.parent_id.errors = ["Mã số cơ quan cấp trên là một số (xem cột “Mã số” trong cây)."]
        return None
    try:
        if org is None:
            return orgs.create(current_user, _org_data(form))
        return orgs.update(current_user, org, _org_data(form))
    except ValidationFailed as exc:
        for name, message in exc.errors.items():
            getattr(form, name).errors = [message]
        return None


@bp.route("/co-quan/moi", methods=["GET", "POST"])
@login_required
def new_organisation():
    if not orgs.can_manage_tree(current_user):
        abort(403)
    form = OrganisationForm(parent_id=request.args.get("parent", ""), is_issuing=True)
    if form.validate_on_submit() and (org := _save_org(form)) is not None:
        flash_ok(f"Đã thêm “{org.name}”.")
        return client_redirect(url_for("admin.organisations"))
    return render("admin/organisation_form.html", "admin/_organisation_form.html",
                  422 if form.is_submitted() else 200, form=form, org=None,
                  breadcrumbs=_crumbs(("Thêm cơ quan, đơn vị", request.path)))


@bp.route("/co-quan/<int:org_id>", methods=["GET", "POST"])
@login_required
def edit_organisation(org_id: int):
    if not orgs.can_manage_tree(current_user):
        abort(403)
    org = orgs.get(org_id)
    form = OrganisationForm(obj=org)
    if request.method == "GET":
        form.kind.data = org.kind.value
        form.parent_id.data = str(org.parent_id or "")
    if form.validate_on_submit() and _save_org(form, org) is not None:
        flash_ok(f"Đã lưu “{org.name}”.")
        return client_redirect(url_for("admin.organisations"))
    return render("admin/organisation_form.html", "admin/_organisation_form.html",
                  422 if form.is_submitted() else 200, form=form, org=org,
                  breadcrumbs=_crumbs((org.name, request.path)))


@bp.get("/nguoi-dung")
@login_required
def people():
    """An organisation's IT admin sees its own people; the provincial one sees everyone."""
    if not current_user.has_role(*ADMINS):
        abort(403)
    q = request.args.get("q", "")
    scope = None if current_user.has_role(Role.SYSTEM_ADMIN) else current_user.organisation.id
    rows = accounts.list_people(organisation_id=scope, q=q, limit=51)
    return render("admin/people.html", "admin/_people_rows.html", people=rows[:50], more=len(rows) > 50, q=q,
                  breadcrumbs=_crumbs(("Người dùng", url_for("admin.people"))))
