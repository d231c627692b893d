"""Editing a criteria version's tree: add, change, delete and move nodes and rename the version; a version already used by a round is forked into a new draft first."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, select

from reviewapp import audit
from reviewapp.audit import Actor
from reviewapp.errors import Conflict, NotFound, ServiceError
from reviewapp.rounds import rules
from reviewapp.rounds.models import (
    CriteriaNode,
    CriteriaVersion,
    NodeKind,
)
from reviewapp.rounds.rules import EditMode, NodeDraft
from reviewapp.rounds.service import (
    STALE_CRITERIA,
    check_version_meta,
    copy_version,
    field_diff,
    get_version,
    node_dict,
    raise_first,
)


@dataclass
class EditOutcome:
    """The version the edit landed in; `forked` when a frozen version was copied to take it."""

    version: CriteriaVersion
    forked: bool = False
    node: CriteriaNode | None = None


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
    raise_first(problems)
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
        after=node_dict(node),
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
    before = node_dict(node)
    new_parent = _parent_in(session, version, new_parent_code)
    if not is_dimension and new_parent != node.parent_id:
        node.parent_id = new_parent
        node.sort_order = _next_order(session, version.id, new_parent)  # type: ignore[arg-type]
    node.kind, node.code, node.title, node.guidance = clean.kind, clean.code, clean.title, clean.guidance
    node.max_points, node.step = clean.max_points or Decimal("0"), clean.step or Decimal("0")
    session.add(node)
    session.flush()
    after = node_dict(node)
    if new_parent_code != old_parent_code:
        before["dimension"], after["dimension"] = old_parent_code, new_parent_code
    old, new = field_diff(before, after)
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
    before = {**node_dict(node), "items": [node_dict(c) for c in children]} if children else node_dict(node)
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
    check_version_meta(name, tier, note)
    version, forked = _begin_edit(
        session, actor=actor, version_id=version_id, row_version=row_version, is_admin=is_admin
    )
    before = {"name": version.name, "tier": version.tier, "note": version.note}
    version.name, version.tier, version.note = name.strip(), tier, note.strip()
    session.add(version)
    session.flush()
    old, new = field_diff(before, {"name": version.name, "tier": version.tier, "note": version.note})
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
