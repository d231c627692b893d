"""The calibration view (pure), for the chair's information only: each expert's leniency against the co-panelists,
and a ranking from within-expert z-scores beside the official one, which always follows the round's rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import (
    Decimal,
    localcontext,
)
from fractions import Fraction

from reviewapp.ranking.ordering import Ranking, index_facts, place, rank_applications, tie_keys
from reviewapp.ranking.rules import APPROX, EXACT, ZERO, ApplicationFacts, RankingSettings, SheetScores, round_half_up


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
    with localcontext(EXACT):
        for a, agg in aggregates.items():
            app_sum[a] = sum((t for _, t in agg.totals), ZERO)
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
            own_sum = ZERO
            own_sq = ZERO
            for sheet in own:
                t = sheet.total
                own_sum += t
                own_sq += t * t
                n = aggregates[sheet.application_id].sheet_count
                if n > 1:
                    compared += 1
                    excess_by_divisor[n - 1] = excess_by_divisor.get(n - 1, ZERO) + (
                        n * t - app_sum[sheet.application_id]
                    )
            leniency = (
                sum((Fraction(v) / d for d, v in excess_by_divisor.items()), Fraction(0)) / compared
                if compared
                else None
            )
            k2_var = k * own_sq - own_sum * own_sum
            root = APPROX.sqrt(k2_var)
            if k == 1:
                normalised, note = False, "仅评1份，无法标准化，未计入标准分排序"
            elif root == 0:
                normalised, note = False, "所评各份总分相同，无法标准化，未计入标准分排序"
            else:
                normalised, note = True, ""
                for sheet in own:
                    # z = (t − mean)/sd = (k·t − Σt)/sqrt(k·Σt² − (Σt)²)
                    z = APPROX.divide(k * sheet.total - own_sum, root)
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
                    std_dev=APPROX.divide(root, k),
                    normalised=normalised,
                    note=note,
                )
            )

    normalised_scores: dict[int, tuple[Decimal, int]] = {}
    for a, zs in z_scores.items():
        # zs is in expert-id order (experts were visited sorted), so the rounded sum does not depend on input order.
        total = ZERO
        for _, z in zs:
            total = APPROX.add(total, z)
        normalised_scores[a] = (APPROX.divide(total, len(zs)), len(zs))

    facts_by_id = index_facts(facts)
    shown = {a: round_half_up(score, 2) for a, (score, _) in normalised_scores.items()}
    placed = place(
        [(a, score, aggregates[a].vetoed) for a, (score, _) in normalised_scores.items()],
        tie_keys(settings, aggregates, facts_by_id),
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
