"""Rounds (批次) and criteria versions (要素条件): create, edit under optimistic locking, copy, import, freeze.

Every operation writes its audit entry in the caller's transaction; the caller commits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, func, or_
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
from reviewapp.rounds.rules import CriteriaTree, EditMode, NodeDraft, ParsedCriteria

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
COPIED_TEMPLATE_NOTE = "复制自系统模板。模板的分值与评分指引是示例，不是官方原文，请按本省要求核对修改。"
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


def _diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
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


def _raise_first(problems: dict[str, str]) -> None:
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
    _raise_first(check_round_values(session, values, round_id=None, tz=tz))
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
    _raise_first(check_round_values(session, merged, round_id=rnd.id, tz=tz))
    _apply(rnd, values)
    _attach_criteria(session, actor=actor, rnd=rnd, version_id=merged.get("criteria_version_id"))
    old, new = _diff(before, round_settings(rnd))
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


@dataclass
class EditOutcome:
    """The version the edit landed in; `forked` when a frozen version was copied to take it."""

    version: CriteriaVersion
    forked: bool = False
    node: CriteriaNode | None = None


def get_version(session: Session, version_id: int, *, for_update: bool = False) -> CriteriaVersion:
    stmt = select(CriteriaVersion).where(CriteriaVersion.id == version_id)
    if for_update:
        stmt = stmt.with_for_update()
    version = session.exec(stmt).first()
    if version is None:
        raise NotFound("未找到该要素条件版本。")
    return version


def _nodes(session: Session, version_id: int) -> list[CriteriaNode]:
    return list(session.exec(select(CriteriaNode).where(CriteriaNode.version_id == version_id)))


def criteria_tree(session: Session, version_id: int) -> CriteriaTree:
    """A version's dimensions with their items in order, with per-dimension and overall totals."""
    return rules.build_tree(_nodes(session, version_id), version_id=version_id)


def list_versions_query(*, q: str = "", kind: str = ""):  # type: ignore[no-untyped-def]
    stmt = select(CriteriaVersion)
    if q:
        stmt = stmt.where(CriteriaVersion.name.like(f"%{q.strip()}%"))  # type: ignore[attr-defined]
    used = exists().where(Round.criteria_version_id == CriteriaVersion.id)
    if kind == "template":
        stmt = stmt.where(CriteriaVersion.is_template == True)  # noqa: E712
    elif kind == "in_use":
        stmt = stmt.where(used)
    elif kind == "frozen":
        stmt = stmt.where(CriteriaVersion.frozen_at.is_not(None))  # type: ignore[union-attr]
    elif kind == "free":
        stmt = stmt.where(CriteriaVersion.is_template == False, ~used)  # noqa: E712
    return stmt.order_by(CriteriaVersion.is_template.desc(), CriteriaVersion.id.desc())  # type: ignore[attr-defined]


def version_choices(session: Session, *, current_id: int | None) -> list[CriteriaVersion]:
    """Versions a round may choose: templates (copied on choice), versions no round uses, and its current one."""
    used = exists().where(Round.criteria_version_id == CriteriaVersion.id)
    stmt = select(CriteriaVersion).where(
        or_(CriteriaVersion.is_template == True, ~used, CriteriaVersion.id == (current_id or -1))  # noqa: E712
    )
    return list(session.exec(stmt.order_by(CriteriaVersion.is_template.desc(), CriteriaVersion.id.desc())))  # type: ignore[attr-defined]


def _node_dict(node: CriteriaNode) -> dict[str, Any]:
    out: dict[str, Any] = {"code": node.code, "title": node.title, "kind": node.kind}
    if node.kind == NodeKind.points.value:
        out.update(max_points=rules.fmt_points(node.max_points), step=rules.fmt_points(node.step))
    if node.guidance:
        out["guidance"] = node.guidance
    return out


def _version_summary(session: Session, version: CriteriaVersion) -> dict[str, Any]:
    tree = criteria_tree(session, version.id)  # type: ignore[arg-type]
    return {
        "name": version.name,
        "tier": version.tier,
        "dimensions": len(tree.dimensions),
        "items": tree.item_count,
        "gates": tree.gate_count,
        "total": rules.fmt_points(tree.total),
    }


