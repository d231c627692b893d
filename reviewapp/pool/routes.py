"""Pages of the pool: profiles and search, the draw (抽取) and its record, confirmation, verification, evaluation."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session, col, select

from reviewapp.applications.models import INDUSTRY_GROUPS
from reviewapp.auth.models import Role
from reviewapp.clock import today_beijing
from reviewapp.errors import NotFound, ServiceError
from reviewapp.excel import XLSX_MEDIA_TYPE, Column, content_disposition, workbook_to_bytes, write_sheet
from reviewapp.forms import parse_date
from reviewapp.panels.models import Expert
from reviewapp.panels.service import expert_of_user
from reviewapp.pool import draws, evaluations, profiles, rules
from reviewapp.pool import settings as pool_settings
from reviewapp.pool.models import DRAW_STATE_LABELS, PICK_STATUS_LABELS, Draw
from reviewapp.rounds.models import Round
from reviewapp.rounds.rules import fmt_points
from reviewapp.rounds.service import get_round
from reviewapp.web import (
    FormData,
    MultipartData,
    actor_of,
    flash,
    no_store,
    paginate,
    parse_page,
    render,
    render_block,
    require,
    signed_in,
    staff_only,
)

CALL_SCRIPT = (
    "您好，我是××省工业和信息化厅工作人员。您已被随机抽取为「{round}」评审专家。",
    "评审时间、地点另行通知；抽取结果在评审开始前保密，请勿向他人透露。",
    "请问您能否参加？如不能参加，请说明原因。",
    "请确认与本批次申报企业不存在需要回避的利害关系。",
)


def _text(data: dict[str, Any] | None, key: str) -> str:
    value = (data or {}).get(key, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "").strip()


def _int(data: dict[str, Any] | None, key: str, default: int = 0) -> int:
    text = _text(data, key)
    return int(text) if text.lstrip("-").isdigit() else default


def _audit_view(request: Request, db: Session, draw: Draw, what: str, *, sealed: bool) -> None:
    """Audit a view of a draw's list. A GET's session is a reader: the entry goes in its own short transaction on
    the writer engine (which takes SQLite's write lock first). A POST's session already is the writer."""
    if request.method not in {"GET", "HEAD"}:
        draws.record_view(db, actor=actor_of(request), draw=draw, what=what, sealed=sealed)
        db.commit()
        return
    with Session(request.app.state.writer_engine, expire_on_commit=False) as session:
        draws.record_view(session, actor=actor_of(request), draw=draw, what=what, sealed=sealed)
        session.commit()


def _xlsx(content: bytes, filename: str) -> Response[bytes]:
    return Response(
        content=content,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": content_disposition(filename), "Cache-Control": "no-store"},
    )


# --- the pool ---------------------------------------------------------------------------------------------------


class PoolController(Controller):
    path = "/pool"
    guards = [staff_only]

    @get("/", sync_to_thread=True)
    def index(
        self,
        request: Request,
        db: NamedDependency[Session],
        q: FromQuery[str] = "",
        specialty: FromQuery[str] = "",
        city: FromQuery[str] = "",
        status: FromQuery[str] = "",
        title: FromQuery[str] = "",
        page: FromQuery[str] = "1",
    ) -> Template:
        filters = {"q": q, "specialty": specialty, "city": city, "status": status, "title": title}
        result = paginate(db, profiles.search_query(**filters), page=parse_page(page), per_page=50)
        rows = [(e, p or profiles.PoolProfile(expert_id=e.id)) for e, p in result.items]
        context = {
            "page": result,
            "rows": rows,
            "export_url": "/pool/export.xlsx" + (f"?{request.url.query}" if request.url.query else ""),
            "filters": filters,
            "groups": INDUSTRY_GROUPS,
            "statuses": profiles.STATUSES,
            "specialties": profiles.specialties,
            "windows_text": profiles.windows_text,
            "cities": sorted({c for c in db.exec(select(Expert.city).distinct()) if c}),
        }
        if request.htmx and request.htmx.target == "pool-table":  # type: ignore[attr-defined]
            return render_block("pool/index.html", "table", **context)
        return render("pool/index.html", **context)

    @get("/export.xlsx", sync_to_thread=True)
    def export(
        self,
        db: NamedDependency[Session],
        q: FromQuery[str] = "",
        specialty: FromQuery[str] = "",
        city: FromQuery[str] = "",
        status: FromQuery[str] = "",
        title: FromQuery[str] = "",
    ) -> Response[bytes]:
        data = profiles.export_bytes(db, q=q, specialty=specialty, city=city, status=status, title=title)
        return _xlsx(data, f"评审专家库-{today_beijing().isoformat()}.xlsx")

    @get("/import", sync_to_thread=False)
    def import_form(self) -> Template:
        return render("pool/import.html", problems=[])

    @post("/import", sync_to_thread=True)
    def import_file(self, request: Request, db: NamedDependency[Session], data: MultipartData) -> Any:
        upload = data.get("file")
        content = upload.file.read(20 * 1024 * 1024) if upload is not None and hasattr(upload, "file") else b""
        if not content:
            return render("pool/import.html", problems=["请选择要导入的 Excel 文件（.xlsx）。"])
        result = profiles.import_profiles(db, actor=actor_of(request), data=content, today=today_beijing())
        if result.problems:
            db.rollback()
            return render("pool/import.html", problems=result.problems)
        db.commit()
        flash(request, f"已导入 {result.updated} 位专家的专家库信息。")
        return Redirect(path="/pool", status_code=303)

    @get("/settings", sync_to_thread=True)
    def settings_form(self, db: NamedDependency[Session]) -> Template:
        return render("pool/settings.html", **_settings_context(pool_settings.current(db), None, {}))

    @post("/settings", sync_to_thread=True)
    def save_settings(self, request: Request, db: NamedDependency[Session], data: FormData) -> Any:
        form = {k: _text(data, k) for k in ("suspend_below", "suspend_months")}
        try:
            pool_settings.save(db, actor=actor_of(request), **form, row_version=_int(data, "row_version", -1))
            db.commit()
        except ServiceError as exc:
            db.rollback()
            return render(
                "pool/settings.html",
                **_settings_context(pool_settings.current(db), form, {exc.field or "_": exc.message}),
            )
        flash(request, "已保存专家库规则。")
        return Redirect(path="/pool/settings", status_code=303)

    @get("/experts/{expert_id:int}", sync_to_thread=True)
    def profile(self, db: NamedDependency[Session], expert_id: FromPath[int]) -> Template:
        expert = profiles.get_expert(db, expert_id)
        profile = profiles.get_profile(db, expert_id)
        return render("pool/profile.html", **_profile_context(expert, profile, None, {}))

    @post("/experts/{expert_id:int}", sync_to_thread=True)
    def save_profile(
        self, request: Request, db: NamedDependency[Session], expert_id: FromPath[int], data: FormData
    ) -> Any:
        expert = profiles.get_expert(db, expert_id)
        values = {k: _text(data, k) for k in ("tags", "province", "availability", "status", "status_reason")}
        values["suspended_until"] = parse_date(_text(data, "suspended_until"))
        try:
            profiles.update_profile(
                db,
                actor=actor_of(request),
                expert_id=expert_id,
                values=values,
                row_version=_int(data, "row_version", 1),
                today=today_beijing(),
            )
            db.commit()
        except ServiceError as exc:
            db.rollback()
            errors = {exc.field or "_": exc.message}
            return render(
                "pool/profile.html", **_profile_context(expert, profiles.get_profile(db, expert_id), values, errors)
            )
        flash(request, f"已保存 {expert.name} 的专家库信息。")
        return Redirect(path="/pool", status_code=303)


def _settings_context(current: Any, form: dict[str, str] | None, errors: dict[str, str]) -> dict[str, Any]:
    form = form or {"suspend_below": fmt_points(current.suspend_below), "suspend_months": str(current.suspend_months)}
    return {"current": current, "form": form, "errors": errors, "max_months": pool_settings.MAX_MONTHS}


def _profile_context(
    expert: Expert, profile: Any, form: dict[str, Any] | None, errors: dict[str, str]
) -> dict[str, Any]:
    form = form or {
        "tags": "、".join(profiles.tags_of(profile)),
        "province": profile.province,
        "availability": profiles.windows_text(profile),
        "status": profile.status,
        "status_reason": profile.status_reason,
        "suspended_until": profile.suspended_until.isoformat() if profile.suspended_until else "",
    }
    if isinstance(form.get("suspended_until"), date):
        form["suspended_until"] = form["suspended_until"].isoformat()
    return {
        "expert": expert,
        "profile": profile,
        "form": form,
        "errors": errors,
        "statuses": {s: s for s in profiles.STATUSES},
        "industries": profiles.loads(expert.specialties_json),
    }


# --- the draw ---------------------------------------------------------------------------------------------------


def _conditions(data: dict[str, Any]) -> tuple[rules.Conditions | None, dict[str, str]]:
    errors: dict[str, str] = {}
    mix, problem = rules.parse_specialty_mix(_text(data, "specialty_mix"))
    if problem:
        errors["specialty_mix"] = problem
    review_date = None
    if _text(data, "review_date"):
        review_date = parse_date(_text(data, "review_date"))
        if review_date is None:
            errors["review_date"] = "评审日期格式不正确，如 2026-10-20。"
    excluded = tuple(x for x in profiles.split_tags(_text(data, "excluded_orgs")))
    cond = rules.Conditions(
        per_panel=_int(data, "per_panel", 0),
        backups=_int(data, "backups", 0),
        specialty_min=mix,
        max_per_org=_int(data, "max_per_org", 0),
        min_outside=_int(data, "min_outside", 0),
        home_province=_text(data, "home_province")[:32],
        recent_rounds=_int(data, "recent_rounds", 0),
        excluded_orgs=excluded,
        review_date=review_date,
    )
    for problem in cond.problems():
        errors.setdefault("_", problem)
    return (None if errors else cond), errors


DEFAULT_FORM = {
    "per_panel": "5",
    "backups": "2",
    "specialty_mix": "",
    "max_per_org": "1",
    "min_outside": "0",
    "home_province": "",
    "recent_rounds": "0",
    "excluded_orgs": "",
    "review_date": "",
    "seed": "",
    "seed_source": "",
    "redraw_reason": "",
}


class DrawController(Controller):
    path = "/pool/draws"
    guards = [staff_only]

    @get("/", sync_to_thread=True)
    def index(self, db: NamedDependency[Session]) -> Template:
        rounds = list(db.exec(select(Round).order_by(col(Round.year).desc(), col(Round.id).desc()).limit(50)))
        latest = {r.id: draws.current_draw(db, r.id) for r in rounds}
        return render("pool/draws.html", rounds=rounds, latest=latest, labels=DRAW_STATE_LABELS)

    def _round_page(
        self, request: Request, db: Session, round_id: int, form: dict[str, Any], errors: dict[str, str]
    ) -> Template:
        rnd = get_round(db, round_id)
        return render(
            "pool/round.html",
            rnd=rnd,
            draws=draws.round_draws(db, round_id),
            current=draws.current_draw(db, round_id),
            seq=draws.last_seq(db, round_id),
            supervisors=[u for u in draws.supervisors(db) if u.id != request.user.id],
            form=form,
            errors=errors,
            labels=DRAW_STATE_LABELS,
        )

    @get("/rounds/{round_id:int}", sync_to_thread=True)
    def round_draws(self, request: Request, db: NamedDependency[Session], round_id: FromPath[int]) -> Template:
        return self._round_page(request, db, round_id, dict(DEFAULT_FORM), {})

    @post("/rounds/{round_id:int}", sync_to_thread=True)
    def create(self, request: Request, db: NamedDependency[Session], round_id: FromPath[int], data: FormData) -> Any:
        form = {k: _text(data, k) for k in DEFAULT_FORM} | {"supervisor_id": _text(data, "supervisor_id")}
        cond, errors = _conditions(data)
        if cond is None:
            return self._round_page(request, db, round_id, form, errors)
        actor = actor_of(request)
        try:
            draw = draws.freeze(
                db,
                actor=actor,
                round_id=round_id,
                conditions=cond,
                supervisor_id=_int(data, "supervisor_id", 0),
                expected_seq=_int(data, "expected_seq", -1),
                today=today_beijing(),
                redraw_reason=form["redraw_reason"],
            )
            if form["seed"]:
                draws.run(
                    db,
                    actor=actor,
                    draw_id=draw.id,
                    seed=form["seed"],
                    seed_source=form["seed_source"],
                    row_version=draw.row_version,  # type: ignore[arg-type]
                )
            db.commit()
        except ServiceError as exc:
            db.rollback()
            return self._round_page(request, db, round_id, form, {exc.field or "_": exc.message})
        flash(
            request,
            f"已冻结候选名单（{draw.candidate_count} 人）"
            + ("并完成抽取。" if form["seed"] else "，请录入随机种子后抽取。"),
        )
        return Redirect(path=f"/pool/draws/{draw.id}", status_code=303)

    def _draw_page(self, request: Request, db: Session, draw: Draw, errors: dict[str, str] | None = None) -> Template:
        rnd = get_round(db, draw.round_id)
        visible = draws.names_visible(draw, rnd, request.user)
        _audit_view(request, db, draw, "结果页", sealed=not visible)
        context = draws.record_context(db, draw)
        return no_store(
            render(
                "pool/draw.html",
                rnd=rnd,
                visible=visible,
                errors=errors or {},
                labels=DRAW_STATE_LABELS,
                pick_labels=PICK_STATUS_LABELS,
                script=[line.format(round=rnd.name) for line in CALL_SCRIPT],
                is_drawer=request.user.id == draw.drawn_by,
                **context,
            )
        )

    @get("/{draw_id:int}", sync_to_thread=True)
    def show(self, request: Request, db: NamedDependency[Session], draw_id: FromPath[int]) -> Template:
        return self._draw_page(request, db, draws.get_draw(db, draw_id))

    @post("/{draw_id:int}/seed", sync_to_thread=True)
    def seed(self, request: Request, db: NamedDependency[Session], draw_id: FromPath[int], data: FormData) -> Any:
        try:
            draws.run(
                db,
                actor=actor_of(request),
                draw_id=draw_id,
                seed=_text(data, "seed"),
                seed_source=_text(data, "seed_source"),
                row_version=_int(data, "row_version"),
            )
            db.commit()
        except ServiceError as exc:
            db.rollback()
            return self._draw_page(request, db, draws.get_draw(db, draw_id), {exc.field or "_": exc.message})
        flash(request, "抽取完成。请通知抽中的专家确认是否参加。")
        return Redirect(path=f"/pool/draws/{draw_id}", status_code=303)

    @post("/picks/{pick_id:int}", sync_to_thread=True)
    def call_result(
        self, request: Request, db: NamedDependency[Session], pick_id: FromPath[int], data: FormData
    ) -> Any:
        pick = db.get(draws.DrawPick, pick_id)
        if pick is None:
            raise NotFound("未找到该抽取记录。")
        draw = draws.get_draw(db, pick.draw_id)
        if not draws.names_visible(draw, get_round(db, draw.round_id), request.user):
            raise NotFound("名单密封中，只有抽取人和监督人可以记录确认结果。")
        try:
            called = draws.respond(
                db,
                actor=actor_of(request),
                pick_id=pick_id,
                accept=_text(data, "answer") == "accept",
                reason=_text(data, "reason"),
                via="电话",
                call_note=_text(data, "call_note"),
            )
            db.commit()
        except ServiceError as exc:
            db.rollback()
            return self._draw_page(request, db, draw, {f"pick-{pick_id}": exc.message})
        if _text(data, "answer") != "accept":
            shortfall = "；".join(draws.panel_shortfalls(db, draw).get(pick.panel_id, []))
            words = "已记录不参加，已按顺序递补备选专家。" if called else "已记录不参加；备选专家已用完，请重新抽取。"
            if shortfall:
                words += f"递补后不满足抽取条件：{shortfall}。"
            flash(request, words, "success" if called and not shortfall else "warning")
        else:
            flash(request, "已记录同意参加。")
        return Redirect(path=f"/pool/draws/{draw.id}", status_code=303)

    @post("/{draw_id:int}/apply", sync_to_thread=True)
    def apply(self, request: Request, db: NamedDependency[Session], draw_id: FromPath[int], data: FormData) -> Any:
        try:
            draws.apply(
                db,
                actor=actor_of(request),
                draw_id=draw_id,
                row_version=_int(data, "row_version"),
                today=today_beijing(),
            )
            db.commit()
        except ServiceError as exc:
            db.rollback()
            return self._draw_page(request, db, draws.get_draw(db, draw_id), {"_": exc.message})
        flash(request, "抽取结果已写入专家组。")
        return Redirect(path=f"/pool/draws/{draw_id}", status_code=303)

    @get("/{draw_id:int}/record", sync_to_thread=True)
    def record(self, request: Request, db: NamedDependency[Session], draw_id: FromPath[int]) -> Template:
        draw = draws.get_draw(db, draw_id)
        rnd = get_round(db, draw.round_id)
        visible = draws.names_visible(draw, rnd, request.user)
        _audit_view(request, db, draw, "抽取记录表", sealed=not visible)
        return no_store(
            render(
                "pool/record.html",
                rnd=rnd,
                visible=visible,
                pick_labels=PICK_STATUS_LABELS,
                **draws.record_context(db, draw),
            )
        )

    @get("/{draw_id:int}/record.pdf", sync_to_thread=True)
    def record_pdf(self, request: Request, db: NamedDependency[Session], draw_id: FromPath[int]) -> Response[Any]:
        """The 抽取记录表 as a PDF through the documents registry, with names for the drawer and the supervisor."""
        from reviewapp.documents.registry import Target
        from reviewapp.documents.render import PDF_MEDIA_TYPE
        from reviewapp.documents.service import take_document

        draw = draws.get_draw(db, draw_id)
        rnd = get_round(db, draw.round_id)
        visible = draws.names_visible(draw, rnd, request.user)
        target = Target(draw.round_id, draw_id=draw.id, unsealed=visible)
        pdf = take_document(request.app.state.engine, actor=actor_of(request), key="draw-record", target=target)
        _audit_view(request, db, draw, "抽取记录表（PDF）", sealed=not visible)
        return Response(
            content=pdf.data,
            media_type=PDF_MEDIA_TYPE,
            headers={"Content-Disposition": content_disposition(pdf.filename), "Cache-Control": "no-store"},
        )

    @get("/{draw_id:int}/record.xlsx", sync_to_thread=True)
    def record_xlsx(self, request: Request, db: NamedDependency[Session], draw_id: FromPath[int]) -> Response[bytes]:
        draw = draws.get_draw(db, draw_id)
        rnd = get_round(db, draw.round_id)
        visible = draws.names_visible(draw, rnd, request.user)
        _audit_view(request, db, draw, "抽取记录表（Excel）", sealed=not visible)
        return _xlsx(record_workbook(db, draw, rnd, visible), f"专家抽取记录表-{rnd.name}-第{draw.seq}次.xlsx")


RECORD_COLUMNS = [
    Column("专家组", 18, wrap=True),
    Column("顺序", 6),
    Column("类别", 8),
    Column("姓名", 10),
    Column("工作单位", 28, wrap=True),
    Column("职称", 12),
    Column("确认结果", 10),
    Column("确认方式", 8),
    Column("说明", 30, wrap=True),
]


def record_workbook(db: Session, draw: Draw, rnd: Round, visible: bool) -> bytes:
    from openpyxl import Workbook

    ctx = draws.record_context(db, draw)
    experts = ctx["experts"]
    rows = []
    for _pid, name, picks in ctx["panels"]:
        for p in picks:
            e = experts.get(p.expert_id)
            rows.append(
                [
                    name,
                    p.position,
                    "正选" if p.role == "main" else "备选",
                    e.name if visible and e else "（密封）",
                    e.employer if visible and e else "",
                    e.title if visible and e else "",
                    PICK_STATUS_LABELS.get(p.status, p.status),
                    p.via,
                    "；".join(x for x in (p.reason, p.call_note) if x),
                ]
            )
    head = [
        f"评审批次：{rnd.name}    第 {draw.seq} 次抽取    状态：{DRAW_STATE_LABELS.get(draw.state, draw.state)}",
        "抽取条件：" + "；".join(ctx["conditions"]),
        f"随机种子：{draw.seed or '（待录入）'}    种子来源：{draw.seed_source or '工作人员录入'}",
        f"候选专家人数：{draw.candidate_count}    回避排除（人次）：{ctx['recused']}",
        f"候选名单 SHA-256：{draw.input_sha256}",
        f"抽取人：{draw.drawn_by_name}    监督人：{draw.supervisor_name}",
    ]
    if draw.redraw_reason:
        head.append(f"重新抽取原因：{draw.redraw_reason}")
    wb = Workbook()
    ws = wb.active
    ws.title = "抽取记录表"
    write_sheet(
        ws,
        title="评审专家抽取记录表",
        columns=RECORD_COLUMNS,
        rows=rows,
        head_lines=head,
        notes=["抽取人（签字）：____________    监督人（签字）：____________    日期：____________"],
    )
    return workbook_to_bytes(wb)


class DrawVerifyController(Controller):
    """Anyone signed in can recompute a draw from its frozen list and seed (no names are shown here)."""

    path = "/pool/verify"
    guards = [signed_in]

    @get("/{draw_id:int}", sync_to_thread=True)
    def verify(self, db: NamedDependency[Session], draw_id: FromPath[int]) -> Template:
        draw = draws.get_draw(db, draw_id)
        check = draws.verify(draw) if draw.seed else None
        return render("pool/verify.html", draw=draw, check=check, rnd=get_round(db, draw.round_id))

    @get("/{draw_id:int}/input.json", sync_to_thread=True)
    def input_json(self, db: NamedDependency[Session], draw_id: FromPath[int]) -> Response[str]:
        draw = draws.get_draw(db, draw_id)
        return Response(
            content=draw.input_json,
            media_type="application/json",
            headers={"Content-Disposition": content_disposition(f"draw-{draw.id}-input.json")},
        )


# --- the expert's side ------------------------------------------------------------------------------------------


class InvitationController(Controller):
    path = "/pool/invitations"
    guards = [require(Role.expert)]

    @get("/", sync_to_thread=True)
    def mine(self, request: Request, db: NamedDependency[Session]) -> Template:
        expert = expert_of_user(db, user_id=request.user.id)
        rows = draws.expert_invitations(db, expert_id=expert.id) if expert else []  # type: ignore[arg-type]
        return render("pool/invitations.html", rows=rows, labels=PICK_STATUS_LABELS)

    @post("/{pick_id:int}", sync_to_thread=True)
    def answer(self, request: Request, db: NamedDependency[Session], pick_id: FromPath[int], data: FormData) -> Any:
        expert = expert_of_user(db, user_id=request.user.id)
        if expert is None:
            raise NotFound()
        accept = _text(data, "answer") == "accept"
        try:
            draws.respond(
                db,
                actor=actor_of(request),
                pick_id=pick_id,
                accept=accept,
                reason=_text(data, "reason"),
                via="本人确认",
                as_expert_id=expert.id,
            )
            db.commit()
        except ServiceError as exc:
            db.rollback()
            flash(request, exc.message, "error")
            return Redirect(path="/", status_code=303)
        flash(request, "已确认参加，谢谢。" if accept else "已记录您不能参加，谢谢告知。")
        return Redirect(path="/", status_code=303)


# --- evaluation -------------------------------------------------------------------------------------------------


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
        values = {k: _text(data, k) for k, _l in rules.EVALUATION_ASPECTS} | {
            "note": _text(data, "note"),
            "undeclared_conflict": _text(data, "undeclared_conflict") == "1",
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
                        _int(data, "suspend_months", pool_settings.current(db).suspend_months),
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
