"""The round's recommendation list (推荐名单) across its finalized panels, with staff's reordering and marking it
final, and what the official lists read besides it (scenarios, overseas factories).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

from sqlmodel import Session, col, select

from reviewapp import audit
from reviewapp.applications.models import Application, ApplicationScenario, Enterprise, FormalStatus
from reviewapp.audit import Actor
from reviewapp.clock import utcnow
from reviewapp.db import chunked
from reviewapp.errors import Conflict as StaleEdit
from reviewapp.errors import NotFound, ServiceError
from reviewapp.panels import service as panels
from reviewapp.panels.models import Panel
from reviewapp.ranking import ordering, rules
from reviewapp.ranking.decisions import written_reason
from reviewapp.ranking.models import ListEntry, PanelDecision, RecommendationList
from reviewapp.ranking.raw_scores import Scores, load_scores
from reviewapp.rounds import service as rounds
from reviewapp.rounds.models import Round

audit.register_labels(
    actions={
        "ranking.list_move": "调整推荐顺序",
        "ranking.list_move_cleared": "恢复推荐顺序",
        "ranking.list_final": "推荐名单定稿",
    },
    entities={"recommendation_list": "推荐名单"},
)


@dataclass
class ListRow:
    position: int  # priority (推荐顺序) among the entries still on the list; 0 for removed ones
    computed_position: int  # the priority before staff's moves (panels' orders merged by score)
    entry: ordering.RankedApplication
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

    @cached_property
    def listed(self) -> list[ListRow]:
        return [r for r in self.rows if not r.removed]

    @cached_property
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
    scores = load_scores(session, round_id=round_id, application_ids=sorted(in_finalized), with_items=False)
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
    reason = written_reason(reason, what="调整理由")
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
