"""Annual figures (年度统计): report outcomes, certifications by city, industry or tier, and the penetration base
(普及率基数)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func
from sqlmodel import Session, select

from reviewapp import audit
from reviewapp.applications.models import Enterprise
from reviewapp.audit import Actor
from reviewapp.clock import utcnow
from reviewapp.errors import Conflict, ServiceError
from reviewapp.reports import rules
from reviewapp.reports.certifications.service import check_version
from reviewapp.reports.models import (
    Certification,
    CertificationStatus,
    PenetrationCount,
    Report,
)

audit.register_labels(actions={"penetration.update": "录入普及率基数"}, entities={"penetration_count": "普及率基数"})

STALE_PENETRATION = "该年度的普及率基数已被他人修改，请刷新后重试。"


# --- annual figures -------------------------------------------------------------------------------


def report_outcomes(session: Session, *, year: int) -> dict[str, int]:
    """Reports received in `year`, counted by outcome (rules.OUTCOME_LABELS order)."""
    counts = dict.fromkeys(rules.OUTCOME_LABELS, 0)
    rows = session.exec(
        select(Report.state, Report.conclusion, func.count())
        .where(Report.received_on >= date(year, 1, 1), Report.received_on <= date(year, 12, 31))
        .group_by(Report.state, Report.conclusion)
    )
    for state, conclusion, n in rows:
        counts[rules.report_outcome(state=state, conclusion=conclusion)] += int(n)
    return counts


def certification_crosstab(session: Session, *, by: str, year: int | None, today: date) -> dict[str, dict[str, int]]:
    """Certifications by `by` (city | industry_group) and tier: granted in `year`, or valid today when year is None."""
    column = Enterprise.city if by == "city" else Enterprise.industry_group
    stmt = (
        select(column, Certification.tier, func.count())
        .join(Enterprise, Enterprise.id == Certification.enterprise_id)
        .group_by(column, Certification.tier)
    )
    if year is not None:
        stmt = stmt.where(Certification.valid_from >= date(year, 1, 1), Certification.valid_from <= date(year, 12, 31))
    else:
        stmt = stmt.where(
            Certification.status == CertificationStatus.active.value,
            Certification.valid_from <= today,
            Certification.valid_to >= today,
        )
    table: dict[str, dict[str, int]] = {}
    for key, tier, n in session.exec(stmt):
        table.setdefault(key or "未填写", {})[tier] = int(n)
    return dict(sorted(table.items()))


def penetration_rows(session: Session) -> list[PenetrationCount]:
    return list(session.exec(select(PenetrationCount).order_by(PenetrationCount.year.desc())))  # type: ignore[attr-defined]


def save_penetration(
    session: Session,
    *,
    actor: Actor,
    year: int,
    total: int,
    level2: int,
    source: str,
    row_version: int | None,
) -> PenetrationCount:
    problems = rules.penetration_problems(total=total, level2=level2)
    if problems:
        field, message = next(iter(problems.items()))
        raise ServiceError(message, field=field)
    row = session.exec(select(PenetrationCount).where(PenetrationCount.year == year).with_for_update()).first()
    before = None
    if row is None:
        row = PenetrationCount(year=year, above_size_total=total, above_size_level2=level2)
    else:
        check_version(row, row_version, STALE_PENETRATION)
        if row_version is None:
            raise Conflict(f"{year} 年的普及率基数已录入，请在列表中修改。")
        before = {"above_size_total": row.above_size_total, "above_size_level2": row.above_size_level2}
        row.row_version += 1
    row.above_size_total = total
    row.above_size_level2 = level2
    row.source = source.strip()[:200]
    row.updated_by = actor.user_id
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    rate = rules.penetration_rate(total=total, level2=level2)
    audit.record(
        session,
        actor=actor,
        action="penetration.update",
        entity_type="penetration_count",
        entity_id=year,
        summary=f"{year} 年普及率基数：规上企业 {total} 家，二级及以上 {level2} 家，普及率 {rate}%",
        before=before,
        after={"above_size_total": total, "above_size_level2": level2},
    )
    return row
