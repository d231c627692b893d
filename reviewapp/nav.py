"""The navigation bar: each entry names the roles that see it."""

from __future__ import annotations

from dataclasses import dataclass

from reviewapp.auth.models import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    roles: frozenset[str]


# In the order of a round's work.
NAV: list[NavItem] = [
    NavItem("首页", "/", frozenset({Role.admin, Role.staff, Role.expert})),
    NavItem("评审批次", "/rounds", frozenset({Role.admin, Role.staff})),
    NavItem("要素条件", "/criteria", frozenset({Role.admin, Role.staff})),
    NavItem("申报审查", "/applications", frozenset({Role.admin, Role.staff})),
    NavItem("专家库", "/experts", frozenset({Role.admin, Role.staff})),
    NavItem("专家组", "/panels", frozenset({Role.admin, Role.staff})),
    NavItem("专家抽取", "/pool/draws", frozenset({Role.admin, Role.staff})),
    NavItem("我的评审", "/expert/rounds", frozenset({Role.expert})),
    NavItem("排名推荐", "/ranking", frozenset({Role.admin, Role.staff})),
    NavItem("抽查公示", "/publicity", frozenset({Role.admin, Role.staff})),
    NavItem("异议处理", "/objections", frozenset({Role.admin, Role.staff})),
    NavItem("认定管理", "/certifications", frozenset({Role.admin, Role.staff})),
    NavItem("举报核查", "/reports", frozenset({Role.admin, Role.staff})),
    NavItem("操作日志", "/audit", frozenset({Role.admin, Role.staff})),
    NavItem("用户管理", "/admin/users", frozenset({Role.admin})),
]


def nav_for(user) -> list[NavItem]:  # type: ignore[no-untyped-def]
    if user is None:
        return []
    return [item for item in NAV if user.role in item.roles]
