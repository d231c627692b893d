"""Pure scoring rules: what value an item accepts, when a justification is required, completeness, subtotals.

No session, no request, no clock: callers pass the criteria items, the values and `now`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

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


def completeness_issues(
    items: Iterable[Item], entries: Mapping[int, Entry], *, opinion: str, opinion_min_length: int
) -> list[tuple[str, str]]:
    """Everything that stops a sheet from being submitted, in the order of the sheet, each with the name of the
    form field to fix ("score-12", "gate-12", "just-12", "opinion")."""
    issues: list[tuple[str, str]] = []
    for item in items:
        entry = entries.get(item.id, Entry())
        if item.kind == "gate":
            if entry.gate not in (GATE_PASS, GATE_FAIL):
                issues.append((f"gate-{item.id}", f"「{item.code} {item.title}」尚未判定（通过/不通过）。"))
        elif entry.value is None:
            issues.append((f"score-{item.id}", f"「{item.code} {item.title}」尚未评分。"))
        elif (problem := value_problem(item, entry.value)) is not None:
            issues.append((f"score-{item.id}", problem))
        if needs_justification(item, entry) and not entry.justification.strip():
            what = "判定为不通过" if item.kind == "gate" else f"给了 {_fmt(entry.value)} 分"
            issues.append((f"just-{item.id}", f"「{item.code} {item.title}」{what}，须填写理由。"))
    length = len(opinion.strip())
    if length < opinion_min_length:
        issues.append(("opinion", f"评审意见至少需要 {opinion_min_length} 个字（现有 {length} 个）。"))
    return issues


def completeness_problems(
    items: Iterable[Item], entries: Mapping[int, Entry], *, opinion: str, opinion_min_length: int
) -> list[str]:
    """The messages of completeness_issues."""
    return [
        message
        for _field, message in completeness_issues(
            items, entries, opinion=opinion, opinion_min_length=opinion_min_length
        )
    ]


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


def summary_json(items: Iterable[Item], entries: Mapping[int, Entry]) -> str:
    """What a submitted sheet keeps beside its item scores for the rankings, as compact text (read back for every
    sheet of a round, faster than JSON): `D1=12.50;D2=8.00|G1=pass;G2=` -- the subtotal of each dimension that
    has points items (by dimension code, exact decimals) and each gate item's outcome (by item code; empty: not
    given). Criteria codes never hold the separators (rounds.rules.CODE_RE)."""
    items = list(items)
    subtotals = totals([i for i in items if i.kind == "points"], entries).by_dimension
    gates = {i.code: entries.get(i.id, Entry()).gate or "" for i in items if i.kind == "gate"}
    return "|".join(";".join(f"{code}={value}" for code, value in sorted(part.items())) for part in (subtotals, gates))


def read_summary(text: str) -> tuple[list[tuple[str, Decimal]], tuple[tuple[str, str | None], ...]]:
    """((dimension code, subtotal) pairs, (gate item code, outcome or None) pairs) of a summary_json. The parts
    are memoised: a round's thousands of summaries are made of a few dozen distinct subtotals and gate lines."""
    subtotals, _, gates = text.partition("|")
    return [_subtotal(part) for part in subtotals.split(";") if part], _gate_outcomes(gates)


@lru_cache(maxsize=4096)
def _subtotal(part: str) -> tuple[str, Decimal]:
    code, _, value = part.partition("=")
    return code, Decimal(value)


@lru_cache(maxsize=256)
def _gate_outcomes(text: str) -> tuple[tuple[str, str | None], ...]:
    return tuple((code, value or None) for code, _, value in (p.partition("=") for p in text.split(";") if p))


def scoring_open(now: datetime, deadline: datetime | None) -> bool:
    return deadline is None or now <= deadline


# --- what may be done to a sheet ------------------------------------------------------------------

DRAFT, SUBMITTED, RETURNED = "draft", "submitted", "returned"
EDITABLE_STATUSES = frozenset({DRAFT, RETURNED})


def edit_refusal(*, status: str | None, now: datetime, deadline: datetime | None, finalized: bool) -> str | None:
    """Why the expert may not change the sheet now (None: they may). `status` None = no sheet yet."""
    if finalized:
        return "本专家组已定稿，评分表不能再修改。"
    if status == SUBMITTED:
        return "评分表已提交，不能再修改。如需修改，请联系专家组组长退回。"
    if not scoring_open(now, deadline):
        return "评分已截止，评分表只能查看，不能再修改。如需延长，请联系工作人员。"
    return None


def return_refusal(*, status: str | None, finalized: bool) -> str | None:
    """Why a sheet may not be sent back for re-scoring (by the chair, or reopened by staff)."""
    if finalized:
        return "本专家组已定稿，不能退回评分表。"
    if status != SUBMITTED:
        return "只能退回已提交的评分表。"
    return None


MIN_REASON_LENGTH = 4


def reason_problem(reason: str, *, what: str) -> str | None:
    if len((reason or "").strip()) < MIN_REASON_LENGTH:
        return f"请填写{what}（至少 {MIN_REASON_LENGTH} 个字）。"
    return None


# --- autosaved fields -----------------------------------------------------------------------------

OPINION_MAX = 5000
JUSTIFICATION_MAX = 1000
FIELD_KINDS = ("score", "gate", "just")


def parse_field_name(name: str) -> tuple[str, int | None] | None:
    """Form field names on the sheet: "score-12", "gate-12", "just-12" (12 = criteria item id) or "opinion"."""
    if name == "opinion":
        return "opinion", None
    kind, _, node = name.partition("-")
    if kind in FIELD_KINDS and node.isdigit() and len(node) < 10:
        return kind, int(node)
    return None


def parse_gate(raw: str) -> tuple[str | None, str | None]:
    """pass / fail / "" (cleared); anything else is refused."""
    value = (raw or "").strip()
    if value == "":
        return None, None
    if value in (GATE_PASS, GATE_FAIL):
        return value, None
    return None, "请选择「通过」或「不通过」。"


def text_problem(text: str, *, limit: int, what: str) -> str | None:
    if len(text) > limit:
        return f"{what}不能超过 {limit} 个字（现有 {len(text)} 个）。"
    return None


def time_left(now: datetime, deadline: datetime | None) -> str:
    """The time left to the scoring deadline in words: 剩余 3 天 4 小时 / 剩余 25 分钟 / 已截止."""
    if deadline is None:
        return "未设截止时间"
    seconds = int((deadline - now).total_seconds())
    if seconds < 0:
        return "已截止"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"剩余 {days} 天 {hours} 小时"
    if hours:
        return f"剩余 {hours} 小时 {minutes} 分钟"
    return f"剩余 {minutes} 分钟" if minutes else "剩余不足 1 分钟"


def _fmt(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")
