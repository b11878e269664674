"""Domain errors raised by services, which know nothing of HTTP; ``portal.web`` maps them."""

from __future__ import annotations


class DomainError(Exception):
    """Base class; ``str(exc)`` is a Vietnamese message fit to show the user."""


class NotAllowed(DomainError):
    """The actor may not do this (403)."""

    def __init__(self, action: str, message: str = "Bạn không có quyền thực hiện thao tác này.") -> None:
        self.action = action
        super().__init__(message)


class NotFound(DomainError):
    """The object does not exist or the actor may not know it does (404)."""


class ValidationFailed(DomainError):
    """Input breaks a rule; ``errors`` maps field names to messages (422)."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors.values()))
