"""The phiếu giải quyết as a PDF (SPEC §5.7): anyone who may see the document may print it."""

from __future__ import annotations

from io import BytesIO

from flask import send_file
from flask_login import current_user, login_required

from portal import audit
from portal.incoming import bp, pdf, services


@bp.get("/<id:document_id>/phieu.pdf", endpoint="slip")
@login_required
def slip(document_id: int):  # type: ignore[no-untyped-def]
    """Opens in the browser (inline) for printing; the print is audited like a file view."""
    doc = services.get_visible(current_user, document_id)  # NotFound → 404
    data = pdf.slip_data(doc)
    content = pdf.build_slip_pdf(data)  # before the audit row, which holds the chain's head until commit
    audit.record(current_user, "incoming.slip_printed", doc, organisation_id=doc.organisation_id)
    response = send_file(BytesIO(content), mimetype="application/pdf", as_attachment=False,
                         download_name=f"phieu-giai-quyet-{data.arrival_number or 'chua-vao-so'}.pdf")
    response.headers["Cache-Control"] = "private, no-store"  # directives are not for shared caches
    return response
