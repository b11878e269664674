"""Register book PDF: rows per second and peak memory of one yearly book made by the job.

    .venv/bin/python bench/register_pdf.py [--rows 50000] [--book den|di|giai_quyet|buu_dien]
        [--database sqlite|postgresql] [--no-tracemalloc]

Fills a throwaway database (SQLite file, or a PostgreSQL database created and dropped on
127.0.0.1:5432 / PORTAL_TEST_POSTGRES_URL) with one organisation under a province, its clerk, and
N numbered documents of one year (incoming with one or two assignees each; outgoing with a postal
recipient each), then runs ``portal.registers.jobs.run`` on a queued job: the real path, rows read
in keyset batches, the PDF drawn, progress committed every 500 rows, the file stored by SHA-256.

Each measurement runs in a fresh child process, so ``ru_maxrss`` is the job's own high-water
mark, not the fill's: one child untimed by tracing gives the speed and ru_maxrss; a second child
runs the same job under ``tracemalloc`` for the Python heap's peak (tracing makes it several times
slower, so its time is not the speed). Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, create_engine, insert, text
from throwaway import database

from portal import create_app, migrate

SETTINGS = {"TESTING": True, "SECRET_KEY": "bench-secret", "AUDIT_KEY": "bench", "RATELIMIT_ENABLED": False}
CHUNK = 5000
SEED = 20261121
YEAR = 2026

ORGANS = ["Ủy ban nhân dân tỉnh Ninh Bình", "Văn phòng Ủy ban nhân dân tỉnh Ninh Bình", "Bộ Nội vụ",
          "Sở Tài chính tỉnh Ninh Bình", "Văn phòng Chính phủ", "Ủy ban nhân dân phường Kim Bảng",
          "Sở Xây dựng tỉnh Ninh Bình", "Bảo hiểm xã hội tỉnh Ninh Bình"]
TYPES = [("Công văn", "UBND-VP"), ("Quyết định", "QĐ-UBND"), ("Kế hoạch", "KH-UBND"), ("Thông báo", "TB-UBND"),
         ("Báo cáo", "BC-UBND"), ("Giấy mời", "GM-UBND")]
OPENINGS = ["Về việc", "Về việc triển khai", "Quyết định về", "Kế hoạch thực hiện", "Báo cáo kết quả",
            "Thông báo kết luận của Chủ tịch Ủy ban nhân dân tỉnh về"]
TOPICS = ["công tác văn thư, lưu trữ", "cải cách hành chính", "chuyển đổi số", "phòng, chống thiên tai và tìm kiếm "
          "cứu nạn", "bảo đảm an toàn thông tin mạng", "quản lý đầu tư công", "xây dựng nông thôn mới",
          "thi đua, khen thưởng", "giải quyết khiếu nại, tố cáo", "cải cách thủ tục hành chính",
          "sắp xếp đơn vị hành chính cấp xã", "thực hành tiết kiệm, chống lãng phí"]
ENDINGS = ["", " năm 2026", " trên địa bàn tỉnh", " giai đoạn 2026 - 2030, định hướng đến năm 2035"]
RECIPIENTS = ["Sở Tài chính tỉnh Ninh Bình", "Ủy ban nhân dân các xã, phường", "Các sở, ban, ngành tỉnh",
              "Công ty TNHH Thử Nghiệm Số", "Lưu: VT"]


# --- filling ---------------------------------------------------------------------------------------------

def _people(now: datetime) -> tuple[list[dict[str, Any]], ...]:
    from portal.text import fold

    orgs = [
        {"id": 1, "parent_id": None, "owner_id": 1, "path": "/1/", "depth": 0, "kind": "people_committee",
         "is_issuing": True, "name": "Ủy ban nhân dân tỉnh Ninh Bình", "short_name": "UBND", "organ_id": "H40"},
        {"id": 2, "parent_id": 1, "owner_id": 2, "path": "/1/2/", "depth": 1, "kind": "department",
         "is_issuing": True, "name": "Sở Nội vụ tỉnh Ninh Bình", "short_name": "SNV", "organ_id": "H40.01"},
        {"id": 3, "parent_id": 2, "owner_id": 2, "path": "/1/2/3/", "depth": 2, "kind": "internal_unit",
         "is_issuing": False, "name": "Phòng Tổ chức, biên chế và tổ chức phi chính phủ", "short_name": "TCBC",
         "organ_id": None},
    ]
    for org in orgs:
        org.update(name_folded=fold(org["name"]), created_at=now)
    users = [{"id": 1, "username": "vanthu.bench", "full_name": "Trần Thị Văn Thư",
              "full_name_folded": "tran thi van thu", "status": "active", "source": "local",
              "must_change_password": False, "created_at": now},
             {"id": 2, "username": "chuyenvien.bench", "full_name": "Nguyễn Văn Bình",
              "full_name_folded": "nguyen van binh", "status": "active", "source": "local",
              "must_change_password": False, "created_at": now}]
    positions = [{"id": 1, "user_id": 1, "organisation_id": 2, "unit_id": None, "title": "Văn thư", "is_primary": True},
                 {"id": 2, "user_id": 2, "organisation_id": 2, "unit_id": 3, "title": "Chuyên viên",
                  "is_primary": True}]
    roles = [{"id": 1, "position_id": 1, "role": "clerk"}, {"id": 2, "position_id": 2, "role": "officer"}]
    books = [{"id": 1, "organisation_id": 2, "direction": "in", "name": "Sổ văn bản đến", "is_secret": False,
              "notation_template": "{so}", "active": True},
             {"id": 2, "organisation_id": 2, "direction": "out", "name": "Sổ văn bản đi", "is_secret": False,
              "notation_template": "{so}/{loai}-{co_quan}", "active": True}]
    return orgs, users, positions, roles, books


def fill(engine: Engine, rows: int, book: str) -> float:
    from portal.auth.models import Position, PositionRole, User
    from portal.documents.models import IncomingDocument, OutgoingDocument, RegisterBook
    from portal.drafts.models import Draft, Recipient
    from portal.incoming.models import Assignment
    from portal.orgs.models import Organisation

    rng = random.Random(SEED)
    now = datetime.now(UTC)
    started = time.perf_counter()
    orgs, users, positions, roles, books = _people(now)
    with engine.begin() as conn:
        for table, data in ((Organisation, orgs), (User, users), (Position, positions), (PositionRole, roles),
                            (RegisterBook, books)):
            conn.execute(insert(table), data)
    start = datetime(YEAR, 1, 1, tzinfo=UTC)
    step = timedelta(days=364) / rows
    outgoing = book in ("di", "buu_dien")
    with engine.begin() as conn:
        docs: list[dict[str, Any]] = []
        extra: list[dict[str, Any]] = []
        recipients: list[dict[str, Any]] = []
        for n in range(1, rows + 1):
            at = start + step * n
            day = (at + timedelta(hours=7)).date()
            type_name, notation = rng.choice(TYPES)
            subject = f"{rng.choice(OPENINGS)} {rng.choice(TOPICS)}{rng.choice(ENDINGS)}"
            common = {"id": n, "organisation_id": 2, "year": YEAR, "type_name": type_name, "subject": subject,
                      "urgency": 1 if rng.random() < 0.05 else 0, "created_at": at}
            if outgoing:
                docs.append({**common, "unit_id": 3, "status": "recalled" if n % 997 == 0 else "issued",
                             "book_id": 2, "number": n, "issued_at": at, "code_number": f"{n:02d}",
                             "code_notation": f"{notation.split('-')[0]}-SNV", "issued_date": day,
                             "organ_name": "Sở Nội vụ tỉnh Ninh Bình", "signer_name": "Lê Minh Cường",
                             "recipients_text": "; ".join(rng.sample(RECIPIENTS, 3)), "issued_amount": 3})
                extra.append({"id": n, "organisation_id": 2, "drafter_id": 2, "status": "da_phat_hanh",
                              "type_name": type_name, "subject": subject, "outgoing_id": n, "created_at": at,
                              "updated_at": at})
                recipients.append({"id": n, "draft_id": n, "name": "Công ty TNHH Thử Nghiệm Số",
                                   "method": "buu_dien", "address": "12 Lê Lợi, phường Lương Khánh Thiện, Phủ Lý",
                                   "sent_at": at})
            else:
                docs.append({**common, "status": "06" if n < rows * 0.9 else "05", "channel": "lgsp",
                             "book_id": 1, "arrival_number": n, "arrived_at": at, "arrival_date": day,
                             "code_number": str(rng.randint(1, 3000)), "code_notation": notation,
                             "issued_date": day - timedelta(days=2), "organ_name": rng.choice(ORGANS),
                             "due_date": day + timedelta(days=10), "completed_at": at + timedelta(days=5)})
                extra.append({"id": 2 * n - 1, "document_id": n, "level": 1, "assignee_unit_id": 3,
                              "assignee_user_id": None, "role": "chu_tri", "deadline": day + timedelta(days=10),
                              "assigned_by_id": 1, "assigned_at": at + timedelta(hours=2), "state": "hoan_thanh"})
                if n % 2:
                    extra.append({"id": 2 * n, "document_id": n, "level": 1, "assignee_user_id": 2,
                                  "assignee_unit_id": None, "deadline": None, "role": "phoi_hop",
                                  "assigned_by_id": 1, "assigned_at": at + timedelta(hours=2),
                                  "state": "hoan_thanh"})
            if len(docs) >= CHUNK or n == rows:
                if outgoing:
                    conn.execute(insert(OutgoingDocument), docs)
                    conn.execute(insert(Draft), extra)
                    conn.execute(insert(Recipient), recipients)
                else:
                    conn.execute(insert(IncomingDocument), docs)
                    conn.execute(insert(Assignment), extra)
                docs, extra, recipients = [], [], []
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    return time.perf_counter() - started


# --- measuring (in a child process) ---------------------------------------------------------------------

def queue_job(url: str, storage: str, book: str) -> int:
    from portal.db import session
    from portal.registers.models import JobStatus, ReportJob
    from portal.registers.services import JOB_KIND, Params

    app = create_app({**SETTINGS, "DATABASE_URL": url, "STORAGE_DIR": storage})
    with app.app_context():
        params = Params(kind=book, year=YEAR)
        job = ReportJob(kind=JOB_KIND, organisation_id=2, params=params.to_json(), title=params.title,
                        requested_by_id=1, status=JobStatus.QUEUED, filename=params.filename)
        session.add(job)
        session.commit()
        job_id = job.id
        session.remove()
    app.extensions["engine"].dispose()
    return job_id


def measure(url: str, storage: str, job_id: int, trace: bool) -> dict[str, Any]:
    """Runs in the child: the job, timed, with its memory."""
    import tracemalloc

    from portal.db import session
    from portal.registers import jobs
    from portal.registers.models import JobStatus

    app = create_app({**SETTINGS, "DATABASE_URL": url, "STORAGE_DIR": storage})
    with app.app_context():
        from portal.pdf_fonts import register_fonts

        register_fonts()  # once per process in production too: not part of a job
        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if trace:
            tracemalloc.start()
        started = time.perf_counter()
        job = jobs.run(job_id)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
        if trace:
            tracemalloc.stop()
        assert job.status == JobStatus.DONE, job.error
        result = {"seconds": elapsed, "rows": job.done_rows, "pages_bytes": _size(storage, job.file_sha256),
                  "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "baseline_rss_mb": baseline, "tracemalloc_peak_mb": peak, "sha256": job.file_sha256}
        session.remove()
    app.extensions["engine"].dispose()
    return result


def _size(storage: str, sha: str | None) -> int:
    return (Path(storage) / "objects" / sha[:2] / sha[2:4] / sha).stat().st_size if sha else 0


def child(url: str, storage: str, job_id: int, trace: bool) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", url, storage, str(job_id), "1" if trace else "0"],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"Tiến trình đo lỗi:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def pages_of(storage: str, sha: str) -> int:
    from pypdf import PdfReader

    return len(PdfReader(Path(storage) / "objects" / sha[:2] / sha[2:4] / sha).pages)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _, _, url, storage, job_id, trace = sys.argv
        print(json.dumps(measure(url, storage, int(job_id), trace == "1")))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--book", choices=["den", "di", "giai_quyet", "buu_dien"], default="den")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the second, traced run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="portal_bench_") as tmp:
        url, drop = database(args.database, tmp)
        storage = f"{tmp}/storage"
        try:
            migrate.upgrade(url)
            engine = create_engine(url)
            fill_s = fill(engine, args.rows, args.book)
            engine.dispose()
            fast = child(url, storage, queue_job(url, storage, args.book), trace=False)
            traced = None if args.no_tracemalloc else child(url, storage, queue_job(url, storage, args.book),
                                                           trace=True)
            pages = pages_of(storage, fast["sha256"])
        finally:
            drop()
    rate = fast["rows"] / fast["seconds"]
    figures = {
        "bench": "register_pdf", "database": args.database, "book": args.book, "rows": fast["rows"],
        "pages": pages, "pdf_mb": round(fast["pages_bytes"] / 2**20, 1), "fill_s": round(fill_s, 1),
        "seconds": round(fast["seconds"], 2), "rows_per_s": round(rate),
        "ru_maxrss_mb": round(fast["ru_maxrss_mb"], 1), "baseline_rss_mb": round(fast["baseline_rss_mb"], 1),
        "tracemalloc_peak_mb": round(traced["tracemalloc_peak_mb"], 1) if traced else None,
        "traced_seconds": round(traced["seconds"], 1) if traced else None,
        "traced_ru_maxrss_mb": round(traced["ru_maxrss_mb"], 1) if traced else None,
        "load_average": round(os.getloadavg()[0], 2), "cpus": os.cpu_count(),
    }
    print(f"Cơ sở dữ liệu                {args.database}")
    print(f"Sổ                           {args.book}  ({figures['rows']} dòng, {pages} trang, {figures['pdf_mb']} MB)")
    print(f"Nạp dữ liệu                  {figures['fill_s']:>10} s")
    print(f"Tạo sổ (jobs.run)            {figures['seconds']:>10} s   {figures['rows_per_s']:>8} dòng/giây")
    print(f"ru_maxrss của tiến trình     {figures['ru_maxrss_mb']:>10} MB  (trước khi chạy: "
          f"{figures['baseline_rss_mb']} MB)")
    if traced:
        print(f"tracemalloc đỉnh             {figures['tracemalloc_peak_mb']:>10} MB  (lần chạy có theo dõi: "
              f"{figures['traced_seconds']} s, ru_maxrss {figures['traced_ru_maxrss_mb']} MB)")
    print(f"Tải máy (1 phút)             {figures['load_average']:>10}   trên {figures['cpus']} CPU")
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
