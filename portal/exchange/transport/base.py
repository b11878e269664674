"""What every transport offers (SPEC §11.1): the adapter, what it returns, and how it fails.

A transport moves edXML packages as bytes; it never parses them for the caller and knows no database,
no Flask and no portal feature. The operations mirror the national axis SDK's (SPEC §18): sendEdoc,
getReceivedEdocList, getEdoc, updateStatus (done | fail), getSentEdocList, getAgenciesList.

Failures come in two kinds, because the outbox treats them differently:

- ``TransportError``: worth retrying (the axis is unreachable, timed out, answered 5xx or 429). The outbox
  tries again with back-off.
- ``Refused``: retrying the same request cannot help (wrong SystemId or secret key, a package the axis
  refused by validation, a transport id it does not know). ``reasons`` carries the axis's own words.

Both carry a Vietnamese message a clerk or IT can act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")  # the axis's times (timestamps, created, acknowledged) are Vietnam time
Kind = Literal["edoc", "status"]
KINDS: tuple[Kind, ...] = ("edoc", "status")
WRONG_CREDENTIALS = ("Trục liên thông từ chối xác thực: SystemId hoặc khóa bí mật không đúng (kiểm tra "
                     "PORTAL_AXIS_SYSTEM_ID và PORTAL_AXIS_SECRET).")


class TransportFailure(Exception):
    """Common base of the two kinds; ``retryable`` says which one it is."""

    retryable = False


class TransportError(TransportFailure):
    """The request did not get an answer worth trusting: network, timeout, 5xx. Retry later."""

    retryable = True


class Refused(TransportFailure):
    """The axis answered no. ``status`` is the HTTP-like code (401 credentials, 403 not allowed, 404 unknown,
    413 too large, 422 package refused), ``reasons`` the violations or the axis's explanation."""

    retryable = False

    def __init__(self, message: str, *, status: int = 422, reasons: tuple[str, ...] | list[str] = ()) -> None:
        self.message = message
        self.status = status
        self.reasons = tuple(reasons)
        super().__init__(message)

    def __str__(self) -> str:
        if not self.reasons:
            return self.message
        return self.message + " " + " ".join(r if r.endswith((".", "!", "?")) else r + "." for r in self.reasons)


class PackageUnknown(Refused):
    """The transport id is not (or no longer) waiting for this system: already acknowledged, never addressed
    to it, or made up. Receiving skips it; it is never a reason to retry."""

    def __init__(self, transport_id: str) -> None:
        super().__init__(f"Trục không có gói {transport_id} đang chờ hệ thống này nhận "
                         "(đã xác nhận trước đó hoặc không gửi cho hệ thống này).", status=404)
        self.transport_id = transport_id


@dataclass(frozen=True)
class Agency:
    """One entry of the axis's agency list (getAgenciesList): the QĐ 20 code, the name, and the name of the
    body in charge (OrganizationInCharge), read from the entry's parent when the list has it."""

    organ_id: str
    name: str
    in_charge: str = ""
    email: str = ""
    parent_id: str = ""


class Delivery(StrEnum):
    """Where one recipient's copy of a sent package is (getSentEdocList)."""

    PENDING = "pending"          # on the axis, not yet acknowledged by the receiving system
    DONE = "done"                # the receiving system acknowledged it (updateStatus done)
    FAIL = "fail"                # the receiving system could not take it (updateStatus fail, with a reason)
    UNROUTABLE = "unroutable"    # no system connected to the axis serves this organ id

    @property
    def label(self) -> str:
        return DELIVERY_LABELS[self]


DELIVERY_LABELS = {
    Delivery.PENDING: "Đã gửi lên trục, bên nhận chưa lấy",
    Delivery.DONE: "Bên nhận đã lấy về",
    Delivery.FAIL: "Bên nhận báo không nhận được",
    Delivery.UNROUTABLE: "Không có hệ thống nào trên trục nhận cho cơ quan này",
}


@dataclass(frozen=True)
class Waiting:
    """A package waiting for the calling system (one row of getReceivedEdocList)."""

    transport_id: str
    kind: Kind
    from_organ: str
    to_organs: tuple[str, ...]
    created_at: str


@dataclass(frozen=True)
class Sent:
    """One recipient organ of a package this system sent."""

    transport_id: str            # what send_edoc / send_status returned
    organ_id: str                # the recipient's QĐ 20 code (To/OrganId, or the status's addressee)
    kind: Kind
    status: Delivery
    reason: str = ""
    sent_at: str = ""            # ISO 8601 with +07:00
    acknowledged_at: str = ""
    title: str = ""              # Subject, or the status code's label
    notation: str = ""           # "số/ký hiệu", or the status code


@runtime_checkable
class Transport(Protocol):
    """SPEC §11.1's adapter. Implementations: ``http.HttpTransport`` (the national axis or a provincial
    LGSP), ``loopback.LoopbackTransport`` (tests); the axis simulator serves the HTTP one."""

    def send_edoc(self, package: bytes) -> str:
        """sendEdoc (messagetype edoc): the transport id the axis gave the package."""
        ...

    def send_status(self, package: bytes) -> str:
        """sendEdoc (messagetype status)."""
        ...

    def list_received(self, kind: Kind) -> list[str]:
        """getReceivedEdocList: transport ids waiting for this system, oldest first, until acknowledged."""
        ...

    def fetch(self, transport_id: str) -> bytes:
        """getEdoc: the package, the same bytes each time until it is acknowledged."""
        ...

    def acknowledge(self, transport_id: str, *, ok: bool = True, reason: str = "") -> None:
        """updateStatus done (ok) or fail (with a reason): afterwards the package is no longer listed.
        Acknowledging twice is harmless."""
        ...

    def agencies(self) -> list[Agency]:
        """getAgenciesList."""
        ...

    def sent(self) -> list[Sent]:
        """getSentEdocList: what became of the packages this system sent, one row per recipient organ."""
        ...
