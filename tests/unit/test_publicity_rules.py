"""Publicity rules: the reproducible spot-check sample, the notice template, the public columns."""

from __future__ import annotations

from datetime import date

import pytest

from reviewapp.publicity import rules


def test_same_seed_draws_the_same_sample_whatever_the_order_of_the_ids() -> None:
    ids = [31, 7, 12, 99, 54, 3, 18, 64, 27, 45]
    first = rules.draw_sample(ids, 4, 20260928)
    assert rules.draw_sample(list(reversed(ids)), 4, 20260928) == first
    assert rules.draw_sample(sorted(ids) + [7, 12], 4, 20260928) == first  # duplicates do not count twice
    assert len(set(first)) == 4 and set(first) <= set(ids)


def test_another_seed_draws_another_sample() -> None:
    ids = list(range(1, 41))
    samples = {tuple(rules.draw_sample(ids, 5, seed)) for seed in range(1, 21)}
    assert len(samples) > 15


def test_a_larger_sample_with_the_same_seed_extends_the_smaller_one() -> None:
    ids = list(range(100, 150))
    assert rules.draw_sample(ids, 8, 7)[:3] == rules.draw_sample(ids, 3, 7)


def test_sample_size_must_fit_the_population() -> None:
    with pytest.raises(ValueError):
        rules.draw_sample([1, 2, 3], 4, 1)
    with pytest.raises(ValueError):
        rules.draw_sample([1, 2, 3], 0, 1)


def test_notice_fills_placeholders_and_drops_lines_left_empty() -> None:
    values = rules.notice_values(
        round_name="2026年度先进级智能工厂遴选",
        start=date(2026, 9, 28),
        end=date(2026, 10, 9),
        working_days=5,
        contact_unit="省工业和信息化厅装备工业处",
        contact_address="济南市历下区某路1号",
        contact_phone="0531-12345678",
    )
    text = rules.render_notice(rules.DEFAULT_NOTICE_TEMPLATE, values)
    assert "2026年9月28日至2026年10月9日（5个工作日）" in text
    assert "匿名异议" in text and "不予受理" in text and "加盖本单位公章" in text and "真实姓名" in text
    assert "联系电话：0531-12345678" in text
    assert "电子邮箱" not in text  # no e-mail given: the line goes
    assert "{" not in text


def test_unknown_placeholder_is_reported() -> None:
    assert rules.template_problems(rules.DEFAULT_NOTICE_TEMPLATE) == []
    problems = rules.template_problems("公示期：{开始日期}至{截止日期}")
    assert len(problems) == 1 and "{截止日期}" in problems[0]


def test_score_column_only_when_the_round_publishes_scores() -> None:
    assert "得分" not in rules.allowed_columns(False)
    assert rules.shown_columns(["得分", "企业名称"], publish_scores=False) == ["企业名称"]
    assert rules.shown_columns(["得分", "企业名称"], publish_scores=True) == ["企业名称", "得分"]
    assert rules.column_problems(["得分"], publish_scores=False)
    assert rules.column_problems([], publish_scores=True)


def test_final_list_waits_for_the_end_of_publicity() -> None:
    start, end = date(2026, 9, 28), date(2026, 10, 9)
    assert rules.final_list_publicity_problems(start_date=start, end_date=end, published=False, today=date(2026, 11, 1))
    assert rules.final_list_publicity_problems(start_date=start, end_date=end, published=True, today=end)
    assert (
        rules.final_list_publicity_problems(start_date=start, end_date=end, published=True, today=date(2026, 10, 10))
        == []
    )
