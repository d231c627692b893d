"""Aggregation, ranking and calibration rules: exact, explainable, independent of input order."""

import random
import statistics
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewapp.excel import Column, read_table, workbook_bytes
from reviewapp.ranking.calibration import calibrate
from reviewapp.ranking.ordering import rank_applications
from reviewapp.ranking.raw_rows import RawScoreRow, rank_from_raw_rows, raw_rows
from reviewapp.ranking.rules import (
    ApplicationFacts,
    RankingSettings,
    SheetScores,
    aggregate_application,
    round_half_up,
    tie_break_label,
)
from reviewapp.rounds.models import Round

D = Decimal
PROD = "生产作业"
ITEMS = {"1.1": "工厂建设", "1.2": "工厂建设", "3.1": PROD, "3.2": PROD, "5.1": "运营管理"}


def sheet(app, expert, total, *, prod=None, gates=None, justification=""):
    total = D(total)
    return SheetScores(
        expert_id=expert,
        application_id=app,
        total=total,
        dimension_subtotals={PROD: D(prod) if prod is not None else total / 4},
        gates=gates or {},
        justification=justification,
    )


def panel(app, totals, **kwargs):
    return [sheet(app, expert, t, **kwargs) for expert, t in enumerate(totals, start=1)]


def agg(totals, method="trimmed_mean", **kwargs):
    return aggregate_application(panel(1, totals), RankingSettings(aggregation=method, **kwargs))


# --- strategies ------------------------------------------------------------------------------------------------

half_points = st.integers(0, 200).map(lambda k: D(k) / 2)
hundredths = st.integers(0, 10_000).map(lambda k: D(k).scaleb(-2))
scores = st.one_of(half_points, hundredths)
methods = st.sampled_from(["mean", "median", "trimmed_mean"])


@st.composite
def rounds(draw):
    """A small panel with many ties: few distinct totals, subtotals and maturity scores, occasional failed gates."""
    n_apps = draw(st.integers(1, 7))
    experts = list(range(1, draw(st.integers(1, 7)) + 1))
    totals = st.sampled_from([D(80), D(85), D("85.5"), D(90)])
    sheets = []
    for app in range(1, n_apps + 1):
        scorers = draw(st.lists(st.sampled_from(experts), min_size=1, unique=True))
        for expert in scorers:
            sheets.append(
                SheetScores(
                    expert_id=expert,
                    application_id=app,
                    total=draw(totals),
                    dimension_subtotals={PROD: draw(st.sampled_from([D(20), D(21)]))},
                    gates={"G1": draw(st.sampled_from([True] * 9 + [False]))},
                    justification=f"专家{expert}意见",
                )
            )
    orders = draw(st.permutations(range(1, n_apps + 1)))
    facts = [
        ApplicationFacts(
            app,
            draw(st.sampled_from([None, D(3), D("3.5")])),
            draw(st.sampled_from([orders[app - 1], None])),
        )
        for app in range(1, n_apps + 1)
    ]
    rule = RankingSettings(
        aggregation=draw(methods),
        gate_failure_vetoes=draw(st.booleans()),
        outlier_threshold=D(draw(st.sampled_from([0, 3, 15]))),
        tie_break=draw(
            st.sampled_from(
                [
                    (f"dimension:{PROD}", "maturity_score", "application_order"),
                    ("application_order",),
                    ("maturity_score", f"dimension:{PROD}"),
                    (),
                ]
            )
        ),
    )
    return sheets, facts, rule


# --- aggregation: definitions ----------------------------------------------------------------------------------


@given(st.lists(scores, min_size=1, max_size=9))
def test_trimmed_mean_lies_between_min_and_max(totals):
    a = agg(totals)
    assert min(totals) <= a.score <= max(totals)


@given(st.lists(scores, min_size=1, max_size=9), methods)
def test_identical_scores_aggregate_to_that_score(totals, method):
    a = agg([totals[0]] * len(totals), method)
    assert a.score == totals[0]
    assert a.std_dev == 0 and a.spread == 0 and a.outliers == ()


