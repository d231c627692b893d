"""Rounds (批次): create, edit under optimistic locking, freeze; and reading and copying criteria versions (要素条件),
which a round needs when it takes one. Listing, importing and deleting versions live in criteria.py, editing a
version's tree in criteria_editor.py.

Every operation writes its audit entry in the caller's transaction; the caller commits.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from reviewapp import audit
from reviewapp.audit import Actor
from reviewapp.clock import utcnow
from reviewapp.errors import Conflict, NotFound, ServiceError
from reviewapp.rounds import rules
from reviewapp.rounds.models import (
    TIER_LABELS,
    Aggregation,
    CriteriaNode,
    CriteriaVersion,
    NodeKind,
    Round,
    Scenario,
    Tier,
)
from reviewapp.rounds.rules import CriteriaTree

audit.register_labels(
    actions={
        "round.create": "创建评审批次",
        "round.update": "修改批次设置",
        "round.scoring_started": "批次开始评分",
        "criteria.create": "新建要素条件版本",
        "criteria.copy": "复制要素条件版本",
        "criteria.import": "导入要素条件",
        "criteria.seed": "载入要素条件模板",
        "criteria.update": "修改要素条件版本信息",
        "criteria.delete": "删除要素条件版本",
        "criteria.freeze": "冻结要素条件",
        "criteria.node_add": "添加要素条件维度或条目",
        "criteria.node_update": "修改要素条件维度或条目",
        "criteria.node_delete": "删除要素条件维度或条目",
        "criteria.node_move": "调整要素条件顺序",
    },
    entities={"round": "评审批次", "criteria_version": "要素条件版本"},
)

STALE_ROUND = "该批次的设置已被他人修改，请刷新后重试。您这次的修改未保存。"
STALE_CRITERIA = "该要素条件已被他人修改，请刷新后重试。您这次的修改未保存。"


# --- rounds ---------------------------------------------------------------------------------------

# Settings a round form edits, in the order the audit shows them. Lists are stored as JSON columns.
ROUND_SETTINGS = (
    "name",
    "year",
    "tier",
    "criteria_version_id",
    "scenario_catalogue_version",
    "application_close",
    "scoring_deadline",
    "publicity_working_days",
    "aggregation",
    "min_scorers",
    "opinion_min_length",
    "outlier_threshold",
    "gate_failure_vetoes",
    "tie_break",
    "min_maturity_level",
    "min_scenarios",
    "required_stages",
    "branch_industries",
    "coi_same_credit_code",
    "coi_employment",
    "coi_employment_years",
    "coi_provider",
    "coi_declared_relation",
    "coi_same_city",
    "pledge_text",
    "validity_years",
    "publish_scores",
)
_JSON_LISTS = {
    "tie_break": "tie_break_json",
    "required_stages": "required_stages_json",
    "branch_industries": "branch_industries_json",
}


def get_round(session: Session, round_id: int, *, for_update: bool = False) -> Round:
    stmt = select(Round).where(Round.id == round_id)
    if for_update:
        stmt = stmt.with_for_update()
    rnd = session.exec(stmt).first()
    if rnd is None:
        raise NotFound("未找到该评审批次。")
    return rnd


def round_settings(rnd: Round) -> dict[str, Any]:
    """The round's editable settings as plain values (lists decoded)."""
    out: dict[str, Any] = {}
    for name in ROUND_SETTINGS:
        out[name] = json.loads(getattr(rnd, _JSON_LISTS[name]) or "[]") if name in _JSON_LISTS else getattr(rnd, name)
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return rules.fmt_points(value)
    return value


def field_diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = [k for k in after if _jsonable(before.get(k)) != _jsonable(after.get(k))]
    return {k: _jsonable(before.get(k)) for k in keys}, {k: _jsonable(after[k]) for k in keys}


def catalogue_versions(session: Session) -> list[str]:
    return sorted(set(session.exec(select(Scenario.catalogue_version))), reverse=True)


def catalogue_stages(session: Session, version: str) -> list[str]:
    rows = session.exec(
        select(Scenario.stage, func.min(Scenario.stage_no))
        .where(Scenario.catalogue_version == version)
        .group_by(Scenario.stage)
        .order_by(func.min(Scenario.stage_no))
    ).all()
    return [stage for stage, _no in rows]


