"""Certifications, re-reviews, major-change filings, revocations and bans, and whistle-blower reports (举报).

Every operation writes its audit entry in the caller's transaction; the caller commits. Reports move through
reports.rules.REPORT_WORKFLOW with reviewapp.casework.service. The reporter's identity never enters the audit log,
a case step or an export; only the report's handlers read it, one audited view at a time.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_
from sqlmodel import Session, select

from reviewapp import audit
from reviewapp.applications.models import INDUSTRY_GROUPS, Application, Enterprise
from reviewapp.applications.rules import credit_code_problem, normalise_credit_code
from reviewapp.audit import Actor
from reviewapp.auth.models import Role
from reviewapp.casework import service as casework
from reviewapp.casework.models import CaseStep
from reviewapp.clock import utcnow
from reviewapp.errors import Conflict, NotFound, ServiceError
from reviewapp.files import StoredFile, store_upload
from reviewapp.reports import rules
from reviewapp.reports.models import (
    REPORT_CHANNELS,
    REVOCATION_REASON_LABELS,
    Certification,
    CertificationSource,
    CertificationStatus,
    MajorChange,
    PenetrationCount,
    PublicRequest,
    Report,
    ReportSource,
    ReReview,
    ReReviewOutcome,
    Revocation,
    RevocationReason,
)
from reviewapp.reports.rules import REPORT_WORKFLOW
from reviewapp.rounds.models import TIER_LABELS, Round, Tier
from reviewapp.settings import Settings

audit.register_labels(
    actions={
        "certification.create": "认定（名单发布）",
        "certification.record": "录入认定",
        "certification.rereview": "记录复核结果",
        "certification.revoke": "取消认定",
        "major_change.create": "登记经营状况重大变化",
        "major_change.filed": "登记重大变化备案日期",
        "report.create": "登记举报",
        "report.view_identity": "查看举报人信息",
        "penetration.update": "录入普及率基数",
    },
    entities={
        "certification": "认定",
        "revocation": "取消认定",
        "major_change": "重大变化备案",
        "penetration_count": "普及率基数",
    },
)
casework.register_workflow_labels(
    REPORT_WORKFLOW,
    entity_label="举报",
    events={"supplement": "举报人补充材料", "link": "关联被举报对象"},
)

STALE_CERTIFICATION = "该认定已被他人修改，请刷新后重试。您这次的操作未执行。"
STALE_CHANGE = "该备案记录已被他人修改，请刷新后重试。"
STALE_PENETRATION = "该年度的普及率基数已被他人修改，请刷新后重试。"
REPORT_FILE_OWNER = "report"
CONFIDENTIAL = "（保密）"
PUBLIC_ACTOR_NAME = "举报人"


class RateLimited(ServiceError):
    """Too many requests from one client address to a public form."""


# --- certifications -------------------------------------------------------------------------------


def get_certification(session: Session, certification_id: int, *, for_update: bool = False) -> Certification:
    stmt = select(Certification).where(Certification.id == certification_id)
    if for_update:
        stmt = stmt.with_for_update()
    cert = session.exec(stmt).first()
    if cert is None:
        raise NotFound("未找到该认定记录。")
    return cert


def _cert_snapshot(cert: Certification) -> dict[str, Any]:
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
            after=_cert_snapshot(cert),
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
        after=_cert_snapshot(cert),
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


def _check_version(row: Any, row_version: int | None, message: str) -> None:
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
    _check_version(cert, row_version, STALE_CERTIFICATION)
    if cert.status != CertificationStatus.active.value:
        raise ServiceError(f"该认定{cert.status_label}，不能再记录复核结果。")
    try:
        result = ReReviewOutcome(outcome)
    except ValueError as exc:
        raise ServiceError("请选择复核结果。", field="outcome") from exc
    before = _cert_snapshot(cert)
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
        after={**_cert_snapshot(cert), "outcome": result.value, "decided_on": decided_on.isoformat()},
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
    _check_version(change, row_version, STALE_CHANGE)
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


# --- revocation and bans --------------------------------------------------------------------------


def revoke(
    session: Session,
    *,
    actor: Actor,
    certification_id: int,
    row_version: int | None,
    reason_category: str,
    revoked_on: date,
    reason: str,
    banned_until: date | None,
    today: date,
) -> Revocation:
    """取消认定: the certification is marked revoked and its credit code banned until `banned_until`
    (at least rules.ban_until(revoked_on); the computed date when none is given)."""
    cert = get_certification(session, certification_id, for_update=True)
    _check_version(cert, row_version, STALE_CERTIFICATION)
    if cert.status == CertificationStatus.revoked.value:
        raise ServiceError("该认定已被取消，不能重复取消。")
    try:
        category = RevocationReason(reason_category)
    except ValueError as exc:
        raise ServiceError("请选择取消认定的理由类别。", field="reason_category") from exc
    if revoked_on > today:
        raise ServiceError("「取消认定日期」不能晚于今天。", field="revoked_on")
    if not reason.strip():
        raise ServiceError("请填写取消认定的事实和理由。", field="reason")
    minimum = rules.ban_until(revoked_on)
    banned_until = banned_until or minimum
    if banned_until < minimum:
        raise ServiceError(f"禁止申报期限至少 3 年：应不早于 {minimum.isoformat()}。", field="banned_until")
    enterprise = session.get(Enterprise, cert.enterprise_id)
    before = _cert_snapshot(cert)
    cert.status = CertificationStatus.revoked.value
    cert.row_version += 1
    cert.updated_at = utcnow()
    session.add(cert)
    revocation = Revocation(
        certification_id=cert.id,
        credit_code=cert.credit_code,
        enterprise_name=enterprise.name if enterprise else cert.factory_name,
        reason_category=category.value,
        reason=reason.strip(),
        revoked_on=revoked_on,
        banned_until=banned_until,
        created_by=actor.user_id,
    )
    session.add(revocation)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="certification.revoke",
        entity_type="certification",
        entity_id=cert.id,
        summary=f"取消 {revocation.enterprise_name} {cert.factory_name} 的{cert.tier_label}认定（{category.label}），"
        f"{banned_until.isoformat()} 前不得再次申报",
        before=before,
        after={
            **_cert_snapshot(cert),
            "revocation_id": revocation.id,
            "reason_category": category.value,
            "revoked_on": revoked_on.isoformat(),
            "banned_until": banned_until.isoformat(),
        },
    )
    return revocation


def bans_query(*, q: str = "", status: str = "", today: date):  # type: ignore[no-untyped-def]
    """Rows of (Revocation, Certification|None); status: active | ended."""
    stmt = select(Revocation, Certification).join(
        Certification, Certification.id == Revocation.certification_id, isouter=True
    )
    if q:
        like = f"%{q.strip()[:100]}%"
        stmt = stmt.where(
            or_(
                Revocation.enterprise_name.like(like),  # type: ignore[attr-defined]
                Revocation.credit_code == normalise_credit_code(q),
                Certification.factory_name.like(like),  # type: ignore[union-attr]
            )
        )
    if status == "active":
        stmt = stmt.where(Revocation.banned_until >= today)
    elif status == "ended":
        stmt = stmt.where(Revocation.banned_until < today)
    return stmt.order_by(Revocation.revoked_on.desc(), Revocation.id.desc())  # type: ignore[attr-defined]


# --- reports: recording ---------------------------------------------------------------------------


def get_report(session: Session, report_id: int, *, for_update: bool = False) -> Report:
    stmt = select(Report).where(Report.id == report_id)
    if for_update:
        stmt = stmt.with_for_update()
    report = session.exec(stmt).first()
    if report is None:
        raise NotFound("未找到该举报。")
    return report


@dataclass(frozen=True)
class Target:
    """What a report is against, as staff see it."""

    kind: str  # certification | application | unlinked
    certification: Certification | None
    application: Application | None
    enterprise: Enterprise | None

    @property
    def label(self) -> str:
        if self.certification is not None:
            name = self.enterprise.name if self.enterprise else ""
            return f"{name} {self.certification.factory_name}（{self.certification.tier_label}认定）"
        if self.application is not None:
            name = self.enterprise.name if self.enterprise else ""
            return f"{name} {self.application.factory_name}（申报）"
        return "未关联"


def report_target(session: Session, report: Report) -> Target:
    if report.certification_id:
        cert = session.get(Certification, report.certification_id)
        return Target("certification", cert, None, session.get(Enterprise, cert.enterprise_id) if cert else None)
    if report.application_id:
        app = session.get(Application, report.application_id)
        return Target("application", None, app, session.get(Enterprise, app.enterprise_id) if app else None)
    return Target("unlinked", None, None, None)


def _resolve_target(
    session: Session, *, certification_id: int | None, application_id: int | None
) -> tuple[Certification | None, Application | None, Enterprise | None]:
    if certification_id and application_id:
        raise ServiceError("被举报对象只能是一个认定或一份申报。", field="target")
    if certification_id:
        cert = session.get(Certification, certification_id)
        if cert is None:
            raise ServiceError("所选的认定不存在。", field="target")
        return cert, None, session.get(Enterprise, cert.enterprise_id)
    if application_id:
        app = session.get(Application, application_id)
        if app is None:
            raise ServiceError("所选的申报不存在。", field="target")
        return None, app, session.get(Enterprise, app.enterprise_id)
    return None, None, None


def _number(report: Report) -> str:
    return f"JB-{report.received_on.year}-{report.id:05d}"


def create_report(
    session: Session,
    *,
    actor: Actor,
    settings: Settings,
    channel: str,
    received_on: date,
    certification_id: int | None,
    application_id: int | None,
    target_name: str,
    target_factory: str,
    content: str,
    reporter_name: str,
    reporter_contact: str,
    uploads: Sequence[tuple[str, bytes]],
    today: date,
) -> Report:
    """Staff record a report received by letter, e-mail, phone, in person or online; evidence files already checked."""
    if channel not in REPORT_CHANNELS:
        raise ServiceError("请选择举报渠道。", field="channel")
    if received_on > today:
        raise ServiceError("「收到日期」不能晚于今天。", field="received_on")
    cert, app, enterprise = _resolve_target(session, certification_id=certification_id, application_id=application_id)
    name = (enterprise.name if enterprise else target_name).strip()
    if not name:
        raise ServiceError("请选择被举报的认定或申报，或填写被举报单位名称。", field="target_name")
    if not content.strip():
        raise ServiceError("请填写举报内容。", field="content")
    report = Report(
        source=ReportSource.staff.value,
        channel=channel,
        received_on=received_on,
        certification_id=cert.id if cert else None,
        application_id=app.id if app else None,
        target_name=name[:200],
        target_factory=((cert.factory_name if cert else app.factory_name if app else target_factory) or "").strip()[
            :200
        ],
        content=content.strip(),
        reporter_name=reporter_name.strip()[:64],
        reporter_contact=reporter_contact.strip()[:120],
        state=REPORT_WORKFLOW.initial,
        created_by=actor.user_id,
    )
    session.add(report)
    session.flush()
    report.number = _number(report)
    session.add(report)
    for filename, data in uploads:
        store_upload(
            session,
            settings=settings,
            owner_type=REPORT_FILE_OWNER,
            owner_id=report.id,  # type: ignore[arg-type]
            filename=filename,
            data=data,
            uploaded_by=actor.user_id,
        )
    audit.record(
        session,
        actor=actor,
        action="report.create",
        entity_type="report",
        entity_id=report.id,
        summary=f"登记举报 {report.number}：被举报单位 {report.target_name}（{channel}，{received_on.isoformat()} 收到）",
        # Never the reporter's identity: every staff member can read the audit log.
        after={
            "number": report.number,
            "channel": channel,
            "received_on": received_on,
            "certification_id": report.certification_id,
            "application_id": report.application_id,
            "files": len(uploads),
        },
    )
    return report


def _match_certification(session: Session, *, name: str, factory: str) -> Certification | None:
    """The one active certification whose enterprise (and factory, when given) matches what the public typed."""
    stmt = (
        select(Certification)
        .join(Enterprise, Enterprise.id == Certification.enterprise_id)
        .where(Enterprise.name == name.strip(), Certification.status == CertificationStatus.active.value)
    )
    if factory.strip():
        stmt = stmt.where(Certification.factory_name == factory.strip())
    found = list(session.exec(stmt.limit(2)))
    return found[0] if len(found) == 1 else None


# --- reports: the public form and the receipt code ------------------------------------------------

RATE_WINDOW = timedelta(hours=1)


def _check_rate(session: Session, *, bucket: str, client_addr: str, limit: int, message: str) -> None:
    """Refuse when this address has used `bucket` `limit` times in the last hour; else count this request.
    Rows live in the database, so every app process shares the count."""
    now = utcnow()
    used = session.exec(
        select(func.count())
        .select_from(PublicRequest)
        .where(
            PublicRequest.bucket == bucket,
            PublicRequest.client_addr == client_addr,
            PublicRequest.at >= now - RATE_WINDOW,
        )
    ).one()
    if used >= limit:
        raise RateLimited(message)
    session.exec(  # type: ignore[call-overload]
        delete(PublicRequest).where(PublicRequest.bucket == bucket, PublicRequest.at < now - timedelta(days=1))
    )
    session.add(PublicRequest(bucket=bucket, client_addr=client_addr[:64], at=now))
    session.flush()


def submit_public_report(
    session: Session,
    *,
    settings: Settings,
    client_addr: str,
    target_name: str,
    target_factory: str,
    content: str,
    reporter_name: str,
    reporter_contact: str,
    uploads: Sequence[tuple[str, bytes]],
    today: date,
) -> tuple[Report, str]:
    """A report filed on the public form. Returns the report and its receipt code, which is shown once and
    never stored (only its HMAC)."""
    _check_rate(
        session,
        bucket="report.submit",
        client_addr=client_addr,
        limit=settings.public_report_limit,
        message=f"提交过于频繁：同一网络地址每小时最多提交 {settings.public_report_limit} 件举报。"
        "请稍后再试，或通过信函、电话等方式向主管部门举报。",
    )
    if not target_name.strip():
        raise ServiceError("请填写被举报单位名称。", field="target_name")
    if not content.strip():
        raise ServiceError("请填写举报内容。", field="content")
    code = "".join(secrets.choice("0123456789") for _ in range(rules.RECEIPT_DIGITS))
    cert = _match_certification(session, name=target_name, factory=target_factory)
    report = Report(
        source=ReportSource.public.value,
        channel="网上",
        received_on=today,
        certification_id=cert.id if cert else None,
        target_name=target_name.strip()[:200],
        target_factory=target_factory.strip()[:200],
        content=content.strip(),
        reporter_name=reporter_name.strip()[:64],
        reporter_contact=reporter_contact.strip()[:120],
        receipt_hash=rules.receipt_hash(settings.secret_key, code),
        state=REPORT_WORKFLOW.initial,
    )
    session.add(report)
    session.flush()
    report.number = _number(report)
    session.add(report)
    for filename, data in uploads:
        store_upload(
            session,
            settings=settings,
            owner_type=REPORT_FILE_OWNER,
            owner_id=report.id,  # type: ignore[arg-type]
            filename=filename,
            data=data,
            uploaded_by=None,
        )
    audit.record(
        session,
        actor=Actor(None, PUBLIC_ACTOR_NAME, client_addr),
        action="report.create",
        entity_type="report",
        entity_id=report.id,
        summary=f"网上举报 {report.number}：被举报单位 {report.target_name}"
        + ("（已自动关联认定）" if cert else "（待关联被举报对象）"),
        after={
            "number": report.number,
            "channel": "网上",
            "certification_id": report.certification_id,
            "files": len(uploads),
        },
    )
    return report, code


def find_by_receipt(session: Session, *, settings: Settings, client_addr: str, code_text: str) -> Report | None:
    """The report a receipt code opens, or None — the same None for a malformed and for an unknown code.
    Every attempt counts against the address's lookup limit."""
    _check_rate(
        session,
        bucket="report.lookup",
        client_addr=client_addr,
        limit=settings.public_lookup_limit,
        message=f"查询过于频繁：同一网络地址每小时最多查询 {settings.public_lookup_limit} 次。请一小时后再试。",
    )
    code = rules.normalise_receipt_code(code_text)
    # A malformed code is hashed too, so both answers take the same path.
    digest = rules.receipt_hash(settings.secret_key, code or "invalid")
    if code is None:
        return None
    return session.exec(select(Report).where(Report.receipt_hash == digest)).first()


