"""Pure aggregation rules: submitted score sheets in, per application an exact aggregate a chair can explain line by
line out; and people's order on top of the computed one. The ranking is in reviewapp.ranking.ordering, the
calibration view in reviewapp.ranking.calibration, the raw-score rows in reviewapp.ranking.raw_rows.

Numbers: sums and differences of scores are exact Decimals (a trap turns any rounding into an error), and every
aggregate that decides an order is an exact `Fraction`. Only the standard deviation and the within-expert z-scores
of the calibration view are irrational; they are computed at a fixed Decimal precision, so they are reproducible.
Display values are rounded once, at the end, with ROUND_HALF_UP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)
from fractions import Fraction
from functools import cached_property
from typing import Any

from reviewapp.rounds.models import Aggregation

DEFAULT_TIE_BREAK = ("dimension:生产作业", "maturity_score", "application_order")
DIMENSION_PREFIX = "dimension:"
# The last resort after every stated tie-break: the system id, so that the order is total and never depends on input.
FINAL_TIE_BREAK = "application_id"

# Score arithmetic must never round silently: Inexact is trapped.
EXACT = Context(prec=60, rounding=ROUND_HALF_EVEN, traps=[Inexact, InvalidOperation, DivisionByZero, Overflow])
# Square roots and z-scores cannot be exact; a fixed precision makes them the same on every run and machine.
APPROX = Context(prec=34, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])
ZERO = Decimal(0)

Number = Fraction | Decimal | int


# --- inputs ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SheetScores:
    """One expert's submitted sheet for one application, independent of the ORM.

    `total` and `dimension_subtotals` are taken as given; build sheets with `from_items` so that they agree with
    the item scores and therefore with the raw-score export.
    """

    expert_id: int
    application_id: int
    item_scores: Mapping[str, Decimal | None] = field(default_factory=dict)  # points items; None: left empty
    gates: Mapping[str, bool] = field(default_factory=dict)  # gate items (门槛项): True = passed
    total: Decimal
    dimension_subtotals: Mapping[str, Decimal] = field(default_factory=dict)  # dimension title -> subtotal
    justification: str = ""  # the expert's opinion (评审意见), shown beside an outlying total

    @classmethod
    def from_items(
        cls,
        *,
        expert_id: int,
        application_id: int,
        item_scores: Mapping[str, Decimal | None],
        gates: Mapping[str, bool],
        item_dimensions: Mapping[str, str],
        justification: str = "",
    ) -> SheetScores:
        """A sheet whose total and dimension subtotals are the sums of its points items."""
        subtotals: dict[str, Decimal] = {}
        with localcontext(EXACT):
            for code, value in item_scores.items():
                try:
                    dimension = item_dimensions[code]
                except KeyError:
                    raise ValueError(f"评分项 {code} 不在要素条件中") from None
                subtotals[dimension] = subtotals.get(dimension, ZERO) + (ZERO if value is None else value)
            total = sum(subtotals.values(), ZERO)
        return cls(
            expert_id=expert_id,
            application_id=application_id,
            item_scores=dict(item_scores),
            gates=dict(gates),
            total=total,
            dimension_subtotals=subtotals,
            justification=justification,
        )


@dataclass(frozen=True)
class ApplicationFacts:
    """What the tie-breaks need besides the scores."""

    application_id: int
    maturity_score: Decimal | None = None  # 能力成熟度自评得分
    application_order: int | None = None  # order of arrival (序号); earlier ranks first on a tie


@dataclass(frozen=True, kw_only=True)
class RankingSettings:
    """The round's rules (mirrors reviewapp.rounds.models.Round) plus the criteria's full marks."""

    aggregation: str = Aggregation.trimmed_mean.value
    gate_failure_vetoes: bool = True
    outlier_threshold: Decimal = Decimal(15)
    tie_break: tuple[str, ...] = DEFAULT_TIE_BREAK
    full_marks: Decimal = Decimal(100)  # the criteria total; displays are rescaled to 100 points
    trim_min_scores: int = 5  # trimmed mean drops the highest and lowest only from this many scores on

    def __post_init__(self) -> None:
        object.__setattr__(self, "aggregation", Aggregation(self.aggregation).value)
        object.__setattr__(self, "tie_break", tuple(self.tie_break))
        for key in self.tie_break:
            if key not in ("maturity_score", "application_order") and not (
                key.startswith(DIMENSION_PREFIX) and key[len(DIMENSION_PREFIX) :]
            ):
                raise ValueError(f"未知的同分排序依据：{key}")
        if self.outlier_threshold < 0:
            raise ValueError("离群阈值不能为负数")
        if self.full_marks <= 0:
            raise ValueError("满分必须大于0")
        if self.trim_min_scores < 3:
            raise ValueError("去掉最高分和最低分至少需要3份评分")

    @classmethod
    def from_round(cls, round_: object, *, full_marks: Decimal = Decimal(100)) -> RankingSettings:
        """Settings from a Round row (duck-typed, so this module does not depend on the ORM session)."""
        return cls(
            aggregation=round_.aggregation,  # type: ignore[attr-defined]
            gate_failure_vetoes=round_.gate_failure_vetoes,  # type: ignore[attr-defined]
            outlier_threshold=Decimal(round_.outlier_threshold),  # type: ignore[attr-defined]
            tie_break=tuple(round_.tie_break),  # type: ignore[attr-defined]
            full_marks=full_marks,
        )

    def to_display(self, value: Number) -> Decimal:
        """A total (or a difference of totals) on the 100-point scale, one decimal, half up."""
        num, den = value.as_integer_ratio()
        marks_num, marks_den = self.full_marks.as_integer_ratio()
        return _half_up(num * 100 * marks_den, den * marks_num, 1)


def tie_break_label(key: str) -> str:
    """The tie-break in the words the chair reads, e.g. 生产作业小计."""
    if key.startswith(DIMENSION_PREFIX):
        return f"{key[len(DIMENSION_PREFIX) :]}小计"
    return {"maturity_score": "成熟度自评得分", "application_order": "申报顺序", FINAL_TIE_BREAK: "系统编号"}[key]


def round_half_up(value: Number, places: int = 1) -> Decimal:
    """Exact ROUND_HALF_UP (halves away from zero) of an exact value, as a Decimal with `places` decimals."""
    num, den = value.as_integer_ratio()
    return _half_up(num, den, places)


def _half_up(num: int, den: int, places: int) -> Decimal:
    # Integer arithmetic (den > 0): floor(|num/den|·10^p + 1/2), the sign put back afterwards.
    rounded = (2 * abs(num) * 10**places + den) // (2 * den)
    return Decimal(rounded if num >= 0 else -rounded).scaleb(-places)


# --- aggregation -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemStat:
    """One item across the sheets that scored it."""

    code: str
    count: int
    total: Decimal
    minimum: Decimal | None
    maximum: Decimal | None

    @property
    def mean(self) -> Fraction | None:
        return Fraction(self.total) / self.count if self.count else None


@dataclass(frozen=True)
class GateOutcome:
    code: str
    passed: int
    failed_by: tuple[int, ...]  # expert ids, ascending

    @property
    def failed(self) -> bool:
        return bool(self.failed_by)


@dataclass(frozen=True)
class Outlier:
    """An expert whose total is more than the threshold away from the mean of the other experts' totals."""

    expert_id: int
    total: Decimal
    others_mean: Fraction
    difference: Fraction  # total − others_mean; positive: this expert scored higher
    difference_display: Decimal  # on the 100-point scale, one decimal
    justification: str


