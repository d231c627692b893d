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
from reviewapp.auth.models import (
    ADMIN_ROLES,
    LoginAttempt,
    PasswordHistory,
    Role,
    SecurityPolicy,
    User,
    UserSession,
)
from reviewapp.auth.passwords import generate_password, hash_password, needs_rehash, verify_password
from reviewapp.auth.policy import current_policy, policy_from_row
from reviewapp.auth.rules import password_expired, password_problems
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
        "user.grant_role": "授予角色",
        "auth.login": "登录",
        "auth.logout": "退出登录",
        "auth.throttled": "登录受限",
        "auth.password_expired": "密码过期",
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
    check_new_password(session, password, username=username, settings=settings)
    user = User(
        username=username,
        display_name=display_name.strip()[:64],
        role=role.value,
        password_hash=hash_password(password),
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    _remember_password(session, user)
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


def check_new_password(
    session: Session, password: str, *, username: str, settings: Settings, user_id: int | None = None
) -> None:
    """The policy's length and complexity, and (for an existing account) none of its last N passwords."""
    policy = current_policy(session, settings)
    problems = password_problems(
        password,
        username=username,
        min_length=policy.password_min_length,
        min_classes=policy.password_min_classes,
    )
    if problems:
        raise ServiceError("".join(problems), field="password")
    if user_id is not None and policy.password_history:
        recent = session.exec(
            select(PasswordHistory.password_hash)
            .where(PasswordHistory.user_id == user_id)
            .order_by(PasswordHistory.id.desc())  # type: ignore[union-attr]
            .limit(policy.password_history)
        ).all()
        if any(verify_password(old, password) for old in recent):
            raise ServiceError(f"新密码不能与最近 {policy.password_history} 次使用过的密码相同。", field="password")


def one_time_password(session: Session, settings: Settings) -> str:
    """A generated password that meets the current policy (long enough; three character classes)."""
    return generate_password(max(12, current_policy(session, settings).password_min_length))


def _remember_password(session: Session, user: User) -> None:
    session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash))  # type: ignore[arg-type]


