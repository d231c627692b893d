"""The register of a kind of case (登记簿): the query behind its list and export, and what each row shows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col

from reviewapp.casework import service as casework
from reviewapp.casework.cases import CaseKind


def filtered(
    stmt: Any,
    kind: CaseKind,
    *,
    today: date,
    overdue: Any,
    open_states: Iterable[str],
    q: str = "",
    state: str = "",
    channel: str = "",
    flag: str = "",
    handler_id: int | None = None,
) -> Any:
    """`stmt` (a select of kind.model) narrowed by the register's filters, newest received first.

    q searches the number, target and factory; flag is overdue (the `overdue(today)` clause) | open | closed."""
    model = kind.model
    if q:
        like = f"%{q.strip()[:100]}%"
        stmt = stmt.where(
            or_(col(model.number).like(like), col(model.target_name).like(like), col(model.target_factory).like(like))
        )
    if state:
        stmt = stmt.where(model.state == state)
    if channel:
        stmt = stmt.where(model.channel == channel)
    if flag == "overdue":
        stmt = stmt.where(overdue(today))
    elif flag == "open":
        stmt = stmt.where(col(model.state).in_(sorted(open_states)))
    elif flag == "closed":
        stmt = stmt.where(col(model.state).in_(sorted(kind.workflow.final_states)))
    if handler_id is not None:
        stmt = stmt.where(col(model.id).in_(casework.cases_handled_by(case_type=kind.name, user_id=handler_id)))
    return stmt.order_by(col(model.received_on).desc(), col(model.id).desc())


def handler_names(session: Session, kind: CaseKind, cases: Iterable[Any]) -> dict[int, list[str]]:
    """Each listed case's handlers, by display name."""
    return {
        c.id: [u.display_name for u in casework.handlers(session, case_type=kind.name, case_id=c.id)] for c in cases
    }


def choice(value: str, allowed: Iterable[str]) -> str:
    """A filter value kept only when it is one of `allowed` (else no filter)."""
    return value if value in allowed else ""
