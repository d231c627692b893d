"""Login, logout, own password, and the administrator's user pages."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from reviewapp.auth import service
from reviewapp.auth.models import ROLE_LABELS, Role
from reviewapp.auth.passwords import generate_password
from reviewapp.auth.rules import safe_next
from reviewapp.errors import ServiceError
from reviewapp.forms import Field, validate
from reviewapp.web import (
    PUBLIC,
    SESSION_COOKIE,
    FormData,
    actor_of,
    admin_only,
    client_addr,
    flash,
    paginate,
    parse_page,
    render,
    render_block,
    settings_of,
    signed_in,
)

LOGIN_FIELDS = [
    Field("username", "用户名", max_length=64),
    Field("password", "密码", max_length=128, strip=False),
    Field("next", "跳转地址", required=False, max_length=500),
]


class AuthController(Controller):
    opt = PUBLIC

    @get("/login", sync_to_thread=False)
    def login_page(self, request: Request, next: FromQuery[str] = "", expired: FromQuery[str] = "") -> Template:  # noqa: A002
        return render("auth/login.html", next=safe_next(next, ""), expired=bool(expired), form={}, error=None)

    @post("/login", sync_to_thread=True)
    def login(self, request: Request, db: NamedDependency[Session], data: FormData) -> Any:
        settings = settings_of(request)
        form = validate(data, LOGIN_FIELDS)
        nxt = safe_next(form.raw.get("next"), "")
        if not form.ok:
            return render("auth/login.html", next=nxt, form=form.raw, error=next(iter(form.errors.values())))
        addr = client_addr(request)
        result = service.authenticate(
            db, username=form.values["username"], password=form.values["password"], client_addr=addr, settings=settings
        )
        if result.user is None:
            db.commit()  # keep the failed attempt for the throttle
            return render("auth/login.html", next=nxt, form={"username": form.raw["username"]}, error=result.error)
        token = service.start_session(
            db, user=result.user, client_addr=addr, user_agent=request.headers.get("user-agent", "")
        )
        db.commit()
        target = "/account/password" if result.user.must_change_password else (nxt or "/")
        return Redirect(
            path=target,
            status_code=303,
            cookies=[
                Cookie(
                    key=SESSION_COOKIE,
                    value=token,
                    path="/",
                    httponly=True,
                    samesite="lax",
                    secure=settings.is_production,
                )
            ],
        )

    @post("/logout", sync_to_thread=True)
    def logout(self, request: Request, db: NamedDependency[Session]) -> Redirect:
        token = request.cookies.get(SESSION_COOKIE, "")
        if token:
            service.end_session(db, token=token, user=request.user, client_addr=client_addr(request))
            db.commit()
        response = Redirect(path="/login?bye=1", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response


PASSWORD_FIELDS = [
    Field("current_password", "当前密码", max_length=128, strip=False),
    Field("new_password", "新密码", max_length=128, strip=False),
    Field("confirm_password", "确认新密码", max_length=128, strip=False),
]


class AccountController(Controller):
    path = "/account"
    guards = [signed_in]

    @get("/password", sync_to_thread=False)
    def password_page(self, request: Request) -> Template:
        return render("auth/password.html", errors={}, min_length=settings_of(request).password_min_length)

    @post("/password", sync_to_thread=True)
    def change_password(self, request: Request, db: NamedDependency[Session], data: FormData) -> Any:
        form = validate(data, PASSWORD_FIELDS)
        if form.ok and form.values["new_password"] != form.values["confirm_password"]:
            form.add_error("confirm_password", "两次输入的新密码不一致。")
        if form.ok:
            try:
                service.change_own_password(
                    db,
                    actor=actor_of(request),
                    user_id=request.user.id,
                    current_password=form.values["current_password"],
                    new_password=form.values["new_password"],
                    keep_token=request.cookies.get(SESSION_COOKIE),
                    settings=settings_of(request),
                )
                db.commit()
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "new_password", exc.message)
        if not form.ok:
            return render("auth/password.html", errors=form.errors, min_length=settings_of(request).password_min_length)
        flash(request, "密码已修改。您在其他设备上的登录已结束。")
        return Redirect(path="/", status_code=303)


USER_FIELDS = [
    Field("username", "用户名", max_length=64, min_length=3),
    Field("display_name", "姓名", max_length=64),
    Field("role", "角色", kind="choice", choices=tuple(r.value for r in Role)),
]


class UserAdminController(Controller):
    path = "/admin/users"
    guards = [admin_only]

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
        context = {"page": result, "q": q, "role": role, "status": status, "roles": ROLE_LABELS}
        if request.htmx and request.htmx.target == "user-table":  # type: ignore[attr-defined]
            return render_block("admin/users.html", "table", **context)
        return render("admin/users.html", **context)

    @get("/new", sync_to_thread=False)
    def new_user(self) -> Template:
        return render("admin/user_new.html", form={}, errors={}, roles=ROLE_LABELS)

    @post("/", sync_to_thread=True)
    def create_user(self, request: Request, db: NamedDependency[Session], data: FormData) -> Template:
        form = validate(data, USER_FIELDS)
        password = generate_password(max(12, settings_of(request).password_min_length))
        if form.ok:
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
                return render("admin/credential.html", user=user, password=password, created=True)
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "username", exc.message)
        return render("admin/user_new.html", form=form.raw, errors=form.errors, roles=ROLE_LABELS)

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
    def reset_password(self, request: Request, db: NamedDependency[Session], user_id: FromPath[int]) -> Template:
        password = generate_password(max(12, settings_of(request).password_min_length))
        user = service.set_one_time_password(
            db, actor=actor_of(request), user_id=user_id, password=password, settings=settings_of(request)
        )
        db.commit()
        return render("admin/credential.html", user=user, password=password, created=False)
