from __future__ import annotations

import base64

from flask import abort, current_app, flash, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from portal.auth import bp, services
from portal.auth.forms import EmptyForm, LoginForm, PasswordChangeForm, SignatureImageForm
from portal.db import keep_on_error
from portal.db import session as db_session
from portal.errors import ValidationFailed
from portal.params import Text, args, query
from portal.web import client_redirect, flash_ok, render

# pages a person who must change their password may still reach
OPEN_WHILE_CHANGE_FORCED = frozenset({"auth.change_password", "auth.logout", "auth.logout_everywhere", "auth.keepalive",
                                      "auth.report_compromise", "static", "main.healthz"})


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
@query(Text("next", "Trang tiếp theo", 4000))
def login():
    if current_user.is_authenticated:
        return client_redirect(safe_next(args()["next"]))
    form = LoginForm(next=args()["next"])
    error = None
    status = 200
    if form.validate_on_submit():
        try:
            user, _token = services.sign_in(form.username.data, form.password.data, client())
        except services.Throttled as exc:
            error, status = str(exc), 429
        except services.NotProvisioned as exc:
            return render("auth/not_provisioned.html", status=403, message=str(exc))
        except services.DirectoryDown as exc:
            # the audit rows (and a wrong local password's count) must survive the 503, which
            # otherwise rolls the transaction back
            keep_on_error()
            error, status = str(exc), 503
        except services.SignInFailed as exc:
            error, status = str(exc), 422
        else:
            session.clear()  # nothing from before sign-in carries over (session fixation)
            login_user(user)
            if user.notice:
                flash(user.notice, "info")
                user.notice = None
            return client_redirect(safe_next(form.next.data))
    elif form.is_submitted():
        status = 422
    return render("auth/login.html", status=status, form=form, error=error,
                  hint=services.lock_hint() if status == 422 and error else None)


@bp.post("/logout")
@login_required
def logout():
    """"Đăng xuất": this session only."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.sign_out(current_user)
    logout_user()
    session.clear()
    return client_redirect(url_for("auth.login"))


@bp.post("/dang-xuat-moi-thiet-bi")
@login_required
def logout_everywhere():
    """"Đăng xuất khỏi mọi thiết bị": every session of this person, this one included."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    ended = services.sign_out_everywhere(current_user)
    logout_user()
    session.clear()
    flash(f"Đã đăng xuất khỏi mọi thiết bị ({ended} phiên).", "info")
    return client_redirect(url_for("auth.login"))


@bp.post("/position/<id:position_id>")
@login_required
def switch_position(position_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.switch_position(current_user, position_id)
    return client_redirect(url_for("main.dashboard"))


@bp.post("/keepalive")
@login_required
def keepalive():
    """The "Tiếp tục làm việc" button of the idle warning: a click is activity (SPEC §13.3)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    return "", 204


@bp.post("/bao-mat-tai-khoan")
@login_required
def report_compromise():
    """Someone else may know my password: end every session now and force a new password."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.report_compromise(current_user)
    logout_user()
    session.clear()
    flash("Đã đóng mọi phiên đăng nhập của bạn và báo cho quản trị. Hãy đăng nhập lại và đặt mật khẩu mới ngay; "
          "nếu không đăng nhập được, liên hệ quản trị để được cấp lại mật khẩu.", "info")
    return client_redirect(url_for("auth.login"))


@bp.route("/mat-khau", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    state = services.password_state(current_user)
    status = 200
    if form.validate_on_submit():
        try:
            token = services.change_password(current_user, form.current_password.data, form.new_password.data,
                                             client())
        except ValidationFailed as exc:
            for name, message in exc.errors.items():
                getattr(form, name).errors = message.split("\n")
            status = 422
        except services.DirectoryDown as exc:
            keep_on_error()
            form.current_password.errors = [str(exc)]
            status = 503
        else:
            user = current_user._get_current_object()
            user.current_session_id = token
            session.clear()
            login_user(user)
            flash_ok("Đã đổi mật khẩu. Các phiên đăng nhập khác của bạn đã được đóng.")
            return client_redirect(url_for("main.dashboard"))
    elif form.is_submitted():
        status = 422
    settings = services.policy_settings()
    return render("auth/change_password.html", status=status, form=form, state=state, settings=settings,
                  breadcrumbs=[("Trang chủ", url_for("main.dashboard")), ("Đổi mật khẩu", request.path)])


@bp.route("/chu-ky-so", methods=["GET", "POST"])
@login_required
def signature():
    """The person's signature image (blue PNG, placed in the signer block when they sign) and
    their registered certificate."""
    from portal.signatures import service as signatures

    form = SignatureImageForm()
    status = 200
    if form.validate_on_submit():
        upload = form.image.data
        try:
            warning = signatures.save_image(current_user, upload.read() if upload else b"")
        except ValidationFailed as exc:
            db_session.rollback()
            form.image.errors = list(exc.errors.values())
            status = 422
        else:
            flash_ok("Đã lưu ảnh chữ ký." + (f" {warning}" if warning else ""))
            return client_redirect(url_for("auth.signature"))
    elif form.is_submitted():
        status = 422
    image = signatures.image_of(current_user)
    return render("auth/signature.html", status=status, form=form, certificate=signatures.certificate_of(current_user),
                  image_data=base64.b64encode(image).decode() if image else None,
                  breadcrumbs=[("Trang chủ", url_for("main.dashboard")), ("Chữ ký số", request.path)])


@bp.before_app_request
def _force_password_change():
    """First sign-in, after a reset, or an expired password: nothing else until it is changed."""
    if not current_user.is_authenticated or request.endpoint in OPEN_WHILE_CHANGE_FORCED:
        return None
    state = services.password_state(current_user)
    if state.must_change:
        if request.headers.get("X-Portal-Background") == "1":
            return "", 204  # a poll (the bell): nothing to show, and no redirect that would reload the page
        return client_redirect(url_for("auth.change_password"))
    return None


@bp.app_context_processor
def _password_warning():
    def password_warning() -> str | None:
        if not current_user.is_authenticated or request.endpoint == "auth.change_password":
            return None
        state = services.password_state(current_user)
        if state.warn and state.days_left is not None:
            return f"Mật khẩu của bạn sẽ hết hạn sau {state.days_left} ngày. Hãy đổi mật khẩu mới."
        return None

    def session_idle_seconds() -> int:
        return int(_idle_limit().total_seconds())

    return {"password_warning": password_warning, "session_idle_seconds": session_idle_seconds}


def _idle_limit():  # type: ignore[no-untyped-def]
    from datetime import timedelta

    cfg = current_app.config
    minutes = cfg["SESSION_ADMIN_IDLE_MINUTES"] if request.blueprint == "admin" else cfg["SESSION_IDLE_MINUTES"]
    return timedelta(minutes=int(minutes))


def load_user(token: str):  # type: ignore[no-untyped-def]
    """flask-login's loader: idle 30 minutes (15 on admin pages), absolute 10 hours; requests
    marked as background (polling) do not count as activity."""
    from datetime import timedelta

    cfg = current_app.config
    return services.load(token, idle=_idle_limit(), absolute=timedelta(hours=float(cfg["SESSION_ABSOLUTE_HOURS"])),
                         touch=request.headers.get("X-Portal-Background") != "1")
