"""Pages for the expert pool, panels, assignment and exclusions (staff), and the expert's pledge and declaration."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from reviewapp.applications.models import INDUSTRY_GROUPS, Application, Enterprise, FormalStatus
from reviewapp.auth.models import Role
from reviewapp.clock import today_beijing, utcnow
from reviewapp.errors import NotFound, ServiceError
from reviewapp.excel import XLSX_MEDIA_TYPE, ExcelReadError, content_disposition
from reviewapp.forms import Field, validate
from reviewapp.panels import experts as pool
from reviewapp.panels import service
from reviewapp.panels.models import RELATION_KINDS, Conflict, ConflictRule, Expert, Panel, PanelMember
from reviewapp.rounds.models import Round
from reviewapp.scoring import overviews as scoring
from reviewapp.web import (
    FormData,
    Page,
    actor_of,
    flash,
    no_store,
    paginate,
    parse_page,
    render,
    render_block,
    require,
    settings_of,
    staff_only,
)

MultipartData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
GROUP_CHOICES = {g: g for g in INDUSTRY_GROUPS}


def _list(value: Any) -> list[str]:
    """Form values that may repeat (checkboxes) as a list of strings."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [str(v) for v in items if str(v).strip()]


def _ids(value: Any) -> list[int]:
    return [int(v) for v in _list(value) if v.strip().isdigit()]


def _text(data: dict[str, Any] | None, key: str) -> str:
    value = (data or {}).get(key, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "").strip()


