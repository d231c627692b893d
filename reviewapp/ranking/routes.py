"""Pages of the ranking: the chair's workbench (组长定稿), staff's view of each panel with reopening, the calibration
view, each application's sheets side by side, and the round's recommendation list with staff's reordering."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlmodel import Session, col, func, select

from reviewapp.applications.models import Application
from reviewapp.auth.models import Role
from reviewapp.errors import NotFound, ServiceError
from reviewapp.forms import form_int, form_text
from reviewapp.panels import service as panels
from reviewapp.panels.models import Panel
from reviewapp.panels.pledge_routes import my_expert
from reviewapp.ranking import decisions, recommendations
from reviewapp.ranking.models import PanelDecision
from reviewapp.rounds.models import Round
from reviewapp.rounds.rules import fmt_points
from reviewapp.scoring import submission
from reviewapp.scoring.models import SheetStatus
from reviewapp.scoring.routes import pledge_redirect
from reviewapp.web import FormData, access, actor_of, flash, no_store, render, require, staff_only

expert_only = require(Role.expert)
PANEL_PAGE = "ranking/panel.html"


def _int(data: dict[str, Any] | None, name: str, *, label: str) -> int:
    number = form_int(form_text(data, name))
    if number is None:
        raise ServiceError(f"请填写{label}（整数）。", field=name)
    return number


def _recommend(data: dict[str, Any] | None) -> bool | None:
    return {"yes": True, "no": False}.get(form_text(data, "recommend"))


def _perform(request: Request, db: Session, action: Callable[[], object], *, done: str, to: str) -> Redirect:
    """Run one decision in its transaction; say how it went on the page the browser goes back to."""
    try:
        action()
        db.commit()
        flash(request, done)
    except NotFound:
        db.rollback()
        raise
    except decisions.FinalizeRefused as exc:
        db.rollback()
        flash(request, exc.message + " " + "；".join(exc.problems), "error")
    except ServiceError as exc:
        db.rollback()
        flash(request, exc.message, "error")
    return Redirect(path=to, status_code=303)


def _panel_context(view: decisions.PanelRanking, *, mode: str, base: str) -> dict[str, Any]:
    return {
        "view": view,
        "rnd": view.round,
        "mode": mode,  # "chair" | "staff"
        "base": base,
        "editable": mode == "chair" and view.complete and not view.finalized,
        "pts": fmt_points,
        "submitted": SheetStatus.submitted.value,
        "progress": view.progress,
    }


def _application_row(view: decisions.PanelRanking, application_id: int) -> decisions.PanelRow:
    for row in view.rows:
        if row.application.id == application_id:
            return row
    raise NotFound("未找到该申报项目，或您无权查看。")


def _sheets_context(view: decisions.PanelRanking, application_id: int, *, mode: str, base: str) -> dict[str, Any]:
    if not view.complete:
        raise NotFound("本组全部评分表提交后才能查看各专家的评分。")
    row = _application_row(view, application_id)
    sheets = row.entry.aggregate.sheets
    return {
        "view": view,
        "rnd": view.round,
        "row": row,
        "sheets": sheets,
        "items": view.scores.items,
        "dimensions": view.scores.dimensions,
        "mode": mode,
        "base": base,
        "pts": fmt_points,
    }


class ChairRankingController(Controller):
    """The panel chair's workbench: progress until every sheet is in, then the ranking, the group opinions,
    recommend / not, moves with reasons, and finalization."""

    path = "/expert/panels/{panel_id:int}"
    guards = [expert_only]
    opt = access("chair")

    def _view(self, db: Session, request: Request, panel_id: int, with_items: bool = False) -> decisions.PanelRanking:
        """The chair's ranking; `with_items` for the one view that shows each expert's item scores."""
        expert = my_expert(db, request)
        return decisions.chair_ranking(db, expert_id=expert.id, panel_id=panel_id, with_items=with_items)  # type: ignore[arg-type]

    def _back(self, panel_id: int, anchor: str = "") -> Redirect:
        return Redirect(path=f"/expert/panels/{panel_id}{anchor}", status_code=303)

    @get("/", sync_to_thread=True)
    def panel(self, request: Request, db: NamedDependency[Session], panel_id: FromPath[int]) -> Any:
        try:
            view = self._view(db, request, panel_id)
        except panels.PledgeRequired as exc:
            return pledge_redirect(request, exc)
        return no_store(render(PANEL_PAGE, **_panel_context(view, mode="chair", base=f"/expert/panels/{panel_id}")))

    @get("/calibration", sync_to_thread=True)
    def calibration(self, request: Request, db: NamedDependency[Session], panel_id: FromPath[int]) -> Any:
        try:
            view = self._view(db, request, panel_id)
        except panels.PledgeRequired as exc:
            return pledge_redirect(request, exc)
        if not view.complete:
            raise NotFound("本组全部评分表提交后才能查看校准视图。")
        return no_store(
            render("ranking/calibration.html", view=view, rnd=view.round, base=f"/expert/panels/{panel_id}")
        )

    @get("/applications/{application_id:int}", sync_to_thread=True)
    def sheets(
        self, request: Request, db: NamedDependency[Session], panel_id: FromPath[int], application_id: FromPath[int]
    ) -> Any:
        try:
            view = self._view(db, request, panel_id, with_items=True)
        except panels.PledgeRequired as exc:
            return pledge_redirect(request, exc)
        context = _sheets_context(view, application_id, mode="chair", base=f"/expert/panels/{panel_id}")
        return no_store(render("ranking/sheets.html", **context))

    def _act(self, request: Request, db: Session, panel_id: int, action: Any, done: str, anchor: str = "") -> Redirect:
        def as_chair() -> None:
            # Only this panel's chair gets past here (404 for anyone else), before the form is even read: a
            # non-chair used to get the form's validation message back, and a redirect, instead of a refusal.
            expert = my_expert(db, request)
            submission.chair_panel(db, expert_id=expert.id, panel_id=panel_id)  # type: ignore[arg-type]
            action(expert)

        return _perform(request, db, as_chair, done=done, to=f"/expert/panels/{panel_id}{anchor}")

    @post("/decisions/{application_id:int}", sync_to_thread=True)
    def decision(
        self,
        request: Request,
        db: NamedDependency[Session],
        panel_id: FromPath[int],
        application_id: FromPath[int],
        data: FormData,
    ) -> Redirect:
        def action(chair: Any) -> None:
            decisions.save_decision(
                db,
                actor=actor_of(request),
                chair=chair,
                panel_id=panel_id,
                application_id=application_id,
                recommend=_recommend(data),
                group_opinion=form_text(data, "group_opinion"),
                row_version=_int(data, "row_version", label="版本号"),
            )

        return self._act(request, db, panel_id, action, "已保存专家组意见。", f"#app-{application_id}")

    @get("/moves/{application_id:int}", sync_to_thread=True)
    def move_form(self, db: NamedDependency[Session], round_id: FromPath[int], application_id: FromPath[int]) -> Any:
        """One listed application's reorder form (the list links here from each line rather than carrying a
        form on every one of its 2,000 lines)."""
        view = recommendations.round_list(db, round_id=round_id)
        row = next((r for r in view.listed if r.application.id == application_id), None)
        if row is None:
            raise NotFound("该项目不在推荐名单上。")
        return no_store(render("ranking/list_move.html", view=view, rnd=view.round, row=row))

    @post("/moves/{application_id:int}", sync_to_thread=True)
    def move(
        self,
        request: Request,
        db: NamedDependency[Session],
        panel_id: FromPath[int],
        application_id: FromPath[int],
        data: FormData,
    ) -> Redirect:
        def action(chair: Any) -> None:
            decisions.move_application(
                db,
                actor=actor_of(request),
                chair=chair,
                panel_id=panel_id,
                application_id=application_id,
                position=_int(data, "position", label="调整后的名次"),
                reason=form_text(data, "reason"),
            )

        return self._act(
            request, db, panel_id, action, "已调整名次，调整理由会印在导出的名单上。", f"#app-{application_id}"
        )

    @post("/moves/{application_id:int}/clear", sync_to_thread=True)
    def clear_move(
        self, request: Request, db: NamedDependency[Session], panel_id: FromPath[int], application_id: FromPath[int]
    ) -> Redirect:
        def action(chair: Any) -> None:
            decisions.clear_move(
                db, actor=actor_of(request), chair=chair, panel_id=panel_id, application_id=application_id
            )

        return self._act(request, db, panel_id, action, "已恢复计算名次。", f"#app-{application_id}")

    @post("/opinion", sync_to_thread=True)
    def opinion(
        self, request: Request, db: NamedDependency[Session], panel_id: FromPath[int], data: FormData
    ) -> Redirect:
        def action(chair: Any) -> None:
            decisions.save_panel_opinion(
                db,
                actor=actor_of(request),
                chair=chair,
                panel_id=panel_id,
                opinion=form_text(data, "opinion"),
                row_version=_int(data, "row_version", label="版本号"),
            )

        return self._act(request, db, panel_id, action, "已保存专家组总体意见。", "#panel-opinion")

    @post("/finalize", sync_to_thread=True)
    def finalize(
        self, request: Request, db: NamedDependency[Session], panel_id: FromPath[int], data: FormData
    ) -> Redirect:
        def action(chair: Any) -> None:
            decisions.finalize_panel(
                db,
                actor=actor_of(request),
                chair=chair,
                panel_id=panel_id,
                row_version=_int(data, "row_version", label="版本号"),
            )

        return self._act(request, db, panel_id, action, "本专家组已定稿，评分表已锁定。")


class RankingController(Controller):
    """Staff: each panel's ranking (read-only), its calibration and sheets, and reopening a finalized panel."""

    path = "/rounds/{round_id:int}/ranking"
    guards = [staff_only]

    def _view(self, db: Session, round_id: int, panel_id: int, with_items: bool = False) -> decisions.PanelRanking:
        panels.get_panel(db, panel_id, round_id=round_id)
        return decisions.panel_ranking(db, panel_id=panel_id, with_items=with_items)

    @get("/", sync_to_thread=True)
    def index(self, db: NamedDependency[Session], round_id: FromPath[int]) -> Template:
        rnd = panels.get_round(db, round_id)
        views = [
            decisions.panel_ranking(db, panel_id=p.id, with_items=False) for p in panels.round_panels(db, round_id)
        ]  # type: ignore[arg-type]
        return render("ranking/index.html", rnd=rnd, views=views)

    @get("/panels/{panel_id:int}", sync_to_thread=True)
    def panel(self, db: NamedDependency[Session], round_id: FromPath[int], panel_id: FromPath[int]) -> Template:
        view = self._view(db, round_id, panel_id)
        return render(
            PANEL_PAGE, **_panel_context(view, mode="staff", base=f"/rounds/{round_id}/ranking/panels/{panel_id}")
        )

    @get("/panels/{panel_id:int}/calibration", sync_to_thread=True)
    def calibration(self, db: NamedDependency[Session], round_id: FromPath[int], panel_id: FromPath[int]) -> Template:
        view = self._view(db, round_id, panel_id)
        return render(
            "ranking/calibration.html", view=view, rnd=view.round, base=f"/rounds/{round_id}/ranking/panels/{panel_id}"
        )

    @get("/panels/{panel_id:int}/applications/{application_id:int}", sync_to_thread=True)
    def sheets(
        self,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        panel_id: FromPath[int],
        application_id: FromPath[int],
    ) -> Template:
        view = self._view(db, round_id, panel_id, with_items=True)
        row = _application_row(view, application_id)
        context = _sheets_context(
            view, row.application.id, mode="staff", base=f"/rounds/{round_id}/ranking/panels/{panel_id}"
        )  # type: ignore[arg-type]
        return render("ranking/sheets.html", **context)

    @post("/panels/{panel_id:int}/decisions/{application_id:int}", sync_to_thread=True)
    def decision(
        self,
        request: Request,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        panel_id: FromPath[int],
        application_id: FromPath[int],
        data: FormData,
    ) -> Redirect:
        """For an application the chair is conflicted with: staff record the panel's decision."""
        panels.get_panel(db, panel_id, round_id=round_id)
        return _perform(
            request,
            db,
            lambda: decisions.record_decision_for_chair(
                db,
                actor=actor_of(request),
                panel_id=panel_id,
                application_id=application_id,
                recommend=_recommend(data),
                group_opinion=form_text(data, "group_opinion"),
                row_version=_int(data, "row_version", label="版本号"),
            ),
            done="已代组长记录专家组意见。",
            to=f"/rounds/{round_id}/ranking/panels/{panel_id}#app-{application_id}",
        )

    @post("/panels/{panel_id:int}/reopen", sync_to_thread=True)
    def reopen(
        self,
        request: Request,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        panel_id: FromPath[int],
        data: FormData,
    ) -> Redirect:
        panels.get_panel(db, panel_id, round_id=round_id)
        return _perform(
            request,
            db,
            lambda: decisions.reopen_panel(
                db, actor=actor_of(request), panel_id=panel_id, reason=form_text(data, "reason")
            ),
            done="已重新开放该专家组，组长可以退回评分表并重新定稿。",
            to=f"/rounds/{round_id}/ranking/panels/{panel_id}",
        )


