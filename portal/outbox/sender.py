"""The e-mail channel: one message to one SMTP server, STARTTLS with the certificate validated.

The only module that imports smtplib. No database here: the drain hands in a snapshot of the row.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    starttls: bool
    user: str
    password: str
    sender: str
    ca_file: str
    timeout: float

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> SmtpSettings:
        return cls(host=str(cfg.get("SMTP_HOST") or ""), port=int(cfg.get("SMTP_PORT") or 587),
                   starttls=bool(cfg.get("SMTP_STARTTLS", True)), user=str(cfg.get("SMTP_USER") or ""),
                   password=str(cfg.get("SMTP_PASSWORD") or ""), sender=str(cfg.get("SMTP_SENDER") or ""),
                   ca_file=str(cfg.get("SMTP_CA_FILE") or ""), timeout=float(cfg.get("SMTP_TIMEOUT") or 30))

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    def problems(self) -> list[str]:
        """What stops start-up: a half-configured server, or a password that would cross the network
        in clear."""
        if not self.host:
            return []
        found = []
        if "@" not in parseaddr(self.sender)[1]:
            found.append("PORTAL_SMTP_SENDER phải là một địa chỉ thư (vd. qlvb@ninhbinh.gov.vn).")
        if self.user and not self.starttls:
            found.append("PORTAL_SMTP_USER cần PORTAL_SMTP_STARTTLS=true: mật khẩu không được gửi không mã hóa.")
        if not 0 < self.port < 65536:
            found.append("PORTAL_SMTP_PORT phải từ 1 đến 65535.")
        return found


@dataclass(frozen=True)
class Outgoing:
    key: str
    recipient: str
    subject: str
    body: str


class PermanentFailure(Exception):
    """The server refused this message for good (5xx on sender, recipient or content): no retry."""


def message_id(key: str, sender: str) -> str:
    """The outbox key is the Message-ID: a message sent twice after a crash carries the same one,
    so the duplicate is recognisable (and many mail systems drop it)."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "qlvb.invalid"
    return f"<{key}@{domain}>"


def build(message: Outgoing, settings: SmtpSettings, now: datetime) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = settings.sender
    mail["To"] = message.recipient
    mail["Subject"] = message.subject
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = message_id(message.key, settings.sender)
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a robot
    mail.set_content(message.body, charset="utf-8", cte="quoted-printable")
    return mail


def send(message: Outgoing, settings: SmtpSettings, now: datetime) -> None:
    """Deliver to the configured server, or raise: OSError / smtplib.SMTPException (try again
    later) or PermanentFailure."""
    mail = build(message, settings, now)
    context = ssl.create_default_context(cafile=settings.ca_file or None)
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
        smtp.ehlo()
        if settings.starttls:
            smtp.starttls(context=context)  # the server's certificate and name are checked
            smtp.ehlo()
        if settings.user:
            smtp.login(settings.user, settings.password)
        try:
            smtp.send_message(mail, from_addr=parseaddr(settings.sender)[1], to_addrs=[message.recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"Máy chủ thư từ chối người nhận: {exc.recipients}") from exc
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            if exc.smtp_code >= 500:
                raise PermanentFailure(f"Máy chủ thư từ chối ({exc.smtp_code}): {exc.smtp_error!r}") from exc
            raise