@dataclass(frozen=True)
class PublicReply:
    on: Any  # datetime of the step
    text: str


@dataclass(frozen=True)
class PublicStatus:
    """Everything the reporter may see: no handler, no internal note, no other person's data."""

    number: str
    received_on: date
    target_name: str
    state_label: str
    replies: list[PublicReply]
    supplements: list[Any]  # datetimes of the reporter's own additions
    can_supplement: bool


def public_status(session: Session, report: Report) -> PublicStatus:
    steps = casework.case_steps(session, case_type=REPORT_WORKFLOW.name, case_id=report.id)  # type: ignore[arg-type]
    return PublicStatus(
        number=report.number,
        received_on=report.received_on,
        target_name=report.target_name,
        state_label=rules.PUBLIC_STATE_LABELS[report.state],
        replies=[PublicReply(s.at, s.data["public_reply"]) for s in steps if s.data.get("public_reply")],
        supplements=[s.at for s in steps if s.code == "supplement"],
        can_supplement=report.state not in REPORT_WORKFLOW.final_states,
    )


def add_supplement(
    session: Session,
    *,
    settings: Settings,
    report: Report,
    client_addr: str,
    content: str,
    uploads: Sequence[tuple[str, bytes]],
) -> CaseStep:
    """The reporter adds information or files (with the receipt code) while the report is open."""
    if report.state in REPORT_WORKFLOW.final_states:
        raise ServiceError("该举报已办结，不能再补充材料。如有新的情况，请重新提交举报。")
    if not content.strip() and not uploads:
        raise ServiceError("请填写补充内容或选择补充的文件。", field="content")
    step = casework.record_event(
        session,
        workflow=REPORT_WORKFLOW,
        case=report,
        code="supplement",
        actor=Actor(None, PUBLIC_ACTOR_NAME, client_addr),
        note=content.strip()[:5000],
        data={"files": len(uploads)} if uploads else None,
    )
    casework.attach_step_files(session, settings=settings, step=step, uploads=uploads, user_id=None)
    return step


