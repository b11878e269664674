"""`portal exchange export DOCUMENT_ID --out FILE` (issue 17 item 7): the edXML package of an issued document,
for a recipient reached some other way (USB, e-mail): addressed to every recipient that has an organisation
code (of this portal or outside), the issued PDF and the draft's attachments, signed by the seal's key where the
server holds it."""

from __future__ import annotations

from sqlalchemy import select

from portal import storage
from portal.db import session, utcnow
from portal.documents.models import OutgoingDocument, OutgoingStatus
from portal.errors import NotFound, ValidationFailed
from portal.exchange import delivery
from portal.orgs.models import Organisation


def export(outgoing_id: int) -> bytes:
    from portal.drafts.models import Draft, DraftAttachment, Recipient  # the issuing side's records

    out = session.get(OutgoingDocument, outgoing_id)
    if out is None:
        raise NotFound()
    if out.status != OutgoingStatus.ISSUED or not out.main_file_sha256:
        raise ValidationFailed({"document": "Chỉ xuất gói tin của văn bản đang có hiệu lực (đã phát hành, "
                                            "chưa thu hồi)."})
    org = session.get_one(Organisation, out.organisation_id)
    draft = session.execute(select(Draft).where(Draft.outgoing_id == out.id)).scalars().first()
    to: list[tuple[str, str]] = []
    attachments: list[delivery.File] = []
    if draft is not None:
        rows = session.execute(select(Recipient).where(Recipient.draft_id == draft.id).order_by(Recipient.id))
        for r in rows.scalars():
            if r.organisation_id is not None:
                target = session.get(Organisation, r.organisation_id)
                if target is not None and target.organ_id:
                    to.append((target.organ_id, target.name))
            elif r.method.value == delivery.OTHER_SYSTEM and r.address:
                to.append((r.address.strip(), r.name))
        attachments = [delivery.File(a.filename, storage.read(a.sha256)) for a in session.execute(
            select(DraftAttachment).where(DraftAttachment.draft_id == draft.id,
                                          DraftAttachment.version_number == draft.current_version)
            .order_by(DraftAttachment.id)).scalars()]
    if not to:
        raise ValidationFailed({"document": "Văn bản không có nơi nhận nào có mã định danh cơ quan để ghi vào "
                                            "gói tin."})
    name = f"{out.code_number}-{out.code_notation}.pdf".replace("/", "-")
    main = delivery.File(name, storage.read(out.main_file_sha256))
    return delivery.document_package(out, org, list(dict.fromkeys(to)), main, attachments, now=utcnow())
