"""Pages for certifications (认定管理): the register, expiring certifications, manual entry, re-reviews and
major-change filings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session, select

from reviewapp import clock
from reviewapp.applications.models import INDUSTRY_GROUPS, Enterprise
from reviewapp.errors import ServiceError
from reviewapp.excel import Column, workbook_bytes
from reviewapp.forms import Field, validate
from reviewapp.reports import rules
from reviewapp.reports.certifications import service
from reviewapp.reports.listing import filtered_register
from reviewapp.reports.models import (
    REVOCATION_REASON_LABELS,
    Certification,
    CertificationSource,
    CertificationStatus,
    MajorChange,
    ReReview,
    ReReviewOutcome,
    Revocation,
)
from reviewapp.reports.rules import REPORT_WORKFLOW
from reviewapp.reports.whistleblowing import service as whistleblowing
from reviewapp.rounds.models import TIER_LABELS, Round, Tier
from reviewapp.web import (
    FormData,
    actor_of,
    flash,
    found_or_404,
    htmx_target,
    paginate,
    parse_page,
    render,
    render_block,
    staff_only,
    xlsx_response,
)

TIER_CHOICES = {t.value: TIER_LABELS[t] for t in Tier}
STATUS_CHOICES = {s.value: s.label for s in CertificationStatus}
OUTCOME_CHOICES = {o.value: o.label for o in ReReviewOutcome}
REASON_CHOICES = {r.value: label for r, label in REVOCATION_REASON_LABELS.items()}
CHANGE_STATUS_CHOICES = {"pending": "待备案（未逾期）", "overdue": "逾期未备案", "filed": "已备案"}
EXPIRING_MONTHS = {"3": "3 个月内", "6": "6 个月内", "12": "12 个月内", "24": "24 个月内"}
EXPORT_LIMIT = 100_000


# --- certifications -------------------------------------------------------------------------------

MANUAL_CERT_FIELDS = [
    Field("credit_code", "统一社会信用代码", max_length=30),
    Field("enterprise_name", "企业名称", max_length=200),
    Field("factory_name", "工厂名称", max_length=200),
    Field("tier", "级别", kind="choice", choices=tuple(TIER_CHOICES)),
    Field("city", "所在地市", required=False, max_length=32),
    Field("industry_group", "所属行业", kind="choice", required=False, choices=INDUSTRY_GROUPS),
    Field("valid_from", "有效期自", kind="date"),
    Field("valid_to", "有效期至", kind="date", required=False),
    Field("note", "备注（认定文件文号等）", kind="text", required=False, max_length=500),
]
REREVIEW_FIELDS = [
    Field("outcome", "复核结果", kind="choice", choices=tuple(OUTCOME_CHOICES)),
    Field("decided_on", "结果日期", kind="date"),
    Field("note", "说明", kind="text", required=False, max_length=1000),
    Field("row_version", "版本号", kind="int", min_value=1),
]
CHANGE_FIELDS = [
    Field("changed_on", "变化发生日期", kind="date"),
    Field("filed_on", "单位备案日期", kind="date", required=False),
    Field("description", "变化情况", kind="text", max_length=2000),
]


def _cert_context(db: Session, cert: Certification, **extra: Any) -> dict[str, Any]:
    today = clock.today_beijing()
    enterprise = db.get(Enterprise, cert.enterprise_id)
    rnd = db.get(Round, cert.round_id) if cert.round_id else None
    reviews = list(
        db.exec(select(ReReview).where(ReReview.certification_id == cert.id).order_by(ReReview.id))  # type: ignore[arg-type]
    )
    changes = list(
        db.exec(select(MajorChange).where(MajorChange.certification_id == cert.id).order_by(MajorChange.changed_on))  # type: ignore[arg-type]
    )
    revocation = db.exec(select(Revocation).where(Revocation.certification_id == cert.id)).first()
    context = {
        "cert": cert,
        "enterprise": enterprise,
        "round": rnd,
        "reviews": reviews,
        "changes": changes,
        "revocation": revocation,
        "reports": whistleblowing.reports_for_certification(db, cert.id),  # type: ignore[arg-type]
        "alert": rules.certification_alert(status=cert.status, valid_to=cert.valid_to, today=today),
        "rereview_due": rules.rereview_due(cert.valid_to),
        "extended_to": rules.extended_valid_to(cert.valid_to),
        "change_status": lambda c: rules.major_change_status(changed_on=c.changed_on, filed_on=c.filed_on, today=today),
        "outcomes": OUTCOME_CHOICES,
        "today": today,
        "states": REPORT_WORKFLOW.states,
        "sources": {s.value: s.label for s in CertificationSource},
        "reasons": REASON_CHOICES,
        "rereview_form": {"decided_on": today.isoformat()},
        "change_form": {},
        "errors": {},
    }
    context.update(extra)
    return context


def _cert_form(
    request: Request,
    db: Session,
    cert_id: int,
    data: dict[str, Any],
    fields: list[Field],
    *,
    name: str,
    act: Callable[[Certification, dict[str, Any]], tuple[str, str]],
) -> Any:
    """A form on a certification's page (复核, 重大变化): act(cert, values) returns the message to flash once
    committed, then back to the page; a refusal re-renders the page with form `name` open and its errors."""
    cert = found_or_404(service.get_certification, db, cert_id)
    form = validate(data, fields)
    if form.ok:
        try:
            message, level = act(cert, form.values)
            db.commit()
            flash(request, message, level)
            return Redirect(path=f"/certifications/{cert.id}", status_code=303)
        except ServiceError as exc:
            db.rollback()
            form.add_error(exc.field or f"_{name}", exc.message)
    db.expire_all()
    cert = found_or_404(service.get_certification, db, cert_id)
    return render(
        "certifications/detail.html",
        **_cert_context(db, cert, errors=form.errors, open_form=name, **{f"{name}_form": form.raw}),
    )


class CertificationController(Controller):
    path = "/certifications"
    guards = [staff_only]

    @get("/", sync_to_thread=True)
    def register(
        self,
        request: Request,
        db: NamedDependency[Session],
        q: FromQuery[str] = "",
        tier: FromQuery[str] = "",
        status: FromQuery[str] = "",
        city: FromQuery[str] = "",
        industry_group: FromQuery[str] = "",
        page: FromQuery[str] = "1",
    ) -> Template:
        filters = {
            "q": q[:64],
            "tier": tier if tier in TIER_CHOICES else "",
            "status": status if status in STATUS_CHOICES else "",
            "city": city[:32],
            "industry_group": industry_group if industry_group in INDUSTRY_GROUPS else "",
        }
        result = paginate(db, service.certifications_query(**filters), page=parse_page(page), per_page=30)
        today = clock.today_beijing()
        context = {
            "page": result,
            "filters": filters,
            "tiers": TIER_CHOICES,
            "statuses": STATUS_CHOICES,
            "choices": service.filter_choices(db),
            "alert": lambda c: rules.certification_alert(status=c.status, valid_to=c.valid_to, today=today),
            "tab": "register",
        }
        if htmx_target(request) == "cert-table":
            return render_block("certifications/list.html", "table", **context)
        return render("certifications/list.html", **context)

    @get("/export.xlsx", sync_to_thread=True)
    def export(
        self,
        db: NamedDependency[Session],
        q: FromQuery[str] = "",
        tier: FromQuery[str] = "",
        status: FromQuery[str] = "",
        city: FromQuery[str] = "",
        industry_group: FromQuery[str] = "",
    ) -> Response[bytes]:
        stmt = service.certifications_query(
            q=q[:64],
            tier=tier if tier in TIER_CHOICES else "",
            status=status if status in STATUS_CHOICES else "",
            city=city[:32],
            industry_group=industry_group if industry_group in INDUSTRY_GROUPS else "",
        )
        rounds = dict(db.exec(select(Round.id, Round.name)).all())
        rows = (
            [
                i,
                e.name,
                c.factory_name,
                c.credit_code,
                c.tier_label,
                e.city,
                e.industry_group,
                c.valid_from.isoformat(),
                c.valid_to.isoformat(),
                rules.rereview_due(c.valid_to).isoformat(),
                c.status_label,
                CertificationSource(c.source).label,
                rounds.get(c.round_id, ""),
            ]
            for i, (c, e) in enumerate(db.exec(stmt.limit(EXPORT_LIMIT)), start=1)
        )
        data = workbook_bytes(
            title="智能工厂认定名录",
            columns=[
                Column("序号", 6),
                Column("企业名称", 30, wrap=True),
                Column("工厂名称", 30, wrap=True),
                Column("统一社会信用代码", 22),
                Column("级别", 8),
                Column("所在地市", 10),
                Column("所属行业", 10),
                Column("有效期自", 12),
                Column("有效期至", 12),
                Column("复核申请截止", 13),
                Column("状态", 10),
                Column("来源", 12),
                Column("批次", 26, wrap=True),
            ],
            rows=rows,
        )
        return xlsx_response("智能工厂认定名录.xlsx", data)

    @get("/expiring", sync_to_thread=True)
    def expiring(
        self,
        request: Request,
        db: NamedDependency[Session],
        months: FromQuery[str] = "6",
        q: FromQuery[str] = "",
        tier: FromQuery[str] = "",
        page: FromQuery[str] = "1",
    ) -> Template:
        today = clock.today_beijing()
        window = months if months in EXPIRING_MONTHS else "6"
        stmt = service.expiring_query(
            today=today, months=int(window), q=q[:64], tier=tier if tier in TIER_CHOICES else ""
        )
        result = paginate(db, stmt, page=parse_page(page), per_page=30)
        return render(
            "certifications/expiring.html",
            page=result,
            filters={"months": window, "q": q[:64], "tier": tier},
            windows=EXPIRING_MONTHS,
            tiers=TIER_CHOICES,
            today=today,
            alert=lambda c: rules.certification_alert(status=c.status, valid_to=c.valid_to, today=today),
            due=rules.rereview_due,
            tab="expiring",
        )

    @get("/new", sync_to_thread=False)
    def new(self) -> Template:
        return render(
            "certifications/form.html",
            form={"tier": Tier.advanced.value},
            errors={},
            tiers=TIER_CHOICES,
            groups={g: g for g in INDUSTRY_GROUPS},
            tab="register",
        )

    @post("/", sync_to_thread=True)
    def create(self, request: Request, db: NamedDependency[Session], data: FormData) -> Any:
        form = validate(data, MANUAL_CERT_FIELDS)
        if form.ok:
            v = form.values
            try:
                cert = service.record_certification(
                    db,
                    actor=actor_of(request),
                    credit_code=v["credit_code"],
                    enterprise_name=v["enterprise_name"],
                    factory_name=v["factory_name"],
                    tier=v["tier"],
                    valid_from=v["valid_from"],
                    valid_to=v["valid_to"],
                    city=v["city"] or "",
                    industry_group=v["industry_group"] or "",
                    note=v["note"] or "",
                )
                db.commit()
                flash(
                    request,
                    f"已录入认定：{cert.factory_name}（{cert.tier_label}，有效期至 {cert.valid_to.isoformat()}）。",
                )
                return Redirect(path=f"/certifications/{cert.id}", status_code=303)
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "_form", exc.message)
        return render(
            "certifications/form.html",
            form=form.raw,
            errors=form.errors,
            tiers=TIER_CHOICES,
            groups={g: g for g in INDUSTRY_GROUPS},
            tab="register",
        )

    @get("/{cert_id:int}", sync_to_thread=True)
    def show(self, db: NamedDependency[Session], cert_id: FromPath[int]) -> Template:
        cert = found_or_404(service.get_certification, db, cert_id)
        return render("certifications/detail.html", **_cert_context(db, cert))

    @post("/{cert_id:int}/rereview", sync_to_thread=True)
    def rereview(self, request: Request, db: NamedDependency[Session], cert_id: FromPath[int], data: FormData) -> Any:
        def act(cert: Certification, v: dict[str, Any]) -> tuple[str, str]:
            review = service.record_rereview(
                db,
                actor=actor_of(request),
                certification_id=cert.id,  # type: ignore[arg-type]
                row_version=v["row_version"],
                outcome=v["outcome"],
                decided_on=v["decided_on"],
                note=v["note"] or "",
            )
            if review.new_valid_to:
                return f"已记录复核通过，有效期延长至 {review.new_valid_to.isoformat()}。", "success"
            return f"已记录「{review.outcome_label}」，该认定已失效。", "success"

        return _cert_form(request, db, cert_id, data, REREVIEW_FIELDS, name="rereview", act=act)

    @post("/{cert_id:int}/changes", sync_to_thread=True)
    def add_change(self, request: Request, db: NamedDependency[Session], cert_id: FromPath[int], data: FormData) -> Any:
        def act(cert: Certification, v: dict[str, Any]) -> tuple[str, str]:
            change = service.record_major_change(
                db,
                actor=actor_of(request),
                certification_id=cert.id,  # type: ignore[arg-type]
                changed_on=v["changed_on"],
                filed_on=v["filed_on"],
                description=v["description"],
                today=clock.today_beijing(),
            )
            status = rules.major_change_status(
                changed_on=change.changed_on, filed_on=change.filed_on, today=clock.today_beijing()
            )
            return f"已登记经营状况重大变化：{status.label}。", "warning" if status.urgent else "success"

        return _cert_form(request, db, cert_id, data, CHANGE_FIELDS, name="change", act=act)

    @get("/changes", sync_to_thread=True)
    def changes(
        self,
        db: NamedDependency[Session],
        q: FromQuery[str] = "",
        status: FromQuery[str] = "",
        page: FromQuery[str] = "1",
    ) -> Template:
        today = clock.today_beijing()
        return filtered_register(
            db,
            "certifications/changes.html",
            query=service.major_changes_query,
            q=q,
            status=status,
            statuses=CHANGE_STATUS_CHOICES,
            page=page,
            today=today,
            change_status=lambda c: rules.major_change_status(
                changed_on=c.changed_on, filed_on=c.filed_on, today=today
            ),
            due=rules.major_change_due,
            tab="changes",
        )

    @post("/changes/{change_id:int}/filed", sync_to_thread=True)
    def change_filed(
        self, request: Request, db: NamedDependency[Session], change_id: FromPath[int], data: FormData
    ) -> Redirect:
        form = validate(
            data, [Field("filed_on", "备案日期", kind="date"), Field("row_version", "版本号", kind="int", min_value=1)]
        )
        back = str((data or {}).get("back") or "/certifications/changes")
        back = back if back.startswith("/certifications") else "/certifications/changes"
        if not form.ok:
            flash(request, next(iter(form.errors.values())), "error")
            return Redirect(path=back, status_code=303)
        try:
            service.mark_change_filed(
                db,
                actor=actor_of(request),
                change_id=change_id,
                row_version=form.values["row_version"],
                filed_on=form.values["filed_on"],
                today=clock.today_beijing(),
            )
            db.commit()
            flash(request, "已登记备案日期。")
        except ServiceError as exc:
            db.rollback()
            flash(request, exc.message, "error")
        return Redirect(path=back, status_code=303)