@dataclass(frozen=True)
class ApplicationAggregate:
    """Everything the ranking, the chair and the exports need to know about one application's scores."""

    application_id: int
    method: str  # the Aggregation actually applied (mean when a trimmed mean had too few scores)
    method_label: str
    totals: tuple[tuple[int, Decimal], ...]  # (expert id, total), by expert id
    score: Fraction  # the unrounded aggregate: the ranking uses this
    display: Decimal  # 100-point scale, one decimal
    mean: Fraction
    median: Fraction
    minimum: Decimal
    maximum: Decimal
    std_dev: Decimal  # population standard deviation (÷ n) of the totals: the panel is the whole population
    dropped: tuple[Decimal, Decimal] | None  # (highest, lowest) left out by the trimmed mean
    gates: tuple[GateOutcome, ...]  # by item code
    gate_failed: bool
    vetoed: bool
    outliers: tuple[Outlier, ...]  # by expert id
    warnings: tuple[str, ...]
    sheets: tuple[SheetScores, ...] = field(repr=False, compare=False)  # by expert id

    @property
    def sheet_count(self) -> int:
        return len(self.totals)

    @property
    def spread(self) -> Decimal:
        """Max − min of the totals."""
        return self.maximum - self.minimum

    @cached_property
    def dimension_means(self) -> dict[str, Fraction]:
        """Mean subtotal per dimension title, over the sheets that carry that dimension."""
        sums: dict[str, Decimal] = {}
        counts: dict[str, int] = {}
        with localcontext(EXACT):
            for sheet in self.sheets:
                for title, value in sheet.dimension_subtotals.items():
                    sums[title] = sums.get(title, ZERO) + value
                    counts[title] = counts.get(title, 0) + 1
        return {title: Fraction(total) / counts[title] for title, total in sums.items()}

    @cached_property
    def item_stats(self) -> dict[str, ItemStat]:
        """Per points item: how many scored it, sum, min, max (and `mean`)."""
        values: dict[str, list[Decimal]] = {}
        for sheet in self.sheets:
            for code, value in sheet.item_scores.items():
                bucket = values.setdefault(code, [])
                if value is not None:
                    bucket.append(value)
        with localcontext(EXACT):
            return {
                code: ItemStat(code, len(vs), sum(vs, ZERO), min(vs) if vs else None, max(vs) if vs else None)
                for code, vs in values.items()
            }

    @property
    def notes(self) -> tuple[str, ...]:
        """Gate and aggregation remarks for a 说明 column."""
        out: list[str] = []
        if self.vetoed:
            out.append("门槛项未通过，一票否决，排在未否决项目之后")
        elif self.gate_failed:
            out.append("门槛项未通过（本批次不作一票否决）")
        out.extend(self.warnings)
        return tuple(out)


