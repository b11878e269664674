"""Registered certificates (where each key is) and signature/seal images (SPEC §7.2–7.3)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime, utcnow


class SigningCertificate(Base):
    """A certificate registered to a person (personal signature) or an organisation (seal):
    matched on issuer + serial and the public key's SHA-256, never on names (SPEC §7.3)."""

    __tablename__ = "signing_certificates"
    __table_args__ = (
        UniqueConstraint("issuer", "serial"),
        Index("ix_signing_certificates_user_id", "user_id"),
        Index("ix_signing_certificates_organisation_id", "organisation_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    subject: Mapped[str] = mapped_column(String(500))
    issuer: Mapped[str] = mapped_column(String(500))
    serial: Mapped[str] = mapped_column(String(80))
    spki_sha256: Mapped[str] = mapped_column(String(64))
    not_after: Mapped[datetime] = mapped_column(UTCDateTime)
    key_name: Mapped[str | None] = mapped_column(String(100))  # the development PKI's key file, if any
    # where the key is (issue 16): "dev" key files, "pkcs11" token/HSM by label, "external" the
    # person's own token on their PC (download, sign, upload)
    backend: Mapped[str] = mapped_column(String(10), default="external", server_default="external")
    token_label: Mapped[str | None] = mapped_column(String(100))
    key_label: Mapped[str | None] = mapped_column(String(100))
    certificate_der: Mapped[bytes | None] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SignatureImage(Base):
    """A person's handwritten signature (blue PNG) or an organisation's seal (red PNG)."""

    __tablename__ = "signature_images"
    __table_args__ = (UniqueConstraint("user_id"), UniqueConstraint("organisation_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_files.sha256"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
