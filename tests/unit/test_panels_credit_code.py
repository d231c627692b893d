"""The GB 32100-2015 统一社会信用代码 check that expert and enterprise codes go through."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewapp.applications.rules import (
    CREDIT_CODE_CHARS,
    credit_code_check_char,
    credit_code_problem,
    normalise_credit_code,
)
from tests.factories import VALID_CREDIT_CODES


@pytest.mark.parametrize("code", VALID_CREDIT_CODES)
def test_published_codes_pass(code):
    assert credit_code_problem(code) is None


def test_normalisation_makes_full_width_lower_case_and_spaced_codes_comparable():
    assert normalise_credit_code(" ９１３７００００１６３０４４８４１ｆ ") == "91370000163044841F"
    assert normalise_credit_code("9137 0000-1630 4484 1F") == "91370000163044841F"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91370000163044841", "统一社会信用代码应为 18 位（现为 17 位）。"),
        ("91370000163044841I", "统一社会信用代码含有不允许的字符：I（不使用 I、O、S、V、Z）。"),
        ("91370000163044841G", "统一社会信用代码校验位不正确，请核对是否抄错。"),
    ],
)
def test_problems_are_explained(code, message):
    assert credit_code_problem(code) == message


@given(st.text(alphabet=CREDIT_CODE_CHARS, min_size=17, max_size=17), st.sampled_from(CREDIT_CODE_CHARS))
def test_exactly_one_check_character_is_accepted(body, last):
    assert (credit_code_problem(body + last) is None) == (last == credit_code_check_char(body))
