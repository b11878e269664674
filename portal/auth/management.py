"""Account administration for IT staff (SPEC §13, issue 3): search, create, provision from the
directory, positions and roles, lock, unlock, disable, reset, sign-in history. No Flask here.

Scope: a provincial IT admin (``system_admin``) manages everyone; an organisation's IT admin
(``org_admin``) manages only people holding a position in that organisation, and cannot hand out
the province-wide roles. Every change is audited; role, lock, disable and reset changes end the
person's open sessions at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import selectinload

from portal import audit
from portal.audit import AuditEntry
from portal.auth import accounts, directory, passwords, policy, services
from portal.auth.models import AuthFailure, AuthSession, Position, PositionRole, Role, User, UserSource, UserStatus
from portal.db import session, utcnow
from portal.errors import NotAllowed, NotFound, ValidationFailed
from portal.orgs.models import Organisation
from portal.outbox import messages as outbox_messages
from portal.text import limited, nfc
from portal.timeutil import format_datetime, to_local
from portal.workflow import Workflow, relock, step

PROVINCE_ONLY_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.OVERVIEW})
AUTH_ACTIONS = ("auth.sign_in", "auth.sign_in_failed", "auth.sign_out", "auth.locked", "auth.lockout_expired",
                "auth.password_change", "auth.password_change_failed", "auth.break_glass", "auth.session_expired",
                "auth.directory_unavailable", "people.lock", "people.unlock", "people.disable", "people.enable",
                "people.reset_password", "people.roles_change", "people.position_change", "people.create",
                "people.provision", "people.directory_refresh")


def is_provincial(actor: User) -> bool:
    return actor.has_role(Role.SYSTEM_ADMIN)


def is_admin(actor: User) -> bool:
    return actor.has_role(Role.SYSTEM_ADMIN, Role.ORG_ADMIN)


def scope(actor: User) -> int | None:
    """The organisation an admin is limited to, or None for the whole province."""
    if not is_admin(actor):
        raise NotAllowed("people.view")
    if is_provincial(actor):
        return None
    return actor.organisation.id


def can_manage(actor: User, user: User) -> bool:
    if not is_admin(actor):
        return False
    if is_provincial(actor):
        return True
    org_id = actor.organisation.id
    if not any(p.organisation_id == org_id for p in user.positions):
        return False
    # an organisation's admin does not manage the province's own admins
    return not any(p.role_set & PROVINCE_ONLY_ROLES for p in user.positions)


def get(actor: User, user_id: int) -> User:
    """A person the actor may manage; anyone else answers 404, as if they did not exist."""
    user = session.execute(
        select(User).where(User.id == user_id).options(
            selectinload(User.positions).selectinload(Position.roles),
            selectinload(User.positions).selectinload(Position.organisation),
            selectinload(User.positions).selectinload(Position.unit))
    ).scalar_one_or_none()
    if user is None or not can_manage(actor, user):
        raise NotFound()
    return user


@dataclass(frozen=True)
class PeopleFilter:
    q: str = ""
    organisation_id: int | None = None
    unit_id: int | None = None
    role: Role | None = None
    status: UserStatus | None = None


def people_query(actor: User, f: PeopleFilter) -> Select[tuple[User]]:
    """One set-based query: the admin's scope, name (with or without diacritics) or username,
    organisation, unit, role and status."""
    limit_to = scope(actor)
    stmt = accounts.people_query(organisation_id=limit_to, q=f.q)
    if f.organisation_id is not None:
        stmt = stmt.where(User.positions.any(Position.organisation_id == f.organisation_id))
    if f.unit_id is not None:
        stmt = stmt.where(User.positions.any(Position.unit_id == f.unit_id))
    if f.role is not None:
        stmt = stmt.where(User.positions.any(Position.roles.any(PositionRole.role == f.role)))
    if f.status is not None:
        stmt = stmt.where(User.status == f.status)
    return stmt


def search(actor: User, f: PeopleFilter, limit: int = 50) -> list[User]:
    return list(session.execute(people_query(actor, f).limit(limit)).scalars())


def _check_roles(actor: User, positions: list[accounts.PositionData]) -> None:
    limit_to = scope(actor)
    for pos in positions:
        if limit_to is not None and pos.organisation_id != limit_to:
            raise NotAllowed("people.assign", "Bạn chỉ quản trị người dùng của cơ quan mình.")
        if limit_to is not None and set(pos.roles) & PROVINCE_ONLY_ROLES:
            raise NotAllowed("people.assign", "Chỉ quản trị hệ thống cấp tỉnh được giao vai trò này.")


def _set_temporary(user: User) -> str:
    settings = services.policy_settings()
    temporary = policy.generate_temporary(settings)
    user.password_hash = passwords.hash_password(temporary)
    user.password_changed_at = utcnow()
    user.must_change_password = True
    user.temporary_password_expires_at = utcnow() + timedelta(hours=settings.temporary_hours)
    return temporary


def create_local(actor: User, data: accounts.PersonData) -> tuple[User, str]:
    """A local account with a one-time temporary password (shown once to IT, never chosen by
    them), to be changed at first sign-in (SPEC §13.2)."""
    _check_roles(actor, data.positions)
    data.source = UserSource.LOCAL
    data.directory_id = None
    user = accounts.create_person(actor, data)
    temporary = _set_temporary(user)
    return user, temporary


def provision(actor: User, person: directory.DirectoryPerson, positions: list[accounts.PositionData],
              *, must_change_password: bool = False) -> User:
    """Give a directory person an account here: matched later by the directory's stable id."""
    _check_roles(actor, positions)
    if session.execute(select(User.id).where(User.directory_id == person.directory_id)).first():
        raise ValidationFailed({"username": "Người này đã có tài khoản trên hệ thống."})
    data = accounts.PersonData(username=person.username, full_name=nfc(person.full_name) or "",
                               positions=positions, email=person.email, source=UserSource.DIRECTORY,
                               directory_id=person.directory_id)
    user = accounts.create_person(actor, data)
    user.password_changed_at = utcnow()
    user.must_change_password = must_change_password
    audit.record(actor, "people.provision", user, organisation_id=positions[0].organisation_id,
                 details={"directory_id": person.directory_id, "dn": person.dn,
                          "must_change_password": must_change_password})
    return user