# --- reports: verification ------------------------------------------------------------------------


def is_report_handler(session: Session, *, report_id: int, user_id: int | None) -> bool:
    return casework.is_handler(session, case_type=REPORT_WORKFLOW.name, case_id=report_id, user_id=user_id)


def take_step(
    session: Session,
    *,
    actor: Actor,
    settings: Settings,
    report_id: int,
    code: str,
    row_version: int,
    note: str,
    values: dict[str, Any],
    uploads: Sequence[tuple[str, bytes]],
    today: date,
) -> CaseStep:
    """One step of the verification flow (第二十一条), with its effects: handlers and the reply deadline,
    the conclusion, the rectification deadline, the revocation and its ban, closing with the reply recorded."""
    report = get_report(session, report_id, for_update=True)
    handler = is_report_handler(session, report_id=report.id, user_id=actor.user_id)  # type: ignore[arg-type]
    casework.permitted(
        session, workflow=REPORT_WORKFLOW, case=report, code=code, is_handler=handler, row_version=row_version
    )
    data: dict[str, Any] = {}
    users = []
    public_reply = (values.get("public_reply") or "").strip()
    if public_reply:
        data["public_reply"] = public_reply[:2000]
    if code == "start":
        users = casework.check_handlers(session, values.get("handlers") or []) if values.get("handlers") else []
        data["handlers"] = [u.display_name for u in users]
        deadline = values.get("reply_deadline")
        if deadline is not None and deadline <= today:
            raise ServiceError("「单位答复期限」应晚于今天。", field="reply_deadline")
        data["reply_deadline"] = deadline
    elif code == "record_reply":
        replied_on = values.get("replied_on")
        if replied_on is not None and replied_on > today:
            raise ServiceError("「单位答复日期」不能晚于今天。", field="replied_on")
        data["replied_on"] = replied_on
    elif code == "conclude_rectify":
        deadline = values.get("rectify_deadline")
        if deadline is not None and deadline <= today:
            raise ServiceError("「整改期限」应晚于今天。", field="rectify_deadline")
        data["rectify_deadline"] = deadline
    elif code == "conclude_revoke":
        category = values.get("reason_category") or ""
        if category and category not in {r.value for r in RevocationReason}:
            raise ServiceError("请选择取消认定的理由类别。", field="reason_category")
        data["reason_category"] = REVOCATION_REASON_LABELS[RevocationReason(category)] if category else ""
        revoked_on = values.get("revoked_on")
        data["revoked_on"] = revoked_on
        if revoked_on is not None:
            # The ban shown in the step is the one revoke() records: the given date, else the computed minimum.
            data["banned_until"] = values.get("banned_until") or rules.ban_until(revoked_on)
    step = casework.apply_transition(
        session,
        workflow=REPORT_WORKFLOW,
        case=report,
        code=code,
        actor=actor,
        is_handler=handler,
        note=note,
        data=data,
        today=today,
        row_version=row_version,
    )
    if code == "start":
        casework.set_handlers(
            session, workflow=REPORT_WORKFLOW, case=report, user_ids=[u.id for u in users], actor=actor, record=False
        )  # type: ignore[misc]
        report.reply_deadline = values["reply_deadline"]
    elif code in rules.CONCLUSION_OF_TRANSITION:
        report.conclusion = rules.CONCLUSION_OF_TRANSITION[code]
        if code == "conclude_rectify":
            report.rectify_deadline = values["rectify_deadline"]
        if code == "conclude_revoke":
            revocation = revoke(
                session,
                actor=actor,
                certification_id=report.certification_id,  # type: ignore[arg-type]
                row_version=None,
                reason_category=values["reason_category"],
                revoked_on=values["revoked_on"],
                reason=f"举报 {report.number} 核实：{note.strip()}",
                banned_until=values.get("banned_until"),
                today=today,
            )
            report.revocation_id = revocation.id
    elif code == "close":
        report.closed_on = today
    session.add(report)
    casework.attach_step_files(session, settings=settings, step=step, uploads=uploads, user_id=actor.user_id)
    session.flush()
    return step


