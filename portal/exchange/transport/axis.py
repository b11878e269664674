"""The axis itself, as far as a portal can tell from outside (SPEC §11.1, §18): who may connect, where a package
goes, and which packages wait for whom. The simulator serves it over HTTP, the loopback transport calls it
directly, so both behave the same.

What it does, like the real axis where it matters:

- A system is known by its SystemId and secret key and serves some organisations (QĐ 20 codes). A wrong
  SystemId or secret is refused (401), the same answer for both so a caller cannot probe for SystemIds.
- Each package is parsed and validated with ``portal.exchange.edxml``; a package that cannot be read or
  has violations is refused (422) with the reasons, and nothing is queued.
- A system may only send for an organisation it serves (From/OrganId; 403).
- A document package goes to every system serving one of its To organ ids — once per system, however many
  of its organisations are addressed. To organ ids no system serves are recorded as unroutable (the sender
  sees them in getSentEdocList); if none can be reached the package is refused.
- A status package has no To. It goes to the system serving ResponseFor/OrganId when that is not the
  sender itself, else the organisation of ResponseFor/DocumentId (the document's issuer). Replies of a
  receiver (01–06, 15, 16) name the original sender in ResponseFor/OrganId; the sender's recall request
  (13) names the receiver there while DocumentId still names the sender (realworld status-13) — both route.
- A delivery is listed (getReceivedEdocList) and fetched (getEdoc, the same bytes each time) until the
  receiving system acknowledges it (updateStatus done or fail); then it is gone for good. Acknowledging twice
  is harmless; fetching or acknowledging another system's delivery is "unknown" (404), never a leak.

Not done (unknown of the real axis, or left to the portal): de-duplicating a package sent twice (the
receiving portal keys on sender OrganId, DocumentId, business type and receiver), signatures, replay windows.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from portal.exchange import edxml
from portal.exchange.transport.base import (
    VIETNAM,
    WRONG_CREDENTIALS,
    Agency,
    Delivery,
    Kind,
    PackageUnknown,
    Refused,
    Sent,
    Waiting,
)
from portal.exchange.transport.queues import DiskQueues, MemoryQueues

SYSTEM_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
REASON_MAX = 1000
KIND_LABELS = {"edoc": "gói văn bản", "status": "gói trạng thái"}


@dataclass(frozen=True)
class System:
    """A system connected to the axis: a province's portal, a ministry's, an LGSP."""

    system_id: str
    secret: str
    organs: tuple[str, ...]

    def __post_init__(self) -> None:
        if not SYSTEM_ID.fullmatch(self.system_id):
            raise ValueError(f"SystemId '{self.system_id}' không hợp lệ: chỉ chữ, số, '.', '_', '-' (tối đa 64).")
        if not self.secret:
            raise ValueError(f"Hệ thống {self.system_id} chưa có khóa bí mật (secret).")
        if not self.organs:
            raise ValueError(f"Hệ thống {self.system_id} không phục vụ cơ quan nào (organs trống).")


def systems_from(value: Iterable[System] | Mapping[str, Mapping[str, Any]]) -> list[System]:
    """Systems given as ``System`` objects or as the configuration file's ``systems`` object:
    ``{"tinh-a": {"secret": "…", "organs": ["000.00.00.H41", …]}, …}``."""
    if isinstance(value, Mapping):
        systems = []
        for system_id, entry in value.items():
            if not isinstance(entry, Mapping):
                raise ValueError(f"Hệ thống {system_id}: cần một đối tượng có secret và organs.")
            organs = entry.get("organs", [])
            if isinstance(organs, str) or not all(isinstance(o, str) for o in organs):
                raise ValueError(f"Hệ thống {system_id}: organs phải là danh sách mã cơ quan.")
            systems.append(System(str(system_id), str(entry.get("secret", "")), tuple(o.strip() for o in organs)))
        return systems
    return list(value)


def agencies_from(value: Iterable[Agency | Mapping[str, Any]]) -> list[Agency]:
    """Agencies given as ``Agency`` objects or as the configuration file's ``agencies`` list:
    ``[{"organ_id": "…", "name": "…", "parent": "<organ_id>", "email": "…"}, …]``; the body in charge is the
    parent's name when the parent is listed."""
    given = [a if isinstance(a, Agency) else Agency(str(a.get("organ_id", "")).strip(), str(a.get("name", "")),
                                                    str(a.get("in_charge", "")), str(a.get("email", "")),
                                                    str(a.get("parent", "")).strip())
             for a in value]
    names = {a.organ_id: a.name for a in given}
    return [a if a.in_charge or a.parent_id not in names else
            Agency(a.organ_id, a.name, names[a.parent_id], a.email, a.parent_id) for a in given]


