"""Drafts and their way to an issued document (SPEC §6): immutable file versions, comment rounds,
the approval chain's history, recipients and their delivery, registered signing certificates and
signature/seal images.

A draft is held by one step at a time (``status`` + ``holder_id``); every transition writes a
``DraftEvent`` with the version it concerned. At issuance an ``OutgoingDocument`` row takes the
number; internal recipients receive an ``IncomingDocument`` (status 01) linked to it.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime, str_enum, utcnow


class DraftStatus(enum.StrEnum):
    DRAFT = "soan_thao"
    UNIT_REVIEW = "cho_duyet"
    FORMAT_CHECK = "cho_the_thuc"
    SIGNING = "cho_ky"
    SIGNED = "da_ky"
    ISSUED = "da_phat_hanh"
    RECALLED = "da_thu_hoi"
    CANCELLED = "da_huy"

    @property
    def label(self) -> str:
        return {"soan_thao": "Đang soạn thảo", "cho_duyet": "Chờ lãnh đạo đơn vị duyệt",
                "cho_the_thuc": "Chờ kiểm tra thể thức", "cho_ky": "Chờ ký", "da_ky": "Đã ký, chờ phát hành",
                "da_phat_hanh": "Đã phát hành", "da_thu_hoi": "Đã thu hồi", "da_huy": "Đã hủy"}[self.value]


class Authority(enum.StrEnum):
    """Thẩm quyền ký (NĐ 30 Phụ lục I II.7.a)."""

    NONE = ""
    TM = "TM."
    KT = "KT."
    TL = "TL."
    TUQ = "TUQ."
    Q = "Q."


class Answer(enum.StrEnum):
    AGREE = "dong_y"
    DISAGREE = "khong_dong_y"
    OTHER = "khac"

    @property
    def label(self) -> str:
        return {"dong_y": "Đồng ý", "khong_dong_y": "Không đồng ý", "khac": "Ý kiến khác"}[self.value]


class SendMethod(enum.StrEnum):
    SYSTEM = "he_thong"  # an organisation of this portal: it arrives as an incoming document
    POST = "buu_dien"
    EMAIL = "email"
    OTHER_SYSTEM = "he_thong_khac"
    HAND = "truc_tiep"

    @property
    def label(self) -> str:
        return {"he_thong": "Liên thông trong hệ thống", "buu_dien": "Bưu điện", "email": "Thư điện tử công vụ",
                "he_thong_khac": "Hệ thống khác (trục liên thông)", "truc_tiep": "Giao trực tiếp"}[self.value]


class Draft(Base):
    __tablename__ = "drafts"
    __table_args__ = (
        Index("ix_drafts_holder", "holder_id", "status"),
        Index("ix_drafts_drafter", "drafter_id", "status"),
        Index("ix_drafts_org_status", "organisation_id", "status", "updated_at"),
        Index("ix_drafts_org_id", "organisation_id", "id"),  # the lists' newest-first walk
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    drafter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[DraftStatus] = mapped_column(str_enum(DraftStatus, 14))
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # who must act now (None: a role)
    document_type_id: Mapped[int | None] = mapped_column(ForeignKey("document_types.id"))
    type_name: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(500))
    subject_folded: Mapped[str] = mapped_column(String(500), default="")
    urgency: Mapped[int] = mapped_column(SmallInteger, default=0)
    secrecy: Mapped[int] = mapped_column(SmallInteger, default=0)
    signer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    authority: Mapped[str] = mapped_column(String(5), default="")
    signer_title: Mapped[str | None] = mapped_column(String(100))
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("incoming_documents.id"))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("outgoing_documents.id"))
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("outgoing_documents.id"))
    due_date: Mapped[date | None] = mapped_column(Date)  # reply expected by (Hà Nam Điều 13.4.c)
    current_version: Mapped[int] = mapped_column(Integer, default=0)
    format_checklist: Mapped[str | None] = mapped_column(String(200))  # ticked items, comma-separated
    frozen_sha256: Mapped[str | None] = mapped_column(ForeignKey("stored_files.sha256"))  # what the signer signs
    signed_sha256: Mapped[str | None] = mapped_column(ForeignKey("stored_files.sha256"))  # after the signer
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # when the signed document must be issued (portal/workdays/limits.py), set at signing; kept after issuance
    issue_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outgoing_id: Mapped[int | None] = mapped_column(ForeignKey("outgoing_documents.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DraftVersion(Base):
    """One uploaded state of the draft; never changed. ``number`` counts from 1 per draft."""

    __tablename__ = "draft_versions"
    __table_args__ = (UniqueConstraint("draft_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"))
    number: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_files.sha256"))
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(500))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DraftAttachment(Base):
    __tablename__ = "draft_attachments"
    __table_args__ = (Index("ix_draft_attachments_draft_id", "draft_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"))
    version_number: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_files.sha256"))
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)


class DraftEvent(Base):
    """The processing history (Phụ lục VI III.5.a): who, what, when, comment, version."""

    __tablename__ = "draft_events"
    __table_args__ = (
        Index("ix_draft_events_draft_id", "draft_id", "id"),
        # "has this person acted on it" (visible_clause): the person's own events, not a table scan
        Index("ix_draft_events_actor", "actor_id", "draft_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(14))
    version_number: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(String(2000))


class CommentRound(Base):
    """Xin ý kiến: a question about one version to persons, with a deadline."""

    __tablename__ = "draft_comment_rounds"
    __table_args__ = (Index("ix_draft_comment_rounds_draft_id", "draft_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"))
    version_number: Mapped[int] = mapped_column(Integer)
    question: Mapped[str] = mapped_column(String(1000))
    deadline: Mapped[date | None] = mapped_column(Date)
    asked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CommentInvite(Base):
    __tablename__ = "draft_comment_invites"
    __table_args__ = (
        UniqueConstraint("round_id", "user_id"),
        Index("ix_draft_comment_invites_user", "user_id", "answered_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("draft_comment_rounds.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    answer: Mapped[Answer | None] = mapped_column(str_enum(Answer, 14))
    text: Mapped[str | None] = mapped_column(String(1000))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Recipient(Base):
    """Nơi nhận: an organisation of this system (it gets an incoming item) or an outside body
    with how it was sent (sổ gửi văn bản đi bưu điện)."""

    __tablename__ = "draft_recipients"
    __table_args__ = (
        Index("ix_draft_recipients_draft_id", "draft_id"),
        Index("ix_draft_recipients_incoming", "incoming_document_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(String(200))
    method: Mapped[SendMethod] = mapped_column(str_enum(SendMethod, 14))
    address: Mapped[str | None] = mapped_column(String(200))  # postal address or e-mail
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    incoming_document_id: Mapped[int | None] = mapped_column(ForeignKey("incoming_documents.id"))
    recall_answer: Mapped[str | None] = mapped_column(String(10))  # "15" agreed, "16" refused
    recall_answer_text: Mapped[str | None] = mapped_column(String(1000))
    recall_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
