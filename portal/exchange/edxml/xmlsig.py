"""Enveloped XML signatures (XML-DSig) on edXML packages, with lxml's C14N and ``cryptography``.

Where: the real packages carry ``<Signature>`` as the last child of ``edXMLHeader``, after TraceHeaderList, with
``Reference URI=""`` (the whole package, attachments included) and the enveloped-signature transform; ``sign``
puts it there too. Theirs is rsa-sha1 (and, in most samples, left in the edXML namespace); ours is
``http://www.w3.org/2000/09/xmldsig#``, RSA PKCS#1 v1.5 with SHA-256 over the exclusive C14N of SignedInfo.

Signing takes a callable ``sign(data) -> signature`` rather than a key, so any key backend plugs in: a key file
(``key_signer``), or a PKCS#11 token signing with CKM_SHA256_RSA_PKCS. ``verify`` checks the digests and the
signature value against the certificate in X509Data and says who signed; it does not judge trust (chain, usage,
revocation): that is portal.signing's work, given ``SignatureCheck.certificates``. A certificate that is
truncated or broken (the real packages carry the stub ``MIIFqTCCBJG``) gives "không kiểm tra được", never an
exception.
"""

from __future__ import annotations

import base64
import binascii
import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from portal.exchange.edxml.safexml import DEFAULT_LIMITS, Limits, ParseError, child, children, load, local
from portal.exchange.edxml.writer import DECLARATION

DSIG = "http://www.w3.org/2000/09/xmldsig#"
ENVELOPED = DSIG + "enveloped-signature"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"

# algorithm → (exclusive, with comments); "TR/xml-exc-c14n#" is what the real packages write for exclusive C14N
CANONICALISATIONS = {
    C14N: (False, False), C14N + "#WithComments": (False, True),
    EXC_C14N: (True, False), EXC_C14N + "WithComments": (True, True),
    "http://www.w3.org/TR/xml-exc-c14n#": (True, False),
}
DIGESTS = {
    DSIG + "sha1": hashes.SHA1, SHA256: hashes.SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#sha384": hashes.SHA384,
    "http://www.w3.org/2001/04/xmlenc#sha512": hashes.SHA512,
}
SIGNATURES = {
    DSIG + "rsa-sha1": hashes.SHA1, RSA_SHA256: hashes.SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": hashes.SHA384,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": hashes.SHA512,
}
WEAK = (hashes.SHA1,)

Element = etree._Element
Signer = Callable[[bytes], bytes]

LABELS = {"valid": "hợp lệ", "invalid": "không hợp lệ", "unverifiable": "không kiểm tra được",
          "unsigned": "không có chữ ký"}


@dataclass(frozen=True)
class SignatureCheck:
    """``status``: valid, invalid, unverifiable or unsigned; ``label`` says it in Vietnamese; ``reason`` says
    why; ``signer`` is the signing certificate's subject (or the X509SubjectName the package claims, when the
    certificate cannot be read); ``algorithm`` the SignatureMethod's name (``rsa-sha1``)."""

    status: Literal["valid", "invalid", "unverifiable", "unsigned"]
    reason: str
    signer: str | None = None
    algorithm: str | None = None
    certificates: tuple[x509.Certificate, ...] = field(default=(), compare=False, repr=False)

    @property
    def label(self) -> str:
        return LABELS[self.status]

    @property
    def valid(self) -> bool:
        return self.status == "valid"


class _Cannot(Exception):
    """Verification cannot conclude (status unverifiable)."""


class _Broken(Exception):
    """The signature is wrong (status invalid)."""


def key_signer(private_key: rsa.RSAPrivateKey) -> Signer:
    """A key-file backend: RSA PKCS#1 v1.5 with SHA-256."""
    return lambda data: private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def _header(root: Element) -> Element:
    envelope = root if local(root) == "edXMLEnvelope" else child(root, "edXMLEnvelope")
    header = child(envelope, "edXMLHeader")
    if header is None:
        raise ParseError("Gói edXML thiếu edXMLHeader: không có chỗ đặt chữ ký.")
    return header


def _find_signature(root: Element) -> Element | None:
    """The first Signature in edXMLHeader (where the real packages put it), else in the envelope or the root."""
    envelope = root if local(root) == "edXMLEnvelope" else child(root, "edXMLEnvelope")
    for holder in (child(envelope, "edXMLHeader"), envelope, root):
        if (found := child(holder, "Signature")) is not None:
            return found
    return None


def _detach(element: Element) -> None:
    """Remove ``element`` but keep the text after it: lxml drops an element's tail with it, XML-DSig's enveloped
    transform removes the element node only."""
    parent, previous = element.getparent(), element.getprevious()
    if element.tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _position(element: Element) -> list[int]:
    steps = []
    while (parent := element.getparent()) is not None:
        steps.append(parent.index(element))
        element = parent
    return steps[::-1]


