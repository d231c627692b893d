"""The lists a round sends on [policy 000 附件1/附件2, 004]: the 名单汇总表 of recommended factories, the 推荐汇总表 in
priority order, and the 海外智能工厂培育名单.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reviewapp.excel import Column
from reviewapp.ranking import export_format as fmt
from reviewapp.ranking import recommendations
from reviewapp.rounds.models import Aggregation, Round

INDUSTRY_NOTE = "所属行业请填写：原材料、电子信息、装备制造、消费品；"
LIST_NOTES = (
    f"¹ {INDUSTRY_NOTE}",
    "² 企业性质请填写：中央企业、地方国企、民营企业、三资企业；",
    "³ 企业类型请填写：大型企业、中型企业、小型企业、微型企业；",
    "⁴ 行业中类、行业小类参考《国民经济行业分类》（GB/T 4754—2017）填写。",
)
OVERSEAS_NOTES = (
    "¹ 可重点推荐位于金砖国家、“一带一路”国家和地区的海外智能工厂项目；",
    f"² {INDUSTRY_NOTE}",
    "³ 简介中请主要介绍主营业务、智能工厂建设总体情况、先进性与特色、实施成效等内容。",
)


def _open_panels_line(view: recommendations.RoundList) -> list[str]:
    if not view.open_panels:
        return []
    names = "、".join(p.name for p in view.open_panels)
    return [f"注意：尚有 {len(view.open_panels)} 个专家组未定稿（{names}），本表仅含已定稿专家组推荐的项目。"]


# --- 1. 基础级、先进级智能工厂名单汇总表 ---------------------------------------------------------------------------

LIST_COLUMNS = [
    Column("序号", 6),
    Column("企业名称", 28, wrap=True),
    Column("工厂名称", 28, wrap=True),
    Column("能力成熟度自评得分", 11),
    Column("工厂级别（基础级、先进级）", 12, wrap=True),
    Column("所属行业¹", 10),
    Column("企业性质²", 10),
    Column("企业类型³", 10),
    Column("行业中类⁴", 8),
    Column("行业小类⁴", 8),
    Column("智能制造典型场景（列举场景名称）", 50, wrap=True),
]


def list_workbook(view: recommendations.RoundList, scenarios: dict[int, list[str]]) -> bytes:
    """The round's recommended factories in priority order, in the MIIT 名单汇总表 layout [policy 000 附件1]."""
    tier = view.round.tier_label
    rows = (
        [
            i,
            r.enterprise.name,
            r.application.factory_name,
            fmt.number(r.application.maturity_score),
            tier,
            r.enterprise.industry_group,
            r.enterprise.nature,
            r.enterprise.size_type,
            r.enterprise.industry_mid,
            r.enterprise.industry_small,
            "、".join(scenarios.get(r.application.id, [])),  # type: ignore[arg-type]
        ]
        for i, r in enumerate(view.listed, start=1)
    )
    return fmt.single_sheet(
        "基础级、先进级智能工厂名单汇总表",
        LIST_COLUMNS,
        rows,
        unit_line=fmt.UNIT_LINE,
        head_lines=_open_panels_line(view),
        notes=LIST_NOTES,
    )


# --- 2. 推荐汇总表 (priority order) -------------------------------------------------------------------------

RECOMMENDATION_COLUMNS = [
    Column("推荐顺序", 7),
    Column("地市", 9),
    Column("企业名称", 24, wrap=True),
    Column("工厂名称", 24, wrap=True),
    Column("项目名称", 24, wrap=True),
    Column("所属行业", 9),
    Column("能力成熟度自评得分", 10),
    Column("专家评审得分", 9, number_format=fmt.SCORE),
    Column("专家组", 12, wrap=True),
    Column("专家组意见", 36, wrap=True),
    Column("说明", 32, wrap=True),
]


def recommendations_title(rnd: Round) -> str:
    return f"{rnd.tier_label}智能工厂推荐汇总表"


def recommendations_workbook(view: recommendations.RoundList) -> bytes:
    """The recommendation list in priority order [policy 004 三(二)] with scores, opinions and every reason for
    the order (ties, vetoes, the chairs' and staff's moves), and the counts by city and industry group under it."""
    rows = (
        [
            r.position,
            r.enterprise.city,
            r.enterprise.name,
            r.application.factory_name,
            r.application.project_name,
            r.enterprise.industry_group,
            fmt.number(r.application.maturity_score),
            r.entry.aggregate.display,
            r.panel.name,
            r.decision.group_opinion,
            "；".join(r.notes),
        ]
        for r in view.listed
    )
    settings = view.scores.settings
    notes = [
        f"注：专家评审得分按「{Aggregation(settings.aggregation).label}」汇总，折算为百分制，保留一位小数；"
        "推荐顺序按专家组定稿的排序和得分确定，调整顺序的理由见说明栏。",
        fmt.counts("按地市统计", view.by_city),
        fmt.counts("按所属行业统计", view.by_industry),
    ]
    return fmt.single_sheet(
        recommendations_title(view.round),
        RECOMMENDATION_COLUMNS,
        rows,
        unit_line=fmt.UNIT_LINE,
        head_lines=[f"批次：{view.round.name}", *_open_panels_line(view)],
        notes=notes,
    )


# --- 5. 海外智能工厂培育名单 --------------------------------------------------------------------------------------

OVERSEAS_COLUMNS = [
    Column("序号", 6),
    Column("企业名称", 24, wrap=True),
    Column("海外智能工厂名称", 24, wrap=True),
    Column("自评级别（基础级、先进级、卓越级、领航级）", 14, wrap=True),
    Column("所属行业²", 10),
    Column("从业人数", 9),
    Column("营业收入（万元）", 12, number_format="#,##0.00"),
    Column("海外智能工厂简介³（500字以内）", 60, wrap=True),
    Column("企业联系人及联系方式", 18, wrap=True),
]


def overseas_workbook(rnd: Round, rows: Sequence[tuple[Any, Any]]) -> bytes:
    """The overseas factories that passed formal review, in the MIIT 附件2 layout."""
    lines = (
        [
            i,
            e.name,
            a.overseas_factory_name,
            fmt.tier_label(a.tier),
            e.industry_group,
            a.employees,
            fmt.number(a.revenue_10k_yuan),
            a.overseas_intro,
            " ".join(x for x in (a.contact_name, a.contact_phone) if x),
        ]
        for i, (a, e) in enumerate(rows, start=1)
    )
    return fmt.single_sheet(
        "海外智能工厂培育名单¹", OVERSEAS_COLUMNS, lines, unit_line=fmt.UNIT_LINE, notes=OVERSEAS_NOTES
    )
