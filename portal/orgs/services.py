"""Organisation tree rules: identifiers, names, placement in the tree. No Flask here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select

from portal import audit
from portal.auth.models import Role, User
from portal.db import session
from portal.errors import NotAllowed, NotFound, ValidationFailed
from portal.orgs.models import Organisation, OrgKind
from portal.text import fold, nfc

# always fullmatch(): with match(), "$" also accepts a trailing newline
ORGAN_ID_RE = re.compile(r"^[A-Z0-9]+(\.[A-Z0-9]+)*$")
LEGACY_ORGAN_ID_RE = re.compile(r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")
SHORT_NAME_RE = re.compile(r"^[A-ZĐ0-9][A-Za-zĐđ0-9&]*$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^[0-9 +().-]{6,20}$")


def check_organ_id(value: str | None) -> str | None:
    """Mã định danh (QĐ 20/2020, QCVN 102 Sửa đổi 1:2022): at most 35 characters, groups of
    digits and capital letters joined by dots, e.g. ``H27.01``; never parsed by position."""
    if not value:
        return None
    if len(value) > 35:
        return "Mã định danh tối đa 35 ký tự."
    if not ORGAN_ID_RE.fullmatch(value):
        return ("Mã định danh chỉ gồm chữ in hoa không dấu và chữ số, các nhóm cách nhau bởi dấu chấm "
                "(ví dụ H27.01), không có khoảng trắng hay dấu chấm ở đầu, cuối.")
    return None


def check_legacy_organ_id(value: str | None) -> str | None:
    """Mã cũ theo QCVN 102:2016: ``000.00.00.H49`` (13 ký tự)."""
    if not value:
        return None
    if not LEGACY_ORGAN_ID_RE.fullmatch(value):
        return "Mã định danh cũ (QCVN 102:2016) phải có dạng 000.00.00.H49: 3 số, 2 số, 2 số, một chữ in hoa và 2 số."
    return None


def check_short_name(value: str | None) -> str | None:
    """The abbreviation printed in ký hiệu (``UBND``, ``SNV``): capitals and digits, no spaces or
    separators, because "/" and "-" delimit the ký hiệu itself."""
    if not value:
        return "Hãy nhập tên viết tắt (dùng trong ký hiệu văn bản, ví dụ UBND, SNV)."
    if len(value) > 30:
        return "Tên viết tắt tối đa 30 ký tự."
    if not SHORT_NAME_RE.fullmatch(value):
        return ("Tên viết tắt bắt đầu bằng chữ in hoa hoặc số, chỉ gồm chữ và số, không có khoảng trắng, "
                "dấu “/” hay “-” (ví dụ UBND, STTTT).")
    return None


def check_name(value: str | None) -> str | None:
    if not value:
        return "Hãy nhập tên đầy đủ của cơ quan, đơn vị."
    if len(value) > 200:
        return "Tên cơ quan, đơn vị tối đa 200 ký tự."
    if len(value) < 3 or not any(ch.isalpha() for ch in value):
        return "Tên cơ quan, đơn vị phải có ít nhất 3 ký tự và chứa chữ cái."
    return None


@dataclass
class OrgData:
    name: str
    short_name: str
    kind: OrgKind
    is_issuing: bool
    parent_id: int | None = None
    organ_id: str | None = None
    legacy_organ_id: str | None = None
    address: str | None = None
    email: str | None = None
    phone: str | None = None
    fax: str | None = None
    website: str | None = None

    def cleaned(self) -> OrgData:
        def up(v: str | None) -> str | None:
            v = nfc(v)
            return v.upper() if v else None

        return OrgData(
            name=nfc(self.name) or "", short_name=nfc(self.short_name) or "", kind=self.kind,
            is_issuing=self.is_issuing, parent_id=self.parent_id, organ_id=up(self.organ_id),
            legacy_organ_id=up(self.legacy_organ_id), address=nfc(self.address) or None,
            email=nfc(self.email) or None, phone=nfc(self.phone) or None, fax=nfc(self.fax) or None,
            website=nfc(self.website) or None,
        )


def validate(data: OrgData, existing: Organisation | None = None) -> dict[str, str]:
    errors: dict[str, str] = {}
    for field, check in (("name", check_name), ("short_name", check_short_name),
                         ("organ_id", check_organ_id), ("legacy_organ_id", check_legacy_organ_id)):
        message = check(getattr(data, field))
        if message:
            errors[field] = message
    if data.email and (len(data.email) > 100 or not EMAIL_RE.fullmatch(data.email)):
        errors["email"] = "Thư điện tử không hợp lệ (ví dụ vanthu@ninhbinh.gov.vn)."
    for field in ("phone", "fax"):
        value = getattr(data, field)
        if value and not PHONE_RE.fullmatch(value):
            errors[field] = "Số điện thoại/fax chỉ gồm chữ số, khoảng trắng và + ( ) . -, tối đa 20 ký tự."
    if data.address and len(data.address) > 250:
        errors["address"] = "Địa chỉ tối đa 250 ký tự."
    if data.website and len(data.website) > 100:
        errors["website"] = "Trang thông tin điện tử tối đa 100 ký tự."
    if data.kind == OrgKind.INTERNAL_UNIT and data.is_issuing:
        errors["is_issuing"] = "Phòng, ban nội bộ không có con dấu và văn thư riêng."
    if data.parent_id is None and data.kind != OrgKind.EXTERNAL and _has_root(existing):
        errors["parent_id"] = "Chỉ có một gốc là tỉnh; hãy chọn cơ quan cấp trên."
    if data.parent_id is not None and data.kind == OrgKind.EXTERNAL:
        errors["parent_id"] = "Cơ quan ngoài hệ thống không nằm trong cây của tỉnh; để trống cơ quan cấp trên."
    elif data.parent_id is not None:
        parent = session.get(Organisation, data.parent_id)
        if parent is None:
            errors["parent_id"] = "Cơ quan cấp trên không tồn tại."
        elif parent.kind == OrgKind.EXTERNAL:
            errors["parent_id"] = "Không thể đặt đơn vị dưới một cơ quan ngoài hệ thống."
        elif existing is not None and f"/{existing.id}/" in parent.path:
            errors["parent_id"] = "Không thể chọn chính đơn vị này hoặc đơn vị cấp dưới của nó làm cấp trên."
        elif not data.is_issuing and not (parent.is_issuing or parent.owner_id):
            errors["parent_id"] = "Đơn vị nội bộ phải nằm trong một cơ quan."
    for field in ("organ_id", "legacy_organ_id"):
        value = getattr(data, field)
        if value and field not in errors:
            clash = session.execute(
                select(Organisation.id).where(getattr(Organisation, field) == value)
            ).scalar_one_or_none()
            if clash is not None and (existing is None or clash != existing.id):
                errors[field] = f"Mã “{value}” đã được dùng cho một cơ quan khác."
    return errors


def _has_root(existing: Organisation | None) -> bool:
    query = select(func.count()).select_from(Organisation).where(
        Organisation.parent_id.is_(None), Organisation.kind != OrgKind.EXTERNAL
    )
    if existing is not None:
        query = query.where(Organisation.id != existing.id)
    return bool(session.execute(query).scalar_one())


def can_manage_tree(actor: User) -> bool:
    return actor.has_role(Role.SYSTEM_ADMIN)


def _place(org: Organisation, parent: Organisation | None) -> None:
    """Set path, depth and owning organisation from the parent (SPEC §1.1: a unit belongs to its
    nearest issuing ancestor)."""
    org.path = f"{parent.path if parent else '/'}{org.id}/"
    org.depth = parent.depth + 1 if parent else 0
    if org.is_issuing:
        org.owner_id = org.id
    else:
        org.owner_id = parent.owner_id if parent else None


def create(actor: User | None, data: OrgData) -> Organisation:
    """``actor`` None is the system itself (demo seed, imports), still audited."""
    if actor is not None and not can_manage_tree(actor):
        raise NotAllowed("orgs.create")
    data = data.cleaned()
    errors = validate(data)
    if errors:
        raise ValidationFailed(errors)
    org = Organisation(**_fields(data))
    session.add(org)
    session.flush()
    _place(org, session.get(Organisation, data.parent_id) if data.parent_id else None)
    audit.record(actor, "orgs.create", org, organisation_id=org.owner_id, details=_fields(data))
    return org


def update(actor: User, org: Organisation, data: OrgData) -> Organisation:
    if not can_manage_tree(actor):
        raise NotAllowed("orgs.update")
    data = data.cleaned()
    errors = validate(data, existing=org)
    if errors:
        raise ValidationFailed(errors)
    before = {k: getattr(org, k) for k in _fields(data)}
    moved = org.parent_id != data.parent_id or org.is_issuing != data.is_issuing
    for key, value in _fields(data).items():
        setattr(org, key, value)
    if moved:
        _replace_subtree(org)
    changes = {k: [before[k], v] for k, v in _fields(data).items() if before[k] != v}
    audit.record(actor, "orgs.update", org, organisation_id=org.owner_id, details={"changes": changes})
    return org


def _replace_subtree(org: Organisation) -> None:
    old_prefix = org.path
    _place(org, session.get(Organisation, org.parent_id) if org.parent_id else None)
    descendants = session.execute(
        select(Organisation).where(Organisation.path.startswith(old_prefix), Organisation.id != org.id)
        .order_by(Organisation.depth)
    ).scalars()
    for node in descendants:
        _place(node, session.get(Organisation, node.parent_id))


def _fields(data: OrgData) -> dict[str, Any]:
    fields = {k: v for k, v in vars(data).items()}
    fields["name_folded"] = fold(data.name)
    return fields


def get(org_id: int) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound()
    return org


def tree() -> list[Organisation]:
    """Every node in tree order (parents before children, siblings by name), in one query."""
    nodes = list(session.execute(select(Organisation).order_by(Organisation.depth, Organisation.name)).scalars())
    by_parent: dict[int | None, list[Organisation]] = {}
    for node in nodes:
        by_parent.setdefault(node.parent_id, []).append(node)
    ordered: list[Organisation] = []

    def walk(parent_id: int | None) -> None:
        for node in by_parent.get(parent_id, []):
            ordered.append(node)
            walk(node.id)

    walk(None)
    return ordered


def search(query: str, *, issuing_only: bool = False, limit: int = 20,
           where: ColumnElement[bool] | None = None) -> list[Organisation]:
    """Type-ahead over names without diacritics and identifiers (never an unbounded list);
    ``where`` narrows it further (a picker's own rule)."""
    folded = fold(query)
    stmt = select(Organisation)
    if folded:
        stmt = stmt.where(
            Organisation.name_folded.contains(folded, autoescape=True)
            | Organisation.organ_id.startswith(query.strip().upper(), autoescape=True)
            | (func.lower(Organisation.short_name) == folded)
        )
    if issuing_only:
        stmt = stmt.where(Organisation.is_issuing.is_(True))
    if where is not None:
        stmt = stmt.where(where)
    return list(session.execute(stmt.order_by(Organisation.depth, Organisation.name).limit(limit)).scalars())
