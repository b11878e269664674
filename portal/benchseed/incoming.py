"""The incoming documents of the plan, in arrival order, with their assignments, files and
history."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from portal.benchseed.content import (
    CHANNEL_WEIGHTS,
    CHANNELS,
    CLERK_I,
    CLERK_SHARE,
    DEPUTY_I,
    DIRECTIVES,
    ENDINGS,
    ISSUERS,
    LEADER_I,
    LOCAL,
    SIGNERS,
    STATUS_BANDS,
    STATUSES,
    TOPICS,
    TYPES,
    UNIT_HEADS,
    UNIT_OFFICERS,
    YEARS,
    _fold_cache,
    _skew,
)
from portal.benchseed.organisations import PlanBase
from portal.documents import numbering
from portal.incoming.services import code_key


class IncomingRows(PlanBase):
    """The rows of the incoming tables, written after the small tables."""

    def incoming(self) -> Iterator[tuple[str, tuple[Any, ...]]]:
        """Documents in arrival order (ids grow with time, as in production), each followed by its
        assignments, files and history. The random choices are drawn in bulk: one call per row and
        field would double the time."""
        rng, n, now = self.rng, self.n_incoming, self.now
        if n == 0:
            return
        rnd = rng.random
        now_ts = now.timestamp()
        start = now_ts - 365 * YEARS * 86400
        stamps = sorted(start + rnd() * (now_ts - start - 60) for _ in range(n))
        big = self.orgs[0]
        weights = [CLERK_SHARE] + [(1 - CLERK_SHARE) * w for w in _skew(self.n_orgs - 1)]
        orgs = rng.choices(self.orgs, weights=weights, k=n) if self.n_orgs > 1 else [big] * n
        # a clerk always has some documents waiting to be accepted: the newest 25 of theirs
        waiting = set(itertools.islice((i for i in range(n - 1, -1, -1) if orgs[i] is big), 25))
        exact_done = False
        folded = _fold_cache()
        types = rng.choices(range(len(TYPES)), weights=[t[2] for t in TYPES], k=n)
        issuers = rng.choices(ISSUERS, weights=[i[2] for i in ISSUERS], k=n)
        urgencies = rng.choices((0, 1, 2, 3), weights=(95, 3, 1.5, 0.5), k=n)
        channels = rng.choices(CHANNELS, weights=CHANNEL_WEIGHTS, k=n)
        bands = [iter(rng.choices(STATUSES, weights=w, k=n if i == len(STATUS_BANDS) - 1 else n // 4 + 100))
                 for i, (_days, w) in enumerate(STATUS_BANDS)]
        notation_units = ["VP", "KT", "TH", "NC"]
        b = self.base
        doc_ids = itertools.count(b["incoming_documents"])
        assignment_ids = itertools.count(b["incoming_assignments"])
        file_ids = itertools.count(b["incoming_files"])
        event_ids = itertools.count(b["incoming_events"])
        names = self.names
        files = self.files
        latest = now - timedelta(minutes=1)

        def later(t: datetime, max_minutes: float) -> datetime:
            return min(t + timedelta(minutes=1 + rnd() * max_minutes), latest)

        for i, ts in enumerate(stamps):
            doc_id, org = next(doc_ids), orgs[i]
            arrived = datetime.fromtimestamp(round(ts, 6), UTC)
            local = arrived + LOCAL
            year, arrival_date = local.year, local.date()
            age = (now_ts - ts) / 86400
            band = next(k for k, (days, _w) in enumerate(STATUS_BANDS) if age < days)
            status = "01" if i in waiting else next(bands[band], "06")
            t = types[i]
            organ, organ_short, _w = issuers[i]
            number = str(1 + int(rnd() * 3000))
            type_name, abbr, _w, openings = TYPES[t]
            notation = f"{abbr}-{organ_short}" if abbr else f"{organ_short}-{notation_units[int(rnd() * 4)]}"
            ending = ENDINGS[int(rnd() * len(ENDINGS))].format(year=year, quarter=(local.month - 1) // 3 + 1)
            subject = f"{openings[int(rnd() * len(openings))]} {TOPICS[int(rnd() * len(TOPICS))]}{ending}"
            if not exact_done and org is big and i > n // 2:  # what the benchmarks search for exists, whatever N
                t, number, notation, organ, exact_done = 1, "15", "QĐ-UBND", "Ủy ban nhân dân tỉnh Ninh Bình", True
                type_name, abbr, _w, openings = TYPES[t]
                subject = f"Quyết định về công tác văn thư, lưu trữ năm {year}"
            channel = channels[i]
            paper = channel == "giay"
            if paper and status == "01":
                channel, paper = "noi_bo", False  # paper is registered when it is scanned: never waiting
            urgency = urgencies[i]
            closed = status == "06"
            urgent = 1 if urgency >= 1 and not closed else 0
            numbered = status != "01" and (paper or not (status == "03" and rnd() < 0.4))
            arrival_number = self._next_number(org.in_book, year) if numbered else None
            staff = org.staff
            clerk, leader = staff[CLERK_I], staff[LEADER_I if rnd() < 0.7 else DEPUTY_I]
            registered_at = later(arrived, 600) if status != "01" else None
            presented = status in ("03p", "04", "05", "06")
            presented_at = later(registered_at, 60) if presented and registered_at else None
            due = arrival_date + timedelta(days=7 + int(rnd() * 24)) if rnd() < 0.3 else None
            assigned_at = later(presented_at, 48 * 60) if presented_at and status != "03p" else None
            completed = later(assigned_at, 20 * 1440) if status == "06" and assigned_at else None
            signer = SIGNERS[int(rnd() * len(SIGNERS))]
            main_sha, main_size = files[int(rnd() * len(files))]
            verdict = "Hợp lệ" if channel in ("truc", "lgsp") else None
            key = f"{urgent}{int(arrived.timestamp() * 1_000_000):017d}{doc_id:012d}"
            self._count("incoming_documents")
            yield "incoming_documents", (
                doc_id, org.id, status, channel, org.in_book if numbered else None, year if numbered else None,
                arrival_number, arrived, registered_at, clerk if registered_at else None, paper, self.type_ids[t],
                folded(organ), code_key(number, notation), arrival_date, leader if presented else None, presented_at,
                completed, key, type_name, number,
                notation, arrival_date - timedelta(days=int(rnd() * 6)), organ, subject, folded(subject),
                "Tiếng Việt", 1 + int(rnd() * 12), signer[0], signer[1], urgency, 0, due, arrived, main_sha, verdict,
                "Đã tham mưu văn bản trả lời, báo cáo lãnh đạo." if closed else None)
            filename = f"{number.zfill(2)}-{notation}.pdf"
            self._count("incoming_files")
            yield "incoming_files", (next(file_ids), doc_id, main_sha, filename, main_size, "main",
                                     clerk if paper else None, arrived, 0, 0, verdict)
            if rnd() < 0.15:
                sha, size = files[int(rnd() * len(files))]
                self._count("incoming_files")
                yield "incoming_files", (next(file_ids), doc_id, sha, "Phụ lục kèm theo.pdf", size, "attachment",
                                         clerk if paper else None, arrived, 0, 0, verdict)
            # history: what the services write at each step
            events: list[tuple[datetime, int | None, str, str, str, str | None, int | None]] = []
            number_text = f"Số đến {numbering.display(arrival_number)}" if arrival_number else None
            if paper:
                events.append((registered_at, clerk, names[clerk], "digitise", "03", number_text, None))
            else:
                events.append((arrived, None, organ, "arrive", "01", None, None))
                if registered_at:
                    events.append((registered_at, clerk, names[clerk], "register" if numbered else "accept", "03",
                                   number_text, None))
            if presented_at:
                events.append((presented_at, clerk, names[clerk], "present", "03p", f"Trình {names[leader]}", None))
            if assigned_at:
                unit_index = int(rnd() * 3)
                unit_id, unit_name, _s = org.units[unit_index]
                state = {"04": "moi", "05": "dang_xu_ly", "06": "hoan_thanh"}[status]
                deadline = due or (arrival_date + timedelta(days=15) if rnd() < 0.4 else None)
                directive = DIRECTIVES[int(rnd() * len(DIRECTIVES))].format(unit=unit_name)
                lead = next(assignment_ids)
                rows = [(lead, doc_id, None, 1, None, unit_id, "chu_tri", deadline, directive, leader, assigned_at,
                         state, completed, key)]
                assignees = [unit_name]
                if rnd() < 0.25:
                    other_id, other_name, _s = org.units[(unit_index + 1) % 3]
                    rows.append((next(assignment_ids), doc_id, None, 1, None, other_id, "phoi_hop", deadline, None,
                                 leader, assigned_at, "hoan_thanh" if closed else "moi", completed, key))
                    assignees.append(f"{other_name} (phối hợp)")
                events.append((assigned_at, leader, names[leader], "direct", "04",
                               directive + "\n" + "; ".join(assignees), lead))
                head = staff[UNIT_HEADS[unit_index]]
                worker = head
                if status != "04" or rnd() < 0.5:
                    officers = UNIT_OFFICERS[unit_index]
                    worker = staff[officers[int(rnd() * len(officers))]]
                    at = later(assigned_at, 240)
                    rows.append((next(assignment_ids), doc_id, lead, 2, worker, None, "chu_tri", deadline,
                                 "Đồng chí nghiên cứu, tham mưu xử lý.", head, at, state, completed, key))
                    events.append((at, head, names[head], "unit_direct", "04",
                                   f"Đồng chí nghiên cứu, tham mưu xử lý.\n{names[worker]}", lead))
                self._count("incoming_assignments", len(rows))
                for row in rows:
                    yield "incoming_assignments", row
                if status in ("05", "06"):
                    at = later(assigned_at, 3 * 1440)
                    if completed:
                        at = min(at, completed)
                    events.append((at, worker, names[worker], "progress", "05",
                                   "Đã dự thảo văn bản trả lời, đang xin ý kiến đơn vị phối hợp.", None))
                if completed:
                    events.append((completed, worker, names[worker], "finish", "06",
                                   "Đã hoàn thành, báo cáo lãnh đạo kết quả xử lý.", None))
            self._count("incoming_events", len(events))
            for at, actor, actor_name, action, ev_status, ev_text, assignment in events:
                yield "incoming_events", (next(event_ids), doc_id, at, actor, actor_name, action, ev_status,
                                          action not in ("unit_direct",), ev_text, assignment)
