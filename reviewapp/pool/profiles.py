"""Pool profiles: tags, province, availability and 在库/暂停/出库 status per expert; search; Excel in and out."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from reviewapp import audit
from reviewapp.audit import Actor
from reviewapp.clock import utcnow
from reviewapp.errors import Conflict as StaleEdit
from reviewapp.errors import NotFound, ServiceError
from reviewapp.excel import Column, ExcelReadError, read_table, workbook_bytes
from reviewapp.forms import parse_date
from reviewapp.panels.models import Expert
from reviewapp.pool import rules
from reviewapp.pool.models import PoolProfile, PoolStatus

audit.register_labels(
    actions={
        "pool.profile": "修改专家库信息",
        "pool.import": "导入专家库信息",
        "pool.suspend": "暂停专家抽取资格",
    },
    entities={"pool_profile": "专家库信息"},
)

STATUSES = tuple(s.value for s in PoolStatus)


def loads(text: str) -> list[Any]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def tags_of(profile: PoolProfile) -> list[str]:
    return [str(t) for t in loads(profile.tags_json)]


def windows_of(profile: PoolProfile) -> list[tuple[date, date]]:
    out = []
    for item in loads(profile.availability_json):
        try:
            out.append((date.fromisoformat(item[0]), date.fromisoformat(item[1])))
        except (TypeError, ValueError, IndexError):
            continue
    return out


def windows_text(profile: PoolProfile) -> str:
    return "；".join(f"{a.isoformat()}至{b.isoformat()}" for a, b in windows_of(profile))


def parse_windows(text: str) -> tuple[list[tuple[date, date]], str | None]:
    """「2026-10-01至2026-12-31；2027-01-05至2027-01-20」 → date pairs."""
    out = []
    for raw in (text or "").replace(";", "；").replace("\n", "；").split("；"):
        part = raw.strip()
        if not part:
            continue
        a, sep, b = part.replace("~", "至").replace("—", "至").partition("至")
        start, end = parse_date(a), parse_date(b)
        if not sep or start is None or end is None or end < start:
            return [], f"可参评时段「{part}」格式不正确，应为「2026-10-01至2026-12-31」，多段用分号隔开。"
        out.append((start, end))
    return out, None


def split_tags(text: str) -> list[str]:
    seen: list[str] = []
    for raw in (text or "").replace("，", ",").replace("、", ",").replace("；", ",").replace(";", ",").split(","):
        tag = raw.strip()[:32]
        if tag and tag not in seen:
            seen.append(tag)
    return seen[:20]


def specialties(expert: Expert, profile: PoolProfile) -> list[str]:
    """The four 所属行业 from the expert's profile, then the free tags."""
    return [str(s) for s in loads(expert.specialties_json)] + [
        t for t in tags_of(profile) if t not in expert.specialties_json
    ]


def get_profile(session: Session, expert_id: int) -> PoolProfile:
    """The expert's pool profile; a default (在库) one, not yet stored, when staff never edited it."""
    profile = session.exec(select(PoolProfile).where(PoolProfile.expert_id == expert_id)).first()
    return profile or PoolProfile(expert_id=expert_id)


def get_expert(session: Session, expert_id: int) -> Expert:
    expert = session.get(Expert, expert_id)
    if expert is None:
        raise NotFound("未找到该专家。")
    return expert


def _check(values: dict[str, Any]) -> dict[str, Any]:
    status = values.get("status", PoolStatus.in_pool.value)
    if status not in STATUSES:
        raise ServiceError("请选择库内状态。", field="status")
    windows, problem = parse_windows(values.get("availability", ""))
    if problem:
        raise ServiceError(problem, field="availability")
    reason = (values.get("status_reason") or "").strip()
    if status != PoolStatus.in_pool.value and len(reason) < 2:
        raise ServiceError("暂停或出库须填写原因。", field="status_reason")
    return {
        "tags": split_tags(values.get("tags", "")),
        "province": (values.get("province") or "").strip()[:32],
        "availability": [[a.isoformat(), b.isoformat()] for a, b in windows],
        "status": status,
        "status_reason": reason[:300],
        "suspended_until": values.get("suspended_until"),
    }