def _check_version_meta(name: str, tier: str, note: str) -> None:
    if not name.strip():
        raise ServiceError("「版本名称」为必填项。", field="name")
    if len(name.strip()) > 120:
        raise ServiceError("「版本名称」不能超过 120 个字符。", field="name")
    if tier not in {t.value for t in Tier}:
        raise ServiceError("「适用级别」应为基础级、先进级、卓越级或领航级。", field="tier")
    if len(note) > 500:
        raise ServiceError("「说明」不能超过 500 个字符。", field="note")


def create_version(session: Session, *, actor: Actor, name: str, tier: str, note: str = "") -> CriteriaVersion:
    _check_version_meta(name, tier, note)
    version = CriteriaVersion(name=name.strip(), tier=tier, note=note.strip())
    session.add(version)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="criteria.create",
        entity_type="criteria_version",
        entity_id=version.id,
        summary=f"新建要素条件版本「{version.name}」（空白）",
        after={"name": version.name, "tier": tier},
    )
    return version


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
    _check_version_meta(new_name, source.tier, source.note)
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
        after={"based_on_id": source.id, **_version_summary(session, copy)},
    )
    return copy


def _begin_edit(
    session: Session, *, actor: Actor, version_id: int, row_version: int, is_admin: bool
) -> tuple[CriteriaVersion, bool]:
    """Lock the version, refuse a stale form, and decide where the edit goes (itself, or a copy if frozen)."""
    version = get_version(session, version_id, for_update=True)
    if version.row_version != row_version:
        raise Conflict(STALE_CRITERIA)
    decision = rules.edit_decision(
        is_template=version.is_template, frozen=version.frozen_at is not None, is_admin=is_admin
    )
    if decision.mode == EditMode.refused:
        raise ServiceError(decision.reason)
    if decision.mode == EditMode.new_version:
        return copy_version(session, actor=actor, version_id=version.id, name=f"{version.name}（修订版）"), True  # type: ignore[arg-type]
    version.row_version += 1
    session.add(version)
    return version, False


def _find_node(session: Session, version: CriteriaVersion, node_id: int, *, source_id: int) -> CriteriaNode:
    """The node to edit; after a fork it is the copy's node with the same code."""
    node = session.get(CriteriaNode, node_id)
    if node is None or node.version_id != source_id:
        raise NotFound("未找到该维度或条目，可能已被删除。请刷新页面。")
    if version.id == source_id:
        return node
    found = session.exec(
        select(CriteriaNode).where(CriteriaNode.version_id == version.id, CriteriaNode.code == node.code)
    ).one()
    return found


def _check_code_free(session: Session, version_id: int, code: str, *, except_id: int | None = None) -> None:
    stmt = select(CriteriaNode).where(CriteriaNode.version_id == version_id, CriteriaNode.code == code)
    clash = session.exec(stmt).first()
    if clash is not None and clash.id != except_id:
        raise ServiceError(f"编码 {code} 已被「{clash.title}」使用；同一版本内编码不能重复。", field="code")


def _check_draft(draft: NodeDraft) -> NodeDraft:
    problems = rules.node_problems(draft)
    _raise_first(problems)
    return draft.normalised()


def _dimension(session: Session, version_id: int, dimension_id: int) -> CriteriaNode:
    dim = session.get(CriteriaNode, dimension_id)
    if dim is None or dim.version_id != version_id or dim.parent_id is not None:
        raise ServiceError("所选的维度不存在，请刷新页面。", field="parent_id")
    return dim


def _next_order(session: Session, version_id: int, parent_id: int | None) -> int:
    stmt = select(func.max(CriteriaNode.sort_order)).where(CriteriaNode.version_id == version_id)
    stmt = stmt.where(CriteriaNode.parent_id == parent_id if parent_id else CriteriaNode.parent_id.is_(None))  # type: ignore[union-attr]
    return int(session.exec(stmt).one() or 0) + 1


def _parent_code(session: Session, source_version_id: int, parent_id: int | None) -> str | None:
    if parent_id is None:
        return None
    return _dimension(session, source_version_id, parent_id).code


