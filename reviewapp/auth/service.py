"""Account operations: users, login with throttling, database-backed sessions, passwords."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, update
from sqlmodel import Session, select

from reviewapp import audit
from reviewapp.audit import Actor
from reviewapp.auth.models import LoginAttempt, Role, User, UserSession
from reviewapp.auth.passwords import hash_password, needs_rehash, verify_password
from reviewapp.auth.rules import password_problems
from reviewapp.clock import as_utc, utcnow
from reviewapp.errors import NotFound, ServiceError
from reviewapp.settings import Settings

audit.register_labels(
    actions={
        "user.create": "创建用户",
        "user.disable": "停用用户",
        "user.enable": "启用用户",
        "user.reset_password": "设置一次性密码",
        "user.change_password": "修改密码",
        "auth.login": "登录",
        "auth.logout": "退出登录",
        "auth.throttled": "登录受限",
    },
    entities={"user": "用户"},
)

USERNAME_ALLOWED = set("abcdefghijklmnopqrstuvwxyz0123456789._-")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def normalise_username(raw: str) -> str:
    return raw.strip().lower()


def username_problems(username: str) -> list[str]:
    if not 3 <= len(username) <= 64:
        return ["用户名长度应为 3–64 个字符。"]
    if not set(username) <= USERNAME_ALLOWED:
        return ["用户名只能包含小写字母、数字、点、下划线和连字符。"]
    return []


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("未找到该用户。")
    return user


def find_user(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == normalise_username(username))).first()


def create_user(
    session: Session,
    *,
    actor: Actor,
    username: str,
    display_name: str,
    role: Role | str,
    password: str,
    must_change_password: bool = True,
    settings: Settings,
) -> User:
    username = normalise_username(username)
    role = Role(role)
    problems = username_problems(username)
    if problems:
        raise ServiceError(problems[0], field="username")
    if not display_name.strip():
        raise ServiceError("请填写姓名。", field="display_name")
    if find_user(session, username) is not None:
        raise ServiceError(f"用户名 {username} 已存在。", field="username")
    problems = password_problems(password, username=username, min_length=settings.password_min_length)
    if problems:
        raise ServiceError(problems[0], field="password")
    user = User(
        username=username,
        display_name=display_name.strip()[:64],
        role=role.value,
        password_hash=hash_password(password),
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.create",
        entity_type="user",
        entity_id=user.id,
        summary=f"创建用户 {username}（{role.label}）",
        after={"username": username, "display_name": user.display_name, "role": role.value},
    )
    return user


# --- login and throttling -------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    error: str | None = None


def _recent_failures(session: Session, *, username: str, client_addr: str, since) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    by_user = session.exec(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.username == username, LoginAttempt.at >= since)
    ).one()
    by_addr = session.exec(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.client_addr == client_addr, LoginAttempt.at >= since)
    ).one()
    return int(by_user), int(by_addr)


BAD_CREDENTIALS = "用户名或密码错误。"


def authenticate(
    session: Session, *, username: str, password: str, client_addr: str, settings: Settings
) -> LoginResult:
    """Check a login attempt. Unknown user and wrong password give the same answer."""
    username = normalise_username(username)[:64]
    now = utcnow()
    window = timedelta(minutes=settings.login_window_minutes)
    by_user, by_addr = _recent_failures(session, username=username, client_addr=client_addr, since=now - window)
    if by_user >= settings.login_max_failures or by_addr >= settings.login_max_failures:
        return LoginResult(
            None,
            f"登录失败次数过多，已暂时禁止登录。请 {settings.login_window_minutes} 分钟后再试，"
            "或联系系统管理员重置密码。",
        )
    user = find_user(session, username)
    stored_hash = user.password_hash if user else None
    # End the read before the deliberately slow hash check (argon2, most of a second on a busy machine): on
    # SQLite a POST's transaction holds the database's one write lock from its first statement, and a burst of
    # logins (a review day's morning) would queue behind each other's hashing until they fail with "database is
    # locked". The writes below start a new transaction; `user` reloads in it, so a disabling that happened
    # meanwhile is still seen. (The throttle counts were read before hashing, as on PostgreSQL before.)
    session.rollback()
    ok = verify_password(stored_hash, password)
    if not ok or user is None or not user.is_active:
        session.add(LoginAttempt(username=username, client_addr=client_addr, at=now))
        if by_user + 1 >= settings.login_max_failures or by_addr + 1 >= settings.login_max_failures:
            audit.record(
                session,
                actor=Actor(None, username, client_addr),
                action="auth.throttled",
                entity_type="user",
                entity_id=user.id if user else "",
                summary=f"账号 {username} 或地址 {client_addr} 连续登录失败，已暂时禁止登录",
            )
        # A disabled account gets the same message: do not reveal which accounts exist or are disabled.
        return LoginResult(None, BAD_CREDENTIALS)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    session.add(user)
    # A successful login clears this account's failures; the address's stay (they may be other accounts').
    session.exec(delete(LoginAttempt).where(LoginAttempt.username == username))  # type: ignore[call-overload]
    audit.record(
        session,
        actor=Actor(user.id, user.username, client_addr),
        action="auth.login",
        entity_type="user",
        entity_id=user.id,
        summary=f"{user.display_name}（{user.username}）登录",
    )
    return LoginResult(user)


def start_session(session: Session, *, user: User, client_addr: str, user_agent: str) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=_token_hash(token),
            user_id=user.id,  # type: ignore[arg-type]
            client_addr=client_addr[:64],
            user_agent=user_agent[:255],
        )
    )
    return token


@dataclass(frozen=True)
class SessionLookup:
    user: User | None
    expired: bool = False


# The session lookup in pieces, built once: it runs on every request, and building a statement costs more
# than running it. The autosave joins its own checks onto the same pieces (scoring.autosave), so that one
# query both validates the session and loads what the save needs.
_session_t, _user_t = UserSession.__table__, User.__table__  # type: ignore[attr-defined]
SESSION_FROM = _session_t.join(_user_t, _user_t.c.id == _session_t.c.user_id)
SESSION_COLUMNS = [
    _session_t.c.id.label("session_id"),
    _session_t.c.last_seen_at.label("session_seen"),
    *(c.label(f"user_{c.name}") for c in _user_t.columns),
]
SESSION_WHERE = _session_t.c.token_hash == bindparam("token_hash")
_SESSION_LOOKUP = select(*SESSION_COLUMNS).select_from(SESSION_FROM).where(SESSION_WHERE)


def token_params(token: str | None) -> dict[str, str] | None:
    """The lookup's parameters for a cookie token (None: no token, or not one of ours)."""
    if not token or len(token) > 128:
        return None
    return {"token_hash": _token_hash(token)}


