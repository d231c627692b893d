"""Rankings from the database: a panel's ranking and the chair's decisions (组长定稿), staff reopening a panel, and
the round's recommendation list (推荐名单) across panels with staff's reordering.

The numbers always come from reviewapp.ranking.rules over the submitted sheets; this module reads them, stores
what people decide on top, and writes each decision to the audit log.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from sqlmodel import Session, col, select

from reviewapp import audit
from reviewapp.applications.models import Application, ApplicationScenario, Enterprise, FormalStatus
from reviewapp.audit import Actor
from reviewapp.clock import utcnow
from reviewapp.db import chunked
from reviewapp.errors import Conflict as StaleEdit
from reviewapp.errors import NotFound, ServiceError
from reviewapp.panels import service as panels
from reviewapp.panels.models import Expert, Panel
from reviewapp.ranking import rules
from reviewapp.ranking.models import ListEntry, PanelDecision, RecommendationList
from reviewapp.rounds import service as rounds
from reviewapp.rounds.models import Aggregation, NodeKind, Round
from reviewapp.scoring import service as scoring
from reviewapp.scoring.models import ItemScore, ScoreSheet, SheetStatus

audit.register_labels(
    actions={
        "ranking.decision": "组长意见与推荐",
        "ranking.move": "调整排序",
        "ranking.move_cleared": "恢复计算排序",
        "ranking.panel_opinion": "专家组总体意见",
        "ranking.finalize": "专家组定稿",
        "ranking.reopen": "重新开放专家组",
        "ranking.list_move": "调整推荐顺序",
        "ranking.list_move_cleared": "恢复推荐顺序",
        "ranking.list_final": "推荐名单定稿",
    },
    entities={"panel_decision": "组长意见", "recommendation_list": "推荐名单"},
)

MIN_REASON = 4
OPINION_MAX = 2000
REASON_MAX = 500


def _reason(text: str, *, what: str) -> str:
    text = (text or "").strip()
    if len(text) < MIN_REASON:
        raise ServiceError(f"请填写{what}（至少 {MIN_REASON} 个字）。", field="reason")
    if len(text) > REASON_MAX:
        raise ServiceError(f"{what}不能超过 {REASON_MAX} 字。", field="reason")
    return text


# --- reading the scores --------------------------------------------------------------------------------------


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

    def ranking(self) -> rules.Ranking:
        return rules.rank_applications(self.sheets, self.facts, self.settings)


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


def load_scores(session: Session, *, round_id: int, application_ids: Sequence[int]) -> Scores:
    """The submitted sheets of these applications (of one round), ready for the ranking rules."""
    rnd = rounds.get_round(session, round_id)
    ids = sorted(set(application_ids))
    apps: dict[int, Application] = {}
    enterprises: dict[int, Enterprise] = {}
    for chunk in chunked(ids):
        for app, enterprise in session.exec(
            select(Application, Enterprise)
            .join(Enterprise, col(Enterprise.id) == col(Application.enterprise_id))
            .where(col(Application.id).in_(chunk), Application.round_id == round_id)
        ):
            apps[app.id] = app  # type: ignore[index]
            enterprises[app.id] = enterprise  # type: ignore[index]

    # Plain rows, not ORM objects: a round has tens of thousands of sheets and only these columns matter here.
    sheet_rows: list[Any] = []
    for chunk in chunked(ids):
        sheet_rows.extend(
            session.exec(
                select(
                    ScoreSheet.id,
                    ScoreSheet.application_id,
                    ScoreSheet.expert_id,
                    ScoreSheet.criteria_version_id,
                    ScoreSheet.opinion,
                ).where(col(ScoreSheet.application_id).in_(chunk), ScoreSheet.status == SheetStatus.submitted.value)
            ).all()
        )
    version_id = sheet_rows[0].criteria_version_id if sheet_rows else rnd.criteria_version_id
    items, dimensions, full_marks = _criteria(session, version_id)
    node_code: dict[int, str] = {}
    node_kind: dict[int, str] = {}
    for version in {s.criteria_version_id for s in sheet_rows} | ({version_id} if version_id else set()):
        tree = rounds.criteria_tree(session, version)
        for dim in tree.dimensions:
            for item in dim.items:
                node_code[item.id] = item.code
                node_kind[item.id] = item.kind
    item_dimensions = {i.code: i.dimension for i in items if i.kind == NodeKind.points.value}

    values: dict[int, dict[str, Decimal | None]] = {s.id: {} for s in sheet_rows}  # type: ignore[misc]
    gates: dict[int, dict[str, bool]] = {s.id: {} for s in sheet_rows}  # type: ignore[misc]
    sheet_ids = [s.id for s in sheet_rows]
    gate_nodes = {n for n, kind in node_kind.items() if kind == NodeKind.gate.value}
    points: dict[Any, Decimal | None] = {}  # the few distinct stored values, converted once
    for chunk in chunked(sheet_ids):  # type: ignore[arg-type]
        # Core execution: hundreds of thousands of plain tuples, without the ORM's per-row work.
        rows = session.connection().execute(
            select(ItemScore.sheet_id, ItemScore.node_id, ItemScore.value, ItemScore.gate).where(
                col(ItemScore.sheet_id).in_(chunk)
            )
        )
        for sheet_id, node_id, value, gate in rows:
            code = node_code.get(node_id)
            if code is None:
                continue
            if node_id in gate_nodes:
                if gate is not None:
                    gates[sheet_id][code] = gate == "pass"
            else:
                if value not in points:
                    points[value] = scoring.as_points(value)
                values[sheet_id][code] = points[value]
    sheets = [
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


# --- a panel's ranking -----------------------------------------------------------------------------------------


@dataclass
class PanelRow:
    """One application in the panel's decided order."""

    position: int  # the decided place (after the chair's moves)
    entry: rules.RankedApplication
    application: Application
    enterprise_name: str
    decision: PanelDecision | None

    @property
    def moved(self) -> bool:
        return self.decision is not None and self.decision.manual_position is not None

    @property
    def computed_position(self) -> int:
        return self.entry.position


