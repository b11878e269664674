"""The draft's files (SPEC §13.5): every version, attachment, the frozen PDF the signer signs with
their own token software, and the issued document; every view and download is audited."""

from __future__ import annotations

import io

from flask import abort, send_file
from flask_login import current_user, login_required

from portal import audit, storage
from portal.db import session
from portal.documents.models import OutgoingDocument
from portal.drafts import bp, services
from portal.drafts.models import Draft, DraftAttachment
from portal.params import Flag, args, query

DOWNLOAD = Flag("tai", "Tải về")  # ?tai=1: as an attachment, not shown in the browser


# --- files -----------------------------------------------------------------------------------------------

def _send(draft: Draft, data: bytes, filename: str, *, download: bool, what: str, **details: object):  # type: ignore[no-untyped-def]
    """Every view and download of a draft's file is audited (SPEC §13.5)."""
    audit.record(current_user, "drafts.file_download" if download else "drafts.file_view", object_type="drafts",
                 object_id=draft.id, organisation_id=draft.organisation_id, details={"file": what, **details})
    kind = storage.KINDS.get(storage.extension_of(filename))
    return send_file(io.BytesIO(data), mimetype=kind.content_type if kind else "application/octet-stream",
                     as_attachment=download, download_name=filename, max_age=0)


@bp.get("/<id:draft_id>/phien-ban/<id:number>")
@login_required
@query(DOWNLOAD)
def version_file(draft_id: int, number: int):
    draft = services.get_visible(current_user, draft_id)
    version = next((v for v in services.versions(draft) if v.number == number), None)
    if version is None:
        abort(404)
    return _send(draft, storage.read(version.sha256), version.filename, download=args()["tai"],
                 what="version", version=number, sha256=version.sha256)


@bp.get("/<id:draft_id>/dinh-kem/<id:attachment_id>")
@login_required
@query(DOWNLOAD)
def attachment_file(draft_id: int, attachment_id: int):
    draft = services.get_visible(current_user, draft_id)
    row = session.get(DraftAttachment, attachment_id)
    if row is None or row.draft_id != draft.id:
        abort(404)
    return _send(draft, storage.read(row.sha256), row.filename, download=args()["tai"],
                 what="attachment", attachment=row.id, sha256=row.sha256)


@bp.get("/<id:draft_id>/van-ban-phat-hanh")
@login_required
@query(DOWNLOAD)
def issued_file(draft_id: int):
    draft = services.get_visible(current_user, draft_id)
    out = session.get(OutgoingDocument, draft.outgoing_id) if draft.outgoing_id else None
    if out is None or not out.file_sha256:
        abort(404)
    name = f"{out.code_number}-{out.code_notation}.pdf".replace("/", "-")
    return _send(draft, storage.read(out.file_sha256), name, download=args()["tai"],
                 what="issued", sha256=out.file_sha256)


@bp.get("/<id:draft_id>/ban-trinh-ky")
@login_required
def frozen_file(draft_id: int):
    """The frozen PDF the signer signs with their own token software (SPEC §7.4)."""
    draft = services.get_visible(current_user, draft_id)
    data = services.frozen_pdf(current_user, draft)
    return _send(draft, data, f"du-thao-{draft.id}-trinh-ky.pdf", download=True, what="frozen")
