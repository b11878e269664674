"""The main menu. Items appear as their issues land; each names the roles that see it, and the
views check the same roles again on the server."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import g, request, url_for
from flask_login import current_user

from portal.auth.models import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    roles: frozenset[Role] | None = None  # None: everyone signed in
    badge: Callable[[], int] | None = None  # work waiting, shown beside the label

    @property
    def url(self) -> str:
        return url_for(self.endpoint)

    @property
    def active(self) -> bool:
        return request.endpoint is not None and request.endpoint.split(".")[0] == self.endpoint.split(".")[0]


# The menu badges, the queue tabs and the home page read the inbox's counters (portal/inbox): kept in the
# transaction that moves the work, so they are never stale and never recounted (one grouped read of a few
# rows per page, once per request).

def inbox_counts() -> Any:
    """The person's work waiting, from the counters (``portal.inbox.queries.Counts``)."""
    from portal.db import session
    from portal.inbox import queries

    if "inbox_counts" not in g:
        g.inbox_counts = (queries.counts(session(), current_user) if current_user.organisation is not None
                          else queries.Counts())
    return g.inbox_counts


def _tab_counts(source: str, queues: Any) -> dict[str, int]:
    """Every action queue of a list the person has, from the counters ("Quá hạn" is time, not a queue of the
    inbox: the incoming list counts it itself)."""
    if not current_user.has_role(*DOCUMENT_ROLES) or current_user.organisation is None:
        return {}
    counted = inbox_counts().slugs(source)
    return {q.slug: counted.get(q.slug, 0) for q in queues.queues_for(current_user) if q.action and q.slug != "qua-han"}


def incoming_counts() -> dict[str, int]:
    """The person's waiting incoming work per action queue of the incoming list (menu and tabs)."""
    from portal.incoming import queries

    return _tab_counts("incoming", queries)


def _incoming_waiting() -> int:
    return inbox_counts().of_source("incoming") if current_user.has_role(*DOCUMENT_ROLES) else 0


def draft_counts() -> dict[str, int]:
    """The person's drafts waiting per action queue (menu and tabs)."""
    from portal.drafts import queries

    return _tab_counts("draft", queries)


def _drafts_waiting() -> int:
    """Work items, not distinct drafts: a unit head asked for comments on a draft they must also
    approve has two things to do on it."""
    return inbox_counts().of_source("draft") if current_user.has_role(*DOCUMENT_ROLES) else 0


def _schedules_waiting() -> int:
    return inbox_counts().of_source("schedule")


# who works on documents; IT administrators and the provincial observer do not
DOCUMENT_ROLES = frozenset({Role.CLERK, Role.OFFICER, Role.UNIT_HEAD, Role.AGENCY_LEADER, Role.FORMAT_CHECKER,
                            Role.ARCHIVIST, Role.SCHEDULE_EDITOR})

ITEMS = [
    NavItem("Trang chủ", "main.dashboard"),
    NavItem("Văn bản đến", "incoming.index", DOCUMENT_ROLES, badge=_incoming_waiting),
    NavItem("Dự thảo, văn bản đi", "drafts.index", DOCUMENT_ROLES, badge=_drafts_waiting),
    NavItem("Báo cáo", "reports.index", frozenset({Role.AGENCY_LEADER, Role.CLERK, Role.UNIT_HEAD, Role.OVERVIEW})),
    NavItem("Lịch công tác", "schedules.index", badge=_schedules_waiting),
    NavItem("Sổ văn bản", "registers.index", frozenset({Role.CLERK, Role.AGENCY_LEADER})),
    NavItem("Quản trị", "admin.organisations", frozenset({Role.SYSTEM_ADMIN, Role.ORG_ADMIN})),
]

# their lists need a current organisation
ORGANISATION_ONLY = frozenset({"incoming.index", "drafts.index", "schedules.index", "registers.index"})


def has_organisation() -> bool:
    return current_user.organisation is not None


def navigation() -> list[NavItem]:
    if not current_user.is_authenticated:
        return []
    return [item for item in ITEMS if (item.roles is None or current_user.has_role(*item.roles))
            and (item.endpoint not in ORGANISATION_ONLY or has_organisation())]