@dataclass
class PanelRanking:
    panel: Panel
    round: Round
    scores: Scores
    progress: scoring.PanelProgress
    ranking: rules.Ranking
    rows: list[PanelRow]
    decisions: dict[int, PanelDecision]
    members: list[tuple[Any, Expert]] = field(default_factory=list)
    # The chair's view leaves out applications the chair is conflicted with; finalizing still needs them settled.
    hidden_outstanding: int = 0  # sheets not yet submitted on those applications
    hidden_undecided: int = 0  # those applications without a recommendation and group opinion (staff record them)
    chair_conflicted: set[int] = field(default_factory=set)  # staff's view: applications the chair may not see

    @property
    def finalized(self) -> bool:
        return self.panel.finalized_at is not None

    @cached_property
    def outstanding(self) -> int:
        """Sheets still to be submitted (conflicted pairs excepted)."""
        return sum(
            1 for _a, _n, cells in self.progress.rows for c in cells if not c.conflicted and c.status != "submitted"
        )

    @property
    def complete(self) -> bool:
        """Every member has submitted every application they may score: the chair may see the scores."""
        return bool(self.progress.rows) and self.outstanding == 0

    @cached_property
    def calibration(self) -> rules.Calibration:
        return rules.calibrate(self.scores.sheets, self.scores.facts, self.scores.settings, official=self.ranking)

    @property
    def method_text(self) -> str:
        return Aggregation(self.scores.settings.aggregation).label

    @property
    def tie_text(self) -> str:
        return "、".join(rules.tie_break_label(k) for k in self.scores.settings.tie_break)

    def expert_name(self, expert_id: int) -> str:
        expert = self.scores.experts.get(expert_id)
        return expert.name if expert else str(expert_id)

    def finalize_problems(self) -> list[str]:
        """What stops the chair from finalizing, in Chinese, one line each."""
        problems = []
        if not self.complete:
            problems.append(f"还有 {self.outstanding} 份评分表未提交。")
        for row in self.rows:
            label = f"第{row.position}名「{row.enterprise_name}」"
            if row.decision is None or row.decision.recommend is None:
                problems.append(f"{label}尚未选择推荐或不推荐。")
            if row.decision is None or not row.decision.group_opinion.strip():
                problems.append(f"{label}尚未填写专家组意见。")
        if self.hidden_outstanding:
            problems.append(f"与您存在回避关系的项目还有 {self.hidden_outstanding} 份评分表未提交。")
        if self.hidden_undecided:
            problems.append(
                f"有 {self.hidden_undecided} 个项目与您存在回避关系，须由工作人员代为记录专家组意见和推荐结论。"
            )
        if not (self.panel.group_opinion or "").strip():
            problems.append("尚未填写专家组总体意见。")
        return problems

    def snapshot(self) -> list[dict[str, Any]]:
        """The decided ranking as the audit log records it on finalization."""
        return [
            {
                "position": r.position,
                "computed_position": r.computed_position,
                "application_id": r.application.id,
                "enterprise": r.enterprise_name,
                "score": str(r.entry.aggregate.display),
                "recommend": r.decision.recommend if r.decision else None,
                "group_opinion": r.decision.group_opinion if r.decision else "",
                "move_reason": r.decision.move_reason if r.moved and r.decision else "",
            }
            for r in self.rows
        ]


