"""`reviewapp round create|list` against the test database."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlmodel import select

from reviewapp.audit.models import AuditEntry
from reviewapp.cli import main
from reviewapp.rounds.models import CriteriaVersion, Round
from tests.factories import make_criteria_version


@pytest.fixture
def run(engine, database_url, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REVIEWAPP_DATABASE_URL", database_url)

    def _run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return _run


@pytest.mark.parametrize(
    ("tier", "stored", "level"), [("卓越级", "excellent", 3), ("basic", "basic", 2), ("先进级", "advanced", 2)]
)
def test_create_prints_only_the_new_id_and_applies_tier_defaults(run, db, tier, stored, level):
    result = run("round", "create", "--name", "2026年度遴选", "--tier", tier, "--year", "2026")
    assert result.exit_code == 0, result.output
    rnd = db.exec(select(Round)).one()
    assert result.output == f"{rnd.id}\n"
    assert (rnd.name, rnd.tier, rnd.year, rnd.min_maturity_level) == ("2026年度遴选", stored, 2026, level)
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "round.create")).one()
    assert entry.actor_name == "命令行"


def test_create_with_criteria_copies_a_template(run, db):
    template = make_criteria_version(db, name="模板", is_template=True)
    result = run("round", "create", "--name", "甲", "--tier", "advanced", "--criteria", str(template.id))
    assert result.exit_code == 0, result.output
    rnd = db.exec(select(Round)).one()
    assert rnd.criteria_version_id != template.id
    assert db.get(CriteriaVersion, rnd.criteria_version_id).based_on_id == template.id


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "甲", "--tier", "金牌级"], "级别「金牌级」无效"),
        (["--name", "甲", "--tier", "advanced", "--year", "1990"], "年度应在 2000 到 2100 之间"),
        (["--name", "  ", "--tier", "advanced"], "「批次名称」为必填项"),
        (["--name", "甲", "--tier", "advanced", "--criteria", "999"], "所选的要素条件版本不存在"),
    ],
)
def test_bad_input_exits_non_zero_with_a_chinese_message(run, db, args, message):
    result = run("round", "create", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert db.exec(select(Round)).all() == []


def test_duplicate_name_is_refused(run, db):
    assert run("round", "create", "--name", "甲", "--tier", "advanced").exit_code == 0
    again = run("round", "create", "--name", "甲", "--tier", "basic")
    assert again.exit_code != 0 and "已有名为「甲」的批次" in again.output


def test_list_shows_rounds(run):
    assert "还没有评审批次" in run("round", "list").output
    run("round", "create", "--name", "2026年度先进级智能工厂遴选", "--tier", "先进级", "--year", "2026")
    run("round", "create", "--name", "2025年度卓越级遴选", "--tier", "excellent", "--year", "2025")
    output = run("round", "list").output
    lines = output.strip().splitlines()
    assert lines[0].startswith("编号")
    assert "2026\t先进级\t2026年度先进级智能工厂遴选" in lines[1]
    assert "2025\t卓越级\t2025年度卓越级遴选" in lines[2]
