"""Pages of scoring: the expert's score sheet with autosave, the chair's return of sheets, staff's progress view."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from reviewapp.applications.models import Application
from reviewapp.auth.models import Role
from reviewapp.clock import as_utc, utcnow
from reviewapp.errors import NotFound, ServiceError
from reviewapp.forms import Field, first, form_int, form_text, validate
from reviewapp.panels import service as panels
from reviewapp.panels.pledge_routes import my_expert
from reviewapp.rounds.routes import END_OF_DAY
from reviewapp.rounds.rules import beijing_to_utc, fmt_points
from reviewapp.scoring import autosave, overviews, rules, sheets, submission
from reviewapp.scoring.models import ScoreSheet, SheetStatus
from reviewapp.web import (
    SESSION_COOKIE,
    SESSION_IN_HANDLER,
    FormData,
    access,
    actor_of,
    check_access,
    flash,
    in_writer_thread,
    no_store,
    render,
    render_block,
    require,
    settings_of,
    sign_in_scope,
    staff_only,
)

SHEET = "scoring/sheet.html"
EXPERT = {Role.expert.value}
expert_only = require(Role.expert)


def pledge_redirect(request: Request, exc: panels.PledgeRequired) -> Response[Any]:
    flash(request, exc.message, "info")
    if request.headers.get("hx-request") == "true":
        return Response(content="", status_code=200, headers={"HX-Redirect": exc.next_url})
    return Redirect(path=exc.next_url, status_code=303)


def _saved_fragment(request: Request, saved: autosave.Saved) -> Response[str]:
    """The autosave's answer: the `saved` block rendered straight to a string. It is the hottest response of the
    app and needs neither the request nor a CSRF token in its context, which a Template response prepares."""
    template = request.app.template_engine.engine.get_template(SHEET)  # type: ignore[union-attr]
    html = "".join(template.blocks["saved"](template.new_context({"s": saved, "pts": fmt_points})))
    return Response(content=html, media_type=MediaType.HTML, status_code=200, headers={"Cache-Control": "no-store"})


def _sheet_page(db: Session, request: Request, application_id: int) -> sheets.SheetPage | Response[Any]:
    try:
        return sheets.open_sheet_page(db, user_id=request.user.id, application_id=application_id, now=utcnow())
    except panels.PledgeRequired as exc:
        return pledge_redirect(request, exc)


class ScoreSheetController(Controller):
    """One expert's score sheet (专家评分表) for one application."""

    path = "/expert/applications/{application_id:int}"
    guards = [expert_only]
    opt = access("assigned")

    @get("/", sync_to_thread=True)
    def sheet(self, request: Request, db: NamedDependency[Session], application_id: FromPath[int]) -> Any:
        page = _sheet_page(db, request, application_id)
        if isinstance(page, Response):
            return page
        return no_store(render(SHEET, page=page, pts=fmt_points, issues=None, now=utcnow()))

    @get("/print", sync_to_thread=True)
    def print_view(self, request: Request, db: NamedDependency[Session], application_id: FromPath[int]) -> Any:
        page = _sheet_page(db, request, application_id)
        if isinstance(page, Response):
            return page
        return no_store(render("scoring/print.html", page=page, pts=fmt_points, now=utcnow()))

    @get("/check", sync_to_thread=True)
    def check(
        self,
        request: Request,
        db: NamedDependency[Session],
        application_id: FromPath[int],
        row_version: FromQuery[str] = "",
    ) -> Any:
        """Before submitting: every problem (linked to its field), or the confirmation dialog."""
        page = _sheet_page(db, request, application_id)
        if isinstance(page, Response):
            return page
        stale = row_version.isdigit() and int(row_version) != page.row_version
        context = {
            "page": page,
            "pts": fmt_points,
            "issues": sheets.completeness(page),
            "stale": stale,
            "now": utcnow(),
        }
        if request.headers.get("hx-request") == "true":
            return no_store(render_block(SHEET, "check", **context))
        return no_store(render(SHEET, **context))

    @post("/submit", sync_to_thread=True)
    def submit(
        self, request: Request, db: NamedDependency[Session], application_id: FromPath[int], data: FormData
    ) -> Any:
        expert = my_expert(db, request)
        try:
            _sheet, changed = submission.submit_sheet(
                db,
                actor=actor_of(request),
                expert=expert,
                application_id=application_id,
                row_version=form_int(form_text(data, "row_version"), -1),
                now=utcnow(),
            )
            db.commit()
        except panels.PledgeRequired as exc:
            db.rollback()
            return pledge_redirect(request, exc)
        except NotFound:
            raise
        except ServiceError as exc:
            db.rollback()
            flash(request, exc.message, "error")
            return Redirect(path=f"/expert/applications/{application_id}#submit-area", status_code=303)
        flash(request, "评分表已提交，现已锁定。感谢您的评审！" if changed else "评分表此前已提交，无须重复提交。")
        return Redirect(path=f"/expert/applications/{application_id}", status_code=303)


