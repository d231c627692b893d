"""The security policy (one row, edited by the security administrator): password rules, lockout, sessions and the
address ranges allowed to reach administrator pages."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from reviewapp import audit
from reviewapp.audit import Actor
from reviewapp.auth.models import SecurityPolicy
from reviewapp.auth.rules import parse_networks
from reviewapp.clock import utcnow
from reviewapp.errors import ServiceError
from reviewapp.settings import Settings

audit.register_labels(actions={"policy.update": "修改安全策略"}, entities={"security_policy": "安全策略"})

# Field name -> (label, lowest, highest) of the policy's whole-number settings.
NUMBER_LIMITS: dict[str, tuple[str, int, int]] = {
    "password_min_length": ("密码最短长度", 8, 64),
    "password_min_classes": ("密码至少包含的字符类别数", 1, 4),
    "password_expiry_days": ("密码有效期（天，0 为不过期）", 0, 3650),
    "password_history": ("不得与最近几次密码相同", 0, 24),
    "lockout_failures": ("连续登录失败次数上限", 3, 100),
    "lockout_minutes": ("锁定时长（分钟）", 1, 1440),
    "idle_minutes": ("无操作自动退出（分钟）", 5, 1440),
}
POLICY_FIELDS = [*NUMBER_LIMITS, "single_session", "admin_networks"]


def default_policy(settings: Settings) -> SecurityPolicy:
    """The policy before the security administrator first saves one: the deployment's settings."""
    return SecurityPolicy(
        id=1,
        password_min_length=max(8, settings.password_min_length),
        lockout_failures=settings.login_max_failures,
        lockout_minutes=settings.login_window_minutes,
        idle_minutes=settings.session_idle_minutes,
    )


def current_policy(session: Session, settings: Settings) -> SecurityPolicy:
    return session.get(SecurityPolicy, 1) or default_policy(settings)


def policy_from_row(values: dict[str, Any], idle_minutes: int) -> SecurityPolicy:
    """The policy from the session lookup's joined columns (all None before the policy is first saved: then
    the defaults, with the setting's idle timeout). Built without validation: the database's own values."""
    if values.get("id") is None:
        return SecurityPolicy.model_construct(**{**_MODEL_DEFAULTS, "idle_minutes": idle_minutes})
    return SecurityPolicy.model_construct(**values)


_MODEL_DEFAULTS = SecurityPolicy().model_dump()  # once: this runs on every request


def _snapshot(policy: SecurityPolicy) -> dict[str, Any]:
    return {name: getattr(policy, name) for name in POLICY_FIELDS}


def update_policy(session: Session, *, actor: Actor, values: dict[str, Any], settings: Settings) -> SecurityPolicy:
    """Save the policy (audited with before and after). `values` are already whole numbers where they must be."""
    for name, (label, low, high) in NUMBER_LIMITS.items():
        value = values[name]
        if not low <= value <= high:
            raise ServiceError(f"{label}应在 {low} 到 {high} 之间。", field=name)
    networks, bad = parse_networks(values["admin_networks"])
    if bad:
        raise ServiceError(
            f"地址范围格式不正确：{bad[0]}（示例：10.1.0.0/16 或 192.168.1.20）。", field="admin_networks"
        )
    policy = session.get(SecurityPolicy, 1, with_for_update=True)
    if policy is None:
        policy = default_policy(settings)
    before = _snapshot(policy)
    for name in POLICY_FIELDS:
        setattr(policy, name, values[name])
    policy.admin_networks = "\n".join(str(n) for n in networks)
    policy.updated_at = utcnow()
    policy.updated_by = actor.name[:64]
    session.add(policy)
    after = _snapshot(policy)
    changed = {k: v for k, v in after.items() if before[k] != v}
    labels = {
        **{k: v[0] for k, v in NUMBER_LIMITS.items()},
        "single_session": "单一会话",
        "admin_networks": "管理地址范围",
    }
    audit.record(
        session,
        actor=actor,
        action="policy.update",
        entity_type="security_policy",
        entity_id=1,
        summary="修改安全策略：" + ("、".join(labels[k] for k in changed) if changed else "无变化"),
        before={k: before[k] for k in changed},
        after=changed,
    )
    return policy
