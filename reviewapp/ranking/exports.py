"""The official Excel files of a round (issue 6): the lists the province sends on, the panels' score summaries, the
individual 专家评分表 for the paper archive, and the raw-score file from which the ranking can be recomputed.

The builders take the service's views (reviewapp.ranking.service) and return workbook bytes through the one Excel
writer (reviewapp.excel.write_sheet); `export` reads the view for a type, builds the file and records who took it.
Headers and footnotes follow the official tables [policy 000 附件1/附件2, 001 附件1/5].
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from sqlalchemy import Engine
from sqlmodel import Session

from reviewapp.audit import Actor
from reviewapp.clock import BEIJING, as_utc
from reviewapp.db import session_scope
from reviewapp.documents.archive import application_sheets_pdf, panel_pdfs, pdf_name, round_archive
from reviewapp.errors import NotFound, ServiceError
from reviewapp.excel import (
    XLSX_MEDIA_TYPE,
    Column,
    read_table,
    safe_filename,
    sheet_title,
    workbook_to_bytes,
    write_sheet,
)
from reviewapp.panels import service as panels
from reviewapp.ranking import rules
from reviewapp.ranking import service as ranking
from reviewapp.ranking.export_kinds import KINDS, ExportKind
from reviewapp.rounds import service as rounds
from reviewapp.rounds.models import TIER_LABELS, Aggregation, NodeKind, Round, Tier

UNIT_LINE = "报送单位（盖章）："
SCORE = "0.0"  # the published 100-point scale with one decimal
POINTS = "0.0#"  # an expert's total as written (steps of 0.5 or 0.25)
SIGNATURE_GAP = "\u3000" * 12
DATE_BLANK = "\u3000\u3000年\u3000\u3000月\u3000\u3000日"

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


@dataclass(frozen=True)
class ExportFile:
    kind: ExportKind
    filename: str
    data: bytes
    rows: int  # lines (or files, for an archive) in it, for the audit log

    @property
    def media_type(self) -> str:
        return "application/zip" if self.kind.archive else XLSX_MEDIA_TYPE


class ExportError(ServiceError):
    """The export cannot be made as asked (unknown type, a missing or foreign id); `message` is for staff."""


# --- small formatting helpers ----------------------------------------------------------------------------------


def _number(value: Decimal | None) -> Decimal | int | None:
    """A Decimal as Excel should store it: 40.00 → 40, 87.50 → 87.5 (the database keeps two decimals)."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else value.normalize()


def _points_text(value: Decimal) -> str:
    from reviewapp.rounds.rules import fmt_points

    return fmt_points(value)


def _tier_label(tier: str) -> str:
    try:
        return TIER_LABELS[Tier(tier)]
    except ValueError:
        return tier


def _beijing(value: Any) -> str:
    return as_utc(value).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if value else ""


def _counts(label: str, counts: Sequence[tuple[str, int]]) -> str:
    total = sum(n for _k, n in counts)
    parts = "；".join(f"{key} {n} 个" for key, n in counts) or "无"
    return f"{label}：{parts}（合计 {total} 个）"


def _signature(who: str) -> str:
    return f"{who}签字：{SIGNATURE_GAP}日期：{DATE_BLANK}"


def _recommend_label(value: bool | None) -> str:
    return {True: "推荐", False: "不推荐"}.get(value, "") if value is not None else ""


def _archive_name(application: Any, enterprise: Any) -> str:
    """地市-序号-企业名称-项目名称 [policy 001 一(二)]; the factory name stands in for a missing project name."""
    parts = [
        enterprise.city or "未填地市",
        str(application.serial),
        enterprise.name,
        application.project_name or application.factory_name,
    ]
    return safe_filename("-".join(p.strip() for p in parts) + ".xlsx")


def _open_panels_line(view: ranking.RoundList) -> list[str]:
    if not view.open_panels:
        return []
    names = "、".join(p.name for p in view.open_panels)
    return [f"注意：尚有 {len(view.open_panels)} 个专家组未定稿（{names}），本表仅含已定稿专家组推荐的项目。"]


def _single(title: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]], **kwargs: Any) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title(title, set())
    write_sheet(ws, title=title, columns=columns, rows=rows, **kwargs)
    return workbook_to_bytes(wb)


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


