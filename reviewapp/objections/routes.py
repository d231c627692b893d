"""Pages for the objection register (异议登记与核实): register, record, accept or refuse, verify, conclude, apply to
the list, close; the Excel register and the printable record (异议处理单). Staff only."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlmodel import Session

from reviewapp import clock
from reviewapp.audit import Actor
from reviewapp.casework.routes import CaseworkController, case_page
from reviewapp.excel import Column
from reviewapp.files import ALLOWED_UPLOAD_TEXT
from reviewapp.forms import Field, FormResult, validate
from reviewapp.objections import rules, service
from reviewapp.objections.models import OBJECTION_CHANNELS, Objection, ObjectorKind
from reviewapp.objections.rules import OBJECTION_WORKFLOW
from reviewapp.publicity.calendar import add_working_days
from reviewapp.web import (
    MultipartData,
    actor_of,
    form_fields,
    htmx_target,
    int_or_none,
    no_store,
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
    today = clock.today_beijing()
    facts = service.case_facts(db, objection)
    page = case_page(request, db, service.OBJECTION_KIND, objection, base_url="/objections", facts=facts, today=today)
    is_handler = page["is_handler"]
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
        **page,
        "o": objection,
        "round_name": service.round_names(db, [objection.round_id]).get(objection.round_id, ""),
        "period": service.period_of(db, objection.round_id),
        "checks": list(facts.checks),
        "proposal": proposal,
        "events": events,
        "flags": _flags(objection, today),
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
        "step_values": defaults,
        "conclusions": rules.CONCLUSION_LABELS,
        "outcomes": rules.OUTCOME_LABELS,
    }
    context.update(extra)
    return context


def _form_context(db: Session, form: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    round_id = int_or_none(form.get("round_id"))
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


EXPORT_COLUMNS = [
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
]


def _is_event(code: str) -> bool:
    return code in rules.EVENT_LABELS or code == "note"


class ObjectionController(CaseworkController):
    path = "/objections"
    guards = [staff_only]
    kind = service.OBJECTION_KIND
    detail_template = "objections/detail.html"
    identity_target = "objector-identity"
    case_key = "o"
    step_fields = STEP_FIELDS
    step_common = STEP_COMMON
    max_files = MAX_FILES
    list_template = "objections/list.html"
    table_target = "objection-table"
    channel_choices = CHANNEL_CHOICES
    flag_choices = FLAG_CHOICES
    export_title = "异议登记簿"
    export_columns = EXPORT_COLUMNS

    @get("/new", sync_to_thread=True)
    def new(self, request: Request, db: NamedDependency[Session], round_id: FromQuery[str] = "") -> Template:
        rounds = service.publicity_rounds(db)
        chosen = int_or_none(round_id) or (rounds[0][0].id if len(rounds) == 1 else None)
        form = {
            "received_on": clock.today_beijing().isoformat(),
            "round_id": str(chosen or ""),
            "objector_kind": "unit",
        }
        if htmx_target(request) == "target-picker":
            return render_block("objections/form.html", "targets", **_form_context(db, form, {}))
        return render("objections/form.html", **_form_context(db, form, {}))

    @post("/", sync_to_thread=True)
    def create(self, request: Request, db: NamedDependency[Session], data: MultipartData) -> Any:
        form = validate(form_fields(data), OBJECTION_FIELDS)
        uploads = self.uploads_of(request, data, form)
        if form.ok:
            v = form.values
            target = v["target"]
            application_id = None if target == OTHER_TARGET else int_or_none(target)
            if target != OTHER_TARGET and application_id is None:
                form.add_error("target", "请选择被异议的项目。")
        if form.ok:
            done = self.register_case(
                request,
                db,
                form,
                lambda: service.create_objection(
                    db,
                    actor=actor_of(request),
                    settings=settings_of(request),
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
                    today=clock.today_beijing(),
                ),
                message="已登记异议 {number}。请核对受理条件，决定受理或不予受理。",
                not_found_field="round_id",
            )
            if done is not None:
                return done
        return no_store(render("objections/form.html", **_form_context(db, form.raw, form.errors)))

    @get("/{objection_id:int}/print", sync_to_thread=True)
    def print_record(self, request: Request, db: NamedDependency[Session], objection_id: FromPath[int]) -> Template:
        """异议处理单: the record with its trail and signature lines, for the file (the identity stays confidential)."""
        objection = self.get_case(db, objection_id)
        return render("objections/print.html", **_context(request, db, objection))

    # --- the casework hooks ---------------------------------------------------------------------------

    def own_filters(self, db: Session, params: Any, *, export: bool) -> dict[str, str]:
        round_choice = int_or_none(params.get("round_id"))
        if not export and not any(r.id == round_choice for r, _p in service.publicity_rounds(db)):
            round_choice = None
        return {"round_id": str(round_choice) if round_choice else ""}

    def query(self, today: date, filters: dict[str, str], handler_id: int | None = None) -> Any:
        return service.objections_query(
            today=today,
            q=filters.get("q", ""),
            round_id=int_or_none(filters.get("round_id")),
            state=filters.get("status", ""),
            channel=filters.get("channel", ""),
            flag=filters.get("flag", ""),
            handler_id=handler_id,
        )

    def case_flags(self, case: Any, today: date) -> list[Any]:
        return _flags(case, today)

    def list_extra(self, db: Session, items: list[Any]) -> dict[str, Any]:
        return {
            "rounds": service.publicity_rounds(db),
            "round_names": service.round_names(db, sorted({o.round_id for o in items})),
            "conclusions": rules.CONCLUSION_LABELS,
            "outcomes": rules.OUTCOME_LABELS,
        }

    def export_rows(self, db: Session, items: list[Any], today: date) -> list[list[Any]]:
        names = service.round_names(db, sorted({o.round_id for o in items}))
        return [
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

    def context(self, request: Request, db: Session, case: Any, **extra: Any) -> dict[str, Any]:
        return _context(request, db, case, **extra)

    def step_defaults(self, today: date) -> dict[str, Any]:
        return _step_defaults(today)

    def check_step_form(self, code: str, form: FormResult) -> None:
        if form.ok and not _is_event(code) and form.values.get("row_version") is None:
            form.add_error("_form", "表单已过期，请刷新页面后重试。")

    def step_label(self, code: str) -> str:
        transition = OBJECTION_WORKFLOW.transition(code)
        return transition.label if transition else dict(EVENT_ACTIONS).get(code, code)

    def take_step(
        self, request: Request, db: Session, *, case_id: int, code: str, values: dict[str, Any], uploads: list[Any]
    ) -> None:
        """A transition (受理, 不予受理, 开始核实, 结论, 处理, 办结) or an event while verifying (企业说明, 现场核查, 办理记录)."""
        common = {
            "actor": actor_of(request),
            "settings": settings_of(request),
            "objection_id": case_id,
            "code": code,
            "note": values.get("note") or "",
            "values": values,
            "uploads": uploads,
            "today": clock.today_beijing(),
        }
        if _is_event(code):
            service.record_event(db, **common)
        else:
            service.take_step(db, row_version=values["row_version"], **common)

    def reveal(self, db: Session, actor: Actor, case_id: int) -> Any:
        return service.reveal_identity(db, actor=actor, objection_id=case_id)