@given(st.lists(scores, min_size=1, max_size=9))
def test_mean_median_and_trimmed_mean_follow_their_definitions(totals):
    exact = [Fraction(t) for t in totals]
    assert agg(totals, "mean").score == statistics.mean(exact)
    assert agg(totals, "median").score == statistics.median(exact)
    trimmed = agg(totals, "trimmed_mean")
    if len(totals) >= 5:
        assert trimmed.score == statistics.mean(sorted(exact)[1:-1])
        assert trimmed.dropped == (max(totals), min(totals))
        assert trimmed.method == "trimmed_mean" and trimmed.warnings == ()
    else:
        assert trimmed.score == statistics.mean(exact)
        assert trimmed.method == "mean" and trimmed.dropped is None
    # population standard deviation, to the precision shown
    assert round_half_up(trimmed.std_dev, 6) == round_half_up(D(statistics.pstdev([float(t) for t in totals])), 6)
    assert trimmed.spread == max(totals) - min(totals)


@given(st.lists(scores, min_size=1, max_size=8), st.sampled_from([D(0), D(5), D(15)]))
def test_outliers_are_exactly_the_experts_far_from_the_others_mean(totals, threshold):
    a = agg(totals, outlier_threshold=threshold)
    expected = set()
    for i, t in enumerate(totals):
        others = totals[:i] + totals[i + 1 :]
        if others and abs(Fraction(t) - statistics.mean(Fraction(o) for o in others)) > threshold:
            expected.add(i + 1)
    assert {o.expert_id for o in a.outliers} == expected


@given(st.integers(-(10**6), 10**6), st.integers(0, 3))
def test_display_rounding_is_half_up_and_exact(hundredths_value, places):
    value = D(hundredths_value).scaleb(-2)
    assert round_half_up(value, places) == value.quantize(D(1).scaleb(-places), rounding=ROUND_HALF_UP)


def test_trimmed_mean_drops_exactly_one_highest_and_one_lowest_even_when_repeated():
    a = agg([90, 90, 80, 70, 70])
    assert a.score == 80  # (90 + 80 + 70) / 3, not (80) alone
    assert a.dropped == (D(90), D(70))
    assert a.method_label == "去掉一个最高分和一个最低分后平均"


def test_fewer_than_five_scores_fall_back_to_the_mean_with_a_visible_warning():
    a = agg([70, 80, 90, 95])
    assert a.score == Fraction(335, 4)
    assert a.method == "mean" and a.method_label == "算术平均"
    assert a.warnings == ("有效评分仅4份（少于5份），未去掉最高分和最低分，按算术平均计算",)
    ranking = rank_applications(panel(1, [70, 80, 90, 95]), [ApplicationFacts(1)], RankingSettings())
    assert ranking.warnings == ("1个项目有效评分少于5份，按算术平均计算",)
    assert "按算术平均计算" in ranking.entries[0].notes[-1]
    # the other rules have no such fallback
    assert agg([70, 80, 90, 95], "median").warnings == ()


def test_display_is_on_a_100_point_scale_with_one_decimal_half_up():
    assert agg([D("85.25")]).display == D("85.3")  # banker's rounding would give 85.2
    assert agg([80, 81, 81]).display == D("80.7")  # 80.666…
    assert agg([D(90)], full_marks=D(120)).display == D("75.0")


def test_per_dimension_and_per_item_means_and_gate_outcome():
    sheets = [
        SheetScores.from_items(
            expert_id=e,
            application_id=7,
            item_scores={"1.1": D(v), "3.1": D(4), "3.2": None},
            gates={"G1": e != 2, "G2": True},
            item_dimensions=ITEMS,
        )
        for e, v in [(1, 5), (2, "4.5"), (3, 3)]
    ]
    a = aggregate_application(sheets, RankingSettings(aggregation="mean", gate_failure_vetoes=False))
    assert a.totals == ((1, D(9)), (2, D("8.5")), (3, D(7)))
    assert a.dimension_means == {"工厂建设": Fraction(25, 6), PROD: Fraction(4)}
    assert a.item_stats["1.1"].mean == Fraction(25, 6)
    assert (a.item_stats["1.1"].minimum, a.item_stats["1.1"].maximum) == (D(3), D(5))
    assert a.item_stats["3.2"].count == 0 and a.item_stats["3.2"].mean is None
    assert [(g.code, g.passed, g.failed_by) for g in a.gates] == [("G1", 2, (2,)), ("G2", 3, ())]
    assert a.gate_failed and not a.vetoed
    assert a.notes == ("门槛项未通过（本批次不作一票否决）",)


