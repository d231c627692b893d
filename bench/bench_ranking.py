"""Benchmark: aggregation, ranking and calibration of 2,000 applications × 7 experts × 20 items (target < 1 s).

Run: .venv/bin/python bench/bench_ranking.py [--applications N] [--repeat R]
Building the sheets (the database read, in the app) is timed separately and not counted against the target.
"""

from __future__ import annotations

import argparse
import random
import time
from decimal import Decimal

from reviewapp.ranking.calibration import calibrate
from reviewapp.ranking.ordering import rank_applications
from reviewapp.ranking.raw_rows import rank_from_raw_rows, raw_rows
from reviewapp.ranking.rules import ApplicationFacts, RankingSettings, SheetScores

DIMENSIONS = ("工厂建设", "研发设计", "生产作业", "生产管理", "运营管理")
ITEMS = {f"{d + 1}.{i + 1}": title for d, title in enumerate(DIMENSIONS) for i in range(4)}  # 20 items, 5 points each
GATES = ("G1", "G2")
PANEL_SIZE = 7


def generate(applications: int, seed: int = 20260928) -> tuple[list[SheetScores], list[ApplicationFacts]]:
    """Panels of 7 experts with 100 applications each; experts differ in leniency, applications in quality."""
    rng = random.Random(seed)
    half_points = [Decimal(k) / 2 for k in range(11)]  # 0, 0.5, … 5
    sheets: list[SheetScores] = []
    facts: list[ApplicationFacts] = []
    for a in range(1, applications + 1):
        panel = (a - 1) // 100
        quality = rng.uniform(2.0, 4.6)
        facts.append(ApplicationFacts(a, Decimal(rng.randrange(200, 500)) / 10, a))
        for member in range(PANEL_SIZE):
            expert_id = panel * PANEL_SIZE + member + 1
            leniency = (member - 3) * 0.15
            items = {
                code: half_points[max(0, min(10, round((quality + leniency + rng.gauss(0, 0.6)) * 2)))]
                for code in ITEMS
            }
            gates = {g: rng.random() > 0.002 for g in GATES}
            sheets.append(
                SheetScores.from_items(
                    expert_id=expert_id,
                    application_id=a,
                    item_scores=items,
                    gates=gates,
                    item_dimensions=ITEMS,
                    justification="该项目智能化场景建设较完整。",
                )
            )
    return sheets, facts


def best_of(repeat: int, fn) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    settings = RankingSettings()

    start = time.perf_counter()
    sheets, facts = generate(args.applications)
    built = time.perf_counter() - start

    def core():  # type: ignore[no-untyped-def]
        ranking = rank_applications(sheets, facts, settings)
        calibration = calibrate(sheets, facts, settings, official=ranking)
        return ranking, calibration

    def with_details():  # type: ignore[no-untyped-def]
        ranking, calibration = core()
        for entry in ranking.entries:  # what the chair's page and the exports read per application
            entry.aggregate.item_stats, entry.aggregate.dimension_means  # noqa: B018
        return ranking, calibration

    core_s, (ranking, calibration) = best_of(args.repeat, core)
    detail_s, _ = best_of(args.repeat, with_details)
    rows = raw_rows(sheets)
    raw_s, again = best_of(
        args.repeat,
        lambda: rank_from_raw_rows(rows, item_dimensions=ITEMS, facts=facts, settings=settings),
    )
    assert [(e.application_id, e.rank, e.aggregate.score) for e in again.entries] == [
        (e.application_id, e.rank, e.aggregate.score) for e in ranking.entries
    ]

    n = args.applications
    print(
        f"{n} applications × {PANEL_SIZE} experts × {len(ITEMS)} items (+{len(GATES)} gates), "
        f"{len(sheets)} sheets, best of {args.repeat}"
    )
    print(f"  building the sheets (not counted):                 {built:6.3f} s")
    print(f"  aggregation + ranking + calibration:               {core_s:6.3f} s  (target < 1 s)")
    print(f"  … plus per-item and per-dimension means for all:   {detail_s:6.3f} s")
    print(f"  recompute from {len(rows)} raw-score rows:            {raw_s:6.3f} s")
    ties = sum(1 for e in ranking.entries if e.tied)
    print(
        f"  tied entries: {ties}; vetoed: {sum(e.aggregate.vetoed for e in ranking.entries)}; "
        f"outliers: {sum(len(e.aggregate.outliers) for e in ranking.entries)}; "
        f"experts calibrated: {len(calibration.experts)}"
    )


if __name__ == "__main__":
    main()
