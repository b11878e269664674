"""The document beside the actions (issue 18 item 3): a page of the incoming document's PDF really renders — a
PNG of the asked width with the dark pixels of its text — for who may see the document only; a file that is not
a PDF, a flagged file, a broken PDF and a page out of range get a clear message, never a 500."""

from __future__ import annotations

from io import BytesIO

import pytest
from PIL import Image

from portal import storage, viewer
from portal.incoming import services as incoming
from tests.conftest import Factory
from tests.incoming_fixtures import act
from tests.signing_fixtures import build_draft_pdf
from tests.test_drafts_workflow import world as drafts_world  # noqa: F401  (fixture)

pytestmark = pytest.mark.skipif(not viewer.available(), reason="poppler-utils (pdftoppm) is not installed")


def dark_share(png: bytes) -> float:
    image = Image.open(BytesIO(png)).convert("L")
    pixels = image.tobytes()
    return sum(1 for p in pixels if p < 128) / len(pixels)


@pytest.fixture
def arrived(db, factory: Factory):
    from portal.auth.models import Role

    org = factory.organisation(name="Sở Xem Thử", short_name="SXT")
    clerk = act(factory.person(Role.CLERK, organisation=org, title="Văn thư"))
    other = act(factory.person(Role.CLERK, organisation=factory.organisation(), title="Văn thư"))
    doc = incoming.receive(org, incoming.Metadata(type_name="Quyết định", code_number="15", code_notation="QĐ-UBND",
                                                  organ_name="UBND tỉnh Hà Nam", subject="Về việc xem trước"),
                           [incoming.Upload("qd.pdf", build_draft_pdf(), incoming.FileRole.MAIN),
                            incoming.Upload("ghi-chu.txt", b"ghi chu", incoming.FileRole.ATTACHMENT),
                            incoming.Upload("hong.pdf", b"%PDF-1.4 not really", incoming.FileRole.ATTACHMENT,
                                            inert=True, warning="Nội dung không phải PDF")])
    db.commit()
    return doc, clerk, other


def test_a_page_really_renders_for_who_may_see_it(db, arrived, login, app):
    doc, clerk, other = arrived
    files = incoming.files_of(doc)
    main = next(f for f in files if f.role == incoming.FileRole.MAIN)
    client = login(clerk, c=app.test_client())
    page = client.get(f"/van-ban-den/{doc.id}").get_data(as_text=True)
    assert f"/van-ban-den/{doc.id}/tep/{main.id}/trang/1" in page
    assert 'alt="Trang 1/1 của văn bản"' in page
    resp = client.get(f"/van-ban-den/{doc.id}/tep/{main.id}/trang/1?rong=600")
    assert resp.status_code == 200
    assert resp.mimetype == "image/png"
    assert {"private", "no-store"} & set(resp.headers["Cache-Control"].replace(",", " ").split())
    image = Image.open(BytesIO(resp.data))
    assert image.width == 600
    assert image.height > 800  # A4 portrait
    assert 0.002 < dark_share(resp.data) < 0.3  # the text, not a blank frame
    cached = list((storage.root() / "cache" / "pages").rglob("1-600.png"))
    assert cached
    assert client.get(f"/van-ban-den/{doc.id}/tep/{main.id}/trang/1?rong=600").data == resp.data
    # out of range, not a PDF, flagged: a clear 404
    assert client.get(f"/van-ban-den/{doc.id}/tep/{main.id}/trang/2").status_code == 404
    txt = next(f for f in files if f.filename == "ghi-chu.txt")
    assert client.get(f"/van-ban-den/{doc.id}/tep/{txt.id}/trang/1").status_code == 404
    flagged = next(f for f in files if f.filename == "hong.pdf")
    assert client.get(f"/van-ban-den/{doc.id}/tep/{flagged.id}/trang/1").status_code == 404
    assert client.get(f"/van-ban-den/{doc.id}/tep/{main.id}/trang/1?rong=99999").status_code == 422
    # someone of another organisation: not found
    stranger = login(other, c=app.test_client())
    assert stranger.get(f"/van-ban-den/{doc.id}/tep/{main.id}/trang/1").status_code == 404


def test_boxes_are_drawn_where_they_will_go(tmp_path):
    pdf = build_draft_pdf()
    boxes = [viewer.Box(0, 300, 700, 560, 760, "Số, ngày"), viewer.Box(0, 350, 380, 510, 460, "Dấu")]
    stored_png = viewer.with_boxes(_render(pdf, tmp_path), (595.27, 841.89), boxes)
    image = Image.open(BytesIO(stored_png)).convert("RGB")
    raw = image.tobytes()
    red = sum(1 for i in range(0, len(raw), 3) if raw[i] > 150 and raw[i + 1] < 80 and raw[i + 2] < 80)
    assert red > 200


def _render(pdf: bytes, tmp_path) -> bytes:
    import subprocess

    (tmp_path / "a.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-singlefile", "-scale-to-x", "600", "-scale-to-y", "-1",
                    str(tmp_path / "a.pdf"), str(tmp_path / "a")], capture_output=True, check=True)
    return (tmp_path / "a.png").read_bytes()


def test_the_draft_page_shows_its_pages_and_the_signer_sees_where_things_go(db, app, login, request):
    from portal.drafts import services as drafts
    from tests.test_drafts_workflow import new_draft, to_signing

    w = request.getfixturevalue("drafts_world")
    draft = new_draft(w, build_draft_pdf())
    db.commit()
    officer = login(w.p["officer"], c=app.test_client())
    page = officer.get(f"/du-thao/{draft.id}").get_data(as_text=True)
    assert f"/du-thao/{draft.id}/trang/du-thao/1" in page
    png = officer.get(f"/du-thao/{draft.id}/trang/du-thao/1").data
    assert 0.002 < dark_share(png) < 0.3
    assert officer.get(f"/du-thao/{draft.id}/trang/phat-hanh/1").status_code == 404  # not what the page shows
    to_signing(w, draft)
    db.commit()
    leader = login(w.p["leader"], c=app.test_client())
    page = leader.get(f"/du-thao/{draft.id}").get_data(as_text=True)
    assert f"/du-thao/{draft.id}/trang/trinh-ky/1" in page  # the frozen PDF the signer signs
    assert "Xem vị trí chữ ký, số, ngày và dấu" in page
    boxed = leader.get(f"/du-thao/{draft.id}/vi-tri-ban-hanh/1")
    assert boxed.status_code == 200
    raw = Image.open(BytesIO(boxed.data)).convert("RGB").tobytes()
    red = sum(1 for i in range(0, len(raw), 3) if raw[i] > 150 and raw[i + 1] < 80 and raw[i + 2] < 80)
    assert red > 500  # four dashed boxes
    assert [b.label for b in drafts.placement_boxes(build_draft_pdf())] == ["Số, ký hiệu", "Địa danh, ngày", "Chữ ký",
                                                                           "Dấu"]
