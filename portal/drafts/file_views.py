"""The draft's files (SPEC §13.5): every version, attachment, the frozen PDF the signer signs with
their own token software, and the issued document; every view and download is audited."""

from __future__ import annotations

import io

from flask import abort, send_file
from flask_login import current_user, login_required

from portal import audit, storage, viewer
from portal.db import session
from portal.documents.models import OutgoingDocument
from portal.drafts import bp, services
from portal.drafts.models import Draft, DraftAttachment
from portal.params import Choice, Flag, args, query

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


# --- pages beside the actions (issue 18.3) -------------------------------------------------------------------

PAGE_KINDS = ("phat-hanh", "da-ky", "trinh-ky", "du-thao")


def shown_file(draft: Draft) -> tuple[str, str, str] | None:
    """(kind, sha256, title) of what the draft page shows: the issued document, else the signed one, else the
    frozen PDF the signer signs, else the current version when it is a PDF."""
    out = session.get(OutgoingDocument, draft.outgoing_id) if draft.outgoing_id else None
    if out is not None and out.file_sha256:
        return "phat-hanh", out.file_sha256, "Văn bản đã phát hành"
    if draft.signed_sha256:
        return "da-ky", draft.signed_sha256, "Văn bản đã ký"
    if draft.frozen_sha256:
        return "trinh-ky", draft.frozen_sha256, "Bản trình ký"
    versions = services.versions(draft)
    current = next((v for v in versions if v.number == draft.current_version), None)
    if current is not None and viewer.is_pdf(current.filename):
        return "du-thao", current.sha256, f"Dự thảo (phiên bản {current.number})"
    return None


def _png(png: bytes):  # type: ignore[no-untyped-def]
    response = send_file(io.BytesIO(png), mimetype="image/png", max_age=3600)
    response.cache_control.private = True
    return response


@bp.get("/<id:draft_id>/trang/<kind>/<id:page>")
@login_required
@query(Choice("rong", "Độ rộng", [str(w) for w in viewer.WIDTHS]))
def page_image(draft_id: int, kind: str, page: int):
    """One page of what the draft page shows (the viewer beside the actions), for who may see the draft."""
    draft = services.get_visible(current_user, draft_id)
    shown = shown_file(draft)
    if kind not in PAGE_KINDS or shown is None or shown[0] != kind:
        abort(404)
    try:
        return _png(viewer.page_png(shown[1], page - 1, int(args()["rong"] or viewer.DEFAULT_WIDTH)))
    except viewer.PreviewUnavailable as exc:
        return str(exc), 404, {"Content-Type": "text/plain; charset=utf-8"}


@bp.get("/<id:draft_id>/vi-tri-ban-hanh/<id:page>")
@login_required
def placement_preview(draft_id: int, page: int):
    """The signer's and the clerk's preview: the PDF to be signed or issued, with dashed boxes where the signature,
    the number, the date and the seal will be placed (SPEC §7.2)."""
    draft = services.get_visible(current_user, draft_id)
    sha = draft.signed_sha256 or draft.frozen_sha256
    if sha is None or draft.outgoing_id is not None:
        abort(404)
    try:
        boxes = services.placement_boxes(storage.read(sha))
        png = viewer.page_png(sha, page - 1, viewer.DEFAULT_WIDTH)
        return _png(viewer.with_boxes(png, viewer.page_size(sha, page - 1),
                                      [b for b in boxes if b.page == page - 1]))
    except viewer.PreviewUnavailable as exc:
        return str(exc), 404, {"Content-Type": "text/plain; charset=utf-8"}
