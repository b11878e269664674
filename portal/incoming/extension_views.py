"""Gia hạn on one row of the phiếu (SPEC §5.6): the lead handler asks, whoever set the deadline (or who
stands in for them: ``deciders.py``) approves or refuses. Each runs on the step machine with the assignment
table's guard on that row (``OnRow``), like a reminder; the rules live in ``incoming/workflow.py``, the service
in ``incoming/extensions.py``."""

from __future__ import annotations

from collections.abc import Callable

from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from portal.db import session
from portal.documents.models import IncomingDocument
from portal.errors import NotFound
from portal.incoming import bp, services
from portal.incoming.forms import EXTENSION_FORMS
from portal.incoming.models import Assignment
from portal.incoming.views import _page, _run
from portal.incoming.workflow import OnRow


def _on_row(document_id: int, assignment_id: int, action: str, call: Callable[[IncomingDocument, FlaskForm], object],
            done: str):  # type: ignore[no-untyped-def]
    row = session.get(Assignment, assignment_id)
    if row is None or row.document_id != document_id:
        raise NotFound()
    return _run(document_id, action, call, done, workflow=OnRow(row.id),
                page=lambda doc, status, **kw: _page(doc, status, row=row, **kw),
                form=EXTENSION_FORMS[action](prefix=f"{action}{row.id}"))


@bp.post("/<id:document_id>/phan-cong/<id:assignment_id>/xin-gia-han")
@login_required
def request_extension(document_id: int, assignment_id: int):
    return _on_row(document_id, assignment_id, "request_extension", lambda d, f: services.request_extension(
        current_user, d, assignment_id, f.reason.data or "", f.proposed.data, f.days.data),  # type: ignore[attr-defined]
        "Đã gửi đề nghị gia hạn.")


@bp.post("/<id:document_id>/phan-cong/<id:assignment_id>/dong-y-gia-han")
@login_required
def approve_extension(document_id: int, assignment_id: int):
    return _on_row(document_id, assignment_id, "approve_extension", lambda d, f: services.approve_extension(
        current_user, d, assignment_id, f.note.data or ""), "Đã đồng ý gia hạn.")  # type: ignore[attr-defined]


@bp.post("/<id:document_id>/phan-cong/<id:assignment_id>/tu-choi-gia-han")
@login_required
def refuse_extension(document_id: int, assignment_id: int):
    return _on_row(document_id, assignment_id, "refuse_extension", lambda d, f: services.refuse_extension(
        current_user, d, assignment_id, f.reason.data or ""), "Đã trả lời không đồng ý gia hạn.")  # type: ignore[attr-defined]
