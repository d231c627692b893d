"""Direct row builders for tests that need upstream data (a round, applications, experts, panels).

They insert rows as the import/assignment services would leave them, so a test of one capability does not
depend on driving another through its pages. Capabilities' own tests go through HTTP.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from datetime import UTC, datetime
from decimal import Decimal

from sqlmodel import Session

from reviewapp.applications.models import Application, ApplicationParty, ApplicationScenario, Enterprise
from reviewapp.panels.models import Expert, Panel, PanelMember, Pledge
from reviewapp.reports.models import Certification
from reviewapp.rounds.models import CriteriaNode, CriteriaVersion, Round, Tier

_counter = itertools.count(1)

# Valid 统一社会信用代码 (GB 32100-2015 check characters), for enterprises that need real-looking codes.
VALID_CREDIT_CODES = [
    "91370000163044841F",
    "91110000100010433L",
    "91310000132204065H",
    "91440300192317458F",
    "913300001429113677",
    "913200001347912155",
    "91420000177570439L",
    "915100002019054472",
]


def make_round(db: Session, **overrides) -> Round:  # type: ignore[no-untyped-def]
    values = {"name": "2026年度先进级智能工厂遴选", "year": 2026, "tier": Tier.advanced.value}
    values.update(overrides)
    rnd = Round(**values)
    db.add(rnd)
    db.commit()
    return rnd


# A small criteria tree: (dimension code, title, [(item code, title, kind, max points, step)]).
SMALL_CRITERIA = [
    (
        "JB",
        "基本要求",
        [
            ("JB01", "企业规模", "points", "10", "0.5"),
            ("JB-G1", "近三年未发生重大安全、质量、环境事故", "gate", "0", "0"),
        ],
    ),
    (
        "SC",
        "生产作业",
        [("SC01", "在线智能检测", "points", "50", "1"), ("SC02", "设备运行监控", "points", "40", "0.5")],
    ),
]


def make_criteria_version(db: Session, tree=SMALL_CRITERIA, **overrides) -> CriteriaVersion:  # type: ignore[no-untyped-def]
    """A criteria version with dimensions and items as the editor or an import would leave them."""
    values = {"name": f"测试要素条件{next(_counter)}", "tier": Tier.advanced.value}
    values.update(overrides)
    version = CriteriaVersion(**values)
    db.add(version)
    db.flush()
    for d_order, (code, title, items) in enumerate(tree, start=1):
        dim = CriteriaNode(
            version_id=version.id,
            kind="dimension",
            code=code,
            title=title,
            max_points=Decimal("0"),
            step=Decimal("0"),
            sort_order=d_order,
        )
        db.add(dim)
        db.flush()
        for i_order, (i_code, i_title, kind, max_points, step) in enumerate(items, start=1):
            db.add(
                CriteriaNode(
                    version_id=version.id,
                    parent_id=dim.id,
                    kind=kind,
                    code=i_code,
                    title=i_title,
                    max_points=Decimal(max_points),
                    step=Decimal(step),
                    sort_order=i_order,
                    guidance=f"{i_title}的评分指引",
                )
            )
    db.commit()
    return version


def make_enterprise(db: Session, *, credit_code: str | None = None, **overrides) -> Enterprise:  # type: ignore[no-untyped-def]
    n = next(_counter)
    values = {
        "credit_code": credit_code or f"TEST{n:014d}",
        "name": f"测试企业{n}有限公司",
        "city": "济南市",
        "nature": "民营企业",
        "size_type": "中型企业",
        "industry_group": "装备制造",
        "industry_mid": "341",
        "industry_small": "3411",
    }
    values.update(overrides)
    enterprise = Enterprise(**values)
    db.add(enterprise)
    db.commit()
    return enterprise


def make_application(  # type: ignore[no-untyped-def]
    db: Session,
    rnd: Round,
    enterprise: Enterprise | None = None,
    *,
    scenarios: list[tuple[str, str]] | None = None,
    providers: list[tuple[str, str]] | None = None,
    **overrides,
) -> Application:
    enterprise = enterprise or make_enterprise(db)
    n = next(_counter)
    values = {
        "round_id": rnd.id,
        "enterprise_id": enterprise.id,
        "serial": n,
        "factory_name": f"{enterprise.name}智能工厂{n}",
        "project_name": f"智能工厂建设项目{n}",
        "tier": rnd.tier,
        "maturity_score": Decimal("2.5"),
        "maturity_level": 2,
    }
    values.update(overrides)
    application = Application(**values)
    db.add(application)
    db.flush()
    for order, (stage, name) in enumerate(scenarios or [], start=1):
        db.add(ApplicationScenario(application_id=application.id, name=name, stage=stage, sort_order=order))
    for name, code in providers or []:
        db.add(ApplicationParty(application_id=application.id, role="provider", name=name, credit_code=code))
    db.commit()
    return application


def make_expert(db: Session, *, user_id: int | None = None, **overrides) -> Expert:  # type: ignore[no-untyped-def]
    n = next(_counter)
    values = {"name": f"专家{n}", "employer": f"某研究院{n}", "city": "青岛市", "specialties_json": '["装备制造"]'}
    values.update(overrides)
    expert = Expert(user_id=user_id, **values)
    db.add(expert)
    db.commit()
    return expert


def make_panel(db: Session, rnd: Round, experts: list[Expert], *, chair: Expert | None = None, **overrides) -> Panel:  # type: ignore[no-untyped-def]
    values = {"round_id": rnd.id, "name": f"装备制造组{next(_counter)}", "industry_group": "装备制造"}
    values.update(overrides)
    panel = Panel(**values)
    db.add(panel)
    db.flush()
    chair = chair or (experts[0] if experts else None)
    for expert in experts:
        db.add(PanelMember(panel_id=panel.id, expert_id=expert.id, is_chair=expert is chair))
    db.commit()
    return panel


def sample_rows(db: Session, rnd: Round, count: int, *, seed: int = 7) -> list[dict]:  # type: ignore[type-arg]
    """Realistic 名单汇总表 rows (keyed by import column) valid for the round's scenario catalogue."""
    from sqlmodel import select

    from reviewapp.applications.sample_file import CatalogueEntry, generate_rows
    from reviewapp.rounds.models import Scenario

    catalogue = [
        CatalogueEntry(s.name, s.stage)
        for s in db.exec(select(Scenario).where(Scenario.catalogue_version == rnd.scenario_catalogue_version))
    ]
    return generate_rows(count, catalogue=catalogue, seed=seed, tier_label=rnd.tier_label)


