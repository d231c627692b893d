"""Operations on applications: who may see one, loading and rechecking, lists, detail. Formal review decisions live in
formal_review.py, files in attachments.py."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from reviewapp import audit
from reviewapp.applications import rules
from reviewapp.applications.models import (
    Application,
    ApplicationParty,
    ApplicationScenario,
    Enterprise,
    FormalOverride,
    FormalStatus,
)
from reviewapp.audit import Actor
from reviewapp.auth.models import Role, User
from reviewapp.db import chunked
from reviewapp.errors import NotFound
from reviewapp.files import StoredFile
from reviewapp.reports.models import REVOCATION_REASON_LABELS, Certification, CertificationStatus, Revocation
from reviewapp.rounds.models import Round, Scenario, Tier
from reviewapp.rounds.service import get_round

audit.register_labels(
    actions={
        "application.import": "导入申报名单",
        "application.formal_pass": "形式审查通过",
        "application.formal_fail": "形式审查不通过",
        "application.formal_reset": "撤销形式审查结论",
        "application.formal_override": "豁免形式审查检查项",
        "application.formal_override_remove": "撤销检查项豁免",
        "application.formal_recheck": "重新进行形式审查检查",
        "application.facts_update": "修改形式审查核查信息",
        "application.attachment_upload": "上传申报附件",
        "application.attachment_delete": "删除申报附件",
    },
    entities={"application": "申报", "round": "批次"},
)

# --- who may see an application -------------------------------------------------------------------

ViewRule = Callable[[User, Application, Session], bool]


def _staff_sees_all(user: User, _application: Application, _session: Session) -> bool:
    return user.role == Role.staff.value


_VIEW_RULES: list[ViewRule] = [_staff_sees_all]


def register_view_rule(rule: ViewRule) -> None:
    """Another capability adds who else may see an application (e.g. an expert assigned to it, not conflicted)."""
    if rule not in _VIEW_RULES:
        _VIEW_RULES.append(rule)


def can_view_application(user: User | None, application: Application, session: Session) -> bool:
    """Whether this user may see the application and download its attachments."""
    if user is None or not user.is_active:
        return False
    return any(rule(user, application, session) for rule in _VIEW_RULES)


# --- who reaches the experts ----------------------------------------------------------------------


def eligible_query(round_id: int):  # type: ignore[no-untyped-def]
    """Applications of the round that passed formal review with no open failed check: the only ones experts see."""
    return select(Application).where(
        Application.round_id == round_id,
        Application.formal_status == FormalStatus.passed.value,
        Application.formal_failed_codes == "",
    )


def eligible_for_review(session: Session, *, round_id: int) -> list[Application]:
    return list(session.exec(eligible_query(round_id).order_by(Application.serial, Application.id)))


def is_eligible_for_review(application: Application) -> bool:
    return application.formal_status == FormalStatus.passed.value and not application.formal_failed_codes


# --- loading --------------------------------------------------------------------------------------


def get_application(session: Session, application_id: int) -> Application:
    application = session.get(Application, application_id)
    if application is None:
        raise NotFound("未找到该申报。")
    return application


def checks_of(application: Application) -> list[rules.Check]:
    """The checks as last computed and stored on the application."""
    try:
        items = json.loads(application.formal_checks_json or "[]")
    except ValueError:
        return []
    return [rules.Check(**item) for item in items]


def formal_settings(rnd: Round) -> rules.FormalSettings:
    return rules.FormalSettings(
        min_maturity_level=rnd.min_maturity_level,
        min_scenarios=rnd.min_scenarios,
        required_stages=tuple(rnd.required_stages),
        branch_industries=tuple(rnd.branch_industries),
    )


def _facts(
    session: Session, applications: Sequence[Application]
) -> tuple[dict[int, rules.FormalFacts], dict[int, dict[str, str]]]:
    """Everything the formal checks read, for many applications in a few queries."""
    app_ids = [a.id for a in applications]
    enterprise_ids = sorted({a.enterprise_id for a in applications})
    enterprises: dict[int, Enterprise] = {}
    for chunk in chunked(enterprise_ids):
        for e in session.exec(select(Enterprise).where(col(Enterprise.id).in_(chunk))):
            enterprises[e.id] = e  # type: ignore[index]
    scenarios: dict[int, list[tuple[str, str, bool]]] = defaultdict(list)
    overrides: dict[int, dict[str, str]] = defaultdict(dict)
    for chunk in chunked(app_ids):  # type: ignore[arg-type]
        stmt = (
            select(ApplicationScenario)
            .where(col(ApplicationScenario.application_id).in_(chunk))
            .order_by(ApplicationScenario.sort_order)
        )
        for s in session.exec(stmt):
            scenarios[s.application_id].append((s.name, s.stage, s.scenario_id is not None))
        for o in session.exec(select(FormalOverride).where(col(FormalOverride.application_id).in_(chunk))):
            overrides[o.application_id][o.check_code] = o.reason
    codes = sorted({e.credit_code for e in enterprises.values() if e.credit_code})
    bans: dict[str, list[rules.Ban]] = defaultdict(list)
    certified: dict[str, list[date]] = defaultdict(list)
    for chunk in chunked(codes):
        for r in session.exec(select(Revocation).where(col(Revocation.credit_code).in_(chunk))):
            label = REVOCATION_REASON_LABELS.get(r.reason_category, r.reason_category)  # type: ignore[call-overload]
            bans[r.credit_code].append(rules.Ban(banned_until=r.banned_until, revoked_on=r.revoked_on, reason=label))
        cert_stmt = select(Certification).where(
            col(Certification.credit_code).in_(chunk),
            Certification.tier == Tier.advanced.value,
            Certification.status == CertificationStatus.active.value,
        )
        for c in session.exec(cert_stmt):
            certified[c.credit_code].append(c.valid_to)
    facts = {}
    for a in applications:
        e = enterprises[a.enterprise_id]
        code = e.credit_code or None
        facts[a.id] = rules.FormalFacts(
            tier=a.tier,
            credit_code=code,
            above_designated_size=e.above_designated_size,
            is_branch=a.is_branch,
            branch_industry=a.branch_industry,
            maturity_level=a.maturity_level,
            scenarios=scenarios.get(a.id, []),  # type: ignore[arg-type]
            major_accident=a.major_accident,
            serious_dishonesty=a.serious_dishonesty,
            bans=bans.get(code, []) if code else [],
            advanced_certified_until=certified.get(code, []) if code else [],
        )
    return facts, overrides  # type: ignore[return-value]


@dataclass
class Recomputed:
    checks: dict[int, list[rules.Check]]
    reset: list[int]  # passed applications sent back to 待审查 because a check now fails


def recompute_checks(
    session: Session, *, round_id: int, application_ids: Sequence[int] | None, today: date
) -> Recomputed:
    """Compute and store the checks of these applications (None: the whole round).

    A passed application that now has an open failure goes back to 待审查: it must never reach an expert.
    """
    rnd = get_round(session, round_id)
    settings = formal_settings(rnd)
    if application_ids is None:
        applications = list(session.exec(select(Application).where(Application.round_id == round_id)))
    else:
        applications = []
        for chunk in chunked(list(application_ids)):
            applications += list(session.exec(select(Application).where(col(Application.id).in_(chunk))))
    facts, overrides = _facts(session, applications)
    result: dict[int, list[rules.Check]] = {}
    params: list[dict[str, Any]] = []
    reset: list[int] = []
    for a in applications:
        checks = rules.apply_overrides(rules.formal_checks(facts[a.id], settings, today=today), overrides.get(a.id, {}))  # type: ignore[index]
        result[a.id] = checks  # type: ignore[index]
        values: dict[str, Any] = {
            "id": a.id,
            "formal_checks_json": json.dumps([c.as_dict() for c in checks], ensure_ascii=False),
            "formal_failed_codes": rules.failed_codes(checks),
            "formal_status": a.formal_status,
            "row_version": a.row_version,
        }
        if a.formal_status == FormalStatus.passed.value and values["formal_failed_codes"]:
            values.update(formal_status=FormalStatus.pending.value, row_version=a.row_version + 1)
            reset.append(a.id)  # type: ignore[arg-type]
        if values["formal_checks_json"] != a.formal_checks_json or values["formal_status"] != a.formal_status:
            params.append(values)
    if params:
        session.exec(update(Application), params=params)  # type: ignore[call-overload]
        session.expire_all()
    return Recomputed(result, reset)


def recheck_round(session: Session, *, actor: Actor, round_id: int, today: date) -> tuple[int, int, list[int]]:
    """Recompute every application's checks (e.g. after a revocation was recorded); (count, failing, reset ids)."""
    rnd = get_round(session, round_id)
    recomputed = recompute_checks(session, round_id=round_id, application_ids=None, today=today)
    result, reset = recomputed.checks, recomputed.reset
    failing = sum(1 for checks in result.values() if any(c.open_failure for c in checks))
    audit.record(
        session,
        actor=actor,
        action="application.formal_recheck",
        entity_type="round",
        entity_id=round_id,
        summary=f"重新检查批次「{rnd.name}」的 {len(result)} 条申报：{failing} 条有未通过的检查项"
        + (f"，{len(reset)} 条已通过的申报改为待审查" if reset else ""),
        after={"applications": len(result), "failing": failing, "reset_to_pending": reset},
    )
    return len(result), failing, reset


