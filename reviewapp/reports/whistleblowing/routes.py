"""Pages for whistle-blower reports (举报核查): the register, recording, and the casework endpoints."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from reviewapp import clock
from reviewapp.applications.models import Application, Enterprise
from reviewapp.audit import Actor
from reviewapp.casework.routes import CaseworkController, case_page
from reviewapp.errors import NotFound, ServiceError
from reviewapp.excel import Column
from reviewapp.files import ALLOWED_UPLOAD_TEXT
from reviewapp.forms import Field, validate
from reviewapp.publicity.calendar import add_working_days
from reviewapp.reports import rules
from reviewapp.reports.models import (
    REPORT_CHANNELS,
    REVOCATION_REASON_LABELS,
    Certification,
    Report,
    ReportSource,
    Revocation,
)
from reviewapp.reports.rules import REPORT_WORKFLOW
from reviewapp.reports.whistleblowing import service
from reviewapp.web import (
    FormData,
    MultipartData,
    actor_of,
    flash,
    int_or_none,
    render,
    render_block,
    settings_of,
    staff_only,
)
from reviewapp.web import form_fields as _form_values

REASON_CHOICES = {r.value: label for r, label in REVOCATION_REASON_LABELS.items()}
CHANNEL_CHOICES = {c: c for c in REPORT_CHANNELS}
REPORT_FLAG_CHOICES = {"overdue": "逾期（须催办或作结论）", "open": "办理中", "closed": "已办结或不予受理"}
STAFF_MAX_FILES = 10
EXPORT_LIMIT = 100_000


# --- reports (staff) ------------------------------------------------------------------------------

REPORT_FIELDS = [
    Field("channel", "举报渠道", kind="choice", choices=REPORT_CHANNELS),
    Field("received_on", "收到日期", kind="date"),
    Field("target", "被举报对象", required=False, max_length=20),
    Field("target_name", "被举报单位名称", required=False, max_length=200),
    Field("target_factory", "工厂名称", required=False, max_length=200),
    Field("content", "举报内容", kind="text", max_length=20000),
    Field("reporter_name", "举报人姓名", required=False, max_length=64),
    Field("reporter_contact", "联系方式", required=False, max_length=120),
]

# The values each transition's form collects besides the note and files (their kinds drive the template).
STEP_FIELDS: dict[str, list[Field]] = {
    "refuse": [Field("public_reply", "答复举报人", kind="text", required=False, max_length=2000)],
    "start": [
        Field("handlers", "承办人", kind="multi", required=False),
        Field("reply_deadline", "单位答复期限", kind="date", required=False),
    ],
    "record_reply": [Field("replied_on", "单位答复日期", kind="date", required=False)],
    "conclude_rectify": [Field("rectify_deadline", "整改期限", kind="date", required=False)],
    "conclude_revoke": [
        Field("reason_category", "取消认定理由类别", kind="choice", required=False, choices=tuple(REASON_CHOICES)),
        Field("revoked_on", "取消认定日期", kind="date", required=False),
        Field("banned_until", "禁止申报至", kind="date", required=False),
    ],
    "close": [Field("public_reply", "答复举报人", kind="text", required=False, max_length=2000)],
}
STEP_COMMON = [
    Field("code", "办理操作", max_length=32),
    Field("note", "办理意见", kind="text", required=False, max_length=5000),
    Field("row_version", "版本号", kind="int", min_value=1),
]


def _parse_target(text: str) -> tuple[int | None, int | None]:
    """ "c:12" → certification 12, "a:7" → application 7."""
    kind, _, raw = (text or "").partition(":")
    row_id = int_or_none(raw)
    if kind == "c" and row_id:
        return row_id, None
    if kind == "a" and row_id:
        return None, row_id
    return None, None


def _target_choice(db: Session, text: str) -> dict[str, str] | None:
    """The chosen target's value and label, to show it selected when a form comes back."""
    cert_id, app_id = _parse_target(text)
    if cert_id:
        cert = db.get(Certification, cert_id)
        if cert:
            enterprise = db.get(Enterprise, cert.enterprise_id)
            return {"value": f"c:{cert.id}", "label": service.Target("certification", cert, None, enterprise).label}
    if app_id:
        app = db.get(Application, app_id)
        if app:
            enterprise = db.get(Enterprise, app.enterprise_id)
            return {"value": f"a:{app.id}", "label": service.Target("application", None, app, enterprise).label}
    return None


