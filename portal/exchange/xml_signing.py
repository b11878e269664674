"""The XML signature of an outgoing edXML package (issue 17 item 2): by the organisation's seal key where the
server holds it (development key files, or the province's HSM through PKCS#11); unsigned otherwise, which the
package's record says."""

from __future__ import annotations

from portal.exchange import edxml
from portal.orgs.models import Organisation
from portal.signatures import certificates


def sign_for(org: Organisation, data: bytes) -> bytes:
    found = certificates.xml_signer(org.id)
    if found is None:
        return data
    sign, cert = found
    return edxml.sign(data, sign, cert)