def _parent_in(session: Session, version: CriteriaVersion, code: str | None) -> int | None:
    if code is None:
        return None
    return session.exec(
        select(CriteriaNode.id).where(CriteriaNode.version_id == version.id, CriteriaNode.code == code)
    ).one()


def add_node(
    session: Session,
    *,
    actor: Actor,
    version_id: int,
    row_version: int,
    is_admin: bool,
    parent_id: int | None,
    draft: NodeDraft,
) -> EditOutcome:
    """Add a dimension (parent_id None) or an item under a dimension, at the end."""
    draft = NodeDraft(**{**draft.__dict__, "kind": NodeKind.dimension.value}) if parent_id is None else draft
    if parent_id is not None and draft.kind not in (NodeKind.points.value, NodeKind.gate.value):
        raise ServiceError("「类型」应为「分值」或「否决项」。", field="kind")
    clean = _check_draft(draft)
    parent_code = _parent_code(session, version_id, parent_id)
    version, forked = _begin_edit(
        session, actor=actor, version_id=version_id, row_version=row_version, is_admin=is_admin
    )
    _check_code_free(session, version.id, clean.code)  # type: ignore[arg-type]
    parent = _parent_in(session, version, parent_code)
    node = CriteriaNode(
        version_id=version.id,
        parent_id=parent,
        kind=clean.kind,
        code=clean.code,
        title=clean.title,  # type: ignore[arg-type]
        guidance=clean.guidance,
        max_points=clean.max_points or Decimal("0"),
        step=clean.step or Decimal("0"),
        sort_order=_next_order(session, version.id, parent),  # type: ignore[arg-type]
    )
    session.add(node)
    session.flush()
    what = "维度" if parent is None else "条目"
    audit.record(
        session,
        actor=actor,
        action="criteria.node_add",
        entity_type="criteria_version",
        entity_id=version.id,
        summary=f"在要素条件「{version.name}」中添加{what} {node.code} {node.title}",
        after=_node_dict(node),
    )
    return EditOutcome(version=version, forked=forked, node=node)


def update_node(
    session: Session,
    *,
    actor: Actor,
    version_id: int,
    row_version: int,
    is_admin: bool,
    node_id: int,
    draft: NodeDraft,
    parent_id: int | None = None,
) -> EditOutcome:
    """Change a dimension or an item; an item may move to another dimension (it goes to the end there)."""
    original = session.get(CriteriaNode, node_id)
    if original is None or original.version_id != version_id:
        raise NotFound("未找到该维度或条目，可能已被删除。请刷新页面。")
    is_dimension = original.parent_id is None
    if is_dimension:
        draft = NodeDraft(**{**draft.__dict__, "kind": NodeKind.dimension.value})
    elif draft.kind not in (NodeKind.points.value, NodeKind.gate.value):
        raise ServiceError("「类型」应为「分值」或「否决项」。", field="kind")
    clean = _check_draft(draft)
    old_parent_code = None if is_dimension else _parent_code(session, version_id, original.parent_id)
    new_parent_code = None if is_dimension else _parent_code(session, version_id, parent_id or original.parent_id)
    version, forked = _begin_edit(
        session, actor=actor, version_id=version_id, row_version=row_version, is_admin=is_admin
    )
    node = _find_node(session, version, node_id, source_id=version_id)
    _check_code_free(session, version.id, clean.code, except_id=node.id)  # type: ignore[arg-type]
    before = _node_dict(node)
    new_parent = _parent_in(session, version, new_parent_code)
    if not is_dimension and new_parent != node.parent_id:
        node.parent_id = new_parent
        node.sort_order = _next_order(session, version.id, new_parent)  # type: ignore[arg-type]
    node.kind, node.code, node.title, node.guidance = clean.kind, clean.code, clean.title, clean.guidance
    node.max_points, node.step = clean.max_points or Decimal("0"), clean.step or Decimal("0")
    session.add(node)
    session.flush()
    after = _node_dict(node)
    if new_parent_code != old_parent_code:
        before["dimension"], after["dimension"] = old_parent_code, new_parent_code
    old, new = _diff(before, after)
    audit.record(
        session,
        actor=actor,
        action="criteria.node_update",
        entity_type="criteria_version",
        entity_id=version.id,
        summary=f"修改要素条件「{version.name}」中的{'维度' if is_dimension else '条目'} {node.code} {node.title}",
        before=old,
        after=new,
    )
    return EditOutcome(version=version, forked=forked, node=node)