# --- the account's status as a workflow (issue 14) ---------------------------------------------------
#
# ========  ======================  ==========  ===========================================================
# action    from                    to          who
# ========  ======================  ==========  ===========================================================
# lock      active                  locked      an admin who manages the person (province: everyone; an
# unlock    locked                  active      organisation's admin: its own people, not the province's
# disable   active, locked          disabled    admins), never on their own account
# enable    disabled                active
# reset     any (local accounts)    (stays)
# ========  ======================  ==========  ===========================================================
#
# The person page offers ``ACCOUNT.allowed``; each service below locks the user's row and guards
# with the table. A repeat (two admins, a double click) is AlreadyDone with what happened.

U = UserStatus


def _manages(actor: User, user: User) -> bool:
    return actor.id != user.id and can_manage(actor, user)


def _last(user: User, *actions: str) -> AuditEntry | None:
    return session.execute(select(AuditEntry).where(
        AuditEntry.object_type == "users", AuditEntry.object_id == str(user.id), AuditEntry.action.in_(actions))
        .order_by(AuditEntry.seq.desc()).limit(1)).scalar_one_or_none()


def _at_by(row: AuditEntry) -> str:
    local = to_local(row.occurred_at)
    return f"lúc {local:%H:%M} ngày {local:%d/%m/%Y}" + (f" bởi {row.actor_name}" if row.actor_name else "")


def _reason(row: AuditEntry) -> str:
    reason = row.details_dict.get("reason")
    return f" (lý do: {reason})" if reason else ""


def _locked(actor: User, user: User) -> str | None:
    if not (_manages(actor, user) and user.status == U.LOCKED):
        return None
    row = _last(user, "people.lock", "auth.locked")
    if row is None or row.action == "auth.locked":
        return "Tài khoản đang bị khóa tự động do nhập sai mật khẩu nhiều lần."
    return f"Tài khoản đã bị khóa {_at_by(row)}{_reason(row)}."


def _unlocked(actor: User, user: User) -> str | None:
    row = _last(user, "people.unlock", "people.lock") if _manages(actor, user) and user.status == U.ACTIVE else None
    return f"Tài khoản đã được mở khóa {_at_by(row)}." if row and row.action == "people.unlock" else None


def _disabled(actor: User, user: User) -> str | None:
    row = _last(user, "people.disable") if _manages(actor, user) and user.status == U.DISABLED else None
    return f"Tài khoản đã bị vô hiệu hóa {_at_by(row)}{_reason(row)}." if row else None


def _enabled(actor: User, user: User) -> str | None:
    row = _last(user, "people.enable", "people.disable") if _manages(actor, user) and user.status == U.ACTIVE else None
    return f"Tài khoản đã được kích hoạt lại {_at_by(row)}." if row and row.action == "people.enable" else None


def reset_before(user: User) -> str:
    """What a repeated reset form is told: the password was reset, and shown once, already."""
    row = _last(user, "people.reset_password")
    when = f" {_at_by(row)}" if row else ""
    return (f"Mật khẩu của {user.full_name} đã được đặt lại{when}; mật khẩu tạm thời chỉ hiển thị một lần, "
            "ở lần bấm trước. Nếu chưa ghi lại, hãy đặt lại lần nữa.")