def panel_ranking(session: Session, *, panel_id: int, hide_from_expert: int | None = None) -> PanelRanking:
    """A panel's ranking with the chair's decisions applied. `hide_from_expert`: the chair's view leaves out
    applications the chair is conflicted with (they do not exist for the chair)."""
    panel = panels.get_panel(session, panel_id)
    progress = scoring.panel_progress(session, panel_id=panel_id, hide_from_expert=hide_from_expert)
    app_ids = [a.id for a, _n, _c in progress.rows]
    scores = load_scores(session, round_id=panel.round_id, application_ids=app_ids)  # type: ignore[arg-type]
    ranking = scores.ranking()
    decisions = {
        d.application_id: d
        for d in session.exec(select(PanelDecision).where(col(PanelDecision.application_id).in_(app_ids or [-1])))
    }
    moves = {a: d.manual_position for a, d in decisions.items() if d.manual_position is not None}
    order = rules.apply_moves(ranking.order, moves)  # type: ignore[arg-type]
    rows = [
        PanelRow(
            position=i,
            entry=ranking.entry(a),
            application=scores.applications[a],
            enterprise_name=scores.enterprise_name(a),
            decision=decisions.get(a),
        )
        for i, a in enumerate(order, start=1)
    ]
    view = PanelRanking(
        panel=panel,
        round=scores.round,
        scores=scores,
        progress=progress,
        ranking=ranking,
        rows=rows,
        decisions=decisions,
        members=progress.members,
    )
    if hide_from_expert is None:
        chair_index = next((i for i, (m, _e) in enumerate(progress.members) if m.is_chair), None)
        if chair_index is not None:
            view.chair_conflicted = {a.id for a, _n, cells in progress.rows if cells[chair_index].conflicted}  # type: ignore[misc]
    else:
        full = scoring.panel_progress(session, panel_id=panel_id)
        hidden = [(a, cells) for a, _n, cells in full.rows if a.id not in set(app_ids)]
        view.hidden_outstanding = sum(
            1 for _a, cells in hidden for c in cells if not c.conflicted and c.status != SheetStatus.submitted.value
        )
        settled = {
            d.application_id
            for d in session.exec(
                select(PanelDecision).where(col(PanelDecision.application_id).in_([a.id for a, _c in hidden] or [-1]))
            )
            if d.recommend is not None and d.group_opinion.strip()
        }
        view.hidden_undecided = sum(1 for a, _c in hidden if a.id not in settled)
    return view


def chair_ranking(session: Session, *, expert_id: int, panel_id: int) -> PanelRanking:
    """The chair's view: only for the chair of this panel, pledge signed, and only applications they may see."""
    panel = scoring.chair_panel(session, expert_id=expert_id, panel_id=panel_id)
    panels.require_pledge(session, expert_id=expert_id, round_id=panel.round_id)
    return panel_ranking(session, panel_id=panel_id, hide_from_expert=expert_id)


def _chair_editable(view: PanelRanking) -> None:
    if view.finalized:
        raise ServiceError("本专家组已定稿，不能再修改。如需修改，请联系工作人员重新开放。")
    if not view.complete:
        raise ServiceError("全部评分表提交后才能填写专家组意见和调整排序。")


def _row(view: PanelRanking, application_id: int) -> PanelRow:
    for row in view.rows:
        if row.application.id == application_id:
            return row
    raise NotFound("未找到该申报项目，或您无权查看。")


def _decision(session: Session, *, panel_id: int, application_id: int) -> PanelDecision:
    decision = session.exec(
        select(PanelDecision).where(PanelDecision.application_id == application_id).with_for_update()
    ).first()
    if decision is None:
        decision = PanelDecision(panel_id=panel_id, application_id=application_id, row_version=0)
    elif decision.panel_id != panel_id:  # the application moved panels since (before scoring, by staff)
        decision.panel_id = panel_id
    return decision


