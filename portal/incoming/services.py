"""The incoming workflow's public face (SPEC §5): every name callers use, re-exported from the
modules that hold them, so callers import ``portal.incoming.services`` only. No Flask here.

- ``workflow.py``    the two transition tables (document, assignment): who may take which step
                     from which state, what a repeat says; ``available_actions`` reads them
- ``visibility.py``  who is who, ``visible_clause``/``get_visible`` (R1–R3)
- ``parts.py``       the rows a person holds (lead chain, own parts)
- ``events.py``      history + audit row, status moves, sort keys, the guard on the locked row
- ``metadata.py``    the typed fields, their checks, duplicates, attached files
- ``arrival.py``     receive, digitise, accept, register, return_to_sender
- ``directing.py``   present, forward, send_back, direct, assign_directly, file_for_information,
                     direct_within_unit
- ``handling.py``    record_progress, mark_seen, finish, reopen, remind, reminders, replies
- ``extensions.py``  request_extension, approve_extension, refuse_extension (gia hạn), extensions_of
- ``deciders.py``    who decides a gia hạn request: its deadline's setter, or whoever stands in once they are gone
- ``recall.py``      request_recall, confirm_recall, refuse_recall
- ``replacement.py`` replace: the sender's replacement names the new document, closes the open assignments and
                     moves the earlier one to "Đã bị thay thế" (final)
- ``carry_over.py``  the links between the two, and "Giao như văn bản bị thay thế" (direct the new one the same way)
- ``reading.py``     files, history, assignments, open_file, the sender's view, lookups

Every step function starts with the table's guard on the document locked for this transaction,
then writes the history and the audit row in the caller's transaction.
"""

# ruff: noqa: F401  (a public face: every import is a re-export)
from __future__ import annotations

import sys
import types

from portal.auth.models import Role, User
from portal.documents.models import Channel, IncomingDocument, IncomingStatus, Secrecy, Urgency
from portal.errors import NotAllowed, NotFound, ValidationFailed
from portal.incoming.arrival import (
    RETURN_CATEGORIES,
    _check_signatures,
    _number,
    accept,
    digitise,
    incoming_book,
    receive,
    register,
    return_to_sender,
)
from portal.incoming.carry_over import CARRY_OVER, carry_over, may_carry_over
from portal.incoming.carry_over import links as replacement_links
from portal.incoming.deciders import decider_of, may_decide
from portal.incoming.directing import (
    AssigneeSpec,
    _assign,
    _check_assignees,
    _create_assignments,
    _leader_of,
    assign_directly,
    direct,
    direct_within_unit,
    file_for_information,
    forward,
    present,
    send_back,
)
from portal.incoming.events import (
    ACTION_LABELS,
    _event,
    _move,
    _name,
    _now,
    guard,
    note_change,
    on_event,
    on_reminder,
    set_sort_key,
    sort_key,
)
from portal.incoming.extensions import approve_extension, extensions_of, refuse_extension, request_extension
from portal.incoming.handling import (
    finish,
    mark_seen,
    record_progress,
    remind,
    reminders_for,
    reopen,
    send_due_reminders,
)
from portal.incoming.limits import assignment_limits, time_limits, waiting_registration
from portal.incoming.metadata import (
    LABELS,
    LIMITS,
    Duplicate,
    Metadata,
    Upload,
    _apply,
    _attach,
    clean,
    code_key,
    parse_code,
    possible_duplicates,
    validate,
)
from portal.incoming.models import (
    Assignment,
    AssignmentOutcome,
    AssignmentRole,
    AssignmentState,
    Extension,
    ExtensionState,
    FileRole,
    IncomingEvent,
    IncomingFile,
    Reminder,
    ReminderKind,
)
from portal.incoming.parts import lead_person_assignment, my_assignments, progress_rows, unit_assignment
from portal.incoming.reading import (
    LOOKUP_KINDS,
    Source,
    assignments_of,
    document_types,
    event,
    file_of,
    files_of,
    history,
    incoming_books,
    lookup,
    may_see_sent,
    newest_event_id,
    open_file,
    sender_events,
    sender_statuses,
    source_of,
)
from portal.incoming.recall import (
    _destroy,
    _tell_sender,
    confirm_recall,
    on_recall_answer,
    refuse_recall,
    request_recall,
)
from portal.incoming.replacement import on_replaced, replace
from portal.incoming.visibility import (
    OPEN_STATUSES,
    WORK_STATUSES,
    S,
    get_visible,
    headed_unit_id,
    is_agency_leader,
    is_clerk,
    is_front_desk,
    is_leader,
    org_id,
    participant_scope,
    participation,
    visible_clause,
)
from portal.incoming.workflow import (
    ASSIGNMENT,
    DOCUMENT,
    Repeated,
    WrongStep,
    can_remind,
    done_out_of_sight,
    offered,
    row_actions,
)
from portal.timeutil import local_today

available_actions = offered  # the page's step forms: the tables' allowed actions (workflow.offered)


class _Face(types.ModuleType):
    """Setting a name here (a test's monkeypatch of ``services._now``, ``services._event`` or
    ``services.local_today``) sets it in the module behind the face that holds it, so a patch
    reaches the code that reads it, as it did before the split."""

    def __setattr__(self, name: str, value: object) -> None:
        super().__setattr__(name, value)
        for module in _BEHIND:
            if name in vars(module):
                setattr(module, name, value)


_BEHIND = [sys.modules[f"portal.incoming.{name}"] for name in (
    "arrival", "carry_over", "deciders", "directing", "events", "extensions", "handling", "limits", "metadata", "parts",
    "reading", "recall", "replacement", "visibility", "workflow")]
sys.modules[__name__].__class__ = _Face