class AutosaveController(Controller):
    """The score sheet's autosave: the hottest request of a review day (every expert, every few seconds).

    It reads the session itself (SESSION_IN_HANDLER: the session middleware skips it) so that the whole save
    is one thread hop and one writer transaction whose first query both validates the session and loads what
    the save checks (scoring.autosave.signed_in_save_context); `check_access` then applies the same rule as the
    `expert_only` guard of the sheet's other routes. CSRF is checked by the CSRF middleware as everywhere.
    """

    path = "/expert/applications/{application_id:int}/save"
    opt = {**SESSION_IN_HANDLER, **access("assigned")}

    @post("/")
    async def save(self, request: Request, application_id: FromPath[int], data: FormData) -> Any:
        """One autosaved field. Always answers 200 with fragments htmx swaps out of band."""
        return await in_writer_thread(request, self._save, request, application_id, data)

    def _save(self, request: Request, application_id: int, data: dict[str, Any]) -> Any:
        fields = [(k, v) for k, v in (data or {}).items() if k not in {"row_version", "_csrf_token"}]
        name, raw = (fields[0][0], first(fields[0][1])) if len(fields) == 1 else ("", "")
        settings = settings_of(request)
        with Session(request.app.state.writer_engine, expire_on_commit=False) as db:
            lookup, context = autosave.signed_in_save_context(
                db,
                token=request.cookies.get(SESSION_COOKIE),
                idle_minutes=settings.session_idle_minutes,
                application_id=application_id,
                field=name,
            )
            sign_in_scope(request.scope, lookup)
            if lookup.user is None:
                db.commit()  # an idle session was ended
            check_access(request, EXPERT)
            if len(fields) != 1:
                raise NotFound("无法识别要保存的内容。")
            try:
                saved = autosave.save_field(
                    db,
                    actor=actor_of(request),
                    application_id=application_id,
                    field=name,
                    raw=raw,
                    row_version=form_int(form_text(data, "row_version"), -1),
                    now=utcnow(),
                    context=context,
                )
                db.commit()
            except sheets.StaleSheet as exc:
                db.rollback()
                return _conflict(db, request, application_id, message=exc.message, field=name, raw=raw)
            except panels.PledgeRequired as exc:
                db.rollback()
                return pledge_redirect(request, exc)
            except NotFound:
                raise
            except ServiceError as exc:
                db.rollback()
                saved = autosave.Saved(
                    field=name,
                    kind="",
                    node_id=None,
                    ok=False,
                    message=exc.message,
                    row_version=form_int(form_text(data, "row_version"), -1),
                )
            return _saved_fragment(request, saved)


def _conflict(db: Session, request: Request, application_id: int, *, message: str, field: str, raw: str) -> Any:
    """A stale tab: nothing was written; show the values stored now, and what was not saved."""
    page = _sheet_page(db, request, application_id)
    if isinstance(page, Response):
        return page
    return render_block(SHEET, "conflict", page=page, pts=fmt_points, message=message, refused=(field, raw))


def _send_back_page(db: Session, sheet: Any, app: Any, *, verb: str, action: str, back: str, back_label: str) -> Any:
    """The form that sends one sheet back with a reason: the chair's return or staff's reopening."""
    return no_store(
        render(
            "scoring/send_back.html",
            verb=verb,
            action=action,
            back=back,
            back_label=back_label,
            sheet=sheet,
            application=app,
            status_label=sheets.status_label(sheet.status),
            enterprise_name=submission.application_label(db, app.id),
            expert=panels.get_expert(db, sheet.expert_id),
        )
    )


class ChairController(Controller):
    """The panel chair (组长) returns a submitted sheet with a reason (the chair's page is in reviewapp.ranking)."""

    path = "/expert/panels/{panel_id:int}"
    guards = [expert_only]
    opt = access("chair")

    @get("/sheets/{sheet_id:int}/return", sync_to_thread=True)
    def return_form(
        self, request: Request, db: NamedDependency[Session], panel_id: FromPath[int], sheet_id: FromPath[int]
    ) -> Any:
        """The return form of one sheet (the chair's page links here from each submitted sheet's cell, rather
        than carrying a form in every cell of a 250 x 7 matrix)."""
        expert = my_expert(db, request)
        try:
            sheet, app = submission.chairs_sheet(db, chair=expert, panel_id=panel_id, sheet_id=sheet_id)
        except panels.PledgeRequired as exc:
            return pledge_redirect(request, exc)
        back = f"/expert/panels/{panel_id}"
        return _send_back_page(db, sheet, app, verb="退回", action=f"{back}/sheets/{sheet_id}/return", back=back,
                               back_label="返回本组评审")  # fmt: skip

    @post("/sheets/{sheet_id:int}/return", sync_to_thread=True)
    def return_sheet(
        self,
        request: Request,
        db: NamedDependency[Session],
        panel_id: FromPath[int],
        sheet_id: FromPath[int],
        data: FormData,
    ) -> Redirect:
        expert = my_expert(db, request)
        try:
            submission.return_sheet(
                db,
                actor=actor_of(request),
                chair=expert,
                panel_id=panel_id,
                sheet_id=sheet_id,
                reason=form_text(data, "reason"),
                now=utcnow(),
            )
            db.commit()
            flash(request, "已退回该评分表，专家将看到退回原因并重新评分。")
        except NotFound:
            db.rollback()
            raise
        except ServiceError as exc:
            db.rollback()
            flash(request, exc.message, "error")
        return Redirect(path=f"/expert/panels/{panel_id}", status_code=303)