def add_note(
    session: Session,
    *,
    actor: Actor,
    settings: Settings,
    report_id: int,
    note: str,
    uploads: Sequence[tuple[str, bytes]],
) -> CaseStep:
    """A handling note (办理记录) with files, by a handler; the state stays."""
    report = get_report(session, report_id)
    if not is_report_handler(session, report_id=report.id, user_id=actor.user_id):  # type: ignore[arg-type]
        raise ServiceError("只有该举报的承办人可以添加办理记录。")
    if not note.strip():
        raise ServiceError("请填写办理记录。", field="note")
    step = casework.record_event(
        session,
        workflow=REPORT_WORKFLOW,
        case=report,
        code="note",
        actor=actor,
        note=note,
        data={"files": len(uploads)} if uploads else None,
    )
    casework.attach_step_files(session, settings=settings, step=step, uploads=uploads, user_id=actor.user_id)
    return step


def reassign(
    session: Session, *, actor: Actor, actor_role: str, report_id: int, user_ids: Sequence[int], note: str
) -> None:
    """Change the handlers: a current handler or an administrator may (not any staff member: the handlers
    see the reporter's identity)."""
    report = get_report(session, report_id, for_update=True)
    if report.state == REPORT_WORKFLOW.initial or report.state == "accepted":
        raise ServiceError("承办人在「开始核实」时指定。")
    if not (
        actor_role == Role.sysadmin.value or is_report_handler(session, report_id=report.id, user_id=actor.user_id)
    ):  # type: ignore[arg-type]
        raise ServiceError("只有该举报的承办人或系统管理员可以更换承办人。")
    casework.set_handlers(session, workflow=REPORT_WORKFLOW, case=report, user_ids=user_ids, actor=actor, note=note)


