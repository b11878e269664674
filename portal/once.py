"""One-time form tokens: a creation form submitted twice creates one record (issue 14).

Each creation form (paper intake, new draft, new schedule entry, new account) carries a random
token in a hidden field. The view claims it before creating, in the same transaction:

- ``claim`` inserts the token's row (``ON CONFLICT DO NOTHING``). A second submission of the same
  form at the same moment waits on PostgreSQL's unique index until the first transaction ends; on
  SQLite it waits for the write lock. Either way it then reads the row the first one committed and
  gets the id of what was created: the view answers with that record, creating nothing.
- ``remember`` writes the created record's id into the row before the commit.

A first submission that fails validation rolls back, row and all, so the same form can be sent
again after the person corrects it. A form without a token (an old page, a script) is simply not
protected: nothing is refused for lack of one.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime, session, utcnow

FIELD = "_once"
_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,64}")


class FormToken(Base):
    __tablename__ = "form_tokens"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def claim(user_id: int, token: str | None, kind: str) -> int | None:
    """None: go ahead and create (then ``remember``). An id: this form already created that record."""
    if not token or not _SHAPE.fullmatch(token):
        return None
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(FormToken).values(token=token, user_id=user_id, kind=kind, created_at=utcnow())
                    .on_conflict_do_nothing())
    row = session.execute(select(FormToken.user_id, FormToken.kind, FormToken.object_id)
                          .where(FormToken.token == token)).one()
    if row.object_id is None:
        return None  # ours, just inserted
    if row.user_id != user_id or row.kind != kind:
        return None  # someone else's token (cannot be guessed; never hands out their record)
    return int(row.object_id)


def remember(token: str | None, object_id: int) -> None:
    if token and _SHAPE.fullmatch(token):
        session.execute(update(FormToken).where(FormToken.token == token, FormToken.object_id.is_(None))
                        .values(object_id=object_id))