def load_session(session: Session, *, token: str, idle_minutes: int) -> SessionLookup:
    """Find the signed-in user for a cookie token, ending the session when it is idle too long.

    Runs on every request, so it reads with one query; the rare writes (the once-a-minute touch, ending an
    idle session) run in a transaction of their own that starts with the write. On SQLite a read transaction
    that later writes fails at once with "database is locked" when another writer committed meanwhile.
    """
    params = token_params(token)
    if params is None:
        return SessionLookup(None)
    found = session.connection().execute(_SESSION_LOOKUP, params).first()
    session.rollback()  # end the read before any write
    return session_from_row(session, found, idle_minutes=idle_minutes, commit=True)


def session_from_row(session: Session, row: Any, *, idle_minutes: int, commit: bool) -> SessionLookup:
    """The session rules applied to a row of SESSION_COLUMNS (None: no such session): an idle session or a
    disabled account ends the session; an active one is touched at most once a minute. With `commit`, each
    write commits at once; without, the writes join the caller's transaction (one that already holds the
    write lock) and the caller commits them."""
    if row is None or row.session_id is None:
        return SessionLookup(None)
    # Detached, as the request needs it; built without validation (the values are the database's own): the
    # validating constructor cost 0.1 ms, on every request.
    user = User.model_construct(**{name: getattr(row, f"user_{name}") for name in _USER_COLUMNS})
    now = utcnow()
    idle = now - as_utc(row.session_seen)
    if idle > timedelta(minutes=idle_minutes) or not user.is_active:
        session.exec(delete(UserSession).where(UserSession.id == row.session_id))  # type: ignore[call-overload]
        if commit:
            session.commit()
        return SessionLookup(None, expired=True)
    # Touch at most once a minute: a review day has hundreds of experts autosaving.
    if idle > timedelta(seconds=60):
        session.exec(
            update(UserSession)
            .where(UserSession.id == row.session_id, UserSession.last_seen_at < now - timedelta(seconds=60))  # type: ignore[arg-type]
            .values(last_seen_at=now)
        )  # type: ignore[call-overload]
        if commit:
            session.commit()
    return SessionLookup(user)


