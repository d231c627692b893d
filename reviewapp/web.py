"""Shared web plumbing: the session middleware, guards, flash messages, pagination and template helpers."""

from __future__ import annotations

import asyncio
import json
import math
import weakref
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Annotated, Any
from urllib.parse import quote, unquote, urlencode

import anyio
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, UploadFile
from litestar.enums import MediaType, RequestEncodingType
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.params import Body
from litestar.response import Template
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy import func
from sqlmodel import Session, select

from reviewapp.audit import Actor
from reviewapp.auth.models import ADMIN_ROLES, Role, User
from reviewapp.auth.rules import address_allowed
from reviewapp.clock import as_utc
from reviewapp.db import session_scope
from reviewapp.errors import NotFound
from reviewapp.excel import XLSX_MEDIA_TYPE, content_disposition
from reviewapp.files import check_upload
from reviewapp.settings import Settings

SESSION_COOKIE = "reviewapp_session"
FLASH_COOKIE = "reviewapp_flash"

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
MultipartData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


# --- settings and database per request ------------------------------------------------------------


def settings_of(connection: ASGIConnection) -> Settings:
    return connection.app.state.settings  # type: ignore[no-any-return]


def provide_db(request: Request) -> Iterator[Session]:
    """One session per request. Writers (non-GET) start with the SQLite write lock held."""
    state = request.app.state
    engine = state.engine if request.method in {"GET", "HEAD"} else state.writer_engine
    with Session(engine, expire_on_commit=False) as session:
        yield session


async def in_writer_thread(request: Request, fn: Callable[..., Any], /, *args: Any) -> Any:
    """Run fn(*args) in the app's one writer thread (the autosave's). Saves queue on the event loop and the
    thread takes the next as soon as it is free: no worker threads wait for SQLite's write lock, and none
    is woken only to wait again (with the GIL, waking threads that then contend costs more than the save)."""
    return await asyncio.get_running_loop().run_in_executor(request.app.state.writer, partial(fn, *args))


def client_addr(connection: ASGIConnection) -> str:
    if settings_of(connection).trust_proxy_headers:
        forwarded = connection.headers.get("x-forwarded-for", "")
        if forwarded:
            return forwarded.split(",")[0].strip()[:64]
    return (connection.client.host if connection.client else "")[:64]


def actor_of(request: Request) -> Actor:
    user: User | None = request.user
    if user is None:
        return Actor(None, "访客", client_addr(request))
    return Actor(user.id, user.username, client_addr(request))


# --- authentication middleware --------------------------------------------------------------------


# Route opt of a handler that reads the session itself, in the same database round trip as its own work
# (the autosave): the middleware leaves scope["user"] None for it, and the handler calls `check_access`.
SESSION_IN_HANDLER = {"session_in_handler": True}


class SessionAuthMiddleware(ASGIMiddleware):
    """Puts the signed-in User (or None) into scope["user"], reading the database off the event loop."""

    def should_bypass_for_scope(self, scope: Scope) -> bool:
        # Static files and the health check need no user: no session lookup for them.
        path = scope.get("path", "")
        return path.startswith("/static/") or path == "/healthz"

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        scope["user"] = None
        app = scope["litestar_app"]
        async with db_slots(app):
            token = _cookie(scope, SESSION_COOKIE)
            if token and not scope["route_handler"].opt.get("session_in_handler"):
                settings: Settings = app.state.settings

                def _load() -> Any:
                    from reviewapp.auth.service import load_session

                    with session_scope(app.state.engine) as session:
                        return load_session(session, token=token, idle_minutes=settings.session_idle_minutes)

                lookup = await anyio.to_thread.run_sync(_load)
                sign_in_scope(scope, lookup)
            await next_app(scope, receive, send)


# Connections of the pool kept out of the request slots: a few requests open a second session of their own
# (the audit log's writer, documents, exports) and the CLI-style helpers they call.
POOL_RESERVE = 4


def db_slots(app: Any) -> asyncio.Semaphore:
    """The requests of this process that may be inside the database part of their work at once: the pool's
    connections less POOL_RESERVE. A request holds its connection from its handler's first query until the
    response is rendered and the session closed on the event loop; under a burst, finished handlers waited
    there for the loop while the worker threads started new ones and the session lookups of new requests
    took more connections, until the pool (20 + 20) ran dry and requests failed after its 30 s timeout.
    Requests now wait for a slot on the event loop instead, and the pool always has a connection for each
    slot. One semaphore per event loop (tests run one app under several loops)."""
    loop = asyncio.get_running_loop()
    slots = app.state.get("db_slots")
    if slots is None:
        slots = app.state.db_slots = weakref.WeakKeyDictionary()
    semaphore = slots.get(loop)
    if semaphore is None:
        pool = app.state.engine.pool
        capacity = pool.size() + max(0, getattr(pool, "_max_overflow", 0))
        semaphore = slots[loop] = asyncio.Semaphore(max(1, capacity - POOL_RESERVE))
    return semaphore


