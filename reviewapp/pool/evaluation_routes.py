"""Expert evaluation (专家评价) after a panel is finalized: ratings by the chair and staff, measured facts, suspension."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlmodel import Session

from reviewapp.clock import today_beijing
from reviewapp.errors import NotFound, ServiceError
from reviewapp.forms import form_int, form_text
from reviewapp.pool import evaluations, rules
from reviewapp.pool import settings as pool_settings
from reviewapp.rounds.rules import fmt_points
from reviewapp.web import (
    FormData,
    actor_of,
    flash,
    render,
    signed_in,
)


class EvaluationController(Controller):
    path = "/pool/evaluations"
    guards = [signed_in]

    @get("/", sync_to_thread=True)
    def index(self, request: Request, db: NamedDependency[Session]) -> Template:
        return render("pool/evaluations.html", panels=evaluations.evaluable_panels(db, user=request.user))

    def _page(self, request: Request, db: Session, panel_id: int, errors: dict[str, str]) -> Template:
        panel = evaluations.get_finalized_panel(db, panel_id)
        role = evaluations.rater_role(db, panel=panel, user=request.user)
        if role is None:
            raise NotFound("未找到该专家组，或您无权评价。")
        return render(
            "pool/evaluate.html",
            panel=panel,
            role=role,
            rules_now=pool_settings.current(db),
            suspend_below=fmt_points(pool_settings.current(db).suspend_below),
            members=evaluations.panel_evaluations(db, panel=panel, user=request.user),
            aspects=rules.EVALUATION_ASPECTS,
            errors=errors,
        )

    @get("/{panel_id:int}", sync_to_thread=True)
    def panel(self, request: Request, db: NamedDependency[Session], panel_id: FromPath[int]) -> Template:
        return self._page(request, db, panel_id, {})

    @post("/{panel_id:int}/{expert_id:int}", sync_to_thread=True)
    def rate(
        self,
        request: Request,
        db: NamedDependency[Session],
        panel_id: FromPath[int],
        expert_id: FromPath[int],
        data: FormData,
    ) -> Any:
        values = {k: form_text(data, k) for k, _l in rules.EVALUATION_ASPECTS} | {
            "note": form_text(data, "note"),
            "undeclared_conflict": form_text(data, "undeclared_conflict") == "1",
        }
        try:
            _evaluation, until = evaluations.evaluate(
                db,
                actor=actor_of(request),
                user=request.user,
                panel_id=panel_id,
                expert_id=expert_id,
                values=values,
                suspend_months=max(
                    0,
                    min(
                        form_int(form_text(data, "suspend_months"), pool_settings.current(db).suspend_months),
                        pool_settings.MAX_MONTHS,
                    ),
                ),
                today=today_beijing(),
            )
            db.commit()
        except ServiceError as exc:
            db.rollback()
            return self._page(request, db, panel_id, {f"e-{expert_id}": exc.message})
        flash(request, "已保存评价。" + (f"该专家已暂停抽取至 {until.isoformat()}。" if until else ""))
        return Redirect(path=f"/pool/evaluations/{panel_id}", status_code=303)