def test_from_items_refuses_an_item_outside_the_criteria():
    with pytest.raises(ValueError, match="评分项 9.9 不在要素条件中"):
        SheetScores.from_items(
            expert_id=1, application_id=1, item_scores={"9.9": D(1)}, gates={}, item_dimensions=ITEMS
        )


def test_one_expert_cannot_count_twice_and_scores_are_never_rounded_silently():
    with pytest.raises(ValueError, match="重复评分表"):
        aggregate_application([sheet(1, 1, 80), sheet(1, 1, 90)], RankingSettings())
    with pytest.raises(ValueError, match="缺少基本信息"):
        rank_applications([sheet(2, 1, 80)], [ApplicationFacts(1)], RankingSettings())
    too_precise = D("1." + "3" * 70)
    with pytest.raises(ArithmeticError):
        agg([too_precise, too_precise])


# --- outliers and veto -----------------------------------------------------------------------------------------


def test_an_outlying_expert_is_flagged_with_their_justification():
    sheets = panel(1, [85, 86, 84, 85]) + [sheet(1, 5, 60, justification="数据采集覆盖率低，生产作业场景未落地。")]
    a = aggregate_application(sheets, RankingSettings())
    [outlier] = a.outliers
    assert outlier.expert_id == 5 and outlier.total == 60
    assert outlier.others_mean == 85 and outlier.difference == -25 and outlier.difference_display == D("-25.0")
    assert outlier.justification == "数据采集覆盖率低，生产作业场景未落地。"


def test_a_difference_of_exactly_the_threshold_is_not_an_outlier():
    assert agg([70, 85, 85]).outliers == ()  # others' mean 85, difference exactly 15
    assert [o.expert_id for o in agg([D("69.99"), 85, 85]).outliers] == [1]
    assert agg([D("69.99"), 85, 85], outlier_threshold=D(20)).outliers == ()


def test_a_vetoed_application_ranks_after_every_non_vetoed_one_and_is_flagged():
    sheets = (
        panel(1, [95, 95, 95], gates={"G1": True})
        + [sheet(2, e, 99, gates={"G1": e != 3}) for e in (1, 2, 3)]
        + panel(3, [60, 60, 60], gates={"G1": True})
    )
    facts = [ApplicationFacts(a) for a in (1, 2, 3)]
    vetoing = rank_applications(sheets, facts, RankingSettings(aggregation="mean", gate_failure_vetoes=True))
    assert vetoing.order == [1, 3, 2]
    last = vetoing.entry(2)
    assert last.aggregate.vetoed and last.position == 3 and last.rank == 3
    assert last.notes == ("门槛项未通过，一票否决，排在未否决项目之后",)
    assert last.aggregate.gates[0].failed_by == (3,)

    lenient = rank_applications(sheets, facts, RankingSettings(gate_failure_vetoes=False))
    assert lenient.order == [2, 1, 3]
    assert lenient.entry(2).aggregate.gate_failed and not lenient.entry(2).aggregate.vetoed


# --- ranking and ties ------------------------------------------------------------------------------------------


def test_ties_share_a_rank_and_say_which_tie_break_decided():
    sheets = (
        panel(1, [90, 90, 90])
        + panel(2, [85, 85, 85], prod=20)
        + panel(3, [85, 85, 85], prod=22)
        + panel(4, [85, 85, 85], prod=20)
        + panel(5, [80, 80, 80])
    )
    facts = [
        ApplicationFacts(1, D(3), 5),
        ApplicationFacts(2, D("3.1"), 4),
        ApplicationFacts(3, D(2), 3),
        ApplicationFacts(4, D("3.5"), 2),
        ApplicationFacts(5, D(4), 1),
    ]
    ranking = rank_applications(sheets, facts, RankingSettings())
    lines = [(e.application_id, e.position, e.rank, e.tied, e.tie_note) for e in ranking.entries]
    assert lines == [
        (1, 1, 1, False, ""),
        (3, 2, 2, True, "同分，按生产作业小计排序"),  # higher 生产作业 subtotal
        (4, 3, 2, True, "同分，按生产作业小计排序"),
        (2, 4, 2, True, "同分，按成熟度自评得分排序"),  # same subtotal as 4, lower maturity score
        (5, 5, 5, False, ""),
    ]
    assert ranking.entry(4).decided_by == f"dimension:{PROD}"


