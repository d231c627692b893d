"""The demo dataset: loaded into an empty database by `reviewapp demo`; each capability adds a step."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, func, select

from reviewapp.audit import Actor
from reviewapp.auth import service as accounts
from reviewapp.auth.models import Role, User
from reviewapp.settings import Settings


class DemoError(RuntimeError):
    pass


DEMO_USERS = [
    ("admin", "系统管理员", Role.admin, "admin-demo-2026"),
    ("staff", "王工作", Role.staff, "staff-demo-2026"),
    ("expert1", "李专家", Role.expert, "expert-demo-2026"),
    ("expert2", "张专家", Role.expert, "expert-demo-2026"),
    ("expert3", "陈专家", Role.expert, "expert-demo-2026"),
    ("expert4", "刘专家", Role.expert, "expert-demo-2026"),
    ("expert5", "赵专家", Role.expert, "expert-demo-2026"),
]


@dataclass
class DemoContext:
    """What the demo steps share: each step reads what earlier ones made and adds its own."""

    session: Session
    settings: Settings
    actor: Actor
    users: dict[str, User] = field(default_factory=dict)
    objects: dict[str, Any] = field(default_factory=dict)  # e.g. "round", "applications", "panels"


def _accounts(ctx: DemoContext) -> None:
    for username, name, role, password in DEMO_USERS:
        ctx.users[username] = accounts.create_user(
            ctx.session,
            actor=ctx.actor,
            username=username,
            display_name=name,
            role=role,
            password=password,
            must_change_password=False,
            settings=ctx.settings,
        )


# Steps run in order; a capability appends its step (a function of DemoContext) here.
DEMO_STEPS: list[Callable[[DemoContext], None]] = [_accounts]


def load_demo(session: Session, *, settings: Settings) -> list[tuple[str, str, str]]:
    """Run every demo step on an empty database; return the demo logins (username, password, role label)."""
    if session.exec(select(func.count()).select_from(User)).one():
        raise DemoError("数据库中已有用户，演示数据只能载入空数据库。")
    ctx = DemoContext(session=session, settings=settings, actor=Actor.system("演示数据"))
    for step in DEMO_STEPS:
        step(ctx)
        session.flush()
    return [(username, password, role.label) for username, _name, role, password in DEMO_USERS]


# Capabilities' steps in the order of a round; imported last because they import DemoContext from here.
from reviewapp.applications.demo import applications_step  # noqa: E402
from reviewapp.panels.demo import panels_step  # noqa: E402
from reviewapp.ranking.demo import ranking_step  # noqa: E402
from reviewapp.reports.demo import demo_reports  # noqa: E402
from reviewapp.rounds.demo import demo_round  # noqa: E402
from reviewapp.scoring.demo import scoring_step  # noqa: E402

DEMO_STEPS.extend([demo_round, applications_step, panels_step, scoring_step, ranking_step, demo_reports])