def check_round_values(session: Session, values: dict[str, Any], *, round_id: int | None, tz: Any) -> dict[str, str]:
    """Every problem with a round's settings (field → message): domain rules beyond each field's own range."""
    problems: dict[str, str] = {}
    name = (values.get("name") or "").strip()
    if not name:
        problems["name"] = "「批次名称」为必填项。"
    else:
        same = select(Round.id).where(Round.name == name)
        if round_id is not None:
            same = same.where(Round.id != round_id)
        if session.exec(same).first() is not None:
            problems["name"] = f"已有名为「{name}」的批次，请换一个名称。"
    if values.get("tier") not in {t.value for t in Tier}:
        problems["tier"] = "「级别」应为基础级、先进级、卓越级或领航级。"
    if values.get("aggregation") not in {a.value for a in Aggregation}:
        problems["aggregation"] = "「汇总方式」的取值无效。"
    catalogue = values.get("scenario_catalogue_version")
    known_catalogues = catalogue_versions(session)
    if catalogue not in known_catalogues:
        problems["scenario_catalogue_version"] = (
            "「场景目录版本」应为已载入的目录版本：" + "、".join(known_catalogues) + "。"
        )
    else:
        stages = catalogue_stages(session, catalogue)
        unknown = [s for s in values.get("required_stages") or [] if s not in stages]
        if unknown:
            problems["required_stages"] = f"环节「{'、'.join(unknown)}」不在 {catalogue} 版场景目录中。"
    version_id = values.get("criteria_version_id")
    if version_id is not None and session.get(CriteriaVersion, version_id) is None:
        problems["criteria_version_id"] = "所选的要素条件版本不存在。"
    for key, message in rules.round_setting_problems(values, tz=tz).items():
        problems.setdefault(key, message)
    return problems


def raise_first(problems: dict[str, str]) -> None:
    if problems:
        field, message = next(iter(problems.items()))
        raise ServiceError(message, field=field)


def _apply(rnd: Round, values: dict[str, Any]) -> None:
    for name, value in values.items():
        if name in _JSON_LISTS:
            setattr(rnd, _JSON_LISTS[name], json.dumps(list(value or []), ensure_ascii=False))
        elif name == "name":
            rnd.name = value.strip()
        elif name != "criteria_version_id":
            setattr(rnd, name, value)


def rounds_using(session: Session, version_ids: list[int] | None = None) -> dict[int, Round]:
    """Which round uses each criteria version (a round owns its version alone)."""
    stmt = select(Round).where(Round.criteria_version_id.is_not(None))  # type: ignore[union-attr]
    if version_ids is not None:
        stmt = stmt.where(Round.criteria_version_id.in_(version_ids or [-1]))  # type: ignore[union-attr]
    return {r.criteria_version_id: r for r in session.exec(stmt)}  # type: ignore[misc]


def _attach_criteria(session: Session, *, actor: Actor, rnd: Round, version_id: int | None) -> None:
    """Point the round at a version; a template (or a version another round uses) is copied for it first."""
    if version_id == rnd.criteria_version_id:
        return
    refusal = rules.criteria_change_refusal(scoring_started=rnd.scoring_started_at is not None)
    if refusal:
        raise ServiceError(refusal, field="criteria_version_id")
    if version_id is None:
        rnd.criteria_version_id = None
        return
    version = get_version(session, version_id)
    other = rounds_using(session, [version_id]).get(version_id)
    if rules.round_needs_copy(
        is_template=version.is_template,
        used_by_other_round=other is not None and other.id != rnd.id,
        frozen=version.frozen_at is not None,
    ):
        version = copy_version(session, actor=actor, version_id=version.id, name=f"{rnd.name}·要素条件")  # type: ignore[arg-type]
    rnd.criteria_version_id = version.id


