"""Fragment-or-page, redirects, error pages and response headers: the one place that reads htmx
request headers (STYLE §2)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, flash, redirect, render_template, request
from flask_htmx import make_response
from flask_login import current_user
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from portal import audit, storage
from portal.db import session
from portal.errors import NotAllowed, NotFound, ValidationFailed
from portal.extensions import htmx
from portal.workflow import AlreadyDone


def wants_fragment() -> bool:
    """Boosted links and history restores need whole pages; only targeted swaps get fragments."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(page: str, fragment: str | None = None, status: int = 200, **context: Any) -> tuple[str, int]:
    """One URL serves both: the page for browsers, the fragment for htmx swaps. A fragment
    carries pending flash messages out-of-band, so they show without a full page."""
    if fragment and wants_fragment():
        body = render_template(fragment, **context) + render_template("_flashes.html", oob=True)
        return body, status
    return render_template(page, **context), status


def client_redirect(url: str) -> Response:
    """After a write: htmx follows ``HX-Redirect`` with a full page load; plain forms get 303."""
    if htmx:
        return make_response("", redirect=url)
    return redirect(url, 303)  # type: ignore[return-value]


def flash_ok(message: str) -> None:
    flash(message, "success")


def _error_page(status: int, title: str, message: str) -> tuple[str, int]:
    template = "errors/_error.html" if wants_fragment() else "errors/error.html"
    return render_template(template, status=status, title=title, message=message), status


ERROR_TEXT = {
    400: ("Yêu cầu không hợp lệ", "Yêu cầu không hợp lệ hoặc phiên làm việc đã hết hạn. Hãy tải lại trang và thử lại."),
    403: ("Không có quyền truy cập", "Bạn không có quyền thực hiện thao tác này."),
    404: ("Không tìm thấy", "Trang hoặc văn bản bạn tìm không tồn tại, hoặc bạn không có quyền xem."),
    405: ("Phương thức không được hỗ trợ", "Thao tác này không được hỗ trợ tại địa chỉ này."),
    413: ("Tệp quá lớn", "Tệp tải lên vượt quá giới hạn cho phép."),
    409: ("Đã thực hiện trước đó", "Thao tác này đã được thực hiện; không có gì thay đổi."),
    429: ("Quá nhiều yêu cầu", "Bạn thao tác quá nhanh. Vui lòng đợi một lát rồi thử lại."),
    507: ("Hết dung lượng lưu trữ", "Hết dung lượng lưu trữ trên máy chủ. Hãy báo quản trị hệ thống."),
    500: ("Lỗi hệ thống", "Đã xảy ra lỗi ngoài ý muốn. Thao tác chưa được lưu; vui lòng thử lại hoặc báo quản trị."),
}


def _disk_full(exc: OperationalError) -> bool:
    """SQLite says "database or disk is full"; PostgreSQL raises SQLSTATE 53100 (disk_full)."""
    original = exc.orig
    return getattr(original, "sqlstate", None) == "53100" or "disk is full" in str(original)


def _actor() -> Any:
    return current_user if current_user and current_user.is_authenticated else None


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        session.rollback()
        code = exc.code or 500
        title, message = ERROR_TEXT.get(code, (exc.name, exc.description or ""))
        if code == 400 and exc.description and "CSRF" in exc.description:
            message = "Phiên biểu mẫu đã hết hạn hoặc thiếu mã bảo vệ CSRF. Hãy tải lại trang và gửi lại."
        if code == 429 and exc.description and exc.description != ERROR_TEXT[429][1]:
            message = str(exc.description)
        if code == 413:
            message = f"Tệp tải lên vượt quá giới hạn {app.config['MAX_UPLOAD_MB']} MB."
        return _error_page(code, title, message)

    @app.errorhandler(NotAllowed)
    def _not_allowed(exc: NotAllowed):  # type: ignore[no-untyped-def]
        session.rollback()  # nothing half-done survives; only the denial is recorded
        audit.record(_actor(), "access.denied", details={"action": exc.action, "path": request.path})
        return _error_page(403, ERROR_TEXT[403][0], str(exc))

    @app.errorhandler(NotFound)
    def _not_found(exc: NotFound):  # type: ignore[no-untyped-def]
        session.rollback()
        return _error_page(404, ERROR_TEXT[404][0], ERROR_TEXT[404][1])

    @app.errorhandler(ValidationFailed)
    def _invalid(exc: ValidationFailed):  # type: ignore[no-untyped-def]
        # what no form showed: a malformed query parameter (portal.params) or an unreadable request
        session.rollback()
        return _error_page(422, "Dữ liệu không hợp lệ", str(exc))

    @app.errorhandler(storage.IntegrityError)
    def _integrity(exc: storage.IntegrityError):  # type: ignore[no-untyped-def]
        session.rollback()
        audit.record(_actor(), "storage.integrity_error", object_type="stored_files", object_id=exc.sha256,
                     details={"actual": exc.actual, "path": request.path})
        session.commit()  # the 500 answer would otherwise roll the record back
        return _error_page(500, "Tệp không toàn vẹn", str(exc))

    @app.errorhandler(AlreadyDone)
    def _already_done(exc: AlreadyDone):  # type: ignore[no-untyped-def]
        """A repeated step (double click, resubmitted form, two identical requests): nothing changed.
        htmx gets 409 with what already happened; a plain form goes back to the object's page, which
        shows the same text as a notice (200 after the redirect). Audited as a repetition, not a step."""
        session.rollback()
        audit.record(_actor(), "step.repeated", details={"action": exc.action, "path": request.path})
        if htmx and not htmx.boosted:
            return _error_page(409, "Đã thực hiện trước đó", str(exc))
        flash(str(exc), "info")
        return redirect(exc.url or request.path.rsplit("/", 1)[0] or "/", 303)

    @app.errorhandler(storage.StorageFull)
    def _storage_full(exc: storage.StorageFull):  # type: ignore[no-untyped-def]
        session.rollback()  # the row that would name the file never exists; save() removed the temp file
        app.logger.error("Hết dung lượng lưu trữ tại %s (%s)", app.config["STORAGE_DIR"], request.path)
        return _error_page(507, ERROR_TEXT[507][0], str(exc))

    @app.errorhandler(OperationalError)
    def _database_error(exc: OperationalError):  # type: ignore[no-untyped-def]
        """A full disk under the database answers like a full storage disk; anything else stays a 500."""
        if not _disk_full(exc):
            raise exc  # not ours: the usual 500 path (and propagation under tests) stays as it was
        session.rollback()
        app.logger.error("Hết dung lượng đĩa của cơ sở dữ liệu (%s)", request.path)
        return _error_page(507, ERROR_TEXT[507][0], storage.StorageFull.MESSAGE)

    @app.errorhandler(500)
    def _server_error(exc: Exception):  # type: ignore[no-untyped-def]
        session.rollback()
        return _error_page(500, *ERROR_TEXT[500])

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        response.vary.add("HX-Request")
        if current_user and current_user.is_authenticated:
            response.headers["Cache-Control"] = "no-store"
        return response
