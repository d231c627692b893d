"""A panel's ranking and the chair's decisions on it (组长定稿): recommend or not, the group opinion, moves with a
written reason, finalizing; staff recording for a conflicted chair and reopening a finalized panel.

The numbers always come from reviewapp.ranking.rules over the submitted sheets (reviewapp.ranking.raw_scores);
this module stores what people decide on top, and writes each decision to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlmodel import Session, col, select

from reviewapp import audit
from reviewapp.applications.models import Application
from reviewapp.audit import Actor
from reviewapp.clock import utcnow
from reviewapp.errors import Conflict as StaleEdit
from reviewapp.errors import NotFound, ServiceError
from reviewapp.panels import service as panels
from reviewapp.panels.models import Expert, Panel
from reviewapp.ranking import calibration, ordering, rules
from reviewapp.ranking.models import PanelDecision
from reviewapp.ranking.raw_scores import Scores, load_scores
from reviewapp.rounds.models import Aggregation, Round
from reviewapp.scoring import overviews, submission
from reviewapp.scoring.models import SheetStatus

audit.register_labels(
    actions={
        "ranking.decision": "组长意见与推荐",
        "ranking.move": "调整排序",
        "ranking.move_cleared": "恢复计算排序",
        "ranking.panel_opinion": "专家组总体意见",
        "ranking.finalize": "专家组定稿",
        "ranking.reopen": "重新开放专家组",
    },
    entities={"panel_decision": "组长意见"},
)

MIN_REASON = 4
OPINION_MAX = 2000
REASON_MAX = 500


def written_reason(text: str, *, what: str) -> str:
    text = (text or "").strip()
    if len(text) < MIN_REASON:
        raise ServiceError(f"请填写{what}（至少 {MIN_REASON} 个字）。", field="reason")
    if len(text) > REASON_MAX:
        raise ServiceError(f"{what}不能超过 {REASON_MAX} 字。", field="reason")
    return text


@dataclass
class PanelRow:
    """One application in the panel's decided order."""

    position: int  # the decided place (after the chair's moves)
    entry: ordering.RankedApplication
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
    progress: overviews.PanelProgress
    ranking: ordering.Ranking
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
    def calibration(self) -> calibration.Calibration:
        return calibration.calibrate(self.scores.sheets, self.scores.facts, self.scores.settings, official=self.ranking)

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


def panel_ranking(
    session: Session, *, panel_id: int, hide_from_expert: int | None = None, with_items: bool = True
) -> PanelRanking:
    """A panel's ranking with the chair's decisions applied. `hide_from_expert`: the chair's view leaves out
    applications the chair is conflicted with (they do not exist for the chair). `with_items=False`: for views
    that show no item scores (raw_scores.load_scores)."""
    panel = panels.get_panel(session, panel_id)
    full = overviews.panel_progress(session, panel_id=panel_id)
    progress = full if hide_from_expert is None else overviews.visible_part(session, full, expert_id=hide_from_expert)
    app_ids = [a.id for a, _n, _c in progress.rows]
    scores = load_scores(session, round_id=panel.round_id, application_ids=app_ids, with_items=with_items)  # type: ignore[arg-type]
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


def chair_ranking(session: Session, *, expert_id: int, panel_id: int, with_items: bool = True) -> PanelRanking:
    """The chair's view: only for the chair of this panel, pledge signed, and only applications they may see."""
    panel = submission.chair_panel(session, expert_id=expert_id, panel_id=panel_id)
    panels.require_pledge(session, expert_id=expert_id, round_id=panel.round_id)
    return panel_ranking(session, panel_id=panel_id, hide_from_expert=expert_id, with_items=with_items)


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
    row = _row(view, application_id)  # another panel's application is not found, whatever the panel's state
    _chair_editable(view)
    return _write_decision(
        session,
        actor=actor,
        panel_id=panel_id,
        row=row,
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
    row = _row(view, application_id)
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
        row=row,
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
    row = _row(view, application_id)
    _chair_editable(view)
    if not 1 <= position <= len(view.rows):
        raise ServiceError(f"名次应在 1 到 {len(view.rows)} 之间。", field="position")
    if position == row.position:
        raise ServiceError(f"「{row.enterprise_name}」已经在第{position}名。", field="position")
    reason = written_reason(reason, what="调整理由")
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
    row = _row(view, application_id)
    _chair_editable(view)
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
    reason = written_reason(reason, what="重新开放的原因")
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
