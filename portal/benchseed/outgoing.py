"""The outgoing documents of the plan, in issuing order, each with the draft it came from, then
the drafts still under way."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from portal.benchseed.content import (
    CLERK_I,
    CLERK_SHARE,
    DEPARTMENTS,
    DEPUTY_I,
    DRAFT_CHAIN,
    ENDINGS,
    LEADER_I,
    LOCAL,
    OPEN_DRAFT_SHARE,
    OPEN_DRAFT_STATUSES,
    TOPICS,
    TYPES,
    UNIT_HEADS,
    UNIT_OFFICERS,
    VP_HEAD_I,
    YEARS,
    _fold_cache,
    _skew,
)
from portal.benchseed.organisations import PlanBase
from portal.documents import numbering


class OutgoingRows(PlanBase):
    """The rows of the outgoing documents and the drafts, written after the incoming ones."""

    def outgoing(self) -> Iterator[tuple[str, tuple[Any, ...]]]:
        """Issued documents in issuing order, each with the draft it came from (its versions and
        the way through review, format check and signing), then a few drafts still under way."""
        rng, n, now = self.rng, self.n_outgoing, self.now
        if n == 0:
            return
        rnd = rng.random
        now_ts = now.timestamp()
        start = now_ts - 365 * YEARS * 86400
        stamps = sorted(start + rnd() * (now_ts - start - 3600) for _ in range(n))
        weights = [CLERK_SHARE] + [(1 - CLERK_SHARE) * w for w in _skew(self.n_orgs - 1)]
        orgs = rng.choices(self.orgs, weights=weights, k=n) if self.n_orgs > 1 else [self.orgs[0]] * n
        types = rng.choices(range(len(TYPES)), weights=[t[2] for t in TYPES], k=n)
        urgencies = rng.choices((0, 1, 2, 3), weights=(96, 2.5, 1, 0.5), k=n)
        folded = _fold_cache()
        b = self.base
        out_ids = itertools.count(b["outgoing_documents"])
        draft_ids = itertools.count(b["drafts"])
        version_ids = itertools.count(b["draft_versions"])
        event_ids = itertools.count(b["draft_events"])
        names, files = self.names, self.files
        n_open = int(n * OPEN_DRAFT_SHARE)
        for i in range(n + n_open):
            issued = i < n
            org = orgs[i % n]
            t = types[i % n]
            type_name, abbr, _w, openings = TYPES[t]
            staff = org.staff
            unit_index = int(rnd() * 3)
            unit_id, _unit_name, unit_short = org.units[unit_index]
            officers = UNIT_OFFICERS[unit_index]
            drafter = staff[officers[int(rnd() * len(officers))]]
            head = staff[UNIT_HEADS[unit_index]]
            deputy = rnd() < 0.6
            signer = staff[DEPUTY_I if deputy else LEADER_I]
            clerk = staff[CLERK_I]
            # open drafts are recent: "issued_at" is then only when their last step happened
            issued_at = datetime.fromtimestamp(round(stamps[i], 6), UTC) if issued else now - timedelta(days=rnd() * 20)
            local = issued_at + LOCAL
            year = local.year
            ending = ENDINGS[int(rnd() * len(ENDINGS))].format(year=year, quarter=(local.month - 1) // 3 + 1)
            subject = f"{openings[int(rnd() * len(openings))]} {TOPICS[int(rnd() * len(TOPICS))]}{ending}"
            created = issued_at - timedelta(days=1 + rnd() * 9)
            sha, size = files[int(rnd() * len(files))]
            urgency = urgencies[i % n]
            due = local.date() + timedelta(days=10 + int(rnd() * 20)) if rnd() < 0.1 else None
            signer_title = ("Phó " if deputy else "") + ("Giám đốc" if org.index < len(DEPARTMENTS) else "Chủ tịch")
            authority = "KT." if deputy else ""
            draft_id = next(draft_ids)
            out_id = None
            steps = len(DRAFT_CHAIN)
            if issued:
                out_id = next(out_ids)
                number = self._next_number(org.out_book, year)
                notation = f"{abbr}-{org.short}" if abbr else f"{org.short}-{unit_short}"
                shown = numbering.display(number)
                issued_on = local.date()
                self._count("outgoing_documents")
                yield "outgoing_documents", (
                    out_id, org.id, unit_id, "issued", org.out_book, year, number, self.type_ids[t], issued_at, clerk,
                    f"{org.organ_id},{issued_on:%Y/%m/%d},{shown}/{notation}",
                    f"{org.organ_id}-{year}.{shown}/{notation}"[:120], 1 + int(rnd() * 5),
                    f"Như trên; Lưu: VT, {unit_short}.", sha, type_name, shown, notation, issued_on, org.name, subject,
                    folded(subject), "Tiếng Việt", 1 + int(rnd() * 8), signer_title, names[signer][:50], urgency, 0,
                    due, sha, issued_at)
                status, holder = "da_phat_hanh", None
                chain_text = {"issue": f"Số {shown}/{notation}, ngày {issued_on:%d/%m/%Y}; gửi 0 nơi nhận"}
            else:
                steps = 1 + int(rnd() * (len(OPEN_DRAFT_STATUSES)))
                status = DRAFT_CHAIN[steps - 1][1]
                holder = {"soan_thao": drafter, "cho_duyet": head, "cho_ky": signer}.get(status)
                chain_text = {}
            signed = steps >= 5
            self._count("drafts")
            yield "drafts", (
                draft_id, org.id, unit_id, drafter, status, holder, self.type_ids[t], type_name, subject,
                folded(subject), urgency, 0, signer, authority, signer_title, due, 1, sha if steps >= 4 else None,
                sha if signed else None, issued_at - timedelta(hours=2) if signed else None,
                signer if signed else None, out_id, created, issued_at if issued else created)
            self._count("draft_versions")
            yield "draft_versions", (next(version_ids), draft_id, 1, sha, "Dự thảo.pdf", size, None, drafter, created)
            span = (issued_at - created) / steps
            actors = {"create": drafter, "submit": drafter, "approve": head, "format_ok": staff[VP_HEAD_I],
                      "sign": signer, "issue": clerk}
            texts = {"create": "Phiên bản 1: Dự thảo.pdf", "submit": f"Trình {names[head]}", **chain_text}
            self._count("draft_events", steps)
            for k, (action, after) in enumerate(DRAFT_CHAIN[:steps]):
                actor = actors[action]
                yield "draft_events", (next(event_ids), draft_id, created + span * k, actor, names[actor], action,
                                       after, 1, texts.get(action))

