"""People, their positions and roles, and server-side sign-in sessions (SPEC §2.1, §13.3).

A person is never deleted: history keeps pointing at them, so "gone" is ``status = disabled``.
Roles sit on positions, not on people, because one person may hold concurrent positions
(kiêm nhiệm) in different units or organisations and picks the working one at sign-in.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, LabelledEnum, UTCDateTime, str_enum, utcnow
from portal.orgs.models import Organisation


class Role(LabelledEnum):
    CLERK = "clerk", "Văn thư"
    OFFICER = "officer", "Chuyên viên"
    UNIT_HEAD = "unit_head", "Lãnh đạo đơn vị"
    AGENCY_LEADER = "agency_leader", "Lãnh đạo cơ quan (người ký)"
    FORMAT_CHECKER = "format_checker", "Kiểm tra thể thức"
    ARCHIVIST = "archivist", "Lưu trữ cơ quan"
    SCHEDULE_EDITOR = "schedule_editor", "Người lập lịch"
    ORG_ADMIN = "org_admin", "Quản trị cơ quan"
    SYSTEM_ADMIN = "system_admin", "Quản trị hệ thống"
    OVERVIEW = "overview", "Theo dõi toàn tỉnh"


ADMIN_ROLES = frozenset({Role.ORG_ADMIN, Role.SYSTEM_ADMIN})


class UserStatus(enum.StrEnum):
    ACTIVE = "active"
    LOCKED = "locked"
    DISABLED = "disabled"

    @property
    def label(self) -> str:
        return {"active": "Đang hoạt động", "locked": "Bị khóa", "disabled": "Đã vô hiệu hóa"}[self.value]


class UserSource(enum.StrEnum):
    LOCAL = "local"
    DIRECTORY = "directory"

    @property
    def label(self) -> str:
        return {"local": "Tài khoản nội bộ", "directory": "Danh bạ tỉnh (LDAP)"}[self.value]


class User(UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (Index("ix_users_full_name_folded", "full_name_folded"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(100))
    full_name_folded: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[UserStatus] = mapped_column(str_enum(UserStatus), default=UserStatus.ACTIVE)
    source: Mapped[UserSource] = mapped_column(str_enum(UserSource), default=UserSource.LOCAL)
    # The directory's stable id (entryUUID / objectGUID): never the DN, which changes on moves.
    directory_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # status LOCKED with locked_until: the automatic lockout after repeated failures, lifted by
    # itself at that moment; with locked_until NULL: locked by IT until IT unlocks.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lock_reason: Mapped[str | None] = mapped_column(String(200))
    # a one-time temporary password (after creation or reset) stops working at this moment
    temporary_password_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # shown once at the next sign-in (for example "your roles changed"), then cleared
    notice: Mapped[str | None] = mapped_column(String(500))

    positions: Mapped[list[Position]] = relationship(
        back_populates="user", order_by="Position.id", cascade="all, delete-orphan"
    )

    # Set per request by the session loader: the position the person works in right now.
    current_position = None  # Position | None (not a column, hence no annotation)
    current_session_id = None  # str | None
    session_last_seen_at = None  # datetime | None, for the idle-expiry warning

    def get_id(self) -> str:
        # flask-login keeps this in the cookie; it names the server-side session, not the user,
        # so ending the AuthSession row ends the cookie's power at once.
        return self.current_session_id or ""

    @property
    def is_active(self) -> bool:
        return self.status == UserStatus.ACTIVE

    def active_positions(self, on: date | None = None) -> list[Position]:
        return [p for p in self.positions if p.is_active(on)]

    @property
    def roles(self) -> frozenset[Role]:
        return self.current_position.role_set if self.current_position else frozenset()

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def organisation(self) -> Organisation | None:
        return self.current_position.organisation if self.current_position else None

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class Position(Base):
    """A post a person holds: organisation, unit, title (chức vụ) and the roles that come with it."""

    __tablename__ = "positions"
    __table_args__ = (
        Index("ix_positions_user_id", "user_id"),
        Index("ix_positions_organisation_id", "organisation_id"),
        Index("ix_positions_unit_id", "unit_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    title: Mapped[str] = mapped_column(String(100))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=True)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)

    user: Mapped[User] = relationship(back_populates="positions")
    organisation: Mapped[Organisation] = relationship(foreign_keys=[organisation_id])
    unit: Mapped[Organisation | None] = relationship(foreign_keys=[unit_id])
    roles: Mapped[list[PositionRole]] = relationship(
        back_populates="position", cascade="all, delete-orphan", order_by="PositionRole.role"
    )

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(r.role for r in self.roles)

    def is_active(self, on: date | None = None) -> bool:
        from portal.timeutil import local_today

        today = on or local_today()
        return (self.valid_from is None or self.valid_from <= today) and (
            self.valid_to is None or today <= self.valid_to
        )


class PositionRole(Base):
    __tablename__ = "position_roles"
    __table_args__ = (
        UniqueConstraint("position_id", "role"),
        Index("ix_position_roles_role", "role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position_id: Mapped[int] = mapped_column(ForeignKey("positions.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(str_enum(Role))

    position: Mapped[Position] = relationship(back_populates="roles")


class AuthFailure(Base):
    """One failed sign-in against an existing account; the lockout counts these in a sliding
    window (SPEC §13.3). A success clears them."""

    __tablename__ = "auth_failures"
    __table_args__ = (Index("ix_auth_failures_user_id_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(45))


class PasswordHistory(Base):
    """Hashes of a person's earlier passwords, so the last N are refused (SPEC §13.2)."""

    __tablename__ = "password_history"
    __table_args__ = (Index("ix_password_history_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuthSession(Base):
    """A server-side sign-in session. The cookie carries a random token; only its SHA-256 is
    stored, so a database dump cannot be replayed as a cookie. Ending a row (sign-out, lock,
    password change) ends that session everywhere at once."""

    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_user_id", "user_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    position_id: Mapped[int | None] = mapped_column(ForeignKey("positions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(30))

    user: Mapped[User] = relationship()
    position: Mapped[Position | None] = relationship()
