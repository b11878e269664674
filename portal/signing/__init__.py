"""Digital signatures (SPEC §7): dev PKI, PAdES signing with NĐ 30 appearances, validation reports.

Bytes in, bytes out: nothing here knows Flask or the database. See docs/SIGNING.md.
"""

from portal.signing.pdfsign import (
    Box,
    Frozen,
    KeyFileSigner,
    Signer,
    SigningError,
    add_number_and_date,
    default_issue_boxes,
    default_signer_box,
    freeze,
    issue,
    sign_personal,
    sign_seal,
)
from portal.signing.pki import CertId, DemoPki, OrgSpec, PersonSpec, cert_fingerprint, init_demo, load_signer
from portal.signing.verification import Report, SignatureReport, UploadRejected, check_signed_upload, verify

__all__ = [
    "Box", "CertId", "DemoPki", "Frozen", "KeyFileSigner", "OrgSpec", "PersonSpec", "Report", "SignatureReport",
    "Signer", "SigningError", "UploadRejected", "add_number_and_date", "cert_fingerprint", "check_signed_upload",
    "default_issue_boxes", "default_signer_box", "freeze", "init_demo", "issue", "load_signer", "sign_personal",
    "sign_seal", "verify",
]
