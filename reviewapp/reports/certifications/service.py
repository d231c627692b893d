"""Certifications (认定): recorded when a list is published or entered by hand, re-reviews (复核) and major-change
filings (重大变化备案), and the certification register. Every operation writes its audit entry in the caller's
transaction; the caller commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, select

from reviewapp import audit
from reviewapp.applications.models import INDUSTRY_GROUPS, Application, Enterprise
from reviewapp.applications.rules import credit_code_problem, normalise_credit_code
from reviewapp.audit import Actor
from reviewapp.clock import utcnow
from reviewapp.errors import Conflict, NotFound, ServiceError
from reviewapp.reports import rules
from reviewapp.reports.models import (
    Certification,
    CertificationSource,
    CertificationStatus,
    MajorChange,
    ReReview,
    ReReviewOutcome,
)
from reviewapp.rounds.models import TIER_LABELS, Round, Tier

audit.register_labels(
    actions={
        "certification.create": "认定（名单发布）",
        "certification.record": "录入认定",
        "certification.rereview": "记录复核结果",
        "major_change.create": "登记经营状况重大变化",
        "major_change.filed": "登记重大变化备案日期",
    },
    entities={"certification": "认定", "major_change": "重大变化备案"},
)

STALE_CERTIFICATION = "该认定已被他人修改，请刷新后重试。您这次的操作未执行。"
STALE_CHANGE = "该备案记录已被他人修改，请刷新后重试。"


# --- certifications -------------------------------------------------------------------------------


def get_certification(session: Session, certification_id: int, *, for_update: bool = False) -> Certification:
    stmt = select(Certification).where(Certification.id == certification_id)
    if for_update:
        stmt = stmt.with_for_update()
    cert = session.exec(stmt).first()
    if cert is None:
        raise NotFound("未找到该认定记录。")
    return cert


def cert_snapshot(cert: Certification) -> dict[str, Any]:
    return {
        "credit_code": cert.credit_code,
        "factory_name": cert.factory_name,
        "tier": cert.tier,
        "valid_from": cert.valid_from.isoformat(),
        "valid_to": cert.valid_to.isoformat(),
        "status": cert.status,
    }


def certify(
    session: Session, *, actor: Actor, round_id: int, application_ids: Sequence[int], valid_from: date
) -> list[Certification]:
    """One certification per application on a round's published final list (called by publicity).

    The tier is the round's; validity per rules.validity_years. An application already certified is skipped,
    so publishing twice creates nothing new.
    """
    rnd = session.get(Round, round_id)
    if rnd is None:
        raise NotFound("未找到该评审批次。")
    ids = list(dict.fromkeys(application_ids))
    apps = {a.id: a for a in session.exec(select(Application).where(Application.id.in_(ids or [-1])))}  # type: ignore[union-attr]
    missing = [i for i in ids if i not in apps or apps[i].round_id != round_id]
    if missing:
        raise ServiceError(f"以下申报不属于该批次，不能认定：{'、'.join(str(i) for i in missing)}。")
    existing = set(
        session.exec(select(Certification.application_id).where(Certification.application_id.in_(ids or [-1])))  # type: ignore[union-attr]
    )
    enterprises = {
        e.id: e
        for e in session.exec(
            select(Enterprise).where(Enterprise.id.in_([a.enterprise_id for a in apps.values()] or [-1]))  # type: ignore[union-attr]
        )
    }
    years = rules.validity_years(rnd.tier, rnd.validity_years)
    valid_to = rules.validity_end(valid_from, years)
    created: list[Certification] = []
    for app_id in ids:
        if app_id in existing:
            continue
        app = apps[app_id]
        enterprise = enterprises[app.enterprise_id]
        cert = Certification(
            enterprise_id=enterprise.id,  # type: ignore[arg-type]
            credit_code=enterprise.credit_code,
            factory_name=app.factory_name,
            tier=rnd.tier,
            round_id=rnd.id,
            application_id=app.id,
            valid_from=valid_from,
            valid_to=valid_to,
            source=CertificationSource.round.value,
            created_by=actor.user_id,
        )
        session.add(cert)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="certification.create",
            entity_type="certification",
            entity_id=cert.id,
            summary=f"认定 {enterprise.name} {app.factory_name} 为{rnd.tier_label}智能工厂，"
            f"有效期 {valid_from.isoformat()} 至 {valid_to.isoformat()}（{rnd.name}）",
            after=cert_snapshot(cert),
        )
        created.append(cert)
    return created


def record_certification(
    session: Session,
    *,
    actor: Actor,
    credit_code: str,
    enterprise_name: str,
    factory_name: str,
    tier: str,
    valid_from: date,
    valid_to: date | None,
    city: str = "",
    industry_group: str = "",
    note: str = "",
    round_validity_years: int | None = None,
) -> Certification:
    """A certification staff enter by hand (granted before the system or elsewhere). Finds or creates the
    enterprise by its credit code; `valid_to` defaults to the tier's validity."""
    code = normalise_credit_code(credit_code)
    problem = credit_code_problem(code)
    if problem:
        raise ServiceError(problem, field="credit_code")
    if tier not in {t.value for t in Tier}:
        raise ServiceError("「级别」应为基础级、先进级、卓越级或领航级。", field="tier")
    if industry_group and industry_group not in INDUSTRY_GROUPS:
        raise ServiceError(f"「所属行业」应为{'、'.join(INDUSTRY_GROUPS)}之一。", field="industry_group")
    valid_to = valid_to or rules.validity_end(valid_from, rules.validity_years(tier, round_validity_years))
    if valid_to <= valid_from:
        raise ServiceError("「有效期至」应晚于「有效期自」。", field="valid_to")
    enterprise = session.exec(select(Enterprise).where(Enterprise.credit_code == code)).first()
    if enterprise is None:
        enterprise = Enterprise(
            credit_code=code, name=enterprise_name.strip(), city=city.strip(), industry_group=industry_group
        )
        session.add(enterprise)
        session.flush()
    else:
        # Fill what the enterprise record lacks; never overwrite what an import or another page entered.
        enterprise.city = enterprise.city or city.strip()
        enterprise.industry_group = enterprise.industry_group or industry_group
        session.add(enterprise)
    duplicate = session.exec(
        select(Certification.id).where(
            Certification.credit_code == code,
            Certification.factory_name == factory_name.strip(),
            Certification.tier == tier,
            Certification.status == CertificationStatus.active.value,
        )
    ).first()
    if duplicate is not None:
        raise ServiceError("该工厂已有同级别的有效认定，请勿重复录入。", field="factory_name")
    cert = Certification(
        enterprise_id=enterprise.id,  # type: ignore[arg-type]
        credit_code=code,
        factory_name=factory_name.strip(),
        tier=tier,
        valid_from=valid_from,
        valid_to=valid_to,
        source=CertificationSource.manual.value,
        note=note.strip()[:500],
        created_by=actor.user_id,
    )
    session.add(cert)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="certification.record",
        entity_type="certification",
        entity_id=cert.id,
        summary=f"录入认定：{enterprise.name} {cert.factory_name}（{TIER_LABELS[Tier(tier)]}，"
        f"{valid_from.isoformat()} 至 {valid_to.isoformat()}）",
        after=cert_snapshot(cert),
    )
    return cert