# --- lists ----------------------------------------------------------------------------------------


def applications_query(  # type: ignore[no-untyped-def]
    *, round_id: int, q: str = "", status: str = "", city: str = "", industry: str = "", tier: str = "", check: str = ""
):
    """Rows of (Application, Enterprise) matching the list's search and filters, in 序号 order."""
    stmt = (
        select(Application, Enterprise)
        .join(Enterprise, col(Application.enterprise_id) == col(Enterprise.id))
        .where(Application.round_id == round_id)
    )
    q = q.strip()[:100]
    if q:
        like = f"%{q}%"
        stmt = stmt.where(
            or_(
                col(Enterprise.name).like(like),
                col(Application.factory_name).like(like),
                col(Enterprise.credit_code).like(f"%{rules.normalise_credit_code(q)}%"),
            )
        )
    if status in FormalStatus.__members__:
        stmt = stmt.where(Application.formal_status == status)
    if city:
        stmt = stmt.where(Enterprise.city == city)
    if industry:
        stmt = stmt.where(Enterprise.industry_group == industry)
    if tier:
        stmt = stmt.where(Application.tier == tier)
    if check == "ok":
        stmt = stmt.where(Application.formal_failed_codes == "")
    elif check == "failed":
        stmt = stmt.where(Application.formal_failed_codes != "")
    elif check in rules.CHECK_LABELS:
        stmt = stmt.where(col(Application.formal_failed_codes).like(f"%,{check},%"))
    return stmt.order_by(Application.serial, Application.id)


