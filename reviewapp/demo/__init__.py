"""The demo dataset: loaded into an empty database by `reviewapp demo`. One package whose steps import the
domains (never the reverse); each step reads what earlier ones made and adds its own."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session, func, select

from reviewapp.audit import Actor
from reviewapp.auth.models import User
from reviewapp.demo.applications import applications_step
from reviewapp.demo.context import DEMO_USERS, DemoContext, DemoError, accounts_step
from reviewapp.demo.panels import panels_step
from reviewapp.demo.ranking import ranking_step
from reviewapp.demo.reports import demo_reports
from reviewapp.demo.rounds import demo_round
from reviewapp.demo.scoring import scoring_step
from reviewapp.settings import Settings

__all__ = ["DEMO_USERS", "DemoError", "load_demo"]

# The steps in the order of a round.
DEMO_STEPS: list[Callable[[DemoContext], None]] = [
    accounts_step,
    demo_round,
    applications_step,
    panels_step,
    scoring_step,
    ranking_step,
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
    return [(username, password, role.label) for username, _name, role, password in DEMO_USERS]
