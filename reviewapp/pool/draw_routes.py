"""Pages of the draw (抽取): conditions, the sealed list and its audited views, confirmation and call results, the
draw record (printable and Excel) and its verification."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlmodel import Session, col, select

from reviewapp.auth.models import Role
from reviewapp.clock import today_beijing
from reviewapp.errors import NotFound, ServiceError
from reviewapp.excel import Column, content_disposition, workbook_to_bytes, write_sheet
from reviewapp.forms import form_int, form_text, parse_date
from reviewapp.panels.service import expert_of_user
from reviewapp.pool import draws, profiles, rules
from reviewapp.pool.models import DRAW_STATE_LABELS, PICK_STATUS_LABELS, Draw
from reviewapp.rounds.models import Round
from reviewapp.rounds.service import get_round
from reviewapp.web import (
    FormData,
    actor_of,
    flash,
    no_store,
    render,
    require,
    signed_in,
    staff_only,
    xlsx_response,
)

CALL_SCRIPT = (
    "您好，我是××省工业和信息化厅工作人员。您已被随机抽取为「{round}」评审专家。",
    "评审时间、地点另行通知；抽取结果在评审开始前保密，请勿向他人透露。",
    "请问您能否参加？如不能参加，请说明原因。",
    "请确认与本批次申报企业不存在需要回避的利害关系。",
)


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


def _conditions(data: dict[str, Any]) -> tuple[rules.Conditions | None, dict[str, str]]:
    errors: dict[str, str] = {}
    mix, problem = rules.parse_specialty_mix(form_text(data, "specialty_mix"))
    if problem:
        errors["specialty_mix"] = problem
    review_date = None
    if form_text(data, "review_date"):
        review_date = parse_date(form_text(data, "review_date"))
        if review_date is None:
            errors["review_date"] = "评审日期格式不正确，如 2026-10-20。"
    excluded = tuple(x for x in profiles.split_tags(form_text(data, "excluded_orgs")))
    cond = rules.Conditions(
        per_panel=form_int(form_text(data, "per_panel"), 0),
        backups=form_int(form_text(data, "backups"), 0),
        specialty_min=mix,
        max_per_org=form_int(form_text(data, "max_per_org"), 0),
        min_outside=form_int(form_text(data, "min_outside"), 0),
        home_province=form_text(data, "home_province")[:32],
        recent_rounds=form_int(form_text(data, "recent_rounds"), 0),
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
        form = {k: form_text(data, k) for k in DEFAULT_FORM} | {"supervisor_id": form_text(data, "supervisor_id")}
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
                supervisor_id=form_int(form_text(data, "supervisor_id"), 0),
                expected_seq=form_int(form_text(data, "expected_seq"), -1),
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
                seed=form_text(data, "seed"),
                seed_source=form_text(data, "seed_source"),
                row_version=form_int(form_text(data, "row_version"), 0),
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
                accept=form_text(data, "answer") == "accept",
                reason=form_text(data, "reason"),
                via="电话",
                call_note=form_text(data, "call_note"),
            )
            db.commit()
        except ServiceError as exc:
            db.rollback()
            return self._draw_page(request, db, draw, {f"pick-{pick_id}": exc.message})
        if form_text(data, "answer") != "accept":
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
                row_version=form_int(form_text(data, "row_version"), 0),
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
        return xlsx_response(f"专家抽取记录表-{rnd.name}-第{draw.seq}次.xlsx", record_workbook(db, draw, rnd, visible))


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
        accept = form_text(data, "answer") == "accept"
        try:
            draws.respond(
                db,
                actor=actor_of(request),
                pick_id=pick_id,
                accept=accept,
                reason=form_text(data, "reason"),
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
