"""Demo step: 60 applications imported from an official-format file, a few failing formal review for different
reasons. Only the three industry groups the demo's panels cover, so that every passed application has a panel."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from reviewapp.applications import formal_review, importing
from reviewapp.applications.models import Application
from reviewapp.applications.sample_file import OFFICIAL_COLUMNS, CatalogueEntry, generate_rows, official_workbook
from reviewapp.clock import today_beijing
from reviewapp.demo.context import DemoContext
from reviewapp.reports.models import Revocation, RevocationReason
from reviewapp.rounds.models import Round, Scenario, Tier

DEMO_COUNT = 60
DEMO_GROUPS = ("装备制造", "电子信息", "原材料")  # one panel each (reviewapp/demo/panels.py)
DEMO_FILE = "2026年度先进级智能工厂名单汇总表（演示）.xlsx"
EXTRA_COLUMNS = (
    "统一社会信用代码", "所在地市", "项目名称", "解决方案供应商", "联系人", "联系电话", "是否规上企业", "是否分支机构",
    "分支机构所属行业",
)  # fmt: skip


def applications_step(ctx: DemoContext) -> None:
    session = ctx.session
    rnd: Round | None = ctx.objects.get("round")
    if rnd is None:  # the rounds capability's step normally makes it
        rnd = Round(name="2026年度先进级智能工厂遴选", year=2026, tier=Tier.advanced.value)
        session.add(rnd)
        session.flush()
        ctx.objects["round"] = rnd
    catalogue = [
        CatalogueEntry(s.name, s.stage)
        for s in session.exec(
            select(Scenario)
            .where(Scenario.catalogue_version == rnd.scenario_catalogue_version)
            .order_by(Scenario.sort_order)
        )
    ]
    generated = generate_rows(DEMO_COUNT * 2, catalogue=catalogue, seed=20260509, tier_label=rnd.tier_label)
    rows = [row for row in generated if row["所属行业"] in DEMO_GROUPS][:DEMO_COUNT]
    for serial, row in enumerate(rows, start=1):
        row.update({"序号": serial, "是否规上企业": "是", "是否分支机构": "否"})
    # A few that formal review must stop, each for a different reason.
    rows[3]["能力成熟度自评得分"] = 1.62  # 一级
    rows[7]["智能制造典型场景"] = (
        "生产计划优化、车间智能排产、设备运行监控、在线智能检测、质量精准追溯"  # 5, no 运营管理
    )
    rows[11]["智能制造典型场景"] += "、智能仓储机器人集群调度"  # not in the catalogue
    rows[15]["是否规上企业"] = "否"
    rows[19].update({"是否分支机构": "是", "分支机构所属行业": "化工"})  # branches only in 石油石化/有色金属
    banned_code = rows[23]["统一社会信用代码"]
    today = today_beijing()
    session.add(
        Revocation(
            credit_code=banned_code,
            enterprise_name=rows[23]["企业名称"],
            reason_category=RevocationReason.environment.value,
            reason="2024年发生较大环境污染事故，经核实取消先进级智能工厂认定。",
            revoked_on=today - timedelta(days=400),
            banned_until=today - timedelta(days=400) + timedelta(days=3 * 365 + 1),
        )
    )
    session.flush()
    data = official_workbook(rows, columns=OFFICIAL_COLUMNS + EXTRA_COLUMNS, unit="山东省工业和信息化厅")
    importing.commit_import(session, actor=ctx.actor, round_id=rnd.id, data=data, filename=DEMO_FILE, today=today)  # type: ignore[arg-type]
    applications = list(
        session.exec(select(Application).where(Application.round_id == rnd.id).order_by(Application.serial))
    )
    # Staff have confirmed most of them; a few are still waiting for a decision.
    for application in applications[:-4]:
        failing = bool(application.formal_failed_codes)
        if failing and application.serial in {12}:
            continue  # the unknown-scenario case is left for staff to look at
        formal_review.decide(
            session,
            actor=ctx.actor,
            application_id=application.id,  # type: ignore[arg-type]
            passed=not failing,
            note="" if not failing else "形式审查未通过，详见各检查项。",
            row_version=None,
            today=today,
        )
    session.flush()
    ctx.objects["applications"] = list(
        session.exec(select(Application).where(Application.round_id == rnd.id).order_by(Application.serial))
    )
