"""Pages for a round's applications: list, Excel import with preview, formal review, and one application's detail."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import func
from sqlmodel import Session, col, select

from reviewapp import files
from reviewapp.applications import attachments, formal_review, import_sheet, importing, rules, service
from reviewapp.applications.models import INDUSTRY_GROUPS, Application, FormalStatus
from reviewapp.auth.models import User
from reviewapp.clock import today_beijing
from reviewapp.errors import NotFound, ServiceError
from reviewapp.excel import XLSX_MEDIA_TYPE, content_disposition
from reviewapp.forms import Field, validate
from reviewapp.rounds.models import TIER_LABELS, Round, Scenario
from reviewapp.web import (
    FormData,
    access,
    actor_of,
    flash,
    paginate,
    parse_page,
    render,
    render_block,
    settings_of,
    signed_in,
    staff_only,
)

MultipartData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
STATUS_LABELS = {s.value: s.label for s in FormalStatus}
CHECK_FILTERS = {"ok": "全部检查通过", "failed": "有未通过的检查项"} | {
    code: f"未通过：{label}" for code, label in rules.CHECK_LABELS.items()
}
PREVIEW_PER_PAGE = 200


def _round(db: Session, round_id: int) -> Round:
    try:
        return service.get_round(db, round_id)
    except NotFound as exc:
        raise NotFoundException(exc.message) from exc


def _application(db: Session, application_id: int) -> Application:
    try:
        return service.get_application(db, application_id)
    except NotFound as exc:
        raise NotFoundException(exc.message) from exc


def _read_upload(data: dict[str, Any], name: str = "file") -> tuple[str, bytes] | None:
    """(original name, content) of an uploaded file; the multipart body is already parsed (spooled to disk)."""
    upload = data.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    upload.file.seek(0)
    return upload.filename, upload.file.read()


class ApplicationsOverviewController(Controller):
    """Which rounds have applications, and how far their formal review has got."""

    path = "/applications"
    guards = [staff_only]

    @get("/", sync_to_thread=True)
    def overview(self, db: NamedDependency[Session]) -> Template:
        rounds = list(db.exec(select(Round).order_by(col(Round.year).desc(), col(Round.id).desc())))
        counts: dict[int, dict[str, int]] = {r.id: {} for r in rounds}  # type: ignore[misc]
        stmt = select(Application.round_id, Application.formal_status, func.count()).group_by(
            Application.round_id, Application.formal_status
        )
        for round_id, status, n in db.exec(stmt):
            counts.setdefault(round_id, {})[status] = int(n)
        return render("applications/overview.html", rounds=rounds, counts=counts)


class RoundApplicationsController(Controller):
    """A round's application list, the Excel import, and its formal review."""

    path = "/rounds/{round_id:int}"
    guards = [staff_only]

    # --- list -------------------------------------------------------------------------------------

    @get("/applications", sync_to_thread=True)
    def list_applications(
        self,
        request: Request,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        q: FromQuery[str] = "",
        status: FromQuery[str] = "",
        city: FromQuery[str] = "",
        industry: FromQuery[str] = "",
        tier: FromQuery[str] = "",
        check: FromQuery[str] = "",
        page: FromQuery[str] = "1",
    ) -> Template:
        rnd = _round(db, round_id)
        filters = {"q": q, "status": status, "city": city, "industry": industry, "tier": tier, "check": check}
        stmt = service.applications_query(round_id=round_id, **filters)
        result = paginate(db, stmt, page=parse_page(page), per_page=50)
        context = {
            "round": rnd,
            "page": result,
            "filters": filters,
            "counts": service.round_counts(db, round_id),
            "cities": service.round_cities(db, round_id),
            "industries": INDUSTRY_GROUPS,
            "tiers": {t.value: label for t, label in TIER_LABELS.items()},
            "statuses": STATUS_LABELS,
            "check_filters": CHECK_FILTERS,
            "tab": "list",
        }
        if request.htmx and request.htmx.target == "application-table":  # type: ignore[attr-defined]
            return render_block("applications/list.html", "table", **context)
        return render("applications/list.html", **context)

    # --- import -----------------------------------------------------------------------------------

    @get("/applications/import", sync_to_thread=True)
    def import_page(self, db: NamedDependency[Session], round_id: FromPath[int]) -> Template:
        return render(
            "applications/import.html",
            round=_round(db, round_id),
            error=None,
            tab="import",
            columns=import_sheet.COLUMNS,
            required=import_sheet.REQUIRED_COLUMNS,
        )

    @get("/applications/template.xlsx", sync_to_thread=True)
    def template(self, db: NamedDependency[Session], round_id: FromPath[int]) -> Response[bytes]:
        rnd = _round(db, round_id)
        catalogue = list(
            db.exec(
                select(Scenario)
                .where(Scenario.catalogue_version == rnd.scenario_catalogue_version)
                .order_by(Scenario.sort_order)
            )
        )
        return Response(
            content=import_sheet.template_bytes(rnd, catalogue),
            media_type=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": content_disposition(f"{rnd.name}-申报名单导入模板.xlsx")},
        )

    @post("/applications/import", sync_to_thread=True)
    def upload(
        self, request: Request, db: NamedDependency[Session], round_id: FromPath[int], data: MultipartData
    ) -> Any:
        rnd = _round(db, round_id)
        upload = _read_upload(data)
        settings = settings_of(request)
        error = None
        if upload is None:
            error = "请选择要导入的 Excel 文件。"
        elif len(upload[1]) > settings.upload_max_mb * 1024 * 1024:
            error = f"文件过大，上限为 {settings.upload_max_mb} MB。"
        if error or upload is None:
            return render(
                "applications/import.html",
                round=rnd,
                error=error,
                tab="import",
                columns=import_sheet.COLUMNS,
                required=import_sheet.REQUIRED_COLUMNS,
            )
        token = importing.save_upload(
            settings, round_id=round_id, user_id=request.user.id, filename=upload[0], data=upload[1]
        )
        return Redirect(path=f"/rounds/{round_id}/applications/import/{token}", status_code=303)

    @get("/applications/import/{token:str}", sync_to_thread=True)
    def preview(
        self,
        request: Request,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        token: FromPath[str],
        show: FromQuery[str] = "",
        page: FromQuery[str] = "1",
    ) -> Template:
        rnd = _round(db, round_id)
        try:
            content, filename = importing.load_upload(settings_of(request), token=token, round_id=round_id)
        except NotFound as exc:
            raise NotFoundException(exc.message) from exc
        preview = importing.preview_import(db, round_id=round_id, data=content, filename=filename)
        return self._render_preview(rnd, preview, token, show, page)

    def _render_preview(
        self, rnd: Round, preview: import_sheet.Preview, token: str, show: str, page: str, error: str | None = None
    ) -> Template:
        rows = [r for r in preview.rows if r.problems] if show == "problems" else preview.rows
        pages = max(1, -(-len(rows) // PREVIEW_PER_PAGE))
        current = min(parse_page(page), pages)
        shown = rows[(current - 1) * PREVIEW_PER_PAGE : current * PREVIEW_PER_PAGE]
        return render(
            "applications/preview.html",
            round=rnd,
            preview=preview,
            token=token,
            rows=shown,
            show=show,
            current=current,
            pages=pages,
            filtered_total=len(rows),
            error=error,
            tab="import",
            tiers=TIER_LABELS,
        )

    @post("/applications/import/{token:str}/commit", sync_to_thread=True)
    def commit(
        self, request: Request, db: NamedDependency[Session], round_id: FromPath[int], token: FromPath[str]
    ) -> Any:
        rnd = _round(db, round_id)
        settings = settings_of(request)
        try:
            content, filename = importing.load_upload(settings, token=token, round_id=round_id)
        except NotFound as exc:
            flash(request, exc.message, "error")
            return Redirect(path=f"/rounds/{round_id}/applications/import", status_code=303)
        try:
            result = importing.commit_import(
                db, actor=actor_of(request), round_id=round_id, data=content, filename=filename, today=today_beijing()
            )
            db.commit()
        except importing.ImportRejected as exc:
            db.rollback()
            return self._render_preview(rnd, exc.preview, token, "problems", "1", error=exc.message)
        importing.discard_upload(settings, token=token)
        message = (
            f"已导入《{filename}》：共 {result.total} 行，新增 {result.created} 条，更新 {result.updated} 条，"
            f"未变 {result.unchanged} 条。"
        )
        if result.reset_to_pending:
            message += f"其中 {result.reset_to_pending} 条已审查的申报因数据变化改为待审查。"
        flash(request, message)
        return Redirect(path=f"/rounds/{round_id}/applications", status_code=303)

    @post("/applications/import/{token:str}/discard", sync_to_thread=True)
    def discard(self, request: Request, round_id: FromPath[int], token: FromPath[str]) -> Redirect:
        importing.discard_upload(settings_of(request), token=token)
        flash(request, "已放弃本次导入，未写入任何数据。", "info")
        return Redirect(path=f"/rounds/{round_id}/applications/import", status_code=303)

    # --- formal review ----------------------------------------------------------------------------

    @get("/formal-review", sync_to_thread=True)
    def formal_review(
        self,
        request: Request,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        q: FromQuery[str] = "",
        status: FromQuery[str] = "",
        check: FromQuery[str] = "",
        industry: FromQuery[str] = "",
        page: FromQuery[str] = "1",
    ) -> Template:
        rnd = _round(db, round_id)
        filters = {"q": q, "status": status, "check": check, "industry": industry}
        stmt = service.applications_query(round_id=round_id, **filters)
        result = paginate(db, stmt, page=parse_page(page), per_page=30)
        return render(
            "applications/formal_review.html",
            round=rnd,
            page=result,
            filters=filters,
            counts=service.round_counts(db, round_id),
            statuses=STATUS_LABELS,
            check_filters=CHECK_FILTERS,
            industries=INDUSTRY_GROUPS,
            checks_of=service.checks_of,
            settings=service.formal_settings(rnd),
            tab="formal",
        )

    @post("/formal-review/decide", sync_to_thread=True)
    def decide_bulk(
        self, request: Request, db: NamedDependency[Session], round_id: FromPath[int], data: FormData
    ) -> Redirect:
        _round(db, round_id)
        raw_ids = data.get("ids") or []
        ids = [int(i) for i in (raw_ids if isinstance(raw_ids, list) else [raw_ids]) if str(i).isdigit()]
        decision = str(data.get("decision") or "")
        back = str(data.get("back") or "")
        target = back if back.startswith(f"/rounds/{round_id}/formal-review") else f"/rounds/{round_id}/formal-review"
        if not ids:
            flash(request, "请先勾选要确认的申报。", "error")
            return Redirect(path=target, status_code=303)
        if decision not in {"pass", "fail"}:
            flash(request, "请选择「通过」或「不通过」。", "error")
            return Redirect(path=target, status_code=303)
        versions = {}
        for app_id in ids:
            raw = str(data.get(f"v_{app_id}") or "")
            if raw.isdigit():
                versions[app_id] = int(raw)
        outcome = formal_review.decide_bulk(
            db,
            actor=actor_of(request),
            round_id=round_id,
            application_ids=ids,
            versions=versions,
            passed=decision == "pass",
            note=str(data.get("note") or "")[:2000],
            today=today_beijing(),
        )
        db.commit()
        word = "通过" if decision == "pass" else "不通过"
        if outcome.done:
            flash(request, f"已确认 {len(outcome.done)} 条申报形式审查{word}。")
        if outcome.refused:
            names = {
                a.id: a.factory_name
                for a in db.exec(select(Application).where(col(Application.id).in_([i for i, _ in outcome.refused])))
            }
            details = "；".join(f"「{names.get(i, i)}」{msg}" for i, msg in outcome.refused[:5])
            more = f"等 {len(outcome.refused)} 条" if len(outcome.refused) > 5 else ""
            flash(request, f"{len(outcome.refused)} 条未确认：{details}{more}", "error")
        return Redirect(path=target, status_code=303)

    @post("/formal-review/recheck", sync_to_thread=True)
    def recheck(self, request: Request, db: NamedDependency[Session], round_id: FromPath[int]) -> Redirect:
        _round(db, round_id)
        total, failing, reset = service.recheck_round(
            db, actor=actor_of(request), round_id=round_id, today=today_beijing()
        )
        db.commit()
        message = f"已重新检查 {total} 条申报，其中 {failing} 条有未通过的检查项。"
        if reset:
            message += f"{len(reset)} 条原已通过的申报因检查未通过改为待审查。"
        flash(request, message, "warning" if reset else "success")
        return Redirect(path=f"/rounds/{round_id}/formal-review", status_code=303)


OVERRIDE_FIELDS = [
    Field("check_code", "检查项", kind="choice", choices=tuple(rules.CHECK_LABELS)),
    Field("reason", "豁免理由", kind="text", max_length=1000),
]
FACT_FIELDS = [
    Field("row_version", "版本", kind="int"),
    Field("above_designated_size", "规上企业", kind="bool"),
    Field("is_branch", "分支机构", kind="bool"),
    Field("branch_industry", "分支机构所属行业", required=False, max_length=32),
    Field("major_accident", "较大及以上事故", kind="bool"),
    Field("serious_dishonesty", "严重失信", kind="bool"),
]


class ApplicationController(Controller):
    """One application: facts, scenarios, parties, formal-review checks and decision, attachments."""

    path = "/applications/{application_id:int}"
    guards = [signed_in]

    def _detail_page(
        self,
        request: Request,
        db: Session,
        application_id: int,
        *,
        errors: dict[str, str] | None = None,
        form: dict[str, Any] | None = None,
    ) -> Template:
        try:
            data = service.detail(db, application_id)
        except NotFound as exc:
            raise NotFoundException(exc.message) from exc
        return render(
            "applications/detail.html",
            d=data,
            errors=errors or {},
            form=form or {},
            statuses=STATUS_LABELS,
            tiers=TIER_LABELS,
            branch_industries=data.round.branch_industries,
            max_mb=settings_of(request).upload_max_mb,
            accept=",".join(files.ALLOWED_UPLOADS),
            round=data.round,
            tab="list",
        )

    @get("/", guards=[staff_only], sync_to_thread=True)
    def show(self, request: Request, db: NamedDependency[Session], application_id: FromPath[int]) -> Template:
        return self._detail_page(request, db, application_id)

    @post("/decision", guards=[staff_only], sync_to_thread=True)
    def decision(
        self, request: Request, db: NamedDependency[Session], application_id: FromPath[int], data: FormData
    ) -> Any:
        decision = str(data.get("decision") or "")
        version = str(data.get("row_version") or "")
        note = str(data.get("note") or "")
        try:
            if decision == "reset":
                formal_review.reset_decision(
                    db,
                    actor=actor_of(request),
                    application_id=application_id,
                    row_version=int(version) if version.isdigit() else None,
                )
            elif decision in {"pass", "fail"}:
                formal_review.decide(
                    db,
                    actor=actor_of(request),
                    application_id=application_id,
                    passed=decision == "pass",
                    note=note,
                    row_version=int(version) if version.isdigit() else None,
                    today=today_beijing(),
                )
            else:
                raise ServiceError("请选择「通过」或「不通过」。", field="note")
            db.commit()
        except ServiceError as exc:
            db.rollback()
            return self._detail_page(request, db, application_id, errors={"decision": exc.message}, form={"note": note})
        flash(
            request,
            {"pass": "已确认形式审查通过。", "fail": "已确认形式审查不通过。", "reset": "已撤销形式审查结论。"}[
                decision
            ],
        )
        return Redirect(path=f"/applications/{application_id}#formal", status_code=303)

    @post("/overrides", guards=[staff_only], sync_to_thread=True)
    def override(
        self, request: Request, db: NamedDependency[Session], application_id: FromPath[int], data: FormData
    ) -> Any:
        form = validate(data, OVERRIDE_FIELDS)
        if form.ok:
            try:
                formal_review.override_check(
                    db,
                    actor=actor_of(request),
                    application_id=application_id,
                    check_code=form.values["check_code"],
                    reason=form.values["reason"],
                    today=today_beijing(),
                )
                db.commit()
                flash(request, f"已豁免检查项「{rules.CHECK_LABELS[form.values['check_code']]}」。")
                return Redirect(path=f"/applications/{application_id}#formal", status_code=303)
            except ServiceError as exc:
                db.rollback()
                form.add_error("reason", exc.message)
        code = str(form.raw.get("check_code") or "")
        return self._detail_page(
            request,
            db,
            application_id,
            errors={f"override_{code}": next(iter(form.errors.values()))},
            form={f"reason_{code}": form.raw.get("reason", "")},
        )

    @post("/overrides/{check_code:str}/remove", guards=[staff_only], sync_to_thread=True)
    def remove_override(
        self, request: Request, db: NamedDependency[Session], application_id: FromPath[int], check_code: FromPath[str]
    ) -> Redirect:
        try:
            formal_review.remove_override(
                db, actor=actor_of(request), application_id=application_id, check_code=check_code, today=today_beijing()
            )
            db.commit()
            flash(request, "已撤销该检查项的豁免。")
        except ServiceError as exc:
            db.rollback()
            flash(request, exc.message, "error")
        return Redirect(path=f"/applications/{application_id}#formal", status_code=303)

    @post("/facts", guards=[staff_only], sync_to_thread=True)
    def facts(
        self, request: Request, db: NamedDependency[Session], application_id: FromPath[int], data: FormData
    ) -> Any:
        form = validate(data, FACT_FIELDS)
        if form.ok:
            try:
                formal_review.update_facts(
                    db,
                    actor=actor_of(request),
                    application_id=application_id,
                    row_version=form.values["row_version"],
                    above_designated_size=form.values["above_designated_size"],
                    is_branch=form.values["is_branch"],
                    branch_industry=form.values["branch_industry"],
                    major_accident=form.values["major_accident"],
                    serious_dishonesty=form.values["serious_dishonesty"],
                    today=today_beijing(),
                )
                db.commit()
                flash(request, "核查信息已保存，形式审查检查已重新计算。")
                return Redirect(path=f"/applications/{application_id}#facts", status_code=303)
            except ServiceError as exc:
                db.rollback()
                form.add_error("facts", exc.message)
        return self._detail_page(request, db, application_id, errors={"facts": next(iter(form.errors.values()))})

    @post("/attachments", guards=[staff_only], sync_to_thread=True)
    def upload(
        self, request: Request, db: NamedDependency[Session], application_id: FromPath[int], data: MultipartData
    ) -> Redirect:
        _application(db, application_id)
        upload = _read_upload(data)
        if upload is None:
            flash(request, "附件未上传：请选择要上传的文件。", "error")
            return Redirect(path=f"/applications/{application_id}#attachments", status_code=303)
        try:
            stored = attachments.save_attachment(
                db,
                actor=actor_of(request),
                settings=settings_of(request),
                application_id=application_id,
                filename=upload[0],
                data=upload[1],
            )
            db.commit()
            flash(request, f"已上传附件《{stored.filename}》。")  # the name as kept (no directories)
        except ServiceError as exc:
            db.rollback()
            flash(request, f"附件未上传：{exc.message}", "error")
        return Redirect(path=f"/applications/{application_id}#attachments", status_code=303)

    @get("/attachments/{file_id:int}", opt=access("assigned"), sync_to_thread=True)
    def download(
        self, request: Request, db: NamedDependency[Session], application_id: FromPath[int], file_id: FromPath[int]
    ) -> Response[bytes]:
        application = _application(db, application_id)
        user: User = request.user
        if not service.can_view_application(user, application, db):
            raise NotFoundException("未找到该附件，或您无权查看。")
        try:
            stored = attachments.get_attachment(db, application_id=application_id, file_id=file_id)
        except NotFound as exc:
            raise NotFoundException(exc.message) from exc
        return files.download_response(request, stored, missing="附件文件已丢失，请联系系统管理员。")

    @post("/attachments/{file_id:int}/delete", guards=[staff_only], sync_to_thread=True)
    def delete(
        self, request: Request, db: NamedDependency[Session], application_id: FromPath[int], file_id: FromPath[int]
    ) -> Redirect:
        try:
            stored = attachments.delete_attachment(
                db, actor=actor_of(request), application_id=application_id, file_id=file_id
            )
            db.commit()
        except NotFound as exc:
            raise NotFoundException(exc.message) from exc
        files.stored_path(settings_of(request), stored).unlink(missing_ok=True)
        flash(request, f"已删除附件《{stored.filename}》。")
        return Redirect(path=f"/applications/{application_id}#attachments", status_code=303)
