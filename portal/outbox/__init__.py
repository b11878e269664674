"""The outbox (issue 15): messages written in the transaction of the change that causes them,
sent later by the job queue, each once (idempotent by key), retried with back-off, and shown to
administrators as sent, waiting or failed.

``service.add`` queues (in the caller's transaction); ``drain.drain_once`` sends; ``sender`` is the
SMTP channel; ``attachments`` the files a message may carry (kept in storage); ``messages`` holds the
portal's e-mails; ``expiry`` the daily password-expiry run.
"""

from portal.outbox.drain import DrainResult, drain_once
from portal.outbox.models import MessageState, OutboxMessage
from portal.outbox.service import add

__all__ = ["DrainResult", "MessageState", "OutboxMessage", "add", "drain_once"]
