"""Staff pages for assigning a round's applications to panels, the exclusions (回避) overview and the round's
conflict-of-interest settings."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import or_
from sqlmodel import Session, col, select

from reviewapp.applications.models import INDUSTRY_GROUPS, Application, Enterprise
from reviewapp.clock import today_beijing
from reviewapp.errors import NotFound, ServiceError
from reviewapp.forms import Field, form_int, form_text, validate
from reviewapp.panels import assignment, conflicts, service
from reviewapp.panels.models import Conflict, ConflictRule, Expert, Panel, PanelMember
from reviewapp.panels.routes import round_or_404
from reviewapp.web import (
    FormData,
    Page,
    actor_of,
    flash,
    paginate,
    parse_page,
    render,
    staff_only,
)


class RoundAssignmentController(Controller):
    path = "/rounds/{round_id:int}"
    guards = [staff_only]

    @get("/assignment", sync_to_thread=True)
    def assignment(
        self,
        request: Request,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        q: FromQuery[str] = "",
        group: FromQuery[str] = "",
        panel: FromQuery[str] = "",
        show: FromQuery[str] = "",
        page: FromQuery[str] = "1",
    ) -> Template:
        rnd = round_or_404(db, round_id)
        statuses, reasons = assignment.assignment_overview(db, round_id=round_id)
        rows = statuses
        if q:
            rows = [s for s in rows if q in s.enterprise.name or q in s.application.factory_name]
        if group:
            rows = [s for s in rows if s.enterprise.industry_group == group]
        if panel == "none":
            rows = [s for s in rows if s.panel is None]
        elif panel.isdigit():
            rows = [s for s in rows if s.panel is not None and s.panel.id == int(panel)]
        if show == "warning":
            rows = [s for s in rows if s.below_minimum or s.application.id in reasons]
        per_page = 50
        current = max(1, min(parse_page(page), max(1, -(-len(rows) // per_page))))
        page_obj = Page(
            items=rows[(current - 1) * per_page : current * per_page], total=len(rows), page=current, per_page=per_page
        )
        panels = service.round_panels(db, round_id)
        return render(
            "panels/assignment.html",
            rnd=rnd,
            page=page_obj,
            reasons=reasons,
            labels={st.application.id: f"{st.enterprise.name}（{st.application.factory_name}）" for st in statuses},
            panels=panels,
            groups=INDUSTRY_GROUPS,
            filters={"q": q, "group": group, "panel": panel, "show": show},
            total=len(statuses),
            unassigned=sum(1 for s in statuses if s.panel is None),
            below=sum(1 for s in statuses if s.below_minimum),
            started=rnd.scoring_started_at is not None,
        )

    @post("/assignment/auto", sync_to_thread=True)
    def auto_assign(
        self, request: Request, db: NamedDependency[Session], round_id: FromPath[int], data: FormData
    ) -> Redirect:
        try:
            result = assignment.auto_assign(
                db,
                actor=actor_of(request),
                round_id=round_id,
                today=today_beijing(),
                mode=form_text(data, "mode") or "unassigned",
                reason=form_text(data, "reason"),
            )
            db.commit()
        except ServiceError as exc:
            db.rollback()
            flash(request, exc.message, "error")
            return Redirect(path=f"/rounds/{round_id}/assignment", status_code=303)
        text = f"自动分配完成：{result.placed} 个申报项目已分配（变动 {result.moved} 个）"
        if result.unplaced:
            text += f"，{len(result.unplaced)} 个未能分配，原因见下方列表"
        flash(request, text + "。", "warning" if result.unplaced else "success")
        return Redirect(path=f"/rounds/{round_id}/assignment", status_code=303)

    @post("/assignment/{application_id:int}", sync_to_thread=True)
    def assign_one(
        self,
        request: Request,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        application_id: FromPath[int],
        data: FormData,
    ) -> Redirect:
        app = db.get(Application, application_id)
        if app is None or app.round_id != round_id:
            raise NotFound("未找到该申报项目。")
        panel_text = form_text(data, "panel_id")
        try:
            assignment.assign_application(
                db,
                actor=actor_of(request),
                application_id=application_id,
                panel_id=int(panel_text) if panel_text.isdigit() else None,
                today=today_beijing(),
                reason=form_text(data, "reason"),
            )
            db.commit()
            flash(request, "已调整分配。")
        except ServiceError as exc:
            db.rollback()
            flash(request, exc.message, "error")
        back = form_text(data, "back")
        return Redirect(
            path=back if back.startswith(f"/rounds/{round_id}/") else f"/rounds/{round_id}/assignment", status_code=303
        )

    # --- conflicts ---

    @get("/exclusions", sync_to_thread=True)
    def exclusions(
        self,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        q: FromQuery[str] = "",
        rule: FromQuery[str] = "",
        panel: FromQuery[str] = "",
        application: FromQuery[str] = "",
        only: FromQuery[str] = "",
        page: FromQuery[str] = "1",
    ) -> Template:
        rnd = round_or_404(db, round_id)
        stmt = (
            select(Conflict, Expert, Application, Enterprise, Panel)
            .join(Expert, Expert.id == Conflict.expert_id)  # type: ignore[arg-type]
            .join(Application, Application.id == Conflict.application_id)  # type: ignore[arg-type]
            .join(Enterprise, Enterprise.id == Application.enterprise_id)  # type: ignore[arg-type]
            .join(PanelMember, PanelMember.expert_id == Conflict.expert_id)  # type: ignore[arg-type]
            .join(Panel, (Panel.id == PanelMember.panel_id) & (Panel.round_id == round_id))  # type: ignore[arg-type]
            .where(Conflict.round_id == round_id)
        )
        if q:
            like = f"%{q.strip()[:64]}%"
            stmt = stmt.where(
                or_(
                    col(Expert.name).like(like),
                    col(Enterprise.name).like(like),
                    col(Application.factory_name).like(like),
                )
            )
        if rule:
            stmt = stmt.where(Conflict.rule == rule)
        if panel.isdigit():
            stmt = stmt.where(Panel.id == int(panel))
        if application.isdigit():
            stmt = stmt.where(Conflict.application_id == int(application))
        if only == "assigned":
            # Only conflicts that matter now: the expert sits on the panel the application is assigned to.
            stmt = stmt.where(Application.panel_id == Panel.id)
        stmt = stmt.order_by(Enterprise.name, Application.id, Expert.name, Conflict.rule)
        result = paginate(db, stmt, page=parse_page(page), per_page=50)
        focus = db.get(Application, int(application)) if application.isdigit() else None
        return render(
            "panels/exclusions.html",
            rnd=rnd,
            page=result,
            panels=service.round_panels(db, round_id),
            filters={"q": q, "rule": rule, "panel": panel, "application": application, "only": only},
            focus=focus,
            focus_enterprise=db.get(Enterprise, focus.enterprise_id) if focus else None,
            rule_labels={r.value: r.label for r in ConflictRule},
        )

    @post("/conflicts/recompute", sync_to_thread=True)
    def recompute(self, request: Request, db: NamedDependency[Session], round_id: FromPath[int]) -> Redirect:
        round_or_404(db, round_id)
        result = conflicts.recompute_conflicts(db, actor=actor_of(request), round_id=round_id, today=today_beijing())
        db.commit()
        flash(
            request,
            f"已重新计算回避关系：共 {result.total} 条自动回避，新增 {result.added} 条，解除 {result.removed} 条。",
        )
        return Redirect(path=f"/rounds/{round_id}/exclusions", status_code=303)

    @get("/coi", sync_to_thread=True)
    def coi_page(self, db: NamedDependency[Session], round_id: FromPath[int]) -> Template:
        return render("panels/coi.html", rnd=round_or_404(db, round_id), errors={})

    @post("/coi", sync_to_thread=True)
    def coi_update(
        self, request: Request, db: NamedDependency[Session], round_id: FromPath[int], data: FormData
    ) -> Any:
        rnd = round_or_404(db, round_id)
        form = validate(
            data,
            [
                Field("coi_same_credit_code", "", kind="bool", required=False),
                Field("coi_employment", "", kind="bool", required=False),
                Field("coi_employment_years", "任职回避年限", kind="int", min_value=0, max_value=20),
                Field("coi_provider", "", kind="bool", required=False),
                Field("coi_declared_relation", "", kind="bool", required=False),
                Field("coi_same_city", "", kind="bool", required=False),
            ],
        )
        if form.ok:
            try:
                conflicts.update_coi_settings(
                    db,
                    actor=actor_of(request),
                    round_id=round_id,
                    values=form.values,
                    row_version=form_int(form_text(data, "row_version"), 0),
                    today=today_beijing(),
                )
                db.commit()
                flash(request, "已保存回避规则，并已重新计算回避关系。")
                return Redirect(path=f"/rounds/{round_id}/exclusions", status_code=303)
            except ServiceError as exc:
                db.rollback()
                rnd = round_or_404(db, round_id)
                form.add_error(exc.field or "coi_employment_years", exc.message)
        return render("panels/coi.html", rnd=rnd, errors=form.errors)