def link_target(
    session: Session,
    *,
    actor: Actor,
    report_id: int,
    row_version: int,
    certification_id: int | None,
    application_id: int | None,
) -> Report:
    """Link a report (e.g. one filed online with a typed name) to the certification or application it is about."""
    report = get_report(session, report_id, for_update=True)
    _check_version(report, row_version, casework.STALE_CASE)
    if report.state in REPORT_WORKFLOW.final_states or report.state in rules.CONCLUDED_STATES:
        raise ServiceError("该举报已有结论，不能再更改被举报对象。")
    if report.state not in {"registered", "accepted"} and not is_report_handler(
        session,
        report_id=report.id,
        user_id=actor.user_id,  # type: ignore[arg-type]
    ):
        raise ServiceError("核实开始后，只有承办人可以更改被举报对象。")
    cert, app, enterprise = _resolve_target(session, certification_id=certification_id, application_id=application_id)
    if cert is None and app is None:
        raise ServiceError("请选择被举报的认定或申报。", field="target")
    report.certification_id = cert.id if cert else None
    report.application_id = app.id if app else None
    label = Target("certification" if cert else "application", cert, app, enterprise).label
    report.row_version += 1
    report.updated_at = utcnow()
    session.add(report)
    casework.record_event(
        session, workflow=REPORT_WORKFLOW, case=report, code="link", actor=actor, data={"target": label}
    )
    return report


