"""Pure scoring rules: what value an item accepts, when a justification is required, completeness, subtotals.

No session, no request, no clock: callers pass the criteria items, the values and `now`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

GATE_PASS = "pass"
GATE_FAIL = "fail"


@dataclass(frozen=True)
class Item:
    """A scorable criteria item as the rules need it (built from CriteriaNode rows)."""

    id: int
    code: str
    title: str
    kind: str  # "points" | "gate"
    max_points: Decimal
    step: Decimal
    dimension: str


@dataclass(frozen=True)
class Entry:
    """What an expert has entered for one item: a value for points items, pass/fail for gates."""

    value: Decimal | None = None
    gate: str | None = None  # GATE_PASS | GATE_FAIL
    justification: str = ""


def parse_points(item: Item, raw: str) -> tuple[Decimal | None, str | None]:
    """Parse what was typed for a points item; return (value, problem in Chinese)."""
    text = unicodedata.normalize("NFKC", raw or "").strip().replace("。", ".")
    if text == "":
        return None, None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None, f"「{item.title}」应填写数字。"
    if not value.is_finite():
        return None, f"「{item.title}」应填写数字。"
    return value, value_problem(item, value)


def value_problem(item: Item, value: Decimal) -> str | None:
    if value < 0 or value > item.max_points:
        return f"「{item.title}」的得分应在 0 到 {_fmt(item.max_points)} 分之间。"
    if item.step > 0 and (value / item.step) % 1 != 0:
        return f"「{item.title}」的得分须为 {_fmt(item.step)} 分的整数倍。"
    return None


def needs_justification(item: Item, entry: Entry) -> bool:
    """A 0, a full score, or a failed gate must be explained."""
    if item.kind == "gate":
        return entry.gate == GATE_FAIL
    return entry.value is not None and (entry.value == 0 or entry.value == item.max_points)


def completeness_problems(
    items: Iterable[Item], entries: Mapping[int, Entry], *, opinion: str, opinion_min_length: int
) -> list[str]:
    """Everything that stops a sheet from being submitted, in the order of the sheet."""
    problems: list[str] = []
    for item in items:
        entry = entries.get(item.id, Entry())
        if item.kind == "gate":
            if entry.gate not in (GATE_PASS, GATE_FAIL):
                problems.append(f"「{item.code} {item.title}」尚未判定（通过/不通过）。")
        elif entry.value is None:
            problems.append(f"「{item.code} {item.title}」尚未评分。")
        elif (problem := value_problem(item, entry.value)) is not None:
            problems.append(problem)
        if needs_justification(item, entry) and not entry.justification.strip():
            what = "判定为不通过" if item.kind == "gate" else f"给了 {_fmt(entry.value)} 分"  # type: ignore[arg-type]
            problems.append(f"「{item.code} {item.title}」{what}，须填写理由。")
    length = len(opinion.strip())
    if length < opinion_min_length:
        problems.append(f"评审意见至少需要 {opinion_min_length} 个字（现有 {length} 个）。")
    return problems


@dataclass(frozen=True)
class Totals:
    by_dimension: dict[str, Decimal]
    total: Decimal
    gate_failed: bool


def totals(items: Iterable[Item], entries: Mapping[int, Entry]) -> Totals:
    by_dimension: dict[str, Decimal] = {}
    total = Decimal(0)
    failed = False
    for item in items:
        entry = entries.get(item.id, Entry())
        by_dimension.setdefault(item.dimension, Decimal(0))
        if item.kind == "gate":
            failed = failed or entry.gate == GATE_FAIL
        elif entry.value is not None:
            by_dimension[item.dimension] += entry.value
            total += entry.value
    return Totals(by_dimension=by_dimension, total=total, gate_failed=failed)


def scoring_open(now: datetime, deadline: datetime | None) -> bool:
    return deadline is None or now <= deadline


def _fmt(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")
