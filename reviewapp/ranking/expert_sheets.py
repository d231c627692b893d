"""The individual 专家评分表 of an application as staff's paper archive prints them (experts named), and the
applications of a panel whose sheets go into its archive.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session, col, select

from reviewapp.applications.models import Application, Enterprise, FormalStatus
from reviewapp.errors import NotFound
from reviewapp.panels import service as panels
from reviewapp.panels.models import Expert, Panel
from reviewapp.rounds import service as rounds
from reviewapp.rounds.models import Round
from reviewapp.scoring import sheets
from reviewapp.scoring.models import ScoreSheet, SheetStatus


@dataclass
class SheetLine:
    """One criteria item on an expert's sheet as the 专家评分表 prints it."""

    dimension: str
    code: str
    title: str
    kind: str
    max_points: Decimal
    value: Decimal | None
    gate: str | None  # "pass" | "fail" | None
    justification: str


@dataclass
class ExpertSheet:
    expert: Expert
    sheet: ScoreSheet
    lines: list[SheetLine]
    dimensions: list[tuple[str, Decimal, Decimal]]  # (title, max points, subtotal) in order
    total: Decimal
    full_marks: Decimal
    gate_failed: bool


@dataclass
class ApplicationSheets:
    """Every submitted sheet of one application (staff's archive: experts are named)."""

    round: Round
    application: Application
    enterprise: Enterprise
    panel: Panel | None
    sheets: list[ExpertSheet]


def application_sheets(session: Session, *, round_id: int, application_id: int) -> ApplicationSheets:
    """The submitted 专家评分表 of one application of the round, chair first, then by panel membership."""
    from reviewapp.scoring import rules as sheet_rules

    found = session.exec(
        select(Application, Enterprise)
        .join(Enterprise, col(Enterprise.id) == col(Application.enterprise_id))
        .where(Application.id == application_id, Application.round_id == round_id)
    ).first()
    if found is None:
        raise NotFound("未找到该申报项目。")
    application, enterprise = found
    rnd = rounds.get_round(session, round_id)
    panel = session.get(Panel, application.panel_id) if application.panel_id else None
    member_order = (
        {e.id: i for i, (_m, e) in enumerate(panels.panel_members(session, panel.id))}  # type: ignore[arg-type]
        if panel
        else {}
    )
    rows = list(
        session.exec(
            select(ScoreSheet, Expert)
            .join(Expert, col(Expert.id) == col(ScoreSheet.expert_id))
            .where(ScoreSheet.application_id == application_id, ScoreSheet.status == SheetStatus.submitted.value)
        )
    )
    rows.sort(key=lambda r: (member_order.get(r[1].id, len(member_order)), r[1].id))
    out = []
    for sheet, expert in rows:
        tree, entries = sheets.sheet_criteria(session, version_id=sheet.criteria_version_id, sheet_id=sheet.id)
        items = sheets.scoring_items(tree)
        result = sheet_rules.totals(items, entries)
        titles = {d.code: d.title for d in tree.dimensions}
        lines = [
            SheetLine(
                dimension=titles[i.dimension],
                code=i.code,
                title=i.title,
                kind=i.kind,
                max_points=i.max_points,
                value=entries[i.id].value if i.id in entries else None,
                gate=entries[i.id].gate if i.id in entries else None,
                justification=entries[i.id].justification if i.id in entries else "",
            )
            for i in items
        ]
        out.append(
            ExpertSheet(
                expert=expert,
                sheet=sheet,
                lines=lines,
                dimensions=[(d.title, d.total, result.by_dimension.get(d.code, Decimal(0))) for d in tree.dimensions],
                total=result.total,
                full_marks=tree.total,
                gate_failed=result.gate_failed,
            )
        )
    return ApplicationSheets(round=rnd, application=application, enterprise=enterprise, panel=panel, sheets=out)


def panel_application_ids(session: Session, *, round_id: int, panel_id: int) -> list[int]:
    """The panel's applications (formal review passed) in the order they arrived."""
    panels.get_panel(session, panel_id, round_id=round_id)
    return list(
        session.exec(
            select(Application.id)
            .where(Application.panel_id == panel_id, Application.formal_status == FormalStatus.passed.value)
            .order_by(Application.serial, Application.id)
        )
    )
