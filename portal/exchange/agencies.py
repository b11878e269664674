"""The national agency directory (issue 17 item 5): the agencies outside the portal that outside recipients are
picked from, imported from the axis's agency list (``import_agencies``) or a CSV of QĐ 20 codes (``import_csv``),
and found again by type-ahead (``search``).

Real lists are dirty (``../shared/data/realworld/README.md`` §5): zero-width spaces inside names, one id with a
group missing, ids listed twice with two different names, ``in_charge`` written five ways. So every text is NFC
with invisible characters dropped and whitespace collapsed; an id listed twice keeps its first row and the
second is reported; a code that does not follow QĐ 20 is kept (the axis routes on gateway codes such as
``vxp.saas.03`` too), flagged ``code_ok = False`` and reported. A file that is not such a list at all is refused
whole, before anything is written. Importing the same list again changes nothing."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import and_, case, false, select

from portal import audit
from portal.auth.models import Role, User
from portal.db import session, utcnow
from portal.errors import NotAllowed, ValidationFailed
from portal.exchange.edxml import organ_code_problem
from portal.exchange.models import AgencySource, ExternalAgency
from portal.text import fold

MAX_BYTES = 20 * 1024 * 1024  # the whole country is some tens of thousands of rows, about 5 MB
MAX_ROWS = 100_000
ORGAN_ID_MAX = 35  # edXML OrganId
NAME_MAX = 300
IN_CHARGE_MAX = 200  # edXML OrganizationInCharge
SEARCH_MAX = 340  # the column; folding can lengthen a name (a Hangul syllable becomes its jamo)
REPORT_LINES = 50  # at most so many lines of each kind in a report and the audit row
_CHUNK = 500

# header cells, folded and stripped of everything but letters and digits → the column they name
_HEADERS = {
    "organ_id": {"organid", "organcode", "madinhdanh", "madinhdanhcoquan", "madinhdanhdientu", "macoquan",
                 "madonvi", "ma", "code", "agencycode", "agencyid", "id", "domain"},
    "organ_name": {"organname", "name", "ten", "tencoquan", "tendonvi", "coquan", "donvi", "agency", "agencyname",
                   "organization", "organisation", "organizationname", "organisationname"},
    "in_charge": {"incharge", "organizationincharge", "organisationincharge", "phutrach", "coquanphutrach",
                  "chuquan", "coquanchuquan", "captren", "tructhuoc", "quanly"},
}
_ZERO_WIDTH_SPACE = "\u200b"


class AgencyFileRefused(ValidationFailed):
    """The file is not a list of agencies (or is too big): nothing was written. ``str(exc)`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__({"file": message})


@dataclass(frozen=True)
class AgencyRow:
    """One agency as a source gives it (the axis's list, a CSV line)."""

    organ_id: str
    name: str
    in_charge: str = ""


@dataclass
class ImportReport:
    """What an import did. ``duplicates``, ``malformed`` and ``skipped`` are Vietnamese lines, the first
    ``REPORT_LINES`` of each; the counts are exact."""

    source: AgencySource
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicate_count: int = 0
    malformed_count: int = 0
    skipped_count: int = 0
    duplicates: list[str] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        return self.duplicates + self.malformed + self.skipped

    def summary(self) -> str:
        return (f"Đã đọc {self.rows} dòng: thêm {self.added}, cập nhật {self.updated}, không đổi {self.unchanged}; "
                f"trùng mã {self.duplicate_count}, mã không theo QĐ 20 {self.malformed_count}, "
                f"bỏ qua {self.skipped_count}.")

    def note(self, kind: str, line: str) -> None:
        """Count one ``duplicate``, ``malformed`` or ``skipped`` row; keep its line while there is room."""
        setattr(self, f"{kind}_count", getattr(self, f"{kind}_count") + 1)
        lines: list[str] = getattr(self, "duplicates" if kind == "duplicate" else kind)
        if len(lines) < REPORT_LINES:
            lines.append(line)


# --- cleaning ------------------------------------------------------------------------------------------------------

def clean_text(value: str | None) -> str:
    """NFC; a zero-width space is a space, other invisible characters (format: joiners, BOM, bidi controls, soft
    hyphen) are dropped, control characters are spaces; whitespace (no-break spaces too) collapsed."""
    chars = []
    for ch in unicodedata.normalize("NFC", value or ""):
        category = unicodedata.category(ch)
        if ch == _ZERO_WIDTH_SPACE or category == "Cc":
            chars.append(" ")
        elif category != "Cf":
            chars.append(ch)
    return " ".join("".join(chars).split())


def clean_code(value: str | None) -> str:
    """The code an agency is known by: NFKC (full-width digits become ASCII), no whitespace or invisible
    characters at all, and a QĐ 20 code's letter in upper case (``000.00.00.h53`` is ``000.00.00.H53``).
    Anything else keeps its case: the axis routes on the code as written."""
    text = "".join(clean_text(unicodedata.normalize("NFKC", value or "")).split())
    return text.upper() if code_ok(text.upper()) else text


def code_ok(code: str) -> bool:
    """QĐ 20's ``NNN.NN.NN.XNN`` in ASCII (the checker's ``\\d`` would take Arabic-Indic digits as well)."""
    return code.isascii() and organ_code_problem(code) is None


# --- reading a CSV ------------------------------------------------------------------------------------------------

def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise AgencyFileRefused(f"Tệp quá lớn ({len(data):,} byte); tối đa {MAX_BYTES:,} byte.".replace(",", "."))
    if not data.strip():
        raise AgencyFileRefused("Tệp trống: cần một tệp CSV có dòng tiêu đề organ_id, organ_name, in_charge.")
    try:
        text = data.decode("utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AgencyFileRefused("Tệp không phải văn bản UTF-8 (có thể là tệp nhị phân hoặc bảng tính Excel): "
                                "hãy lưu lại dưới dạng CSV UTF-8.") from None
    if "\x00" in text:
        raise AgencyFileRefused("Tệp có byte rỗng (NUL): đây không phải tệp CSV văn bản.")
    return text


def _header_key(cell: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(clean_text(cell)))


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = _header_key(cell)
        for column, names in _HEADERS.items():
            if key in names and column not in found:
                found[column] = index
    return found


def _read_csv(text: str) -> tuple[list[tuple[int, list[str]]], dict[str, int]]:
    """The data rows with their line numbers, and where each column is. The delimiter is the one (comma,
    semicolon as Vietnamese Excel writes, tab) whose header names both an id and a name column."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    for delimiter in (",", ";", "\t"):
        columns = _columns(next(csv.reader([first_line], delimiter=delimiter), []))
        if "organ_id" in columns and "organ_name" in columns:
            break
    else:
        raise AgencyFileRefused(
            "Không nhận ra tệp danh sách cơ quan: dòng đầu phải là tiêu đề có cột mã định danh (organ_id) và "
            "tên cơ quan (organ_name), có thể thêm cột cơ quan phụ trách (in_charge), phân cách bằng dấu phẩy.")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    try:
        header_seen = False
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if not header_seen or {"organ_id", "organ_name"} <= _columns(cells).keys():  # the header (again)
                header_seen = True
                continue
            rows.append((reader.line_num, cells))
            if len(rows) > MAX_ROWS:
                raise AgencyFileRefused(f"Tệp có hơn {MAX_ROWS:,} dòng; hãy chia nhỏ.".replace(",", "."))
    except csv.Error as exc:
        raise AgencyFileRefused(f"Tệp CSV hỏng ở dòng {reader.line_num}: {exc}.") from None
    if not rows:
        raise AgencyFileRefused("Tệp chỉ có dòng tiêu đề, không có cơ quan nào.")
    return rows, columns


def _cell(cells: list[str], columns: dict[str, int], column: str) -> str:
    index = columns.get(column)
    return cells[index] if index is not None and index < len(cells) else ""


# --- importing ----------------------------------------------------------------------------------------------------

def can_import(actor: User | None) -> bool:
    """The directory is the province's, shared by every organisation: system administrators load it (the
    command line, with no actor, is the server's operator)."""
    return actor is None or actor.has_role(Role.SYSTEM_ADMIN)


def import_csv(data: bytes, *, source: str = "csv", actor: User | None = None, actor_name: str | None = None,
               file_name: str = "") -> ImportReport:
    """Import a CSV of QĐ 20 codes (``organ_id,organ_name,in_charge``; Vietnamese headers too). Raises
    ``AgencyFileRefused`` for a file that is not one, before anything is written."""
    _check(actor)
    text = _decode(data)
    rows, columns = _read_csv(text)
    listed = [(line, AgencyRow(_cell(c, columns, "organ_id"), _cell(c, columns, "organ_name"),
                               _cell(c, columns, "in_charge"))) for line, c in rows]
    return _import(listed, AgencySource(source), actor, actor_name,
                   {"file": file_name[:200], "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()})


def import_agencies(rows: Iterable[AgencyRow | tuple[str, str, str]], source: str = "axis", *,
                    actor: User | None = None, actor_name: str | None = None) -> ImportReport:
    """Import the list the axis returns (organ id, name, in charge), with the same cleaning and checks as a
    CSV; each entry's position (from 1) stands for the line number in the report."""
    _check(actor)
    listed = [(n, row if isinstance(row, AgencyRow) else AgencyRow(*row)) for n, row in enumerate(rows, 1)]
    if len(listed) > MAX_ROWS:
        raise AgencyFileRefused(f"Danh sách có hơn {MAX_ROWS:,} cơ quan.".replace(",", "."))
    return _import(listed, AgencySource(source), actor, actor_name, {})


def _check(actor: User | None) -> None:
    if not can_import(actor):
        raise NotAllowed("exchange.agencies_import")


def _clean(report: ImportReport, listed: list[tuple[int, AgencyRow]]) -> dict[str, AgencyRow]:
    """The rows to store by code, first row kept; duplicates, bad codes and unusable rows reported."""
    kept: dict[str, tuple[int, AgencyRow]] = {}
    for line, raw in listed:
        row = AgencyRow(clean_code(raw.organ_id), clean_text(raw.name), clean_text(raw.in_charge))
        where = f"Dòng {line}"
        if not row.organ_id or not row.name:
            report.note("skipped", f"{where}: thiếu {'mã định danh' if not row.organ_id else 'tên cơ quan'}, bỏ qua.")
            continue
        too_long = [label for value, limit, label in ((row.organ_id, ORGAN_ID_MAX, "mã định danh"),
                                                      (row.name, NAME_MAX, "tên cơ quan"),
                                                      (row.in_charge, IN_CHARGE_MAX, "cơ quan phụ trách"))
                    if len(value) > limit]
        if too_long:
            report.note("skipped", f"{where} ({row.organ_id[:40]}): {', '.join(too_long)} quá dài, bỏ qua.")
            continue
        if row.organ_id in kept:
            first_line, first = kept[row.organ_id]
            report.note("duplicate", f"{where}: mã {row.organ_id} đã có ở dòng {first_line} (“{first.name}”); "
                                       f"giữ dòng {first_line}, bỏ “{row.name}”.")
            continue
        kept[row.organ_id] = (line, row)
        if not code_ok(row.organ_id):
            problem = organ_code_problem(row.organ_id) or f"mã '{row.organ_id}' không chỉ gồm chữ số và chữ Latinh"
            report.note("malformed", f"{where}: {problem}; vẫn nhập, đánh dấu mã không chuẩn.")
    return {code: row for code, (_line, row) in kept.items()}


def _import(listed: list[tuple[int, AgencyRow]], source: AgencySource, actor: User | None, actor_name: str | None,
            file_details: dict[str, object]) -> ImportReport:
    report = ImportReport(source=source, rows=len(listed))
    wanted = _clean(report, listed)
    codes = list(wanted)
    existing: dict[str, ExternalAgency] = {}
    for start in range(0, len(codes), _CHUNK):
        chunk = codes[start:start + _CHUNK]
        existing.update((a.organ_id, a) for a in session.scalars(
            select(ExternalAgency).where(ExternalAgency.organ_id.in_(chunk))))
    now = utcnow()
    for code, row in wanted.items():
        values = {"name": row.name, "in_charge": row.in_charge, "source": source, "code_ok": code_ok(code),
                  "search_folded": fold(f"{code} {row.name}")[:SEARCH_MAX]}
        agency = existing.get(code)
        if agency is None:
            session.add(ExternalAgency(organ_id=code, active=True, imported_at=now, updated_at=now, **values))
            report.added += 1
        elif any(getattr(agency, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(agency, k, v)
            agency.updated_at = now
            report.updated += 1
        else:
            report.unchanged += 1
    session.flush()
    audit.record(actor, "exchange.agencies_imported", object_type="external_agencies", actor_name=actor_name,
                 details={"source": source.value, **file_details, "rows": report.rows, "added": report.added,
                          "updated": report.updated, "unchanged": report.unchanged,
                          "duplicates": report.duplicate_count, "malformed": report.malformed_count,
                          "skipped": report.skipped_count, "warnings": report.warnings[:REPORT_LINES]})
    return report


# --- finding ------------------------------------------------------------------------------------------------------

def search(text: str, limit: int = 20) -> list[ExternalAgency]:
    """Type-ahead over active agencies: what was typed as the start of a code (``000.12`` or ``000.00.31.h53``),
    or every word in the name without diacritics (``ben cau`` finds “Thanh tra huyện Bến Cầu”). Code matches
    come first, then by code, so an agency's parent (``000.00.31.H53``) comes before its units."""
    folded = fold(clean_text(text[:100]))
    if not folded:
        return []
    words = and_(*(ExternalAgency.search_folded.contains(w, autoescape=True) for w in folded.split()[:8]))
    # the column starts with the code, so a code prefix is a prefix of it; a code has no spaces
    code_prefix = ExternalAgency.search_folded.startswith(folded, autoescape=True) if " " not in folded else false()
    stmt = (select(ExternalAgency)
            .where(ExternalAgency.active.is_(True), code_prefix | words)
            .order_by(case((code_prefix, 0), else_=1), ExternalAgency.organ_id)
            .limit(max(1, min(limit, 50))))
    return list(session.scalars(stmt))


def by_code(organ_id: str) -> ExternalAgency | None:
    """An active agency of the directory by its code (as the type-ahead offered it)."""
    code = clean_code(organ_id)
    if not code:
        return None
    return session.execute(select(ExternalAgency).where(ExternalAgency.organ_id == code,
                                                        ExternalAgency.active.is_(True))).scalars().first()
