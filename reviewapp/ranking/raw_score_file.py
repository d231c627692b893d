"""The raw-score file (专家原始评分明细): every (application, expert, item) cell of the submitted sheets with the
criteria, the tie-break facts and the round's rule, and reading it back to recompute exactly the same ranking.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from openpyxl import Workbook

from reviewapp.excel import Column, read_table, sheet_title, workbook_to_bytes, write_sheet
from reviewapp.ranking import export_format as fmt
from reviewapp.ranking import ordering, raw_rows, raw_scores, rules
from reviewapp.rounds.models import Aggregation, NodeKind

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
    Column("汇总得分", 9, number_format=fmt.SCORE),
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


def raw_scores_workbook(scores: raw_scores.Scores, panel_of: dict[int, Any], *, scope: str) -> bytes:
    """Every (application, expert, item) cell of the submitted sheets with the criteria, the tie-break facts and
    the round's rule: `read_raw_scores` + `raw_rows.rank_from_raw_rows` give back exactly the same ranking."""
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
            for r in raw_rows.raw_rows(scores.sheets)
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
        (
            [i.code, i.title, i.dimension, _KIND_LABELS.get(i.kind, i.kind), fmt.number(i.max_points)]
            for i in scores.items
        ),
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
                fmt.number(a.maturity_score),
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
            ["满分", fmt.points_text(settings.full_marks), "汇总得分按此折算为百分制"],
            ["去掉最高分和最低分的最少评分份数", str(settings.trim_min_scores), ""],
        ],
    )
    return workbook_to_bytes(wb)


@dataclass(frozen=True)
class RawScoreFile:
    rows: list[raw_rows.RawScoreRow]
    item_dimensions: dict[str, str]
    facts: list[rules.ApplicationFacts]
    settings: rules.RankingSettings

    def ranking(self) -> ordering.Ranking:
        return raw_rows.rank_from_raw_rows(
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
        raw_rows.RawScoreRow.from_cell(int(v["申报项目编号"]), int(v["专家编号"]), v["评分项编码"], v["得分或结论"])
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
