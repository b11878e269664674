"""The public face of sign-in and accounts; callers import from here. No Flask request here.

``signin``: checking credentials (local argon2 or the directory), lockout, break-glass;
``throttle``: failed sign-ins per client address, counted where every worker sees them;
``sessions``: the server-side sessions behind the cookie (idle and absolute limits, sign-out);
``password_change``: a person's own password (state, change, "báo mất quyền kiểm soát").
"""

from __future__ import annotations

from portal.auth.password_change import (
    DIRECTORY_UNREACHABLE,
    PasswordState,
    change_password,
    is_admin,
    organisation_names,
    password_state,
    policy_settings,
    report_compromise,
)
from portal.auth.sessions import (
    LAST_SEEN_GRANULARITY,
    Client,
    end_all_sessions,
    end_session,
    load,
    open_session,
    sign_out,
    sign_out_everywhere,
    switch_position,
)
from portal.auth.signin import (
    BAD_CREDENTIALS,
    DIRECTORY_DOWN,
    NOT_PROVISIONED,
    DirectoryDown,
    NotProvisioned,
    SignInFailed,
    announce_locked,
    confirm_password,
    directory_settings,
    find_user,
    lift_lockout,
    lock_hint,
    normalise_username,
    on_locked,
    refresh_from_directory,
    sign_in,
)
from portal.auth.throttle import Throttled

__all__ = [
    "BAD_CREDENTIALS", "DIRECTORY_DOWN", "DIRECTORY_UNREACHABLE", "LAST_SEEN_GRANULARITY", "NOT_PROVISIONED",
    "Client", "DirectoryDown", "NotProvisioned", "PasswordState", "SignInFailed", "Throttled", "announce_locked",
    "change_password", "confirm_password", "directory_settings", "end_all_sessions", "end_session", "find_user",
    "is_admin", "lift_lockout", "load", "lock_hint", "normalise_username", "on_locked", "open_session",
    "organisation_names", "password_state", "policy_settings", "refresh_from_directory", "report_compromise",
    "sign_in", "sign_out", "sign_out_everywhere", "switch_position",
]
