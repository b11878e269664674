"""`portal exchange validate FILE` (issue 17.7): "hợp lệ" with the warnings and exit 0, or the violations and
exit 1; a package that is not XML names the parser's error; the XML signature is reported, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

REAL = Path(__file__).resolve().parent / "data" / "realworld" / "edxml"


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=["portal", "exchange", *args])


@pytest.mark.skipif(not REAL.is_dir(), reason="the real packages are not next to the repository")
@pytest.mark.parametrize("name", sorted(p.name for p in REAL.glob("*.edxml")) if REAL.is_dir() else [])
def test_every_real_package(app, name):
    result = run(app, "validate", str(REAL / name))
    if name.startswith("edoc-malformed"):
        assert result.exit_code == 1
        assert "không đọc được gói tin" in result.output
        assert "74" in result.output  # the line the parser stopped at
        return
    assert result.exit_code == 0, result.output
    assert f"{name}: hợp lệ" in result.output
    if name.startswith("edoc-"):
        assert "chữ ký XML: không kiểm tra được" in result.output  # the truncated certificate stub
    if "ddmmyyyy" in name:
        assert "dd/MM/yyyy" in result.output


def test_a_package_with_violations_and_junk(app, tmp_path):
    src = (REAL / "status-03-accepted_nghean.edxml").read_bytes()
    broken = src.replace(b"<edXML:StatusCode>03</edXML:StatusCode>", b"<edXML:StatusCode>99</edXML:StatusCode>")
    assert broken != src
    path = tmp_path / "sai.edxml"
    path.write_bytes(broken)
    result = run(app, "validate", str(path))
    assert result.exit_code == 1
    assert "không hợp lệ" in result.output
    assert "lỗi: " in result.output
    path.write_bytes(b"\x00\xff not xml at all")
    result = run(app, "validate", str(path))
    assert result.exit_code == 1
    assert "không đọc được gói tin" in result.output
    assert "Traceback" not in result.output
