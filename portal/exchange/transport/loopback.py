"""An axis in memory, for unit tests: the simulator's rules (``axis.Axis``: credentials, validation, routing,
delivery once) without HTTP or a directory.

    hub = LoopbackAxis({"tinh-a": {"secret": "a", "organs": ["000.00.00.H41"]},
                        "tinh-b": {"secret": "b", "organs": ["000.00.00.H14"]}})
    a, b = hub.transport("tinh-a", "a"), hub.transport("tinh-b", "b")
    a.send_edoc(package); b.list_received("edoc")
    hub.available = False   # every call now raises TransportError, as an unreachable axis does
"""

from __future__ import annotations

import hmac

from portal.exchange.transport.axis import Axis, System
from portal.exchange.transport.base import Agency, Kind, Sent, TransportError


class LoopbackAxis(Axis):
    available = True

    def transport(self, system_id: str, secret: str) -> LoopbackTransport:
        return LoopbackTransport(self, system_id, secret)


class LoopbackTransport:
    def __init__(self, hub: LoopbackAxis, system_id: str, secret: str) -> None:
        self.hub = hub
        self.system_id = system_id
        self.secret = secret

    def __repr__(self) -> str:
        return f"LoopbackTransport(system_id={self.system_id!r})"

    def _system(self) -> System:
        if not self.hub.available:
            raise TransportError("Trục liên thông (mô phỏng trong bộ nhớ) đang ngừng; sẽ thử lại.")
        return self.hub.system(self.system_id, lambda secret: hmac.compare_digest(secret.encode(),
                                                                                   self.secret.encode()))

    def send_edoc(self, package: bytes) -> str:
        return self.hub.send(self._system(), bytes(package), "edoc")

    def send_status(self, package: bytes) -> str:
        return self.hub.send(self._system(), bytes(package), "status")

    def list_received(self, kind: Kind) -> list[str]:
        return [w.transport_id for w in self.hub.received(self._system(), kind)]

    def fetch(self, transport_id: str) -> bytes:
        return self.hub.fetch(self._system(), transport_id)

    def acknowledge(self, transport_id: str, *, ok: bool = True, reason: str = "") -> None:
        self.hub.acknowledge(self._system(), transport_id, ok=ok, reason=reason)

    def agencies(self) -> list[Agency]:
        return self.hub.agencies()

    def sent(self) -> list[Sent]:
        return self.hub.sent(self._system())
