"""The official calendar with make-up working days (调休)."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from reviewapp.publicity.calendar import add_working_days, is_working_day, period_end


def test_national_day_2026_five_working_days_from_0928_end_1009():
    assert period_end(date(2026, 9, 28), 5) == date(2026, 10, 9)


def test_make_up_saturday_is_a_working_day_and_holidays_are_not():
    assert is_working_day(date(2026, 10, 10))  # Saturday worked in exchange for 10-07
    assert is_working_day(date(2026, 9, 20))  # Sunday worked in exchange for 10-06
    assert not is_working_day(date(2026, 10, 1))
    assert not is_working_day(date(2026, 10, 7))
    assert not is_working_day(date(2026, 11, 21))  # an ordinary Saturday


def test_a_period_starting_on_a_day_off_starts_counting_at_the_next_working_day():
    assert period_end(date(2026, 10, 3), 1) == date(2026, 10, 8)
    assert period_end(date(2026, 11, 20), 7) == date(2026, 11, 30)  # Friday counts


def test_overrides_let_a_province_correct_the_calendar():
    start = date(2026, 11, 23)
    assert period_end(start, 5) == date(2026, 11, 27)
    assert period_end(start, 5, {date(2026, 11, 25): False}) == date(2026, 11, 30)
    assert period_end(start, 5, {date(2026, 11, 28): True, date(2026, 11, 25): False}) == date(2026, 11, 28)


def test_reply_deadline_counts_working_days_after_the_day():
    assert add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 10)


@given(st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)), st.integers(min_value=1, max_value=30))
def test_period_holds_exactly_n_working_days_and_ends_on_one(start, n):
    end = period_end(start, n)
    assert is_working_day(end)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    assert sum(is_working_day(d) for d in days) == n