DEADLINE_FIELDS = [
    Field("deadline_date", "评分截止日期", kind="date"),
    Field("deadline_time", "评分截止时间", kind="time", required=False),
    Field("reason", "调整原因", max_length=300),
]


class ScoringProgressController(Controller):
    """Staff: every panel's sheets by status, reopening a submitted sheet, and the scoring deadline."""

    path = "/rounds/{round_id:int}/scoring"
    guards = [staff_only]

    def _render(
        self,
        db: Session,
        request: Request,
        round_id: int,
        *,
        form: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
    ) -> Template:
        rnd = panels.get_round(db, round_id)
        progress = [overviews.panel_progress(db, panel_id=p.id) for p in panels.round_panels(db, round_id)]  # type: ignore[arg-type]
        tz = settings_of(request).tz
        if form is None:
            local = as_utc(rnd.scoring_deadline).astimezone(tz) if rnd.scoring_deadline else None
            form = {
                "deadline_date": local.date().isoformat() if local else "",
                "deadline_time": local.strftime("%H:%M") if local else "",
                "reason": "",
            }
        return render(
            "scoring/progress.html",
            rnd=rnd,
            progress=progress,
            form=form,
            errors=errors or {},
            time_left=rules.time_left(utcnow(), as_utc(rnd.scoring_deadline) if rnd.scoring_deadline else None),
            submitted=SheetStatus.submitted.value,
        )

    @get("/", sync_to_thread=True)
    def progress(self, request: Request, db: NamedDependency[Session], round_id: FromPath[int]) -> Template:
        return self._render(db, request, round_id)

    @post("/deadline", sync_to_thread=True)
    def deadline(self, request: Request, db: NamedDependency[Session], round_id: FromPath[int], data: FormData) -> Any:
        form = validate(data, DEADLINE_FIELDS)
        if form.ok:
            tz = settings_of(request).tz
            when = beijing_to_utc(form.values["deadline_date"], form.values["deadline_time"] or END_OF_DAY, tz)
            try:
                submission.set_scoring_deadline(
                    db, actor=actor_of(request), round_id=round_id, deadline=when, reason=form.values["reason"], tz=tz
                )
                db.commit()
                flash(request, "已调整评分截止时间。")
                return Redirect(path=f"/rounds/{round_id}/scoring", status_code=303)
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "deadline_date", exc.message)
        return self._render(db, request, round_id, form=form.raw, errors=form.errors)

    @get("/sheets/{sheet_id:int}/reopen", sync_to_thread=True)
    def reopen_form(self, db: NamedDependency[Session], round_id: FromPath[int], sheet_id: FromPath[int]) -> Any:
        """One sheet's reopen form (the progress page links here from each submitted sheet's cell)."""
        sheet = db.get(ScoreSheet, sheet_id)
        app = db.get(Application, sheet.application_id) if sheet else None
        if sheet is None or app is None or sheet.round_id != round_id:
            raise NotFound("未找到该评分表。")
        back = f"/rounds/{round_id}/scoring"
        return _send_back_page(db, sheet, app, verb="重新开放", action=f"{back}/sheets/{sheet_id}/reopen", back=back,
                               back_label="返回评分进度")  # fmt: skip

    @post("/sheets/{sheet_id:int}/reopen", sync_to_thread=True)
    def reopen(
        self,
        request: Request,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        sheet_id: FromPath[int],
        data: FormData,
    ) -> Redirect:
        try:
            submission.reopen_sheet(
                db,
                actor=actor_of(request),
                round_id=round_id,
                sheet_id=sheet_id,
                reason=form_text(data, "reason"),
                now=utcnow(),
            )
            db.commit()
            flash(request, "已重新开放该评分表，专家可以修改后重新提交。")
        except NotFound:
            db.rollback()
            raise
        except ServiceError as exc:
            db.rollback()
            flash(request, exc.message, "error")
        return Redirect(path=f"/rounds/{round_id}/scoring", status_code=303)
