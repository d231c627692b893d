"""Pages for certifications (认定管理), whistle-blower reports (举报核查) and the public report form (我要举报)."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from openpyxl import Workbook
from sqlmodel import Session, select

from reviewapp import clock
from reviewapp.applications.models import INDUSTRY_GROUPS, Application, Enterprise
from reviewapp.auth.models import Role, User
from reviewapp.casework import service as casework
from reviewapp.errors import NotFound, ServiceError
from reviewapp.excel import XLSX_MEDIA_TYPE, Column, content_disposition, workbook_bytes, write_sheet
from reviewapp.files import ALLOWED_UPLOAD_TEXT, download_response
from reviewapp.forms import Field, parse_date, validate
from reviewapp.publicity.calendar import add_working_days
from reviewapp.reports import rules, service
from reviewapp.reports.models import (
    REPORT_CHANNELS,
    REVOCATION_REASON_LABELS,
    Certification,
    CertificationSource,
    CertificationStatus,
    MajorChange,
    Report,
    ReportSource,
    ReReview,
    ReReviewOutcome,
    Revocation,
)
from reviewapp.reports.rules import REPORT_WORKFLOW
from reviewapp.rounds.models import TIER_LABELS, Round, Tier
from reviewapp.web import (
    PUBLIC,
    FormData,
    MultipartData,
    actor_of,
    client_addr,
    flash,
    paginate,
    parse_page,
    render,
    render_block,
    settings_of,
    staff_only,
)
from reviewapp.web import checked_uploads as _uploads
from reviewapp.web import form_fields as _form_values

TIER_CHOICES = {t.value: TIER_LABELS[t] for t in Tier}
STATUS_CHOICES = {s.value: s.label for s in CertificationStatus}
OUTCOME_CHOICES = {o.value: o.label for o in ReReviewOutcome}
REASON_CHOICES = {r.value: label for r, label in REVOCATION_REASON_LABELS.items()}
CHANNEL_CHOICES = {c: c for c in REPORT_CHANNELS}
REPORT_FLAG_CHOICES = {"overdue": "逾期（须催办或作结论）", "open": "办理中", "closed": "已办结或不予受理"}
CHANGE_STATUS_CHOICES = {"pending": "待备案（未逾期）", "overdue": "逾期未备案", "filed": "已备案"}
BAN_STATUS_CHOICES = {"active": "禁止申报中", "ended": "已期满"}
EXPIRING_MONTHS = {"3": "3 个月内", "6": "6 个月内", "12": "12 个月内", "24": "24 个月内"}
PUBLIC_MAX_FILES = 5
PUBLIC_MAX_FILE_MB = 10
STAFF_MAX_FILES = 10
EXPORT_LIMIT = 100_000


def _today() -> date:
    return clock.today_beijing()


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _or_404(getter, db: Session, row_id: int):  # type: ignore[no-untyped-def]
    try:
        return getter(db, row_id)
    except NotFound as exc:
        raise NotFoundException(exc.message) from exc


def _htmx_target(request: Request) -> str:
    return request.htmx.target if getattr(request, "htmx", None) else ""  # type: ignore[attr-defined]


def _xlsx(filename: str, data: bytes) -> Response[bytes]:
    return Response(
        content=data, media_type=XLSX_MEDIA_TYPE, headers={"Content-Disposition": content_disposition(filename)}
    )


def _no_store(response: Template) -> Template:
    """Pages that show a receipt code or a report's status must not stay in caches or shared browsers' history."""
    response.headers["Cache-Control"] = "no-store"
    return response


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
REVOKE_FIELDS = [
    Field("reason_category", "理由类别", kind="choice", choices=tuple(REASON_CHOICES)),
    Field("revoked_on", "取消认定日期", kind="date"),
    Field("banned_until", "禁止申报至", kind="date", required=False),
    Field("reason", "事实和理由", kind="text", max_length=5000),
    Field("row_version", "版本号", kind="int", min_value=1),
]
PENETRATION_FIELDS = [
    Field("year", "年度", kind="int", min_value=2000, max_value=2100),
    Field("above_size_total", "规上工业企业总数", kind="int", min_value=0, max_value=10_000_000),
    Field("above_size_level2", "二级及以上企业数", kind="int", min_value=0, max_value=10_000_000),
    Field("source", "数据来源", required=False, max_length=200),
    Field("row_version", "版本号", kind="int", required=False, min_value=1),
]


def _cert_context(db: Session, cert: Certification, **extra: Any) -> dict[str, Any]:
    today = _today()
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
        "reports": service.reports_for_certification(db, cert.id),  # type: ignore[arg-type]
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
        today = _today()
        context = {
            "page": result,
            "filters": filters,
            "tiers": TIER_CHOICES,
            "statuses": STATUS_CHOICES,
            "choices": service.filter_choices(db),
            "alert": lambda c: rules.certification_alert(status=c.status, valid_to=c.valid_to, today=today),
            "tab": "register",
        }
        if _htmx_target(request) == "cert-table":
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
        return _xlsx("智能工厂认定名录.xlsx", data)

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
        today = _today()
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
        cert = _or_404(service.get_certification, db, cert_id)
        return render("certifications/detail.html", **_cert_context(db, cert))

    @post("/{cert_id:int}/rereview", sync_to_thread=True)
    def rereview(self, request: Request, db: NamedDependency[Session], cert_id: FromPath[int], data: FormData) -> Any:
        cert = _or_404(service.get_certification, db, cert_id)
        form = validate(data, REREVIEW_FIELDS)
        if form.ok:
            try:
                review = service.record_rereview(
                    db,
                    actor=actor_of(request),
                    certification_id=cert.id,
                    row_version=form.values["row_version"],
                    outcome=form.values["outcome"],
                    decided_on=form.values["decided_on"],
                    note=form.values["note"] or "",
                )
                db.commit()
                if review.new_valid_to:
                    flash(request, f"已记录复核通过，有效期延长至 {review.new_valid_to.isoformat()}。")
                else:
                    flash(request, f"已记录「{review.outcome_label}」，该认定已失效。")
                return Redirect(path=f"/certifications/{cert.id}", status_code=303)
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "_rereview", exc.message)
        db.expire_all()
        cert = _or_404(service.get_certification, db, cert_id)
        return render(
            "certifications/detail.html",
            **_cert_context(db, cert, rereview_form=form.raw, errors=form.errors, open_form="rereview"),
        )

    @post("/{cert_id:int}/changes", sync_to_thread=True)
    def add_change(self, request: Request, db: NamedDependency[Session], cert_id: FromPath[int], data: FormData) -> Any:
        cert = _or_404(service.get_certification, db, cert_id)
        form = validate(data, CHANGE_FIELDS)
        if form.ok:
            try:
                change = service.record_major_change(
                    db,
                    actor=actor_of(request),
                    certification_id=cert.id,
                    changed_on=form.values["changed_on"],
                    filed_on=form.values["filed_on"],
                    description=form.values["description"],
                    today=_today(),
                )
                db.commit()
                status = rules.major_change_status(
                    changed_on=change.changed_on, filed_on=change.filed_on, today=_today()
                )
                flash(request, f"已登记经营状况重大变化：{status.label}。", "warning" if status.urgent else "success")
                return Redirect(path=f"/certifications/{cert.id}", status_code=303)
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "_change", exc.message)
        return render(
            "certifications/detail.html",
            **_cert_context(db, cert, change_form=form.raw, errors=form.errors, open_form="change"),
        )

    @get("/{cert_id:int}/revoke", sync_to_thread=True)
    def revoke_page(self, db: NamedDependency[Session], cert_id: FromPath[int]) -> Template:
        cert = _or_404(service.get_certification, db, cert_id)
        today = _today()
        form = {"revoked_on": today.isoformat(), "row_version": str(cert.row_version)}
        return self._revoke_form(db, cert, form, {})

    def _revoke_form(self, db: Session, cert: Certification, form: dict[str, Any], errors: dict[str, str]) -> Template:
        revoked_on = _parse_date(form.get("revoked_on")) or _today()
        return render(
            "certifications/revoke.html",
            cert=cert,
            enterprise=db.get(Enterprise, cert.enterprise_id),
            form=form,
            errors=errors,
            reasons=REASON_CHOICES,
            minimum=rules.ban_until(revoked_on),
            tab="register",
        )

    @post("/{cert_id:int}/revoke", sync_to_thread=True)
    def revoke(self, request: Request, db: NamedDependency[Session], cert_id: FromPath[int], data: FormData) -> Any:
        cert = _or_404(service.get_certification, db, cert_id)
        form = validate(data, REVOKE_FIELDS)
        if form.ok:
            try:
                revocation = service.revoke(
                    db,
                    actor=actor_of(request),
                    certification_id=cert.id,
                    row_version=form.values["row_version"],
                    reason_category=form.values["reason_category"],
                    revoked_on=form.values["revoked_on"],
                    reason=form.values["reason"],
                    banned_until=form.values["banned_until"],
                    today=_today(),
                )
                db.commit()
                flash(request, f"已取消认定。该企业 {revocation.banned_until.isoformat()} 前不得再次申报。")
                return Redirect(path=f"/certifications/{cert.id}", status_code=303)
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "_form", exc.message)
        db.expire_all()
        cert = _or_404(service.get_certification, db, cert_id)
        return self._revoke_form(db, cert, form.raw, form.errors)

    @get("/changes", sync_to_thread=True)
    def changes(
        self,
        db: NamedDependency[Session],
        q: FromQuery[str] = "",
        status: FromQuery[str] = "",
        page: FromQuery[str] = "1",
    ) -> Template:
        today = _today()
        status = status if status in CHANGE_STATUS_CHOICES else ""
        result = paginate(
            db, service.major_changes_query(q=q[:64], status=status, today=today), page=parse_page(page), per_page=30
        )
        return render(
            "certifications/changes.html",
            page=result,
            filters={"q": q[:64], "status": status},
            statuses=CHANGE_STATUS_CHOICES,
            change_status=lambda c: rules.major_change_status(
                changed_on=c.changed_on, filed_on=c.filed_on, today=today
            ),
            due=rules.major_change_due,
            today=today,
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
                today=_today(),
            )
            db.commit()
            flash(request, "已登记备案日期。")
        except ServiceError as exc:
            db.rollback()
            flash(request, exc.message, "error")
        return Redirect(path=back, status_code=303)

    @get("/bans", sync_to_thread=True)
    def bans(
        self,
        db: NamedDependency[Session],
        q: FromQuery[str] = "",
        status: FromQuery[str] = "",
        page: FromQuery[str] = "1",
    ) -> Template:
        today = _today()
        status = status if status in BAN_STATUS_CHOICES else ""
        result = paginate(
            db, service.bans_query(q=q[:64], status=status, today=today), page=parse_page(page), per_page=30
        )
        return render(
            "certifications/bans.html",
            page=result,
            filters={"q": q[:64], "status": status},
            statuses=BAN_STATUS_CHOICES,
            reasons=REASON_CHOICES,
            banned=lambda r: rules.is_banned(r.banned_until, today),
            tab="bans",
        )

    @get("/bans/export.xlsx", sync_to_thread=True)
    def export_bans(
        self, db: NamedDependency[Session], q: FromQuery[str] = "", status: FromQuery[str] = ""
    ) -> Response[bytes]:
        today = _today()
        stmt = service.bans_query(q=q[:64], status=status if status in BAN_STATUS_CHOICES else "", today=today)
        rows = (
            [
                i,
                r.enterprise_name,
                r.credit_code,
                c.factory_name if c else "",
                REASON_CHOICES.get(r.reason_category, r.reason_category),
                r.revoked_on.isoformat(),
                r.banned_until.isoformat(),
                "禁止申报中" if rules.is_banned(r.banned_until, today) else "已期满",
                r.reason,
            ]
            for i, (r, c) in enumerate(db.exec(stmt.limit(EXPORT_LIMIT)), start=1)
        )
        data = workbook_bytes(
            title="取消认定及禁止申报名单",
            columns=[
                Column("序号", 6),
                Column("企业名称", 30, wrap=True),
                Column("统一社会信用代码", 22),
                Column("工厂名称", 30, wrap=True),
                Column("理由类别", 24, wrap=True),
                Column("取消认定日期", 13),
                Column("禁止申报至", 13),
                Column("状态", 11),
                Column("事实和理由", 50, wrap=True),
            ],
            rows=rows,
        )
        return _xlsx("取消认定及禁止申报名单.xlsx", data)

    @get("/figures", sync_to_thread=True)
    def figures(self, db: NamedDependency[Session], year: FromQuery[str] = "") -> Template:
        return render("certifications/figures.html", **_figures_context(db, year), form={}, errors={})

    @post("/figures/penetration", sync_to_thread=True)
    def save_penetration(self, request: Request, db: NamedDependency[Session], data: FormData) -> Any:
        form = validate(data, PENETRATION_FIELDS)
        if form.ok:
            v = form.values
            try:
                service.save_penetration(
                    db,
                    actor=actor_of(request),
                    year=v["year"],
                    total=v["above_size_total"],
                    level2=v["above_size_level2"],
                    source=v["source"] or "",
                    row_version=v["row_version"],
                )
                db.commit()
                flash(request, f"已保存 {v['year']} 年的普及率基数。")
                return Redirect(path=f"/certifications/figures?year={v['year']}", status_code=303)
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "_form", exc.message)
        return render(
            "certifications/figures.html",
            **_figures_context(db, str(form.raw.get("year") or "")),
            form=form.raw,
            errors=form.errors,
        )

    @get("/figures/export.xlsx", sync_to_thread=True)
    def export_figures(self, db: NamedDependency[Session], year: FromQuery[str] = "") -> Response[bytes]:
        ctx = _figures_context(db, year)
        wb = Workbook()
        tiers = list(TIER_CHOICES.values())
        sheets = [
            (
                f"{ctx['year']}年举报办理情况",
                [Column("办理结果", 18), Column("件数", 10)],
                [[label, ctx["outcomes"][key]] for key, label in rules.OUTCOME_LABELS.items()]
                + [["合计", ctx["outcome_total"]]],
            ),
        ]
        for title, table in (
            (f"{ctx['year']}年新认定（按地市）", ctx["new_by_city"]),
            (f"{ctx['year']}年新认定（按行业）", ctx["new_by_group"]),
            ("当前有效认定（按地市）", ctx["valid_by_city"]),
            ("当前有效认定（按行业）", ctx["valid_by_group"]),
        ):
            rows = [
                [key, *[counts.get(t, 0) for t in TIER_CHOICES], sum(counts.values())] for key, counts in table.items()
            ]
            sheets.append((title, [Column("分组", 16), *[Column(t, 10) for t in tiers], Column("合计", 10)], rows))
        sheets.append(
            (
                "智能工厂普及率",
                [
                    Column("年度", 8),
                    Column("规上工业企业总数", 16),
                    Column("二级及以上企业数", 16),
                    Column("普及率（%）", 12),
                    Column("数据来源", 30),
                ],
                [
                    [p.year, p.above_size_total, p.above_size_level2, str(ctx["rate"](p)), p.source]
                    for p in ctx["penetration"]
                ],
            )
        )
        for index, (title, columns, rows) in enumerate(sheets):
            ws = wb.active if index == 0 else wb.create_sheet()
            ws.title = title[:31]
            write_sheet(ws, title=title, columns=columns, rows=rows, landscape=False)
        buf = io.BytesIO()
        wb.save(buf)
        return _xlsx(f"{ctx['year']}年度智能工厂年报数据.xlsx", buf.getvalue())


def _parse_date(value: Any) -> date | None:
    return parse_date(str(value)) if value else None


def _figures_context(db: Session, year_text: str) -> dict[str, Any]:
    today = _today()
    year = _int_or_none(year_text) or today.year
    year = min(max(year, 2000), 2100)
    outcomes = service.report_outcomes(db, year=year)
    return {
        "year": year,
        "years": list(range(today.year, today.year - 6, -1)),
        "outcomes": outcomes,
        "outcome_total": sum(outcomes.values()),
        "outcome_labels": rules.OUTCOME_LABELS,
        "new_by_city": service.certification_crosstab(db, by="city", year=year, today=today),
        "new_by_group": service.certification_crosstab(db, by="industry_group", year=year, today=today),
        "valid_by_city": service.certification_crosstab(db, by="city", year=None, today=today),
        "valid_by_group": service.certification_crosstab(db, by="industry_group", year=None, today=today),
        "tiers": TIER_CHOICES,
        "penetration": service.penetration_rows(db),
        "rate": lambda p: rules.penetration_rate(total=p.above_size_total, level2=p.above_size_level2),
        "today": today,
        "tab": "figures",
    }


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
    row_id = _int_or_none(raw)
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
    today = _today()
    user: User = request.user
    is_handler = service.is_report_handler(db, report_id=report.id, user_id=user.id)  # type: ignore[arg-type]
    steps = casework.case_steps(db, case_type=REPORT_WORKFLOW.name, case_id=report.id)  # type: ignore[arg-type]
    handlers = casework.handlers(db, case_type=REPORT_WORKFLOW.name, case_id=report.id)  # type: ignore[arg-type]
    revocation = db.get(Revocation, report.revocation_id) if report.revocation_id else None
    context = {
        "report": report,
        "target": service.report_target(db, report),
        "workflow": REPORT_WORKFLOW,
        "is_handler": is_handler,
        "can_reassign": bool(handlers) and (is_handler or user.role == Role.admin.value),
        "can_link": report.state in {"registered", "accepted"}
        or (is_handler and report.state in {"verifying", "replied", "no_reply"}),
        "offered": REPORT_WORKFLOW.offered(report.state, is_handler=is_handler, case=report, today=today),
        "waiting": REPORT_WORKFLOW.waiting(report.state, is_handler=is_handler, case=report, today=today),
        "flags": rules.report_flags(
            state=report.state,
            reply_deadline=report.reply_deadline,
            rectify_deadline=report.rectify_deadline,
            today=today,
        ),
        "steps": steps,
        "step_files": casework.step_files(db, [s.id for s in steps]),  # type: ignore[misc]
        "step_label": lambda s: casework.step_label(REPORT_WORKFLOW, s),
        "file_url": lambda f: f"/reports/{report.id}/files/{f.id}",
        "evidence": service.report_files(db, report.id),  # type: ignore[arg-type]
        "handlers": handlers,
        "handler_choices": casework.handler_choices(db),
        "step_fields": STEP_FIELDS,
        "reasons": REASON_CHOICES,
        "revocation": revocation,
        "identity": None,
        "step_form": _step_defaults(today),
        "open_step": "",
        "errors": {},
        "error": "",
        "confidential": service.CONFIDENTIAL,
        "ban_minimum": rules.ban_until(today),
        "sources": {s.value: s.label for s in ReportSource},
        "conclusions": rules.CONCLUSION_LABELS,
        "today": today,
    }
    context.update(extra)
    return context


def _get_report(db: Session, report_id: int) -> Report:
    return _or_404(service.get_report, db, report_id)  # type: ignore[no-any-return]


class ReportController(Controller):
    path = "/reports"
    guards = [staff_only]

    @get("/", sync_to_thread=True)
    def register(
        self,
        request: Request,
        db: NamedDependency[Session],
        q: FromQuery[str] = "",
        status: FromQuery[str] = "",
        channel: FromQuery[str] = "",
        flag: FromQuery[str] = "",
        mine: FromQuery[str] = "",
        page: FromQuery[str] = "1",
    ) -> Template:
        today = _today()
        filters = {
            "q": q[:64],
            "status": status if status in REPORT_WORKFLOW.states else "",
            "channel": channel if channel in CHANNEL_CHOICES else "",
            "flag": flag if flag in REPORT_FLAG_CHOICES else "",
            "mine": "1" if mine else "",
        }
        stmt = service.reports_query(
            today=today,
            q=filters["q"],
            state=filters["status"],
            channel=filters["channel"],
            flag=filters["flag"],
            handler_id=request.user.id if filters["mine"] else None,
        )
        result = paginate(db, stmt, page=parse_page(page), per_page=30)
        handler_names: dict[int, list[str]] = {
            r.id: [u.display_name for u in casework.handlers(db, case_type=REPORT_WORKFLOW.name, case_id=r.id)]  # type: ignore[misc]
            for r in result.items
        }
        context = {
            "page": result,
            "filters": filters,
            "states": REPORT_WORKFLOW.states,
            "channels": CHANNEL_CHOICES,
            "flags_choices": REPORT_FLAG_CHOICES,
            "handler_names": handler_names,
            "flags": lambda r: rules.report_flags(
                state=r.state, reply_deadline=r.reply_deadline, rectify_deadline=r.rectify_deadline, today=today
            ),
            "overdue_count": paginate(db, service.reports_query(today=today, flag="overdue"), page=1, per_page=1).total,
        }
        if _htmx_target(request) == "report-table":
            return render_block("reports/list.html", "table", **context)
        return render("reports/list.html", **context)

    @get("/export.xlsx", sync_to_thread=True)
    def export(
        self,
        request: Request,
        db: NamedDependency[Session],
        q: FromQuery[str] = "",
        status: FromQuery[str] = "",
        channel: FromQuery[str] = "",
        flag: FromQuery[str] = "",
    ) -> Response[bytes]:
        """The register without reporters' identities: an exported file leaves the access control and the audit
        of identity views behind, so no exporter gets them (handlers read them on the report's page)."""
        today = _today()
        stmt = service.reports_query(
            today=today,
            q=q[:64],
            state=status if status in REPORT_WORKFLOW.states else "",
            channel=channel if channel in CHANNEL_CHOICES else "",
            flag=flag if flag in REPORT_FLAG_CHOICES else "",
        )
        rows = []
        for i, r in enumerate(db.exec(stmt.limit(EXPORT_LIMIT)), start=1):
            flags = rules.report_flags(
                state=r.state, reply_deadline=r.reply_deadline, rectify_deadline=r.rectify_deadline, today=today
            )
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
        data = workbook_bytes(
            title="举报登记簿",
            columns=[
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
            ],
            rows=rows,
        )
        return _xlsx("举报登记簿.xlsx", data)

    @get("/new", sync_to_thread=True)
    def new(self, db: NamedDependency[Session], target: FromQuery[str] = "") -> Template:
        form = {"received_on": _today().isoformat(), "target": target}
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
        settings = settings_of(request)
        form = validate(_form_values(data), REPORT_FIELDS)
        uploads, problem = _uploads(data, max_bytes=settings.upload_max_mb * 1024 * 1024, max_count=STAFF_MAX_FILES)
        if problem:
            form.add_error("files", problem)
        if form.ok:
            cert_id, app_id = _parse_target(form.values["target"])
            v = form.values
            try:
                report = service.create_report(
                    db,
                    actor=actor_of(request),
                    settings=settings,
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
                    today=_today(),
                )
                db.commit()
                flash(request, f"已登记举报 {report.number}。")
                return Redirect(path=f"/reports/{report.id}", status_code=303)
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "_form", exc.message)
        return render(
            "reports/form.html",
            form=form.raw,
            errors=form.errors,
            channels=CHANNEL_CHOICES,
            chosen=_target_choice(db, str(form.raw.get("target") or "")),
            allowed=ALLOWED_UPLOAD_TEXT,
        )

    @get("/{report_id:int}", sync_to_thread=True)
    def show(self, request: Request, db: NamedDependency[Session], report_id: FromPath[int]) -> Template:
        report = _get_report(db, report_id)
        return render("reports/detail.html", **_report_context(request, db, report))

    @post("/{report_id:int}/identity", sync_to_thread=True)
    def identity(self, request: Request, db: NamedDependency[Session], report_id: FromPath[int]) -> Template:
        report = _get_report(db, report_id)
        try:
            name, contact = service.reveal_identity(db, actor=actor_of(request), report_id=report.id)  # type: ignore[arg-type]
            db.commit()
            identity = {"name": name, "contact": contact}
            error = ""
        except ServiceError as exc:
            db.rollback()
            identity = None
            error = exc.message
        if _htmx_target(request) == "reporter-identity":
            return _no_store(
                render_block(
                    "reports/detail.html",
                    "identity",
                    report=report,
                    identity=identity,
                    identity_error=error,
                    is_handler=identity is not None,
                    confidential=service.CONFIDENTIAL,
                )
            )
        return _no_store(
            render(
                "reports/detail.html", **_report_context(request, db, report, identity=identity, identity_error=error)
            )
        )

    @post("/{report_id:int}/steps", sync_to_thread=True)
    def step(
        self, request: Request, db: NamedDependency[Session], report_id: FromPath[int], data: MultipartData
    ) -> Any:
        settings = settings_of(request)
        values = _form_values(data)
        code = str(values.get("code") or "")
        form = validate(values, [*STEP_COMMON, *STEP_FIELDS.get(code, [])])
        uploads, problem = _uploads(data, max_bytes=settings.upload_max_mb * 1024 * 1024, max_count=STAFF_MAX_FILES)
        if problem:
            form.add_error("files", problem)
        if form.ok:
            v = form.values
            if code == "start":
                v["handlers"] = [i for i in (_int_or_none(x) for x in v.get("handlers") or []) if i]
            try:
                service.take_step(
                    db,
                    actor=actor_of(request),
                    settings=settings,
                    report_id=report_id,
                    code=code,
                    row_version=v["row_version"],
                    note=v.get("note") or "",
                    values=v,
                    uploads=uploads,
                    today=_today(),
                )
                db.commit()
                transition = REPORT_WORKFLOW.transition(code)
                flash(request, f"已办理：{transition.label if transition else code}。")
                return Redirect(path=f"/reports/{report_id}", status_code=303)
            except NotFound as exc:
                db.rollback()
                raise NotFoundException(exc.message) from exc
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "_form", exc.message)
        db.expire_all()
        report = _get_report(db, report_id)
        error = form.errors.get("_form") or next(iter(form.errors.values()))
        return render(
            "reports/detail.html",
            **_report_context(
                request,
                db,
                report,
                step_form={**_step_defaults(_today()), **form.raw},
                open_step=code,
                errors=form.errors,
                error=error,
            ),
        )

    @post("/{report_id:int}/notes", sync_to_thread=True)
    def note(
        self, request: Request, db: NamedDependency[Session], report_id: FromPath[int], data: MultipartData
    ) -> Any:
        settings = settings_of(request)
        form = validate(_form_values(data), [Field("note", "办理记录", kind="text", max_length=5000)])
        uploads, problem = _uploads(data, max_bytes=settings.upload_max_mb * 1024 * 1024, max_count=STAFF_MAX_FILES)
        if problem:
            form.add_error("files", problem)
        if form.ok:
            try:
                service.add_note(
                    db,
                    actor=actor_of(request),
                    settings=settings,
                    report_id=report_id,
                    note=form.values["note"],
                    uploads=uploads,
                )
                db.commit()
                flash(request, "已添加办理记录。")
                return Redirect(path=f"/reports/{report_id}", status_code=303)
            except ServiceError as exc:
                db.rollback()
                form.add_error("note", exc.message)
        report = _get_report(db, report_id)
        return render(
            "reports/detail.html",
            **_report_context(
                request,
                db,
                report,
                open_step="note",
                errors=form.errors,
                error=next(iter(form.errors.values())),
                step_form={**_step_defaults(_today()), **form.raw},
            ),
        )

    @post("/{report_id:int}/handlers", sync_to_thread=True)
    def handlers(
        self, request: Request, db: NamedDependency[Session], report_id: FromPath[int], data: FormData
    ) -> Redirect:
        form = validate(
            data, [Field("handlers", "承办人", kind="multi"), Field("note", "说明", kind="text", required=False)]
        )
        if not form.ok:
            flash(request, next(iter(form.errors.values())), "error")
            return Redirect(path=f"/reports/{report_id}", status_code=303)
        try:
            service.reassign(
                db,
                actor=actor_of(request),
                actor_role=request.user.role,
                report_id=report_id,
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
        return Redirect(path=f"/reports/{report_id}", status_code=303)

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

    @get("/{report_id:int}/files/{file_id:int}", sync_to_thread=True)
    def download(
        self, request: Request, db: NamedDependency[Session], report_id: FromPath[int], file_id: FromPath[int]
    ) -> Response[bytes]:
        try:
            stored = service.report_file(db, report_id=report_id, file_id=file_id)
        except NotFound as exc:
            raise NotFoundException(exc.message) from exc
        return download_response(request, stored, missing="文件已不在存储中，请联系系统管理员。")


# --- the public form (no login) -------------------------------------------------------------------

PUBLIC_FIELDS = [
    Field("target_name", "被举报单位名称", max_length=200),
    Field("target_factory", "工厂名称", required=False, max_length=200),
    Field("content", "举报内容", kind="text", min_length=10, max_length=20000),
    Field("reporter_name", "您的姓名", required=False, max_length=64),
    Field("reporter_contact", "联系方式", required=False, max_length=120),
]
LOOKUP_NOT_FOUND = "未找到与该查询码对应的举报。请核对查询码（共 20 位数字）后重新输入。"


def _public_max_bytes(request: Request) -> int:
    return min(settings_of(request).upload_max_mb, PUBLIC_MAX_FILE_MB) * 1024 * 1024


def _public_form(request: Request, form: dict[str, Any], errors: dict[str, str], *, status_code: int = 200) -> Template:
    return render(
        "public/report_form.html",
        status_code=status_code,
        form=form,
        errors=errors,
        allowed=ALLOWED_UPLOAD_TEXT,
        max_files=PUBLIC_MAX_FILES,
        max_mb=_public_max_bytes(request) // 1024 // 1024,
    )


def _status_page(
    db: Session,
    request: Request,
    report: Report,
    code: str,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    message: str = "",
) -> Template:
    return _no_store(
        render(
            "public/report_status.html",
            status=service.public_status(db, report),
            code=code,
            allowed=ALLOWED_UPLOAD_TEXT,
            max_files=PUBLIC_MAX_FILES,
            max_mb=_public_max_bytes(request) // 1024 // 1024,
            form=form or {},
            errors=errors or {},
            message=message,
        )
    )


class PublicReportController(Controller):
    path = "/public/report"
    opt = PUBLIC

    @get("/", sync_to_thread=False)
    def form(self, request: Request) -> Template:
        return _public_form(request, {}, {})

    @post("/", sync_to_thread=True)
    def submit(self, request: Request, db: NamedDependency[Session], data: MultipartData) -> Template:
        form = validate(_form_values(data), PUBLIC_FIELDS)
        uploads, problem = _uploads(data, max_bytes=_public_max_bytes(request), max_count=PUBLIC_MAX_FILES)
        if problem:
            form.add_error("files", problem)
        if not form.ok:
            return _public_form(request, form.raw, form.errors)
        v = form.values
        try:
            report, code = service.submit_public_report(
                db,
                settings=settings_of(request),
                client_addr=client_addr(request),
                target_name=v["target_name"],
                target_factory=v["target_factory"],
                content=v["content"],
                reporter_name=v["reporter_name"],
                reporter_contact=v["reporter_contact"],
                uploads=uploads,
                today=_today(),
            )
            db.commit()
        except service.RateLimited as exc:
            db.rollback()
            return _public_form(request, form.raw, {"_form": exc.message}, status_code=429)
        except ServiceError as exc:
            db.rollback()
            return _public_form(request, form.raw, {exc.field or "_form": exc.message})
        return _no_store(
            render("public/report_receipt.html", code=rules.format_receipt_code(code), number=report.number)
        )

    @get("/status", sync_to_thread=False)
    def lookup_page(self) -> Template:
        return render("public/report_lookup.html", error="", code="")

    @post("/status", sync_to_thread=True)
    def lookup(self, request: Request, db: NamedDependency[Session], data: FormData) -> Template:
        code_text = str((data or {}).get("code") or "")[:64]
        try:
            report = service.find_by_receipt(
                db, settings=settings_of(request), client_addr=client_addr(request), code_text=code_text
            )
            db.commit()
        except service.RateLimited as exc:
            db.rollback()
            return render("public/report_lookup.html", status_code=429, error=exc.message, code="")
        if report is None:
            return render("public/report_lookup.html", error=LOOKUP_NOT_FOUND, code="")
        return _status_page(db, request, report, rules.normalise_receipt_code(code_text) or "")

    @post("/supplement", sync_to_thread=True)
    def supplement(self, request: Request, db: NamedDependency[Session], data: MultipartData) -> Template:
        values = _form_values(data)
        code_text = str(values.get("code") or "")[:64]
        try:
            report = service.find_by_receipt(
                db, settings=settings_of(request), client_addr=client_addr(request), code_text=code_text
            )
            db.commit()  # the attempt counts against the limit whatever follows
        except service.RateLimited as exc:
            db.rollback()
            return render("public/report_lookup.html", status_code=429, error=exc.message, code="")
        if report is None:
            return render("public/report_lookup.html", error=LOOKUP_NOT_FOUND, code="")
        code = rules.normalise_receipt_code(code_text) or ""
        form = validate(values, [Field("content", "补充内容", kind="text", required=False, max_length=20000)])
        uploads, problem = _uploads(data, max_bytes=_public_max_bytes(request), max_count=PUBLIC_MAX_FILES)
        if problem:
            form.add_error("files", problem)
        if form.ok:
            try:
                service.add_supplement(
                    db,
                    settings=settings_of(request),
                    report=report,
                    client_addr=client_addr(request),
                    content=form.values["content"],
                    uploads=uploads,
                )
                db.commit()
                return _status_page(db, request, report, code, message="已收到您补充的内容，工作人员将一并核实。")
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "content", exc.message)
        return _status_page(db, request, report, code, form=form.raw, errors=form.errors)