SELF = "Bạn không thể tự thực hiện thao tác này với tài khoản của chính mình."  # others are 404 before

ACCOUNT: Workflow[User] = Workflow("account", {
    "lock": step("lock", "Khóa tài khoản", {U.ACTIVE}, _manages, to=U.LOCKED, done=_locked, refusal=SELF),
    "unlock": step("unlock", "Mở khóa tài khoản", {U.LOCKED}, _manages, to=U.ACTIVE, done=_unlocked, refusal=SELF),
    "disable": step("disable", "Vô hiệu hóa tài khoản", {U.ACTIVE, U.LOCKED}, _manages, to=U.DISABLED,
                    done=_disabled, refusal=SELF),
    "enable": step("enable", "Kích hoạt lại tài khoản", {U.DISABLED}, _manages, to=U.ACTIVE, done=_enabled,
                   refusal=SELF),
    "reset_password": step("reset_password", "Đặt lại mật khẩu", set(U), _manages,
                           when=lambda user: user.source == UserSource.LOCAL, refusal=SELF),
}, state=lambda user: user.status, label=lambda user: user.status.label)


def _guarded(actor: User, action: str, user: User) -> User:
    user = relock(session, user)
    ACCOUNT.guard(actor, action, user)
    return user


def _org_of(actor: User) -> int | None:
    return actor.organisation.id if actor.organisation else None


def _set_aside(actor: User, user: User, action: str, status: UserStatus, reason: str, missing: str) -> None:
    """Lock or disable: a reason, the status, every session ended, one audit row."""
    user = _guarded(actor, action, user)
    reason = limited(reason, 200, "reason", "Lý do")
    if not reason:
        raise ValidationFailed({"reason": missing})
    user.status = status
    user.locked_until = None
    user.lock_reason = reason
    ended = services.end_all_sessions(user, "locked" if status == UserStatus.LOCKED else "disabled")
    audit.record(actor, f"people.{action}", user, organisation_id=_org_of(actor),
                 details={"reason": reason, "sessions_ended": ended})


def lock(actor: User, user: User, reason: str) -> None:
    _set_aside(actor, user, "lock", UserStatus.LOCKED, reason, "Hãy ghi lý do khóa tài khoản.")
    at = utcnow()
    emailed = outbox_messages.account_locked_by_admin(user, at, user.lock_reason or "")
    services.announce_locked(user, at, f"Tài khoản của bạn đã bị quản trị khóa lúc {format_datetime(at)}, đến khi "
                             f"quản trị mở khóa. Lý do: {user.lock_reason}. Liên hệ bộ phận quản trị (CNTT) nếu cần "
                             "mở khóa.", emailed, by_admin=True)


def unlock(actor: User, user: User) -> None:
    user = _guarded(actor, "unlock", user)
    user.status = UserStatus.ACTIVE
    user.locked_until = None
    user.lock_reason = None
    session.execute(delete(AuthFailure).where(AuthFailure.user_id == user.id))
    audit.record(actor, "people.unlock", user, organisation_id=_org_of(actor))


def disable(actor: User, user: User, reason: str) -> None:
    """"Gone" without deleting: history keeps pointing at the person."""
    _set_aside(actor, user, "disable", UserStatus.DISABLED, reason, "Hãy ghi lý do vô hiệu hóa tài khoản.")


def enable(actor: User, user: User) -> None:
    user = _guarded(actor, "enable", user)
    user.status = UserStatus.ACTIVE
    user.lock_reason = None
    audit.record(actor, "people.enable", user, organisation_id=_org_of(actor))


def reset_password(actor: User, user: User) -> str:
    """A one-time temporary password, valid 72 hours, to be changed at the next sign-in. Directory
    accounts are reset in the directory, which owns their password."""
    if user.source != UserSource.LOCAL:
        raise ValidationFailed({"password": "Tài khoản danh bạ: đặt lại mật khẩu trên máy chủ danh bạ (LDAP/AD) "
                                            "của tỉnh, không đặt tại đây."})
    user = _guarded(actor, "reset_password", user)
    temporary = _set_temporary(user)
    ended = services.end_all_sessions(user, "password_reset")
    audit.record(actor, "people.reset_password", user, organisation_id=_org_of(actor),
                 details={"sessions_ended": ended})
    # the e-mail says a reset happened; the temporary password stays on the administrator's screen
    outbox_messages.password_reset(user, utcnow(), services.policy_settings().temporary_hours)
    return temporary


