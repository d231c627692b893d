"""Pages for the objection register (异议登记与核实): register, record, accept or refuse, verify, conclude, apply to
the list, close; the Excel register and the printable record (异议处理单). Staff only."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from reviewapp import clock
from reviewapp.auth.models import Role, User
from reviewapp.casework import service as casework
from reviewapp.errors import NotFound, ServiceError
from reviewapp.excel import XLSX_MEDIA_TYPE, Column, content_disposition, workbook_bytes
from reviewapp.files import ALLOWED_UPLOAD_TEXT, download_response
from reviewapp.forms import Field, validate
from reviewapp.objections import rules, service
from reviewapp.objections.models import OBJECTION_CHANNELS, Objection, ObjectorKind
from reviewapp.objections.rules import OBJECTION_WORKFLOW
from reviewapp.publicity.calendar import add_working_days
from reviewapp.web import (
    FormData,
    MultipartData,
    actor_of,
    checked_uploads,
    flash,
    form_fields,
    no_store,
    paginate,
    parse_page,
    render,
    render_block,
    settings_of,
    staff_only,
)

CHANNEL_CHOICES = {c: c for c in OBJECTION_CHANNELS}
KIND_CHOICES = {k.value: k.label for k in ObjectorKind}
FLAG_CHOICES = {"overdue": "逾期（企业说明超过期限）", "open": "办理中", "closed": "已办结或不予受理"}
MAX_FILES = 10
EXPORT_LIMIT = 100_000
OTHER_TARGET = "other"

OBJECTION_FIELDS = [
    Field("round_id", "评审批次", kind="int", min_value=1),
    Field("channel", "收到渠道", kind="choice", choices=OBJECTION_CHANNELS),
    Field("received_on", "收到日期", kind="date"),
    Field("objector_kind", "异议人类型", kind="choice", choices=tuple(KIND_CHOICES)),
    Field("objector_name", "异议人名称或姓名", required=False, max_length=200),
    Field("objector_contact", "联系方式", required=False, max_length=120),
    Field("objector_address", "通讯地址", required=False, max_length=300),
    Field("sealed_or_signed", "已加盖公章或本人签名", kind="bool", required=False),
    Field("target", "被异议项目", max_length=20),
    Field("target_name", "被异议单位名称", required=False, max_length=200),
    Field("content", "异议内容", kind="text", max_length=20000),
]

# The values each step's form collects besides the note and files (their kinds drive the template).
STEP_FIELDS: dict[str, list[Field]] = {
    "refuse": [Field("reply", "答复异议人", kind="text", required=False, max_length=2000)],
    "start": [
        Field("handlers", "承办人", kind="multi", required=False),
        Field("reply_deadline", "企业说明期限", kind="date", required=False),
    ],
    "conclude": [
        Field("conclusion", "核实结论", kind="choice", required=False, choices=tuple(rules.CONCLUSION_LABELS)),
        Field("findings", "核实情况（事实与依据）", kind="text", required=False, max_length=5000),
    ],
    "apply": [Field("outcome", "处理结果", kind="choice", required=False, choices=tuple(rules.OUTCOME_LABELS))],
    "close": [Field("reply", "答复异议人", kind="text", required=False, max_length=2000)],
    "record_explanation": [Field("explained_on", "企业说明日期", kind="date", required=False)],
    "onsite_check": [
        Field("checked_on", "现场核查日期", kind="date", required=False),
        Field("inspectors", "核查人员", required=False, max_length=200),
    ],
    "note": [],
}
STEP_COMMON = [
    Field("code", "办理操作", max_length=32),
    Field("note", "办理意见", kind="text", required=False, max_length=5000),
    Field("row_version", "版本号", kind="int", required=False, min_value=1),
]
# The note's label where a step gives it a particular meaning.
NOTE_LABELS = {
    "accept": "受理意见",
    "refuse": "不予受理理由",
    "apply": "处理说明（写入推荐名单的说明）",
    "record_explanation": "企业说明要点",
    "onsite_check": "核查情况",
    "note": "办理记录",
}
EVENT_ACTIONS = [*rules.EVENT_LABELS.items(), ("note", "添加办理记录")]  # what a handler records while verifying


def _today() -> date:
    return clock.today_beijing()


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _get(db: Session, objection_id: int) -> Objection:
    try:
        return service.get_objection(db, objection_id)
    except NotFound as exc:
        raise NotFoundException(exc.message) from exc


def _htmx_target(request: Request) -> str:
    return request.htmx.target if getattr(request, "htmx", None) else ""  # type: ignore[attr-defined]


def _step_defaults(today: date) -> dict[str, Any]:
    return {
        "reply_deadline": add_working_days(today, rules.DEFAULT_REPLY_WORKING_DAYS).isoformat(),
        "explained_on": today.isoformat(),
        "checked_on": today.isoformat(),
    }


def _flags(o: Objection, today: date) -> list[rules.Alert]:
    return rules.objection_flags(
        state=o.state, reply_deadline=o.reply_deadline, explained_on=o.explained_on, today=today
    )


def _context(request: Request, db: Session, objection: Objection, **extra: Any) -> dict[str, Any]:
    today = _today()
    user: User = request.user
    is_handler = service.is_objection_handler(db, objection_id=objection.id, user_id=user.id)  # type: ignore[arg-type]
    steps = casework.case_steps(db, case_type=OBJECTION_WORKFLOW.name, case_id=objection.id)  # type: ignore[arg-type]
    handlers = casework.handlers(db, case_type=OBJECTION_WORKFLOW.name, case_id=objection.id)  # type: ignore[arg-type]
    facts = service.case_facts(db, objection)
    proposal = rules.propose(facts.checks) if objection.state == OBJECTION_WORKFLOW.initial else None
    defaults = _step_defaults(today)
    if proposal is not None and not proposal.accept:
        defaults["refuse_note"] = proposal.refusal_text  # the standard reasons, for staff to confirm or edit
    open_case = objection.state not in OBJECTION_WORKFLOW.final_states
    events = [
        (code, label)
        for code, label in EVENT_ACTIONS
        if is_handler and (objection.state in rules.EVENT_STATES[code] if code in rules.EVENT_STATES else open_case)
    ]
    context = {
        "o": objection,
        "round_name": service.round_names(db, [objection.round_id]).get(objection.round_id, ""),
        "period": service.period_of(db, objection.round_id),
        "workflow": OBJECTION_WORKFLOW,
        "is_handler": is_handler,
        "can_reassign": bool(handlers) and (is_handler or user.role == Role.admin.value),
        "checks": list(facts.checks),
        "proposal": proposal,
        "offered": OBJECTION_WORKFLOW.offered(objection.state, is_handler=is_handler, case=facts, today=today),
        "waiting": OBJECTION_WORKFLOW.waiting(objection.state, is_handler=is_handler, case=facts, today=today),
        "events": events,
        "flags": _flags(objection, today),
        "steps": steps,
        "step_files": casework.step_files(db, [s.id for s in steps]),  # type: ignore[misc]
        "step_label": lambda s: casework.step_label(OBJECTION_WORKFLOW, s),
        "file_url": lambda f: f"/objections/{objection.id}/files/{f.id}",
        "evidence": service.objection_files(db, objection.id),  # type: ignore[arg-type]
        "handlers": handlers,
        "handler_choices": casework.handler_choices(db),
        "step_fields": STEP_FIELDS,
        "note_labels": NOTE_LABELS,
        "event_requires": rules.EVENT_REQUIRES,
        "choice_labels": {
            "conclusion": rules.CONCLUSION_LABELS,
            "outcome": {  # only what the conclusion allows
                k: v
                for k, v in rules.OUTCOME_LABELS.items()
                if k in rules.ALLOWED_OUTCOMES.get(objection.conclusion, ())
            },
        },
        "identity": None,
        "identity_error": "",
        "step_values": defaults,
        "open_step": "",
        "errors": {},
        "error": "",
        "confidential": service.CONFIDENTIAL,
        "conclusions": rules.CONCLUSION_LABELS,
        "outcomes": rules.OUTCOME_LABELS,
        "today": today,
    }
    context.update(extra)
    return context


def _form_context(db: Session, form: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    round_id = _int_or_none(form.get("round_id"))
    return {
        "form": form,
        "errors": errors,
        "rounds": service.publicity_rounds(db),
        "targets": service.list_targets(db, round_id) if round_id else [],
        "channels": CHANNEL_CHOICES,
        "kinds": KIND_CHOICES,
        "allowed": ALLOWED_UPLOAD_TEXT,
        "other_target": OTHER_TARGET,
    }


class ObjectionController(Controller):
    path = "/objections"
    guards = [staff_only]

    @get("/", sync_to_thread=True)
    def register(
        self,
        request: Request,
        db: NamedDependency[Session],
        q: FromQuery[str] = "",
        round_id: FromQuery[str] = "",
        status: FromQuery[str] = "",
        channel: FromQuery[str] = "",
        flag: FromQuery[str] = "",
        mine: FromQuery[str] = "",
        page: FromQuery[str] = "1",
    ) -> Template:
        today = _today()
        rounds = service.publicity_rounds(db)
        round_choice = _int_or_none(round_id)
        filters = {
            "q": q[:64],
            "round_id": str(round_choice) if round_choice and any(r.id == round_choice for r, _p in rounds) else "",
            "status": status if status in OBJECTION_WORKFLOW.states else "",
            "channel": channel if channel in CHANNEL_CHOICES else "",
            "flag": flag if flag in FLAG_CHOICES else "",
            "mine": "1" if mine else "",
        }
        stmt = service.objections_query(
            today=today,
            q=filters["q"],
            round_id=_int_or_none(filters["round_id"]),
            state=filters["status"],
            channel=filters["channel"],
            flag=filters["flag"],
            handler_id=request.user.id if filters["mine"] else None,
        )
        result = paginate(db, stmt, page=parse_page(page), per_page=30)
        context = {
            "page": result,
            "filters": filters,
            "rounds": rounds,
            "round_names": service.round_names(db, sorted({o.round_id for o in result.items})),
            "states": OBJECTION_WORKFLOW.states,
            "channels": CHANNEL_CHOICES,
            "flags_choices": FLAG_CHOICES,
            "handler_names": {
                o.id: [u.display_name for u in casework.handlers(db, case_type=OBJECTION_WORKFLOW.name, case_id=o.id)]  # type: ignore[arg-type]
                for o in result.items
            },
            "flags": lambda o: _flags(o, today),
            "conclusions": rules.CONCLUSION_LABELS,
            "outcomes": rules.OUTCOME_LABELS,
            "overdue_count": paginate(
                db, service.objections_query(today=today, flag="overdue"), page=1, per_page=1
            ).total,
        }
        if _htmx_target(request) == "objection-table":
            return render_block("objections/list.html", "table", **context)
        return render("objections/list.html", **context)

    @get("/export.xlsx", sync_to_thread=True)
    def export(
        self,
        db: NamedDependency[Session],
        q: FromQuery[str] = "",
        round_id: FromQuery[str] = "",
        status: FromQuery[str] = "",
        channel: FromQuery[str] = "",
        flag: FromQuery[str] = "",
    ) -> Response[bytes]:
        """The register without objectors' identities: a file leaves the access control and the audit of identity
        views behind, so no export carries them (handlers read them on the objection's page)."""
        today = _today()
        stmt = service.objections_query(
            today=today,
            q=q[:64],
            round_id=_int_or_none(round_id),
            state=status if status in OBJECTION_WORKFLOW.states else "",
            channel=channel if channel in CHANNEL_CHOICES else "",
            flag=flag if flag in FLAG_CHOICES else "",
        )
        items = list(db.exec(stmt.limit(EXPORT_LIMIT)))
        names = service.round_names(db, sorted({o.round_id for o in items}))
        rows = [
            [
                i,
                o.number,
                names.get(o.round_id, ""),
                o.received_on.isoformat(),
                o.channel,
                o.kind_label,
                "是" if o.sealed_or_signed else "否",
                o.target_name,
                o.target_factory,
                OBJECTION_WORKFLOW.label(o.state),
                rules.CONCLUSION_LABELS.get(o.conclusion, ""),
                rules.OUTCOME_LABELS.get(o.outcome, ""),
                o.reply_deadline.isoformat() if o.reply_deadline else "",
                "；".join(f.label for f in _flags(o, today)),
                o.closed_on.isoformat() if o.closed_on else "",
                o.content,
            ]
            for i, o in enumerate(items, start=1)
        ]
        data = workbook_bytes(
            title="异议登记簿",
            columns=[
                Column("序号", 6),
                Column("异议编号", 16),
                Column("评审批次", 24, wrap=True),
                Column("收到日期", 12),
                Column("渠道", 8),
                Column("异议人类型", 10),
                Column("盖章或签名", 10),
                Column("被异议单位", 28, wrap=True),
                Column("工厂名称", 24, wrap=True),
                Column("状态", 12),
                Column("核实结论", 10),
                Column("处理结果", 16, wrap=True),
                Column("企业说明期限", 12),
                Column("期限提示", 24, wrap=True),
                Column("办结日期", 12),
                Column("异议内容", 60, wrap=True),
            ],
            rows=rows,
        )
        return Response(
            content=data,
            media_type=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": content_disposition("异议登记簿.xlsx")},
        )

    @get("/new", sync_to_thread=True)
    def new(self, request: Request, db: NamedDependency[Session], round_id: FromQuery[str] = "") -> Template:
        rounds = service.publicity_rounds(db)
        chosen = _int_or_none(round_id) or (rounds[0][0].id if len(rounds) == 1 else None)
        form = {"received_on": _today().isoformat(), "round_id": str(chosen or ""), "objector_kind": "unit"}
        if _htmx_target(request) == "target-picker":
            return render_block("objections/form.html", "targets", **_form_context(db, form, {}))
        return render("objections/form.html", **_form_context(db, form, {}))

    @post("/", sync_to_thread=True)
    def create(self, request: Request, db: NamedDependency[Session], data: MultipartData) -> Any:
        settings = settings_of(request)
        form = validate(form_fields(data), OBJECTION_FIELDS)
        uploads, problem = checked_uploads(data, max_bytes=settings.upload_max_mb * 1024 * 1024, max_count=MAX_FILES)
        if problem:
            form.add_error("files", problem)
        if form.ok:
            v = form.values
            target = v["target"]
            application_id = None if target == OTHER_TARGET else _int_or_none(target)
            if target != OTHER_TARGET and application_id is None:
                form.add_error("target", "请选择被异议的项目。")
        if form.ok:
            try:
                objection = service.create_objection(
                    db,
                    actor=actor_of(request),
                    settings=settings,
                    round_id=v["round_id"],
                    application_id=application_id,
                    target_name=v["target_name"] or "",
                    channel=v["channel"],
                    received_on=v["received_on"],
                    objector_kind=v["objector_kind"],
                    objector_name=v["objector_name"] or "",
                    objector_contact=v["objector_contact"] or "",
                    objector_address=v["objector_address"] or "",
                    sealed_or_signed=bool(v["sealed_or_signed"]),
                    content=v["content"],
                    uploads=uploads,
                    today=_today(),
                )
                db.commit()
                flash(request, f"已登记异议 {objection.number}。请核对受理条件，决定受理或不予受理。")
                return Redirect(path=f"/objections/{objection.id}", status_code=303)
            except NotFound as exc:
                db.rollback()
                form.add_error("round_id", exc.message)
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "_form", exc.message)
        return no_store(render("objections/form.html", **_form_context(db, form.raw, form.errors)))

    @get("/{objection_id:int}", sync_to_thread=True)
    def show(self, request: Request, db: NamedDependency[Session], objection_id: FromPath[int]) -> Template:
        return render("objections/detail.html", **_context(request, db, _get(db, objection_id)))

    @get("/{objection_id:int}/print", sync_to_thread=True)
    def print_record(self, request: Request, db: NamedDependency[Session], objection_id: FromPath[int]) -> Template:
        """异议处理单: the record with its trail and signature lines, for the file (the identity stays confidential)."""
        objection = _get(db, objection_id)
        return render("objections/print.html", **_context(request, db, objection))

    @post("/{objection_id:int}/identity", sync_to_thread=True)
    def identity(self, request: Request, db: NamedDependency[Session], objection_id: FromPath[int]) -> Template:
        objection = _get(db, objection_id)
        try:
            identity = service.reveal_identity(db, actor=actor_of(request), objection_id=objection.id)  # type: ignore[arg-type]
            db.commit()
            error = ""
        except ServiceError as exc:
            db.rollback()
            identity, error = None, exc.message
        if _htmx_target(request) == "objector-identity":
            return no_store(
                render_block(
                    "objections/detail.html",
                    "identity",
                    o=objection,
                    identity=identity,
                    identity_error=error,
                    is_handler=identity is not None,
                    confidential=service.CONFIDENTIAL,
                )
            )
        return no_store(
            render(
                "objections/detail.html", **_context(request, db, objection, identity=identity, identity_error=error)
            )
        )

    def _step_error(
        self, request: Request, db: Session, objection_id: int, code: str, raw: dict[str, Any], errors: dict[str, str]
    ) -> Template:
        db.expire_all()
        objection = _get(db, objection_id)
        error = errors.get("_form") or next(iter(errors.values()))
        return render(
            "objections/detail.html",
            **_context(
                request,
                db,
                objection,
                step_values={**_step_defaults(_today()), **raw},
                open_step=code,
                errors=errors,
                error=error,
            ),
        )

    @post("/{objection_id:int}/steps", sync_to_thread=True)
    def step(
        self, request: Request, db: NamedDependency[Session], objection_id: FromPath[int], data: MultipartData
    ) -> Any:
        """A transition (受理, 不予受理, 开始核实, 结论, 处理, 办结) or an event while verifying (企业说明, 现场核查, 办理记录)."""
        settings = settings_of(request)
        values = form_fields(data)
        code = str(values.get("code") or "")
        form = validate(values, [*STEP_COMMON, *STEP_FIELDS.get(code, [])])
        uploads, problem = checked_uploads(data, max_bytes=settings.upload_max_mb * 1024 * 1024, max_count=MAX_FILES)
        if problem:
            form.add_error("files", problem)
        is_event = code in rules.EVENT_LABELS or code == "note"
        if form.ok and not is_event and form.values.get("row_version") is None:
            form.add_error("_form", "表单已过期，请刷新页面后重试。")
        if form.ok:
            v = form.values
            if code == "start":
                v["handlers"] = [i for i in (_int_or_none(x) for x in v.get("handlers") or []) if i]
            try:
                common = {
                    "actor": actor_of(request),
                    "settings": settings,
                    "objection_id": objection_id,
                    "code": code,
                    "note": v.get("note") or "",
                    "values": v,
                    "uploads": uploads,
                    "today": _today(),
                }
                if is_event:
                    service.record_event(db, **common)
                else:
                    service.take_step(db, row_version=v["row_version"], **common)
                db.commit()
                transition = OBJECTION_WORKFLOW.transition(code)
                label = transition.label if transition else dict(EVENT_ACTIONS).get(code, code)
                flash(request, f"已办理：{label}。")
                return Redirect(path=f"/objections/{objection_id}", status_code=303)
            except NotFound as exc:
                db.rollback()
                raise NotFoundException(exc.message) from exc
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "_form", exc.message)
        return self._step_error(request, db, objection_id, code, form.raw, form.errors)

    @post("/{objection_id:int}/handlers", sync_to_thread=True)
    def handlers(
        self, request: Request, db: NamedDependency[Session], objection_id: FromPath[int], data: FormData
    ) -> Redirect:
        form = validate(
            data, [Field("handlers", "承办人", kind="multi"), Field("note", "说明", kind="text", required=False)]
        )
        if not form.ok:
            flash(request, next(iter(form.errors.values())), "error")
            return Redirect(path=f"/objections/{objection_id}", status_code=303)
        try:
            service.reassign(
                db,
                actor=actor_of(request),
                actor_role=request.user.role,
                objection_id=objection_id,
                user_ids=[i for i in (_int_or_none(x) for x in form.values["handlers"]) if i],
                note=form.values["note"] or "",
            )
            db.commit()
            flash(request, "已更换承办人。")
        except NotFound as exc:
            raise NotFoundException(exc.message) from exc
        except ServiceError as exc:
            db.rollback()
            flash(request, exc.message, "error")
        return Redirect(path=f"/objections/{objection_id}", status_code=303)

    @get("/{objection_id:int}/files/{file_id:int}", sync_to_thread=True)
    def download(
        self, request: Request, db: NamedDependency[Session], objection_id: FromPath[int], file_id: FromPath[int]
    ) -> Response[bytes]:
        try:
            stored = service.objection_file(db, objection_id=objection_id, file_id=file_id)
        except NotFound as exc:
            raise NotFoundException(exc.message) from exc
        return download_response(request, stored, missing="文件已不在存储中，请联系系统管理员。")