def reveal_identity(session: Session, *, actor: Actor, report_id: int) -> tuple[str, str]:
    """The reporter's name and contact, for a handler of this report only; each call is one audit entry."""
    report = get_report(session, report_id)
    if not is_report_handler(session, report_id=report.id, user_id=actor.user_id):  # type: ignore[arg-type]
        raise ServiceError("举报人信息保密，只有该举报的承办人可以查看。")
    audit.record(
        session,
        actor=actor,
        action="report.view_identity",
        entity_type="report",
        entity_id=report.id,
        summary=f"{actor.name} 查看了举报 {report.number} 的举报人信息",
    )
    return report.reporter_name, report.reporter_contact


def report_files(session: Session, report_id: int) -> list[StoredFile]:
    return list(
        session.exec(
            select(StoredFile)
            .where(StoredFile.owner_type == REPORT_FILE_OWNER, StoredFile.owner_id == report_id)
            .order_by(StoredFile.id)
        )
    )


def report_file(session: Session, *, report_id: int, file_id: int) -> StoredFile:
    """A file of this report: its evidence, or a file attached to one of its steps."""
    stored = session.get(StoredFile, file_id)
    if stored is not None:
        if stored.owner_type == REPORT_FILE_OWNER and stored.owner_id == report_id:
            return stored
        if stored.owner_type == casework.STEP_FILE_OWNER:
            step = session.get(CaseStep, stored.owner_id)
            if step is not None and step.case_type == REPORT_WORKFLOW.name and step.case_id == report_id:
                return stored
    raise NotFound("未找到该文件。")


