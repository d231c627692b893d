"""Pure helpers: form validation messages, password policy, safe redirects, Excel text normalisation."""

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from reviewapp.auth.rules import password_problems, safe_next
from reviewapp.excel import normalise_header, normalise_text
from reviewapp.forms import Field, parse_date, validate


def test_required_length_choice_number_and_date_messages_name_the_field():
    fields = [
        Field("name", "企业名称", max_length=5),
        Field("tier", "级别", kind="choice", choices=("a", "b")),
        Field("score", "得分", kind="decimal", min_value=Decimal(0), max_value=Decimal(100)),
        Field("day", "截止日期", kind="date"),
        Field("note", "备注", required=False),
    ]
    result = validate({"name": "长长长长长长", "tier": "c", "score": "101", "day": "明天"}, fields)
    assert result.errors == {
        "name": "「企业名称」不能超过 5 个字符（现有 6 个）。",
        "tier": "「级别」的取值无效。",
        "score": "「得分」不能大于 100。",
        "day": "「截止日期」应为日期，例如 2026-05-09。",
    }
    missing = validate({}, fields)
    assert missing.errors["name"] == "「企业名称」为必填项。"
    assert "note" not in missing.errors


def test_valid_values_are_converted():
    result = validate(
        {"score": "85.5", "day": "2026年5月9日", "n": "3", "flag": "on", "items": ["x", "y"]},
        [
            Field("score", "得分", kind="decimal"),
            Field("day", "日期", kind="date"),
            Field("n", "数量", kind="int"),
            Field("flag", "开关", kind="bool"),
            Field("items", "选项", kind="multi", choices=("x", "y")),
        ],
    )
    assert result.ok
    assert result.values == {
        "score": Decimal("85.5"),
        "day": date(2026, 5, 9),
        "n": 3,
        "flag": True,
        "items": ["x", "y"],
    }


def test_nan_and_infinity_are_not_numbers():
    for text in ["NaN", "Infinity", "1e999999"]:
        result = validate({"x": text}, [Field("x", "得分", kind="decimal")])
        assert not result.ok or result.values["x"].is_finite()


@given(st.text())
def test_validate_never_raises_on_any_text(text):
    validate(
        {"a": text, "b": text, "c": text, "d": text},
        [Field("a", "A"), Field("b", "B", kind="int"), Field("c", "C", kind="date"), Field("d", "D", kind="decimal")],
    )


def test_parse_date_accepts_common_chinese_forms():
    assert parse_date("2026-05-09") == date(2026, 5, 9)
    assert parse_date("2026/5/9") == date(2026, 5, 9)
    assert parse_date("2026年5月9日") == date(2026, 5, 9)
    assert parse_date("2026-02-30") is None


def test_password_policy():
    assert password_problems("short", username="u", min_length=10)
    assert password_problems("zhangsan12", username="zhangsan12", min_length=10)
    assert password_problems("aaaaaaaaaaaa", username="u", min_length=10)
    assert password_problems("a-fine-password-1", username="u", min_length=10) == []


@given(st.text())
def test_safe_next_only_ever_returns_a_local_path(target):
    result = safe_next(target)
    assert result.startswith("/") and not result.startswith("//") and "\\" not in result


def test_excel_normalisation_of_full_width_and_footnotes():
    assert normalise_text("ＡＢＣ　公司 ") == "ABC 公司"
    assert normalise_header("所属\n行业¹") == "所属行业"
    assert normalise_header("行业中类4") == "行业中类"
    assert normalise_header("智能制造典型场景\n（列举场景名称）") == "智能制造典型场景（列举场景名称）"
    assert normalise_header("企业名称*") == "企业名称"
