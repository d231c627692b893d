"""Criteria versions (要素条件): listing, creating, copying, deleting, importing from Excel and loading the seeded templates."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import exists, or_
from sqlmodel import Session, select

from reviewapp import audit
from reviewapp.audit import Actor
from reviewapp.errors import Conflict, ServiceError
from reviewapp.rounds.models import (
    CriteriaNode,
    CriteriaVersion,
    NodeKind,
    Round,
)
from reviewapp.rounds.rules import ParsedCriteria
from reviewapp.rounds.service import (
    STALE_CRITERIA,
    check_version_meta,
    get_version,
    nodes_of,
    rounds_using,
    version_summary,
)


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


def create_version(session: Session, *, actor: Actor, name: str, tier: str, note: str = "") -> CriteriaVersion:
    check_version_meta(name, tier, note)
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
    summary = version_summary(session, version)
    for child in session.exec(select(CriteriaVersion).where(CriteriaVersion.based_on_id == version.id)):
        child.based_on_id = None
        session.add(child)
    nodes = nodes_of(session, version_id)
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
    check_version_meta(name, tier, note)
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
        after=version_summary(session, version),
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
        after=version_summary(session, version),
    )
    return version
