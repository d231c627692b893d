"""The pages that rank without showing item scores (the recommendation list) read each submitted sheet's summary
(dimension subtotals and gates, written on submit) instead of its twenty item scores. The ranking must be exactly
the one the item scores give: same order, same aggregates, same gate outcomes, same tie-break keys; and a sheet
without a summary (submitted before summaries were kept) sends the whole read back to the item scores."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from bench import province
from reviewapp.ranking.raw_scores import load_scores
from reviewapp.rounds import service as rounds
from reviewapp.scoring import rules as sheet_rules
from reviewapp.scoring.models import ItemScore, ScoreSheet
from reviewapp.scoring.sheets import scoring_items, sheet_criteria

pytestmark = pytest.mark.db


def ranking_facts(scores):  # type: ignore[no-untyped-def]
    ranking = scores.ranking()
    out = []
    for app_id in ranking.order:
        entry = ranking.entry(app_id)
        agg = entry.aggregate
        out.append((app_id, entry.position, entry.tied, agg.score, agg.display, agg.totals, agg.gates, agg.vetoed,
                    agg.outliers, agg.dimension_means, agg.std_dev, entry.notes))  # fmt: skip
    return out


@pytest.fixture
def day(engine: Engine) -> province.Province:
    with Session(engine, expire_on_commit=False) as session:
        built = province.build(session, applications=40, experts=28, panels_count=2, big_panel=12, seed=11)
    # Give the ranking something to decide on gates: fail the gate on some sheets, recording it as a submit does.
    with Session(engine) as session:
        sheets = session.exec(select(ScoreSheet).order_by(ScoreSheet.id)).all()
        tree = rounds.criteria_tree(session, sheets[0].criteria_version_id)
        gate_ids = [i.id for i in scoring_items(tree) if i.kind == "gate"]
        for sheet in sheets[::9]:
            session.execute(
                update(ItemScore)
                .where(ItemScore.sheet_id == sheet.id, col(ItemScore.node_id).in_(gate_ids))
                .values(gate=sheet_rules.GATE_FAIL)
            )
            _tree, entries = sheet_criteria(session, version_id=sheet.criteria_version_id, sheet_id=sheet.id)
            sheet.summary_json = sheet_rules.summary_json(scoring_items(tree), entries)
            session.add(sheet)
        session.commit()
    return built


def test_summaries_rank_exactly_as_the_item_scores(engine: Engine, day: province.Province) -> None:
    with Session(engine) as session:
        ids = session.exec(select(ScoreSheet.application_id).distinct()).all()
        full = load_scores(session, round_id=day.round_id, application_ids=ids)
        light = load_scores(session, round_id=day.round_id, application_ids=ids, with_items=False)
    assert all(s.item_scores for s in full.sheets) and not any(s.item_scores for s in light.sheets)
    expected = ranking_facts(full)
    assert any(row[7] for row in expected), "the world should hold vetoed applications"
    assert ranking_facts(light) == expected


def test_a_sheet_without_a_summary_sends_the_read_back_to_the_items(engine: Engine, day: province.Province) -> None:
    with Session(engine) as session:
        ids = session.exec(select(ScoreSheet.application_id).distinct()).all()
        expected = ranking_facts(load_scores(session, round_id=day.round_id, application_ids=ids))
        first = session.exec(select(ScoreSheet).order_by(ScoreSheet.id)).first()
        first.summary_json = None  # type: ignore[union-attr]
        session.add(first)
        session.commit()
        light = load_scores(session, round_id=day.round_id, application_ids=ids, with_items=False)
    assert all(s.item_scores for s in light.sheets)
    assert ranking_facts(light) == expected