def _lock_panel(session: Session, panel_id: int) -> Panel:
    panel = session.exec(select(Panel).where(Panel.id == panel_id).with_for_update()).first()
    if panel is None:
        raise NotFound("未找到该专家组。")
    return panel


def _write_decision(
    session: Session,
    *,
    actor: Actor,
    panel_id: int,
    row: PanelRow,
    recommend: bool | None,
    group_opinion: str,
    row_version: int,
    who: str,
) -> PanelDecision:
    decision = _decision(session, panel_id=panel_id, application_id=row.application.id)  # type: ignore[arg-type]
    if decision.row_version != row_version:
        raise StaleEdit("该项目的专家组意见已在其他窗口修改过，您这次的修改未保存。请刷新后核对。")
    opinion = (group_opinion or "").strip()
    if len(opinion) > OPINION_MAX:
        raise ServiceError(f"专家组意见不能超过 {OPINION_MAX} 字。", field="group_opinion")
    before = {"recommend": decision.recommend, "group_opinion": decision.group_opinion}
    decision.recommend = recommend
    decision.group_opinion = opinion
    decision.updated_at = utcnow()
    decision.updated_by = actor.user_id
    decision.row_version += 1
    session.add(decision)
    session.flush()
    verdict = {True: "推荐", False: "不推荐", None: "未定"}[recommend]
    audit.record(
        session,
        actor=actor,
        action="ranking.decision",
        entity_type="panel_decision",
        entity_id=decision.id,
        summary=f"{who}对「{row.enterprise_name}」：{verdict}",
        before=before,
        after={"recommend": recommend, "group_opinion": opinion},
    )
    return decision


def save_decision(
    session: Session,
    *,
    actor: Actor,
    chair: Expert,
    panel_id: int,
    application_id: int,
    recommend: bool | None,
    group_opinion: str,
    row_version: int,
) -> PanelDecision:
    """The chair records recommend / not and the group opinion for one application."""
    _lock_panel(session, panel_id)
    view = chair_ranking(session, expert_id=chair.id, panel_id=panel_id)  # type: ignore[arg-type]
    _chair_editable(view)
    return _write_decision(
        session,
        actor=actor,
        panel_id=panel_id,
        row=_row(view, application_id),
        recommend=recommend,
        group_opinion=group_opinion,
        row_version=row_version,
        who=f"组长{chair.name}",
    )


def record_decision_for_chair(
    session: Session,
    *,
    actor: Actor,
    panel_id: int,
    application_id: int,
    recommend: bool | None,
    group_opinion: str,
    row_version: int,
) -> PanelDecision:
    """Staff record the panel's decision on an application the chair is conflicted with (the chair cannot see it),
    as the panel agreed it; only for such applications, and only before the panel is finalized."""
    _lock_panel(session, panel_id)
    view = panel_ranking(session, panel_id=panel_id)
    if view.finalized:
        raise ServiceError("本专家组已定稿，不能再修改。")
    if not view.complete:
        raise ServiceError("全部评分表提交后才能记录专家组意见。")
    if application_id not in view.chair_conflicted:
        raise ServiceError("该项目由组长填写专家组意见；工作人员只代为记录与组长存在回避关系的项目。")
    return _write_decision(
        session,
        actor=actor,
        panel_id=panel_id,
        row=_row(view, application_id),
        recommend=recommend,
        group_opinion=group_opinion,
        row_version=row_version,
        who=f"工作人员{actor.name}代组长记录",
    )


def move_application(
    session: Session, *, actor: Actor, chair: Expert, panel_id: int, application_id: int, position: int, reason: str
) -> PanelDecision:
    """The chair puts an application at another place than the computed one, with a written reason."""
    _lock_panel(session, panel_id)
    view = chair_ranking(session, expert_id=chair.id, panel_id=panel_id)  # type: ignore[arg-type]
    _chair_editable(view)
    row = _row(view, application_id)
    if not 1 <= position <= len(view.rows):
        raise ServiceError(f"名次应在 1 到 {len(view.rows)} 之间。", field="position")
    if position == row.position:
        raise ServiceError(f"「{row.enterprise_name}」已经在第{position}名。", field="position")
    reason = _reason(reason, what="调整理由")
    decision = _decision(session, panel_id=panel_id, application_id=application_id)
    decision.manual_position = position
    decision.move_reason = reason
    decision.updated_at = utcnow()
    decision.updated_by = actor.user_id
    decision.row_version += 1
    session.add(decision)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="ranking.move",
        entity_type="panel_decision",
        entity_id=decision.id,
        summary=(
            f"组长{chair.name}将「{row.enterprise_name}」由第{row.position}名调整为第{position}名"
            f"（计算名次第{row.computed_position}名；理由：{reason}）"
        ),
        before={"position": row.position, "computed_position": row.computed_position},
        after={"position": position, "reason": reason},
    )
    return decision


