"""The three administrators' pages (三员分立): accounts (系统管理员), role grants and the security policy
(安全管理员). The audit administrator's page is the audit log (audit.routes)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from reviewapp.auth import service
from reviewapp.auth.models import ADMIN_ROLES, ROLE_LABELS, Role
from reviewapp.auth.policy import NUMBER_LIMITS, current_policy, update_policy
from reviewapp.auth.rules import CLASS_NAMES, address_allowed, parse_networks
from reviewapp.errors import ServiceError
from reviewapp.forms import Field, validate
from reviewapp.web import (
    FormData,
    actor_of,
    client_addr,
    flash,
    no_store,
    paginate,
    parse_page,
    render,
    render_block,
    secadmin_only,
    settings_of,
    sysadmin_only,
)

# The system administrator makes accounts for the work; administrator roles are granted by the security
# administrator (and the first of each by the CLI).
ACCOUNT_ROLES = {Role.staff.value: Role.staff.label, Role.expert.value: Role.expert.label}
USER_FIELDS = [
    Field("username", "用户名", max_length=64, min_length=3),
    Field("display_name", "姓名", max_length=64),
    Field("role", "角色", kind="choice", choices=tuple(ACCOUNT_ROLES)),
]


class UserAdminController(Controller):
    path = "/admin/users"
    guards = [sysadmin_only]

    @get("/", sync_to_thread=True)
    def list_users(
        self,
        request: Request,
        db: NamedDependency[Session],
        q: FromQuery[str] = "",
        role: FromQuery[str] = "",
        status: FromQuery[str] = "",
        page: FromQuery[str] = "1",
    ) -> Template:
        result = paginate(
            db, service.list_users_query(q=q[:64], role=role, status=status), page=parse_page(page), per_page=30
        )
        context = {
            "page": result,
            "q": q,
            "role": role,
            "status": status,
            "roles": ROLE_LABELS,
            "admin_roles": ADMIN_ROLES,
        }
        if request.htmx and request.htmx.target == "user-table":  # type: ignore[attr-defined]
            return render_block("admin/users.html", "table", **context)
        return render("admin/users.html", **context)

    @get("/new", sync_to_thread=False)
    def new_user(self) -> Template:
        return render("admin/user_new.html", form={}, errors={}, roles=ACCOUNT_ROLES)

    @post("/", sync_to_thread=True)
    def create_user(self, request: Request, db: NamedDependency[Session], data: FormData) -> Template:
        form = validate(data, USER_FIELDS)
        if form.ok:
            password = service.one_time_password(db, settings_of(request))
            try:
                user = service.create_user(
                    db,
                    actor=actor_of(request),
                    username=form.values["username"],
                    display_name=form.values["display_name"],
                    role=form.values["role"],
                    password=password,
                    must_change_password=True,
                    settings=settings_of(request),
                )
                db.commit()
                return no_store(render("admin/credential.html", user=user, password=password, created=True))
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "username", exc.message)
        return render("admin/user_new.html", form=form.raw, errors=form.errors, roles=ACCOUNT_ROLES)

    @post("/{user_id:int}/disable", sync_to_thread=True)
    def disable(self, request: Request, db: NamedDependency[Session], user_id: FromPath[int]) -> Redirect:
        return self._set_active(request, db, user_id, False)

    @post("/{user_id:int}/enable", sync_to_thread=True)
    def enable(self, request: Request, db: NamedDependency[Session], user_id: FromPath[int]) -> Redirect:
        return self._set_active(request, db, user_id, True)

    def _set_active(self, request: Request, db: Session, user_id: int, active: bool) -> Redirect:
        try:
            user = service.set_active(db, actor=actor_of(request), user_id=user_id, active=active)
            db.commit()
            flash(request, f"已{'启用' if active else '停用'}用户 {user.username}。")
        except ServiceError as exc:
            db.rollback()
            flash(request, exc.message, "error")
        return Redirect(path="/admin/users", status_code=303)

    @post("/{user_id:int}/password", sync_to_thread=True)
    def reset_password(self, request: Request, db: NamedDependency[Session], user_id: FromPath[int]) -> Any:
        password = service.one_time_password(db, settings_of(request))
        try:
            user = service.set_one_time_password(
                db, actor=actor_of(request), user_id=user_id, password=password, settings=settings_of(request)
            )
            db.commit()
        except ServiceError as exc:
            db.rollback()
            flash(request, exc.message, "error")
            return Redirect(path="/admin/users", status_code=303)
        return no_store(render("admin/credential.html", user=user, password=password, created=False))


ROLE_FIELDS = [Field("role", "角色", kind="choice", choices=tuple(r.value for r in Role))]


class RoleAdminController(Controller):
    """Role grants: one role per account, so no account can hold two administrator roles."""

    path = "/admin/roles"
    guards = [secadmin_only]

    @get("/", sync_to_thread=True)
    def list_roles(
        self,
        request: Request,
        db: NamedDependency[Session],
        q: FromQuery[str] = "",
        role: FromQuery[str] = "",
        page: FromQuery[str] = "1",
    ) -> Template:
        result = paginate(db, service.list_users_query(q=q[:64], role=role), page=parse_page(page), per_page=30)
        return render("admin/roles.html", page=result, q=q, role=role, roles=ROLE_LABELS)

    @post("/{user_id:int}", sync_to_thread=True)
    def grant(self, request: Request, db: NamedDependency[Session], user_id: FromPath[int], data: FormData) -> Redirect:
        form = validate(data, ROLE_FIELDS)
        if not form.ok:
            flash(request, next(iter(form.errors.values())), "error")
            return Redirect(path="/admin/roles", status_code=303)
        try:
            user = service.grant_role(db, actor=actor_of(request), user_id=user_id, role=form.values["role"])
            db.commit()
            flash(request, f"{user.username} 的角色已改为{Role(user.role).label}。")
        except ServiceError as exc:
            db.rollback()
            flash(request, exc.message, "error")
        return Redirect(path="/admin/roles", status_code=303)


POLICY_FORM = [
    *(
        Field(name, label, kind="int", min_value=low, max_value=high)
        for name, (label, low, high) in NUMBER_LIMITS.items()
    ),
    Field("single_session", "每个账号只允许一个登录会话", kind="bool", required=False),
    Field("admin_networks", "允许访问管理页面的地址范围", kind="text", required=False, max_length=4000),
]


class PolicyController(Controller):
    path = "/admin/policy"
    guards = [secadmin_only]

    @get("/", sync_to_thread=True)
    def show(self, request: Request, db: NamedDependency[Session]) -> Template:
        policy = current_policy(db, settings_of(request))
        return self._page(request, {**policy.model_dump(), "single_session": policy.single_session}, {})

    @post("/", sync_to_thread=True)
    def save(self, request: Request, db: NamedDependency[Session], data: FormData) -> Any:
        form = validate(data, POLICY_FORM)
        if form.ok:
            values = {**form.values, "admin_networks": form.values.get("admin_networks") or ""}
            values["single_session"] = bool(values.get("single_session"))
            if not parse_networks(values["admin_networks"])[1] and not address_allowed(
                client_addr(request), values["admin_networks"]
            ):
                # Saving it would lock the security administrator out of the page that could undo it.
                form.add_error(
                    "admin_networks",
                    f"地址范围不包含您当前的地址 {client_addr(request)}，保存后您将无法再访问管理页面。",
                )
                return self._page(request, form.raw, form.errors)
            try:
                update_policy(db, actor=actor_of(request), values=values, settings=settings_of(request))
                db.commit()
                flash(request, "安全策略已保存，立即生效。")
                return Redirect(path="/admin/policy", status_code=303)
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "admin_networks", exc.message)
        return self._page(request, form.raw, form.errors)

    def _page(self, request: Request, form: dict[str, Any], errors: dict[str, str]) -> Template:
        return render(
            "admin/policy.html",
            form=form,
            errors=errors,
            limits=NUMBER_LIMITS,
            class_names=CLASS_NAMES,
            my_addr=client_addr(request),
        )
