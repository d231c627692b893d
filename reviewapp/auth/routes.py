"""Login, logout and one's own password (the administrators' pages are in auth.admin_routes)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from reviewapp.auth import service
from reviewapp.auth.policy import current_policy
from reviewapp.auth.rules import CLASS_NAMES, safe_next
from reviewapp.errors import ServiceError
from reviewapp.forms import Field, validate
from reviewapp.web import (
    PUBLIC,
    SESSION_COOKIE,
    FormData,
    actor_of,
    client_addr,
    flash,
    render,
    settings_of,
    signed_in,
)

LOGIN_FIELDS = [
    Field("username", "用户名", max_length=64),
    Field("password", "密码", max_length=128, strip=False),
    Field("next", "跳转地址", required=False, max_length=500),
]


def _login_page(request: Request, db: Session, **context: Any) -> Template:
    from reviewapp.demo import demo_logins  # the demo imports every domain; only this page needs it

    return render("auth/login.html", demo_logins=demo_logins(db, settings=settings_of(request)), **context)


class AuthController(Controller):
    opt = PUBLIC

    @get("/login", sync_to_thread=True)
    def login_page(
        self,
        request: Request,
        db: NamedDependency[Session],
        next: FromQuery[str] = "",  # noqa: A002
        expired: FromQuery[str] = "",
    ) -> Template:
        return _login_page(request, db, next=safe_next(next, ""), expired=bool(expired), form={}, error=None)

    @post("/login", sync_to_thread=True)
    def login(self, request: Request, db: NamedDependency[Session], data: FormData) -> Any:
        settings = settings_of(request)
        form = validate(data, LOGIN_FIELDS)
        nxt = safe_next(form.raw.get("next"), "")
        if not form.ok:
            return _login_page(request, db, next=nxt, form=form.raw, error=next(iter(form.errors.values())))
        addr = client_addr(request)
        result = service.authenticate(
            db, username=form.values["username"], password=form.values["password"], client_addr=addr, settings=settings
        )
        if result.user is None:
            db.commit()  # keep the failed attempt for the throttle
            return _login_page(request, db, next=nxt, form={"username": form.raw["username"]}, error=result.error)
        token = service.start_session(
            db, user=result.user, client_addr=addr, user_agent=request.headers.get("user-agent", ""), settings=settings
        )
        db.commit()
        if result.password_expired:
            flash(request, "您的密码已超过有效期，请先修改密码。", "warning")
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

    @get("/password", sync_to_thread=True)
    def password_page(self, request: Request, db: NamedDependency[Session]) -> Template:
        return _password_page(request, db, {})

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
            return _password_page(request, db, form.errors)
        flash(request, "密码已修改。您在其他设备上的登录已结束。")
        return Redirect(path="/", status_code=303)


def _password_page(request: Request, db: Session, errors: dict[str, str]) -> Template:
    policy = current_policy(db, settings_of(request))
    return render(
        "auth/password.html",
        errors=errors,
        min_length=policy.password_min_length,
        min_classes=policy.password_min_classes,
        class_names=CLASS_NAMES,
        history=policy.password_history,
    )
