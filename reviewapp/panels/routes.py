"""Staff pages for a round's panels: the list of panels, a panel's page, its members and chair."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from reviewapp.applications.models import INDUSTRY_GROUPS, Application, FormalStatus
from reviewapp.clock import today_beijing
from reviewapp.errors import ServiceError
from reviewapp.forms import form_ids, form_int, form_text
from reviewapp.panels import assignment, membership, service
from reviewapp.panels import experts as pool
from reviewapp.panels.models import Conflict, Expert, Panel, PanelMember
from reviewapp.rounds.models import Round
from reviewapp.web import (
    FormData,
    actor_of,
    flash,
    render,
    staff_only,
)

GROUP_CHOICES = {g: g for g in INDUSTRY_GROUPS}


# --- panels ------------------------------------------------------------------------------------------


def round_or_404(db: Session, round_id: int) -> Round:
    return service.get_round(db, round_id)


class PanelIndexController(Controller):
    """Which rounds have panels: the way into each round's panels from the navigation."""

    path = "/panels"
    guards = [staff_only]

    @get("/", sync_to_thread=True)
    def index(self, db: NamedDependency[Session]) -> Template:
        rounds = list(db.exec(select(Round).order_by(col(Round.year).desc(), col(Round.id).desc())))
        panel_counts = dict(db.exec(select(Panel.round_id, func.count()).group_by(Panel.round_id)).all())
        passed = dict(
            db.exec(
                select(Application.round_id, func.count())
                .where(Application.formal_status == FormalStatus.passed.value)
                .group_by(Application.round_id)
            ).all()
        )
        assigned = dict(
            db.exec(
                select(Application.round_id, func.count())
                .where(Application.formal_status == FormalStatus.passed.value, col(Application.panel_id).is_not(None))
                .group_by(Application.round_id)
            ).all()
        )
        return render("panels/index.html", rounds=rounds, panel_counts=panel_counts, passed=passed, assigned=assigned)


