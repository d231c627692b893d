"""The demo dataset: loaded into an empty database by `reviewapp demo`; later capabilities extend it."""

from __future__ import annotations

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


def load_demo(session: Session, *, settings: Settings) -> list[tuple[str, str, str]]:
    """Create the demo accounts (and, as capabilities land, a demo round). Refuses a non-empty database."""
    if session.exec(select(func.count()).select_from(User)).one():
        raise DemoError("数据库中已有用户，演示数据只能载入空数据库。")
    actor = Actor.system("演示数据")
    logins: list[tuple[str, str, str]] = []
    for username, name, role, password in DEMO_USERS:
        accounts.create_user(
            session,
            actor=actor,
            username=username,
            display_name=name,
            role=role,
            password=password,
            must_change_password=False,
            settings=settings,
        )
        logins.append((username, password, role.label))
    return logins
