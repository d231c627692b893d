"""The score files of a panel [policy 001 附件1/5]: its 专家评分汇总表 in the decided order, and the individual
专家评分表 of an application for the paper archive.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from openpyxl import Workbook

from reviewapp.excel import Column, sheet_title, workbook_to_bytes, write_sheet
from reviewapp.ranking import decisions, expert_sheets
from reviewapp.ranking import export_format as fmt
from reviewapp.ranking.export_format import ExportError
from reviewapp.rounds.models import Aggregation, NodeKind

# --- 3. 专家评分汇总表 of one panel ---------------------------------------------------------------------------


def panel_scores_workbook(view: decisions.PanelRanking) -> bytes:
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
        *[Column(e.name, 9, number_format=fmt.POINTS) for e in members],
        Column("最高分", 8, number_format=fmt.POINTS),
        Column("最低分", 8, number_format=fmt.POINTS),
        Column(f"汇总得分（{method}）", 12, wrap=True, number_format=fmt.SCORE),
        Column("推荐意见", 8),
        Column("说明", 40, wrap=True),
    ]

    def expert_cell(application_id: int, expert_id: int, totals: dict[int, Decimal]) -> Any:
        cell = cells.get(application_id, {}).get(expert_id)
        if cell is not None and cell.conflicted:
            return "回避"
        return fmt.number(totals.get(expert_id))

    def notes(row: decisions.PanelRow) -> str:
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
                fmt.number(agg.maximum),
                fmt.number(agg.minimum),
                agg.display,
                fmt.recommend_label(row.decision.recommend if row.decision else None),
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
        head.append(f"评分表满分 {fmt.points_text(settings.full_marks)} 分，汇总得分折算为百分制。")
    head.append(
        f"定稿时间：{fmt.beijing(view.panel.finalized_at)}"
        if view.finalized
        else "本专家组尚未定稿，排名和意见可能变化。"
    )
    head.extend(view.ranking.warnings)
    return fmt.single_sheet(
        "专家评分汇总表",
        columns,
        rows,
        head_lines=head,
        notes=[f"专家组意见：{view.panel.group_opinion or '（尚未填写）'}", fmt.signature("组长")],
    )


# --- 4. the individual 专家评分表 of one application ------------------------------------------------------------

SHEET_COLUMNS = [
    Column("评价维度", 12, wrap=True),
    Column("评分项", 32, wrap=True),
    Column("分值", 8),
    Column("得分", 8),
    Column("评分说明", 44, wrap=True),
]


def _sheet_rows(sheet: expert_sheets.ExpertSheet) -> list[list[Any]]:
    rows: list[list[Any]] = []
    by_dimension: dict[str, list[expert_sheets.SheetLine]] = {}
    for line in sheet.lines:
        by_dimension.setdefault(line.dimension, []).append(line)
    for title, max_points, subtotal in sheet.dimensions:
        for line in by_dimension.get(title, []):
            if line.kind == NodeKind.gate.value:
                score: Any = {"pass": "通过", "fail": "不通过"}.get(line.gate or "", "")
                points: Any = "门槛项"
            else:
                score, points = fmt.number(line.value), fmt.number(line.max_points)
            rows.append([title, f"{line.code} {line.title}", points, score, line.justification])
        rows.append([title, "小计", fmt.number(max_points), fmt.number(subtotal), ""])
    rows.append(
        ["合计", "", fmt.number(sheet.full_marks), fmt.number(sheet.total), "门槛项未通过" if sheet.gate_failed else ""]
    )
    return rows


def sheets_workbook(view: expert_sheets.ApplicationSheets) -> bytes:
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
                + f"　提交时间：{fmt.beijing(sheet.sheet.submitted_at)}",
            ],
            notes=[f"评审意见：{sheet.sheet.opinion}", fmt.signature("专家")],
        )
    return workbook_to_bytes(wb)


def sheets_filename(view: expert_sheets.ApplicationSheets) -> str:
    return fmt.archive_name(view.application, view.enterprise)
