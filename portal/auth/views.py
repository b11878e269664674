from __future__ import annotations

from flask import abort, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from portal.auth import bp, services
from portal.auth.forms import EmptyForm, LoginForm
from portal.web import client_redirect, render


def safe_next(target: str | None) -> str:
    """Only our own paths: "//evil.example" and "https://…" would turn sign-in into a redirector.
    Browsers drop tabs and newlines from a Location, so "/\\t/evil.example" is refused too."""
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and target.isprintable()):
        return target
    return url_for("main.dashboard")


def client() -> services.Client:
    return services.Client(ip=request.remote_addr, user_agent=request.user_agent.string)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return client_redirect(safe_next(request.args.get("next")))
    form = LoginForm(next=request.args.get("next", ""))
    error = None
    if form.validate_on_submit():
        try:
            user, _token = services.sign_in(form.username.data, form.password.data, client())
        except services.SignInFailed as exc:
            error = str(exc)
        else:
            login_user(user)
            return client_redirect(safe_next(form.next.data))
    status = 422 if form.is_submitted() else 200
    return render("auth/login.html", status=status, form=form, error=error)


@bp.post("/logout")
@login_required
def logout():
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.sign_out(current_user)
    logout_user()
    return client_redirect(url_for("auth.login"))


@bp.post("/position/<int:position_id>")
@login_required
def switch_position(position_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.switch_position(current_user, position_id)
    return client_redirect(url_for("main.dashboard"))
