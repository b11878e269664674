"""The person's signature image (SPEC §7.2): PNG with transparency; blue expected, other colours
warned; anything else refused with a Vietnamese message and a 4xx."""

from __future__ import annotations

from io import BytesIO

from PIL import Image, ImageDraw

from portal.audit import AuditEntry
from portal.auth.models import Role
from portal.signatures.models import SignatureImage


def png(colour: tuple[int, int, int, int], *, mode: str = "RGBA", fmt: str = "PNG") -> bytes:
    image = Image.new(mode, (200, 80), (255, 255, 255, 0) if mode == "RGBA" else (255, 255, 255))
    ImageDraw.Draw(image).line([(10, 60), (60, 10), (120, 60), (190, 20)], fill=colour[: len(mode)], width=6)
    out = BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def upload(client, data: bytes, name: str = "chu-ky.png"):
    return client.post("/auth/chu-ky-so", data={"image": (BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_blue_transparent_png_is_kept(db, client, login, factory):
    leader = factory.person(Role.AGENCY_LEADER)
    login(leader)
    resp = upload(client, png((20, 40, 200, 255)))
    assert resp.status_code == 303
    row = db.query(SignatureImage).filter_by(user_id=leader.id).one()
    assert row.sha256
    assert db.query(AuditEntry).filter_by(action="signing.image_saved").count() == 1
    page = client.get("/auth/chu-ky-so").get_data(as_text=True)
    assert 'src="data:image/png;base64,' in page
    assert "Lưu ý" not in page


def test_red_signature_is_kept_with_a_warning(db, client, login, factory):
    login(factory.person(Role.AGENCY_LEADER))
    resp = upload(client, png((220, 20, 20, 255)))
    assert resp.status_code == 303
    assert "ảnh chữ ký nên có màu xanh" in client.get("/auth/chu-ky-so").get_data(as_text=True)


def test_bad_images_are_refused(db, client, login, factory):
    leader = factory.person(Role.AGENCY_LEADER)
    login(leader)
    no_alpha = upload(client, png((20, 40, 200, 255), mode="RGB"))
    assert no_alpha.status_code == 422
    assert "nền trong suốt" in no_alpha.get_data(as_text=True)
    jpeg = upload(client, png((20, 40, 200, 255), mode="RGB", fmt="JPEG"), "chu-ky.jpg")
    assert jpeg.status_code == 422
    garbage = upload(client, b"not an image at all")
    assert garbage.status_code == 422
    assert db.query(SignatureImage).filter_by(user_id=leader.id).count() == 0