def list_workbook(view: ranking.RoundList, scenarios: dict[int, list[str]]) -> bytes:
    """The round's recommended factories in priority order, in the MIIT 名单汇总表 layout [policy 000 附件1]."""
    tier = view.round.tier_label
    rows = (
        [
            i,
            r.enterprise.name,
            r.application.factory_name,
            _number(r.application.maturity_score),
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
    return _single(
        "基础级、先进级智能工厂名单汇总表",
        LIST_COLUMNS,
        rows,
        unit_line=UNIT_LINE,
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
    Column("专家评审得分", 9, number_format=SCORE),
    Column("专家组", 12, wrap=True),
    Column("专家组意见", 36, wrap=True),
    Column("说明", 32, wrap=True),
]


def recommendations_title(rnd: Round) -> str:
    return f"{rnd.tier_label}智能工厂推荐汇总表"


def recommendations_workbook(view: ranking.RoundList) -> bytes:
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
            _number(r.application.maturity_score),
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
        _counts("按地市统计", view.by_city),
        _counts("按所属行业统计", view.by_industry),
    ]
    return _single(
        recommendations_title(view.round),
        RECOMMENDATION_COLUMNS,
        rows,
        unit_line=UNIT_LINE,
        head_lines=[f"批次：{view.round.name}", *_open_panels_line(view)],
        notes=notes,
    )


# --- 3. 专家评分汇总表 of one panel ---------------------------------------------------------------------------


def panel_scores_workbook(view: ranking.PanelRanking) -> bytes:
    """Each expert's total per application, highest, lowest, the aggregate and the decision, in the panel's decided
    order; the group opinion and the chair's signature line under it."""
    settings = view.scores.settings
    members = [e for _m, e in view.members]
    chair = next((e for m, e in view.members if m.is_chair), None)
    cells = {a.id: dict(zip((e.id for e in members), cs, strict=True)) for a, _n, cs in view.progress.rows}
    method = view.method_text
    columns = [
        Column("排名", 6),
        Column("序号", 6),
        Column("企业名称", 24, wrap=True),
        Column("工厂名称", 24, wrap=True),
        *[Column(e.name, 9, number_format=POINTS) for e in members],
        Column("最高分", 8, number_format=POINTS),
        Column("最低分", 8, number_format=POINTS),
        Column(f"汇总得分（{method}）", 12, wrap=True, number_format=SCORE),
        Column("推荐意见", 8),
        Column("说明", 40, wrap=True),
    ]

    def expert_cell(application_id: int, expert_id: int, totals: dict[int, Decimal]) -> Any:
        cell = cells.get(application_id, {}).get(expert_id)
        if cell is not None and cell.conflicted:
            return "回避"
        return _number(totals.get(expert_id))

    def notes(row: ranking.PanelRow) -> str:
        out = list(row.entry.notes)
        for o in row.entry.aggregate.outliers:
            direction = "高于" if o.difference > 0 else "低于"
            out.append(f"{view.expert_name(o.expert_id)}的评分{direction}其他专家平均 {abs(o.difference_display)} 分")
        if row.moved and row.decision:
            out.append(f"专家组调整排序（计算排名第{row.computed_position}名）：{row.decision.move_reason}")
        if row.decision and row.decision.group_opinion:
            out.append(f"专家组意见：{row.decision.group_opinion}")
        return "；".join(out)

    rows = []
    for row in view.rows:
        agg = row.entry.aggregate
        totals = dict(agg.totals)
        rows.append(
            [
                row.position,
                row.application.serial,
                row.enterprise_name,
                row.application.factory_name,
                *[expert_cell(row.application.id, e.id, totals) for e in members],  # type: ignore[arg-type]
                _number(agg.maximum),
                _number(agg.minimum),
                agg.display,
                _recommend_label(row.decision.recommend if row.decision else None),
                notes(row),
            ]
        )
    head = [
        f"批次：{view.round.name}",
        f"专家组：{view.panel.name}"
        + (f"　组长：{chair.name}" if chair else "")
        + f"　汇总方法：{method}"
        + (
            f"（有效评分少于 {settings.trim_min_scores} 份时按算术平均）"
            if settings.aggregation == Aggregation.trimmed_mean.value
            else ""
        ),
    ]
    if settings.full_marks != 100:
        head.append(f"评分表满分 {_points_text(settings.full_marks)} 分，汇总得分折算为百分制。")
    head.append(
        f"定稿时间：{_beijing(view.panel.finalized_at)}" if view.finalized else "本专家组尚未定稿，排名和意见可能变化。"
    )
    head.extend(view.ranking.warnings)
    return _single(
        "专家评分汇总表",
        columns,
        rows,
        head_lines=head,
        notes=[f"专家组意见：{view.panel.group_opinion or '（尚未填写）'}", _signature("组长")],
    )


# --- 4. the individual 专家评分表 of one application ------------------------------------------------------------

SHEET_COLUMNS = [
    Column("评价维度", 12, wrap=True),
    Column("评分项", 32, wrap=True),
    Column("分值", 8),
    Column("得分", 8),
    Column("评分说明", 44, wrap=True),
]


def _sheet_rows(sheet: ranking.ExpertSheet) -> list[list[Any]]:
    rows: list[list[Any]] = []
    by_dimension: dict[str, list[ranking.SheetLine]] = {}
    for line in sheet.lines:
        by_dimension.setdefault(line.dimension, []).append(line)
    for title, max_points, subtotal in sheet.dimensions:
        for line in by_dimension.get(title, []):
            if line.kind == NodeKind.gate.value:
                score: Any = {"pass": "通过", "fail": "不通过"}.get(line.gate or "", "")
                points: Any = "门槛项"
            else:
                score, points = _number(line.value), _number(line.max_points)
            rows.append([title, f"{line.code} {line.title}", points, score, line.justification])
        rows.append([title, "小计", _number(max_points), _number(subtotal), ""])
    rows.append(
        ["合计", "", _number(sheet.full_marks), _number(sheet.total), "门槛项未通过" if sheet.gate_failed else ""]
    )
    return rows


def sheets_workbook(view: ranking.ApplicationSheets) -> bytes:
    """One worksheet per expert who submitted: items, subtotals, total, opinion, signature line."""
    if not view.sheets:
        raise ExportError("该项目尚无已提交的专家评分表。")
    wb = Workbook()
    taken: set[str] = set()
    a, e = view.application, view.enterprise
    for index, sheet in enumerate(view.sheets):
        ws = wb.active if index == 0 else wb.create_sheet()
        ws.title = sheet_title(sheet.expert.name, taken)
        write_sheet(
            ws,
            title="专家评分表",
            columns=SHEET_COLUMNS,
            rows=_sheet_rows(sheet),
            landscape=False,
            head_lines=[
                f"批次：{view.round.name}",
                f"企业名称：{e.name}　工厂名称：{a.factory_name}"
                + (f"　项目名称：{a.project_name}" if a.project_name else ""),
                f"地市：{e.city}　序号：{a.serial}" + (f"　专家组：{view.panel.name}" if view.panel else ""),
                f"评审专家：{sheet.expert.name}"
                + (f"（{sheet.expert.employer}）" if sheet.expert.employer else "")
                + f"　提交时间：{_beijing(sheet.sheet.submitted_at)}",
            ],
            notes=[f"评审意见：{sheet.sheet.opinion}", _signature("专家")],
        )
    return workbook_to_bytes(wb)


def sheets_filename(view: ranking.ApplicationSheets) -> str:
    return _archive_name(view.application, view.enterprise)


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
            _tier_label(a.tier),
            e.industry_group,
            a.employees,
            _number(a.revenue_10k_yuan),
            a.overseas_intro,
            " ".join(x for x in (a.contact_name, a.contact_phone) if x),
        ]
        for i, (a, e) in enumerate(rows, start=1)
    )
    return _single("海外智能工厂培育名单¹", OVERSEAS_COLUMNS, lines, unit_line=UNIT_LINE, notes=OVERSEAS_NOTES)


