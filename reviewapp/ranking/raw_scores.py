"""The submitted scores of a round read from the database as the ranking rules take them: the aggregation queries
behind every ranking page, list and raw-score file.

Plain rows, read in chunks: a round has tens of thousands of sheets. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from reviewapp.applications.models import Application, Enterprise, FormalStatus
from reviewapp.db import IN_LIST_SIZE
from reviewapp.errors import NotFound
from reviewapp.panels import service as panels
from reviewapp.panels.models import Expert, Panel
from reviewapp.ranking import ordering, rules
from reviewapp.rounds import service as rounds
from reviewapp.rounds.models import NodeKind, Round
from reviewapp.scoring import rules as sheet_rules
from reviewapp.scoring.models import ItemScore, ScoreSheet, SheetStatus
from reviewapp.scoring.sheets import as_points


@dataclass
class Scores:
    """Submitted sheets of some applications as the ranking rules take them, with what the pages need to name."""

    round: Round
    settings: rules.RankingSettings
    sheets: list[rules.SheetScores]
    facts: list[rules.ApplicationFacts]
    applications: dict[int, Application]
    enterprises: dict[int, Enterprise]  # by application id
    experts: dict[int, Expert]
    items: list[Any]  # criteria items (CriteriaNode-like) in sheet order: code, title, kind, dimension title
    dimensions: list[str]  # dimension titles in order

    def enterprise_name(self, application_id: int) -> str:
        enterprise = self.enterprises.get(application_id)
        return enterprise.name if enterprise else ""

    def ranking(self) -> ordering.Ranking:
        return ordering.rank_applications(self.sheets, self.facts, self.settings)


@dataclass(frozen=True)
class CriteriaItem:
    code: str
    title: str
    kind: str
    dimension: str
    max_points: Decimal


def _criteria(session: Session, version_id: int | None) -> tuple[list[CriteriaItem], list[str], Decimal]:
    if version_id is None:
        return [], [], Decimal(100)
    tree = rounds.criteria_tree(session, version_id)
    items = [
        CriteriaItem(item.code, item.title, item.kind, dim.title, Decimal(str(item.max_points)))
        for dim in tree.dimensions
        for item in dim.items
        if item.kind in (NodeKind.points.value, NodeKind.gate.value)
    ]
    total = tree.total
    return items, [d.title for d in tree.dimensions], total if total > 0 else Decimal(100)


def load_scores(session: Session, *, round_id: int, application_ids: Sequence[int], with_items: bool = True) -> Scores:
    """The submitted sheets of these applications (of one round), ready for the ranking rules.

    `with_items=False`: for pages that rank but show no item scores. Sheets then come from their submit summaries
    (ScoreSheet.summary_json: dimension subtotals and gates, hence the same totals, aggregates and order) with
    empty `item_scores`, one row per sheet instead of twenty; when any sheet has no summary (submitted before
    summaries were kept) all are read from their items."""
    rnd = rounds.get_round(session, round_id)
    ids = sorted(set(application_ids))
    # One statement per table whatever the number of applications: an IN list when they fit in one, else the
    # whole round filtered here (IN lists of IN_LIST_SIZE made the recommendation list one statement longer per
    # ~128 applications).
    wanted = set(ids)
    one_list = len(ids) <= IN_LIST_SIZE
    apps: dict[int, Application] = {}
    enterprises: dict[int, Enterprise] = {}
    app_stmt = (
        select(Application, Enterprise)
        .join(Enterprise, col(Enterprise.id) == col(Application.enterprise_id))
        .where(Application.round_id == round_id)
    )
    for app, enterprise in session.exec(app_stmt.where(col(Application.id).in_(ids)) if one_list else app_stmt):
        if app.id in wanted:
            apps[app.id] = app  # type: ignore[index]
            enterprises[app.id] = enterprise  # type: ignore[index]

    # Plain rows, not ORM objects: a round has tens of thousands of sheets and only these columns matter here.
    submitted = (ScoreSheet.round_id == round_id, ScoreSheet.status == SheetStatus.submitted.value)
    if one_list:
        submitted += (col(ScoreSheet.application_id).in_(ids),)
    sheet_stmt = select(
        ScoreSheet.id,
        ScoreSheet.application_id,
        ScoreSheet.expert_id,
        ScoreSheet.criteria_version_id,
        ScoreSheet.opinion,
        ScoreSheet.summary_json,
    ).where(*submitted)
    if one_list:
        # Without statistics SQLite prefers the equality on round_id (every sheet of the round: 14k rows to find
        # a panel's 1,750) over the IN list; PostgreSQL plans from its statistics and ignores the hint.
        sheet_stmt = sheet_stmt.with_hint(ScoreSheet, "INDEXED BY ix_score_sheet_application_id", "sqlite")
    sheet_rows: list[Any] = [row for row in session.connection().execute(sheet_stmt) if row.application_id in wanted]
    version_id = sheet_rows[0].criteria_version_id if sheet_rows else rnd.criteria_version_id
    items, dimensions, full_marks = _criteria(session, version_id)
    node_code: dict[int, str] = {}
    node_kind: dict[int, str] = {}
    dimension_titles: dict[str, str] = {}  # dimension code -> title
    for version in {s.criteria_version_id for s in sheet_rows} | ({version_id} if version_id else set()):
        tree = rounds.criteria_tree(session, version)
        for dim in tree.dimensions:
            dimension_titles[dim.node.code] = dim.title
            for item in dim.items:
                node_code[item.id] = item.code
                node_kind[item.id] = item.kind
    item_dimensions = {i.code: i.dimension for i in items if i.kind == NodeKind.points.value}

    if not with_items and all(row.summary_json for row in sheet_rows):
        sheets = _from_summaries(sheet_rows, dimension_titles, item_dimensions)
    else:
        sheets = _from_items(session, sheet_rows, submitted, node_code, node_kind, item_dimensions)
    expert_ids = {s.expert_id for s in sheet_rows}
    experts = {e.id: e for e in session.exec(select(Expert).where(col(Expert.id).in_(sorted(expert_ids) or [-1])))}
    facts = [
        rules.ApplicationFacts(a.id, a.maturity_score, a.serial)  # type: ignore[arg-type]
        for a in apps.values()
    ]
    return Scores(
        round=rnd,
        settings=rules.RankingSettings.from_round(rnd, full_marks=full_marks),
        sheets=sheets,
        facts=facts,
        applications=apps,
        enterprises=enterprises,
        experts=experts,  # type: ignore[arg-type]
        items=items,
        dimensions=dimensions,
    )


def _from_summaries(
    sheet_rows: list[Any], titles: dict[str, str], item_dimensions: dict[str, str]
) -> list[rules.SheetScores]:
    """Sheets from their submit summaries: subtotals for every dimension with points items (zero when empty,
    as SheetScores.from_items sums them), gates by item code."""
    zero = Decimal(0)
    empty = dict.fromkeys(sorted(set(item_dimensions.values())), zero)
    passed: dict[tuple[tuple[str, str | None], ...], dict[str, bool]] = {}  # a round has a few gate lines
    out = []
    for s in sheet_rows:
        subtotals, gates = sheet_rules.read_summary(s.summary_json)
        by_title = empty.copy()
        for code, value in subtotals:
            by_title[titles[code]] = value
        if gates not in passed:
            passed[gates] = {code: gate == sheet_rules.GATE_PASS for code, gate in gates if gate is not None}
        out.append(
            rules.SheetScores(
                expert_id=s.expert_id,
                application_id=s.application_id,
                gates=passed[gates],
                total=sum(by_title.values(), zero),
                dimension_subtotals=by_title,
                justification=s.opinion,
            )
        )
    return out


def _from_items(
    session: Session,
    sheet_rows: list[Any],
    submitted: tuple[Any, ...],
    node_code: dict[int, str],
    node_kind: dict[int, str],
    item_dimensions: dict[str, str],
) -> list[rules.SheetScores]:
    """Sheets from their item scores (read in one statement as plain tuples)."""
    values: dict[int, dict[str, Decimal | None]] = {s.id: {} for s in sheet_rows}
    gates: dict[int, dict[str, bool]] = {s.id: {} for s in sheet_rows}
    sheet_ids = [s.id for s in sheet_rows]
    gate_nodes = {n for n, kind in node_kind.items() if kind == NodeKind.gate.value}
    points: dict[Any, Decimal | None] = {}  # the few distinct stored values, converted once
    if sheet_ids:
        # Core execution: hundreds of thousands of plain tuples, without the ORM's per-row work.
        rows = session.connection().execute(
            select(ItemScore.sheet_id, ItemScore.node_id, ItemScore.value, ItemScore.gate)
            .join(ScoreSheet, col(ScoreSheet.id) == col(ItemScore.sheet_id))
            .where(*submitted)
        )
        for sheet_id, node_id, value, gate in rows:
            if sheet_id not in values:
                continue
            code = node_code.get(node_id)
            if code is None:
                continue
            if node_id in gate_nodes:
                if gate is not None:
                    gates[sheet_id][code] = gate == "pass"
            else:
                if value not in points:
                    points[value] = as_points(value)
                values[sheet_id][code] = points[value]
    return [
        rules.SheetScores.from_items(
            expert_id=s.expert_id,
            application_id=s.application_id,
            item_scores={c: values[s.id].get(c) for c in item_dimensions},  # type: ignore[index]
            gates=gates[s.id],  # type: ignore[index]
            item_dimensions=item_dimensions,
            justification=s.opinion,
        )
        for s in sheet_rows
    ]


def round_scores(session: Session, *, round_id: int, panel_id: int | None = None) -> tuple[Scores, dict[int, Panel]]:
    """The submitted sheets of every application assigned to a panel of the round (or of one panel), with the
    panel of each application: what the raw-score file holds."""
    rnd = rounds.get_round(session, round_id)
    all_panels = {p.id: p for p in panels.round_panels(session, rnd.id)}  # type: ignore[arg-type]
    if panel_id is not None and panel_id not in all_panels:
        raise NotFound("未找到该专家组。")
    stmt = select(Application.id, Application.panel_id).where(
        Application.round_id == round_id,
        col(Application.panel_id).is_not(None),
        Application.formal_status == FormalStatus.passed.value,
    )
    if panel_id is not None:
        stmt = stmt.where(Application.panel_id == panel_id)
    assigned = dict(session.exec(stmt).all())
    scores = load_scores(session, round_id=round_id, application_ids=sorted(assigned))
    return scores, {a: all_panels[p] for a, p in assigned.items() if p in all_panels}  # type: ignore[index]
