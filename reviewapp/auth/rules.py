"""Pure account rules: password policy, role checks, safe redirect targets."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from reviewapp.auth.models import Role

CLASS_NAMES = "小写字母、大写字母、数字、其他符号"


def character_classes(password: str) -> int:
    """How many of the four kinds of character (lower, upper, digit, other) a password uses."""
    kinds = {
        "lower" if ch.islower() else "upper" if ch.isupper() else "digit" if ch.isdigit() else "other"
        for ch in password
    }
    return len(kinds)


def password_problems(password: str, *, username: str, min_length: int, min_classes: int = 1) -> list[str]:
    problems: list[str] = []
    if len(password) < min_length:
        problems.append(f"密码至少需要 {min_length} 个字符。")
    if character_classes(password) < min_classes:
        problems.append(f"密码须至少包含 {min_classes} 类字符（{CLASS_NAMES}）。")
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


def password_expired(changed_at: datetime | None, *, expiry_days: int, now: datetime) -> bool:
    """A password older than the policy's expiry (0: never) must be changed before anything else."""
    return bool(expiry_days) and changed_at is not None and now - changed_at > timedelta(days=expiry_days)


def parse_networks(text: str) -> tuple[list[ipaddress.IPv4Network | ipaddress.IPv6Network], list[str]]:
    """The address ranges of an allow-list (one per line, CIDR or single address) and the lines that are not."""
    networks, bad = [], []
    for line in text.replace(",", "\n").splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            networks.append(ipaddress.ip_network(line, strict=False))
        except ValueError:
            bad.append(line)
    return networks, bad


def address_allowed(addr: str, networks_text: str) -> bool:
    """Whether a client address is inside the allow-list; an empty list allows every address."""
    networks, _bad = parse_networks(networks_text)
    if not networks:
        return True
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False  # e.g. the test client's "testclient": not an address, so not in any range
    return any(ip in net for net in networks)