def update_profile(
    session: Session, *, actor: Actor, expert_id: int, values: dict[str, Any], row_version: int | None, today: date
) -> PoolProfile:
    expert = get_expert(session, expert_id)
    profile = get_profile(session, expert_id)
    if profile.id is not None and row_version is not None and profile.row_version != row_version:
        raise StaleEdit("该专家的专家库信息已被他人修改，请刷新后重试。")
    clean = _check(values)
    before = _snapshot(profile)
    if clean["status"] != profile.status:
        profile.status_date = today
    profile.tags_json = json.dumps(clean["tags"], ensure_ascii=False)
    profile.province = clean["province"]
    profile.availability_json = json.dumps(clean["availability"])
    profile.status = clean["status"]
    profile.status_reason = clean["status_reason"]
    if clean["status"] == PoolStatus.in_pool.value:
        profile.suspended_until = None
    elif clean["suspended_until"] is not None:
        profile.suspended_until = clean["suspended_until"]
    after = _snapshot(profile)
    if before == after and profile.id is not None:
        return profile
    profile.updated_at = utcnow()
    profile.row_version += 1 if profile.id is not None else 0
    session.add(profile)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="pool.profile",
        entity_type="pool_profile",
        entity_id=expert.id,
        summary=f"修改 {expert.name} 的专家库信息（{profile.status}）",
        before=before,
        after=after,
    )
    return profile


def suspend(session: Session, *, actor: Actor, expert_id: int, until: date, reason: str, today: date) -> PoolProfile:
    """暂停 until a date (evaluation results); audited in the caller's transaction."""
    expert = get_expert(session, expert_id)
    profile = get_profile(session, expert_id)
    before = _snapshot(profile)
    profile.status = PoolStatus.paused.value
    profile.status_reason = reason[:300]
    profile.status_date = today
    profile.suspended_until = max(until, profile.suspended_until or until)
    profile.updated_at = utcnow()
    session.add(profile)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="pool.suspend",
        entity_type="pool_profile",
        entity_id=expert.id,
        summary=f"暂停 {expert.name} 的抽取资格至 {profile.suspended_until.isoformat()}：{reason}",
        before=before,
        after=_snapshot(profile),
    )
    return profile


def _snapshot(profile: PoolProfile) -> dict[str, Any]:
    return {
        "tags": tags_of(profile),
        "province": profile.province,
        "availability": loads(profile.availability_json),
        "status": profile.status,
        "status_reason": profile.status_reason,
        "suspended_until": profile.suspended_until.isoformat() if profile.suspended_until else None,
    }


# --- search -----------------------------------------------------------------------------------------------------


def search_query(*, q: str = "", specialty: str = "", city: str = "", status: str = "", title: str = ""):  # type: ignore[no-untyped-def]
    """Experts with their (possibly missing) pool profile, filtered; ordered by name."""
    stmt = select(Expert, PoolProfile).join(
        PoolProfile,
        PoolProfile.expert_id == Expert.id,  # type: ignore[arg-type]
        isouter=True,
    )
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(
            or_(col(Expert.name).like(like), col(Expert.employer).like(like), col(PoolProfile.tags_json).like(like))
        )
    if specialty:
        like = f'%"{specialty.strip()}"%'
        stmt = stmt.where(or_(col(Expert.specialties_json).like(like), col(PoolProfile.tags_json).like(like)))
    if city:
        stmt = stmt.where(Expert.city == city)
    if title:
        stmt = stmt.where(col(Expert.title).like(f"%{title.strip()}%"))
    if status == PoolStatus.in_pool.value:
        stmt = stmt.where(or_(col(PoolProfile.id).is_(None), PoolProfile.status == status))
    elif status in STATUSES:
        stmt = stmt.where(PoolProfile.status == status)
    return stmt.order_by(Expert.name, Expert.id)


def pool_entries(session: Session) -> list[rules.PoolEntry]:
    """Every active expert as the draw sees them."""
    rows = session.exec(search_query().where(Expert.active == True)).all()  # noqa: E712
    out = []
    for expert, profile in rows:
        profile = profile or PoolProfile(expert_id=expert.id)
        out.append(
            rules.PoolEntry(
                id=expert.id,  # type: ignore[arg-type]
                org_name=expert.employer,
                org_code=expert.employer_credit_code,
                province=profile.province,
                specialties=tuple(specialties(expert, profile)),
                status=profile.status,
                suspended_until=profile.suspended_until,
                availability=tuple(windows_of(profile)),
            )
        )
    return out