def clear_move(session: Session, *, actor: Actor, chair: Expert, panel_id: int, application_id: int) -> None:
    """Put an application back at its computed place."""
    _lock_panel(session, panel_id)
    view = chair_ranking(session, expert_id=chair.id, panel_id=panel_id)  # type: ignore[arg-type]
    _chair_editable(view)
    row = _row(view, application_id)
    if not row.moved:
        return
    decision = _decision(session, panel_id=panel_id, application_id=application_id)
    before = {"position": decision.manual_position, "reason": decision.move_reason}
    decision.manual_position = None
    decision.move_reason = ""
    decision.updated_at = utcnow()
    decision.updated_by = actor.user_id
    decision.row_version += 1
    session.add(decision)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="ranking.move_cleared",
        entity_type="panel_decision",
        entity_id=decision.id,
        summary=f"组长{chair.name}将「{row.enterprise_name}」恢复到计算名次第{row.computed_position}名",
        before=before,
        after={"position": None},
    )


def save_panel_opinion(
    session: Session, *, actor: Actor, chair: Expert, panel_id: int, opinion: str, row_version: int
) -> Panel:
    """The chair's group opinion for the whole panel (专家组总体意见)."""
    panel = _lock_panel(session, panel_id)
    view = chair_ranking(session, expert_id=chair.id, panel_id=panel_id)  # type: ignore[arg-type]
    _chair_editable(view)
    if panel.row_version != row_version:
        raise StaleEdit("专家组总体意见已在其他窗口修改过，您这次的修改未保存。请刷新后核对。")
    opinion = (opinion or "").strip()
    if len(opinion) > OPINION_MAX:
        raise ServiceError(f"专家组总体意见不能超过 {OPINION_MAX} 字。", field="opinion")
    before = panel.group_opinion
    panel.group_opinion = opinion
    panel.row_version += 1
    session.add(panel)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="ranking.panel_opinion",
        entity_type="panel",
        entity_id=panel.id,
        summary=f"组长{chair.name}填写「{panel.name}」的专家组总体意见",
        before={"group_opinion": before},
        after={"group_opinion": opinion},
    )
    return panel


def finalize_panel(session: Session, *, actor: Actor, chair: Expert, panel_id: int, row_version: int) -> Panel:
    """The chair finalizes (定稿): the decided order is recorded in full, and the panel's sheets lock."""
    panel = _lock_panel(session, panel_id)
    view = chair_ranking(session, expert_id=chair.id, panel_id=panel_id)  # type: ignore[arg-type]
    if view.finalized:
        return panel  # a double submit is harmless
    if panel.row_version != row_version:
        raise StaleEdit("本专家组的信息已在其他窗口修改过，请刷新后核对再定稿。")
    problems = view.finalize_problems()
    if problems:
        raise FinalizeRefused(problems)
    panel.finalized_at = utcnow()
    panel.finalized_by = actor.user_id
    panel.row_version += 1
    session.add(panel)
    session.flush()
    recommended = sum(1 for r in view.rows if r.decision and r.decision.recommend)
    audit.record(
        session,
        actor=actor,
        action="ranking.finalize",
        entity_type="panel",
        entity_id=panel.id,
        summary=f"组长{chair.name}将「{panel.name}」定稿：{len(view.rows)}个项目，推荐{recommended}个",
        after={"group_opinion": panel.group_opinion, "ranking": view.snapshot()},
    )
    return panel


class FinalizeRefused(ServiceError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            "还不能定稿：" + problems[0] if len(problems) == 1 else f"还不能定稿，有 {len(problems)} 处待完成。"
        )
        self.problems = problems