# --- expert pool ----------------------------------------------------------------------------------

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
            "scheme": pool.USERNAME_SCHEME,
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
        version = _int(data, "row_version")
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
            issued, skipped = pool.create_accounts(
                db,
                actor=actor_of(request),
                expert_ids=_ids((data or {}).get("expert_id")),
                settings=settings_of(request),
            )
            db.commit()
        except ServiceError as exc:
            db.rollback()
            flash(request, exc.message, "error")
            return Redirect(path="/experts", status_code=303)
        return no_store(
            render("panels/credential_slips.html", issued=issued, skipped=skipped, scheme=pool.USERNAME_SCHEME)
        )

    # --- import ---

    @get("/import", sync_to_thread=False)
    def import_page(self) -> Template:
        return render("panels/expert_import.html", preview=None, error=None, payload="", filename="")

    @get("/import/template.xlsx", sync_to_thread=False)
    def import_template(self) -> Response[bytes]:
        return Response(
            content=pool.import_template_bytes(),
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
            preview = pool.parse_expert_workbook(db, content)
        except ExcelReadError as exc:
            return render("panels/expert_import.html", preview=None, error=exc.message, payload="", filename=filename)
        payload = base64.b64encode(content).decode("ascii") if preview.ok else ""
        return render("panels/expert_import.html", preview=preview, error=None, payload=payload, filename=filename)

    @post("/import/confirm", sync_to_thread=True)
    def import_confirm(self, request: Request, db: NamedDependency[Session], data: FormData) -> Any:
        # The file travels back with the confirmation (no server-side state between the two steps); it is
        # parsed and checked again, and must be the very file whose preview staff saw.
        try:
            content = base64.b64decode(_text(data, "payload"), validate=True)
        except (binascii.Error, ValueError):
            content = b""
        if not content or hashlib.sha256(content).hexdigest() != _text(data, "sha256"):
            flash(request, "导入内容无效或已过期，请重新上传文件。", "error")
            return Redirect(path="/experts/import", status_code=303)
        try:
            preview = pool.parse_expert_workbook(db, content)
            outcome = pool.apply_expert_import(db, actor=actor_of(request), preview=preview, today=today_beijing())
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


def _int(data: dict[str, Any] | None, key: str, default: int = 0) -> int:
    text = _text(data, key)
    return int(text) if text.lstrip("-").isdigit() else default


# --- panels, assignment and exclusions ------------------------------------------------------------


def _round_or_404(db: Session, round_id: int) -> Round:
    return service.get_round(db, round_id)


class PanelIndexController(Controller):
    """Which rounds have panels: the way into each round's panels from the navigation."""

    path = "/panels"
    guards = [staff_only]

    @get("/", sync_to_thread=True)
    def index(self, db: NamedDependency[Session]) -> Template:
        rounds = list(db.exec(select(Round).order_by(col(Round.year).desc(), col(Round.id).desc())))
        panel_counts = dict(db.exec(select(Panel.round_id, func.count()).group_by(Panel.round_id)).all())
        passed = dict(
            db.exec(
                select(Application.round_id, func.count())
                .where(Application.formal_status == FormalStatus.passed.value)
                .group_by(Application.round_id)
            ).all()
        )
        assigned = dict(
            db.exec(
                select(Application.round_id, func.count())
                .where(Application.formal_status == FormalStatus.passed.value, col(Application.panel_id).is_not(None))
                .group_by(Application.round_id)
            ).all()
        )
        return render("panels/index.html", rounds=rounds, panel_counts=panel_counts, passed=passed, assigned=assigned)


class RoundPanelsController(Controller):
    path = "/rounds/{round_id:int}"
    guards = [staff_only]

    # --- panels ---

    @get("/panels", sync_to_thread=True)
    def panels(self, db: NamedDependency[Session], round_id: FromPath[int]) -> Template:
        return self._panels_page(db, round_id, form={}, errors={})

    def _panels_page(self, db: Session, round_id: int, *, form: dict[str, Any], errors: dict[str, str]) -> Template:
        rnd = _round_or_404(db, round_id)
        panels = service.round_panels(db, round_id)
        membership = service.round_membership(db, round_id)
        chairs = dict(
            db.exec(
                select(PanelMember.panel_id, Expert.name)
                .join(Expert, Expert.id == PanelMember.expert_id)  # type: ignore[arg-type]
                .join(Panel, Panel.id == PanelMember.panel_id)  # type: ignore[arg-type]
                .where(Panel.round_id == round_id, PanelMember.is_chair == True)  # noqa: E712
            ).all()
        )
        statuses, reasons = service.assignment_overview(db, round_id=round_id)
        loads: dict[int, int] = {}
        warnings: dict[int, int] = {}
        for s in statuses:
            if s.panel is not None:
                loads[s.panel.id] = loads.get(s.panel.id, 0) + 1  # type: ignore[index]
                if s.below_minimum:
                    warnings[s.panel.id] = warnings.get(s.panel.id, 0) + 1  # type: ignore[index]
        return render(
            "panels/panels.html",
            rnd=rnd,
            panels=panels,
            membership=membership,
            chairs=chairs,
            loads=loads,
            warnings=warnings,
            passed=len(statuses),
            unassigned=sum(1 for s in statuses if s.panel is None),
            groups=GROUP_CHOICES,
            form=form,
            errors=errors,
        )

    @post("/panels", sync_to_thread=True)
    def create_panel(
        self, request: Request, db: NamedDependency[Session], round_id: FromPath[int], data: FormData
    ) -> Any:
        try:
            panel = service.create_panel(
                db,
                actor=actor_of(request),
                round_id=round_id,
                name=_text(data, "name"),
                industry_group=_text(data, "industry_group"),
            )
            db.commit()
        except ServiceError as exc:
            db.rollback()
            return self._panels_page(
                db,
                round_id,
                form={"name": _text(data, "name"), "industry_group": _text(data, "industry_group")},
                errors={exc.field or "name": exc.message},
            )
        flash(request, f"已新建专家组「{panel.name}」。请添加成员。")
        return Redirect(path=f"/rounds/{round_id}/panels/{panel.id}", status_code=303)

    @get("/panels/{panel_id:int}", sync_to_thread=True)
    def panel(
        self, db: NamedDependency[Session], round_id: FromPath[int], panel_id: FromPath[int], q: FromQuery[str] = ""
    ) -> Template:
        return self._panel_page(db, round_id, panel_id, q=q)

    def _panel_page(
        self,
        db: Session,
        round_id: int,
        panel_id: int,
        *,
        q: str = "",
        errors: dict[str, str] | None = None,
        form: dict[str, Any] | None = None,
    ) -> Template:
        rnd = _round_or_404(db, round_id)
        panel = service.get_panel(db, panel_id, round_id=round_id)
        members = service.panel_members(db, panel.id)  # type: ignore[arg-type]
        statuses, _reasons = service.assignment_overview(db, round_id=round_id)
        mine = [s for s in statuses if s.panel is not None and s.panel.id == panel.id]
        busy = dict(
            db.exec(
                select(PanelMember.expert_id, Panel.name)
                .join(Panel, Panel.id == PanelMember.panel_id)  # type: ignore[arg-type]
                .where(Panel.round_id == round_id)
            ).all()
        )
        candidates_stmt = select(Expert).where(Expert.active == True)  # noqa: E712
        if q:
            like = f"%{q.strip()[:64]}%"
            candidates_stmt = candidates_stmt.where(or_(col(Expert.name).like(like), col(Expert.employer).like(like)))
        else:
            candidates_stmt = candidates_stmt.where(col(Expert.specialties_json).like(f'%"{panel.industry_group}"%'))
        candidates = [e for e in db.exec(candidates_stmt.order_by(Expert.name).limit(200)) if e.id not in busy]
        conflict_counts = dict(
            db.exec(
                select(Conflict.expert_id, func.count(func.distinct(Conflict.application_id)))
                .join(Application, Application.id == Conflict.application_id)  # type: ignore[arg-type]
                .where(Conflict.round_id == round_id, Application.panel_id == panel.id)
                .group_by(Conflict.expert_id)
            ).all()
        )
        return render(
            "panels/panel.html",
            rnd=rnd,
            panel=panel,
            members=members,
            applications=mine,
            candidates=candidates,
            q=q,
            groups=GROUP_CHOICES,
            conflict_counts=conflict_counts,
            specialties_of=pool.specialties_of,
            errors=errors or {},
            form=form or {"name": panel.name, "industry_group": panel.industry_group},
        )

    @post("/panels/{panel_id:int}", sync_to_thread=True)
    def update_panel(
        self,
        request: Request,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        panel_id: FromPath[int],
        data: FormData,
    ) -> Any:
        service.get_panel(db, panel_id, round_id=round_id)
        try:
            service.update_panel(
                db,
                actor=actor_of(request),
                panel_id=panel_id,
                name=_text(data, "name"),
                industry_group=_text(data, "industry_group"),
                row_version=_int(data, "row_version"),
            )
            db.commit()
        except ServiceError as exc:
            db.rollback()
            form = {"name": _text(data, "name"), "industry_group": _text(data, "industry_group")}
            return self._panel_page(db, round_id, panel_id, errors={exc.field or "name": exc.message}, form=form)
        flash(request, "已保存专家组。")
        return Redirect(path=f"/rounds/{round_id}/panels/{panel_id}", status_code=303)

    @post("/panels/{panel_id:int}/delete", sync_to_thread=True)
    def delete_panel(
        self,
        request: Request,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        panel_id: FromPath[int],
        data: FormData,
    ) -> Redirect:
        panel = service.get_panel(db, panel_id, round_id=round_id)
        try:
            service.delete_panel(db, actor=actor_of(request), panel_id=panel_id, reason=_text(data, "reason"))
            db.commit()
        except ServiceError as exc:
            db.rollback()
            flash(request, exc.message, "error")
            return Redirect(path=f"/rounds/{round_id}/panels/{panel_id}", status_code=303)
        flash(request, f"已删除专家组「{panel.name}」，其申报项目已改为未分配。")
        return Redirect(path=f"/rounds/{round_id}/panels", status_code=303)

    def _member_action(
        self, request: Request, db: Session, round_id: int, panel_id: int, action: Any, done: str
    ) -> Redirect:
        service.get_panel(db, panel_id, round_id=round_id)
        try:
            action()
            db.commit()
            flash(request, done)
        except ServiceError as exc:
            db.rollback()
            flash(request, exc.message, "error")
        return Redirect(path=f"/rounds/{round_id}/panels/{panel_id}", status_code=303)

    @post("/panels/{panel_id:int}/members", sync_to_thread=True)
    def add_member(
        self,
        request: Request,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        panel_id: FromPath[int],
        data: FormData,
    ) -> Redirect:
        ids = _ids((data or {}).get("expert_id"))
        reason = _text(data, "reason")

        def act() -> None:
            if not ids:
                raise ServiceError("请先选择要添加的专家。")
            for expert_id in ids:
                service.add_member(
                    db,
                    actor=actor_of(request),
                    panel_id=panel_id,
                    expert_id=expert_id,
                    today=today_beijing(),
                    reason=reason,
                )

        return self._member_action(request, db, round_id, panel_id, act, f"已添加 {len(ids)} 位成员。")

    @post("/panels/{panel_id:int}/members/{expert_id:int}/remove", sync_to_thread=True)
    def remove_member(
        self,
        request: Request,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        panel_id: FromPath[int],
        expert_id: FromPath[int],
        data: FormData,
    ) -> Redirect:
        return self._member_action(
            request,
            db,
            round_id,
            panel_id,
            lambda: service.remove_member(
                db, actor=actor_of(request), panel_id=panel_id, expert_id=expert_id, reason=_text(data, "reason")
            ),
            "已移出该成员。",
        )

    @post("/panels/{panel_id:int}/members/{expert_id:int}/chair", sync_to_thread=True)
    def set_chair(
        self,
        request: Request,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        panel_id: FromPath[int],
        expert_id: FromPath[int],
        data: FormData,
    ) -> Redirect:
        return self._member_action(
            request,
            db,
            round_id,
            panel_id,
            lambda: service.set_chair(
                db, actor=actor_of(request), panel_id=panel_id, expert_id=expert_id, reason=_text(data, "reason")
            ),
            "已指定新的组长。",
        )

    # --- assignment ---

    @get("/assignment", sync_to_thread=True)
    def assignment(
        self,
        request: Request,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        q: FromQuery[str] = "",
        group: FromQuery[str] = "",
        panel: FromQuery[str] = "",
        show: FromQuery[str] = "",
        page: FromQuery[str] = "1",
    ) -> Template:
        rnd = _round_or_404(db, round_id)
        statuses, reasons = service.assignment_overview(db, round_id=round_id)
        rows = statuses
        if q:
            rows = [s for s in rows if q in s.enterprise.name or q in s.application.factory_name]
        if group:
            rows = [s for s in rows if s.enterprise.industry_group == group]
        if panel == "none":
            rows = [s for s in rows if s.panel is None]
        elif panel.isdigit():
            rows = [s for s in rows if s.panel is not None and s.panel.id == int(panel)]
        if show == "warning":
            rows = [s for s in rows if s.below_minimum or s.application.id in reasons]
        per_page = 50
        current = max(1, min(parse_page(page), max(1, -(-len(rows) // per_page))))
        page_obj = Page(
            items=rows[(current - 1) * per_page : current * per_page], total=len(rows), page=current, per_page=per_page
        )
        panels = service.round_panels(db, round_id)
        return render(
            "panels/assignment.html",
            rnd=rnd,
            page=page_obj,
            reasons=reasons,
            labels={st.application.id: f"{st.enterprise.name}（{st.application.factory_name}）" for st in statuses},
            panels=panels,
            groups=INDUSTRY_GROUPS,
            filters={"q": q, "group": group, "panel": panel, "show": show},
            total=len(statuses),
            unassigned=sum(1 for s in statuses if s.panel is None),
            below=sum(1 for s in statuses if s.below_minimum),
            started=rnd.scoring_started_at is not None,
        )

    @post("/assignment/auto", sync_to_thread=True)
    def auto_assign(
        self, request: Request, db: NamedDependency[Session], round_id: FromPath[int], data: FormData
    ) -> Redirect:
        try:
            result = service.auto_assign(
                db,
                actor=actor_of(request),
                round_id=round_id,
                today=today_beijing(),
                mode=_text(data, "mode") or "unassigned",
                reason=_text(data, "reason"),
            )
            db.commit()
        except ServiceError as exc:
            db.rollback()
            flash(request, exc.message, "error")
            return Redirect(path=f"/rounds/{round_id}/assignment", status_code=303)
        text = f"自动分配完成：{result.placed} 个申报项目已分配（变动 {result.moved} 个）"
        if result.unplaced:
            text += f"，{len(result.unplaced)} 个未能分配，原因见下方列表"
        flash(request, text + "。", "warning" if result.unplaced else "success")
        return Redirect(path=f"/rounds/{round_id}/assignment", status_code=303)

    @post("/assignment/{application_id:int}", sync_to_thread=True)
    def assign_one(
        self,
        request: Request,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        application_id: FromPath[int],
        data: FormData,
    ) -> Redirect:
        app = db.get(Application, application_id)
        if app is None or app.round_id != round_id:
            raise NotFound("未找到该申报项目。")
        panel_text = _text(data, "panel_id")
        try:
            service.assign_application(
                db,
                actor=actor_of(request),
                application_id=application_id,
                panel_id=int(panel_text) if panel_text.isdigit() else None,
                today=today_beijing(),
                reason=_text(data, "reason"),
            )
            db.commit()
            flash(request, "已调整分配。")
        except ServiceError as exc:
            db.rollback()
            flash(request, exc.message, "error")
        back = _text(data, "back")
        return Redirect(
            path=back if back.startswith(f"/rounds/{round_id}/") else f"/rounds/{round_id}/assignment", status_code=303
        )

    # --- conflicts ---

    @get("/exclusions", sync_to_thread=True)
    def exclusions(
        self,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        q: FromQuery[str] = "",
        rule: FromQuery[str] = "",
        panel: FromQuery[str] = "",
        application: FromQuery[str] = "",
        only: FromQuery[str] = "",
        page: FromQuery[str] = "1",
    ) -> Template:
        rnd = _round_or_404(db, round_id)
        stmt = (
            select(Conflict, Expert, Application, Enterprise, Panel)
            .join(Expert, Expert.id == Conflict.expert_id)  # type: ignore[arg-type]
            .join(Application, Application.id == Conflict.application_id)  # type: ignore[arg-type]
            .join(Enterprise, Enterprise.id == Application.enterprise_id)  # type: ignore[arg-type]
            .join(PanelMember, PanelMember.expert_id == Conflict.expert_id)  # type: ignore[arg-type]
            .join(Panel, (Panel.id == PanelMember.panel_id) & (Panel.round_id == round_id))  # type: ignore[arg-type]
            .where(Conflict.round_id == round_id)
        )
        if q:
            like = f"%{q.strip()[:64]}%"
            stmt = stmt.where(
                or_(
                    col(Expert.name).like(like),
                    col(Enterprise.name).like(like),
                    col(Application.factory_name).like(like),
                )
            )
        if rule:
            stmt = stmt.where(Conflict.rule == rule)
        if panel.isdigit():
            stmt = stmt.where(Panel.id == int(panel))
        if application.isdigit():
            stmt = stmt.where(Conflict.application_id == int(application))
        if only == "assigned":
            # Only conflicts that matter now: the expert sits on the panel the application is assigned to.
            stmt = stmt.where(Application.panel_id == Panel.id)
        stmt = stmt.order_by(Enterprise.name, Application.id, Expert.name, Conflict.rule)
        result = paginate(db, stmt, page=parse_page(page), per_page=50)
        focus = db.get(Application, int(application)) if application.isdigit() else None
        return render(
            "panels/exclusions.html",
            rnd=rnd,
            page=result,
            panels=service.round_panels(db, round_id),
            filters={"q": q, "rule": rule, "panel": panel, "application": application, "only": only},
            focus=focus,
            focus_enterprise=db.get(Enterprise, focus.enterprise_id) if focus else None,
            rule_labels={r.value: r.label for r in ConflictRule},
        )

    @post("/conflicts/recompute", sync_to_thread=True)
    def recompute(self, request: Request, db: NamedDependency[Session], round_id: FromPath[int]) -> Redirect:
        _round_or_404(db, round_id)
        result = service.recompute_conflicts(db, actor=actor_of(request), round_id=round_id, today=today_beijing())
        db.commit()
        flash(
            request,
            f"已重新计算回避关系：共 {result.total} 条自动回避，新增 {result.added} 条，解除 {result.removed} 条。",
        )
        return Redirect(path=f"/rounds/{round_id}/exclusions", status_code=303)

    @get("/coi", sync_to_thread=True)
    def coi_page(self, db: NamedDependency[Session], round_id: FromPath[int]) -> Template:
        return render("panels/coi.html", rnd=_round_or_404(db, round_id), errors={})

    @post("/coi", sync_to_thread=True)
    def coi_update(
        self, request: Request, db: NamedDependency[Session], round_id: FromPath[int], data: FormData
    ) -> Any:
        rnd = _round_or_404(db, round_id)
        form = validate(
            data,
            [
                Field("coi_same_credit_code", "", kind="bool", required=False),
                Field("coi_employment", "", kind="bool", required=False),
                Field("coi_employment_years", "任职回避年限", kind="int", min_value=0, max_value=20),
                Field("coi_provider", "", kind="bool", required=False),
                Field("coi_declared_relation", "", kind="bool", required=False),
                Field("coi_same_city", "", kind="bool", required=False),
            ],
        )
        if form.ok:
            try:
                service.update_coi_settings(
                    db,
                    actor=actor_of(request),
                    round_id=round_id,
                    values=form.values,
                    row_version=_int(data, "row_version"),
                    today=today_beijing(),
                )
                db.commit()
                flash(request, "已保存回避规则，并已重新计算回避关系。")
                return Redirect(path=f"/rounds/{round_id}/exclusions", status_code=303)
            except ServiceError as exc:
                db.rollback()
                rnd = _round_or_404(db, round_id)
                form.add_error(exc.field or "coi_employment_years", exc.message)
        return render("panels/coi.html", rnd=rnd, errors=form.errors)


# --- the expert's side ----------------------------------------------------------------------------


def my_expert(db: Session, request: Request) -> Expert:
    expert = service.expert_of_user(db, user_id=request.user.id)
    if expert is None:
        raise NotFound("您的账号尚未关联专家信息，请联系工作人员。")
    return expert


def expert_home(db: Session, request: Request) -> Template:
    """The expert's home (also at /): each round with panels, pledge state, the applications to score with the
    status of the expert's own sheet, and the time left to the deadline."""
    expert = service.expert_of_user(db, user_id=request.user.id)
    overviews = scoring.expert_rounds(db, expert_id=expert.id, now=utcnow()) if expert else []  # type: ignore[arg-type]
    return render("panels/expert_rounds.html", expert=expert, overviews=overviews, labels=service.PLEDGE_STATE_LABELS)


class ExpertRoundsController(Controller):
    path = "/expert/rounds"
    guards = [require(Role.expert)]

    @get("/", sync_to_thread=True)
    def my_rounds(self, request: Request, db: NamedDependency[Session]) -> Template:
        return expert_home(db, request)

    @get("/{round_id:int}", sync_to_thread=True)
    def my_round(self, request: Request, db: NamedDependency[Session], round_id: FromPath[int]) -> Any:
        expert = my_expert(db, request)
        try:
            service.require_pledge(db, expert_id=expert.id, round_id=round_id)  # type: ignore[arg-type]
        except service.PledgeRequired as exc:
            flash(request, exc.message, "info")
            return Redirect(path=exc.next_url, status_code=303)
        overview = scoring.round_overview(db, expert_id=expert.id, round_id=round_id, now=utcnow())  # type: ignore[arg-type]
        return render("panels/expert_round.html", ov=overview, labels=service.PLEDGE_STATE_LABELS)

    @get("/{round_id:int}/pledge", sync_to_thread=True)
    def pledge_page(self, request: Request, db: NamedDependency[Session], round_id: FromPath[int]) -> Template:
        expert = my_expert(db, request)
        rnd = service.get_round(db, round_id)
        if not service.expert_panels(db, expert_id=expert.id, round_id=round_id):  # type: ignore[arg-type]
            raise NotFound("您不是该批次任何专家组的成员。")
        state = service.pledge_state(service.get_pledge(db, expert_id=expert.id, round_id=round_id), rnd)  # type: ignore[arg-type]
        return render("panels/pledge.html", rnd=rnd, expert=expert, state=state, error=None)

    @post("/{round_id:int}/pledge", sync_to_thread=True)
    def sign(self, request: Request, db: NamedDependency[Session], round_id: FromPath[int], data: FormData) -> Any:
        expert = my_expert(db, request)
        rnd = service.get_round(db, round_id)
        try:
            service.sign_pledge(
                db,
                actor=actor_of(request),
                expert_id=expert.id,
                round_id=round_id,
                agreed=_text(data, "agree") in {"1", "on", "yes"},  # type: ignore[arg-type]
            )
            db.commit()
        except ServiceError as exc:
            db.rollback()
            state = service.pledge_state(service.get_pledge(db, expert_id=expert.id, round_id=round_id), rnd)  # type: ignore[arg-type]
            return render("panels/pledge.html", rnd=rnd, expert=expert, state=state, error=exc.message)
        flash(request, "已签署承诺。请逐一核对本组申报企业，完成回避声明。")
        return Redirect(path=f"/expert/rounds/{round_id}/declaration", status_code=303)

    @get("/{round_id:int}/declaration", sync_to_thread=True)
    def declaration_page(self, request: Request, db: NamedDependency[Session], round_id: FromPath[int]) -> Any:
        expert = my_expert(db, request)
        rnd = service.get_round(db, round_id)
        pledge = service.get_pledge(db, expert_id=expert.id, round_id=round_id)  # type: ignore[arg-type]
        state = service.pledge_state(pledge, rnd)
        if state in {"unsigned", "resign"}:
            flash(request, "请先阅读并签署保密与公正承诺。", "info")
            return Redirect(path=f"/expert/rounds/{round_id}/pledge", status_code=303)
        items = service.declaration_items(db, expert_id=expert.id, round_id=round_id)  # type: ignore[arg-type]
        return render("panels/declaration.html", rnd=rnd, items=items, state=state, error=None, chosen=set(), words={})

    @post("/{round_id:int}/declaration", sync_to_thread=True)
    def declare(self, request: Request, db: NamedDependency[Session], round_id: FromPath[int], data: FormData) -> Any:
        expert = my_expert(db, request)
        rnd = service.get_round(db, round_id)
        chosen = set(_ids((data or {}).get("enterprise_id")))
        words = {e: _text(data, f"reason_{e}") for e in chosen}
        try:
            service.submit_declaration(
                db,
                actor=actor_of(request),
                expert_id=expert.id,  # type: ignore[arg-type]
                round_id=round_id,
                declared=words,
                confirmed=_text(data, "confirm") in {"1", "on", "yes"},
            )
            db.commit()
        except service.PledgeRequired as exc:
            db.rollback()
            return Redirect(path=exc.next_url, status_code=303)
        except ServiceError as exc:
            db.rollback()
            items = service.declaration_items(db, expert_id=expert.id, round_id=round_id)  # type: ignore[arg-type]
            state = service.pledge_state(service.get_pledge(db, expert_id=expert.id, round_id=round_id), rnd)  # type: ignore[arg-type]
            return render(
                "panels/declaration.html",
                rnd=rnd,
                items=items,
                state=state,
                error=exc.message,
                chosen=chosen,
                words=words,
            )
        flash(
            request,
            f"回避声明已提交（声明回避 {len(chosen)} 家企业）。"
            if chosen
            else "回避声明已提交：您确认与本组申报企业均无利害关系。",
        )
        return Redirect(path=f"/expert/rounds/{round_id}", status_code=303)