def _step_defaults(today: date) -> dict[str, str]:
    return {
        "reply_deadline": add_working_days(today, rules.DEFAULT_REPLY_WORKING_DAYS).isoformat(),
        "rectify_deadline": (today + timedelta(days=rules.DEFAULT_RECTIFY_DAYS)).isoformat(),
        "revoked_on": today.isoformat(),
        "replied_on": today.isoformat(),
    }


def _report_context(request: Request, db: Session, report: Report, **extra: Any) -> dict[str, Any]:
    today = clock.today_beijing()
    page = case_page(request, db, service.REPORT_KIND, report, base_url="/reports", facts=report, today=today)
    is_handler = page["is_handler"]
    revocation = db.get(Revocation, report.revocation_id) if report.revocation_id else None
    context = {
        **page,
        "report": report,
        "target": service.report_target(db, report),
        "can_link": report.state in {"registered", "accepted"}
        or (is_handler and report.state in {"verifying", "replied", "no_reply"}),
        "flags": _flags(report, today),
        "step_fields": STEP_FIELDS,
        "reasons": REASON_CHOICES,
        "revocation": revocation,
        "step_form": _step_defaults(today),
        "ban_minimum": rules.ban_until(today),
        "sources": {s.value: s.label for s in ReportSource},
        "conclusions": rules.CONCLUSION_LABELS,
    }
    context.update(extra)
    return context


EXPORT_COLUMNS = [
    Column("序号", 6),
    Column("举报编号", 16),
    Column("收到日期", 12),
    Column("渠道", 8),
    Column("来源", 12),
    Column("被举报单位", 28, wrap=True),
    Column("工厂名称", 24, wrap=True),
    Column("对象", 8),
    Column("状态", 16),
    Column("结论", 10),
    Column("答复期限", 12),
    Column("整改期限", 12),
    Column("期限提示", 24, wrap=True),
    Column("办结日期", 12),
    Column("举报内容", 60, wrap=True),
]


def _flags(r: Report, today: date) -> list[rules.Alert]:
    return rules.report_flags(
        state=r.state, reply_deadline=r.reply_deadline, rectify_deadline=r.rectify_deadline, today=today
    )


