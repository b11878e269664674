from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import abort, flash, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectChoice

from portal import once
from portal.admin import bp
from portal.admin.forms import (
    PEOPLE_FILTERS,
    ROLE_VALUES,
    OrganisationForm,
    PeopleFilterForm,
    PersonForm,
    PositionForm,
    ProvisionForm,
    ReasonForm,
)
from portal.admin.history import history_row
from portal.auth import accounts, directory, management, services
from portal.auth.forms import EmptyForm
from portal.auth.models import Position, Role, User, UserStatus
from portal.db import session
from portal.errors import NotFound, ValidationFailed
from portal.orgs import services as orgs
from portal.orgs.models import Organisation, OrgKind
from portal.params import Flag, Id, Text, args, parse_id, query
from portal.steps import run_step
from portal.text import fold
from portal.web import client_redirect, flash_ok, render, wants_fragment
from portal.workflow import AlreadyDone

T = TypeVar("T")
STATUS_VALUES = frozenset(s.value for s in UserStatus)

ACCOUNT_TOKEN = "account"  # noqa: S105  (kinds of one-time form tokens, not secrets)
RESET_TOKEN = "reset_password"  # noqa: S105


def _crumbs(*extra: tuple[str, str]) -> list[tuple[str, str]]:
    return [("Trang chủ", url_for("main.dashboard")), ("Quản trị", url_for("admin.organisations")), *extra]


@bp.get("/co-quan")
@login_required
def organisations():
    if not management.is_admin(current_user):
        abort(403)
    return render("admin/organisations.html", nodes=orgs.tree(), can_edit=orgs.can_manage_tree(current_user),
                  breadcrumbs=_crumbs(("Cơ quan, đơn vị", url_for("admin.organisations"))))


def _org_data(form: OrganisationForm) -> orgs.OrgData:
    parent = str(form.parent_id.data or "").strip()  # not posted: the organisation's own (an int)
    return orgs.OrgData(
        name=form.name.data or "", short_name=form.short_name.data or "", kind=OrgKind(form.kind.data),
        is_issuing=bool(form.is_issuing.data), parent_id=parse_id(parent),
        organ_id=form.organ_id.data, legacy_organ_id=form.legacy_organ_id.data, address=form.address.data,
        email=form.email.data, phone=form.phone.data, fax=form.fax.data, website=form.website.data,
    )


def _save_org(form: OrganisationForm, org=None):  # type: ignore[no-untyped-def]
    """Validate and save; on a rule broken, put each message on its field and return None."""
    parent = str(form.parent_id.data or "").strip()  # not posted: the organisation's own (an int)
    if parent and parse_id(parent) is None:
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
@query(Id("parent", "Cơ quan cấp trên"))
def new_organisation():
    if not orgs.can_manage_tree(current_user):
        abort(403)
    form = OrganisationForm(parent_id=str(args()["parent"] or ""), is_issuing=True)
    if form.validate_on_submit() and (org := _save_org(form)) is not None:
        flash_ok(f"Đã thêm “{org.name}”.")
        return client_redirect(url_for("admin.organisations"))
    return render("admin/organisation_form.html", "admin/_organisation_form.html",
                  422 if form.is_submitted() else 200, form=form, org=None,
                  breadcrumbs=_crumbs(("Thêm cơ quan, đơn vị", request.path)))


@bp.route("/co-quan/<id:org_id>", methods=["GET", "POST"])
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


# --- people: list, accounts, positions, directory (issue 3) ----------------------------------------
#
# Every route loads through ``management`` (a person outside the admin's scope is 404), and
# ``management`` checks again what the admin may do (NotAllowed → 403, audited by portal.web).

DIRECTORY_DOWN = ("Không kết nối được máy chủ danh bạ. Vui lòng thử lại sau ít phút; nếu vẫn lỗi, "
                  "báo bộ phận kỹ thuật kiểm tra máy chủ LDAP/AD của tỉnh.")


def _require_admin() -> None:
    if not management.is_admin(current_user):
        abort(403)


