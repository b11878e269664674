"""Transports (SPEC §11.1, issue 17 item 3): how packages travel between this portal and the world outside.
Bytes in, bytes out: no database, no Flask.

    base       the adapter (``Transport``), ``Agency``, ``Sent``, ``TransportError`` (retry) / ``Refused`` (don't)
    http       the national axis or a provincial LGSP over HTTP; ``from_config(config)`` (PORTAL_AXIS_*)
    wire       the HTTP mapping of the axis operations, the one place a province adapts to its LGSP
    axis       the axis's rules (credentials, validation, routing, delivery once), shared by:
    simulator  the axis simulator, a real HTTP server with its queues on disk (``serve``)
    loopback   the same axis in memory, for unit tests
    queues     where an axis keeps its queues (memory, or a directory)
"""

from portal.exchange.transport.base import (
    KINDS,
    Agency,
    Delivery,
    Kind,
    PackageUnknown,
    Refused,
    Sent,
    Transport,
    TransportError,
    TransportFailure,
    Waiting,
)

__all__ = ["KINDS", "Agency", "Delivery", "Kind", "PackageUnknown", "Refused", "Sent", "Transport", "TransportError",
           "TransportFailure", "Waiting"]
