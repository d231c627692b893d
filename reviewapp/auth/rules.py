"""Pure account rules: password policy, role checks, safe redirect targets."""

from __future__ import annotations

from urllib.parse import urlsplit

from reviewapp.auth.models import Role


def password_problems(password: str, *, username: str, min_length: int) -> list[str]:
    problems: list[str] = []
    if len(password) < min_length:
        problems.append(f"密码至少需要 {min_length} 个字符。")
    if len(password) > 128:
        problems.append("密码不能超过 128 个字符。")
    if password.strip().lower() == username.strip().lower():
        problems.append("密码不能与用户名相同。")
    if password and len(set(password)) < 4:
        problems.append("密码过于简单，请混合使用不同的字符。")
    return problems


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site absolute paths are allowed after login (no scheme, no host, no '//')."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def has_role(user_role: str, *allowed: Role) -> bool:
    return user_role in {r.value for r in allowed}
