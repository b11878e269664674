"""The route of "Giao như văn bản bị thay thế" (SPEC §5.8, ``carry_over.py``): the directing leader of a document
that replaced another gives it to the replaced one's assignees in one step. The step machine as every step of the
page (``views._run``: load, lock, the guard of the table's ``direct`` step, one service call, back to the page)."""

from __future__ import annotations

from flask_login import current_user, login_required

from portal.auth.forms import EmptyForm
from portal.incoming import bp, services, views


def _again(doc, status, *, step=None, form=None, **extra):  # type: ignore[no-untyped-def]
    """A refusal (an assignee no longer with the organisation): the page, or for htmx the form, with the message."""
    return views._page(doc, status, carry_form=form, fragment="incoming/_carry_over.html")


@bp.post("/<id:document_id>/giao-nhu-van-ban-bi-thay-the")
@login_required
def carry_over(document_id: int):
    return views._run(document_id, "carry_over", lambda d, f: services.carry_over(current_user, d),
                      "Đã giao văn bản cho các đơn vị, cá nhân như văn bản bị thay thế.",
                      workflow=services.CARRY_OVER, page=_again, form=EmptyForm(prefix="carry_over"))