def now_text() -> str:
    return datetime.now(VIETNAM).isoformat(timespec="seconds")


def status_addressee(status: edxml.StatusPackage) -> str | None:
    """The organisation a status package is for (see the module's docstring), None when it names only its sender."""
    sender = status.from_.organ_id
    for organ in (status.response_for.organ_id, status.response_for.reference.organ_id):
        if organ and organ != sender:
            return organ
    return None


class Axis:
    def __init__(self, systems: Iterable[System] | Mapping[str, Mapping[str, Any]],
                 agencies: Iterable[Agency | Mapping[str, Any]] | None = None,
                 queues: MemoryQueues | DiskQueues | None = None, *, limits: edxml.Limits = edxml.DEFAULT_LIMITS
                 ) -> None:
        listed = systems_from(systems)
        self.systems = {s.system_id: s for s in listed}
        if len(self.systems) != len(listed):
            raise ValueError("Có SystemId bị khai báo hai lần.")
        self.serving: dict[str, list[str]] = {}
        for system in listed:
            for organ in system.organs:
                self.serving.setdefault(organ, []).append(system.system_id)
        self.agency_list = agencies_from(agencies) if agencies is not None else [
            Agency(organ, organ) for organ in self.serving]
        self.queues = queues if queues is not None else MemoryQueues()
        self.limits = limits

    # --- who is calling -------------------------------------------------------------------------------------

    def system(self, system_id: str, proof: Callable[[str], bool]) -> System:
        """The calling system, when ``proof(its secret)`` holds (a matching HMAC, an equal secret)."""
        system = self.systems.get(system_id)
        if system is None or not proof(system.secret):
            raise Refused(WRONG_CREDENTIALS, status=401)
        return system

    # --- sendEdoc -------------------------------------------------------------------------------------------

    def send(self, system: System, data: bytes, kind: Kind) -> str:
        """Validate, route and queue one package; the sender's transport id."""
        parsed = self._acceptable(data, kind)
        if isinstance(parsed.package, edxml.StatusPackage):
            sender = parsed.package.from_.organ_id
            addressee = status_addressee(parsed.package)
            if addressee is None:
                raise Refused("Trục liên thông từ chối gói trạng thái: không xác định được cơ quan nhận "
                              "(ResponseFor/OrganId và ResponseFor/DocumentId đều là cơ quan gửi).")
            addressees = [addressee]
            code = parsed.package.code
            title, notation = (code.label if code else str(parsed.package.status_code)), str(parsed.package.status_code)
        else:
            header = parsed.package.header
            sender = header.from_.organ_id
            addressees = list(dict.fromkeys(t.organ_id for t in header.to))
            title, notation = header.subject, header.code.text
        if sender not in system.organs:
            raise Refused(f"Trục liên thông từ chối: hệ thống {system.system_id} không được gửi thay cơ quan "
                          f"{sender} (From/OrganId).", status=403)
        routes: dict[str, list[str]] = {}
        for organ in addressees:
            for target in self.serving.get(organ, []):
                routes.setdefault(target, []).append(organ)
        if not routes:
            raise Refused(f"Trục liên thông từ chối: không có hệ thống nào kết nối với trục nhận cho "
                          f"{', '.join(addressees)}.")
        return self._queue(system, data, kind, sender, addressees, routes, title[:500], notation[:100])

    def _acceptable(self, data: bytes, kind: Kind) -> edxml.ParsedPackage:
        if len(data) > self.limits.max_bytes:
            raise Refused(f"Trục liên thông từ chối: gói {len(data):,} byte, quá giới hạn "
                          f"{self.limits.max_bytes:,} byte.".replace(",", "."), status=413)
        try:
            parsed = edxml.parse(data, limits=self.limits)
        except edxml.ParseError as exc:
            raise Refused("Trục liên thông từ chối gói: không đọc được gói edXML.", reasons=[str(exc)]) from exc
        actual: Kind = "status" if parsed.kind == "status" else "edoc"
        if actual != kind:
            raise Refused(f"Trục liên thông từ chối: đây là {KIND_LABELS[actual]} nhưng được gửi như "
                          f"{KIND_LABELS[kind]}.", status=400)
        violations = edxml.validate(parsed).violations
        if violations:
            raise Refused("Trục liên thông từ chối gói vì không hợp lệ:", reasons=[str(v) for v in violations])
        return parsed

    def _queue(self, system: System, data: bytes, kind: Kind, sender: str, addressees: list[str],
               routes: dict[str, list[str]], title: str, notation: str) -> str:
        sent_id = uuid.uuid4().hex
        doc_ids = {target: uuid.uuid4().hex for target in routes}
        now = now_text()
        with self.queues.locked(write=True) as state:
            for target, organs in routes.items():
                self.queues.put(target, doc_ids[target], data)
                state["seq"] += 1
                state["deliveries"][doc_ids[target]] = {
                    "system": target, "kind": kind, "from_system": system.system_id, "from": sender,
                    "to": organs, "sent_id": sent_id, "seq": state["seq"], "created": now, "status": "pending",
                    "reason": "", "acknowledged": ""}
            delivery_of = {organ: doc_ids[target] for target, organs in routes.items() for organ in organs}
            state["sent"][sent_id] = {
                "system": system.system_id, "kind": kind, "from": sender, "created": now, "title": title,
                "notation": notation,
                "recipients": [{"organ": organ, "delivery": delivery_of.get(organ, "")} for organ in addressees]}
        return sent_id

    # --- getReceivedEdocList, getEdoc, updateStatus ---------------------------------------------------------

    def received(self, system: System, kind: Kind) -> list[Waiting]:
        with self.queues.locked(write=False) as state:
            rows = sorted(((doc_id, d) for doc_id, d in state["deliveries"].items()
                           if d["system"] == system.system_id and d["status"] == "pending" and d["kind"] == kind),
                          key=lambda row: row[1]["seq"])
            return [Waiting(doc_id, d["kind"], d["from"], tuple(d["to"]), d["created"]) for doc_id, d in rows]

    def fetch(self, system: System, doc_id: str) -> bytes:
        with self.queues.locked(write=False) as state:
            self._waiting(state, system, doc_id)
            return self.queues.get(system.system_id, doc_id)

    def acknowledge(self, system: System, doc_id: str, *, ok: bool = True, reason: str = "") -> None:
        with self.queues.locked(write=True) as state:
            delivery = state["deliveries"].get(doc_id)
            if delivery is None or delivery["system"] != system.system_id:
                raise PackageUnknown(doc_id)
            if delivery["status"] != "pending":
                return  # acknowledged already: the first outcome stands
            delivery.update(status=Delivery.DONE.value if ok else Delivery.FAIL.value, reason=reason[:REASON_MAX],
                            acknowledged=now_text())
        self.queues.drop(system.system_id, doc_id)

    @staticmethod
    def _waiting(state: dict[str, Any], system: System, doc_id: str) -> dict[str, Any]:
        delivery = state["deliveries"].get(doc_id)
        if delivery is None or delivery["system"] != system.system_id or delivery["status"] != "pending":
            raise PackageUnknown(doc_id)
        return delivery

    # --- getSentEdocList, getAgenciesList -------------------------------------------------------------------

    def sent(self, system: System) -> list[Sent]:
        with self.queues.locked(write=False) as state:
            rows = []
            for sent_id, entry in state["sent"].items():
                if entry["system"] != system.system_id:
                    continue
                for recipient in entry["recipients"]:
                    delivery = state["deliveries"].get(recipient["delivery"]) if recipient["delivery"] else None
                    status = Delivery(delivery["status"]) if delivery else Delivery.UNROUTABLE
                    rows.append(Sent(sent_id, recipient["organ"], entry["kind"], status,
                                     delivery["reason"] if delivery else "", entry["created"],
                                     delivery["acknowledged"] if delivery else "", entry["title"], entry["notation"]))
            return rows

    def agencies(self) -> list[Agency]:
        return list(self.agency_list)
