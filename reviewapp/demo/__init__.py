"""The demo dataset: loaded into an empty database by `reviewapp demo`. One package whose steps import the
domains (never the reverse); each step reads what earlier ones made and adds its own."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session, func, select

from reviewapp import audit
from reviewapp.audit import Actor
from reviewapp.audit.models import AuditEntry
from reviewapp.auth.models import User
from reviewapp.demo.applications import applications_step
from reviewapp.demo.context import DEMO_USERS, DemoContext, DemoError, accounts_step
from reviewapp.demo.panels import panels_step
from reviewapp.demo.publicity import publicity_step
from reviewapp.demo.ranking import ranking_step
from reviewapp.demo.reports import demo_reports
from reviewapp.demo.rounds import demo_round
from reviewapp.demo.scoring import scoring_step
from reviewapp.settings import Settings

__all__ = ["DEMO_USERS", "DemoError", "demo_logins", "load_demo"]

DEMO_LOADED = "demo.load"  # the audit action that marks a database as holding the demo

# The steps in the order of a round.
DEMO_STEPS: list[Callable[[DemoContext], None]] = [
    accounts_step,
    demo_round,
    applications_step,
    panels_step,
    scoring_step,
    ranking_step,
    publicity_step,
    demo_reports,
]


def load_demo(session: Session, *, settings: Settings) -> list[tuple[str, str, str]]:
    """Run every demo step on an empty database; return the demo logins (username, password, role label)."""
    if session.exec(select(func.count()).select_from(User)).one():
        raise DemoError("数据库中已有用户，演示数据只能载入空数据库。")
    ctx = DemoContext(session=session, settings=settings, actor=Actor.system("演示数据"))
    for step in DEMO_STEPS:
        step(ctx)
        session.flush()
    audit.record(
        session, actor=ctx.actor, action=DEMO_LOADED, entity_type="demo", summary="载入演示数据（演示账号显示在登录页）"
    )
    return all_logins()


def all_logins() -> list[tuple[str, str, str]]:
    return [(username, password, role.label) for username, _name, role, password in DEMO_USERS]


def demo_logins(session: Session, *, settings: Settings) -> list[tuple[str, str, str]]:
    """The logins the login page shows: only when the demo was loaded into this database, never in production."""
    if settings.is_production:
        return []
    loaded = session.exec(select(AuditEntry.id).where(AuditEntry.action == DEMO_LOADED).limit(1)).first()
    return all_logins() if loaded is not None else []
