"""The main menu. Items appear as their issues land; each names the roles that see it, and the
views check the same roles again on the server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g, request, url_for
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


# The menu badges and queue tabs are counted for every page; under load that is a quarter of a
# list page's time (bench/load.py). They are kept per person and position for NAV_COUNT_SECONDS in
# each worker, and forgotten as soon as that person changes anything (any non-GET request);
# other people's actions show within the TTL. 0 turns the cache off (tests).
_counts: dict[tuple[str, int, int], tuple[float, dict[str, int]]] = {}
_counts_lock = threading.Lock()


def _cached_counts(kind: str, compute: Callable[[], dict[str, int]]) -> dict[str, int]:
    if kind in g:
        return g.get(kind)  # type: ignore[no-any-return]
    ttl = float(current_app.config.get("NAV_COUNT_SECONDS", 0) or 0)
    position = current_user.current_position
    key = (kind, current_user.id, position.id if position else 0)
    now = time.monotonic()
    hit = _counts.get(key) if ttl else None
    if hit is not None and hit[0] > now:
        value = hit[1]
    else:
        value = compute()
        if ttl:
            with _counts_lock:
                if len(_counts) > 20_000:
                    for stale in [k for k, (until, _) in _counts.items() if until <= now]:
                        _counts.pop(stale, None)
                _counts[key] = (now + ttl, value)
    setattr(g, kind, value)
    return value


def forget_counts(user_id: int) -> None:
    with _counts_lock:
        for key in [k for k in _counts if k[1] == user_id]:
            _counts.pop(key, None)


def init_app(app: Flask) -> None:
    @app.before_request
    def _writes_refresh_counts() -> Any:
        if request.method not in ("GET", "HEAD", "OPTIONS") and current_user and current_user.is_authenticated:
            forget_counts(current_user.id)


def incoming_counts() -> dict[str, int]:
    """The person's waiting incoming work per queue (menu, tabs and dashboard share it)."""
    from portal.incoming import queries

    works = current_user.has_role(*DOCUMENT_ROLES)
    return _cached_counts("incoming_counts", lambda: queries.action_counts(current_user) if works else {})


def _incoming_waiting() -> int:
    """Distinct documents waiting: "Quá hạn" overlaps the others, so it is not added."""
    return sum(n for slug, n in incoming_counts().items() if slug != "qua-han")


def draft_counts() -> dict[str, int]:
    """The person's drafts waiting per action queue (menu and tabs)."""
    from portal.drafts import queries

    works = current_user.has_role(*DOCUMENT_ROLES)
    return _cached_counts("draft_counts", lambda: queries.action_counts(current_user) if works else {})


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