# --- login and throttling -------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    error: str | None = None
    password_expired: bool = False


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
    # The failures are rows in the database: every app process counts the same ones.
    policy = current_policy(session, settings)
    max_failures = policy.lockout_failures
    window = timedelta(minutes=policy.lockout_minutes)
    by_user, by_addr = _recent_failures(session, username=username, client_addr=client_addr, since=now - window)
    if by_user >= max_failures or by_addr >= max_failures:
        return LoginResult(
            None,
            f"登录失败次数过多，已暂时禁止登录。请 {policy.lockout_minutes} 分钟后再试，或联系系统管理员重置密码。",
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
        if by_user + 1 >= max_failures or by_addr + 1 >= max_failures:
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
    expired = not user.must_change_password and password_expired(
        as_utc(user.password_changed_at or user.created_at), expiry_days=policy.password_expiry_days, now=now
    )
    if expired:
        user.must_change_password = True  # the guards then allow nothing but changing it
        audit.record(
            session,
            actor=Actor(user.id, user.username, client_addr),
            action="auth.password_expired",
            entity_type="user",
            entity_id=user.id,
            summary=f"{user.username} 的密码已超过 {policy.password_expiry_days} 天未修改，须修改后继续",
        )
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
    return LoginResult(user, password_expired=expired)


def start_session(
    session: Session, *, user: User, client_addr: str, user_agent: str, settings: Settings | None = None
) -> str:
    """A new signed-in browser; with the policy's single session, the account's other browsers are signed out."""
    token = secrets.token_urlsafe(32)
    if settings is not None and current_policy(session, settings).single_session:
        end_user_sessions(session, user_id=user.id)  # type: ignore[arg-type]
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
    policy: SecurityPolicy | None = None


# The session lookup in pieces, built once: it runs on every request, and building a statement costs more
# than running it. The autosave joins its own checks onto the same pieces (scoring.autosave), so that one
# query both validates the session and loads what the save needs.
# The security policy's row is joined in (outer: before it is first saved there is none, and the settings'
# defaults apply), so that the idle timeout and the admin address ranges cost no query of their own.
_session_t, _user_t = UserSession.__table__, User.__table__  # type: ignore[attr-defined]
_policy_t = SecurityPolicy.__table__  # type: ignore[attr-defined]
SESSION_FROM = _session_t.join(_user_t, _user_t.c.id == _session_t.c.user_id).outerjoin(_policy_t, _policy_t.c.id == 1)
SESSION_COLUMNS = [
    _session_t.c.id.label("session_id"),
    _session_t.c.last_seen_at.label("session_seen"),
    *(c.label(f"user_{c.name}") for c in _user_t.columns),
    *(c.label(f"policy_{c.name}") for c in _policy_t.columns),
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
    disabled account ends the session (idle: by the security policy's timeout); an active one is touched at most once a minute. With `commit`, each
    write commits at once; without, the writes join the caller's transaction (one that already holds the
    write lock) and the caller commits them."""
    if row is None or row.session_id is None:
        return SessionLookup(None)
    # Detached, as the request needs it; built without validation (the values are the database's own): the
    # validating constructor cost 0.1 ms, on every request.
    user = User.model_construct(**{name: getattr(row, f"user_{name}") for name in _USER_COLUMNS})
    # The security policy's idle timeout; `idle_minutes` (the setting) until the policy is first saved.
    policy = policy_from_row({name: getattr(row, f"policy_{name}") for name in _POLICY_COLUMNS}, idle_minutes)
    now = utcnow()
    idle = now - as_utc(row.session_seen)
    if idle > timedelta(minutes=policy.idle_minutes) or not user.is_active:
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
    return SessionLookup(user, policy=policy)


_USER_COLUMNS = [c.name for c in _user_t.columns]
_POLICY_COLUMNS = [c.name for c in _policy_t.columns]


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
    if verify_password(user.password_hash, new_password):
        raise ServiceError("新密码不能与当前密码相同。", field="new_password")
    try:
        check_new_password(session, new_password, username=user.username, settings=settings, user_id=user.id)
    except ServiceError as exc:
        raise ServiceError(exc.message, field="new_password") from exc
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    session.add(user)
    _remember_password(session, user)
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


ADMIN_ACCOUNT_REFUSED = (
    "管理员账号不能在此管理（重置其密码即可冒用其身份）；请由服务器管理人员用命令行 reviewapp user 处理。"
)


def _check_manageable(user: User, *, admin_accounts: bool) -> None:
    """In the app the system administrator manages staff and expert accounts only: resetting another
    administrator's password would let one administrator act as another (三员分立). The CLI may."""
    if user.role in ADMIN_ROLES and not admin_accounts:
        raise ServiceError(ADMIN_ACCOUNT_REFUSED)


def set_one_time_password(
    session: Session, *, actor: Actor, user_id: int, password: str, settings: Settings, admin_accounts: bool = False
) -> User:
    user = get_user(session, user_id)
    _check_manageable(user, admin_accounts=admin_accounts)
    check_new_password(session, password, username=user.username, settings=settings)
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.password_changed_at = utcnow()
    session.add(user)
    _remember_password(session, user)
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


def set_active(session: Session, *, actor: Actor, user_id: int, active: bool, admin_accounts: bool = False) -> User:
    user = get_user(session, user_id)
    _check_manageable(user, admin_accounts=admin_accounts)
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


def grant_role(session: Session, *, actor: Actor, user_id: int, role: Role | str) -> User:
    """The security administrator gives an account its one role (so no account holds two administrator roles)."""
    user = get_user(session, user_id)
    role = Role(role)
    if actor.user_id == user.id:
        raise ServiceError("不能修改自己的角色。")
    if user.role == role.value:
        return user
    before = user.role
    user.role = role.value
    session.add(user)
    end_user_sessions(session, user_id=user.id)  # type: ignore[arg-type]  # the new role applies from the next login
    audit.record(
        session,
        actor=actor,
        action="user.grant_role",
        entity_type="user",
        entity_id=user.id,
        summary=f"将 {user.username} 的角色由{_role_label(before)}改为{role.label}，其登录会话已结束",
        before={"role": before},
        after={"role": role.value},
    )
    return user


def _role_label(role: str) -> str:
    return Role(role).label if role in Role.__members__ else role


def list_users_query(*, q: str = "", role: str = "", status: str = "", roles: frozenset[str] | None = None):  # type: ignore[no-untyped-def]
    stmt = select(User)
    if roles is not None:
        stmt = stmt.where(User.role.in_(sorted(roles)))  # type: ignore[attr-defined]
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