def make_certification(db: Session, enterprise: Enterprise | None = None, **overrides) -> Certification:  # type: ignore[no-untyped-def]
    """An active certification as publishing a round's list (or staff's manual entry) leaves it."""
    from datetime import date

    enterprise = enterprise or make_enterprise(db)
    n = next(_counter)
    values = {
        "enterprise_id": enterprise.id,
        "credit_code": enterprise.credit_code,
        "factory_name": f"{enterprise.name}智能工厂{n}",
        "tier": Tier.excellent.value,
        "valid_from": date(2025, 1, 1),
        "valid_to": date(2027, 12, 31),
        "source": "manual",
    }
    values.update(overrides)
    cert = Certification(**values)
    db.add(cert)
    db.commit()
    return cert


def formal_ban_check(db: Session, enterprise: Enterprise, *, today) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """What formal review says about a revocation ban for a new application of this enterprise on `today`."""
    import json

    from reviewapp.applications.service import recompute_checks

    rnd = make_round(db, name=f"复核用批次{next(_counter)}")
    application = make_application(db, rnd, enterprise)
    recompute_checks(db, round_id=rnd.id, application_ids=[application.id], today=today)
    db.commit()
    db.refresh(application)
    return next(c for c in json.loads(application.formal_checks_json) if c["code"] == "revocation_ban")


def make_pledge(db: Session, rnd: Round, expert: Expert) -> Pledge:
    """The expert has signed the round's current pledge text and finished the conflict declaration."""
    pledge = Pledge(
        round_id=rnd.id,
        expert_id=expert.id,
        pledge_text_sha256=hashlib.sha256((rnd.pledge_text or "").encode("utf-8")).hexdigest(),
        declaration_done_at=datetime.now(UTC),
    )
    db.add(pledge)
    db.commit()
    return pledge


