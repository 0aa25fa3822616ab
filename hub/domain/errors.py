"""Domain errors. The API maps each class to one status code in one place."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain or service layer raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    code = "not_found"

    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"{kind} {ident} not found")
        self.kind = kind


class Conflict(DomainError):
    code = "conflict"


class Invalid(DomainError):
    code = "invalid"


class PermissionDenied(DomainError):
    code = "forbidden"


class Unauthenticated(DomainError):
    code = "unauthenticated"
