"""The one place that reads the wall clock, so tests can reason about time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def today_beijing() -> date:
    return utcnow().astimezone(BEIJING).date()


def as_utc(value: datetime) -> datetime:
    """Values read back from SQLite may lack tzinfo; they are stored in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