def test_earlier_application_wins_when_everything_else_is_equal():
    sheets = panel(1, [85, 85, 85]) + panel(2, [85, 85, 85])
    facts = [ApplicationFacts(1, D(3), 9), ApplicationFacts(2, D(3), 4)]
    ranking = rank_applications(sheets, facts, RankingSettings())
    assert ranking.order == [2, 1]
    assert [e.tie_note for e in ranking.entries] == ["同分，按申报顺序排序"] * 2
    # with no tie-break stated the system id still gives one order, and says so
    bare = rank_applications(sheets, facts, RankingSettings(tie_break=()))
    assert bare.order == [1, 2] and bare.entries[0].tie_note == "同分，按系统编号排序"


def test_scores_equal_only_after_rounding_are_not_ties_but_are_explained():
    sheets = panel(1, [D("85.26")]) + panel(2, [D("85.34")])
    ranking = rank_applications(sheets, [ApplicationFacts(1), ApplicationFacts(2)], RankingSettings())
    assert ranking.order == [2, 1]
    assert [e.rank for e in ranking.entries] == [1, 2]
    assert not any(e.tied for e in ranking.entries)
    assert {e.aggregate.display for e in ranking.entries} == {D("85.3")}
    assert ranking.entries[1].tie_note == "显示分相同，按未四舍五入的得分排序"

    # next to a tie the note still appears on the entry that has no tie note; across a veto it does not
    sheets = panel(1, [D("85.26")]) + panel(2, [D("85.25")]) + panel(3, [D("85.25")])
    sheets += [sheet(4, 1, D("85.27"), gates={"G1": False})]  # higher, but vetoed
    facts = [ApplicationFacts(a, None, a) for a in (1, 2, 3, 4)]
    ranking = rank_applications(sheets, facts, RankingSettings())
    assert [(e.application_id, e.rank, e.tie_note) for e in ranking.entries] == [
        (1, 1, "显示分相同，按未四舍五入的得分排序"),
        (2, 2, "同分，按申报顺序排序"),
        (3, 2, "同分，按申报顺序排序"),
        (4, 4, ""),
    ]


def test_the_rounds_rule_decides_the_order():
    sheets = panel(1, [80, 80, 100]) + panel(2, [85, 85, 85])
    facts = [ApplicationFacts(1), ApplicationFacts(2)]
    assert rank_applications(sheets, facts, RankingSettings(aggregation="mean")).order == [1, 2]  # 86.7 > 85
    assert rank_applications(sheets, facts, RankingSettings(aggregation="median")).order == [2, 1]  # 80 < 85


def test_applications_without_sheets_are_listed_not_ranked():
    ranking = rank_applications(panel(1, [80]), [ApplicationFacts(1), ApplicationFacts(2)], RankingSettings())
    assert ranking.order == [1] and ranking.unscored == (2,)
    assert "1个项目尚无已提交的评分表，未参加排序" in ranking.warnings


def _expected_tie_key(entry, rule):
    key = []
    for k in rule.tie_break:
        if k.startswith("dimension:"):
            v = entry.aggregate.dimension_means.get(k.removeprefix("dimension:"))
            key.append((1, 0) if v is None else (0, -v))
        elif k == "maturity_score":
            v = entry.facts.maturity_score
            key.append((1, 0) if v is None else (0, -v))
        else:
            v = entry.facts.application_order
            key.append((1, 0) if v is None else (0, v))
    key.append((0, entry.application_id))
    return key