# --- 6. raw scores, and recomputing the ranking from them ------------------------------------------------------

RAW_SHEET, ITEM_SHEET, APPLICATION_SHEET, RULE_SHEET = "原始评分", "评分项", "申报项目", "排序规则"
RAW_COLUMNS = [
    Column("申报项目编号", 10),
    Column("序号", 6),
    Column("企业名称", 26),
    Column("专家编号", 8),
    Column("专家姓名", 10),
    Column("评分项编码", 10),
    Column("评分项名称", 24),
    Column("得分或结论", 10),
]
ITEM_COLUMNS = [
    Column("评分项编码", 10),
    Column("评分项名称", 30, wrap=True),
    Column("评价维度", 12),
    Column("类型", 8),
    Column("满分", 8),
]
APPLICATION_COLUMNS = [
    Column("申报项目编号", 10),
    Column("序号", 6),
    Column("企业名称", 26, wrap=True),
    Column("工厂名称", 26, wrap=True),
    Column("专家组", 12),
    Column("能力成熟度自评得分", 10),
    Column("已提交评分表", 8),
    Column("汇总得分", 9, number_format=SCORE),
    Column("计算排名", 8),
]
RULE_COLUMNS = [Column("参数", 22), Column("取值", 50), Column("说明", 50, wrap=True)]
_RULE_KEYS = {
    "汇总方法": "aggregation",
    "门槛项一票否决": "gate_failure_vetoes",
    "离群阈值": "outlier_threshold",
    "同分排序依据": "tie_break",
    "满分": "full_marks",
    "去掉最高分和最低分的最少评分份数": "trim_min_scores",
}
_KIND_LABELS = {NodeKind.points.value: "评分项", NodeKind.gate.value: "门槛项"}