def reopen_panel(session: Session, *, actor: Actor, panel_id: int, reason: str) -> Panel:
    """Staff reopen a finalized panel (its sheets can then be returned again), with a reason."""
    panel = _lock_panel(session, panel_id)
    if panel.finalized_at is None:
        raise ServiceError("该专家组尚未定稿。")
    reason = _reason(reason, what="重新开放的原因")
    before = panel.finalized_at.isoformat()
    panel.finalized_at = None
    panel.finalized_by = None
    panel.row_version += 1
    session.add(panel)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="ranking.reopen",
        entity_type="panel",
        entity_id=panel.id,
        summary=f"重新开放已定稿的「{panel.name}」（原因：{reason}）",
        before={"finalized_at": before},
        after={"finalized_at": None, "reason": reason},
    )
    return panel


# --- the round's recommendation list ---------------------------------------------------------------------------


@dataclass
class ListRow:
    position: int  # priority (推荐顺序) among the entries still on the list; 0 for removed ones
    computed_position: int  # the priority before staff's moves (panels' orders merged by score)
    entry: rules.RankedApplication
    application: Application
    enterprise: Enterprise
    panel: Panel
    decision: PanelDecision
    standing: ListEntry | None

    @property
    def moved(self) -> bool:
        return self.standing is not None and self.standing.manual_position is not None

    @property
    def removed(self) -> bool:
        return self.standing is not None and self.standing.removed

    @property
    def correction_required(self) -> bool:
        return self.standing is not None and self.standing.correction_required

    @property
    def notes(self) -> list[str]:
        """Everything the 说明 column of an export says about this line."""
        out = list(self.entry.notes)
        if self.decision.manual_position is not None and self.decision.move_reason:
            out.append(f"专家组调整排序：{self.decision.move_reason}")
        if self.moved and self.standing:
            out.append(f"推荐顺序调整：{self.standing.move_reason}")
        if self.correction_required and self.standing:
            out.append(f"需整改：{self.standing.correction_note}")
        if self.removed and self.standing:
            out.append(f"已移出名单：{self.standing.removed_reason}")
        return out


@dataclass
class RoundList:
    round: Round
    list: RecommendationList | None
    panels: list[Panel]
    rows: list[ListRow]  # listed rows in priority order, then removed rows
    scores: Scores

    @property
    def listed(self) -> list[ListRow]:
        return [r for r in self.rows if not r.removed]

    @property
    def removed(self) -> list[ListRow]:
        return [r for r in self.rows if r.removed]

    @property
    def open_panels(self) -> list[Panel]:
        return [p for p in self.panels if p.finalized_at is None]

    @property
    def row_version(self) -> int:
        return self.list.row_version if self.list else 0

    @property
    def by_city(self) -> list[tuple[str, int]]:
        return Counter(r.enterprise.city or "（未填）" for r in self.listed).most_common()

    @property
    def by_industry(self) -> list[tuple[str, int]]:
        return Counter(r.enterprise.industry_group or "（未填）" for r in self.listed).most_common()


def round_list(session: Session, *, round_id: int) -> RoundList:
    """Recommended applications of the round's finalized panels in priority order, with staff's moves applied;
    removed applications stay visible at the end with their reason.

    The computed priority merges the panels' decided orders by score (the round's rule): each chair's order is
    kept inside the panel, and across panels the higher score comes first."""
    rnd = rounds.get_round(session, round_id)
    all_panels = panels.round_panels(session, round_id)
    finalized = {p.id: p for p in all_panels if p.finalized_at is not None}
    in_finalized = dict(
        session.exec(
            select(Application.id, Application.panel_id).where(
                Application.round_id == round_id,
                col(Application.panel_id).in_(sorted(finalized) or [-1]),
                Application.formal_status == FormalStatus.passed.value,
            )
        ).all()
    )
    decisions = {
        d.application_id: d
        for d in session.exec(select(PanelDecision).where(col(PanelDecision.panel_id).in_(sorted(finalized) or [-1])))
        if in_finalized.get(d.application_id) == d.panel_id  # still on the panel that decided it
    }
    scores = load_scores(session, round_id=round_id, application_ids=sorted(in_finalized))
    ranking = scores.ranking()
    panel_orders = []
    for panel_id in sorted(finalized):
        computed = [a for a in ranking.order if in_finalized[a] == panel_id]
        moves = {a: decisions[a].manual_position for a in computed if a in decisions and decisions[a].manual_position}
        decided = rules.apply_moves(computed, moves)  # type: ignore[arg-type]
        panel_orders.append([a for a in decided if a in decisions and decisions[a].recommend])
    merged = rules.merge_orders(panel_orders, key=lambda a: ranking.entry(a).position)
    computed_place = {a: i for i, a in enumerate(merged, start=1)}

    standings = {e.application_id: e for e in session.exec(select(ListEntry).where(ListEntry.round_id == round_id))}
    listed = [a for a in merged if not (a in standings and standings[a].removed)]
    moves = {a: standings[a].manual_position for a in listed if a in standings and standings[a].manual_position}
    order = rules.apply_moves(listed, moves)  # type: ignore[arg-type]
    removed = [a for a in merged if a in standings and standings[a].removed]

    def row(position: int, a: int) -> ListRow:
        return ListRow(
            position=position,
            computed_position=computed_place[a],
            entry=ranking.entry(a),
            application=scores.applications[a],
            enterprise=scores.enterprises[a],
            panel=finalized[in_finalized[a]],  # type: ignore[index]
            decision=decisions[a],
            standing=standings.get(a),
        )

    rows = [row(i, a) for i, a in enumerate(order, start=1)] + [row(0, a) for a in removed]
    the_list = session.exec(select(RecommendationList).where(RecommendationList.round_id == round_id)).first()
    return RoundList(round=rnd, list=the_list, panels=all_panels, rows=rows, scores=scores)


