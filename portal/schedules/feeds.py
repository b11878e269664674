"""Private iCalendar feeds: a secret address per person, kept only as its SHA-256 (SPEC §9)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from portal import audit
from portal.auth.models import User, UserStatus
from portal.db import session, utcnow
from portal.errors import NotFound
from portal.orgs.models import Organisation
from portal.schedules.access import _calendars, _organisation, _reader, units_of
from portal.schedules.display import monday_of
from portal.schedules.entries import people_in
from portal.schedules.models import Entry, FeedKind, FeedToken, Week, WeekState
from portal.timeutil import local_today

FEED_HISTORY = timedelta(weeks=8)  # how far back a feed reaches


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def feeds_of(user: User) -> list[FeedToken]:
    return list(session.execute(select(FeedToken).where(FeedToken.user_id == user.id, FeedToken.revoked_at.is_(None))
                                .order_by(FeedToken.id)).scalars())


def create_feed(actor: User, kind: FeedKind) -> tuple[FeedToken, str]:
    """The secret is returned once, to show; only its hash is kept."""
    org = _organisation(actor)
    secret = secrets.token_urlsafe(32)
    token = FeedToken(user_id=actor.id, kind=kind, organisation_id=org.id, token_hash=_hash(secret))
    session.add(token)
    session.flush()
    audit.record(actor, "schedules.feed_created", token, organisation_id=org.id, details={"kind": kind.value})
    return token, secret


def revoke_feed(actor: User, token_id: int) -> FeedToken:
    token = session.get(FeedToken, token_id)
    if token is None or token.user_id != actor.id or token.revoked_at is not None:
        raise NotFound()
    token.revoked_at = utcnow()
    audit.record(actor, "schedules.feed_revoked", token, organisation_id=token.organisation_id)
    return token


def feed(secret: str) -> tuple[FeedToken, list[Entry]]:
    """What a calendar program fetches, without a sign-in: the token names the person and what
    they may see now; a revoked token, a disabled person or a person who left the organisation
    gets 404. Published weeks only; document content never."""
    token = session.execute(select(FeedToken).where(FeedToken.token_hash == _hash(secret))).scalar_one_or_none()
    if token is None or token.revoked_at is not None or token.user.status != UserStatus.ACTIVE:
        raise NotFound()
    pos = next((p for p in token.user.active_positions() if p.organisation_id == token.organisation_id), None)
    if pos is None:
        raise NotFound()
    token.last_used_at = utcnow()
    org = token.organisation
    wanted: list[tuple[Organisation, Organisation | None]] = [(org, None)]
    if token.kind != FeedKind.ORGANISATION:
        wanted += [(org, u) for u in units_of(org.id)]
        root = session.get(Organisation, org.ancestor_ids[0]) if org.ancestor_ids else None
        if root is not None:
            wanted.append((root, None))
    cals = _calendars(wanted)
    cals = [c for c in cals if _reader(pos, c)]
    entries = list(session.execute(
        select(Entry).join(Week, Week.id == Entry.week_id).where(
            Week.calendar_id.in_([c.id for c in cals]), Week.state == WeekState.PUBLISHED,
            Week.monday >= monday_of(local_today()) - FEED_HISTORY).order_by(Entry.day, Entry.start_time)).scalars())
    if token.kind == FeedKind.PERSON:
        entries = [e for e in entries if token.user_id in people_in(e)
                   or (pos.unit_id is not None and pos.unit_id in {u.id for u in e.participant_units})]
    return token, entries