_USER_COLUMNS = [c.name for c in _user_t.columns]


def end_session(session: Session, *, token: str, user: User | None, client_addr: str = "") -> None:
    session.exec(delete(UserSession).where(UserSession.token_hash == _token_hash(token)))  # type: ignore[call-overload]
    if user is not None:
        audit.record(
            session,
            actor=Actor(user.id, user.username, client_addr),
            action="auth.logout",
            entity_type="user",
            entity_id=user.id,
            summary=f"{user.display_name}（{user.username}）退出登录",
        )


def end_user_sessions(session: Session, *, user_id: int, keep_token: str | None = None) -> None:
    stmt = delete(UserSession).where(UserSession.user_id == user_id)
    if keep_token:
        stmt = stmt.where(UserSession.token_hash != _token_hash(keep_token))
    session.exec(stmt)  # type: ignore[call-overload]


# --- passwords and account state ------------------------------------------------------------------


def change_own_password(
    session: Session,
    *,
    actor: Actor,
    user_id: int,
    current_password: str,
    new_password: str,
    keep_token: str | None,
    settings: Settings,
) -> None:
    user = get_user(session, user_id)
    if not verify_password(user.password_hash, current_password):
        raise ServiceError("当前密码不正确。", field="current_password")
    problems = password_problems(new_password, username=user.username, min_length=settings.password_min_length)
    if problems:
        raise ServiceError(problems[0], field="new_password")
    if verify_password(user.password_hash, new_password):
        raise ServiceError("新密码不能与当前密码相同。", field="new_password")
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    session.add(user)
    # Every other browser of this user is signed out; the one that changed the password stays.
    end_user_sessions(session, user_id=user.id, keep_token=keep_token)  # type: ignore[arg-type]
    audit.record(
        session,
        actor=actor,
        action="user.change_password",
        entity_type="user",
        entity_id=user.id,
        summary=f"{user.username} 修改了自己的密码，其他登录会话已结束",
    )


def set_one_time_password(session: Session, *, actor: Actor, user_id: int, password: str, settings: Settings) -> User:
    user = get_user(session, user_id)
    problems = password_problems(password, username=user.username, min_length=settings.password_min_length)
    if problems:
        raise ServiceError(problems[0], field="password")
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.password_changed_at = utcnow()
    session.add(user)
    end_user_sessions(session, user_id=user.id)  # type: ignore[arg-type]
    session.exec(delete(LoginAttempt).where(LoginAttempt.username == user.username))  # type: ignore[call-overload]
    audit.record(
        session,
        actor=actor,
        action="user.reset_password",
        entity_type="user",
        entity_id=user.id,
        summary=f"为 {user.username} 设置一次性密码（下次登录须修改），其登录会话已结束",
    )
    return user


def set_active(session: Session, *, actor: Actor, user_id: int, active: bool) -> User:
    user = get_user(session, user_id)
    if actor.user_id == user.id and not active:
        raise ServiceError("不能停用自己的账号。")
    if user.is_active == active:
        return user
    user.is_active = active
    session.add(user)
    if not active:
        end_user_sessions(session, user_id=user.id)  # type: ignore[arg-type]
    audit.record(
        session,
        actor=actor,
        action="user.enable" if active else "user.disable",
        entity_type="user",
        entity_id=user.id,
        summary=f"{'启用' if active else '停用'}用户 {user.username}" + ("" if active else "，其登录会话已结束"),
        before={"is_active": not active},
        after={"is_active": active},
    )
    return user


def list_users_query(*, q: str = "", role: str = "", status: str = ""):  # type: ignore[no-untyped-def]
    stmt = select(User)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(User.username.like(like), User.display_name.like(like)))  # type: ignore[attr-defined]
    if role:
        stmt = stmt.where(User.role == role)
    if status == "active":
        stmt = stmt.where(User.is_active == True)  # noqa: E712
    elif status == "disabled":
        stmt = stmt.where(User.is_active == False)  # noqa: E712
    return stmt.order_by(User.role, User.username)
