"""The step machine's web side, once for every workflow (issue 14; was ``Step``/``_act``/``_put_errors``
copied in incoming and drafts).

``run_step`` is what every step's view calls:

1. ``load()`` the object the person may see, then lock its row and re-read it (``workflow.relock``),
   so what is checked next is the committed state and a second identical request waits here;
2. the table's guard (``Workflow.guard``): a step already done raises ``AlreadyDone`` with the
   object's URL (the web layer answers 409 to htmx, notice + 303 to a plain form), a step the person
   may not take raises ``NotAllowed`` (403);
3. the form: invalid → the page again with the form's errors, 422 (a missing CSRF token → 400);
4. ``call`` (the service, which guards again and writes history and audit); a ``ValidationFailed``
   or a storage refusal rolls back and answers 422 with the messages beside their fields;
5. a notice, and back to the page (``client_redirect``: HX-Redirect or 303).

Services know nothing of HTTP; this module is the web layer's and knows no feature.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort
from flask_wtf import FlaskForm

from portal import storage
from portal.db import session
from portal.errors import ValidationFailed
from portal.web import client_redirect, flash_ok
from portal.workflow import AlreadyDone, Workflow, relock


@dataclass(frozen=True)
class StepView:
    """How a page shows a step: its form, the partial that holds it (returned alone to htmx on
    422), its title and its endpoint."""

    form: type[FlaskForm]
    template: str
    title: str
    endpoint: str


def put_errors(form: FlaskForm, errors: dict[str, str]) -> None:
    for name, message in errors.items():
        if name in form._fields:
            form._fields[name].errors = [message]
        else:
            form.form_errors.append(message)


Page = Callable[..., Any]  # (obj, status, *, step, form, **extra) → response


def run_step(*, workflow: Workflow[Any], action: str, user: Any, load: Callable[[], Any], form: FlaskForm,
             call: Callable[[Any, FlaskForm], object], page: Page, done: str | Callable[[Any], str],
             back: Callable[[Any], str], url: Callable[[Any], str],
             refused: Callable[[Exception, Any, FlaskForm], Any] | None = None,
             prepare: Callable[[Any, FlaskForm], None] | None = None,
             failed: dict[str, str] | None = None) -> Any:
    """One step, start to finish (see the module's docstring). ``refused`` may answer a domain
    refusal its own way (e.g. a duplicate warning); it returns None to fall back to the default.
    ``failed``: when given and ``call`` returns False, the step was refused but the transaction is
    kept (a wrong password re-entered for signing: the counted failure and its audit row must stay);
    the answer is 422 with these errors beside their fields."""
    obj = relock(session(), load())
    try:
        workflow.guard(user, action, obj)
    except AlreadyDone as exc:
        exc.url = exc.url or url(obj)
        raise
    if prepare:
        prepare(obj, form)
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return page(obj, 422, step=action, form=form)
    try:
        result = call(obj, form)
    except (ValidationFailed, storage.StorageError) as exc:
        session.rollback()
        answer = refused(exc, obj, form) if refused else None
        if answer is not None:
            return answer
        put_errors(form, exc.errors if isinstance(exc, ValidationFailed) else {"files": str(exc)})
        return page(obj, 422, step=action, form=form)
    if result is False and failed is not None:
        put_errors(form, failed)
        return page(obj, 422, step=action, form=form)
    flash_ok(done(obj) if callable(done) else done)
    return client_redirect(back(obj))
