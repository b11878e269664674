"""What the dashboard and the health check need. No Flask here."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from portal.auth.models import User
from portal.db import session
from portal.documents.models import IncomingDocument, IncomingStatus, OutgoingDocument


def database_health() -> dict[str, object]:
    """Reachability and server version; never raises, so /healthz can always answer."""
    try:
        bind = session.get_bind()
        dialect = bind.dialect.name
        if dialect == "postgresql":
            version = session.execute(text("SHOW server_version")).scalar_one()
        else:
            version = session.execute(text("SELECT sqlite_version()")).scalar_one()
        revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return {"status": "ok", "dialect": dialect, "version": str(version), "schema_revision": revision}
    except SQLAlchemyError as exc:
        session.rollback()
        return {"status": "error", "error": type(exc).__name__}


def readiness(anchor_file: str) -> dict[str, object]:
    """/healthz's answer plus what an operator must fix though the portal works: a PostgreSQL role
    that could shorten the audit log, no anchor file configured. Warnings do not make it unready."""
    from portal import db_roles

    health = database_health()
    warnings = []
    if health["status"] == "ok":
        try:
            reason = db_roles.unprotected_reason(session.connection())
        except SQLAlchemyError:
            session.rollback()
            reason = None
        if reason:
            warnings.append(reason)
    if not anchor_file:
        warnings.append("Chưa đặt PORTAL_AUDIT_ANCHOR_FILE: đầu chuỗi nhật ký không được neo ra ngoài cơ sở dữ liệu, "
                        "nên việc xóa các bản ghi mới nhất không bị phát hiện.")
    return {"status": health["status"], "database": health, "warnings": warnings}


@dataclass(frozen=True)
class Summary:
    incoming_waiting: int
    incoming_this_year: int
    outgoing_this_year: int


def summary(user: User, year: int) -> Summary:
    """Counts for the person's working organisation. Cheap: each is one indexed count."""
    org_id = user.organisation.id if user.organisation else -1

    def count(stmt) -> int:  # type: ignore[no-untyped-def]
        return int(session.execute(stmt).scalar_one())

    return Summary(
        incoming_waiting=count(select(func.count()).select_from(IncomingDocument).where(
            IncomingDocument.organisation_id == org_id, IncomingDocument.status == IncomingStatus.ARRIVED)),
        incoming_this_year=count(select(func.count()).select_from(IncomingDocument).where(
            IncomingDocument.organisation_id == org_id, IncomingDocument.year == year)),
        outgoing_this_year=count(select(func.count()).select_from(OutgoingDocument).where(
            OutgoingDocument.organisation_id == org_id, OutgoingDocument.year == year)),
    )
