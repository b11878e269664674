"""The province's names, read from its own row: the root of the organisation tree (SPEC §1.1).

The header shows "Tỉnh Ninh Bình" and the date line of an issued document reads "Ninh Bình, ngày …
tháng … năm …". Both come from the root organisation's name ("Ủy ban nhân dân tỉnh Ninh Bình", or
"Tỉnh Ninh Bình" where the root is named after the province itself), so a province that renames or
merges changes one row, not a setting that names another province. The settings PROVINCE_NAME and
PLACE_NAME only override what the row says (a city that prints "Thành phố Huế" in its header, say).
"""

from __future__ import annotations

from sqlalchemy import select

from portal.db import session
from portal.orgs.models import Organisation, OrgKind

# what precedes the province in its people's committee's name: "Ủy ban nhân dân tỉnh Ninh Bình"
_BODY_PREFIXES = ("ủy ban nhân dân ", "uỷ ban nhân dân ", "ubnd ")
# what precedes the place itself: NĐ 30 Phụ lục I II.4 prints the proper name only ("Ninh Bình, ngày …")
_LEVEL_PREFIXES = ("tỉnh ", "thành phố ")


def root_name() -> str:
    """The name of the tree's one root (externals have no parent either, but are not the province);
    empty before any organisation exists."""
    name = session.execute(select(Organisation.name).where(
        Organisation.parent_id.is_(None), Organisation.kind != OrgKind.EXTERNAL
    ).order_by(Organisation.id).limit(1)).scalar_one_or_none()
    return name or ""


def province_label(name: str) -> str:
    """ "Ủy ban nhân dân tỉnh Ninh Bình" → "Tỉnh Ninh Bình"; a name without the body's prefix stays."""
    name = " ".join(name.split())
    for prefix in _BODY_PREFIXES:
        if name.lower().startswith(prefix):
            name = name[len(prefix):]
            break
    return name[:1].upper() + name[1:]


def place_label(province: str) -> str:
    """ "Tỉnh Ninh Bình" → "Ninh Bình", "Thành phố Hà Nội" → "Hà Nội": the địa danh of the date line."""
    for prefix in _LEVEL_PREFIXES:
        if province.lower().startswith(prefix):
            return province[len(prefix):]
    return province


def province_name(override: str | None = None) -> str:
    return (override or "").strip() or province_label(root_name())


def place_name(override: str | None = None, province_override: str | None = None) -> str:
    """The place of the date line: PLACE_NAME if set, else the province's name without its level."""
    return (override or "").strip() or place_label(province_name(province_override))