@settings(max_examples=200)
@given(rounds(), st.randoms(use_true_random=False))
def test_results_do_not_depend_on_the_order_of_sheets_or_facts(case, rnd):
    sheets, facts, rule = case
    first = rank_applications(sheets, facts, rule)
    shuffled_sheets, shuffled_facts = list(sheets), list(facts)
    rnd.shuffle(shuffled_sheets)
    rnd.shuffle(shuffled_facts)
    again = rank_applications(shuffled_sheets, shuffled_facts, rule)
    assert again.entries == first.entries
    assert calibrate(shuffled_sheets, shuffled_facts, rule) == calibrate(sheets, facts, rule)


@settings(max_examples=200)
@given(rounds())
def test_ties_are_deterministic_and_follow_the_stated_order(case):
    sheets, facts, rule = case
    entries = rank_applications(sheets, facts, rule).entries
    assert [e.position for e in entries] == list(range(1, len(entries) + 1))

    def place(entry):
        return (entry.aggregate.vetoed, -entry.aggregate.score)

    for e in entries:
        same = [o for o in entries if place(o) == place(e)]
        ahead = [o for o in entries if place(o) < place(e)]
        assert e.rank == len(ahead) + 1  # competition ranking: 3, 3, 5
        assert e.tied == (len(same) > 1)
        assert e.tie_note.startswith("同分，按") == e.tied
    for upper, lower in pairwise(entries):
        assert place(upper) <= place(lower)
        if lower.tied and lower.rank == upper.rank:
            ku, kl = _expected_tie_key(upper, rule), _expected_tie_key(lower, rule)
            assert ku < kl
            first_difference = next(i for i, (a, b) in enumerate(zip(ku, kl, strict=True)) if a != b)
            names = [*rule.tie_break, "application_id"]
            assert lower.tie_note == f"同分，按{tie_break_label(names[first_difference])}排序"


# --- calibration -----------------------------------------------------------------------------------------------


def test_leniency_is_positive_for_a_generous_expert_and_negative_for_a_strict_one():
    # expert 1 always 6 above the others, expert 3 always 3 below, expert 2 in the middle
    sheets = []
    for app, base in [(1, 80), (2, 70), (3, 90)]:
        sheets += [sheet(app, 1, base + 6), sheet(app, 2, base), sheet(app, 3, base - 3), sheet(app, 4, base)]
    facts = [ApplicationFacts(a) for a in (1, 2, 3)]
    cal = calibrate(sheets, facts, RankingSettings())
    leniency = {e.expert_id: e.leniency for e in cal.experts}
    assert leniency == {1: 7, 2: -1, 3: -5, 4: -1}  # 86 − mean(80, 77, 80) = 7, …
    assert {e.expert_id: e.leniency_display for e in cal.experts}[3] == D("-5.0")
    assert all(e.compared == 3 and e.normalised for e in cal.experts)


def test_an_expert_with_one_sheet_or_no_variance_is_left_out_of_the_normalised_ranking_and_says_why():
    sheets = (
        [sheet(1, 1, 90), sheet(2, 1, 70)]  # expert 1: varies
        + [sheet(1, 2, 80), sheet(2, 2, 80)]  # expert 2: same total twice
        + [sheet(3, 3, 75)]  # expert 3: a single sheet, no co-panelist
    )
    facts = [ApplicationFacts(a) for a in (1, 2, 3)]
    cal = calibrate(sheets, facts, RankingSettings())
    by_id = {e.expert_id: e for e in cal.experts}
    assert by_id[1].normalised and by_id[1].note == ""
    assert not by_id[2].normalised and by_id[2].note == "所评各份总分相同，无法标准化，未计入标准分排序"
    assert not by_id[3].normalised and by_id[3].leniency is None and by_id[3].compared == 0
    assert by_id[3].note == "仅评1份，无法标准化，未计入标准分排序；没有与其他专家共同评审的项目，无法计算宽严度"
    assert [(e.application_id, e.experts_counted, e.score) for e in cal.ranking] == [(1, 1, D(1)), (2, 1, D(-1))]
    assert cal.not_normalised == (3,)