class RoundPanelsController(Controller):
    path = "/rounds/{round_id:int}"
    guards = [staff_only]

    # --- panels ---

    @get("/panels", sync_to_thread=True)
    def panels(self, db: NamedDependency[Session], round_id: FromPath[int]) -> Template:
        return self._panels_page(db, round_id, form={}, errors={})

    def _panels_page(self, db: Session, round_id: int, *, form: dict[str, Any], errors: dict[str, str]) -> Template:
        rnd = round_or_404(db, round_id)
        panels = service.round_panels(db, round_id)
        membership = service.round_membership(db, round_id)
        chairs = dict(
            db.exec(
                select(PanelMember.panel_id, Expert.name)
                .join(Expert, Expert.id == PanelMember.expert_id)  # type: ignore[arg-type]
                .join(Panel, Panel.id == PanelMember.panel_id)  # type: ignore[arg-type]
                .where(Panel.round_id == round_id, PanelMember.is_chair == True)  # noqa: E712
            ).all()
        )
        statuses, reasons = assignment.assignment_overview(db, round_id=round_id)
        loads: dict[int, int] = {}
        warnings: dict[int, int] = {}
        for s in statuses:
            if s.panel is not None:
                loads[s.panel.id] = loads.get(s.panel.id, 0) + 1  # type: ignore[index]
                if s.below_minimum:
                    warnings[s.panel.id] = warnings.get(s.panel.id, 0) + 1  # type: ignore[index]
        return render(
            "panels/panels.html",
            rnd=rnd,
            panels=panels,
            membership=membership,
            chairs=chairs,
            loads=loads,
            warnings=warnings,
            passed=len(statuses),
            unassigned=sum(1 for s in statuses if s.panel is None),
            groups=GROUP_CHOICES,
            form=form,
            errors=errors,
        )

    @post("/panels", sync_to_thread=True)
    def create_panel(
        self, request: Request, db: NamedDependency[Session], round_id: FromPath[int], data: FormData
    ) -> Any:
        try:
            panel = membership.create_panel(
                db,
                actor=actor_of(request),
                round_id=round_id,
                name=form_text(data, "name"),
                industry_group=form_text(data, "industry_group"),
            )
            db.commit()
        except ServiceError as exc:
            db.rollback()
            return self._panels_page(
                db,
                round_id,
                form={"name": form_text(data, "name"), "industry_group": form_text(data, "industry_group")},
                errors={exc.field or "name": exc.message},
            )
        flash(request, f"已新建专家组「{panel.name}」。请添加成员。")
        return Redirect(path=f"/rounds/{round_id}/panels/{panel.id}", status_code=303)

    @get("/panels/{panel_id:int}", sync_to_thread=True)
    def panel(
        self, db: NamedDependency[Session], round_id: FromPath[int], panel_id: FromPath[int], q: FromQuery[str] = ""
    ) -> Template:
        return self._panel_page(db, round_id, panel_id, q=q)

    def _panel_page(
        self,
        db: Session,
        round_id: int,
        panel_id: int,
        *,
        q: str = "",
        errors: dict[str, str] | None = None,
        form: dict[str, Any] | None = None,
    ) -> Template:
        rnd = round_or_404(db, round_id)
        panel = service.get_panel(db, panel_id, round_id=round_id)
        members = service.panel_members(db, panel.id)  # type: ignore[arg-type]
        statuses, _reasons = assignment.assignment_overview(db, round_id=round_id)
        mine = [s for s in statuses if s.panel is not None and s.panel.id == panel.id]
        busy = dict(
            db.exec(
                select(PanelMember.expert_id, Panel.name)
                .join(Panel, Panel.id == PanelMember.panel_id)  # type: ignore[arg-type]
                .where(Panel.round_id == round_id)
            ).all()
        )
        candidates_stmt = select(Expert).where(Expert.active == True)  # noqa: E712
        if q:
            like = f"%{q.strip()[:64]}%"
            candidates_stmt = candidates_stmt.where(or_(col(Expert.name).like(like), col(Expert.employer).like(like)))
        else:
            candidates_stmt = candidates_stmt.where(col(Expert.specialties_json).like(f'%"{panel.industry_group}"%'))
        candidates = [e for e in db.exec(candidates_stmt.order_by(Expert.name).limit(200)) if e.id not in busy]
        conflict_counts = dict(
            db.exec(
                select(Conflict.expert_id, func.count(func.distinct(Conflict.application_id)))
                .join(Application, Application.id == Conflict.application_id)  # type: ignore[arg-type]
                .where(Conflict.round_id == round_id, Application.panel_id == panel.id)
                .group_by(Conflict.expert_id)
            ).all()
        )
        from reviewapp.scoring import overviews  # scoring builds on panels: imported where the page needs it

        progress = overviews.panel_progress(db, panel_id=panel.id) if mine and members else None  # type: ignore[arg-type]
        return render(
            "panels/panel.html",
            progress=progress,
            rnd=rnd,
            panel=panel,
            members=members,
            applications=mine,
            candidates=candidates,
            q=q,
            groups=GROUP_CHOICES,
            conflict_counts=conflict_counts,
            specialties_of=pool.specialties_of,
            errors=errors or {},
            form=form or {"name": panel.name, "industry_group": panel.industry_group},
        )

    @post("/panels/{panel_id:int}", sync_to_thread=True)
    def update_panel(
        self,
        request: Request,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        panel_id: FromPath[int],
        data: FormData,
    ) -> Any:
        service.get_panel(db, panel_id, round_id=round_id)
        try:
            membership.update_panel(
                db,
                actor=actor_of(request),
                panel_id=panel_id,
                name=form_text(data, "name"),
                industry_group=form_text(data, "industry_group"),
                row_version=form_int(form_text(data, "row_version"), 0),
            )
            db.commit()
        except ServiceError as exc:
            db.rollback()
            form = {"name": form_text(data, "name"), "industry_group": form_text(data, "industry_group")}
            return self._panel_page(db, round_id, panel_id, errors={exc.field or "name": exc.message}, form=form)
        flash(request, "已保存专家组。")
        return Redirect(path=f"/rounds/{round_id}/panels/{panel_id}", status_code=303)

    @post("/panels/{panel_id:int}/delete", sync_to_thread=True)
    def delete_panel(
        self,
        request: Request,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        panel_id: FromPath[int],
        data: FormData,
    ) -> Redirect:
        panel = service.get_panel(db, panel_id, round_id=round_id)
        try:
            membership.delete_panel(db, actor=actor_of(request), panel_id=panel_id, reason=form_text(data, "reason"))
            db.commit()
        except ServiceError as exc:
            db.rollback()
            flash(request, exc.message, "error")
            return Redirect(path=f"/rounds/{round_id}/panels/{panel_id}", status_code=303)
        flash(request, f"已删除专家组「{panel.name}」，其申报项目已改为未分配。")
        return Redirect(path=f"/rounds/{round_id}/panels", status_code=303)

    def _member_action(
        self, request: Request, db: Session, round_id: int, panel_id: int, action: Any, done: str
    ) -> Redirect:
        service.get_panel(db, panel_id, round_id=round_id)
        try:
            action()
            db.commit()
            flash(request, done)
        except ServiceError as exc:
            db.rollback()
            flash(request, exc.message, "error")
        return Redirect(path=f"/rounds/{round_id}/panels/{panel_id}", status_code=303)

    @post("/panels/{panel_id:int}/members", sync_to_thread=True)
    def add_member(
        self,
        request: Request,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        panel_id: FromPath[int],
        data: FormData,
    ) -> Redirect:
        ids = form_ids((data or {}).get("expert_id"))
        reason = form_text(data, "reason")

        def act() -> None:
            if not ids:
                raise ServiceError("请先选择要添加的专家。")
            for expert_id in ids:
                membership.add_member(
                    db,
                    actor=actor_of(request),
                    panel_id=panel_id,
                    expert_id=expert_id,
                    today=today_beijing(),
                    reason=reason,
                )

        return self._member_action(request, db, round_id, panel_id, act, f"已添加 {len(ids)} 位成员。")

    @post("/panels/{panel_id:int}/members/{expert_id:int}/remove", sync_to_thread=True)
    def remove_member(
        self,
        request: Request,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        panel_id: FromPath[int],
        expert_id: FromPath[int],
        data: FormData,
    ) -> Redirect:
        return self._member_action(
            request,
            db,
            round_id,
            panel_id,
            lambda: membership.remove_member(
                db, actor=actor_of(request), panel_id=panel_id, expert_id=expert_id, reason=form_text(data, "reason")
            ),
            "已移出该成员。",
        )

    @post("/panels/{panel_id:int}/members/{expert_id:int}/chair", sync_to_thread=True)
    def set_chair(
        self,
        request: Request,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        panel_id: FromPath[int],
        expert_id: FromPath[int],
        data: FormData,
    ) -> Redirect:
        return self._member_action(
            request,
            db,
            round_id,
            panel_id,
            lambda: membership.set_chair(
                db, actor=actor_of(request), panel_id=panel_id, expert_id=expert_id, reason=form_text(data, "reason")
            ),
            "已指定新的组长。",
        )
