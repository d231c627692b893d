"""Small declarative form validation with Chinese messages; invalid forms are re-rendered, never a 500."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal, InvalidOperation
from typing import Any, overload

_DATE_RE = re.compile(r"^\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?\s*$")
_TIME_RE = re.compile(r"^\s*(\d{1,2})[:：时](\d{2})(?:[:：](\d{2}))?分?\s*$")


DB_INT_MAX = 2**63 - 1  # larger whole numbers overflow the database's integer columns


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "str"  # str | text | int | decimal | date | time | choice | bool | multi
    required: bool = True
    max_length: int = 200
    min_length: int = 0
    choices: tuple[str, ...] | None = None
    min_value: Decimal | int | None = None
    max_value: Decimal | int | None = None
    strip: bool = True


@dataclass
class FormResult:
    values: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def add_error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)


def parse_date(text: str) -> date | None:
    m = _DATE_RE.match(text or "")
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def parse_time(text: str) -> time | None:
    """A wall-clock time such as 17:30 (seconds, if given, are kept)."""
    m = _TIME_RE.match(text or "")
    if not m:
        return None
    try:
        return time(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))
    except ValueError:
        return None


def first(value: Any) -> str:
    """A form value as text: the first of a repeated field, "" for none."""
    if isinstance(value, list):
        value = value[0] if value else ""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def form_text(data: Mapping[str, Any] | None, name: str) -> str:
    """One field of a posted form as text (the first, if repeated; "" if absent), for routes that read a field or
    two without a declared form; surrounding blanks are dropped."""
    return first((data or {}).get(name)).strip()


@overload
def form_int(value: Any) -> int | None: ...
@overload
def form_int(value: Any, default: int) -> int: ...
def form_int(value: Any, default: int | None = None) -> int | None:
    """A whole number from a form value (the first, if repeated); `default` when empty or not a whole number."""
    text = first(value).strip()
    try:
        return int(text) if text else default
    except ValueError:
        return default


def validate(data: dict[str, Any] | None, fields: list[Field]) -> FormResult:
    data = data or {}
    result = FormResult()
    for f in fields:
        raw_value = data.get(f.name)
        if f.kind == "multi":
            items = raw_value if isinstance(raw_value, list) else ([raw_value] if raw_value not in (None, "") else [])
            items = [first(i).strip() for i in items if first(i).strip()]
            result.raw[f.name] = items
            if f.required and not items:
                result.add_error(f.name, f"请至少选择一项「{f.label}」。")
            elif f.choices is not None and any(i not in f.choices for i in items):
                result.add_error(f.name, f"「{f.label}」中有无效的选项。")
            result.values[f.name] = items
            continue
        text = first(raw_value)
        if f.strip:
            text = text.strip()
        result.raw[f.name] = text
        if f.kind == "bool":
            result.values[f.name] = text.lower() in {"1", "true", "on", "yes", "是"}
            continue
        if not text:
            if f.required:
                result.add_error(f.name, f"「{f.label}」为必填项。")
            result.values[f.name] = None if f.kind not in {"str", "text"} else ""
            continue
        limit = f.max_length if f.kind != "text" else max(f.max_length, 5000)
        if len(text) > limit:
            result.add_error(f.name, f"「{f.label}」不能超过 {limit} 个字符（现有 {len(text)} 个）。")
            continue
        if len(text) < f.min_length:
            result.add_error(f.name, f"「{f.label}」至少需要 {f.min_length} 个字符（现有 {len(text)} 个）。")
            continue
        if f.kind in {"str", "text"}:
            result.values[f.name] = text
        elif f.kind == "choice":
            if f.choices is not None and text not in f.choices:
                result.add_error(f.name, f"「{f.label}」的取值无效。")
            else:
                result.values[f.name] = text
        elif f.kind == "date":
            parsed = parse_date(text)
            if parsed is None:
                result.add_error(f.name, f"「{f.label}」应为日期，例如 2026-05-09。")
            else:
                result.values[f.name] = parsed
        elif f.kind == "time":
            parsed_time = parse_time(text)
            if parsed_time is None:
                result.add_error(f.name, f"「{f.label}」应为时间，例如 17:30。")
            else:
                result.values[f.name] = parsed_time
        elif f.kind in {"int", "decimal"}:
            try:
                number: Decimal | int = int(text) if f.kind == "int" else Decimal(text)
                if isinstance(number, Decimal) and not number.is_finite():
                    raise InvalidOperation
            except (ValueError, InvalidOperation):
                result.add_error(f.name, f"「{f.label}」应为{'整数' if f.kind == 'int' else '数字'}。")
                continue
            if f.min_value is not None and number < f.min_value:
                result.add_error(f.name, f"「{f.label}」不能小于 {f.min_value}。")
            elif f.max_value is not None and number > f.max_value:
                result.add_error(f.name, f"「{f.label}」不能大于 {f.max_value}。")
            elif f.kind == "int" and abs(number) > DB_INT_MAX:
                result.add_error(f.name, f"「{f.label}」数值过大。")
            else:
                result.values[f.name] = number
        else:  # pragma: no cover - a programming error, not user input
            raise ValueError(f"unknown field kind {f.kind}")
    return result


# --- reading single fields of a raw form (routes that need no whole Field list) ----------------------


def form_list(value: Any) -> list[str]:
    """Form values that may repeat (checkboxes) as a list of strings, blanks dropped."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [str(v) for v in items if str(v).strip()]


def form_ids(value: Any) -> list[int]:
    """The integer ids of a multi-valued field; anything else is ignored."""
    return [int(v) for v in form_list(value) if v.strip().isdigit()]