def test_normalisation_can_reorder_beside_the_official_ranking_but_never_replaces_it():
    # Expert 1 spreads totals widely, expert 2 narrowly: the plain mean follows expert 1, the z-scores do not.
    sheets = [
        sheet(1, 1, 100),
        sheet(2, 1, 60),
        sheet(3, 1, 70),
        sheet(1, 2, 80),
        sheet(2, 2, 84),
        sheet(3, 2, 85),
    ]
    facts = [ApplicationFacts(a) for a in (1, 2, 3)]
    rule = RankingSettings(aggregation="mean")
    official = rank_applications(sheets, facts, rule)
    cal = calibrate(sheets, facts, rule, official=official)
    assert official.order == [1, 3, 2]
    assert cal.official is official and rank_applications(sheets, facts, rule) == official
    assert [(e.application_id, e.position, e.official_position, e.shift) for e in cal.ranking] == [
        (3, 1, 2, 1),
        (1, 2, 1, -1),
        (2, 3, 3, 0),
    ]
    assert [e.score_display for e in cal.ranking] == [D("0.27"), D("-0.01"), D("-0.26")]
    assert "仅供参考" in cal.method_note


@given(rounds())
def test_leniencies_sum_to_zero_when_every_expert_scores_every_application(case):
    sheets, facts, rule = case
    experts = sorted({s.expert_id for s in sheets})
    full = [
        SheetScores(expert_id=e, application_id=f.application_id, total=D(70 + (e * 7 + f.application_id * 3) % 25))
        for f in facts
        for e in experts
    ]
    cal = calibrate(full, facts, rule)
    if len(experts) > 1:
        assert sum(e.leniency for e in cal.experts) == 0


# --- settings and reproducibility ------------------------------------------------------------------------------


def test_settings_mirror_the_round_and_refuse_unknown_rules():
    rule = RankingSettings.from_round(Round(name="2026年度先进级智能工厂遴选", year=2026, tier="advanced"))
    assert rule == RankingSettings()
    assert rule.tie_break == (f"dimension:{PROD}", "maturity_score", "application_order")
    with pytest.raises(ValueError, match="未知的同分排序依据"):
        RankingSettings(tie_break=("random",))
    with pytest.raises(ValueError):
        RankingSettings(aggregation="geometric")


def _round_with_items(seed):
    rng = random.Random(seed)
    dims = {"1.1": "工厂建设", "2.1": "研发设计", "3.1": PROD, "3.2": PROD, "4.1": "生产管理", "5.1": "运营管理"}
    sheets, facts = [], []
    for app in range(1, 13):
        facts.append(ApplicationFacts(app, D(rng.randrange(20, 50)) / 10, rng.randrange(1, 100)))
        for expert in rng.sample(range(1, 8), rng.choice([3, 5, 6, 7])):
            items = {code: (D(rng.randrange(0, 41)) / 2 if rng.random() > 0.05 else None) for code in dims}
            if app % 4 == 0:  # same items everywhere: ties that the tie-breaks must settle
                items = {code: D(10) for code in dims}
                items["3.1"] = D(10 + app % 3)
                items["1.1"] = D(10 - app % 3)
            sheets.append(
                SheetScores.from_items(
                    expert_id=expert,
                    application_id=app,
                    item_scores=items,
                    gates={"G1": app % 4 == 0 or rng.random() > 0.05},
                    item_dimensions=dims,
                )
            )
    return sheets, facts, dims


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_ranking_is_recomputed_exactly_from_an_exported_raw_score_file(seed):
    sheets, facts, dims = _round_with_items(seed)
    rule = RankingSettings()
    official = rank_applications(sheets, facts, rule)
    assert any(e.tied for e in official.entries)

    # Export the raw scores as an Excel file, read it back as staff would, and recompute.
    columns = [Column("申报编号"), Column("专家编号"), Column("评分项编号"), Column("分值或结论")]
    data = workbook_bytes(
        title="专家原始评分明细",
        columns=columns,
        rows=[(r.application_id, r.expert_id, r.item_code, r.cell) for r in raw_rows(reversed(sheets))],
        unit_line="报送单位（盖章）：",
    )
    table = read_table(data, columns={c.header: () for c in columns}, required=[c.header for c in columns])
    rows = [
        RawScoreRow.from_cell(int(v["申报编号"]), int(v["专家编号"]), v["评分项编号"], v["分值或结论"])
        for v in (r.values for r in table.rows)
    ]
    again = rank_from_raw_rows(rows, item_dimensions=dims, facts=facts, settings=rule)

    assert again.entries == official.entries
    assert [(e.application_id, e.rank, e.tie_note, e.aggregate.score) for e in again.entries] == [
        (e.application_id, e.rank, e.tie_note, e.aggregate.score) for e in official.entries
    ]


