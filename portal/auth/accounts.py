"""People and their positions: validation and creation. Issue 3's account administration
(provisioning from the directory, lock, reset) builds on these. No Flask here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from portal import audit
from portal.auth import passwords
from portal.auth.models import Position, PositionRole, Role, User, UserSource, UserStatus
from portal.db import session, utcnow
from portal.errors import ValidationFailed
from portal.orgs.models import Organisation, OrgKind
from portal.text import fold, nfc

# always fullmatch(): with match(), "$" also accepts a trailing newline
USERNAME_RE = re.compile(r"^[a-z0-9._-]{1,64}$")
# letters of any script (Vietnamese included), spaces, and the hyphen/apostrophe some names carry
NAME_RE = re.compile(r"^[^\W\d_]+(?:[ '-][^\W\d_]+)+$")


def check_username(value: str | None) -> str | None:
    if not value:
        return "Hãy nhập tên đăng nhập."
    if not USERNAME_RE.fullmatch(value):
        return "Tên đăng nhập chỉ gồm chữ thường không dấu, chữ số và . _ -, tối đa 64 ký tự."
    return None


def check_full_name(value: str | None) -> str | None:
    """Họ và tên as printed under a signature (SignerInfo FullName, 50 characters)."""
    if not value:
        return "Hãy nhập họ và tên."
    if len(value) > 50:
        return "Họ và tên tối đa 50 ký tự."
    if not NAME_RE.fullmatch(value):
        return "Họ và tên gồm ít nhất hai từ, chỉ có chữ cái (có dấu) và khoảng trắng, ví dụ Nguyễn Thị Hương."
    return None


def check_title(value: str | None) -> str | None:
    if not value:
        return "Hãy nhập chức vụ."
    if len(value) > 100:
        return "Chức vụ tối đa 100 ký tự."
    return None


@dataclass
class PositionData:
    organisation_id: int
    title: str
    roles: list[Role]
    unit_id: int | None = None
    is_primary: bool = True
    valid_from: date | None = None


@dataclass
class PersonData:
    username: str
    full_name: str
    positions: list[PositionData] = field(default_factory=list)
    email: str | None = None
    phone: str | None = None
    source: UserSource = UserSource.LOCAL
    directory_id: str | None = None


def validate(data: PersonData) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, check in (("username", check_username), ("full_name", check_full_name)):
        message = check(getattr(data, name))
        if message:
            errors[name] = message
    if "username" not in errors and session.execute(
        select(User.id).where(User.username == data.username)
    ).first():
        errors["username"] = f"Tên đăng nhập “{data.username}” đã có người dùng."
    if not data.positions:
        errors["positions"] = "Mỗi người cần ít nhất một chức vụ."
    for pos in data.positions:
        errors.update(validate_position(pos))
    return errors


def validate_position(pos: PositionData) -> dict[str, str]:
    errors: dict[str, str] = {}
    message = check_title(pos.title)
    if message:
        errors["title"] = message
    org = session.get(Organisation, pos.organisation_id)
    if org is None or not org.is_issuing or org.kind == OrgKind.EXTERNAL:
        errors["organisation_id"] = "Hãy chọn một cơ quan (có văn thư, con dấu riêng)."
    if pos.unit_id is not None:
        unit = session.get(Organisation, pos.unit_id)
        if unit is None or unit.is_issuing or unit.owner_id != pos.organisation_id:
            errors["unit_id"] = "Phòng, ban phải thuộc chính cơ quan đã chọn."
    if not pos.roles:
        errors["roles"] = "Hãy chọn ít nhất một vai trò."
    return errors


def create_person(actor: User | None, data: PersonData, password: str | None = None) -> User:
    """A new account with its positions. Local accounts get a hash; without a password the
    account cannot sign in until IT sets one (issue 3's reset)."""
    data.username = (nfc(data.username) or "").lower()
    data.full_name = nfc(data.full_name) or ""
    errors = validate(data)
    if errors:
        raise ValidationFailed(errors)
    user = User(
        username=data.username, full_name=data.full_name, full_name_folded=fold(data.full_name),
        email=nfc(data.email) or None, phone=nfc(data.phone) or None, source=data.source,
        directory_id=data.directory_id, status=UserStatus.ACTIVE,
        password_hash=passwords.hash_password(password) if password else None,
        password_changed_at=utcnow() if password else None,
    )
    for pos in data.positions:
        position = Position(organisation_id=pos.organisation_id, unit_id=pos.unit_id, title=nfc(pos.title) or "",
                            is_primary=pos.is_primary, valid_from=pos.valid_from)
        position.roles = [PositionRole(role=role) for role in dict.fromkeys(pos.roles)]
        user.positions.append(position)
    session.add(user)
    session.flush()
    roles = sorted({role.value for pos in data.positions for role in pos.roles})
    audit.record(actor, "people.create", user, organisation_id=data.positions[0].organisation_id,
                 details={"username": user.username, "roles": roles})
    return user


def people_query(*, organisation_id: int | None = None, q: str = "") -> Select[tuple[User]]:
    stmt = select(User).options(
        selectinload(User.positions).selectinload(Position.roles),
        selectinload(User.positions).selectinload(Position.organisation),
        selectinload(User.positions).selectinload(Position.unit),
    )
    if organisation_id is not None:
        stmt = stmt.where(User.positions.any(Position.organisation_id == organisation_id))
    folded = fold(q)
    if folded:
        stmt = stmt.where(User.full_name_folded.contains(folded, autoescape=True)
                          | User.username.contains(folded, autoescape=True))
    return stmt.order_by(User.full_name_folded, User.id)


def list_people(*, organisation_id: int | None = None, q: str = "", limit: int = 50) -> list[User]:
    return list(session.execute(people_query(organisation_id=organisation_id, q=q).limit(limit)).scalars())