def _managed(user_id: int) -> User:
    _require_admin()
    return management.get(current_user, user_id)


def _people_crumbs(*extra: tuple[str, str]) -> list[tuple[str, str]]:
    return _crumbs(("Người dùng", url_for("admin.people")), *extra)


def _organisations() -> list[Organisation]:
    """Where the admin may place people: any organisation of the province, or only their own."""
    if management.is_provincial(current_user):
        return [o for o in orgs.tree() if o.is_issuing and o.kind != OrgKind.EXTERNAL]
    return [current_user.organisation]


def _units(organisation_id: int | None) -> list[Organisation]:
    if organisation_id is None or management.scope(current_user) not in (None, organisation_id):
        return []
    return [o for o in orgs.tree() if not o.is_issuing and o.owner_id == organisation_id]


def _options(nodes: list[Organisation]) -> list[SelectChoice]:
    return [SelectChoice(str(node.id), node.name) for node in nodes]


def _offer_choices(form: PositionForm) -> None:
    """Organisation, unit and role choices for this admin. An org admin's organisation is fixed;
    the province-wide roles are not offered to them (and refused by the service if sent)."""
    organisations = _organisations()
    if not management.is_provincial(current_user) and form.organisation_id.data is None:
        form.organisation_id.data = current_user.organisation.id
    blank = [SelectChoice("", "— Chọn cơ quan —")] if len(organisations) > 1 else []
    form.organisation_id.choices = [*blank, *_options(organisations)]
    if len(organisations) > 1:  # the unit select follows the organisation chosen
        form.organisation_id.render_kw = {"hx-get": url_for("admin.unit_options"), "hx-target": "#unit_id",
                                          "hx-swap": "innerHTML"}
    form.unit_id.choices = [SelectChoice("", "— Không thuộc phòng, ban nào —"),
                            *_options(_units(form.organisation_id.data))]
    provincial = management.is_provincial(current_user)
    form.roles.choices = [SelectChoice(r.value, r.label) for r in Role
                          if provincial or r not in management.PROVINCE_ONLY_ROLES]


def _position_data(form: PositionForm) -> accounts.PositionData:
    return accounts.PositionData(organisation_id=form.organisation_id.data, unit_id=form.unit_id.data,
                                 title=form.title.data or "", roles=[Role(v) for v in form.roles.data or []])


def _person_data(form: PersonForm) -> accounts.PersonData:
    return accounts.PersonData(username=form.username.data or "", full_name=form.full_name.data or "",
                               email=form.email.data, phone=form.phone.data, positions=[_position_data(form)])


def _attempt(form: FlaskForm, call: Callable[[], T]) -> T | None:
    """One service call; a broken rule puts its message on the field it names (or above the
    form when no field has that name) and returns None, so the view re-renders with 422."""
    try:
        return call()
    except ValidationFailed as exc:
        for name, message in exc.errors.items():
            if name in form._fields:
                form._fields[name].errors = [message]
            else:
                form.form_errors.append(message)
        return None


@bp.get("/nguoi-dung")
@login_required
@query(*PEOPLE_FILTERS)
def people():
    """An organisation's IT admin sees its own people; the provincial one sees everyone. The
    search box and the filters swap only the rows; without JavaScript the form is a plain GET."""
    _require_admin()
    form = PeopleFilterForm(request.args)
    provincial = management.is_provincial(current_user)
    org_id = form.organisation_id.data if provincial else current_user.organisation.id
    form.organisation_id.choices = [SelectChoice("", "Mọi cơ quan"), *_options(_organisations())]
    form.unit_id.choices = [SelectChoice("", "Mọi phòng, ban"), *_options(_units(org_id))]
    rows = management.search(current_user, management.PeopleFilter(
        q=form.q.data or "", organisation_id=org_id if provincial else None, unit_id=form.unit_id.data,
        # unknown values (an old bookmark, a hand-edited link) mean "any", not an error
        role=Role(form.role.data) if form.role.data in ROLE_VALUES else None,
        status=UserStatus(form.status.data) if form.status.data in STATUS_VALUES else None), limit=51)
    body, status = render("admin/people.html", "admin/_people_rows.html", form=form, q=form.q.data or "",
                          people=rows[:50], more=len(rows) > 50, provincial=provincial,
                          manageable={u.id for u in rows if management.can_manage(current_user, u)},
                          breadcrumbs=_people_crumbs())
    # the filters send every field; history keeps only those in use: ?q=nguyen, not ?q=nguyen&role=&…
    clean = url_for("admin.people", **{k: v for k, v in request.args.items() if v.strip()})
    return body, status, {"HX-Push-Url": clean}