def lock_list(session: Session, *, round_id: int, row_version: int | None = None) -> RecommendationList:
    """The round's list row, locked; refuses a stale form when `row_version` is given. Issue-7 operations that
    change the list (spot checks, objections, marking it final) go through this too."""
    the_list = session.exec(
        select(RecommendationList).where(RecommendationList.round_id == round_id).with_for_update()
    ).first()
    if the_list is None:
        the_list = RecommendationList(round_id=round_id, row_version=0)
    if row_version is not None and the_list.row_version != row_version:
        raise StaleEdit("推荐名单已被他人修改，您这次的调整未保存。请刷新后核对。")
    if the_list.marked_final_at is not None:
        raise ServiceError("推荐名单已定稿，不能再修改。")
    the_list.row_version += 1
    the_list.updated_at = utcnow()
    session.add(the_list)
    session.flush()
    return the_list


def standing(session: Session, *, round_id: int, application_id: int) -> ListEntry:
    entry = session.exec(select(ListEntry).where(ListEntry.application_id == application_id)).first()
    if entry is None:
        entry = ListEntry(round_id=round_id, application_id=application_id)
    return entry


def move_in_list(
    session: Session, *, actor: Actor, round_id: int, application_id: int, position: int, reason: str, row_version: int
) -> ListEntry:
    """Staff put a recommended application at another priority, with a reason (printed in the exports)."""
    lock_list(session, round_id=round_id, row_version=row_version)
    view = round_list(session, round_id=round_id)
    row = next((r for r in view.listed if r.application.id == application_id), None)
    if row is None:
        raise NotFound("该项目不在推荐名单上。")
    if not 1 <= position <= len(view.listed):
        raise ServiceError(f"推荐顺序应在 1 到 {len(view.listed)} 之间。", field="position")
    if position == row.position:
        raise ServiceError(f"「{row.enterprise.name}」已经在第{position}位。", field="position")
    reason = _reason(reason, what="调整理由")
    entry = standing(session, round_id=round_id, application_id=application_id)
    entry.manual_position = position
    entry.move_reason = reason
    entry.updated_at = utcnow()
    entry.updated_by = actor.user_id
    session.add(entry)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="ranking.list_move",
        entity_type="recommendation_list",
        entity_id=round_id,
        summary=(
            f"将「{row.enterprise.name}」的推荐顺序由第{row.position}位调整为第{position}位"
            f"（按得分第{row.computed_position}位；理由：{reason}）"
        ),
        before={"application_id": application_id, "position": row.position},
        after={"application_id": application_id, "position": position, "reason": reason},
    )
    return entry


def clear_list_move(session: Session, *, actor: Actor, round_id: int, application_id: int, row_version: int) -> None:
    lock_list(session, round_id=round_id, row_version=row_version)
    entry = session.exec(select(ListEntry).where(ListEntry.application_id == application_id)).first()
    if entry is None or entry.manual_position is None:
        return
    before = {"application_id": application_id, "position": entry.manual_position, "reason": entry.move_reason}
    entry.manual_position = None
    entry.move_reason = ""
    entry.updated_at = utcnow()
    entry.updated_by = actor.user_id
    session.add(entry)
    session.flush()
    name = session.exec(
        select(Enterprise.name)
        .join(Application, col(Application.enterprise_id) == col(Enterprise.id))
        .where(Application.id == application_id)
    ).first()
    audit.record(
        session,
        actor=actor,
        action="ranking.list_move_cleared",
        entity_type="recommendation_list",
        entity_id=round_id,
        summary=f"将「{name}」恢复为按得分排列的推荐顺序",
        before=before,
        after={"application_id": application_id, "position": None},
    )