class ReportController(CaseworkController):
    path = "/reports"
    guards = [staff_only]
    kind = service.REPORT_KIND
    detail_template = "reports/detail.html"
    identity_target = "reporter-identity"
    case_key = "report"
    step_values_key = "step_form"
    step_fields = STEP_FIELDS
    step_common = STEP_COMMON
    max_files = STAFF_MAX_FILES
    list_template = "reports/list.html"
    table_target = "report-table"
    channel_choices = CHANNEL_CHOICES
    flag_choices = REPORT_FLAG_CHOICES
    export_title = "举报登记簿"
    export_columns = EXPORT_COLUMNS

    @get("/new", sync_to_thread=True)
    def new(self, db: NamedDependency[Session], target: FromQuery[str] = "") -> Template:
        form = {"received_on": clock.today_beijing().isoformat(), "target": target}
        return render(
            "reports/form.html",
            form=form,
            errors={},
            channels=CHANNEL_CHOICES,
            chosen=_target_choice(db, target),
            allowed=ALLOWED_UPLOAD_TEXT,
        )

    @get("/targets", sync_to_thread=True)
    def targets(self, db: NamedDependency[Session], q: FromQuery[str] = "") -> Template:
        certs, apps = service.search_targets(db, q)
        return render_block(
            "reports/form.html", "targets", certs=certs, apps=apps, q=q[:100], form={}, Target=service.Target
        )

    @post("/", sync_to_thread=True)
    def create(self, request: Request, db: NamedDependency[Session], data: MultipartData) -> Any:
        form = validate(_form_values(data), REPORT_FIELDS)
        uploads = self.uploads_of(request, data, form)
        if form.ok:
            cert_id, app_id = _parse_target(form.values["target"])
            v = form.values
            done = self.register_case(
                request,
                db,
                form,
                lambda: service.create_report(
                    db,
                    actor=actor_of(request),
                    settings=settings_of(request),
                    channel=v["channel"],
                    received_on=v["received_on"],
                    certification_id=cert_id,
                    application_id=app_id,
                    target_name=v["target_name"],
                    target_factory=v["target_factory"],
                    content=v["content"],
                    reporter_name=v["reporter_name"],
                    reporter_contact=v["reporter_contact"],
                    uploads=uploads,
                    today=clock.today_beijing(),
                ),
                message="已登记举报 {number}。",
            )
            if done is not None:
                return done
        return render(
            "reports/form.html",
            form=form.raw,
            errors=form.errors,
            channels=CHANNEL_CHOICES,
            chosen=_target_choice(db, str(form.raw.get("target") or "")),
            allowed=ALLOWED_UPLOAD_TEXT,
        )

    @post("/{report_id:int}/notes", sync_to_thread=True)
    def note(
        self, request: Request, db: NamedDependency[Session], report_id: FromPath[int], data: MultipartData
    ) -> Any:
        form = validate(_form_values(data), [Field("note", "办理记录", kind="text", max_length=5000)])
        uploads = self.uploads_of(request, data, form)
        if form.ok:
            try:
                service.add_note(
                    db,
                    actor=actor_of(request),
                    settings=settings_of(request),
                    report_id=report_id,
                    note=form.values["note"],
                    uploads=uploads,
                )
                db.commit()
                flash(request, "已添加办理记录。")
                return Redirect(path=self.case_url(report_id), status_code=303)
            except ServiceError as exc:
                db.rollback()
                form.add_error("note", exc.message)
        return self.step_error(request, db, report_id, "note", form.raw, form.errors)

    @post("/{report_id:int}/link", sync_to_thread=True)
    def link(
        self, request: Request, db: NamedDependency[Session], report_id: FromPath[int], data: FormData
    ) -> Redirect:
        form = validate(
            data,
            [Field("target", "被举报对象", max_length=20), Field("row_version", "版本号", kind="int", min_value=1)],
        )
        if not form.ok:
            flash(request, "请在搜索结果中选择被举报的认定或申报。", "error")
            return Redirect(path=f"/reports/{report_id}", status_code=303)
        cert_id, app_id = _parse_target(form.values["target"])
        try:
            service.link_target(
                db,
                actor=actor_of(request),
                report_id=report_id,
                row_version=form.values["row_version"],
                certification_id=cert_id,
                application_id=app_id,
            )
            db.commit()
            flash(request, "已关联被举报对象。")
        except NotFound as exc:
            raise NotFoundException(exc.message) from exc
        except ServiceError as exc:
            db.rollback()
            flash(request, exc.message, "error")
        return Redirect(path=f"/reports/{report_id}", status_code=303)

    # --- the casework hooks ---------------------------------------------------------------------------

    def query(self, today: date, filters: dict[str, str], handler_id: int | None = None) -> Any:
        return service.reports_query(
            today=today,
            q=filters.get("q", ""),
            state=filters.get("status", ""),
            channel=filters.get("channel", ""),
            flag=filters.get("flag", ""),
            handler_id=handler_id,
        )

    def case_flags(self, case: Any, today: date) -> list[Any]:
        return _flags(case, today)

    def export_rows(self, db: Session, items: list[Any], today: date) -> list[list[Any]]:
        rows = []
        for i, r in enumerate(items, start=1):
            flags = _flags(r, today)
            rows.append(
                [
                    i,
                    r.number,
                    r.received_on.isoformat(),
                    r.channel,
                    ReportSource(r.source).label,
                    r.target_name,
                    r.target_factory,
                    "认定" if r.certification_id else "申报" if r.application_id else "未关联",
                    REPORT_WORKFLOW.label(r.state),
                    rules.CONCLUSION_LABELS.get(r.conclusion, ""),
                    r.reply_deadline.isoformat() if r.reply_deadline else "",
                    r.rectify_deadline.isoformat() if r.rectify_deadline else "",
                    "；".join(f.label for f in flags),
                    r.closed_on.isoformat() if r.closed_on else "",
                    r.content,
                ]
            )
        return rows

    def context(self, request: Request, db: Session, case: Any, **extra: Any) -> dict[str, Any]:
        return _report_context(request, db, case, **extra)

    def step_defaults(self, today: date) -> dict[str, Any]:
        return _step_defaults(today)

    def take_step(
        self, request: Request, db: Session, *, case_id: int, code: str, values: dict[str, Any], uploads: list[Any]
    ) -> None:
        service.take_step(
            db,
            actor=actor_of(request),
            settings=settings_of(request),
            report_id=case_id,
            code=code,
            row_version=values["row_version"],
            note=values.get("note") or "",
            values=values,
            uploads=uploads,
            today=clock.today_beijing(),
        )

    def reveal(self, db: Session, actor: Actor, case_id: int) -> Any:
        name, contact = service.reveal_identity(db, actor=actor, report_id=case_id)
        return {"name": name, "contact": contact}
