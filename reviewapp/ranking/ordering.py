"""The official ranking (pure): aggregates placed by score, vetoes and the round's stated tie-breaks, each tie
explained by the key that decided it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import (
    Decimal,
)
from functools import cached_property

from reviewapp.ranking.rules import (
    DIMENSION_PREFIX,
    FINAL_TIE_BREAK,
    ApplicationAggregate,
    ApplicationFacts,
    Number,
    RankingSettings,
    SheetScores,
    aggregate_application,
    tie_break_label,
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


def tie_keys(
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


def place(
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
        above, below = row[placed[i].application_id], row[placed[i + 1].application_id]
        if above[2] == below[2] and above[1] != below[1] and display[above[0]] == display[below[0]]:
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


def index_facts(facts: Iterable[ApplicationFacts]) -> dict[int, ApplicationFacts]:
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
    facts_by_id = index_facts(facts)
    by_app = _group_sheets(sheets, facts_by_id)
    aggregates = {a: aggregate_application(by_app[a], settings) for a in sorted(by_app)}
    placed = place(
        [(a, agg.score, agg.vetoed) for a, agg in aggregates.items()],
        tie_keys(settings, aggregates, facts_by_id),
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