@dataclass
class RoundCounts:
    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    failing: int = 0

    def status(self, key: str) -> int:
        return self.by_status.get(key, 0)


def round_counts(session: Session, round_id: int) -> RoundCounts:
    counts = RoundCounts()
    stmt = (
        select(Application.formal_status, func.count())
        .where(Application.round_id == round_id)
        .group_by(Application.formal_status)
    )
    for status, n in session.exec(stmt):
        counts.by_status[status] = int(n)
    counts.total = sum(counts.by_status.values())
    counts.failing = int(
        session.exec(
            select(func.count())
            .select_from(Application)
            .where(Application.round_id == round_id, Application.formal_failed_codes != "")
        ).one()
    )
    return counts


def round_cities(session: Session, round_id: int) -> list[str]:
    stmt = (
        select(Enterprise.city)
        .join(Application, col(Application.enterprise_id) == col(Enterprise.id))
        .where(Application.round_id == round_id, Enterprise.city != "")
        .distinct()
        .order_by(Enterprise.city)
    )
    return list(session.exec(stmt))


# --- detail ---------------------------------------------------------------------------------------


@dataclass
class Detail:
    application: Application
    enterprise: Enterprise
    round: Round
    stages: list[tuple[str, list[ApplicationScenario]]]  # 环节 in catalogue order, then names not in the catalogue
    unknown: list[ApplicationScenario]
    parties: list[ApplicationParty]
    attachments: list[StoredFile]
    checks: list[rules.Check]
    overrides: dict[str, FormalOverride]
    industry_names: dict[str, str]


def detail(session: Session, application_id: int) -> Detail:
    from reviewapp.rounds.models import IndustryCode

    application = get_application(session, application_id)
    enterprise = session.get(Enterprise, application.enterprise_id)
    rnd = get_round(session, application.round_id)
    assert enterprise is not None
    scenarios = list(
        session.exec(
            select(ApplicationScenario)
            .where(ApplicationScenario.application_id == application_id)
            .order_by(ApplicationScenario.sort_order)
        )
    )
    stage_order = {
        stage: no
        for stage, no in session.exec(
            select(Scenario.stage, Scenario.stage_no).where(
                Scenario.catalogue_version == rnd.scenario_catalogue_version
            )
        )
    }
    grouped: dict[str, list[ApplicationScenario]] = defaultdict(list)
    unknown = []
    for s in scenarios:
        if s.scenario_id is None:
            unknown.append(s)
        else:
            grouped[s.stage].append(s)
    stages = sorted(grouped.items(), key=lambda item: stage_order.get(item[0], 99))
    parties = list(
        session.exec(
            select(ApplicationParty)
            .where(ApplicationParty.application_id == application_id)
            .order_by(ApplicationParty.role, ApplicationParty.id)
        )
    )
    attachments = list(
        session.exec(
            select(StoredFile)
            .where(StoredFile.owner_type == ATTACHMENT_OWNER, StoredFile.owner_id == application_id)
            .order_by(col(StoredFile.uploaded_at).desc())
        )
    )
    overrides = {
        o.check_code: o
        for o in session.exec(select(FormalOverride).where(FormalOverride.application_id == application_id))
    }
    division = enterprise.industry_mid[:2] or enterprise.industry_small[:2]
    industry_names = {}
    if division:
        found = session.get(IndustryCode, division)
        if found:
            industry_names[division] = found.name
    return Detail(
        application=application,
        enterprise=enterprise,
        round=rnd,
        stages=stages,
        unknown=unknown,
        parties=parties,
        attachments=attachments,
        checks=checks_of(application),
        overrides=overrides,
        industry_names=industry_names,
    )


# --- shared with attachments, formal review and scoring --------------------------------------------

# The owner kind under which an application's files are stored.
ATTACHMENT_OWNER = "application"


def application_label(application: Application, enterprise: Enterprise | None = None) -> str:
    name = enterprise.name if enterprise else ""
    return f"{name}「{application.factory_name}」" if name else f"「{application.factory_name}」"
