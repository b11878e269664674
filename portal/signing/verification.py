"""Validation: per-signature reports in Vietnamese (SPEC §7.5) and the checks on a signed upload (§7.4).

Trust comes only from the roots passed in (NEAC, the specialised CA, or the dev root in tests), never from the
operating system's list. No revocation information is fetched here (``allow_fetching=False``): the report says
so instead of pretending ("Chưa kiểm tra"), and the validation context is soft-fail.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from io import BytesIO
from zoneinfo import ZoneInfo

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, DiffResult, ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from portal.signing import revisions, timestamps
from portal.signing.pki import CertId, cert_fingerprint, to_asn1

VN_TIME = ZoneInfo("Asia/Ho_Chi_Minh")
VALID, INVALID, INDETERMINATE = "Hợp lệ", "Không hợp lệ", "Chưa xác định"
ADDED = "Có dữ liệu được thêm sau khi ký"  # data appended after the last signature that is not signature data
ADDED_LABEL = "Dữ liệu thêm sau khi ký"
YES, NO, UNKNOWN = "Có", "Không", "Chưa xác định"
SIGNING_USAGE = frozenset({"digital_signature", "non_repudiation"})

MODIFICATION_TEXT = {
    ModificationLevel.NONE: "không có thay đổi",
    ModificationLevel.LTA_UPDATES: "chỉ bổ sung dữ liệu kiểm tra chữ ký",
    ModificationLevel.FORM_FILLING: "chỉ thêm chữ ký số, số và ngày văn bản (trường chữ ký)",
    ModificationLevel.ANNOTATIONS: "thêm chú thích",
    ModificationLevel.OTHER: "có thay đổi khác, có thể đã sửa nội dung",
}

LABELS = [
    ("nguoi_ky", "Người ký"), ("to_chuc_cap", "Tổ chức cấp"), ("so_hieu_chung_thu", "Số hiệu chứng thư"),
    ("thoi_gian_ky", "Thời gian ký"), ("dau_thoi_gian", timestamps.LABEL),
    ("thoi_han_chung_thu", "Thời hạn chứng thư"), ("toan_ven", "Toàn vẹn"),
    ("hop_le_tai_thoi_diem_ky", "Hợp lệ tại thời điểm ký"), ("chuoi_tin_cay", "Chuỗi tin cậy"),
    ("pham_vi_ky", "Phạm vi ký"), ("them_sau_khi_ky", ADDED_LABEL), ("tinh_trang_thu_hoi", "Tình trạng thu hồi"),
    ("ket_luan", "Kết luận"),
]


class UploadRejected(Exception):
    """A signed upload that fails SPEC §7.4; ``str(exc)`` is the Vietnamese reason shown to the user."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


# One message per reason (SPEC §7.4 (a)–(f)); the code goes into the audit row.
REJECT = {
    "not_incremental": "Tệp tải lên không phải là bản nối tiếp của tệp đã chốt: nội dung gốc đã bị thay đổi "
                       "hoặc tệp được lưu lại toàn bộ. Hãy ký đúng tệp đã tải về, không chỉnh sửa.",
    "no_new_signature": "Tệp tải lên chưa có chữ ký số mới.",
    "several_signatures": "Tệp tải lên có {n} chữ ký số mới; mỗi lần chỉ được ký đúng một chữ ký.",
    "unreadable_signature": "Không đọc được chữ ký số trong tệp tải lên: {detail}",
    "not_intact": "Chữ ký số không toàn vẹn: nội dung tệp đã bị thay đổi sau khi ký.",
    "bad_signature": "Chữ ký số không hợp lệ về mật mã (giá trị chữ ký không khớp với chứng thư).",
    "not_trusted": "Chứng thư số không thuộc chuỗi tin cậy (không do tổ chức cung cấp dịch vụ chứng thực "
                   "được công nhận cấp), dù tên người ký có thể trùng.",
    "not_registered": "Chứng thư số dùng để ký không phải chứng thư đã đăng ký cho người (hoặc cơ quan) "
                      "thực hiện bước ký này.",
    "not_valid_at_signing": "Chứng thư số không còn hiệu lực (hết hạn hoặc chưa có hiệu lực) tại thời điểm ký.",
    "key_usage": "Chứng thư số không được phép dùng để ký số (thiếu mục đích digitalSignature/nonRepudiation).",
    "revoked": "Chứng thư số đã bị thu hồi.",
    "other_changes": "Ngoài chữ ký mới, tệp tải lên còn có thay đổi khác ({detail}); không chấp nhận.",
}


