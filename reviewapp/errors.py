"""Domain errors that carry a message for the user (in Chinese)."""

from __future__ import annotations


class ServiceError(Exception):
    """An operation was refused; `message` is shown to the user as it is."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(ServiceError):
    def __init__(self, message: str = "未找到该记录，或您无权查看。") -> None:
        super().__init__(message)


class Conflict(ServiceError):
    """A concurrent edit or a stale form: the user must reload and decide again."""