def create_round(
    session: Session,
    *,
    actor: Actor,
    name: str,
    tier: Tier | str,
    year: int,
    tz: Any,
    settings: dict[str, Any] | None = None,
) -> Round:
    """A new round with the model's defaults, the tier's defaults, then whatever `settings` gives."""
    tier = Tier(tier)
    defaults = rules.tier_defaults(tier)
    rnd = Round(name=name.strip(), year=year, tier=tier.value)
    values = round_settings(rnd)
    values.update(defaults)
    values.update(settings or {})
    values.update(name=name.strip(), year=year, tier=tier.value)
    raise_first(check_round_values(session, values, round_id=None, tz=tz))
    _apply(rnd, values)
    session.add(rnd)
    session.flush()
    _attach_criteria(session, actor=actor, rnd=rnd, version_id=values.get("criteria_version_id"))
    session.add(rnd)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="round.create",
        entity_type="round",
        entity_id=rnd.id,
        summary=f"创建评审批次「{rnd.name}」（{TIER_LABELS[tier]}，{year}年）",
        after={k: _jsonable(v) for k, v in round_settings(rnd).items()},
    )
    return rnd


def update_round(
    session: Session, *, actor: Actor, round_id: int, row_version: int, values: dict[str, Any], tz: Any
) -> Round:
    """Change a round's settings; a form loaded before someone else's save is refused, nothing overwritten."""
    rnd = get_round(session, round_id, for_update=True)
    if rnd.row_version != row_version:
        raise Conflict(STALE_ROUND)
    before = round_settings(rnd)
    merged = {**before, **values}
    raise_first(check_round_values(session, merged, round_id=rnd.id, tz=tz))
    _apply(rnd, values)
    _attach_criteria(session, actor=actor, rnd=rnd, version_id=merged.get("criteria_version_id"))
    old, new = field_diff(before, round_settings(rnd))
    if not new:
        return rnd
    rnd.row_version += 1
    rnd.updated_at = utcnow()
    session.add(rnd)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="round.update",
        entity_type="round",
        entity_id=rnd.id,
        summary=f"修改批次「{rnd.name}」的设置（{len(new)} 项）",
        before=old,
        after=new,
    )
    return rnd


def mark_scoring_started(session: Session, *, actor: Actor, round_id: int) -> Round:
    """Called by scoring when the first expert may score: the round's criteria version is frozen from now on."""
    rnd = get_round(session, round_id, for_update=True)
    if rnd.scoring_started_at is not None:
        return rnd
    if rnd.criteria_version_id is None:
        raise ServiceError("本批次尚未选择要素条件，不能开始评分。")
    tree = criteria_tree(session, rnd.criteria_version_id)
    if not tree.items:
        raise ServiceError("本批次的要素条件中没有任何条目，不能开始评分。")
    now = utcnow()
    rnd.scoring_started_at = now
    rnd.row_version += 1
    session.add(rnd)
    version = session.exec(
        select(CriteriaVersion).where(CriteriaVersion.id == rnd.criteria_version_id).with_for_update()
    ).one()
    audit.record(
        session,
        actor=actor,
        action="round.scoring_started",
        entity_type="round",
        entity_id=rnd.id,
        summary=f"批次「{rnd.name}」开始评分",
        after={"scoring_started_at": now.isoformat()},
    )
    if version.frozen_at is None:
        version.frozen_at = now
        version.row_version += 1
        session.add(version)
        audit.record(
            session,
            actor=actor,
            action="criteria.freeze",
            entity_type="criteria_version",
            entity_id=version.id,
            summary=f"批次「{rnd.name}」开始评分，要素条件「{version.name}」冻结",
            after={"frozen_at": now.isoformat(), "round_id": rnd.id},
        )
    session.flush()
    return rnd


def list_rounds_query(*, q: str = "", year: int | None = None, tier: str = ""):  # type: ignore[no-untyped-def]
    stmt = select(Round)
    if q:
        stmt = stmt.where(Round.name.like(f"%{q.strip()}%"))  # type: ignore[attr-defined]
    if year:
        stmt = stmt.where(Round.year == year)
    if tier:
        stmt = stmt.where(Round.tier == tier)
    return stmt.order_by(Round.year.desc(), Round.id.desc())  # type: ignore[attr-defined]


# --- criteria versions ----------------------------------------------------------------------------