def _at(root: Element, steps: list[int]) -> Element:
    for step in steps:
        root = root[step]
    return root


def _canonical(node: Element | etree._ElementTree, algorithm: str, transform: Element | None = None, *,
               drop_comments: bool = False) -> bytes:
    if algorithm not in CANONICALISATIONS:
        raise _Cannot(f"thuật toán chuẩn hoá {algorithm} chưa được hỗ trợ")
    exclusive, comments = CANONICALISATIONS[algorithm]
    comments = comments and not drop_comments
    prefixes = None
    if exclusive and transform is not None and (inclusive := child(transform, "InclusiveNamespaces")) is not None:
        prefixes = (inclusive.get("PrefixList") or "").split() or None
    return etree.tostring(node, method="c14n", exclusive=exclusive, with_comments=comments,
                          inclusive_ns_prefixes=prefixes)


def _referenced(root: Element, signature: Element, reference: Element) -> bytes:
    """The octets a Reference digests: the whole document (URI="") or one element (URI="#id"), after its
    transforms."""
    uri = reference.get("URI")
    tree = copy.deepcopy(root.getroottree())
    copied_root = tree.getroot()
    if uri == "":
        node: Element | etree._ElementTree = tree
    elif uri and uri.startswith("#"):
        ident = uri[1:]
        node = next((el for el in copied_root.iter() if ident in (el.get("Id"), el.get("ID"), el.get("id"))), None)
        if node is None:
            raise _Broken(f"không tìm thấy phần tử được ký (URI {uri})")
    else:
        raise _Cannot(f"tham chiếu URI '{uri}' chưa được hỗ trợ")
    algorithm, transform = C14N, None  # a node-set becomes octets by inclusive C14N, without comments
    for transform_element in children(child(reference, "Transforms"), "Transform"):
        name = transform_element.get("Algorithm", "")
        if name == ENVELOPED:
            _detach(_at(copied_root, _position(signature)))
        elif name in CANONICALISATIONS:
            algorithm, transform = name, transform_element
        else:
            raise _Cannot(f"phép biến đổi {name} chưa được hỗ trợ")
    return _canonical(node, algorithm, transform, drop_comments=uri == "")  # URI="" never includes comments


def _digest(algorithm: str, data: bytes) -> bytes:
    if algorithm not in DIGESTS:
        raise _Cannot(f"thuật toán băm {algorithm} chưa được hỗ trợ")
    digest = hashes.Hash(DIGESTS[algorithm]())
    digest.update(data)
    return digest.finalize()


def _element(parent: Element, name: str, text: str | None = None, **attributes: str) -> Element:
    element = etree.SubElement(parent, f"{{{DSIG}}}{name}", attributes)
    element.text = text
    return element