def aggregate_application(sheets: Iterable[SheetScores], settings: RankingSettings) -> ApplicationAggregate:
    """Aggregate the submitted sheets of ONE application by the round's rule."""
    ordered = tuple(sorted(sheets, key=lambda s: s.expert_id))
    if not ordered:
        raise ValueError("没有已提交的评分表，无法汇总")
    application_id = ordered[0].application_id
    experts = [s.expert_id for s in ordered]
    if any(s.application_id != application_id for s in ordered):
        raise ValueError("汇总的评分表必须属于同一个申报项目")
    if len(set(experts)) != len(experts):
        raise ValueError(f"申报项目 {application_id} 有同一专家的重复评分表")

    n = len(ordered)
    warnings: list[str] = []
    with localcontext(EXACT):
        totals = [s.total for s in ordered]
        ranked = sorted(totals)
        total_sum = sum(totals, ZERO)
        sum_sq = sum((t * t for t in totals), ZERO)
        # n² × population variance, exact; the square root is taken once, below.
        n2_var = n * sum_sq - total_sum * total_sum
        mean = Fraction(total_sum) / n
        half = n // 2
        median = Fraction(ranked[half]) if n % 2 else Fraction(ranked[half - 1] + ranked[half]) / 2
        dropped = None
        method = settings.aggregation
        if method == Aggregation.mean.value:
            score = mean
        elif method == Aggregation.median.value:
            score = median
        elif n >= settings.trim_min_scores:
            dropped = (ranked[-1], ranked[0])
            score = Fraction(total_sum - ranked[-1] - ranked[0]) / (n - 2)
        else:
            method = Aggregation.mean.value
            score = mean
            warnings.append(
                f"有效评分仅{n}份（少于{settings.trim_min_scores}份），未去掉最高分和最低分，按算术平均计算"
            )

        outliers = []
        if n > 1:
            # |t − (S − t)/(n − 1)| > threshold  ⇔  |n·t − S| > threshold·(n − 1): exact, no division.
            limit = settings.outlier_threshold * (n - 1)
            for sheet in ordered:
                excess = n * sheet.total - total_sum
                if abs(excess) > limit:
                    difference = Fraction(excess) / (n - 1)
                    outliers.append(
                        Outlier(
                            expert_id=sheet.expert_id,
                            total=sheet.total,
                            others_mean=Fraction(total_sum - sheet.total) / (n - 1),
                            difference=difference,
                            difference_display=settings.to_display(difference),
                            justification=sheet.justification,
                        )
                    )
    std_dev = APPROX.divide(APPROX.sqrt(n2_var), n)

    passes: dict[str, int] = {}
    failures: dict[str, list[int]] = {}
    for sheet in ordered:
        for code, ok in sheet.gates.items():
            passes.setdefault(code, 0)
            failures.setdefault(code, [])
            if ok:
                passes[code] += 1
            else:
                failures[code].append(sheet.expert_id)
    gates = tuple(GateOutcome(code, passes[code], tuple(failures[code])) for code in sorted(passes))
    gate_failed = any(g.failed for g in gates)

    return ApplicationAggregate(
        application_id=application_id,
        method=method,
        method_label=Aggregation(method).label,
        totals=tuple(zip(experts, totals, strict=True)),
        score=score,
        display=settings.to_display(score),
        mean=mean,
        median=median,
        minimum=ranked[0],
        maximum=ranked[-1],
        std_dev=std_dev,
        dropped=dropped,
        gates=gates,
        gate_failed=gate_failed,
        vetoed=gate_failed and settings.gate_failure_vetoes,
        outliers=tuple(outliers),
        warnings=tuple(warnings),
        sheets=ordered,
    )