def get_version(session: Session, version_id: int, *, for_update: bool = False) -> CriteriaVersion:
    stmt = select(CriteriaVersion).where(CriteriaVersion.id == version_id)
    if for_update:
        stmt = stmt.with_for_update()
    version = session.exec(stmt).first()
    if version is None:
        raise NotFound("未找到该要素条件版本。")
    return version


def nodes_of(session: Session, version_id: int) -> list[CriteriaNode]:
    return list(session.exec(select(CriteriaNode).where(CriteriaNode.version_id == version_id)))


def criteria_tree(session: Session, version_id: int) -> CriteriaTree:
    """A version's dimensions with their items in order, with per-dimension and overall totals."""
    return rules.build_tree(nodes_of(session, version_id), version_id=version_id)


COPIED_TEMPLATE_NOTE = "复制自系统模板。模板的分值与评分指引是示例，不是官方原文，请按本省要求核对修改。"


def node_dict(node: CriteriaNode) -> dict[str, Any]:
    out: dict[str, Any] = {"code": node.code, "title": node.title, "kind": node.kind}
    if node.kind == NodeKind.points.value:
        out.update(max_points=rules.fmt_points(node.max_points), step=rules.fmt_points(node.step))
    if node.guidance:
        out["guidance"] = node.guidance
    return out


def version_summary(session: Session, version: CriteriaVersion) -> dict[str, Any]:
    tree = criteria_tree(session, version.id)  # type: ignore[arg-type]
    return {
        "name": version.name,
        "tier": version.tier,
        "dimensions": len(tree.dimensions),
        "items": tree.item_count,
        "gates": tree.gate_count,
        "total": rules.fmt_points(tree.total),
    }


def _copy_nodes(session: Session, *, source_id: int, target_id: int) -> None:
    tree = criteria_tree(session, source_id)
    for d_order, dim in enumerate(tree.dimensions, start=1):
        new_dim = CriteriaNode(
            version_id=target_id,
            parent_id=None,
            kind=NodeKind.dimension.value,
            code=dim.code,
            title=dim.title,
            guidance=dim.guidance,
            max_points=Decimal("0"),
            step=Decimal("0"),
            sort_order=d_order,
        )
        session.add(new_dim)
        session.flush()
        for i_order, item in enumerate(dim.items, start=1):
            session.add(
                CriteriaNode(
                    version_id=target_id,
                    parent_id=new_dim.id,
                    kind=item.kind,
                    code=item.code,
                    title=item.title,
                    guidance=item.guidance,
                    max_points=item.max_points,
                    step=item.step,
                    sort_order=i_order,
                )
            )
    session.flush()


def copy_version(session: Session, *, actor: Actor, version_id: int, name: str | None = None) -> CriteriaVersion:
    """A new, unfrozen, non-template version with the same tree; `based_on_id` remembers the source."""
    source = get_version(session, version_id)
    new_name = (name or f"{source.name}（副本）").strip()[:120]
    check_version_meta(new_name, source.tier, source.note)
    note = COPIED_TEMPLATE_NOTE if source.is_template else source.note
    copy = CriteriaVersion(name=new_name, tier=source.tier, note=note, based_on_id=source.id)
    session.add(copy)
    session.flush()
    _copy_nodes(session, source_id=source.id, target_id=copy.id)  # type: ignore[arg-type]
    audit.record(
        session,
        actor=actor,
        action="criteria.copy",
        entity_type="criteria_version",
        entity_id=copy.id,
        summary=f"复制要素条件「{source.name}」为新版本「{copy.name}」",
        after={"based_on_id": source.id, **version_summary(session, copy)},
    )
    return copy


def check_version_meta(name: str, tier: str, note: str) -> None:
    if not name.strip():
        raise ServiceError("「版本名称」为必填项。", field="name")
    if len(name.strip()) > 120:
        raise ServiceError("「版本名称」不能超过 120 个字符。", field="name")
    if tier not in {t.value for t in Tier}:
        raise ServiceError("「适用级别」应为基础级、先进级、卓越级或领航级。", field="tier")
    if len(note) > 500:
        raise ServiceError("「说明」不能超过 500 个字符。", field="note")
