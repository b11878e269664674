"""The e-mail channel: one message to one SMTP server, STARTTLS with the certificate validated.

The only module that imports smtplib. No database here: the drain hands in a snapshot of the row; the files
a message carries are read from storage, which checks their hash (``attachments.py``).
"""

from __future__ import annotations

import base64
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

from portal.outbox.attachments import Attachment, PermanentFailure, attach_all


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
        return cls(host=str(cfg.get("SMTP_HOST") or ""), port=int(cfg.get("SMTP_PORT", 587)),
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
    attachments: tuple[Attachment, ...] = ()


def message_id(key: str, sender: str) -> str:
    """The outbox key is the Message-ID: a message sent twice after a crash carries the same one,
    so the duplicate is recognisable (and many mail systems drop it)."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "qlvb.invalid"
    return f"<{key}@{domain}>"


def build(message: Outgoing, settings: SmtpSettings, now: datetime) -> Message:
    """Headers through ``email.header.Header``: the modern folder (``EmailMessage``) drops the space
    between two encoded words, and "đã được" arrived as "đãđược" (checked against a real server)."""
    text = MIMEText(message.body, "plain", "utf-8")
    mail: Message = text
    if message.attachments:
        mail = MIMEMultipart("mixed")
        mail.attach(text)
        attach_all(mail, message.attachments)  # PermanentFailure over the size cap or on a changed file
    name, address = parseaddr(settings.sender)
    mail["From"] = formataddr((name, address), charset="utf-8") if name else address
    mail["To"] = message.recipient
    mail["Subject"] = Header(message.subject, "utf-8")
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = message_id(message.key, settings.sender)
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a robot
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
            _login(smtp, settings.user, settings.password)
        try:
            smtp.send_message(mail, from_addr=parseaddr(settings.sender)[1], to_addrs=[message.recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"Máy chủ thư từ chối người nhận: {exc.recipients}") from exc
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            if exc.smtp_code >= 500:
                raise PermanentFailure(f"Máy chủ thư từ chối ({exc.smtp_code}): {exc.smtp_error!r}") from exc
            raise


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """smtplib encodes credentials as ASCII and fails on "mật-khẩu"; AUTH PLAIN is UTF-8 by
    definition (RFC 4616), so a non-ASCII password goes that way."""
    if (user + password).isascii():
        smtp.login(user, password)
        return
    if "PLAIN" not in smtp.esmtp_features.get("auth", "").upper().split():
        raise PermanentFailure("Máy chủ thư không nhận AUTH PLAIN, cách duy nhất gửi tên/mật khẩu có dấu.")
    token = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode("ascii")
    code, answer = smtp.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, answer)