def _cert_filters(stmt, *, q: str, tier: str, status: str, city: str, industry_group: str, round_id: int | None):  # type: ignore[no-untyped-def]
    if q:
        like = f"%{q.strip()[:100]}%"
        stmt = stmt.where(
            or_(
                Enterprise.name.like(like),  # type: ignore[attr-defined]
                Certification.factory_name.like(like),  # type: ignore[attr-defined]
                Certification.credit_code == normalise_credit_code(q),
            )
        )
    if tier:
        stmt = stmt.where(Certification.tier == tier)
    if status:
        stmt = stmt.where(Certification.status == status)
    if city:
        stmt = stmt.where(Enterprise.city == city)
    if industry_group:
        stmt = stmt.where(Enterprise.industry_group == industry_group)
    if round_id:
        stmt = stmt.where(Certification.round_id == round_id)
    return stmt


def certifications_query(
    *,
    q: str = "",
    tier: str = "",
    status: str = "",
    city: str = "",
    industry_group: str = "",
    round_id: int | None = None,
):  # type: ignore[no-untyped-def]
    """Rows of (Certification, Enterprise) for the register."""
    stmt = select(Certification, Enterprise).join(Enterprise, Enterprise.id == Certification.enterprise_id)
    stmt = _cert_filters(
        stmt, q=q, tier=tier, status=status, city=city, industry_group=industry_group, round_id=round_id
    )
    return stmt.order_by(Certification.valid_from.desc(), Certification.id.desc())  # type: ignore[attr-defined]