def make_submitted_sheet(  # type: ignore[no-untyped-def]
    db: Session,
    application: Application,
    expert: Expert,
    *,
    values: dict[str, str | Decimal | None],
    gates: dict[str, str] | None = None,
    opinion: str = "该项目智能化水平较高，生产作业环节数字化覆盖全面，建议推荐。",
    status: str = "submitted",
):
    """A score sheet as the expert's submit leaves it: item values by criteria code, gates "pass"/"fail"."""
    from sqlmodel import select

    from reviewapp.scoring.models import ItemScore, ScoreSheet

    rnd = db.get(Round, application.round_id)
    nodes = {n.code: n for n in db.exec(select(CriteriaNode).where(CriteriaNode.version_id == rnd.criteria_version_id))}
    total = sum((Decimal(str(v)) for v in values.values() if v is not None), Decimal(0))
    sheet = ScoreSheet(
        round_id=application.round_id,
        panel_id=application.panel_id,
        application_id=application.id,
        expert_id=expert.id,
        criteria_version_id=rnd.criteria_version_id,
        status=status,
        opinion=opinion,
        total=total,
        submitted_at=datetime.now(UTC) if status == "submitted" else None,
    )
    db.add(sheet)
    db.flush()
    for code, value in values.items():
        db.add(
            ItemScore(sheet_id=sheet.id, node_id=nodes[code].id, value=None if value is None else Decimal(str(value)))
        )
    for code, gate in (gates or {}).items():
        db.add(ItemScore(sheet_id=sheet.id, node_id=nodes[code].id, gate=gate))
    db.commit()
    return sheet


def scored_values(total: int | Decimal) -> dict[str, Decimal]:
    """Item values of SMALL_CRITERIA that add up to `total` (0..100), with 生产作业 taking most of it."""
    total = Decimal(str(total))
    jb = min(Decimal(10), (total / 5).quantize(Decimal("1")) / 2)
    rest = total - jb
    sc01 = max(math.ceil(rest) - 40, int(rest // 2))
    return {"JB01": jb, "SC01": Decimal(sc01), "SC02": rest - sc01}


def make_scored_panel(  # type: ignore[no-untyped-def]
    db: Session,
    *,
    totals: list[list[int | Decimal]],
    users: list | None = None,
    rnd: Round | None = None,
    **round_overrides,
):
    """A round (SMALL_CRITERIA) with one panel whose experts have all submitted: totals[a][e] is expert e's total
    for application a. `users`: expert accounts to link (first one chairs). Returns (round, panel, apps, experts)."""
    if rnd is None:
        version = make_criteria_version(db)
        rnd = make_round(db, criteria_version_id=version.id, **round_overrides)
    count = len(totals[0]) if totals else len(users or [])
    experts = [
        make_expert(db, user_id=users[i].id if users and i < len(users) else None, name=f"评审专家{chr(0x7532 + i)}")
        for i in range(count)
    ]
    panel = make_panel(db, rnd, experts)
    apps = []
    for row in totals:
        app = make_application(db, rnd, formal_status="passed", panel_id=panel.id)
        apps.append(app)
        for expert, total in zip(experts, row, strict=True):
            make_submitted_sheet(db, app, expert, values=scored_values(total), gates={"JB-G1": "pass"})
    for expert in experts:
        make_pledge(db, rnd, expert)
    return rnd, panel, apps, experts


def make_listed_round(  # type: ignore[no-untyped-def]
    db: Session, *, totals: list[list[int | Decimal]], publicity_start=None, working_days: int = 5, **round_overrides
):
    """A round whose one panel the chair has finalized with every application recommended (so all are on the
    round's recommendation list), plus, with `publicity_start`, its publicity period. Returns (round, panel, apps)."""
    from reviewapp.audit import Actor
    from reviewapp.publicity.calendar import period_end
    from reviewapp.publicity.models import PublicityPeriod
    from reviewapp.ranking import decisions

    rnd, panel, apps, experts = make_scored_panel(db, totals=totals, **round_overrides)
    actor, chair = Actor(user_id=None, name="测试"), experts[0]
    for app in apps:
        decisions.save_decision(
            db,
            actor=actor,
            chair=chair,
            panel_id=panel.id,
            application_id=app.id,
            recommend=True,
            group_opinion="同意推荐。",
            row_version=0,
        )
    db.refresh(panel)
    decisions.save_panel_opinion(
        db, actor=actor, chair=chair, panel_id=panel.id, opinion="本组项目整体水平较高。", row_version=panel.row_version
    )
    decisions.finalize_panel(db, actor=actor, chair=chair, panel_id=panel.id, row_version=panel.row_version)
    if publicity_start is not None:
        db.add(
            PublicityPeriod(
                round_id=rnd.id,
                start_date=publicity_start,
                working_days=working_days,
                end_date=period_end(publicity_start, working_days),
                published_at=datetime.now(UTC),  # objections only come in once the notice is out
            )
        )
    db.commit()
    return rnd, panel, apps
