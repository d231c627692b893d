"""Accounts, their server-side sessions and the login-attempt log used for throttling."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from reviewapp.clock import utcnow


class Role(StrEnum):
    admin = "admin"
    staff = "staff"
    expert = "expert"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {Role.admin: "系统管理员", Role.staff: "工作人员", Role.expert: "评审专家"}


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    display_name: str = Field(max_length=64)
    role: str = Field(max_length=16, index=True)
    password_hash: str = Field(max_length=255)
    must_change_password: bool = False
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    password_changed_at: datetime | None = None
    last_login_at: datetime | None = None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(Role(self.role), self.role)


class UserSession(SQLModel, table=True):
    """A signed-in browser. Only the SHA-256 of the cookie token is stored."""

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    client_addr: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=255)


class LoginAttempt(SQLModel, table=True):
    """Every failed login, kept so that all app processes share one throttle."""

    __tablename__ = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, index=True)
    client_addr: str = Field(max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, index=True)