# What else must be settled before the list can be marked final (e.g. open objections): each callable returns the
# problems, in Chinese, for a round. Capabilities that can hold the list up register here.
FINAL_LIST_BLOCKERS: list[Callable[[Session, int], list[str]]] = []


def final_list_problems(session: Session, view: RoundList) -> list[str]:
    problems = [f"专家组「{p.name}」尚未定稿。" for p in view.open_panels]
    if not view.listed:
        problems.append("推荐名单上没有项目。")
    for blocker in FINAL_LIST_BLOCKERS:
        problems.extend(blocker(session, view.round.id))  # type: ignore[arg-type]
    return problems


def mark_list_final(session: Session, *, actor: Actor, round_id: int, row_version: int) -> RecommendationList:
    """Staff mark the round's list final (after publicity and every objection is closed)."""
    the_list = lock_list(session, round_id=round_id, row_version=row_version)
    view = round_list(session, round_id=round_id)
    problems = final_list_problems(session, view)
    if problems:
        raise ServiceError("推荐名单还不能定稿：" + "；".join(problems))
    the_list.marked_final_at = utcnow()
    the_list.marked_final_by = actor.user_id
    session.add(the_list)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="ranking.list_final",
        entity_type="recommendation_list",
        entity_id=round_id,
        summary=f"「{view.round.name}」推荐名单定稿：{len(view.listed)}个项目，移出{len(view.removed)}个",
        after={
            "listed": [{"position": r.position, "application_id": r.application.id} for r in view.listed],
            "removed": [
                {"application_id": r.application.id, "reason": r.standing.removed_reason}
                for r in view.removed
                if r.standing
            ],
        },
    )
    return the_list


# --- what the official exports read (reviewapp.ranking.exports builds the files) --------------------------------

audit.register_labels(actions={"ranking.export": "导出名单或评分表"}, entities={})


def scenario_names(session: Session, application_ids: Sequence[int]) -> dict[int, list[str]]:
    """The scenarios each application claims, in the order it listed them."""
    out: dict[int, list[str]] = {a: [] for a in application_ids}
    for chunk in chunked(sorted(set(application_ids))):
        for application_id, name in session.exec(
            select(ApplicationScenario.application_id, ApplicationScenario.name)
            .where(col(ApplicationScenario.application_id).in_(chunk))
            .order_by(ApplicationScenario.application_id, ApplicationScenario.sort_order, ApplicationScenario.id)
        ):
            out[application_id].append(name)
    return out


def overseas_applications(session: Session, *, round_id: int) -> list[tuple[Application, Enterprise]]:
    """The round's overseas factories (海外智能工厂) that passed formal review, in the order they arrived (序号)."""
    rounds.get_round(session, round_id)
    return [
        (a, e)
        for a, e in session.exec(
            select(Application, Enterprise)
            .join(Enterprise, col(Enterprise.id) == col(Application.enterprise_id))
            .where(
                Application.round_id == round_id,
                Application.is_overseas == True,  # noqa: E712
                Application.formal_status == FormalStatus.passed.value,
            )
            .order_by(Application.serial, Application.id)
        )
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
    trees: dict[int, Any] = {}
    out = []
    for sheet, expert in rows:
        tree = trees.get(sheet.criteria_version_id) or rounds.criteria_tree(session, sheet.criteria_version_id)
        trees[sheet.criteria_version_id] = tree
        items = scoring.scoring_items(tree)
        entries = scoring.sheet_entries(session, sheet.id)
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


def record_export(
    session: Session, *, actor: Actor, round_id: int, kind: str, label: str, filename: str, detail: dict[str, Any]
) -> None:
    """Who took which official file out of the system, and when (the file names experts and their scores)."""
    audit.record(
        session,
        actor=actor,
        action="ranking.export",
        entity_type="round",
        entity_id=round_id,
        summary=f"导出{label}《{filename}》",
        after={"type": kind, "filename": filename, **detail},
    )