def _reject(code: str, **kw) -> UploadRejected:
    return UploadRejected(REJECT[code].format(**kw), code)


@dataclass
class SignatureReport:
    field_name: str
    nguoi_ky: str
    to_chuc_cap: str
    so_hieu_chung_thu: str
    thoi_gian_ky: str
    thoi_han_chung_thu: str
    toan_ven: str
    hop_le_tai_thoi_diem_ky: str
    chuoi_tin_cay: str
    pham_vi_ky: str
    tinh_trang_thu_hoi: str
    ket_luan: str
    # machine-readable
    intact: bool
    valid: bool
    trusted: bool
    covers_whole_file: bool
    modification_level: str | None
    docmdp_ok: bool | None
    valid_at_signing_time: bool | None
    key_usage_ok: bool
    revoked: bool
    signer: CertId | None
    signed_at: dt.datetime | None
    problems: list[str] = field(default_factory=list)
    certificate_der: str | None = None  # base64, kept with the stored report (SPEC §7.5)
    them_sau_khi_ky: str = NO  # "Có dữ liệu được thêm sau khi ký: …" (issue 16.3)
    dau_thoi_gian: str = timestamps.NONE  # the RFC 3161 timestamp: its time, its TSA, trusted or not (16.4)
    timestamp_at: dt.datetime | None = None  # the token's time, when the signature carries one
    timestamp_trusted: bool = False  # intact, valid and chained to a trusted (TSA) root

    @property
    def verdict(self) -> str:
        return self.ket_luan

    def lines(self) -> list[tuple[str, str]]:
        """(Vietnamese label, value) in display order."""
        return [(label, getattr(self, key)) for key, label in LABELS]

    def to_dict(self) -> dict:
        data = asdict(self)
        data["signer"] = self.signer.to_dict() if self.signer else None
        data["signed_at"] = self.signed_at.isoformat() if self.signed_at else None
        data["timestamp_at"] = self.timestamp_at.isoformat() if self.timestamp_at else None
        return data


