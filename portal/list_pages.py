"""What the list pages' views share (incoming, drafts): the queue the query string asks for among
those the person may see, and the list's own URL with its current filters (tabs, next page).
Web layer: reads the parsed query string (``portal.params.args``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from flask import abort, request, url_for
from flask_login import current_user

from portal.params import args


class Queues(Protocol):
    def queues_for(self, user: Any) -> Sequence[Any]: ...
    def default_queue(self, user: Any) -> Any: ...


def chosen_queue(queries: Queues) -> tuple[Sequence[Any], Any]:
    """The person's queues and the one ``?ds=`` names (their default when absent): 403 for someone
    without an organisation, 404 for a queue they do not have."""
    if current_user.organisation is None:
        abort(403)
    available = queries.queues_for(current_user)
    slug = args()["ds"] or queries.default_queue(current_user).slug
    queue = next((q for q in available if q.slug == slug), None)
    if queue is None:
        abort(404)
    return available, queue


def url_maker(endpoint: str, params: Iterable[str]) -> Callable[..., str]:
    """``list_url(queue, **extra)``: this list's URL with the filters now in the query string."""
    names = tuple(params)

    def list_url(queue: str, **extra: str) -> str:
        kept = {k: request.args[k] for k in names if request.args.get(k)}
        kept.update({"ds": queue, **extra})
        return url_for(endpoint, **{k: v for k, v in kept.items() if v})

    return list_url
