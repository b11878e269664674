"""Signing fixtures shared by the suite: a session-wide dev PKI, a sample decision (quyết định) and the
signature/seal PNGs. Import the fixtures you need in a test module or conftest::

    from tests.signing_fixtures import fixture_dev_pki, fixture_draft_pdf  # noqa: F401

The functions are named ``fixture_*`` and the fixtures ``dev_pki``, ``draft_pdf``, ``signature_png`` and
``seal_png``, so test parameters do not shadow the imported names.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest
from cryptography import x509
from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from portal.pdf_fonts import SERIF, SERIF_BOLD, register_fonts
from portal.signing import pdfsign, pki
from portal.signing.pdfsign import KeyFileSigner

PASSPHRASE = b"mat-khau-pki-thu-nghiem"
ORG = "Ủy ban nhân dân tỉnh Hà Nam"
CHAIRMAN = pki.PersonSpec("truong-quoc-hung", "Trương Quốc Hùng", ORG)
DEPUTY = pki.PersonSpec("nguyen-thi-lan", "Nguyễn Thị Lan", ORG)
SEAL = pki.OrgSpec("ubnd-tinh-ha-nam", ORG)


@dataclass
class DevPki:
    directory: Path
    passphrase: bytes
    pki: pki.DemoPki
    rogue_root: x509.Certificate
    rogue_cert: x509.Certificate

    @property
    def root(self) -> x509.Certificate:
        return self.pki.root

    def cert(self, key_name: str) -> x509.Certificate:
        return self.pki.certs[key_name]

    def cert_id(self, key_name: str) -> pki.CertId:
        return pki.cert_fingerprint(self.cert(key_name) if key_name != "rogue" else self.rogue_cert)

    def signer(self, key_name: str) -> KeyFileSigner:
        return KeyFileSigner(self.directory, key_name, self.passphrase)


@pytest.fixture(scope="session", name="dev_pki")
def fixture_dev_pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    """Root CA, the chairman, his deputy, the provincial seal; plus a rogue CA with the dev root's exact name
    that issued a certificate with the chairman's exact subject (key name ``rogue``)."""
    directory = tmp_path_factory.mktemp("pki")
    demo = pki.init_demo(directory, PASSPHRASE, [CHAIRMAN, DEPUTY], [SEAL])
    rogue_root, rogue_cert = pki.make_rogue(directory, PASSPHRASE, impersonate=demo.certs[CHAIRMAN.key_name])
    return DevPki(directory, PASSPHRASE, demo, rogue_root, rogue_cert)


def build_draft_pdf() -> bytes:
    """One A4 page laid out like NĐ 30 Phụ lục I: header, "Số: ......", the date line, "QUYẾT ĐỊNH", a body and
    the signer block "TM. ỦY BAN NHÂN DÂN" / "CHỦ TỊCH" / "Trương Quốc Hùng"."""
    register_fonts()
    buf = BytesIO()
    c = Canvas(buf, pagesize=A4)
    width, _ = A4
    c.setFont(SERIF_BOLD, 12)
    c.drawCentredString(150, 790, "ỦY BAN NHÂN DÂN")
    c.drawCentredString(150, 775, "TỈNH HÀ NAM")
    c.drawCentredString(400, 790, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    c.drawCentredString(400, 775, "Độc lập - Tự do - Hạnh phúc")
    c.setFont(SERIF, 13)
    c.drawString(95, 740, "Số: ......")
    c.drawString(300, 740, "Hà Nam, ngày ...... tháng ...... năm 2026")
    c.setFont(SERIF_BOLD, 14)
    c.drawCentredString(width / 2, 690, "QUYẾT ĐỊNH")
    c.setFont(SERIF_BOLD, 13)
    c.drawCentredString(width / 2, 672, "Về việc phê duyệt kế hoạch chuyển đổi số năm 2026")
    c.setFont(SERIF, 13)
    for i, line in enumerate(["Điều 1. Phê duyệt kế hoạch chuyển đổi số của tỉnh năm 2026.",
                              "Điều 2. Quyết định này có hiệu lực kể từ ngày ký.",
                              "Điều 3. Chánh Văn phòng, Giám đốc các sở chịu trách nhiệm thi hành."]):
        c.drawString(85, 630 - i * 20, line)
    c.setFont(SERIF_BOLD, 13)
    c.drawCentredString(420, 480, "TM. ỦY BAN NHÂN DÂN")
    c.drawCentredString(420, 464, "CHỦ TỊCH")
    c.drawCentredString(420, 370, "Trương Quốc Hùng")
    c.showPage()
    c.save()
    return buf.getvalue()


def _png(draw_fn, size: tuple[int, int]) -> bytes:
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    draw_fn(ImageDraw.Draw(image))
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="session", name="draft_pdf")
def fixture_draft_pdf() -> bytes:
    return build_draft_pdf()