@bp.get("/don-vi")
@login_required
@query(Id("organisation_id", "Cơ quan"), Flag("filter", "Bộ lọc"))
def unit_options():
    """The <option>s of one organisation's units, for the unit select beside an organisation
    select; ``filter=1`` offers "all units" instead of "no unit"."""
    _require_admin()
    return render("admin/_unit_options.html", units=_units(args()["organisation_id"]), for_filter=args()["filter"])


@bp.route("/nguoi-dung/moi", methods=["GET", "POST"])
@login_required
def new_person():
    """The form's one-time token: sent twice, it makes one account and the second answer is its page."""
    _require_admin()
    form = PersonForm()
    _offer_choices(form)
    token = request.form.get(once.FIELD)
    if form.validate_on_submit():
        if (made := once.claim(current_user.id, token, ACCOUNT_TOKEN)) is not None:
            return _made_before(made)
        if made_now := _attempt(form, lambda: management.create_local(current_user, _person_data(form))):
            once.remember(token, made_now[0].id)
            return _temporary_password_page(*made_now, created=True)
        session.rollback()  # the token's claim too, so the corrected form can be sent again
    return render("admin/person_form.html", status=422 if form.is_submitted() else 200, form=form,
                  once_token=token or once.new_token(),
                  breadcrumbs=_people_crumbs(("Tạo tài khoản nội bộ", request.path)))


def _made_before(user_id: int):  # type: ignore[no-untyped-def]
    user = management.get(current_user, user_id)
    flash(f"Tài khoản {user.username} ({user.full_name}) đã được tạo từ lần gửi trước; không tạo lần nữa. "
          "Mật khẩu tạm thời chỉ hiển thị một lần, ở lần gửi đó; nếu chưa ghi lại, hãy đặt lại mật khẩu.", "info")
    return client_redirect(url_for("admin.person", user_id=user.id))


def _temporary_password_page(user: User, temporary: str, *, created: bool):  # type: ignore[no-untyped-def]
    """Shown once, to the admin who asked: never flashed, kept in the session or logged; the
    page is no-store (portal.web) and is not pushed to history, so Back or reload cannot show it."""
    body, status = render("admin/temporary_password.html", person=user, temporary=temporary, created=created,
                          hours=services.policy_settings().temporary_hours,
                          breadcrumbs=_people_crumbs((user.full_name, url_for("admin.person", user_id=user.id))))
    return body, status, {"HX-Push-Url": "false"}


@bp.get("/nguoi-dung/<id:user_id>")
@login_required
def person(user_id: int):
    return _person_page(_managed(user_id))


def _person_page(user: User, status: int = 200, *, errors: list[str] | None = None,
                 lock_form: ReasonForm | None = None, disable_form: ReasonForm | None = None):  # type: ignore[no-untyped-def]
    history = management.sign_in_history(current_user, user)
    return render("admin/person.html", status=status, person=user, history=[history_row(e) for e in history],
                  open_sessions=len(management.open_sessions(user)), errors=errors or [],
                  lock_form=lock_form or ReasonForm(prefix="lock", formdata=None),
                  disable_form=disable_form or ReasonForm(prefix="disable", formdata=None),
                  actions=management.ACCOUNT.allowed(current_user, user), once_token=once.new_token(),
                  is_self=user.id == current_user.id, scope=management.scope(current_user),
                  breadcrumbs=_people_crumbs((user.full_name, url_for("admin.person", user_id=user.id))))