class RecommendationController(Controller):
    """Staff: the round's recommendation list (推荐名单) in priority order, reordering with reasons, counts."""

    path = "/rounds/{round_id:int}/recommendations"
    guards = [staff_only]

    @get("/", sync_to_thread=True)
    def index(self, db: NamedDependency[Session], round_id: FromPath[int]) -> Template:
        view = recommendations.round_list(db, round_id=round_id)
        return render(
            "ranking/recommendations.html",
            view=view,
            rnd=view.round,
            problems=recommendations.final_list_problems(db, view),
        )

    def _act(self, request: Request, db: Session, round_id: int, action: Any, done: str) -> Redirect:
        return _perform(request, db, action, done=done, to=f"/rounds/{round_id}/recommendations")

    @get("/moves/{application_id:int}", sync_to_thread=True)
    def move_form(self, db: NamedDependency[Session], round_id: FromPath[int], application_id: FromPath[int]) -> Any:
        """One listed application's reorder form (the list links here from each line rather than carrying a
        form on every one of its 2,000 lines)."""
        view = recommendations.round_list(db, round_id=round_id)
        row = next((r for r in view.listed if r.application.id == application_id), None)
        if row is None:
            raise NotFound("该项目不在推荐名单上。")
        return no_store(render("ranking/list_move.html", view=view, rnd=view.round, row=row))

    @post("/moves/{application_id:int}", sync_to_thread=True)
    def move(
        self,
        request: Request,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        application_id: FromPath[int],
        data: FormData,
    ) -> Redirect:
        def action() -> None:
            recommendations.move_in_list(
                db,
                actor=actor_of(request),
                round_id=round_id,
                application_id=application_id,
                position=_int(data, "position", label="调整后的推荐顺序"),
                reason=form_text(data, "reason"),
                row_version=_int(data, "row_version", label="版本号"),
            )

        return self._act(request, db, round_id, action, "已调整推荐顺序，调整理由会印在推荐汇总表上。")

    @post("/moves/{application_id:int}/clear", sync_to_thread=True)
    def clear_move(
        self,
        request: Request,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        application_id: FromPath[int],
        data: FormData,
    ) -> Redirect:
        def action() -> None:
            recommendations.clear_list_move(
                db,
                actor=actor_of(request),
                round_id=round_id,
                application_id=application_id,
                row_version=_int(data, "row_version", label="版本号"),
            )

        return self._act(request, db, round_id, action, "已恢复按得分排列的推荐顺序。")


class RankingIndexController(Controller):
    """Which rounds have panels to rank: the way in from the navigation."""

    path = "/ranking"
    guards = [staff_only]

    @get("/", sync_to_thread=True)
    def index(self, db: NamedDependency[Session]) -> Template:
        rounds = list(db.exec(select(Round).order_by(col(Round.year).desc(), col(Round.id).desc())))
        panel_counts = dict(db.exec(select(Panel.round_id, func.count()).group_by(Panel.round_id)).all())
        finalized = dict(
            db.exec(
                select(Panel.round_id, func.count())
                .where(col(Panel.finalized_at).is_not(None))
                .group_by(Panel.round_id)
            ).all()
        )
        recommended = dict(
            db.exec(
                select(Application.round_id, func.count())
                .join(PanelDecision, col(PanelDecision.application_id) == col(Application.id))
                .where(PanelDecision.recommend == True)  # noqa: E712
                .group_by(Application.round_id)
            ).all()
        )
        return render(
            "ranking/rounds.html",
            rounds=rounds,
            panel_counts=panel_counts,
            finalized=finalized,
            recommended=recommended,
        )
