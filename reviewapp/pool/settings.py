"""The pool's rules staff may change (one row): the evaluation score below which an expert is suspended from
draws, and the default suspension length the evaluation form offers."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from reviewapp import audit
from reviewapp.audit import Actor
from reviewapp.clock import utcnow
from reviewapp.errors import Conflict as StaleEdit
from reviewapp.errors import ServiceError
from reviewapp.pool import rules
from reviewapp.pool.models import PoolSettings
from reviewapp.rounds.rules import fmt_points

audit.register_labels(actions={"pool.settings": "修改专家库规则"}, entities={"pool_settings": "专家库规则"})

MAX_MONTHS = 60


def current(session: Session) -> PoolSettings:
    """The saved settings, or the defaults when none were saved."""
    return session.get(PoolSettings, 1) or PoolSettings(
        suspend_below=rules.DEFAULT_SUSPEND_BELOW, suspend_months=rules.DEFAULT_SUSPEND_MONTHS, row_version=0
    )


def parse_below(text: str) -> Decimal:
    try:
        value = Decimal((text or "").strip())
    except InvalidOperation:
        raise ServiceError("暂停阈值应为数字，如 2.5。", field="suspend_below") from None
    if not value.is_finite() or not Decimal(1) < value <= Decimal(5) or value != value.quantize(Decimal("0.01")):
        raise ServiceError("暂停阈值应大于 1、不超过 5，最多两位小数（如 2.5）。", field="suspend_below")
    return value


def parse_months(text: str) -> int:
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()) or not 0 <= int(text) <= MAX_MONTHS:
        raise ServiceError(f"暂停期限应为 0–{MAX_MONTHS} 之间的整数（月），0 表示不暂停。", field="suspend_months")
    return int(text)


def save(session: Session, *, actor: Actor, suspend_below: str, suspend_months: str, row_version: int) -> PoolSettings:
    below, months = parse_below(suspend_below), parse_months(suspend_months)
    row = session.get(PoolSettings, 1, with_for_update=True)
    seen = row.row_version if row is not None else 0
    if row_version != seen:
        raise StaleEdit("专家库规则已被其他工作人员修改，请刷新页面查看最新设置后再保存。")
    old = row or current(session)
    before = {"suspend_below": str(old.suspend_below), "suspend_months": old.suspend_months}
    row = row or PoolSettings(id=1, row_version=0)
    row.suspend_below, row.suspend_months = below, months
    row.updated_at, row.updated_by = utcnow(), actor.name[:64]
    row.row_version += 1
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:  # two first saves at once: the other one made the row
        raise StaleEdit("专家库规则已被其他工作人员修改，请刷新页面查看最新设置后再保存。") from exc
    audit.record(
        session,
        actor=actor,
        action="pool.settings",
        entity_type="pool_settings",
        entity_id=1,
        summary=f"专家评价综合得分低于 {fmt_points(below)} 分暂停抽取，默认暂停 {months} 个月",
        before=before,
        after={"suspend_below": str(below), "suspend_months": months},
    )
    return row
