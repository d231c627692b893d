"""The navigation bar: each entry names the roles that see it."""

from __future__ import annotations

from dataclasses import dataclass

from reviewapp.auth.models import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    roles: frozenset[str]


STAFF = frozenset({Role.staff})

# In the order of a round's work.
NAV: list[NavItem] = [
    NavItem("首页", "/", frozenset(Role)),
    NavItem("评审批次", "/rounds", STAFF),
    NavItem("要素条件", "/criteria", STAFF),
    NavItem("申报审查", "/applications", STAFF),
    NavItem("专家库", "/experts", STAFF),
    NavItem("专家组", "/panels", STAFF),
    NavItem("专家抽取", "/pool/draws", STAFF),
    NavItem("我的评审", "/expert/rounds", frozenset({Role.expert})),
    NavItem("排名推荐", "/ranking", STAFF),
    NavItem("抽查公示", "/publicity", STAFF),
    NavItem("异议处理", "/objections", STAFF),
    NavItem("认定管理", "/certifications", STAFF),
    NavItem("举报核查", "/reports", STAFF),
    NavItem("操作日志", "/audit", frozenset({Role.staff, Role.auditadmin})),
    # 三员分立: each administrator sees only his own pages.
    NavItem("用户管理", "/admin/users", frozenset({Role.sysadmin})),
    NavItem("角色授权", "/admin/roles", frozenset({Role.secadmin})),
    NavItem("安全策略", "/admin/policy", frozenset({Role.secadmin})),
    NavItem("帮助", "/help/", frozenset(Role)),  # the user guide (docs/), for every role
]


def nav_for(user) -> list[NavItem]:  # type: ignore[no-untyped-def]
    if user is None:
        return []
    return [item for item in NAV if user.role in item.roles]