def _overdue_clause(today: date):  # type: ignore[no-untyped-def]
    """SQL mirror of rules.is_overdue."""
    return or_(
        and_(Report.state == "verifying", Report.reply_deadline < today),  # type: ignore[operator]
        Report.state == "no_reply",
        and_(Report.state == "rectifying", Report.rectify_deadline < today),  # type: ignore[operator]
    )


def reports_query(
    *,
    today: date,
    q: str = "",
    state: str = "",
    channel: str = "",
    flag: str = "",
    handler_id: int | None = None,
    year: int | None = None,
):  # type: ignore[no-untyped-def]
    """Reports for the register; flag: overdue | open | closed."""
    stmt = select(Report)
    if q:
        like = f"%{q.strip()[:100]}%"
        stmt = stmt.where(
            or_(Report.number.like(like), Report.target_name.like(like), Report.target_factory.like(like))  # type: ignore[attr-defined]
        )
    if state:
        stmt = stmt.where(Report.state == state)
    if channel:
        stmt = stmt.where(Report.channel == channel)
    if flag == "overdue":
        stmt = stmt.where(_overdue_clause(today))
    elif flag == "open":
        stmt = stmt.where(Report.state.not_in(sorted(REPORT_WORKFLOW.final_states)))  # type: ignore[attr-defined]
    elif flag == "closed":
        stmt = stmt.where(Report.state.in_(sorted(REPORT_WORKFLOW.final_states)))  # type: ignore[attr-defined]
    if handler_id is not None:
        stmt = stmt.where(Report.id.in_(casework.cases_handled_by(case_type=REPORT_WORKFLOW.name, user_id=handler_id)))  # type: ignore[union-attr]
    if year:
        stmt = stmt.where(Report.received_on >= date(year, 1, 1), Report.received_on <= date(year, 12, 31))
    return stmt.order_by(Report.received_on.desc(), Report.id.desc())  # type: ignore[attr-defined]