def test_raw_cells_are_read_as_numbers_verdicts_or_empty():
    assert RawScoreRow.from_cell(1, 2, "3.1", 7.5).value == D("7.5")
    assert RawScoreRow.from_cell(1, 2, "3.1", 0.1).value == D("0.1")  # never 0.1000000000000000055…
    assert RawScoreRow.from_cell(1, 2, "3.1", " 8 ").value == D(8)
    assert RawScoreRow.from_cell(1, 2, "G1", "不通过").passed is False
    assert RawScoreRow.from_cell(1, 2, "G1", True).passed is True
    assert RawScoreRow.from_cell(1, 2, "3.1", "").value is None
    with pytest.raises(ValueError, match="分值无法识别"):
        RawScoreRow.from_cell(1, 2, "3.1", "八分")
    with pytest.raises(ValueError, match="重复"):
        rank_from_raw_rows(
            [RawScoreRow(1, 2, "3.1", D(1)), RawScoreRow(1, 2, "3.1", D(2))],
            item_dimensions=ITEMS,
            facts=[ApplicationFacts(1)],
            settings=RankingSettings(),
        )


# --- people's order on top of the computed one -------------------------------------------------------------------

from reviewapp.ranking.rules import apply_moves, merge_orders  # noqa: E402


def test_a_move_puts_the_application_at_its_stated_place_and_the_rest_keep_their_order():
    assert apply_moves([1, 2, 3, 4], {}) == [1, 2, 3, 4]
    assert apply_moves([1, 2, 3, 4], {3: 1}) == [3, 1, 2, 4]
    assert apply_moves([1, 2, 3, 4], {1: 4}) == [2, 3, 4, 1]
    assert apply_moves([1, 2, 3, 4], {4: 1, 1: 3}) == [4, 2, 1, 3]
    assert apply_moves([1, 2, 3], {2: 99}) == [1, 3, 2]  # beyond the end: last
    assert apply_moves([1, 2, 3], {9: 1}) == [1, 2, 3]  # an application that left the list is ignored


@given(
    st.lists(st.integers(1, 50), min_size=1, max_size=12, unique=True).flatmap(
        lambda order: st.tuples(
            st.just(order),
            st.dictionaries(st.sampled_from(order), st.integers(1, len(order)), max_size=len(order)),
        )
    )
)
def test_moves_give_a_permutation_with_each_moved_application_where_stated_when_places_differ(case):
    order, moves = case
    result = apply_moves(order, moves)
    assert sorted(result) == sorted(order)
    unmoved = [a for a in result if a not in moves]
    assert unmoved == [a for a in order if a not in moves]
    if len(set(moves.values())) == len(moves):  # distinct places: each lands exactly where stated
        for application_id, place in moves.items():
            assert result.index(application_id) == place - 1


def test_merge_keeps_each_panels_order_and_takes_the_better_head_first():
    position = {10: 1, 20: 2, 11: 3, 21: 4, 12: 5}.__getitem__
    assert merge_orders([[10, 11, 12], [20, 21]], key=position) == [10, 20, 11, 21, 12]
    # A chair moved 12 to the top of its panel: it stays ahead of its own panel's others.
    assert merge_orders([[12, 10, 11], [20, 21]], key=position) == [20, 21, 12, 10, 11]
    assert merge_orders([], key=position) == []


@given(st.lists(st.lists(st.integers(0, 1000), max_size=6, unique=True), max_size=4))
def test_merge_of_computed_orders_is_the_computed_order(panels):
    seen: set[int] = set()
    sequences = []
    for seq in panels:
        seq = sorted(a for a in seq if a not in seen)
        seen.update(seq)
        sequences.append(seq)
    assert merge_orders(sequences, key=lambda a: a) == sorted(seen)