def expiring_query(*, today: date, months: int, q: str = "", tier: str = ""):  # type: ignore[no-untyped-def]
    """Active certifications ending within `months` (and those already past their end, still awaiting an outcome)."""
    horizon = rules.add_months(today, months)
    stmt = select(Certification, Enterprise).join(Enterprise, Enterprise.id == Certification.enterprise_id)
    stmt = _cert_filters(
        stmt, q=q, tier=tier, status=CertificationStatus.active.value, city="", industry_group="", round_id=None
    )
    return stmt.where(Certification.valid_to <= horizon).order_by(Certification.valid_to, Certification.id)


def filter_choices(session: Session) -> dict[str, list[str]]:
    cities = sorted(
        c
        for c in session.exec(
            select(Enterprise.city).join(Certification, Certification.enterprise_id == Enterprise.id).distinct()
        )
        if c
    )
    return {"cities": cities, "industry_groups": list(INDUSTRY_GROUPS)}


def check_version(row: Any, row_version: int | None, message: str) -> None:
    if row_version is not None and row.row_version != row_version:
        raise Conflict(message)


def record_rereview(
    session: Session,
    *,
    actor: Actor,
    certification_id: int,
    row_version: int,
    outcome: str,
    decided_on: date,
    note: str = "",
) -> ReReview:
    """复核 outcome: passed extends the validity 3 years; not passed or not requested lapses the certification."""
    cert = get_certification(session, certification_id, for_update=True)
    check_version(cert, row_version, STALE_CERTIFICATION)
    if cert.status != CertificationStatus.active.value:
        raise ServiceError(f"该认定{cert.status_label}，不能再记录复核结果。")
    try:
        result = ReReviewOutcome(outcome)
    except ValueError as exc:
        raise ServiceError("请选择复核结果。", field="outcome") from exc
    before = cert_snapshot(cert)
    review = ReReview(
        certification_id=cert.id,  # type: ignore[arg-type]
        outcome=result.value,
        decided_on=decided_on,
        previous_valid_to=cert.valid_to,
        note=note.strip()[:1000],
        recorded_by=actor.user_id,
    )
    if result is ReReviewOutcome.passed:
        cert.valid_to = rules.extended_valid_to(cert.valid_to)
        review.new_valid_to = cert.valid_to
        summary = f"{cert.factory_name} 复核通过，有效期延长至 {cert.valid_to.isoformat()}"
    else:
        cert.status = CertificationStatus.lapsed.value
        summary = f"{cert.factory_name} {result.label}，认定失效"
    cert.row_version += 1
    cert.updated_at = utcnow()
    session.add(cert)
    session.add(review)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="certification.rereview",
        entity_type="certification",
        entity_id=cert.id,
        summary=summary,
        before=before,
        after={**cert_snapshot(cert), "outcome": result.value, "decided_on": decided_on.isoformat()},
    )
    return review