def search_targets(
    session: Session, q: str, *, limit: int = 20
) -> tuple[list[tuple[Certification, Enterprise]], list[tuple[Application, Enterprise]]]:
    """Certifications and applications whose enterprise or factory name (or credit code) matches `q`."""
    text = q.strip()[:100]
    if not text:
        return [], []
    like = f"%{text}%"
    code = normalise_credit_code(text)
    certs = list(
        session.exec(
            select(Certification, Enterprise)
            .join(Enterprise, Enterprise.id == Certification.enterprise_id)
            .where(
                or_(
                    Enterprise.name.like(like), Certification.factory_name.like(like), Certification.credit_code == code
                )
            )  # type: ignore[attr-defined]
            .order_by(Certification.status, Certification.valid_from.desc())  # type: ignore[attr-defined]
            .limit(limit)
        )
    )
    apps = list(
        session.exec(
            select(Application, Enterprise)
            .join(Enterprise, Enterprise.id == Application.enterprise_id)
            .where(or_(Enterprise.name.like(like), Application.factory_name.like(like), Enterprise.credit_code == code))  # type: ignore[attr-defined]
            .order_by(Application.id.desc())  # type: ignore[attr-defined]
            .limit(limit)
        )
    )
    return certs, apps


def reports_for_certification(session: Session, certification_id: int) -> list[Report]:
    return list(
        session.exec(select(Report).where(Report.certification_id == certification_id).order_by(Report.id.desc()))  # type: ignore[attr-defined]
    )


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
        _check_version(row, row_version, STALE_PENETRATION)
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