def delete_node(
    session: Session, *, actor: Actor, version_id: int, row_version: int, is_admin: bool, node_id: int
) -> EditOutcome:
    """Delete an item, or a dimension together with its items."""
    version, forked = _begin_edit(
        session, actor=actor, version_id=version_id, row_version=row_version, is_admin=is_admin
    )
    node = _find_node(session, version, node_id, source_id=version_id)
    children = list(session.exec(select(CriteriaNode).where(CriteriaNode.parent_id == node.id)))
    before = {**_node_dict(node), "items": [_node_dict(c) for c in children]} if children else _node_dict(node)
    for child in children:
        session.delete(child)
    session.flush()
    session.delete(node)
    session.flush()
    what = "维度" if node.parent_id is None else "条目"
    extra = f"及其下 {len(children)} 个条目" if children else ""
    audit.record(
        session,
        actor=actor,
        action="criteria.node_delete",
        entity_type="criteria_version",
        entity_id=version.id,
        summary=f"删除要素条件「{version.name}」中的{what} {node.code} {node.title}{extra}",
        before=before,
    )
    return EditOutcome(version=version, forked=forked)


def move_node(
    session: Session, *, actor: Actor, version_id: int, row_version: int, is_admin: bool, node_id: int, direction: str
) -> EditOutcome:
    """Move a dimension among dimensions, or an item within its dimension, one place up or down."""
    if direction not in ("up", "down"):
        raise ServiceError("移动方向无效。")
    version, forked = _begin_edit(
        session, actor=actor, version_id=version_id, row_version=row_version, is_admin=is_admin
    )
    node = _find_node(session, version, node_id, source_id=version_id)
    siblings_stmt = select(CriteriaNode).where(CriteriaNode.version_id == version.id)
    siblings_stmt = siblings_stmt.where(
        CriteriaNode.parent_id == node.parent_id if node.parent_id else CriteriaNode.parent_id.is_(None)  # type: ignore[union-attr]
    )
    siblings = sorted(session.exec(siblings_stmt), key=lambda n: (n.sort_order, n.id))
    before_codes = [s.code for s in siblings]
    order = rules.moved_order([s.id for s in siblings], node.id, direction)  # type: ignore[misc]
    by_id = {s.id: s for s in siblings}
    for position, sid in enumerate(order, start=1):
        by_id[sid].sort_order = position
        session.add(by_id[sid])
    session.flush()
    after_codes = [by_id[sid].code for sid in order]
    if after_codes != before_codes:
        moved = "上移" if direction == "up" else "下移"
        audit.record(
            session,
            actor=actor,
            action="criteria.node_move",
            entity_type="criteria_version",
            entity_id=version.id,
            summary=f"将要素条件「{version.name}」中的 {node.code} {node.title}{moved}一位",
            before={"order": before_codes},
            after={"order": after_codes},
        )
    return EditOutcome(version=version, forked=forked, node=node)


def update_version(
    session: Session,
    *,
    actor: Actor,
    version_id: int,
    row_version: int,
    is_admin: bool,
    name: str,
    tier: str,
    note: str,
) -> EditOutcome:
    _check_version_meta(name, tier, note)
    version, forked = _begin_edit(
        session, actor=actor, version_id=version_id, row_version=row_version, is_admin=is_admin
    )
    before = {"name": version.name, "tier": version.tier, "note": version.note}
    version.name, version.tier, version.note = name.strip(), tier, note.strip()
    session.add(version)
    session.flush()
    old, new = _diff(before, {"name": version.name, "tier": version.tier, "note": version.note})
    audit.record(
        session,
        actor=actor,
        action="criteria.update",
        entity_type="criteria_version",
        entity_id=version.id,
        summary=f"修改要素条件版本「{version.name}」的名称、级别或说明",
        before=old,
        after=new,
    )
    return EditOutcome(version=version, forked=forked)