def record_major_change(
    session: Session,
    *,
    actor: Actor,
    certification_id: int,
    changed_on: date,
    filed_on: date | None,
    description: str,
    today: date,
) -> MajorChange:
    cert = get_certification(session, certification_id)
    if changed_on > today:
        raise ServiceError("「变化发生日期」不能晚于今天。", field="changed_on")
    if filed_on is not None and filed_on < changed_on:
        raise ServiceError("「备案日期」不能早于变化发生日期。", field="filed_on")
    if filed_on is not None and filed_on > today:
        raise ServiceError("「备案日期」不能晚于今天。", field="filed_on")
    if not description.strip():
        raise ServiceError("请填写变化情况。", field="description")
    change = MajorChange(
        certification_id=cert.id,  # type: ignore[arg-type]
        changed_on=changed_on,
        filed_on=filed_on,
        description=description.strip()[:2000],
        recorded_by=actor.user_id,
    )
    session.add(change)
    session.flush()
    status = rules.major_change_status(changed_on=changed_on, filed_on=filed_on, today=today)
    audit.record(
        session,
        actor=actor,
        action="major_change.create",
        entity_type="major_change",
        entity_id=change.id,
        summary=f"{cert.factory_name} 经营状况重大变化（{changed_on.isoformat()}）：{status.label}",
        after={"certification_id": cert.id, "changed_on": changed_on, "filed_on": filed_on},
    )
    return change


def mark_change_filed(
    session: Session, *, actor: Actor, change_id: int, row_version: int, filed_on: date, today: date
) -> MajorChange:
    change = session.get(MajorChange, change_id)
    if change is None:
        raise NotFound("未找到该备案记录。")
    check_version(change, row_version, STALE_CHANGE)
    if change.filed_on is not None:
        raise ServiceError("该变化已登记备案日期。")
    if filed_on < change.changed_on or filed_on > today:
        raise ServiceError("「备案日期」应在变化发生日期与今天之间。", field="filed_on")
    change.filed_on = filed_on
    change.row_version += 1
    session.add(change)
    status = rules.major_change_status(changed_on=change.changed_on, filed_on=filed_on, today=today)
    audit.record(
        session,
        actor=actor,
        action="major_change.filed",
        entity_type="major_change",
        entity_id=change.id,
        summary=f"登记重大变化备案日期 {filed_on.isoformat()}：{status.label}",
        before={"filed_on": None},
        after={"filed_on": filed_on},
    )
    return change


def major_changes_query(*, q: str = "", status: str = "", today: date):  # type: ignore[no-untyped-def]
    """Rows of (MajorChange, Certification, Enterprise); status: pending | overdue | filed."""
    stmt = (
        select(MajorChange, Certification, Enterprise)
        .join(Certification, Certification.id == MajorChange.certification_id)
        .join(Enterprise, Enterprise.id == Certification.enterprise_id)
    )
    if q:
        like = f"%{q.strip()[:100]}%"
        stmt = stmt.where(or_(Enterprise.name.like(like), Certification.factory_name.like(like)))  # type: ignore[attr-defined]
    # Due = changed_on + 3 months; comparing against "today - 3 months" keeps the filter in SQL on both databases.
    latest_on_time_change = rules.add_months(today, -rules.MAJOR_CHANGE_FILING_MONTHS)
    if status == "filed":
        stmt = stmt.where(MajorChange.filed_on.is_not(None))  # type: ignore[union-attr]
    elif status == "pending":
        stmt = stmt.where(MajorChange.filed_on.is_(None), MajorChange.changed_on >= latest_on_time_change)  # type: ignore[union-attr]
    elif status == "overdue":
        stmt = stmt.where(MajorChange.filed_on.is_(None), MajorChange.changed_on < latest_on_time_change)  # type: ignore[union-attr]
    return stmt.order_by(MajorChange.changed_on.desc(), MajorChange.id.desc())  # type: ignore[attr-defined]
