"""The public report form (我要举报, no login): submission, the receipt, the status lookup and supplements."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Template
from sqlmodel import Session

from reviewapp import clock
from reviewapp.errors import ServiceError
from reviewapp.files import ALLOWED_UPLOAD_TEXT
from reviewapp.forms import Field, validate
from reviewapp.reports import rules
from reviewapp.reports.models import (
    Report,
)
from reviewapp.reports.whistleblowing import public
from reviewapp.web import (
    PUBLIC,
    FormData,
    MultipartData,
    client_addr,
    no_store,
    render,
    settings_of,
)
from reviewapp.web import checked_uploads as _uploads
from reviewapp.web import form_fields as _form_values

PUBLIC_MAX_FILES = 5
PUBLIC_MAX_FILE_MB = 10


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
    return no_store(
        render(
            "public/report_status.html",
            status=public.public_status(db, report),
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
            report, code = public.submit_public_report(
                db,
                settings=settings_of(request),
                client_addr=client_addr(request),
                target_name=v["target_name"],
                target_factory=v["target_factory"],
                content=v["content"],
                reporter_name=v["reporter_name"],
                reporter_contact=v["reporter_contact"],
                uploads=uploads,
                today=clock.today_beijing(),
            )
            db.commit()
        except public.RateLimited as exc:
            db.rollback()
            return _public_form(request, form.raw, {"_form": exc.message}, status_code=429)
        except ServiceError as exc:
            db.rollback()
            return _public_form(request, form.raw, {exc.field or "_form": exc.message})
        return no_store(
            render("public/report_receipt.html", code=rules.format_receipt_code(code), number=report.number)
        )

    @get("/status", sync_to_thread=False)
    def lookup_page(self) -> Template:
        return render("public/report_lookup.html", error="", code="")

    @post("/status", sync_to_thread=True)
    def lookup(self, request: Request, db: NamedDependency[Session], data: FormData) -> Template:
        code_text = str((data or {}).get("code") or "")[:64]
        try:
            report = public.find_by_receipt(
                db, settings=settings_of(request), client_addr=client_addr(request), code_text=code_text
            )
            db.commit()
        except public.RateLimited as exc:
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
            report = public.find_by_receipt(
                db, settings=settings_of(request), client_addr=client_addr(request), code_text=code_text
            )
            db.commit()  # the attempt counts against the limit whatever follows
        except public.RateLimited as exc:
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
                public.add_supplement(
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