def raw_scores_workbook(scores: ranking.Scores, panel_of: dict[int, Any], *, scope: str) -> bytes:
    """Every (application, expert, item) cell of the submitted sheets with the criteria, the tie-break facts and
    the round's rule: `read_raw_scores` + `rules.rank_from_raw_rows` give back exactly the same ranking."""
    settings = scores.settings
    ranking_now = scores.ranking()
    items = {i.code: i for i in scores.items}
    experts = scores.experts
    wb = Workbook(write_only=True)  # a round is hundreds of thousands of cells: stream them
    taken: set[str] = set()

    def sheet(
        index: int, name: str, title: str, columns: list[Column], rows: Iterable[Sequence[Any]], **kw: Any
    ) -> None:
        ws = wb.create_sheet(sheet_title(name, taken))
        write_sheet(ws, title=title, columns=columns, rows=rows, **kw)

    def panel_name(application_id: int) -> str:
        panel = panel_of.get(application_id)
        return panel.name if panel else ""

    sheet(
        0,
        RAW_SHEET,
        f"{scores.round.name}专家原始评分明细",
        RAW_COLUMNS,
        (
            [
                r.application_id,
                scores.applications[r.application_id].serial,
                scores.enterprise_name(r.application_id),
                r.expert_id,
                experts[r.expert_id].name if r.expert_id in experts else "",
                r.item_code,
                items[r.item_code].title if r.item_code in items else "",
                r.cell,
            ]
            for r in rules.raw_rows(scores.sheets)
        ),
        head_lines=[
            f"范围：{scope}。每行为一位专家对一个评分项的评分；门槛项为「通过」或「不通过」。"
            "评分项所属维度见「评分项」工作表，专家组见「申报项目」工作表。"
        ],
        plain=True,
    )
    sheet(
        1,
        ITEM_SHEET,
        "评分项",
        ITEM_COLUMNS,
        ([i.code, i.title, i.dimension, _KIND_LABELS.get(i.kind, i.kind), _number(i.max_points)] for i in scores.items),
    )
    entries = {e.application_id: e for e in ranking_now.entries}
    sheet(
        2,
        APPLICATION_SHEET,
        "申报项目",
        APPLICATION_COLUMNS,
        (
            [
                a.id,
                a.serial,
                scores.enterprise_name(a.id),  # type: ignore[arg-type]
                a.factory_name,
                panel_name(a.id),  # type: ignore[arg-type]
                _number(a.maturity_score),
                entries[a.id].aggregate.sheet_count if a.id in entries else 0,
                entries[a.id].aggregate.display if a.id in entries else None,
                entries[a.id].position if a.id in entries else None,
            ]
            for a in sorted(scores.applications.values(), key=lambda a: (a.serial, a.id))
        ),
    )
    sheet(
        3,
        RULE_SHEET,
        "排序规则",
        RULE_COLUMNS,
        [
            ["汇总方法", settings.aggregation, Aggregation(settings.aggregation).label],
            ["门槛项一票否决", "是" if settings.gate_failure_vetoes else "否", ""],
            ["离群阈值", str(settings.outlier_threshold), "某专家总分与其他专家平均分之差超过此值时标出"],
            [
                "同分排序依据",
                ",".join(settings.tie_break),
                "、".join(rules.tie_break_label(k) for k in settings.tie_break) + "，最后按申报项目编号",
            ],
            ["满分", _points_text(settings.full_marks), "汇总得分按此折算为百分制"],
            ["去掉最高分和最低分的最少评分份数", str(settings.trim_min_scores), ""],
        ],
    )
    return workbook_to_bytes(wb)


