"""Pure aggregation and ranking rules: submitted score sheets in, an exact ranking a chair can explain line by line out.

Numbers: sums and differences of scores are exact Decimals (a trap turns any rounding into an error), and every
aggregate that decides an order is an exact `Fraction`. Only the standard deviation and the within-expert z-scores
of the calibration view are irrational; they are computed at a fixed Decimal precision, so they are reproducible.
Display values are rounded once, at the end, with ROUND_HALF_UP.
"""

from __future__ import annotations

from collections import defaultdict
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
_EXACT = Context(prec=60, rounding=ROUND_HALF_EVEN, traps=[Inexact, InvalidOperation, DivisionByZero, Overflow])
# Square roots and z-scores cannot be exact; a fixed precision makes them the same on every run and machine.
_APPROX = Context(prec=34, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])
_ZERO = Decimal(0)

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
        with localcontext(_EXACT):
            for code, value in item_scores.items():
                try:
                    dimension = item_dimensions[code]
                except KeyError:
                    raise ValueError(f"评分项 {code} 不在要素条件中") from None
                subtotals[dimension] = subtotals.get(dimension, _ZERO) + (_ZERO if value is None else value)
            total = sum(subtotals.values(), _ZERO)
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
        with localcontext(_EXACT):
            for sheet in self.sheets:
                for title, value in sheet.dimension_subtotals.items():
                    sums[title] = sums.get(title, _ZERO) + value
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
        with localcontext(_EXACT):
            return {
                code: ItemStat(code, len(vs), sum(vs, _ZERO), min(vs) if vs else None, max(vs) if vs else None)
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
    with localcontext(_EXACT):
        totals = [s.total for s in ordered]
        ranked = sorted(totals)
        total_sum = sum(totals, _ZERO)
        sum_sq = sum((t * t for t in totals), _ZERO)
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
    std_dev = _APPROX.divide(_APPROX.sqrt(n2_var), n)

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


# --- ordering --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Placed:
    application_id: int
    position: int
    rank: int
    tied: bool
    decided_by: str | None
    tie_note: str


def _desc(value: Number | None) -> tuple[int, Number]:
    return (1, 0) if value is None else (0, -value)


def _asc(value: Number | None) -> tuple[int, Number]:
    return (1, 0) if value is None else (0, value)


def _tie_keys(
    settings: RankingSettings, aggregates: Mapping[int, ApplicationAggregate], facts: Mapping[int, ApplicationFacts]
) -> Callable[[int], tuple[tuple[int, Number], ...]]:
    """The comparable tie-break values of an application, in the round's stated order, then the system id."""

    def keys(application_id: int) -> tuple[tuple[int, Number], ...]:
        fact = facts[application_id]
        out = []
        for key in settings.tie_break:
            if key.startswith(DIMENSION_PREFIX):
                out.append(_desc(aggregates[application_id].dimension_means.get(key[len(DIMENSION_PREFIX) :])))
            elif key == "maturity_score":
                out.append(_desc(fact.maturity_score))
            else:  # application_order: earlier first
                out.append(_asc(fact.application_order))
        out.append(_asc(application_id))
        return tuple(out)

    return keys


def _place(
    rows: Sequence[tuple[int, Number, bool]],
    tie_keys: Callable[[int], tuple[tuple[int, Number], ...]],
    settings: RankingSettings,
    display: Mapping[int, Decimal],
) -> list[_Placed]:
    """Order (application id, score, vetoed) rows: non-vetoed first, score descending, stated tie-breaks.

    Equal unrounded scores share a rank (3, 3, 5) and are flagged as tied; within a tie the first tie-break that
    differs decides, and each entry says which one decided it against its neighbour above (the first of a group:
    against the one below).
    """
    key_names = (*settings.tie_break, FINAL_TIE_BREAK)
    ordered = sorted(rows, key=lambda r: (r[2], -r[1], r[0]))
    placed: list[_Placed] = []
    start = 0
    while start < len(ordered):
        end = start + 1
        while end < len(ordered) and ordered[end][1:] == ordered[start][1:]:
            end += 1
        group = [r[0] for r in ordered[start:end]]
        rank = start + 1
        if len(group) == 1:
            placed.append(_Placed(group[0], rank, rank, False, None, ""))
        else:
            keyed = sorted((tie_keys(a), a) for a in group)
            deciders = []
            for (upper, _), (lower, _) in zip(keyed, keyed[1:], strict=False):
                deciders.append(next(key_names[i] for i, (u, w) in enumerate(zip(upper, lower, strict=True)) if u != w))
            deciders.insert(0, deciders[0])
            for offset, ((_, application_id), decided_by) in enumerate(zip(keyed, deciders, strict=True)):
                placed.append(
                    _Placed(
                        application_id,
                        rank + offset,
                        rank,
                        True,
                        decided_by,
                        f"同分，按{tie_break_label(decided_by)}排序",
                    )
                )
        start = end
    # Scores that differ only below the displayed decimal look tied on paper: say why their order is what it is
    # (unless a veto, not the score, put them in that order).
    row = {r[0]: r for r in ordered}
    for i in range(len(placed) - 1):
        upper, lower = row[placed[i].application_id], row[placed[i + 1].application_id]
        if upper[2] == lower[2] and upper[1] != lower[1] and display[upper[0]] == display[lower[0]]:
            note = "显示分相同，按未四舍五入的得分排序"
            for j in (i, i + 1):
                if not placed[j].tie_note:
                    p = placed[j]
                    placed[j] = _Placed(p.application_id, p.position, p.rank, p.tied, p.decided_by, note)
    return placed


# --- ranking ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RankedApplication:
    """One line of the official ranking."""

    position: int  # 1..n without gaps: the priority order (推荐顺序)
    rank: int  # competition rank: equal unrounded aggregates share it (3, 3, 5)
    tied: bool
    decided_by: str | None  # tie-break key that decided the order inside a tie, e.g. "dimension:生产作业"
    tie_note: str  # e.g. 同分，按生产作业小计排序
    aggregate: ApplicationAggregate
    facts: ApplicationFacts

    @property
    def application_id(self) -> int:
        return self.aggregate.application_id

    @property
    def notes(self) -> tuple[str, ...]:
        return ((self.tie_note,) if self.tie_note else ()) + self.aggregate.notes


@dataclass(frozen=True)
class Ranking:
    settings: RankingSettings
    entries: tuple[RankedApplication, ...]  # in order
    unscored: tuple[int, ...]  # applications with no submitted sheet (not ranked)

    @cached_property
    def _by_id(self) -> dict[int, RankedApplication]:
        return {e.application_id: e for e in self.entries}

    def entry(self, application_id: int) -> RankedApplication:
        return self._by_id[application_id]

    @property
    def order(self) -> list[int]:
        return [e.application_id for e in self.entries]

    @property
    def warnings(self) -> tuple[str, ...]:
        """Panel-level remarks for the top of the page."""
        out = []
        fallback = sum(1 for e in self.entries if e.aggregate.warnings)
        if fallback:
            out.append(f"{fallback}个项目有效评分少于{self.settings.trim_min_scores}份，按算术平均计算")
        if self.unscored:
            out.append(f"{len(self.unscored)}个项目尚无已提交的评分表，未参加排序")
        return tuple(out)


def _index_facts(facts: Iterable[ApplicationFacts]) -> dict[int, ApplicationFacts]:
    indexed: dict[int, ApplicationFacts] = {}
    for fact in facts:
        if fact.application_id in indexed:
            raise ValueError(f"申报项目 {fact.application_id} 的基本信息重复")
        indexed[fact.application_id] = fact
    return indexed


def _group_sheets(sheets: Iterable[SheetScores], facts: Mapping[int, ApplicationFacts]) -> dict[int, list[SheetScores]]:
    by_app: dict[int, list[SheetScores]] = defaultdict(list)
    for sheet in sheets:
        by_app[sheet.application_id].append(sheet)
    unknown = sorted(set(by_app) - set(facts))
    if unknown:
        raise ValueError(f"评分表所属的申报项目缺少基本信息：{unknown}")
    return by_app


def rank_applications(
    sheets: Iterable[SheetScores], facts: Iterable[ApplicationFacts], settings: RankingSettings
) -> Ranking:
    """The official ranking of the applications in `facts` from their submitted sheets, by the round's rule."""
    facts_by_id = _index_facts(facts)
    by_app = _group_sheets(sheets, facts_by_id)
    aggregates = {a: aggregate_application(by_app[a], settings) for a in sorted(by_app)}
    placed = _place(
        [(a, agg.score, agg.vetoed) for a, agg in aggregates.items()],
        _tie_keys(settings, aggregates, facts_by_id),
        settings,
        {a: agg.display for a, agg in aggregates.items()},
    )
    entries = tuple(
        RankedApplication(
            p.position,
            p.rank,
            p.tied,
            p.decided_by,
            p.tie_note,
            aggregates[p.application_id],
            facts_by_id[p.application_id],
        )
        for p in placed
    )
    return Ranking(settings, entries, tuple(sorted(set(facts_by_id) - set(by_app))))


# --- calibration -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpertCalibration:
    """How one expert scores compared with the co-panelists on the same applications."""

    expert_id: int
    sheets: int
    compared: int  # applications that had at least one co-panelist
    leniency: Fraction | None  # mean of (own total − co-panelists' mean); positive: more lenient
    leniency_display: Decimal | None  # 100-point scale, one decimal
    mean_total: Fraction
    std_dev: Decimal  # population standard deviation of the expert's own totals
    normalised: bool  # whether the expert's z-scores enter the normalised ranking
    note: str


@dataclass(frozen=True)
class NormalisedEntry:
    """One line of the normalised ranking, with the official position beside it."""

    application_id: int
    score: Decimal  # mean of the experts' z-scores (标准分)
    score_display: Decimal  # two decimals
    experts_counted: int
    position: int
    rank: int
    tied: bool
    tie_note: str
    vetoed: bool
    official_position: int
    official_rank: int

    @property
    def shift(self) -> int:
        """Places gained against the official order (positive: higher here)."""
        return self.official_position - self.position


@dataclass(frozen=True)
class Calibration:
    """For the chair's information only: the official ranking always follows the round's rule."""

    experts: tuple[ExpertCalibration, ...]  # by expert id
    ranking: tuple[NormalisedEntry, ...]
    not_normalised: tuple[int, ...]  # applications none of whose experts could be normalised
    official: Ranking
    method_note: str = (
        "标准分：每位专家所评各项目总分先按其本人平均分和标准差换算为z分数，再按项目取平均；"
        "仅供参考，正式排序以本批次规则为准"
    )


def calibrate(
    sheets: Iterable[SheetScores],
    facts: Iterable[ApplicationFacts],
    settings: RankingSettings,
    *,
    official: Ranking | None = None,
) -> Calibration:
    """Each expert's leniency and a ranking from within-expert z-scores, beside the official ranking."""
    sheets = list(sheets)
    facts = list(facts)
    if official is None:
        official = rank_applications(sheets, facts, settings)
    aggregates = {e.application_id: e.aggregate for e in official.entries}

    app_sum: dict[int, Decimal] = {}
    by_expert: dict[int, list[SheetScores]] = defaultdict(list)
    with localcontext(_EXACT):
        for a, agg in aggregates.items():
            app_sum[a] = sum((t for _, t in agg.totals), _ZERO)
        for sheet in sheets:
            by_expert[sheet.expert_id].append(sheet)

        experts: list[ExpertCalibration] = []
        z_scores: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
        for expert_id in sorted(by_expert):
            own = by_expert[expert_id]
            # Σ over applications of (n·t − S)/(n − 1), grouped by n − 1 so that only a handful of Fractions are made.
            excess_by_divisor: dict[int, Decimal] = {}
            compared = 0
            k = len(own)
            own_sum = _ZERO
            own_sq = _ZERO
            for sheet in own:
                t = sheet.total
                own_sum += t
                own_sq += t * t
                n = aggregates[sheet.application_id].sheet_count
                if n > 1:
                    compared += 1
                    excess_by_divisor[n - 1] = excess_by_divisor.get(n - 1, _ZERO) + (
                        n * t - app_sum[sheet.application_id]
                    )
            leniency = (
                sum((Fraction(v) / d for d, v in excess_by_divisor.items()), Fraction(0)) / compared
                if compared
                else None
            )
            k2_var = k * own_sq - own_sum * own_sum
            root = _APPROX.sqrt(k2_var)
            if k == 1:
                normalised, note = False, "仅评1份，无法标准化，未计入标准分排序"
            elif root == 0:
                normalised, note = False, "所评各份总分相同，无法标准化，未计入标准分排序"
            else:
                normalised, note = True, ""
                for sheet in own:
                    # z = (t − mean)/sd = (k·t − Σt)/sqrt(k·Σt² − (Σt)²)
                    z = _APPROX.divide(k * sheet.total - own_sum, root)
                    z_scores[sheet.application_id].append((expert_id, z))
            if compared == 0:
                note = "；".join(x for x in (note, "没有与其他专家共同评审的项目，无法计算宽严度") if x)
            experts.append(
                ExpertCalibration(
                    expert_id=expert_id,
                    sheets=k,
                    compared=compared,
                    leniency=leniency,
                    leniency_display=None if leniency is None else settings.to_display(leniency),
                    mean_total=Fraction(own_sum) / k,
                    std_dev=_APPROX.divide(root, k),
                    normalised=normalised,
                    note=note,
                )
            )

    normalised_scores: dict[int, tuple[Decimal, int]] = {}
    for a, zs in z_scores.items():
        # zs is in expert-id order (experts were visited sorted), so the rounded sum does not depend on input order.
        total = _ZERO
        for _, z in zs:
            total = _APPROX.add(total, z)
        normalised_scores[a] = (_APPROX.divide(total, len(zs)), len(zs))

    facts_by_id = _index_facts(facts)
    shown = {a: round_half_up(score, 2) for a, (score, _) in normalised_scores.items()}
    placed = _place(
        [(a, score, aggregates[a].vetoed) for a, (score, _) in normalised_scores.items()],
        _tie_keys(settings, aggregates, facts_by_id),
        settings,
        shown,
    )
    ranking = tuple(
        NormalisedEntry(
            application_id=p.application_id,
            score=normalised_scores[p.application_id][0],
            score_display=shown[p.application_id],
            experts_counted=normalised_scores[p.application_id][1],
            position=p.position,
            rank=p.rank,
            tied=p.tied,
            tie_note=p.tie_note,
            vetoed=aggregates[p.application_id].vetoed,
            official_position=official.entry(p.application_id).position,
            official_rank=official.entry(p.application_id).rank,
        )
        for p in placed
    )
    return Calibration(
        experts=tuple(experts),
        ranking=ranking,
        not_normalised=tuple(sorted(set(aggregates) - set(normalised_scores))),
        official=official,
    )


# --- reproducibility -------------------------------------------------------------------------------------------

_PASS_WORDS = {
    "通过": True,
    "是": True,
    "合格": True,
    "√": True,
    "不通过": False,
    "否": False,
    "不合格": False,
    "×": False,
}


@dataclass(frozen=True)
class RawScoreRow:
    """One cell of the raw-score file: a points item carries `value`, a gate item carries `passed`."""

    application_id: int
    expert_id: int
    item_code: str
    value: Decimal | None = None
    passed: bool | None = None

    @classmethod
    def from_cell(cls, application_id: int, expert_id: int, item_code: str, cell: object) -> RawScoreRow:
        """A row from a spreadsheet cell: a number (points), 通过/不通过 (gate), or empty (points left empty)."""
        if isinstance(cell, bool):
            return cls(application_id, expert_id, item_code, passed=cell)
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            return cls(application_id, expert_id, item_code)
        if isinstance(cell, str) and cell.strip() in _PASS_WORDS:
            return cls(application_id, expert_id, item_code, passed=_PASS_WORDS[cell.strip()])
        # str() of a float is the shortest decimal that reads back as it: 0.1 → "0.1", never 0.1000000000000000055…
        text = str(cell).strip()
        try:
            return cls(application_id, expert_id, item_code, value=Decimal(text))
        except InvalidOperation:
            raise ValueError(f"评分项 {item_code} 的分值无法识别：{cell}") from None

    @property
    def cell(self) -> Decimal | str | None:
        """What the export writes: the value, 通过/不通过, or empty."""
        if self.passed is not None:
            return "通过" if self.passed else "不通过"
        return self.value


def raw_rows(sheets: Iterable[SheetScores]) -> list[RawScoreRow]:
    """The raw-score rows of the sheets, ordered by application, expert, item code."""
    rows = []
    for sheet in sheets:
        for code, value in sheet.item_scores.items():
            rows.append(RawScoreRow(sheet.application_id, sheet.expert_id, code, value=value))
        for code, ok in sheet.gates.items():
            rows.append(RawScoreRow(sheet.application_id, sheet.expert_id, code, passed=ok))
    rows.sort(key=lambda r: (r.application_id, r.expert_id, r.item_code))
    return rows


def sheets_from_raw_rows(rows: Iterable[RawScoreRow], *, item_dimensions: Mapping[str, str]) -> list[SheetScores]:
    """Rebuild the sheets (totals and subtotals recomputed from the items) from raw-score rows."""
    items: dict[tuple[int, int], dict[str, Decimal | None]] = defaultdict(dict)
    gates: dict[tuple[int, int], dict[str, bool]] = defaultdict(dict)
    for row in rows:
        key = (row.application_id, row.expert_id)
        if row.item_code in items[key] or row.item_code in gates[key]:
            raise ValueError(f"申报项目 {row.application_id} 专家 {row.expert_id} 的评分项 {row.item_code} 重复")
        if row.passed is not None:
            gates[key][row.item_code] = row.passed
        else:
            items[key][row.item_code] = row.value
    return [
        SheetScores.from_items(
            expert_id=expert_id,
            application_id=application_id,
            item_scores=items[(application_id, expert_id)],
            gates=gates[(application_id, expert_id)],
            item_dimensions=item_dimensions,
        )
        for application_id, expert_id in sorted(set(items) | set(gates))
    ]


def rank_from_raw_rows(
    rows: Iterable[RawScoreRow],
    *,
    item_dimensions: Mapping[str, str],
    facts: Iterable[ApplicationFacts],
    settings: RankingSettings,
) -> Ranking:
    """Recompute the official ranking from a raw-score file: the same rows give exactly the same ranking."""
    return rank_applications(sheets_from_raw_rows(rows, item_dimensions=item_dimensions), facts, settings)


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