def _role_labels(roles: set[Role]) -> str:
    return ", ".join(sorted(r.label for r in roles)) or "không có"


def save_position(actor: User, user: User, data: accounts.PositionData, position_id: int | None = None) -> Position:
    """Add a position or change one (organisation, unit, title, roles). A change of roles is
    audited, ends the person's sessions and is shown to them at their next sign-in."""
    _check_roles(actor, [data])
    errors = accounts.validate_position(data)
    if errors:
        raise ValidationFailed(errors)
    if position_id is None:
        position = Position(user=user, organisation_id=data.organisation_id, title="")
        before: set[Role] = set()
        session.add(position)
    else:
        found = next((p for p in user.positions if p.id == position_id), None)
        if found is None:
            raise NotFound()
        if not is_provincial(actor) and found.organisation_id != scope(actor):
            raise NotAllowed("people.assign", "Bạn chỉ quản trị người dùng của cơ quan mình.")
        position = found
        before = set(position.role_set)
    old = {"organisation_id": position.organisation_id, "unit_id": position.unit_id, "title": position.title}
    position.organisation_id = data.organisation_id
    position.unit_id = data.unit_id
    position.title = nfc(data.title) or ""
    position.is_primary = data.is_primary if position_id is None or data.is_primary else position.is_primary
    after = set(data.roles)
    for link in list(position.roles):
        if link.role not in after:
            position.roles.remove(link)
    for role in sorted(after - before):
        position.roles.append(PositionRole(role=role))
    session.flush()
    new = {"organisation_id": position.organisation_id, "unit_id": position.unit_id, "title": position.title}
    if old != new or position_id is None:
        audit.record(actor, "people.position_change", user, organisation_id=data.organisation_id,
                     details={"position_id": position.id, "before": old, "after": new})
    if before != after:
        audit.record(actor, "people.roles_change", user, organisation_id=data.organisation_id,
                     details={"position_id": position.id, "before": sorted(r.value for r in before),
                              "after": sorted(r.value for r in after)})
        org = session.get(Organisation, data.organisation_id)
        user.notice = (f"Vai trò của bạn tại {org.name if org else 'cơ quan'} đã thay đổi: "
                       f"{_role_labels(after)} (trước đây: {_role_labels(before)}).")[:500]
        if actor.id != user.id:
            services.end_all_sessions(user, "roles_change")
    return position


def end_position(actor: User, user: User, position_id: int) -> None:
    position = next((p for p in user.positions if p.id == position_id), None)
    if position is None:
        raise NotFound()
    _check_roles(actor, [accounts.PositionData(organisation_id=position.organisation_id, title=position.title,
                                               roles=list(position.role_set))])
    if position.valid_to is not None:
        raise ValidationFailed({"position": "Chức vụ này đã kết thúc."})
    from portal.timeutil import local_today

    position.valid_to = local_today() - timedelta(days=1)
    services.end_all_sessions(user, "position_end")
    audit.record(actor, "people.position_change", user, organisation_id=position.organisation_id,
                 details={"position_id": position.id, "ended": str(position.valid_to)})


def sign_in_history(actor: User, user: User, limit: int = 100) -> list[AuditEntry]:
    """Sign-ins, failures, lockouts and account changes of one person, newest first."""
    get(actor, user.id)
    return list(session.execute(
        select(AuditEntry).where(AuditEntry.object_type == "users", AuditEntry.object_id == str(user.id),
                                 AuditEntry.action.in_(AUTH_ACTIONS))
        .order_by(AuditEntry.seq.desc()).limit(limit)
    ).scalars())


def open_sessions(user: User) -> list[AuthSession]:
    return list(session.execute(
        select(AuthSession).where(AuthSession.user_id == user.id, AuthSession.ended_at.is_(None))
        .order_by(AuthSession.created_at.desc())
    ).scalars())


def directory_search(actor: User, text: str) -> list[tuple[directory.DirectoryPerson, User | None]]:
    """Directory people matching a name or username, each with the local account it already has."""
    scope(actor)
    settings = services.directory_settings()
    if not settings.enabled:
        raise ValidationFailed({"q": "Hệ thống chưa cấu hình máy chủ danh bạ (PORTAL_LDAP_URL)."})
    people = directory.search(settings, nfc(text) or "")
    ids = [p.directory_id for p in people]
    known = {u.directory_id: u for u in session.execute(select(User).where(User.directory_id.in_(ids))).scalars()} \
        if ids else {}
    return [(p, known.get(p.directory_id)) for p in people]


def directory_person(actor: User, username: str) -> directory.DirectoryPerson:
    scope(actor)
    settings = services.directory_settings()
    person = directory.find(settings, username)
    if person is None:
        raise NotFound()
    return person
