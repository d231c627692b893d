"""What the demo steps share: the demo accounts, the context each step reads and adds to, and fictitious codes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from reviewapp.applications.rules import CREDIT_CODE_CHARS, credit_code_check_char
from reviewapp.audit import Actor
from reviewapp.auth import service as accounts
from reviewapp.auth.models import Role, User
from reviewapp.settings import Settings


class DemoError(RuntimeError):
    pass


DEMO_USERS = [
    ("admin", "系统管理员", Role.sysadmin, "admin-demo-2026"),
    ("secadmin", "安全管理员", Role.secadmin, "secadmin-demo-2026"),
    ("auditor", "审计管理员", Role.auditadmin, "auditor-demo-2026"),
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


def accounts_step(ctx: DemoContext) -> None:
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


def demo_credit_code(seed: str) -> str:
    """A well-formed 统一社会信用代码 derived from `seed` (fictitious: it passes the check, names no real firm)."""
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    # 91 (enterprise) + a Shandong division code (digits, as the check requires) + a 9-character organisation code.
    division = "37" + "".join(str(b % 10) for b in digest[:4])
    body = "91" + division + "".join(CREDIT_CODE_CHARS[b % 31] for b in digest[4:13])
    return body + credit_code_check_char(body)
