"""Pages of the pool: expert profiles, search, import/export and the pool's rule settings (draws: draw_routes.py;
evaluation: evaluation_routes.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session, select

from reviewapp.applications.models import INDUSTRY_GROUPS
from reviewapp.clock import today_beijing
from reviewapp.errors import ServiceError
from reviewapp.forms import form_int, form_text, parse_date
from reviewapp.panels.models import Expert
from reviewapp.pool import profiles
from reviewapp.pool import settings as pool_settings
from reviewapp.rounds.rules import fmt_points
from reviewapp.web import (
    FormData,
    MultipartData,
    actor_of,
    flash,
    paginate,
    parse_page,
    render,
    render_block,
    staff_only,
    xlsx_response,
)


class PoolController(Controller):
    path = "/pool"
    guards = [staff_only]

    @get("/", sync_to_thread=True)
    def index(
        self,
        request: Request,
        db: NamedDependency[Session],
        q: FromQuery[str] = "",
        specialty: FromQuery[str] = "",
        city: FromQuery[str] = "",
        status: FromQuery[str] = "",
        title: FromQuery[str] = "",
        page: FromQuery[str] = "1",
    ) -> Template:
        filters = {"q": q, "specialty": specialty, "city": city, "status": status, "title": title}
        result = paginate(db, profiles.search_query(**filters), page=parse_page(page), per_page=50)
        rows = [(e, p or profiles.PoolProfile(expert_id=e.id)) for e, p in result.items]
        context = {
            "page": result,
            "rows": rows,
            "export_url": "/pool/export.xlsx" + (f"?{request.url.query}" if request.url.query else ""),
            "filters": filters,
            "groups": INDUSTRY_GROUPS,
            "statuses": profiles.STATUSES,
            "specialties": profiles.specialties,
            "windows_text": profiles.windows_text,
            "cities": sorted({c for c in db.exec(select(Expert.city).distinct()) if c}),
        }
        if request.htmx and request.htmx.target == "pool-table":  # type: ignore[attr-defined]
            return render_block("pool/index.html", "table", **context)
        return render("pool/index.html", **context)

    @get("/export.xlsx", sync_to_thread=True)
    def export(
        self,
        db: NamedDependency[Session],
        q: FromQuery[str] = "",
        specialty: FromQuery[str] = "",
        city: FromQuery[str] = "",
        status: FromQuery[str] = "",
        title: FromQuery[str] = "",
    ) -> Response[bytes]:
        data = profiles.export_bytes(db, q=q, specialty=specialty, city=city, status=status, title=title)
        return xlsx_response(f"评审专家库-{today_beijing().isoformat()}.xlsx", data)

    @get("/import", sync_to_thread=False)
    def import_form(self) -> Template:
        return render("pool/import.html", problems=[])

    @post("/import", sync_to_thread=True)
    def import_file(self, request: Request, db: NamedDependency[Session], data: MultipartData) -> Any:
        upload = data.get("file")
        content = upload.file.read(20 * 1024 * 1024) if upload is not None and hasattr(upload, "file") else b""
        if not content:
            return render("pool/import.html", problems=["请选择要导入的 Excel 文件（.xlsx）。"])
        result = profiles.import_profiles(db, actor=actor_of(request), data=content, today=today_beijing())
        if result.problems:
            db.rollback()
            return render("pool/import.html", problems=result.problems)
        db.commit()
        flash(request, f"已导入 {result.updated} 位专家的专家库信息。")
        return Redirect(path="/pool", status_code=303)

    @get("/settings", sync_to_thread=True)
    def settings_form(self, db: NamedDependency[Session]) -> Template:
        return render("pool/settings.html", **_settings_context(pool_settings.current(db), None, {}))

    @post("/settings", sync_to_thread=True)
    def save_settings(self, request: Request, db: NamedDependency[Session], data: FormData) -> Any:
        form = {k: form_text(data, k) for k in ("suspend_below", "suspend_months")}
        try:
            pool_settings.save(
                db, actor=actor_of(request), **form, row_version=form_int(form_text(data, "row_version"), -1)
            )
            db.commit()
        except ServiceError as exc:
            db.rollback()
            return render(
                "pool/settings.html",
                **_settings_context(pool_settings.current(db), form, {exc.field or "_": exc.message}),
            )
        flash(request, "已保存专家库规则。")
        return Redirect(path="/pool/settings", status_code=303)

    @get("/experts/{expert_id:int}", sync_to_thread=True)
    def profile(self, db: NamedDependency[Session], expert_id: FromPath[int]) -> Template:
        expert = profiles.get_expert(db, expert_id)
        profile = profiles.get_profile(db, expert_id)
        return render("pool/profile.html", **_profile_context(expert, profile, None, {}))

    @post("/experts/{expert_id:int}", sync_to_thread=True)
    def save_profile(
        self, request: Request, db: NamedDependency[Session], expert_id: FromPath[int], data: FormData
    ) -> Any:
        expert = profiles.get_expert(db, expert_id)
        values = {k: form_text(data, k) for k in ("tags", "province", "availability", "status", "status_reason")}
        values["suspended_until"] = parse_date(form_text(data, "suspended_until"))
        try:
            profiles.update_profile(
                db,
                actor=actor_of(request),
                expert_id=expert_id,
                values=values,
                row_version=form_int(form_text(data, "row_version"), 1),
                today=today_beijing(),
            )
            db.commit()
        except ServiceError as exc:
            db.rollback()
            errors = {exc.field or "_": exc.message}
            return render(
                "pool/profile.html", **_profile_context(expert, profiles.get_profile(db, expert_id), values, errors)
            )
        flash(request, f"已保存 {expert.name} 的专家库信息。")
        return Redirect(path="/pool", status_code=303)


def _settings_context(current: Any, form: dict[str, str] | None, errors: dict[str, str]) -> dict[str, Any]:
    form = form or {"suspend_below": fmt_points(current.suspend_below), "suspend_months": str(current.suspend_months)}
    return {"current": current, "form": form, "errors": errors, "max_months": pool_settings.MAX_MONTHS}


def _profile_context(
    expert: Expert, profile: Any, form: dict[str, Any] | None, errors: dict[str, str]
) -> dict[str, Any]:
    form = form or {
        "tags": "、".join(profiles.tags_of(profile)),
        "province": profile.province,
        "availability": profiles.windows_text(profile),
        "status": profile.status,
        "status_reason": profile.status_reason,
        "suspended_until": profile.suspended_until.isoformat() if profile.suspended_until else "",
    }
    if isinstance(form.get("suspended_until"), date):
        form["suspended_until"] = form["suspended_until"].isoformat()
    return {
        "expert": expert,
        "profile": profile,
        "form": form,
        "errors": errors,
        "statuses": {s: s for s in profiles.STATUSES},
        "industries": profiles.loads(expert.specialties_json),
    }


# --- the draw ---------------------------------------------------------------------------------------------------
