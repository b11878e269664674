"""Drafts to issued documents (SPEC §6, issue 5): the public face of the drafts' service layer.
Callers import from here; the code lives by sub-domain:

- ``permissions``   who sees a draft (``visible_clause``, ``get_visible``) and who may act;
- ``workflow``      the transition table: every step starts with its guard on the locked draft;
- ``common``        labels, the clock, the history row with its audit row, the inputs;
- ``composing``     create, versions, details and recipients, cancel, follow-ups, reading;
- ``comments``      xin ý kiến: rounds, answers, summary;
- ``approval``      submit, approve, format check, send back, forward to another leader;
- ``signing_steps`` the frozen PDF, ký số (registered key or token upload), refusal to the signer;
- ``issuance``      cấp số và phát hành: number, seal, outgoing record, delivery;
- ``limits``        the issuance time limit (set at signing) as lists show it;
- ``recall``        after issuance: recipients' statuses, thu hồi and the answers.

No Flask here; signatures go through ``portal.signatures.service``.
"""

from __future__ import annotations

from portal.drafts.approval import approve, format_ok, forward_signing, send_back, submit, unit_head_of
from portal.drafts.comments import RoundSummary, answer, ask_comments, close_round, comment_rounds, my_open_invites
from portal.drafts.common import (
    ACTION_LABELS,
    FORMAT_CHECKLIST,
    OPEN,
    Checked,
    DraftData,
    RecipientSpec,
    S,
    Upload,
    on_event,
    sha256_of,
)
from portal.drafts.composing import (
    add_version,
    attachments_by_version,
    attachments_of,
    cancel,
    create,
    current_version,
    edit,
    history,
    recipients_of,
    set_recipients,
    start_follow_up,
    update_details,
    versions,
)
from portal.drafts.issuance import Issued, identifier, issue, notation, outgoing_books
from portal.drafts.limits import time_limits
from portal.drafts.models import SendMethod
from portal.drafts.permissions import (
    WrongStep,
    can_create,
    get_visible,
    is_clerk,
    is_format_checker,
    may_close,
    org_id,
    visible_clause,
)
from portal.drafts.recall import (
    STATUS_LABELS,
    RecipientStatus,
    failed_sending,
    recall,
    recipient_statuses,
    record_recall_answer,
    resend,
)
from portal.drafts.signing_steps import (
    accept_external,
    frozen_pdf,
    placement_boxes,
    refuse_issue,
    sign,
    sign_with_key,
    signing_key_of,
)
from portal.drafts.workflow import FLOW, allowed

__all__ = [
    "ACTION_LABELS",
    "FLOW",
    "FORMAT_CHECKLIST",
    "OPEN",
    "STATUS_LABELS",
    "Checked",
    "DraftData",
    "Issued",
    "RecipientSpec",
    "RecipientStatus",
    "RoundSummary",
    "S",
    "SendMethod",
    "Upload",
    "WrongStep",
    "accept_external",
    "add_version",
    "allowed",
    "answer",
    "approve",
    "ask_comments",
    "attachments_by_version",
    "attachments_of",
    "can_create",
    "cancel",
    "close_round",
    "comment_rounds",
    "create",
    "current_version",
    "edit",
    "failed_sending",
    "format_ok",
    "forward_signing",
    "frozen_pdf",
    "get_visible",
    "history",
    "identifier",
    "is_clerk",
    "is_format_checker",
    "issue",
    "may_close",
    "my_open_invites",
    "notation",
    "on_event",
    "org_id",
    "outgoing_books",
    "placement_boxes",
    "recall",
    "recipient_statuses",
    "recipients_of",
    "record_recall_answer",
    "refuse_issue",
    "resend",
    "send_back",
    "set_recipients",
    "sha256_of",
    "sign",
    "sign_with_key",
    "signing_key_of",
    "start_follow_up",
    "submit",
    "time_limits",
    "unit_head_of",
    "update_details",
    "versions",
    "visible_clause",
]