def sign_in_scope(scope: Scope, lookup: Any) -> None:
    """Record a session lookup (auth.service.SessionLookup) on the request."""
    scope["user"] = lookup.user
    if lookup.expired:
        scope.setdefault("state", {})["session_expired"] = True
    if lookup.policy is not None:
        scope.setdefault("state", {})["security_policy"] = lookup.policy


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name:
                    return v
    return None


# --- guards ---------------------------------------------------------------------------------------

# Every route declares who may use it, next to its handler (tests/integration/test_authorization_matrix.py reads
# the declarations and requests every route as every kind of user). The guards below declare their roles; a route
# whose answer depends on more than the role declares that in its opt with `access(...)`, one of ACCESS:
ACCESS = {
    "public": "anyone, signed in or not",
    "signed_in": "any signed-in user (the guard's roles)",
    "assigned": "an expert on the panel the application is assigned to, not conflicted with it (staff too where the "
    "guard lets them)",
    "chair": "the chair of the panel in the path",
}


def access(label: str) -> dict[str, str]:
    """Route opt declaring an audience narrower than the guard's roles (a key of ACCESS)."""
    assert label in ACCESS, label
    return {"access": label}


PUBLIC = {"public": True, **access("public")}


def require(*roles: Role) -> Callable[[ASGIConnection, BaseRouteHandler], Awaitable[None]]:
    """Guard: signed in, password not pending change, and one of `roles` (none given = any role)."""

    allowed = {r.value for r in roles}

    async def guard(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
        # A coroutine: Litestar runs a plain function guard in a worker thread, a thread hop per request for
        # a check that reads only the request.
        check_access(connection, allowed)

    guard.roles = tuple(sorted(allowed))  # type: ignore[attr-defined]
    return guard


def check_access(connection: ASGIConnection, allowed: set[str]) -> None:
    """The guards' rule, also called by SESSION_IN_HANDLER handlers once they have read the session."""
    user: User | None = connection.user
    if user is None:
        raise NotAuthorizedException("请先登录。")
    if user.must_change_password and connection.url.path not in {"/account/password", "/logout"}:
        raise PasswordChangeRequired()
    if allowed and user.role not in allowed:
        raise PermissionDeniedException("您没有权限访问此页面。")
    if allowed and user.role in ADMIN_ROLES:
        # Administrator pages answer only inside the security policy's address ranges (none set: everywhere).
        policy = connection.scope.get("state", {}).get("security_policy")
        if policy is not None and not address_allowed(client_addr(connection), policy.admin_networks):
            raise PermissionDeniedException(
                "您当前的网络地址不在管理页面允许访问的地址范围内，请在指定的管理终端上操作。"
            )


signed_in = require()
# 三员分立: each administrator role has its own pages and no reviewing work; staff do the work.
staff_only = require(Role.staff)
sysadmin_only = require(Role.sysadmin)
secadmin_only = require(Role.secadmin)
auditadmin_only = require(Role.auditadmin)
audit_readers = require(Role.staff, Role.auditadmin)  # staff see the work's entries, the auditor everything


class PasswordChangeRequired(NotAuthorizedException):
    """A one-time password is in use: everything but changing it is refused."""


# --- flash messages -------------------------------------------------------------------------------


def flash(request: Request, message: str, level: str = "success") -> None:
    """Queue a message for the next page this browser shows (kept in a short-lived cookie)."""
    pending = request.state.get("flash_out", [])
    pending.append([level, message])
    request.state.flash_out = pending


def take_flashes(request: Request) -> list[tuple[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    request.state.flash_taken = True
    if not raw:
        return []
    try:
        items = json.loads(unquote(raw))
        return [(str(level), str(msg)) for level, msg in items][:10]
    except (ValueError, TypeError):
        return []


async def flash_before_send(message: Message, scope: Scope) -> None:
    """Write queued flashes into the cookie, and clear the cookie once a page has shown them."""
    if message["type"] != "http.response.start":
        return
    state = scope.get("state", {})
    out = state.get("flash_out")
    headers = message.setdefault("headers", [])
    if out:
        value = quote(json.dumps(out, ensure_ascii=False))
        cookie = Cookie(key=FLASH_COOKIE, value=value, path="/", httponly=True, samesite="lax", max_age=120)
        headers.append(cookie.to_encoded_header())
    elif state.get("flash_taken") and _cookie(scope, FLASH_COOKIE):
        cookie = Cookie(key=FLASH_COOKIE, value="", path="/", httponly=True, samesite="lax", max_age=0)
        headers.append(cookie.to_encoded_header())


# --- multipart forms with files ---------------------------------------------------------------------


def form_fields(data: dict[str, Any]) -> dict[str, Any]:
    """A multipart form without its files, for forms.validate."""
    return {k: v for k, v in data.items() if k != "files" and not isinstance(v, UploadFile)}


def checked_uploads(
    data: dict[str, Any], *, max_bytes: int, max_count: int
) -> tuple[list[tuple[str, bytes]], str | None]:
    """The files of a multipart form's "files" field, each checked for type, content and size."""
    raw = data.get("files")
    items = raw if isinstance(raw, list) else [raw]
    files = [f for f in items if isinstance(f, UploadFile) and f.filename]
    if len(files) > max_count:
        return [], f"一次最多上传 {max_count} 个文件。"
    out: list[tuple[str, bytes]] = []
    for upload in files:
        content = upload.file.read(max_bytes + 1)
        problem = check_upload(upload.filename, content, max_bytes=max_bytes)
        if problem:
            return [], problem
        out.append((upload.filename, content))
    return out, None


# --- pagination -----------------------------------------------------------------------------------


@dataclass
class Page:
    items: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.total, self.page * self.per_page)


def parse_page(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 100000))
    except ValueError:
        return 1


def paginate(session: Session, stmt: Any, *, page: int, per_page: int = 50) -> Page:
    total = session.exec(select(func.count()).select_from(stmt.order_by(None).subquery())).one()
    pages = max(1, math.ceil(total / per_page))
    page = min(page, pages)
    items = list(session.exec(stmt.offset((page - 1) * per_page).limit(per_page)).all())
    return Page(items=items, total=int(total), page=page, per_page=per_page)


def url_with(request: Request, **changes: Any) -> str:
    """The current URL with some query parameters changed (None removes one)."""
    params = {k: v for k, v in request.query_params.items()}
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return request.url.path + ("?" + urlencode(params) if params else "")


# --- formatting for templates ---------------------------------------------------------------------


def make_formatters(settings: Settings) -> dict[str, Callable[..., str]]:
    tz = settings.tz

    def bjtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        if value is None:
            return ""
        return as_utc(value).astimezone(tz).strftime(fmt)

    def cndate(value: date | datetime | None) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = as_utc(value).astimezone(tz).date()
        return f"{value.year}年{value.month}月{value.day}日"

    return {"bjtime": bjtime, "cndate": cndate}


# --- rendering ------------------------------------------------------------------------------------


def render(template_name: str, /, *, status_code: int = 200, **context: Any) -> Template:
    """A full page. The media type is explicit: handlers that may also redirect are annotated loosely."""
    return Template(template_name=template_name, context=context, status_code=status_code, media_type=MediaType.HTML)


def no_store(response: Template) -> Template:
    """Confidential pages (passwords shown once, score sheets): no browser or proxy keeps a copy."""
    response.headers["Cache-Control"] = "no-store"
    return response


def render_block(template_name: str, block_name: str, /, **context: Any) -> Template:
    """One named block of a page, for an htmx swap (validation errors come back with 200)."""
    from jinja2_fragments.litestar import HTMXBlockTemplate

    return HTMXBlockTemplate(
        template_name=template_name, block_name=block_name, context=context, media_type=MediaType.HTML
    )


# --- small request and response helpers shared by controllers ------------------------------------


def int_or_none(value: Any) -> int | None:
    """A form or query value as an int, None when empty or not a number."""
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def int_list(values: Any) -> list[int]:
    """The positive ints among form values (e.g. the checked users of a multi-select)."""
    return [i for i in (int_or_none(x) for x in values or []) if i]


def htmx_target(request: Request) -> str:
    """The id of the element an htmx request swaps ("" for an ordinary request)."""
    return request.htmx.target if getattr(request, "htmx", None) else ""  # type: ignore[attr-defined]


def is_htmx(request: Request) -> bool:
    """Whether the request comes from htmx (with or without a target)."""
    return bool(getattr(request, "htmx", False))


def found_or_404(getter: Callable[..., Any], db: Session, row_id: int) -> Any:
    """getter(db, row_id), a service's NotFound turned into the 404 page."""
    try:
        return getter(db, row_id)
    except NotFound as exc:
        raise NotFoundException(exc.message) from exc


def xlsx_response(filename: str, data: bytes) -> Response[bytes]:
    """An Excel workbook as a download named `filename`, never cached (lists hold names and scores)."""
    return Response(
        content=data,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": content_disposition(filename), "Cache-Control": "no-store"},
    )