# --- Excel --------------------------------------------------------------------------------------------------------

EXPORT_COLUMNS = [
    Column("序号", 6),
    Column("姓名", 10),
    Column("证件号后四位", 10),
    Column("工作单位", 28, wrap=True),
    Column("职称", 12),
    Column("地市", 10),
    Column("所在省份", 10),
    Column("所属行业", 18, wrap=True),
    Column("专业标签", 20, wrap=True),
    Column("可参评时段", 26, wrap=True),
    Column("库内状态", 8),
    Column("状态原因", 20, wrap=True),
    Column("状态日期", 12),
    Column("暂停至", 12),
]


def export_bytes(session: Session, **filters: str) -> bytes:
    rows = []
    for n, (expert, profile) in enumerate(session.exec(search_query(**filters)).all(), start=1):
        profile = profile or PoolProfile(expert_id=expert.id)
        rows.append(
            [
                n,
                expert.name,
                expert.id_number_hint,
                expert.employer,
                expert.title,
                expert.city,
                profile.province,
                "、".join(loads(expert.specialties_json)),
                "、".join(tags_of(profile)),
                windows_text(profile),
                profile.status,
                profile.status_reason,
                profile.status_date.isoformat() if profile.status_date else "",
                profile.suspended_until.isoformat() if profile.suspended_until else "",
            ]
        )
    return workbook_bytes(title="评审专家库", columns=EXPORT_COLUMNS, rows=rows, sheet_name="专家库")


IMPORT_COLUMNS = {
    "姓名": ["姓名"],
    "证件号后四位": ["证件号后四位", "身份证后四位"],
    "所在省份": ["所在省份", "省份"],
    "专业标签": ["专业标签", "标签"],
    "可参评时段": ["可参评时段"],
    "库内状态": ["库内状态", "状态"],
    "状态原因": ["状态原因"],
}


@dataclass
class ImportResult:
    updated: int = 0
    problems: list[str] = field(default_factory=list)


def import_profiles(session: Session, *, actor: Actor, data: bytes, today: date) -> ImportResult:
    """Update the pool profiles of experts already in 专家库 (matched by 姓名 and 证件号后四位), all or nothing."""
    try:
        table = read_table(data, columns=IMPORT_COLUMNS, required=["姓名"], keep_text=["状态原因"])
    except ExcelReadError as exc:
        return ImportResult(problems=[exc.message])
    result = ImportResult()
    planned: list[tuple[int, dict[str, Any]]] = []
    for row in table.rows:
        v = row.values
        stmt = select(Expert).where(Expert.name == v.get("姓名", ""))
        if v.get("证件号后四位"):
            stmt = stmt.where(Expert.id_number_hint == v["证件号后四位"])
        found = session.exec(stmt).all()
        if len(found) != 1:
            why = "专家库中没有此人" if not found else "有同名专家，请填写证件号后四位"
            result.problems.append(f"第 {row.number} 行「{v.get('姓名', '')}」：{why}。")
            continue
        values = {
            "tags": v.get("专业标签", ""),
            "province": v.get("所在省份", ""),
            "availability": v.get("可参评时段", ""),
            "status": v.get("库内状态") or PoolStatus.in_pool.value,
            "status_reason": v.get("状态原因", ""),
        }
        try:
            _check(values)
        except ServiceError as exc:
            result.problems.append(f"第 {row.number} 行「{v.get('姓名', '')}」：{exc.message}")
            continue
        planned.append((found[0].id, values))  # type: ignore[arg-type]
    if result.problems:
        return result
    for expert_id, values in planned:
        update_profile(session, actor=actor, expert_id=expert_id, values=values, row_version=None, today=today)
    result.updated = len(planned)
    audit.record(
        session,
        actor=actor,
        action="pool.import",
        entity_type="pool_profile",
        summary=f"从 Excel 导入专家库信息 {len(planned)} 条",
    )
    return result
