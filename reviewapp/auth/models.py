"""Accounts, their server-side sessions and the login-attempt log used for throttling."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from reviewapp.clock import utcnow


class Role(StrEnum):
    """One role per account. The three administrator roles (三员分立) each do one job and no reviewing work:
    sysadmin keeps accounts, secadmin grants roles and sets the security policy, auditadmin reads the audit log."""

    sysadmin = "sysadmin"
    secadmin = "secadmin"
    auditadmin = "auditadmin"
    staff = "staff"
    expert = "expert"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.sysadmin: "系统管理员",
    Role.secadmin: "安全管理员",
    Role.auditadmin: "审计管理员",
    Role.staff: "工作人员",
    Role.expert: "评审专家",
}
ADMIN_ROLES = frozenset({Role.sysadmin.value, Role.secadmin.value, Role.auditadmin.value})
# The role the single administrator role of earlier versions became (migration 0012_admin_roles).
LEGACY_ADMIN = "admin"


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
        return ROLE_LABELS.get(self.role, self.role)  # type: ignore[call-overload]

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES


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


class PasswordHistory(SQLModel, table=True):
    """Each password an account has had (its hash), so that the last N cannot be chosen again."""

    __tablename__ = "password_history"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    password_hash: str = Field(max_length=255)
    at: datetime = Field(default_factory=utcnow)


class SecurityPolicy(SQLModel, table=True):
    """The one row (id=1) of security settings the security administrator edits. Without the row the
    defaults come from the REVIEWAPP_* settings (auth.policy.current_policy)."""

    __tablename__ = "security_policy"

    id: int | None = Field(default=1, primary_key=True)
    password_min_length: int = 10
    password_min_classes: int = 2  # of: lower case, upper case, digits, other characters
    password_expiry_days: int = 0  # 0: passwords do not expire
    password_history: int = 5  # the last N passwords cannot be reused (0: no check)
    lockout_failures: int = 5
    lockout_minutes: int = 15
    idle_minutes: int = 120
    single_session: bool = False
    admin_networks: str = ""  # allowed address ranges for administrator pages, one CIDR a line; empty: all
    updated_at: datetime | None = None
    updated_by: str = Field(default="", max_length=64)
