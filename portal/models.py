"""Imports every model so that ``Base.metadata`` is complete (Alembic, tests)."""

from portal.audit import AuditEntry, AuditHead
from portal.auth.models import AuthSession, Position, PositionRole, User
from portal.db import Base
from portal.documents.models import (
    DocumentType,
    IncomingDocument,
    OutgoingDocument,
    RegisterBook,
    RegisterCounter,
)
from portal.orgs.models import Organisation
from portal.storage import StoredFile

__all__ = [
    "AuditEntry", "AuditHead", "AuthSession", "Base", "DocumentType", "IncomingDocument", "Organisation",
    "OutgoingDocument", "Position", "PositionRole", "RegisterBook", "RegisterCounter", "StoredFile", "User",
]