@dataclass(frozen=True)
class RawScoreFile:
    rows: list[rules.RawScoreRow]
    item_dimensions: dict[str, str]
    facts: list[rules.ApplicationFacts]
    settings: rules.RankingSettings

    def ranking(self) -> rules.Ranking:
        return rules.rank_from_raw_rows(
            self.rows, item_dimensions=self.item_dimensions, facts=self.facts, settings=self.settings
        )


def _decimal_or_none(text: str) -> Decimal | None:
    return Decimal(text) if text else None


def read_raw_scores(data: bytes) -> RawScoreFile:
    """A raw-score file as exported above, read back with the same reader as every import."""

    def table(sheet: str, columns: list[Column]) -> list[dict[str, str]]:
        names = [c.header for c in columns]
        found = read_table(data, columns={n: () for n in names}, required=names, sheet=sheet)
        return [r.values for r in found.rows]

    rows = [
        rules.RawScoreRow.from_cell(int(v["申报项目编号"]), int(v["专家编号"]), v["评分项编码"], v["得分或结论"])
        for v in table(RAW_SHEET, RAW_COLUMNS)
    ]
    item_dimensions = {v["评分项编码"]: v["评价维度"] for v in table(ITEM_SHEET, ITEM_COLUMNS) if v["类型"] == "评分项"}
    facts = [
        rules.ApplicationFacts(int(v["申报项目编号"]), _decimal_or_none(v["能力成熟度自评得分"]), int(v["序号"]))
        for v in table(APPLICATION_SHEET, APPLICATION_COLUMNS)
    ]
    values = {_RULE_KEYS[v["参数"]]: v["取值"] for v in table(RULE_SHEET, RULE_COLUMNS) if v["参数"] in _RULE_KEYS}
    settings = rules.RankingSettings(
        aggregation=values["aggregation"],
        gate_failure_vetoes=values["gate_failure_vetoes"] == "是",
        outlier_threshold=Decimal(values["outlier_threshold"]),
        tie_break=tuple(k for k in values["tie_break"].split(",") if k),
        full_marks=Decimal(values["full_marks"]),
        trim_min_scores=int(values["trim_min_scores"]),
    )
    return RawScoreFile(rows=rows, item_dimensions=item_dimensions, facts=facts, settings=settings)


# --- from a request to a file ----------------------------------------------------------------------------------


def _round_file(rnd: Round, what: str, ext: str = "xlsx") -> str:
    return safe_filename(f"{rnd.name}-{what}.{ext}")