# --- people's order on top of the computed one ------------------------------------------------------------------


def apply_moves(computed: Sequence[int], moves: Mapping[int, int]) -> list[int]:
    """The order people decided: the computed order, with each moved application put at its stated 1-based place.

    Moved applications are placed in ascending order of their stated place (ties: computed order), each inserted
    at that place in the list built so far; the others keep their computed relative order. A place beyond the end
    means last. Moves of applications not in `computed` are ignored (they left the list).
    """
    present = set(computed)
    moved = sorted(
        ((place, computed.index(a), a) for a, place in moves.items() if a in present), key=lambda m: (m[0], m[1])
    )
    moved_ids = {a for _, _, a in moved}
    order = [a for a in computed if a not in moved_ids]
    for place, _, application_id in moved:
        order.insert(max(0, min(place - 1, len(order))), application_id)
    return order


def merge_orders(sequences: Iterable[Sequence[int]], key: Callable[[int], Any]) -> list[int]:
    """One order from several decided orders (one per panel): each sequence keeps its own order, and at each step
    the head with the smallest `key` (e.g. the computed round-wide position) comes next. With no departures from
    the computed order this is simply the computed order; a chair's move stays inside its own panel's sequence."""
    heads = [list(s) for s in sequences if s]
    merged: list[int] = []
    while heads:
        best = min(range(len(heads)), key=lambda i: key(heads[i][0]))
        merged.append(heads[best].pop(0))
        if not heads[best]:
            heads.pop(best)
    return merged