@pytest.fixture(scope="session", name="signature_png")
def fixture_signature_png() -> bytes:
    """A blue scribble on a transparent background."""
    def draw(d: ImageDraw.ImageDraw) -> None:
        d.line([(20, 120), (80, 40), (120, 130), (170, 50), (230, 120), (300, 60), (360, 110)],
               fill=(20, 40, 170, 255), width=8, joint="curve")
    return _png(draw, (380, 160))


@pytest.fixture(scope="session", name="seal_png")
def fixture_seal_png() -> bytes:
    """A red ring on a transparent background."""
    def draw(d: ImageDraw.ImageDraw) -> None:
        d.ellipse((6, 6, 294, 294), outline=(210, 20, 20, 255), width=10)
        d.ellipse((30, 30, 270, 270), outline=(210, 20, 20, 255), width=4)
        d.ellipse((120, 120, 180, 180), outline=(210, 20, 20, 255), width=6)
    return _png(draw, (300, 300))


# --- a signed PDF received by an organisation that trusts the development root --------------------------------------

@pytest.fixture(name="receiving")
def fixture_receiving(app, db, factory, login, dev_pki: DevPki, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """An organisation that trusts the dev root, and its clerk signed in: (organisation, client)."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from portal.auth.models import Role

    root = tmp_path / "root.pem"
    root.write_bytes(dev_pki.root.public_bytes(Encoding.PEM))
    monkeypatch.setitem(app.config, "SIGNING_TRUST_ROOTS", str(root))
    org = factory.organisation(name="Sở Nhận Thử", short_name="SNT")
    clerk = factory.person(Role.CLERK, organisation=org, title="Văn thư", full_name="Trần Thị Văn Thư")
    clerk.current_position = clerk.positions[0]
    db.commit()
    return org, login(clerk, c=app.test_client())


def signed_and_issued(dev_pki: DevPki, draft_pdf: bytes, signature_png: bytes, seal_png: bytes, *,
                      signed_at_text: str = "21/11/2026 09:30:15",
                      date_text: str = "Hà Nam, ngày 21 tháng 11 năm 2026") -> dict:  # type: ignore[type-arg]
    """The decision as the portal issues it: frozen, signed by the chairman in the default box, then numbered
    (125/QĐ-UBND), dated and sealed. Each stage by name, with the boxes used."""
    frozen = pdfsign.freeze(draft_pdf)
    box = pdfsign.default_signer_box(frozen.pdf)
    personal = pdfsign.sign_personal(frozen.pdf, dev_pki.signer(CHAIRMAN.key_name), box=box, image_png=signature_png,
                                     name=CHAIRMAN.full_name, signed_at_text=signed_at_text)
    number_box, date_box = pdfsign.default_issue_boxes(frozen.pdf)
    issued = pdfsign.issue(personal, dev_pki.signer(SEAL.key_name), number_text="125/QĐ-UBND", date_text=date_text,
                           number_box=number_box, date_box=date_box, seal_png=seal_png, signer_box=box, org_name=ORG)
    return {"frozen": frozen, "box": box, "personal": personal, "issued": issued, "number_box": number_box,
            "date_box": date_box}


def receive_pdf(factory, db, org, pdf: bytes):  # type: ignore[no-untyped-def]
    """The PDF arrives at ``org`` as an incoming document (committed) from another organisation."""
    from datetime import timedelta

    from portal.incoming import services
    from portal.timeutil import local_today

    meta = services.Metadata(type_name="Quyết định", code_number="125", code_notation="QĐ-UBND",
                             issued_date=local_today() - timedelta(days=1), organ_name=ORG,
                             subject="Quyết định phê duyệt kế hoạch chuyển đổi số năm 2026")
    doc = services.receive(org, meta, [services.Upload("quyet-dinh.pdf", pdf, services.FileRole.MAIN)],
                           sender=factory.organisation(name="Ủy ban nhân dân tỉnh Thử"))
    db.commit()
    return doc