def delete_version(session: Session, *, actor: Actor, version_id: int, row_version: int, is_admin: bool) -> None:
    """Only a version no round uses and that was never frozen; templates only by an administrator."""
    version = get_version(session, version_id, for_update=True)
    if version.row_version != row_version:
        raise Conflict(STALE_CRITERIA)
    user = rounds_using(session, [version_id]).get(version_id)
    if user is not None:
        raise ServiceError(f"批次「{user.name}」正在使用该版本，不能删除。")
    if version.frozen_at is not None:
        raise ServiceError("该版本已冻结（曾用于评分），不能删除。")
    if version.is_template and not is_admin:
        raise ServiceError("模板只能由系统管理员删除。")
    summary = _version_summary(session, version)
    for child in session.exec(select(CriteriaVersion).where(CriteriaVersion.based_on_id == version.id)):
        child.based_on_id = None
        session.add(child)
    nodes = _nodes(session, version_id)
    for node in (n for n in nodes if n.parent_id is not None):
        session.delete(node)
    session.flush()
    for node in (n for n in nodes if n.parent_id is None):
        session.delete(node)
    session.flush()
    session.delete(version)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="criteria.delete",
        entity_type="criteria_version",
        entity_id=version_id,
        summary=f"删除要素条件版本「{summary['name']}」",
        before=summary,
    )


def _store_parsed(session: Session, version: CriteriaVersion, parsed: ParsedCriteria) -> None:
    for d_order, dim in enumerate(parsed.dimensions, start=1):
        node = CriteriaNode(
            version_id=version.id,
            parent_id=None,
            kind=NodeKind.dimension.value,
            code=dim.draft.code,  # type: ignore[arg-type]
            title=dim.draft.title,
            guidance=dim.draft.guidance,
            max_points=Decimal("0"),
            step=Decimal("0"),
            sort_order=d_order,
        )
        session.add(node)
        session.flush()
        for i_order, item in enumerate(dim.items, start=1):
            d = item.draft
            session.add(
                CriteriaNode(
                    version_id=version.id,
                    parent_id=node.id,
                    kind=d.kind,
                    code=d.code,
                    title=d.title,  # type: ignore[arg-type]
                    guidance=d.guidance,
                    max_points=d.max_points or Decimal("0"),
                    step=d.step or Decimal("0"),
                    sort_order=i_order,
                )
            )
    session.flush()


def import_version(
    session: Session, *, actor: Actor, name: str, tier: str, note: str, parsed: ParsedCriteria, filename: str = ""
) -> CriteriaVersion:
    """A new version from checked Excel rows; any problem refuses the whole import."""
    _check_version_meta(name, tier, note)
    if parsed.problems:
        raise ServiceError(f"表格中有 {len(parsed.problems)} 处问题，未导入任何内容。")
    if not parsed.dimensions:
        raise ServiceError("表格中没有任何维度，未导入。")
    version = CriteriaVersion(name=name.strip(), tier=tier, note=note.strip())
    session.add(version)
    session.flush()
    _store_parsed(session, version, parsed)
    audit.record(
        session,
        actor=actor,
        action="criteria.import",
        entity_type="criteria_version",
        entity_id=version.id,
        summary=f"从 Excel{('「' + filename[:80] + '」') if filename else ''}导入要素条件版本「{version.name}」",
        after=_version_summary(session, version),
    )
    return version


def load_template(
    session: Session, *, actor: Actor, name: str, tier: str, note: str, parsed: ParsedCriteria
) -> CriteriaVersion | None:
    """Insert a shipped template once (by name); a template already there, perhaps edited, is left alone."""
    existing = session.exec(
        select(CriteriaVersion).where(CriteriaVersion.is_template == True, CriteriaVersion.name == name)  # noqa: E712
    ).first()
    if existing is not None:
        return None
    if not parsed.ok:
        first = parsed.problems[0]
        raise ValueError(f"criteria template {name!r} is invalid: row {first.row} {first.column}: {first.message}")
    version = CriteriaVersion(name=name, tier=tier, note=note, is_template=True)
    session.add(version)
    session.flush()
    _store_parsed(session, version, parsed)
    audit.record(
        session,
        actor=actor,
        action="criteria.seed",
        entity_type="criteria_version",
        entity_id=version.id,
        summary=f"载入系统自带的要素条件模板「{name}」",
        after=_version_summary(session, version),
    )
    return version
