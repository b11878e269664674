"""The main menu. Items appear as their issues land; each names the roles that see it, and the
views check the same roles again on the server."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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


def incoming_counts() -> dict[str, int]:
    """The person's waiting incoming work per queue, counted once per request (menu and
    dashboard share it)."""
    from portal.incoming import queries

    if "incoming_counts" not in g:
        works = current_user.has_role(*DOCUMENT_ROLES)
        g.incoming_counts = queries.action_counts(current_user) if works else {}
    return g.incoming_counts


def _incoming_waiting() -> int:
    """Distinct documents waiting: "Quá hạn" overlaps the others, so it is not added."""
    return sum(n for slug, n in incoming_counts().items() if slug != "qua-han")


def draft_counts() -> dict[str, int]:
    """The person's drafts waiting per action queue, counted once per request (menu and tabs)."""
    from portal.drafts import queries

    if "draft_counts" not in g:
        works = current_user.has_role(*DOCUMENT_ROLES)
        g.draft_counts = queries.action_counts(current_user) if works else {}
    return g.draft_counts


def _drafts_waiting() -> int:
    """Work items, not distinct drafts: a unit head asked for comments on a draft they must also
    approve has two things to do on it."""
    return sum(draft_counts().values())


# who works on documents; IT administrators and the provincial observer do not
DOCUMENT_ROLES = frozenset({Role.CLERK, Role.OFFICER, Role.UNIT_HEAD, Role.AGENCY_LEADER, Role.FORMAT_CHECKER,
                            Role.ARCHIVIST, Role.SCHEDULE_EDITOR})

ITEMS = [
    NavItem("Trang chủ", "main.dashboard"),
    NavItem("Văn bản đến", "incoming.index", DOCUMENT_ROLES, badge=_incoming_waiting),
    NavItem("Dự thảo, văn bản đi", "drafts.index", DOCUMENT_ROLES, badge=_drafts_waiting),
    NavItem("Báo cáo", "reports.index", frozenset({Role.AGENCY_LEADER, Role.CLERK, Role.UNIT_HEAD, Role.OVERVIEW})),
    NavItem("Lịch công tác", "schedules.index"),
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