def _account_step(user_id: int, action: str, call: Callable[[User, FlaskForm], object], done: str,
                  reason_form: str | None = None):  # type: ignore[no-untyped-def]
    """Lock, unlock, disable, enable: one step of ``management.ACCOUNT`` (portal.steps.run_step: the
    user's row locked and re-read, the table's guard, a repeat answered with what happened); a
    broken rule re-renders the person page with its message (422)."""
    def page(user: User, status: int, *, step: str, form: FlaskForm, **extra: object):  # type: ignore[no-untyped-def]
        forms = {f"{reason_form}_form": form} if reason_form else {}
        return _person_page(user, status, errors=form.form_errors, **forms)

    return run_step(workflow=management.ACCOUNT, action=action, user=current_user, load=lambda: _managed(user_id),
                    form=ReasonForm(prefix=reason_form) if reason_form else EmptyForm(), call=call, page=page,
                    done=lambda u: done.format(name=u.full_name),
                    back=lambda u: url_for("admin.person", user_id=u.id),
                    url=lambda u: url_for("admin.person", user_id=u.id))


def _account_action(user_id: int, call: Callable[[User, FlaskForm], object], done: str):  # type: ignore[no-untyped-def]
    """Ending a position (not a status step): load, one service call, back to the person page."""
    user = _managed(user_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    if _attempt(form, lambda: call(user, form) or True) is None:
        return _person_page(user, 422, errors=form.form_errors)
    flash_ok(done.format(name=user.full_name))
    return client_redirect(url_for("admin.person", user_id=user.id))


@bp.post("/nguoi-dung/<id:user_id>/khoa")
@login_required
def lock(user_id: int):
    return _account_step(user_id, "lock", lambda u, f: management.lock(current_user, u, f.reason.data or ""),
                         "Đã khóa tài khoản của {name}; mọi phiên đăng nhập của người này đã đóng.", "lock")


@bp.post("/nguoi-dung/<id:user_id>/mo-khoa")
@login_required
def unlock(user_id: int):
    return _account_step(user_id, "unlock", lambda u, f: management.unlock(current_user, u),
                         "Đã mở khóa tài khoản của {name}.")


@bp.post("/nguoi-dung/<id:user_id>/vo-hieu-hoa")
@login_required
def disable(user_id: int):
    return _account_step(user_id, "disable", lambda u, f: management.disable(current_user, u, f.reason.data or ""),
                         "Đã vô hiệu hóa tài khoản của {name}; mọi phiên đăng nhập đã đóng.", "disable")


@bp.post("/nguoi-dung/<id:user_id>/kich-hoat")
@login_required
def enable(user_id: int):
    return _account_step(user_id, "enable", lambda u, f: management.enable(current_user, u),
                         "Đã kích hoạt lại tài khoản của {name}.")


@bp.post("/nguoi-dung/<id:user_id>/chuc-vu/<id:position_id>/ket-thuc")
@login_required
def end_position(user_id: int, position_id: int):
    return _account_action(
        user_id, lambda u, f: management.end_position(current_user, u, _position(u, position_id).id),
        "Đã kết thúc chức vụ của {name}; các phiên đăng nhập của người này đã đóng.")


@bp.post("/nguoi-dung/<id:user_id>/dat-lai-mat-khau")
@login_required
def reset_password(user_id: int):
    """The step's state does not change, so its form's one-time token tells a repeat: the second
    press gets the person page with a notice, never a second password that voids the first."""
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    user = _managed(user_id)
    token = request.form.get(once.FIELD)
    if once.claim(current_user.id, token, RESET_TOKEN) is not None:
        raise AlreadyDone(management.reset_before(user), url_for("admin.person", user_id=user.id),
                          action="account.reset_password")
    temporary = _attempt(form, lambda: management.reset_password(current_user, user))
    if temporary is None:
        session.rollback()
        return _person_page(user, 422, errors=form.form_errors)
    once.remember(token, user.id)
    return _temporary_password_page(user, temporary, created=False)


def _position(user: User, position_id: int) -> Position:
    """One of the person's positions, inside the admin's organisation; anything else is 404."""
    found = next((p for p in user.positions if p.id == position_id), None)
    limit = management.scope(current_user)
    if found is None or (limit is not None and found.organisation_id != limit):
        raise NotFound()
    return found


@bp.route("/nguoi-dung/<id:user_id>/chuc-vu/moi", methods=["GET", "POST"])
@bp.route("/nguoi-dung/<id:user_id>/chuc-vu/<id:position_id>", methods=["GET", "POST"])
@login_required
def position(user_id: int, position_id: int | None = None):
    """Add a position or change one; a change of roles ends the person's sessions and is shown
    to them at their next sign-in (management.save_position)."""
    user = _managed(user_id)
    found = _position(user, position_id) if position_id is not None else None
    form = PositionForm(data={"organisation_id": found.organisation_id, "unit_id": found.unit_id,
                              "title": found.title, "roles": [r.value for r in found.role_set]} if found else None)
    _offer_choices(form)
    if form.validate_on_submit() and _attempt(form, lambda: management.save_position(
            current_user, user, _position_data(form), position_id)):
        flash_ok(f"Đã lưu chức vụ của {user.full_name}.")
        return client_redirect(url_for("admin.person", user_id=user.id))
    label = "Sửa chức vụ" if found else "Thêm chức vụ"
    return render("admin/position_form.html", status=422 if form.is_submitted() else 200, form=form, person=user,
                  position=found, label=label,
                  breadcrumbs=_people_crumbs((user.full_name, url_for("admin.person", user_id=user.id)),
                                             (label, request.path)))


@bp.errorhandler(directory.DirectoryUnavailable)
def _directory_down(exc: directory.DirectoryUnavailable):  # type: ignore[no-untyped-def]
    """The directory did not answer: say so plainly (503), never a bare 500."""
    template = "errors/_error.html" if wants_fragment() else "errors/error.html"
    return render_template(template, status=503, title="Máy chủ danh bạ không phản hồi", message=DIRECTORY_DOWN), 503


@bp.get("/danh-ba")
@login_required
@query(Text("q", "Tìm trong danh bạ", 100))
def directory_search():
    """People of the provincial directory, each with the account they already have here."""
    _require_admin()
    q = args()["q"]
    configured = services.directory_settings().enabled
    results = management.directory_search(current_user, q) if configured and q else []
    return render("admin/directory.html", "admin/_directory_results.html", q=q, configured=configured,
                  results=results, breadcrumbs=_crumbs(("Danh bạ", url_for("admin.directory_search"))))


def _guess_unit(form: ProvisionForm, unit_name: str | None) -> None:
    """The directory's unit (ou/department) as text: pre-select the unit of that name, if any."""
    wanted = fold(unit_name)
    match = next((u for u in _units(form.organisation_id.data) if wanted and fold(u.name) == wanted), None)
    if match is not None and form.unit_id.data is None:
        form.unit_id.data = match.id


@bp.route("/danh-ba/<username>/cap-quyen", methods=["GET", "POST"])
@login_required
def provision(username: str):
    _require_admin()
    if not services.directory_settings().enabled:
        return client_redirect(url_for("admin.directory_search"))
    found = management.directory_person(current_user, username)
    form = ProvisionForm(data={"title": found.title or "", "must_change_password": True})
    _offer_choices(form)
    _guess_unit(form, found.unit)
    if form.validate_on_submit() and (user := _attempt(form, lambda: management.provision(
            current_user, found, [_position_data(form)],
            must_change_password=bool(form.must_change_password.data)))):
        flash_ok(f"Đã cấp quyền cho {user.full_name}.")
        return client_redirect(url_for("admin.person", user_id=user.id))
    return render("admin/provision.html", status=422 if form.is_submitted() else 200, form=form, found=found,
                  breadcrumbs=_crumbs(("Danh bạ", url_for("admin.directory_search")),
                                      (f"Cấp quyền: {found.full_name}", request.path)))