def sign(package: bytes, signer: Signer, certificate: x509.Certificate,
         chain: Sequence[x509.Certificate] = (), *, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """``package`` with an enveloped signature as the last child of edXMLHeader. ``signer`` receives the
    exclusive C14N of SignedInfo and returns the RSA PKCS#1 v1.5 SHA-256 signature of it."""
    root = load(package, limits)
    header = _header(root)
    if _find_signature(root) is not None:
        raise ValueError("Gói edXML đã có chữ ký (Signature).")
    signature = etree.Element(f"{{{DSIG}}}Signature", nsmap={None: DSIG})
    signed_info = _element(signature, "SignedInfo")
    _element(signed_info, "CanonicalizationMethod", Algorithm=EXC_C14N)
    _element(signed_info, "SignatureMethod", Algorithm=RSA_SHA256)
    reference = _element(signed_info, "Reference", URI="")
    transforms = _element(reference, "Transforms")
    _element(transforms, "Transform", Algorithm=ENVELOPED)
    _element(transforms, "Transform", Algorithm=EXC_C14N)
    _element(reference, "DigestMethod", Algorithm=SHA256)
    digest_value = _element(reference, "DigestValue")
    signature_value = _element(signature, "SignatureValue")
    data = _element(_element(signature, "KeyInfo"), "X509Data")
    _element(data, "X509SubjectName", certificate.subject.rfc4514_string())
    for cert in (certificate, *chain):
        der = cert.public_bytes(serialization.Encoding.DER)
        _element(data, "X509Certificate", base64.b64encode(der).decode("ascii"))
    etree.indent(signature, space="  ", level=len(_position(header)) + 1)
    if len(header):
        signature.tail, header[-1].tail = header[-1].tail, header.text
    header.append(signature)
    digest_value.text = base64.b64encode(_digest(SHA256, _referenced(root, signature, reference))).decode("ascii")
    signature_value.text = base64.b64encode(signer(_canonical(signed_info, EXC_C14N))).decode("ascii")
    return DECLARATION + etree.tostring(root.getroottree(), xml_declaration=False, encoding="UTF-8")


def verify(package: bytes, *, limits: Limits = DEFAULT_LIMITS) -> SignatureCheck:
    """What the package's XML signature is worth; never raises on what a peer sent."""
    try:
        root = load(package, limits)
    except ParseError as exc:
        return SignatureCheck("unverifiable", f"Không kiểm tra được chữ ký: {exc}")
    signature = _find_signature(root)
    if signature is None:
        return SignatureCheck("unsigned", "Gói edXML không có chữ ký XML (Signature).")
    signed_info = child(signature, "SignedInfo")
    method = (child(signed_info, "SignatureMethod") if signed_info is not None else None)
    algorithm_uri = method.get("Algorithm", "") if method is not None else ""
    algorithm = algorithm_uri.rpartition("#")[2] or None
    subject_names = [t for el in signature.iter() if local(el) == "X509SubjectName" and (t := (el.text or "").strip())]
    claimed = subject_names[0] if subject_names else None
    try:
        if signed_info is None:
            raise _Broken("thiếu SignedInfo")
        certificates = _certificates(signature)
        signer, weak = _check(root, signature, signed_info, algorithm_uri, certificates)
    except _Cannot as exc:
        return SignatureCheck("unverifiable", f"Không kiểm tra được chữ ký: {exc}.", claimed, algorithm)
    except _Broken as exc:
        return SignatureCheck("invalid", f"Chữ ký không hợp lệ: {exc}.", claimed, algorithm)
    reason = "Chữ ký hợp lệ về mặt mật mã (chưa xét chuỗi tin cậy và tình trạng thu hồi của chứng thư số)."
    if weak:
        reason += f" Thuật toán {algorithm} đã yếu, không nên dùng cho văn bản mới."
    subject = signer.subject.rfc4514_string()
    ordered = (signer, *(c for c in certificates if c is not signer))
    return SignatureCheck("valid", reason, subject, algorithm, ordered)


def _certificates(signature: Element) -> list[x509.Certificate]:
    texts = [el.text or "" for el in signature.iter() if local(el) == "X509Certificate"]
    if not texts:
        raise _Cannot("chữ ký không kèm chứng thư số (X509Certificate)")
    certificates = []
    for text in texts:
        compact = "".join(text.split())
        try:
            certificates.append(x509.load_der_x509_certificate(base64.b64decode(compact, validate=True)))
        except (binascii.Error, ValueError) as exc:
            shown = compact if len(compact) <= 24 else compact[:24] + "…"
            raise _Cannot(f"chứng thư số trong chữ ký bị cắt cụt hoặc hỏng (X509Certificate '{shown}' không "
                          f"giải mã được: {exc})") from None
    return certificates


def _check(root: Element, signature: Element, signed_info: Element, algorithm_uri: str,
           certificates: list[x509.Certificate]) -> tuple[x509.Certificate, bool]:
    if algorithm_uri not in SIGNATURES:
        raise _Cannot(f"thuật toán ký {algorithm_uri or '(không ghi)'} chưa được hỗ trợ")
    canonicalisation = child(signed_info, "CanonicalizationMethod")
    references = children(signed_info, "Reference")
    if canonicalisation is None or not references:
        raise _Broken("SignedInfo thiếu CanonicalizationMethod hoặc Reference")
    for reference in references:
        method, expected = child(reference, "DigestMethod"), child(reference, "DigestValue")
        digest = _digest("" if method is None else method.get("Algorithm", ""),
                         _referenced(root, signature, reference))
        if _b64("" if expected is None else expected.text) != digest:
            raise _Broken("nội dung gói không khớp với DigestValue: gói đã bị thay đổi sau khi ký")
    value_element = child(signature, "SignatureValue")
    value = _b64(None if value_element is None else value_element.text)
    if not value:
        raise _Broken("SignatureValue thiếu hoặc không phải base64")
    data = _canonical(signed_info, canonicalisation.get("Algorithm", ""), canonicalisation)
    algorithm = SIGNATURES[algorithm_uri]
    rsa_certificates = [c for c in certificates if isinstance(c.public_key(), rsa.RSAPublicKey)]
    if not rsa_certificates:
        raise _Cannot("khoá công khai của chứng thư số không phải RSA")
    for certificate in rsa_certificates:
        try:
            certificate.public_key().verify(value, data, padding.PKCS1v15(), algorithm())
        except InvalidSignature:
            continue
        return certificate, algorithm in WEAK
    raise _Broken("giá trị chữ ký không khớp với chứng thư số kèm theo")


def _b64(text: str | None) -> bytes | None:
    try:
        return base64.b64decode("".join((text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        return None
