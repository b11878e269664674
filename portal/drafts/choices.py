"""Who may sign a draft and who may receive it electronically: one predicate each, used by the
pickers (what is offered) and by the services (what is accepted), so a forged form meets the
same rule the picker applied.

- **Signer**: an active person holding, today, a position in the draft's organisation with the
  signing role (``Role.AGENCY_LEADER``, "Lãnh đạo cơ quan (người ký)"). A unit head signs TL./TUQ.
  only where the organisation authorises it (SPEC §0, §2.1); positions do not record that
  authority yet, so unit heads are not offered.
- **Recipient in the system**: an organisation of this portal (``is_issuing``, not an ``external``
  node, not closed), never the sender itself. Outside bodies (ministries, other provinces: kind
  ``external``) are recipients of the other kind, by post, e-mail or the national axis.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, or_, select

from portal.auth import accounts
from portal.auth.models import Position, PositionRole, Role, User, UserStatus
from portal.db import session
from portal.drafts.models import Recipient, SendMethod
from portal.errors import ValidationFailed
from portal.orgs import services as orgs
from portal.orgs.models import Organisation, OrgKind
from portal.timeutil import local_today

SIGNING_ROLES = (Role.AGENCY_LEADER,)


def signer_clause(organisation_id: int) -> ColumnElement[bool]:
    today = local_today()
    return and_(User.status == UserStatus.ACTIVE, exists().where(
        Position.user_id == User.id, Position.organisation_id == organisation_id,
        PositionRole.position_id == Position.id, PositionRole.role.in_(SIGNING_ROLES),
        or_(Position.valid_from.is_(None), Position.valid_from <= today),
        or_(Position.valid_to.is_(None), Position.valid_to >= today)))


def is_signer(user_id: int, organisation_id: int) -> bool:
    row = session.execute(select(User.id).where(User.id == user_id, signer_clause(organisation_id))).first()
    return row is not None


def signers(organisation_id: int, q: str = "", limit: int = 15) -> list[User]:
    """The signer picker: filtered in SQL, so a large organisation cannot push its leaders past
    the limit behind other people."""
    stmt = accounts.people_query(organisation_id=organisation_id, q=q[:100]).where(signer_clause(organisation_id))
    return list(session.execute(stmt.limit(limit)).scalars())


def receiving_clause(sender_id: int) -> ColumnElement[bool]:
    today = local_today()
    return and_(Organisation.is_issuing.is_(True), Organisation.kind != OrgKind.EXTERNAL,
                Organisation.id != sender_id, or_(Organisation.valid_to.is_(None), Organisation.valid_to >= today))


def can_receive(org: Organisation | None, sender_id: int) -> bool:
    """The same rule as ``receiving_clause``, for one loaded organisation."""
    return (org is not None and org.is_issuing and org.kind != OrgKind.EXTERNAL and org.id != sender_id
            and (org.valid_to is None or org.valid_to >= local_today()))


def receiving_organisations(sender_id: int, q: str, limit: int = 15) -> list[Organisation]:
    return orgs.search(q[:100], limit=limit, where=receiving_clause(sender_id))


def outside_bodies(q: str, limit: int = 8) -> list[Organisation]:
    """Bodies outside the portal from the shared catalogue: offered as recipients sent by post or
    e-mail (a row of the other kind, name and address filled in)."""
    return orgs.search(q[:100], limit=limit, where=Organisation.kind == OrgKind.EXTERNAL)


def not_receiving(org: Organisation | None) -> str:
    """Why an organisation cannot be a recipient in the system, in the drafter's words."""
    if org is not None and org.kind == OrgKind.EXTERNAL:
        return (f"“{org.name}” là cơ quan ngoài hệ thống, không nhận văn bản điện tử trong hệ thống: "
                "hãy thêm vào nơi nhận ngoài hệ thống (bưu điện, thư điện tử…).")
    return "Nơi nhận trong hệ thống phải là một cơ quan khác đang sử dụng hệ thống."


def check_delivery(recipients: list[Recipient], sender_id: int) -> None:
    """At issuance, before any number is taken: a recipient chosen before this rule, or before its
    organisation left the system, is refused; the clerk returns the draft to have it corrected."""
    for r in recipients:
        code = (r.address or "").strip()
        if r.method == SendMethod.OTHER_SYSTEM and (not code or len(code) > 35 or " " in code):
            raise ValidationFailed({"book_id": f"Nơi nhận “{r.name}” gửi qua trục liên thông cần mã định danh cơ quan "
                                               "(QĐ 20, ví dụ 000.00.00.G22) ở ô địa chỉ. Hãy trả lại người ký để "
                                               "sửa nơi nhận."})
        if r.method == SendMethod.SYSTEM and r.organisation_id is not None:
            org = session.get(Organisation, r.organisation_id)
            if not can_receive(org, sender_id):
                raise ValidationFailed({"book_id": f"{not_receiving(org)} Hãy trả lại người ký để sửa nơi nhận."})
