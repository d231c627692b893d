"""Pages for publicity (公示: staff setup, preview, publish; the public page) and on-site spot checks (现场抽查)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlmodel import Session, col, select

from reviewapp import clock
from reviewapp.errors import Conflict, NotFound, ServiceError
from reviewapp.forms import Field, form_ids, form_int, validate
from reviewapp.publicity import final_list, periods, rules, spot_checks
from reviewapp.publicity.models import PublicityPeriod, SpotCheckOutcome
from reviewapp.ranking import recommendations
from reviewapp.rounds import service as rounds
from reviewapp.rounds.models import Round
from reviewapp.web import PUBLIC, FormData, actor_of, flash, render, staff_only

OUTCOME_CHOICES = {o.value: o.label for o in SpotCheckOutcome}

PERIOD_FIELDS = [
    Field("start_date", "公示开始日期", kind="date"),
    Field("working_days", "公示期（工作日）", kind="int", min_value=1, max_value=periods.MAX_WORKING_DAYS),
    Field("columns", "公示名单显示的列", kind="multi", choices=rules.PUBLIC_COLUMNS),
    Field("contact_unit", "受理异议的单位", required=False, max_length=120),
    Field("contact_address", "联系地址", required=False, max_length=200),
    Field("contact_phone", "联系电话", required=False, max_length=64),
    Field("contact_email", "电子邮箱", required=False, max_length=120),
    Field("notice_template", "公告模板", kind="text", max_length=5000),
    Field("notice_text", "公告正文", kind="text", required=False, max_length=5000),
    Field("regenerate", "按模板重新生成公告正文", kind="bool"),
    Field("row_version", "版本号", kind="int", required=False, min_value=1),
]
OUTCOME_FIELDS = [
    Field("check_date", "抽查日期", kind="date"),
    Field("inspectors", "抽查人员", max_length=200),
    Field("findings", "抽查情况", kind="text", max_length=spot_checks.FINDINGS_MAX),
    Field("outcome", "抽查结论", kind="choice", choices=tuple(OUTCOME_CHOICES)),
    Field("outcome_note", "移出理由或整改要求", kind="text", required=False, max_length=spot_checks.NOTE_MAX),
    Field("row_version", "版本号", kind="int", min_value=1),
]
DRAW_FIELDS = [
    Field("size", "抽取数量", kind="int", min_value=1, max_value=10_000),
    Field("seed", "随机种子", kind="int", required=False, min_value=0, max_value=2_000_000_000),
]


def _round(db: Session, round_id: int) -> Round:
    try:
        return rounds.get_round(db, round_id)
    except NotFound as exc:
        raise NotFoundException(exc.message) from exc


# --- staff: publicity -----------------------------------------------------------------------------------------


class PublicityIndexController(Controller):
    """Every round with where its publicity stands (the navigation entry 公示与抽查)."""

    path = "/publicity"
    guards = [staff_only]

    @get("/", sync_to_thread=True)
    def index(self, db: NamedDependency[Session]) -> Template:
        period_of = {p.round_id: p for p in db.exec(select(PublicityPeriod))}
        all_rounds = list(db.exec(select(Round).order_by(col(Round.year).desc(), col(Round.id).desc())))
        return render("publicity/index.html", rounds=all_rounds, periods=period_of, today=clock.today_beijing())


def _period_form(status: periods.PublicityStatus) -> dict[str, Any]:
    period = status.period
    if period is None:
        values = periods.new_period_values(status.round, today=clock.today_beijing())
        values["regenerate"] = True
        values["row_version"] = ""
    else:
        values = {
            "start_date": period.start_date,
            "working_days": period.working_days,
            "columns": periods.period_columns(period),
            "notice_template": period.notice_template or rules.DEFAULT_NOTICE_TEMPLATE,
            "notice_text": period.notice_text,
            "contact_unit": period.contact_unit,
            "contact_address": period.contact_address,
            "contact_phone": period.contact_phone,
            "contact_email": period.contact_email,
            # staff who never edited the text by hand get it re-rendered when they change the dates
            "regenerate": period.notice_text == periods.render_period_notice(status.round, period),
            "row_version": period.row_version,
        }
    values["start_date"] = values["start_date"].isoformat()  # type: ignore[union-attr]
    return values


def _publicity_page(
    db: Session,
    round_id: int,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    stale: bool = False,
    error: str = "",
) -> Template:
    status = periods.publicity_status(db, round_id=round_id)
    return render(
        "publicity/setup.html",
        round=status.round,
        status=status,
        form=form if form is not None else _period_form(status),
        errors=errors or {},
        stale=stale,
        error=error,
        columns=rules.allowed_columns(status.round.publish_scores),
        placeholders=" ".join("{" + p + "}" for p in rules.PLACEHOLDERS),
        today=clock.today_beijing(),
        cn_date=rules.cn_date,
    )


class RoundPublicityController(Controller):
    path = "/rounds/{round_id:int}/publicity"
    guards = [staff_only]

    @get("/", sync_to_thread=True)
    def page(self, db: NamedDependency[Session], round_id: FromPath[int]) -> Template:
        _round(db, round_id)
        return _publicity_page(db, round_id)

    @post("/", sync_to_thread=True)
    def save(self, request: Request, db: NamedDependency[Session], round_id: FromPath[int], data: FormData) -> Any:
        _round(db, round_id)
        form = validate(data, PERIOD_FIELDS)
        stale = False
        if form.ok:
            v = form.values
            try:
                periods.save_period(
                    db,
                    actor=actor_of(request),
                    round_id=round_id,
                    row_version=v["row_version"],
                    start_date=v["start_date"],
                    working_days=v["working_days"],
                    columns=v["columns"],
                    notice_template=v["notice_template"],
                    notice_text=v["notice_text"],
                    regenerate=v["regenerate"],
                    contact_unit=v["contact_unit"],
                    contact_address=v["contact_address"],
                    contact_phone=v["contact_phone"],
                    contact_email=v["contact_email"],
                )
                db.commit()
                flash(request, "已保存公示设置。")
                return Redirect(path=f"/rounds/{round_id}/publicity", status_code=303)
            except Conflict as exc:
                db.rollback()
                stale = True
                form.add_error("_form", exc.message)
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "_form", exc.message)
        db.expire_all()
        raw = dict(form.raw)
        raw["row_version"] = (data or {}).get("row_version", "")
        raw["regenerate"] = form.values.get("regenerate", False)
        return _publicity_page(db, round_id, form=raw, errors=form.errors, stale=stale)

    @get("/preview", sync_to_thread=True)
    def preview(self, db: NamedDependency[Session], round_id: FromPath[int]) -> Template:
        _round(db, round_id)
        try:
            notice = final_list.public_notice(db, round_id=round_id, preview=True)
        except NotFound as exc:
            raise NotFoundException("该批次尚未设置公示，请先保存公示设置。") from exc
        return render("public/publicity_detail.html", notice=notice, preview=True, cn_date=rules.cn_date)

    def _act(self, request: Request, db: Session, round_id: int, action: Any, done: str) -> Redirect:
        try:
            action()
            db.commit()
            flash(request, done)
        except ServiceError as exc:
            db.rollback()
            flash(request, exc.message, "error")
        return Redirect(path=f"/rounds/{round_id}/publicity", status_code=303)

    @post("/publish", sync_to_thread=True)
    def publish(
        self, request: Request, db: NamedDependency[Session], round_id: FromPath[int], data: FormData
    ) -> Redirect:
        _round(db, round_id)
        row_version = form_int((data or {}).get("row_version"))
        return self._act(
            request,
            db,
            round_id,
            lambda: periods.publish(db, actor=actor_of(request), round_id=round_id, row_version=row_version or 0),
            "已发布公示，公众可在公示页面查看。",
        )

    @post("/withdraw", sync_to_thread=True)
    def withdraw(
        self, request: Request, db: NamedDependency[Session], round_id: FromPath[int], data: FormData
    ) -> Redirect:
        _round(db, round_id)
        row_version = form_int((data or {}).get("row_version"))
        return self._act(
            request,
            db,
            round_id,
            lambda: periods.withdraw(db, actor=actor_of(request), round_id=round_id, row_version=row_version or 0),
            "已撤回公示，公示页面不再显示本批次。",
        )

    @post("/final", sync_to_thread=True)
    def mark_final(
        self, request: Request, db: NamedDependency[Session], round_id: FromPath[int], data: FormData
    ) -> Redirect:
        _round(db, round_id)
        row_version = form_int((data or {}).get("list_version")) or 0
        return self._act(
            request,
            db,
            round_id,
            lambda: recommendations.mark_list_final(
                db, actor=actor_of(request), round_id=round_id, row_version=row_version
            ),
            "推荐名单已定稿。",
        )

    @post("/final-list", sync_to_thread=True)
    def publish_final(
        self, request: Request, db: NamedDependency[Session], round_id: FromPath[int], data: FormData
    ) -> Redirect:
        _round(db, round_id)
        form = validate(data, [Field("valid_from", "认定有效期起始日期", kind="date")])
        if not form.ok:
            flash(request, form.errors["valid_from"], "error")
            return Redirect(path=f"/rounds/{round_id}/publicity", status_code=303)
        return self._act(
            request,
            db,
            round_id,
            lambda: final_list.publish_final_list(
                db, actor=actor_of(request), round_id=round_id, valid_from=form.values["valid_from"]
            ),
            "已发布最终名单，并为名单上的项目建立了认定记录。",
        )


# --- staff: spot checks ---------------------------------------------------------------------------------------


class SpotCheckController(Controller):
    path = "/rounds/{round_id:int}/spot-checks"
    guards = [staff_only]

    def _page(
        self,
        db: Session,
        round_id: int,
        *,
        forms: dict[int, dict[str, Any]] | None = None,
        errors: dict[int, dict[str, str]] | None = None,
        draw_form: dict[str, Any] | None = None,
        draw_errors: dict[str, str] | None = None,
        choose_error: str = "",
    ) -> Template:
        page = spot_checks.spot_check_page(db, round_id=round_id)
        return render(
            "publicity/spot_checks.html",
            round=page.round,
            page=page,
            outcomes=OUTCOME_CHOICES,
            forms=forms or {},
            errors=errors or {},
            draw_form=draw_form or {},
            draw_errors=draw_errors or {},
            choose_error=choose_error,
            today=clock.today_beijing(),
            cn_date=rules.cn_date,
            positions={r.application.id: r.position for r in page.view.rows},
        )

    @get("/", sync_to_thread=True)
    def page(self, db: NamedDependency[Session], round_id: FromPath[int]) -> Template:
        _round(db, round_id)
        return self._page(db, round_id)

    @post("/choose", sync_to_thread=True)
    def choose(self, request: Request, db: NamedDependency[Session], round_id: FromPath[int], data: FormData) -> Any:
        _round(db, round_id)
        try:
            checks = spot_checks.choose(
                db,
                actor=actor_of(request),
                round_id=round_id,
                application_ids=form_ids((data or {}).get("application_ids")),
            )
            db.commit()
            flash(request, f"已选取 {len(checks)} 个项目进行现场抽查。")
            return Redirect(path=f"/rounds/{round_id}/spot-checks", status_code=303)
        except ServiceError as exc:
            db.rollback()
            return self._page(db, round_id, choose_error=exc.message)

    @post("/draw", sync_to_thread=True)
    def draw(self, request: Request, db: NamedDependency[Session], round_id: FromPath[int], data: FormData) -> Any:
        _round(db, round_id)
        form = validate(data, DRAW_FIELDS)
        if form.ok:
            try:
                record = spot_checks.draw(
                    db, actor=actor_of(request), round_id=round_id, size=form.values["size"], seed=form.values["seed"]
                )
                db.commit()
                flash(request, f"已随机抽取 {record.sample_size} 个项目（随机种子 {record.seed}）。")
                return Redirect(path=f"/rounds/{round_id}/spot-checks", status_code=303)
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "size", exc.message)
        return self._page(db, round_id, draw_form=form.raw, draw_errors=form.errors)

    @post("/{check_id:int}", sync_to_thread=True)
    def record(
        self,
        request: Request,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        check_id: FromPath[int],
        data: FormData,
    ) -> Any:
        _round(db, round_id)
        form = validate(data, OUTCOME_FIELDS)
        if form.ok:
            v = form.values
            try:
                spot_checks.record_outcome(
                    db,
                    actor=actor_of(request),
                    round_id=round_id,
                    check_id=check_id,
                    row_version=v["row_version"],
                    check_date=v["check_date"],
                    inspectors=v["inspectors"],
                    findings=v["findings"],
                    outcome=v["outcome"],
                    outcome_note=v["outcome_note"],
                )
                db.commit()
                flash(request, "已登记现场抽查结论。")
                return Redirect(path=f"/rounds/{round_id}/spot-checks#check-{check_id}", status_code=303)
            except NotFound as exc:
                db.rollback()
                raise NotFoundException(exc.message) from exc
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "_form", exc.message)
        db.expire_all()
        return self._page(db, round_id, forms={check_id: form.raw}, errors={check_id: form.errors})

    @post("/{check_id:int}/cancel", sync_to_thread=True)
    def cancel(
        self,
        request: Request,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        check_id: FromPath[int],
        data: FormData,
    ) -> Redirect:
        _round(db, round_id)
        try:
            spot_checks.cancel(
                db,
                actor=actor_of(request),
                round_id=round_id,
                check_id=check_id,
                row_version=form_int((data or {}).get("row_version")) or 0,
            )
            db.commit()
            flash(request, "已取消该项目的现场抽查。")
        except ServiceError as exc:
            db.rollback()
            flash(request, exc.message, "error")
        return Redirect(path=f"/rounds/{round_id}/spot-checks", status_code=303)


# --- the public page ------------------------------------------------------------------------------------------


class PublicPublicityController(Controller):
    path = "/public/publicity"
    opt = PUBLIC

    @get("/", sync_to_thread=True)
    def index(self, db: NamedDependency[Session]) -> Template:
        return render(
            "public/publicity_list.html",
            items=final_list.published_rounds(db),
            cn_date=rules.cn_date,
            today=clock.today_beijing(),
        )

    @get("/{round_id:int}", sync_to_thread=True)
    def detail(self, db: NamedDependency[Session], round_id: FromPath[int]) -> Template:
        try:
            notice = final_list.public_notice(db, round_id=round_id)
        except NotFound as exc:
            raise NotFoundException(exc.message) from exc
        return render("public/publicity_detail.html", notice=notice, preview=False, cn_date=rules.cn_date)
