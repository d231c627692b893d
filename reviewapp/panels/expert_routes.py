"""Staff pages for the expert pool: list, profile with employments and relations, bulk accounts, Excel import."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session, col, select

from reviewapp.applications.models import INDUSTRY_GROUPS
from reviewapp.clock import today_beijing
from reviewapp.errors import ServiceError
from reviewapp.excel import XLSX_MEDIA_TYPE, ExcelReadError, content_disposition
from reviewapp.forms import Field, form_ids, form_int, form_text, validate
from reviewapp.panels import expert_import as bulk
from reviewapp.panels import experts as pool
from reviewapp.panels import service
from reviewapp.panels.models import RELATION_KINDS, Expert
from reviewapp.rounds.models import Round
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
    settings_of,
    staff_only,
)

PROFILE_FIELDS = [
    Field("name", "姓名", max_length=64),
    Field("id_number_hint", "身份证号后四位", required=False, max_length=4),
    Field("employer", "工作单位", max_length=200),
    Field("employer_credit_code", "单位统一社会信用代码", required=False, max_length=30),
    Field("title", "职称", required=False, max_length=64),
    Field("specialties", "专业领域", kind="multi", required=False, choices=INDUSTRY_GROUPS),
    Field("city", "所在地市", required=False, max_length=32),
    Field("phone", "手机号码", required=False, max_length=32),
    Field("email", "电子邮箱", required=False, max_length=120),
    Field("active", "在库（可参加评审）", kind="bool", required=False),
]


EMPLOYMENT_FIELDS = [
    Field("employer", "工作单位", max_length=200),
    Field("credit_code", "统一社会信用代码", required=False, max_length=30),
    Field("start", "起始日期", kind="date", required=False),
    Field("end", "截止日期", kind="date", required=False),
]


RELATION_FIELDS = [
    Field("enterprise_name", "相关企业名称", max_length=200),
    Field("credit_code", "统一社会信用代码", required=False, max_length=30),
    Field("relation", "关系类型", kind="choice", choices=RELATION_KINDS),
    Field("since", "起始日期", kind="date", required=False),
    Field("until", "截止日期", kind="date", required=False),
    Field("note", "说明", required=False, max_length=500),
]


class ExpertPoolController(Controller):
    path = "/experts"
    guards = [staff_only]

    @get("/", sync_to_thread=True)
    def list_experts(
        self,
        request: Request,
        db: NamedDependency[Session],
        q: FromQuery[str] = "",
        specialty: FromQuery[str] = "",
        city: FromQuery[str] = "",
        account: FromQuery[str] = "",
        status: FromQuery[str] = "",
        page: FromQuery[str] = "1",
    ) -> Template:
        stmt = pool.list_experts_query(q=q, specialty=specialty, city=city, account=account, status=status)
        result = paginate(db, stmt, page=parse_page(page), per_page=50)
        context = {
            "page": result,
            "filters": {"q": q, "specialty": specialty, "city": city, "account": account, "status": status},
            "groups": INDUSTRY_GROUPS,
            "cities": pool.expert_cities(db),
            "specialties_of": pool.specialties_of,
            "usernames": _usernames(db, [e.user_id for e in result.items if e.user_id]),
            "scheme": bulk.USERNAME_SCHEME,
        }
        if request.htmx and request.htmx.target == "expert-table":  # type: ignore[attr-defined]
            return render_block("panels/experts.html", "table", **context)
        return render("panels/experts.html", **context)

    @get("/new", sync_to_thread=False)
    def new_expert(self) -> Template:
        return render("panels/expert_form.html", expert=None, form={"active": True}, errors={}, groups=INDUSTRY_GROUPS)

    @post("/", sync_to_thread=True)
    def create_expert(self, request: Request, db: NamedDependency[Session], data: FormData) -> Any:
        form = validate(data, PROFILE_FIELDS)
        if form.ok:
            try:
                expert = pool.create_expert(db, actor=actor_of(request), values=form.values)
                db.commit()
                flash(request, f"已新增专家 {expert.name}。可继续填写工作经历和利害关系。")
                return Redirect(path=f"/experts/{expert.id}", status_code=303)
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "name", exc.message)
        return render("panels/expert_form.html", expert=None, form=form.raw, errors=form.errors, groups=INDUSTRY_GROUPS)

    @get("/{expert_id:int}", sync_to_thread=True)
    def show_expert(self, db: NamedDependency[Session], expert_id: FromPath[int]) -> Template:
        expert = service.get_expert(db, expert_id)
        return self._page(db, expert, form=None, errors={})

    def _page(
        self, db: Session, expert: Expert, *, form: dict[str, Any] | None, errors: dict[str, str], **extra: Any
    ) -> Template:
        if form is None:
            form = {
                "name": expert.name,
                "id_number_hint": expert.id_number_hint,
                "employer": expert.employer,
                "employer_credit_code": expert.employer_credit_code,
                "title": expert.title,
                "specialties": pool.specialties_of(expert),
                "city": expert.city,
                "phone": expert.phone,
                "email": expert.email,
                "active": expert.active,
            }
        memberships = [
            (p, db.get(Round, p.round_id))
            for p in service.expert_panels(db, expert_id=expert.id)  # type: ignore[arg-type]
        ]
        user = _usernames(db, [expert.user_id]).get(expert.user_id) if expert.user_id else None  # type: ignore[arg-type]
        context = {
            "expert": expert,
            "form": form,
            "errors": errors,
            "groups": INDUSTRY_GROUPS,
            "employments": pool.employments_of(db, expert.id),  # type: ignore[arg-type]
            "relations": pool.relations_of(db, expert.id),  # type: ignore[arg-type]
            "relation_kinds": {k: k for k in RELATION_KINDS},
            "memberships": memberships,
            "username": user,
            "job_form": {},
            "job_errors": {},
            "rel_form": {},
            "rel_errors": {},
        }
        context.update(extra)
        return render("panels/expert_form.html", **context)

    @post("/{expert_id:int}", sync_to_thread=True)
    def update_expert(
        self, request: Request, db: NamedDependency[Session], expert_id: FromPath[int], data: FormData
    ) -> Any:
        expert = service.get_expert(db, expert_id)
        form = validate(data, PROFILE_FIELDS)
        version = form_int(form_text(data, "row_version"), 0)
        if form.ok:
            try:
                pool.update_expert(
                    db,
                    actor=actor_of(request),
                    expert_id=expert_id,
                    values=form.values,
                    row_version=version,
                    today=today_beijing(),
                )
                db.commit()
                flash(request, "已保存专家信息。")
                return Redirect(path=f"/experts/{expert_id}", status_code=303)
            except ServiceError as exc:
                db.rollback()
                expert = service.get_expert(db, expert_id)
                form.add_error(exc.field or "form", exc.message)
        return self._page(db, expert, form=form.raw, errors=form.errors)

    @post("/{expert_id:int}/employments", sync_to_thread=True)
    def add_employment(
        self, request: Request, db: NamedDependency[Session], expert_id: FromPath[int], data: FormData
    ) -> Any:
        form = validate(data, EMPLOYMENT_FIELDS)
        if form.ok:
            try:
                pool.add_employment(
                    db, actor=actor_of(request), expert_id=expert_id, today=today_beijing(), **form.values
                )
                db.commit()
                flash(request, "已添加工作经历。")
                return Redirect(path=f"/experts/{expert_id}#employments", status_code=303)
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "employer", exc.message)
        return self._page(
            db, service.get_expert(db, expert_id), form=None, errors={}, job_form=form.raw, job_errors=form.errors
        )

    @post("/{expert_id:int}/employments/{employment_id:int}/delete", sync_to_thread=True)
    def delete_employment(
        self, request: Request, db: NamedDependency[Session], expert_id: FromPath[int], employment_id: FromPath[int]
    ) -> Redirect:
        pool.delete_employment(
            db, actor=actor_of(request), expert_id=expert_id, employment_id=employment_id, today=today_beijing()
        )
        db.commit()
        flash(request, "已删除该工作经历。")
        return Redirect(path=f"/experts/{expert_id}#employments", status_code=303)

    @post("/{expert_id:int}/relations", sync_to_thread=True)
    def add_relation(
        self, request: Request, db: NamedDependency[Session], expert_id: FromPath[int], data: FormData
    ) -> Any:
        form = validate(data, RELATION_FIELDS)
        if form.ok:
            try:
                pool.add_relation(
                    db, actor=actor_of(request), expert_id=expert_id, today=today_beijing(), **form.values
                )
                db.commit()
                flash(request, "已登记利害关系。")
                return Redirect(path=f"/experts/{expert_id}#relations", status_code=303)
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "enterprise_name", exc.message)
        return self._page(
            db, service.get_expert(db, expert_id), form=None, errors={}, rel_form=form.raw, rel_errors=form.errors
        )

    @post("/{expert_id:int}/relations/{relation_id:int}/delete", sync_to_thread=True)
    def delete_relation(
        self, request: Request, db: NamedDependency[Session], expert_id: FromPath[int], relation_id: FromPath[int]
    ) -> Redirect:
        pool.delete_relation(
            db, actor=actor_of(request), expert_id=expert_id, relation_id=relation_id, today=today_beijing()
        )
        db.commit()
        flash(request, "已删除该利害关系。")
        return Redirect(path=f"/experts/{expert_id}#relations", status_code=303)

    @post("/accounts", sync_to_thread=True)
    def create_accounts(self, request: Request, db: NamedDependency[Session], data: FormData) -> Any:
        try:
            issued, skipped = bulk.create_accounts(
                db,
                actor=actor_of(request),
                expert_ids=form_ids((data or {}).get("expert_id")),
                settings=settings_of(request),
            )
            db.commit()
        except ServiceError as exc:
            db.rollback()
            flash(request, exc.message, "error")
            return Redirect(path="/experts", status_code=303)
        return no_store(
            render("panels/credential_slips.html", issued=issued, skipped=skipped, scheme=bulk.USERNAME_SCHEME)
        )

    # --- import ---

    @get("/import", sync_to_thread=False)
    def import_page(self) -> Template:
        return render("panels/expert_import.html", preview=None, error=None, payload="", filename="")

    @get("/import/template.xlsx", sync_to_thread=False)
    def import_template(self) -> Response[bytes]:
        return Response(
            content=bulk.import_template_bytes(),
            media_type=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": content_disposition("专家导入模板.xlsx")},
        )

    @post("/import", sync_to_thread=True)
    def import_preview(self, db: NamedDependency[Session], data: MultipartData) -> Template:
        upload = (data or {}).get("file")
        content = upload.file.read() if upload is not None and hasattr(upload, "file") else b""
        filename = getattr(upload, "filename", "") or ""
        if not content:
            return render(
                "panels/expert_import.html", preview=None, error="请选择要上传的 Excel 文件。", payload="", filename=""
            )
        try:
            preview = bulk.parse_expert_workbook(db, content)
        except ExcelReadError as exc:
            return render("panels/expert_import.html", preview=None, error=exc.message, payload="", filename=filename)
        payload = base64.b64encode(content).decode("ascii") if preview.ok else ""
        return render("panels/expert_import.html", preview=preview, error=None, payload=payload, filename=filename)

    @post("/import/confirm", sync_to_thread=True)
    def import_confirm(self, request: Request, db: NamedDependency[Session], data: FormData) -> Any:
        # The file travels back with the confirmation (no server-side state between the two steps); it is
        # parsed and checked again, and must be the very file whose preview staff saw.
        try:
            content = base64.b64decode(form_text(data, "payload"), validate=True)
        except (binascii.Error, ValueError):
            content = b""
        if not content or hashlib.sha256(content).hexdigest() != form_text(data, "sha256"):
            flash(request, "导入内容无效或已过期，请重新上传文件。", "error")
            return Redirect(path="/experts/import", status_code=303)
        try:
            preview = bulk.parse_expert_workbook(db, content)
            outcome = bulk.apply_expert_import(db, actor=actor_of(request), preview=preview, today=today_beijing())
            db.commit()
        except (ServiceError, ExcelReadError) as exc:
            db.rollback()
            flash(request, exc.message, "error")
            return Redirect(path="/experts/import", status_code=303)
        flash(
            request,
            f"导入完成：新增 {outcome.created} 位专家，更新 {outcome.updated} 位，{outcome.unchanged} 位无变化。",
        )
        return Redirect(path="/experts", status_code=303)


def _usernames(db: Session, user_ids: list[int]) -> dict[int, str]:
    from reviewapp.auth.models import User

    if not user_ids:
        return {}
    return dict(db.exec(select(User.id, User.username).where(col(User.id).in_(user_ids))).all())  # type: ignore[arg-type]