def build(
    session: Session, *, round_id: int, kind: str, panel_id: int | None = None, application_id: int | None = None
) -> ExportFile:
    """Read what the export of `kind` needs and build the file. ExportError / NotFound say what is wrong."""
    spec = KINDS.get(kind)
    if spec is None:
        raise ExportError(
            f"没有「{kind}」这种导出。可导出：" + "、".join(f"{k}（{v.label}）" for k, v in KINDS.items())
        )
    if spec.needs == "panel" and panel_id is None:
        raise ExportError(f"导出{spec.label}需要指定专家组。")
    if spec.needs == "application" and application_id is None:
        raise ExportError(f"导出{spec.label}需要指定申报项目。")

    if kind in ("list", "recommendations"):
        view = ranking.round_list(session, round_id=round_id)
        if kind == "list":
            data = list_workbook(view, ranking.scenario_names(session, [r.application.id for r in view.listed]))  # type: ignore[misc]
            return ExportFile(spec, _round_file(view.round, spec.label), data, len(view.listed))
        data = recommendations_workbook(view)
        return ExportFile(spec, _round_file(view.round, recommendations_title(view.round)), data, len(view.listed))

    if kind == "panel-scores":
        panel = _panel(session, round_id, panel_id)  # type: ignore[arg-type]
        pview = ranking.panel_ranking(session, panel_id=panel.id)  # type: ignore[arg-type]
        return ExportFile(
            spec,
            _round_file(pview.round, f"{panel.name}-专家评分汇总表"),
            panel_scores_workbook(pview),
            len(pview.rows),
        )

    if kind == "sheets":
        sview = ranking.application_sheets(session, round_id=round_id, application_id=application_id)  # type: ignore[arg-type]
        return ExportFile(spec, sheets_filename(sview), sheets_workbook(sview), len(sview.sheets))

    if kind == "sheets-zip":
        panel = _panel(session, round_id, panel_id)  # type: ignore[arg-type]
        buf = io.BytesIO()
        names: set[str] = set()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for a in ranking.panel_application_ids(session, round_id=round_id, panel_id=panel.id):  # type: ignore[arg-type]
                sview = ranking.application_sheets(session, round_id=round_id, application_id=a)
                if not sview.sheets:
                    continue
                name = _unique(sheets_filename(sview), names)
                archive.writestr(name, sheets_workbook(sview))
                archive.writestr(pdf_name(name), application_sheets_pdf(session, round_id=round_id, application_id=a))
            for name, data in panel_pdfs(session, round_id=round_id, panel_id=panel.id) if names else ():
                archive.writestr(name, data)
        if not names:
            raise ExportError(f"「{panel.name}」尚无已提交的专家评分表。")
        rnd = rounds.get_round(session, round_id)
        return ExportFile(spec, _round_file(rnd, f"{panel.name}-专家评分表", "zip"), buf.getvalue(), len(names))

    if kind == "round-archive":
        rnd = rounds.get_round(session, round_id)
        data, count = round_archive(session, round_id=round_id, build=build)
        return ExportFile(spec, _round_file(rnd, "存档文件", "zip"), data, count)

    if kind == "overseas":
        rnd = rounds.get_round(session, round_id)
        rows = ranking.overseas_applications(session, round_id=round_id)
        return ExportFile(spec, _round_file(rnd, spec.label), overseas_workbook(rnd, rows), len(rows))

    # raw-scores: the whole round, or one panel
    panel = _panel(session, round_id, panel_id) if panel_id is not None else None
    scores, panel_of = ranking.round_scores(session, round_id=round_id, panel_id=panel_id)
    scope = f"专家组「{panel.name}」" if panel else "本批次全部专家组"
    what = f"{panel.name}-{spec.label}" if panel else spec.label
    return ExportFile(
        spec, _round_file(scores.round, what), raw_scores_workbook(scores, panel_of, scope=scope), len(scores.sheets)
    )


def _panel(session: Session, round_id: int, panel_id: int) -> Any:
    try:
        return panels.get_panel(session, panel_id, round_id=round_id)
    except NotFound:
        raise NotFound(f"本批次没有编号为 {panel_id} 的专家组。") from None


def _unique(name: str, taken: set[str]) -> str:
    stem, _, ext = name.rpartition(".")
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{stem}({n}).{ext}", n + 1
    taken.add(candidate)
    return candidate


def export(
    engine: Engine,
    *,
    actor: Actor,
    round_id: int,
    kind: str,
    panel_id: int | None = None,
    application_id: int | None = None,
) -> ExportFile:
    """Build the file in a read transaction, then record the export in the audit log in a short write transaction
    of its own (a download is a GET: its request session is a reader, and SQLite must not upgrade a reader)."""
    with session_scope(engine) as session:
        file = build(session, round_id=round_id, kind=kind, panel_id=panel_id, application_id=application_id)
    detail = {k: v for k, v in (("panel_id", panel_id), ("application_id", application_id)) if v is not None}
    with session_scope(engine, write=True) as session:
        ranking.record_export(
            session,
            actor=actor,
            round_id=round_id,
            kind=kind,
            label=file.kind.label,
            filename=file.filename,
            detail={**detail, "rows": file.rows},
        )
        session.commit()
    return file
