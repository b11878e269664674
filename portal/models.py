"""Imports every model so that ``Base.metadata`` is complete (Alembic, tests)."""

from portal.audit import AuditEntry, AuditHead
from portal.auth.models import AuthFailure, AuthSession, PasswordHistory, Position, PositionRole, User
from portal.db import Base
from portal.documents.models import (
    DocumentType,
    IncomingDocument,
    OutgoingDocument,
    RegisterBook,
    RegisterCounter,
)
from portal.drafts.models import (
    CommentInvite,
    CommentRound,
    Draft,
    DraftAttachment,
    DraftEvent,
    DraftVersion,
    Recipient,
)
from portal.exchange.models import ExchangePackage, ExternalAgency
from portal.inbox.models import WorkCount, WorkItem
from portal.incoming.models import Assignment, Extension, IncomingEvent, IncomingFile, Reminder
from portal.jobs.models import Job
from portal.notifications.models import Notification, NotificationSetting
from portal.once import FormToken
from portal.orgs.models import Organisation
from portal.outbox.models import OutboxMessage
from portal.registers.models import ReportJob
from portal.schedules.models import Calendar, Entry, FeedToken, Week
from portal.signatures.models import SignatureImage, SigningCertificate
from portal.storage import StoredFile
from portal.workdays.models import WorkdayOverride

__all__ = [
    "Assignment",
    "AuditEntry",
    "AuditHead",
    "AuthFailure",
    "AuthSession",
    "Base",
    "Calendar",
    "CommentInvite",
    "CommentRound",
    "DocumentType",
    "Draft",
    "DraftAttachment",
    "DraftEvent",
    "DraftVersion",
    "Entry",
    "ExchangePackage",
    "Extension",
    "ExternalAgency",
    "FeedToken",
    "FormToken",
    "IncomingDocument",
    "IncomingEvent",
    "IncomingFile",
    "Job",
    "Notification",
    "NotificationSetting",
    "Organisation",
    "OutboxMessage",
    "OutgoingDocument",
    "PasswordHistory",
    "Position",
    "PositionRole",
    "Recipient",
    "RegisterBook",
    "RegisterCounter",
    "Reminder",
    "ReportJob",
    "SignatureImage",
    "SigningCertificate",
    "StoredFile",
    "User",
    "Week",
    "WorkCount",
    "WorkItem",
    "WorkdayOverride",
]