@dataclass
class Report:
    signatures: list[SignatureReport]
    added: list[str] = field(default_factory=list)  # what came after the last signature besides signature data

    @property
    def verdict(self) -> str:
        """Worst of the signatures; a file without signatures is "Chưa xác định"."""
        verdicts = {s.ket_luan for s in self.signatures}
        if not verdicts:
            return INDETERMINATE
        for v in (INVALID, ADDED, INDETERMINATE):
            if v in verdicts:
                return v
        return VALID

    def to_dict(self) -> dict:
        return {"ket_luan": self.verdict, "them_sau_khi_ky": self.added,
                "chu_ky": [s.to_dict() for s in self.signatures]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


# --- helpers --------------------------------------------------------------------------------------------

def _vn(moment: dt.datetime | None) -> str:
    return moment.astimezone(VN_TIME).isoformat(timespec="seconds") if moment else UNKNOWN


def _name_part(name: x509.Name, oid) -> str | None:
    attrs = name.get_attributes_for_oid(oid)
    return str(attrs[0].value) if attrs else None


def _display(name: x509.Name) -> str:
    cn = _name_part(name, x509.NameOID.COMMON_NAME)
    org = _name_part(name, x509.NameOID.ORGANIZATION_NAME)
    return ", ".join(p for p in (cn, org if org != cn else None) if p) or name.rfc4514_string()


def _key_usage_ok(cert: x509.Certificate) -> bool:
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True  # no restriction at all (RFC 5280 4.2.1.3)
    return ku.digital_signature or ku.content_commitment


def _validation_context(trust_roots, at: dt.datetime | None, extra_certs=()) -> ValidationContext:
    roots = [to_asn1(c) if isinstance(c, x509.Certificate) else c for c in trust_roots]
    return ValidationContext(trust_roots=roots, other_certs=list(extra_certs), moment=at, allow_fetching=False,
                             revocation_mode="soft-fail")


def _coverage_text(status: PdfSignatureStatus | None) -> str:
    if status is None or status.coverage is None:
        return UNKNOWN
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return "Toàn bộ tệp"
    if status.coverage == SignatureCoverageLevel.ENTIRE_REVISION:
        level = status.modification_level
        what = MODIFICATION_TEXT.get(level, "chưa phân tích được") if level is not None else "chưa phân tích được"
        ok = "được phép" if status.docmdp_ok else "KHÔNG được phép"
        return f"Không phải toàn bộ tệp: sau khi ký có cập nhật bổ sung ({what}; {ok})"
    return "Không rõ ràng: vùng ký không liền mạch từ đầu tệp"


def _report(embedded: EmbeddedPdfSignature, status: PdfSignatureStatus | None, error: str | None) -> SignatureReport:
    problems = [error] if error else []
    try:
        cert = x509.load_der_x509_certificate(embedded.signer_cert.dump())
    except Exception:  # a CMS blob without a usable signer certificate
        cert = None
    signed_at = None
    tst = status.timestamp_validity if status is not None else None
    stamped = timestamps.trusted(tst)  # only a trusted timestamp stands for the signing time
    if status is not None:
        signed_at = tst.timestamp if stamped else status.signer_reported_dt
    if signed_at is None:
        with contextlib.suppress(Exception):  # an unreadable /M simply stays unknown
            signed_at = embedded.self_reported_timestamp
    intact = bool(status and status.intact)
    valid = bool(status and status.valid)
    trusted = bool(status and status.trusted)
    revoked = bool(status and status.revoked)
    key_usage_ok = bool(cert and _key_usage_ok(cert))
    valid_at = None
    if cert is not None and signed_at is not None:
        valid_at = cert.not_valid_before_utc <= signed_at <= cert.not_valid_after_utc
    whole = bool(status and status.coverage == SignatureCoverageLevel.ENTIRE_FILE)
    level = status.modification_level if status is not None else None
    docmdp_ok = status.docmdp_ok if status is not None else None

    if not intact:
        problems.append("Nội dung đã bị thay đổi sau khi ký.")
    elif not valid:
        problems.append("Giá trị chữ ký không khớp.")
    if docmdp_ok is False:
        problems.append("Có thay đổi không được phép sau khi ký.")
    if valid_at is False:
        problems.append("Chứng thư không có hiệu lực tại thời điểm ký.")
    if not key_usage_ok:
        problems.append("Chứng thư không được phép dùng để ký số.")
    if tst is not None and not stamped:
        problems.append(timestamps.UNTRUSTED)
    if status is not None and not status.trusted and intact and valid:
        indic = status.trust_problem_indic
        problems.append(timestamps.EXPIRED if indic and indic.name.startswith("OUT_OF_BOUNDS") else
                        f"Không xây dựng được chuỗi tin cậy ({indic.name if indic else 'không rõ'}).")

    if not intact or not valid or docmdp_ok is False or revoked or valid_at is False or not key_usage_ok:
        verdict = INVALID
    elif trusted and status is not None and status.bottom_line:
        verdict = VALID
    else:
        verdict = INDETERMINATE

    if trusted and status is not None and status.validation_path is not None:
        anchor = status.validation_path[0]
        chain = f"{YES} (đến {anchor.subject.human_friendly})"
    else:
        chain = NO if status is not None and intact and valid else UNKNOWN
    return SignatureReport(
        field_name=embedded.field_name,
        nguoi_ky=_display(cert.subject) if cert else UNKNOWN,
        to_chuc_cap=_display(cert.issuer) if cert else UNKNOWN,
        so_hieu_chung_thu=format(cert.serial_number, "X") if cert else UNKNOWN,
        thoi_gian_ky=_vn(signed_at) + ("" if status is None or stamped else " (do người ký khai)"),
        dau_thoi_gian=timestamps.describe(tst), timestamp_at=tst.timestamp if tst is not None else None,
        timestamp_trusted=stamped,
        thoi_han_chung_thu=(f"từ {_vn(cert.not_valid_before_utc)} đến {_vn(cert.not_valid_after_utc)}"
                            if cert else UNKNOWN),
        toan_ven=YES if intact else NO,
        hop_le_tai_thoi_diem_ky={True: YES, False: NO, None: UNKNOWN}[valid_at],
        chuoi_tin_cay=chain,
        pham_vi_ky=_coverage_text(status),
        tinh_trang_thu_hoi="Đã bị thu hồi" if revoked else "Chưa kiểm tra (không có CRL/OCSP kèm theo)",
        ket_luan=verdict,
        intact=intact, valid=valid, trusted=trusted, covers_whole_file=whole,
        modification_level=level.name if level is not None else None, docmdp_ok=docmdp_ok,
        valid_at_signing_time=valid_at, key_usage_ok=key_usage_ok, revoked=revoked,
        signer=cert_fingerprint(cert) if cert else None, signed_at=signed_at, problems=problems,
        certificate_der=base64.b64encode(embedded.signer_cert.dump()).decode() if cert else None,
    )


def _validate(embedded: EmbeddedPdfSignature, trust_roots, at,
              tsa_roots=()) -> tuple[PdfSignatureStatus | None, str | None]:
    """pyHanko's validation. A signature timestamp is validated at ``at`` (now) against the roots plus the TSA
    roots; when it holds, the signer's certificate is checked at the timestamp's time, not at ``at``: that is
    what keeps a timestamped signature valid after its certificate expired (PAdES B-T)."""
    try:
        usage = KeyUsageConstraints(key_usage=set(SIGNING_USAGE), match_all_key_usages=False)
        ts_context = _validation_context([*trust_roots, *tsa_roots], at, embedded.other_embedded_certs)
        stamped = timestamps.token_time(embedded.signer_info)  # not yet validated: checked just below
        moment = stamped if stamped is not None and (at is None or stamped <= at) else at

        def run(when):
            context = _validation_context(trust_roots, when, embedded.other_embedded_certs)
            return validate_pdf_signature(embedded, context, ts_context, key_usage_settings=usage)

        status = run(moment)
        if moment is not at and not timestamps.trusted(status.timestamp_validity):
            status = run(at)  # an untrusted timestamp earns nothing: the certificate is checked at ``at``
        return status, None
    except Exception as exc:  # malformed CMS, unsupported algorithm, broken xref...
        return None, f"Không kiểm tra được chữ ký: {exc}"


def _signatures(pdf: bytes) -> list[EmbeddedPdfSignature]:
    return list(PdfFileReader(BytesIO(pdf), strict=False).embedded_regular_signatures)


def verify(pdf: bytes, trust_roots: list, *, at: dt.datetime | None = None, tsa_roots=()) -> Report:
    """One report per signature, in file order. ``trust_roots``: ``cryptography`` or asn1crypto certificates;
    ``tsa_roots`` are trusted for signature timestamps only (``timestamps.TsaPolicy.roots``)."""
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    reports = []
    for embedded in reader.embedded_regular_signatures:
        status, error = _validate(embedded, trust_roots, at, tsa_roots)
        reports.append(_report(embedded, status, error))
    added = _added(reader) if reports else []
    if added:
        text = f"{revisions.HEADING}: {'; '.join(added)}"
        for report in reports:  # every signature precedes what was added after the last one
            report.them_sau_khi_ky = text
            report.problems.append(text)
            if not report.covers_whole_file:
                report.pham_vi_ky = f"Không phải toàn bộ tệp: {text[0].lower()}{text[1:]}"
            if report.ket_luan != INVALID:
                report.ket_luan = ADDED
    return Report(reports, added)


def _added(reader: PdfFileReader) -> list[str]:
    """Issue 16.3, after pyHanko's own verdict; a file whose later revisions cannot be read is not passed."""
    try:
        return revisions.added_after_signing(reader)
    except Exception as exc:
        return [f"không phân tích được các lần cập nhật sau khi ký ({str(exc)[:200]})"]


def check_signed_upload(frozen: bytes, upload: bytes, expected: CertId, trust_roots: list, *,
                        at: dt.datetime | None = None, tsa_roots=()) -> SignatureReport:
    """SPEC §7.4 (a)–(f): accept a PDF signed outside the portal, or raise ``UploadRejected`` with the reason.
    (g), the one-time ticket, belongs to the caller's transaction."""
    if upload == frozen:
        raise _reject("no_new_signature")
    if not upload.startswith(frozen):  # (a) the frozen bytes must be an exact prefix
        raise _reject("not_incremental")
    try:
        old_count = len(_signatures(frozen))
        reader = PdfFileReader(BytesIO(upload), strict=False)
        signatures = list(reader.embedded_regular_signatures)
    except Exception as exc:
        raise _reject("unreadable_signature", detail=str(exc)) from exc
    new = signatures[old_count:]
    if not new:  # (b)
        raise _reject("no_new_signature")
    if len(new) > 1:
        raise _reject("several_signatures", n=len(new))
    embedded = new[0]
    status, error = _validate(embedded, trust_roots, at, tsa_roots)
    if status is None:
        raise _reject("unreadable_signature", detail=error)
    report = _report(embedded, status, None)
    if not status.intact:  # (c)
        raise _reject("not_intact")
    if not status.valid:
        raise _reject("bad_signature")
    if report.valid_at_signing_time is False:  # (e), before the trust path, which would also fail on it
        raise _reject("not_valid_at_signing")
    if not report.key_usage_ok:
        raise _reject("key_usage")
    if status.revoked:
        raise _reject("revoked")
    if not status.trusted:  # (c)
        raise _reject("not_trusted")
    signer = report.signer
    if signer is None or (signer.issuer, signer.serial, signer.spki_sha256) != (
            expected.issuer, expected.serial, expected.spki_sha256):  # (d): never by name
        raise _reject("not_registered")
    # (f): the new signature covers the whole upload, and frozen → upload added nothing but its field
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        raise _reject("other_changes", detail="có cập nhật sau chữ ký mới")
    base = PdfFileReader(BytesIO(frozen), strict=False).xrefs.total_revisions - 1
    problem = _changes_besides(reader, base, embedded.field_name)
    if problem:
        raise _reject("other_changes", detail=problem)
    for earlier in signatures[:old_count]:
        earlier_status, _ = _validate(earlier, trust_roots, at, tsa_roots)
        if earlier_status is None or not earlier_status.intact or earlier_status.docmdp_ok is False:
            raise _reject("other_changes", detail=f"chữ ký trước đó ({earlier.field_name}) bị ảnh hưởng")
    return report


def _raw_items(array: generic.ArrayObject) -> list:
    return [array.raw_get(i) for i in range(len(array))]


def _norm(obj):
    """A comparable form of a PDF object that does not follow indirect references."""
    if isinstance(obj, generic.IndirectObject | generic.Reference):
        return ("ref", obj.idnum, obj.generation)
    if isinstance(obj, generic.StreamObject):
        return ("stream", _norm_dict(obj), bytes(obj.encoded_data or b""))
    if isinstance(obj, generic.DictionaryObject):
        return _norm_dict(obj)
    if isinstance(obj, generic.ArrayObject):
        return [_norm(v) for v in _raw_items(obj)]
    return (type(obj).__name__, repr(obj))


def _norm_dict(d: generic.DictionaryObject) -> dict:
    return {k: _norm(d.raw_get(k)) for k in d}


def _annots(page: generic.DictionaryObject) -> list:
    if "/Annots" not in page:
        return []
    return _norm(page["/Annots"])


def _changes_besides(reader: PdfFileReader, base: int, field_name: str) -> str | None:
    """(f): between the frozen revision ``base`` and the end of the file, only the new signature field and
    its appearance may appear. With a form already in the frozen file, pyHanko's diff policy judges it;
    without one (the first signature) that policy has nothing to compare, so the same rule is checked
    directly: the catalog gains /AcroForm (and /Extensions, /Version, /DSS), pages gain the widget in
    /Annots, /Info may change, nothing else that existed is overwritten, and the form holds just that one
    signature field."""
    old = reader.get_historical_resolver(base)
    if "/AcroForm" in old.root:
        diff = DEFAULT_DIFF_POLICY.review_file(reader, base)
        if not isinstance(diff, DiffResult):
            return str(diff)
        extra = set(diff.changed_form_fields) - {field_name}
        if diff.modification_level.value > ModificationLevel.FORM_FILLING.value or extra:
            return ", ".join(sorted(extra)) or MODIFICATION_TEXT[diff.modification_level]
        return None
    last = reader.xrefs.total_revisions - 1
    new = reader.get_historical_resolver(last)
    root_ref, info = old.root_ref, old.trailer_view.raw_get("/Info") if "/Info" in old.trailer_view else None
    touched: set = set()
    for revision in range(base + 1, last + 1):
        touched |= reader.xrefs.explicit_refs_in_revision(revision)
    new_root = new.root
    acroform = new_root["/AcroForm"] if "/AcroForm" in new_root else generic.DictionaryObject()
    field_refs = list(_raw_items(acroform["/Fields"])) if "/Fields" in acroform else []
    if len(field_refs) != 1 or not isinstance(field_refs[0], generic.IndirectObject):
        return "biểu mẫu có trường khác ngoài chữ ký mới"
    sig_field = field_refs[0].get_object()
    if sig_field.get("/T") != field_name or sig_field.get("/FT") != "/Sig":
        return "biểu mẫu có trường khác ngoài chữ ký mới"
    widgets = {(field_refs[0].idnum, field_refs[0].generation)}
    if "/Kids" in sig_field:
        widgets |= {(k.idnum, k.generation) for k in _raw_items(sig_field["/Kids"])}
    for ref in touched:
        try:
            if reader.xrefs.get_introducing_revision(ref) > base:
                continue  # a new object: reachable only through what is checked below
        except KeyError:
            continue
        key = (ref.idnum, ref.generation)
        if key == (root_ref.idnum, root_ref.generation):
            allowed = {"/AcroForm", "/Extensions", "/Version", "/DSS"}  # form, PAdES extension, LTV data
        elif info is not None and key == (info.idnum, info.generation):
            continue
        else:
            old_obj = old.get_object(ref)
            if not (isinstance(old_obj, generic.DictionaryObject) and old_obj.get("/Type") == "/Page"):
                return f"đối tượng {ref.idnum} của tệp gốc bị ghi đè"
            allowed = {"/Annots"}
            old_annots = _annots(old_obj)
            new_annots = _annots(new.get_object(ref))
            added = [a for a in new_annots if a not in old_annots]
            if any(a not in new_annots for a in old_annots) or any(
                    not (isinstance(a, tuple) and a[0] == "ref" and a[1:] in widgets) for a in added):
                return "chú thích trên trang bị thay đổi"
        old_d, new_d = _norm_dict(old.get_object(ref)), _norm_dict(new.get_object(ref))
        if any(old_d.get(k) != new_d.get(k) for k in set(old_d) | set(new_d) if k not in allowed):
            return "nội dung trang hoặc cấu trúc tệp gốc bị sửa"
    return None


def load_roots(pems: list[bytes]) -> list[asn1_x509.Certificate]:
    """Trust roots from PEM files (the admin-updatable list of SPEC §7.5)."""
    return [to_asn1(x509.load_pem_x509_certificate(p)) for p in pems]
