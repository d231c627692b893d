"""The filtered registers of the certification wing (major changes, bans): one way to read the search and status
filters, page through the register's query and render it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from litestar.response import Template
from sqlmodel import Session

from reviewapp.web import paginate, parse_page, render


def filtered_register(
    db: Session,
    template: str,
    *,
    query: Callable[..., Any],
    q: str,
    status: str,
    statuses: dict[str, str],
    page: str,
    today: date,
    per_page: int = 30,
    **extra: Any,
) -> Template:
    """query(q=, status=, today=) paginated; an unknown status is no filter. The page gets page, filters,
    statuses and today, plus `extra`."""
    q = q[:64]
    status = status if status in statuses else ""
    result = paginate(db, query(q=q, status=status, today=today), page=parse_page(page), per_page=per_page)
    return render(template, page=result, filters={"q": q, "status": status}, statuses=statuses, today=today, **extra)
