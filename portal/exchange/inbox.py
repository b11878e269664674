"""The clerk's side of exchange on the incoming pages (issue 17 items 3, 7): "Nhận văn bản" fetches what waits on
the axis now instead of at the next 5-minute poll, and "Nhập gói tin" imports a package received another way
(USB, e-mail) into the clerk's own organisation. Rules here, views are a few lines."""

from __future__ import annotations

from portal.auth.models import Role, User
from portal.errors import NotAllowed, ValidationFailed
from portal.exchange import edxml, receiving, tasks
from portal.orgs.models import Organisation


def may_receive(user: User) -> bool:
    """Clerks of an issuing organisation."""
    org = user.organisation
    return bool(org is not None and org.is_issuing and user.has_role(Role.CLERK))


def _organisation(user: User) -> Organisation:
    if not may_receive(user):
        raise NotAllowed("exchange.receive", "Chỉ văn thư của cơ quan được nhận văn bản liên thông.")
    assert user.organisation is not None
    return user.organisation


def fetch_now(user: User) -> tasks.Poll:
    """Nhận văn bản: one poll of the axis (each package committed on its own)."""
    _organisation(user)
    if receiving.outbound.transport() is None:
        raise ValidationFailed({"axis": "Hệ thống chưa kết nối trục liên thông; liên hệ bộ phận kỹ thuật."})
    return tasks.poll(limit=50)


def import_file(user: User, data: bytes, filename: str) -> receiving.Received:
    """Nhập gói tin: into the clerk's organisation, whatever the package's To says (kept and shown). Refused →
    ``ValidationFailed`` with the reasons, nothing created (the caller rolls back)."""
    org = _organisation(user)
    if not filename.lower().endswith((".edxml", ".xml")):
        raise ValidationFailed({"package": "Hãy chọn tệp gói tin liên thông (.edxml hoặc .xml)."})
    if len(data) > edxml.DEFAULT_LIMITS.max_bytes:
        raise ValidationFailed({"package": "Gói tin quá lớn."})
    result = receiving.receive(data, transport="file", to=org, actor_name=user.full_name)
    if result.refused or result.outcome in ("duplicate", "not_found"):
        raise ValidationFailed({"package": "; ".join(result.reasons) or result.message})
    return result
