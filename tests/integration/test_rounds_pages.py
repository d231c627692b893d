"""Rounds through HTTP: list, create with every setting, edit under optimistic locking, the hub page, audit."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlmodel import select

from reviewapp.audit import Actor
from reviewapp.audit.models import AuditEntry
from reviewapp.auth.models import Role
from reviewapp.rounds import service
from reviewapp.rounds.models import DEFAULT_PLEDGE, CriteriaVersion, Round
from reviewapp.rounds.seeds import load_criteria_templates
from tests.conftest import reread
from tests.factories import make_criteria_version, make_round

BEIJING_TZ = "Asia/Shanghai"


@pytest.fixture
def template(db) -> CriteriaVersion:  # type: ignore[no-untyped-def]
    load_criteria_templates(db)
    db.commit()
    return db.exec(select(CriteriaVersion).where(CriteriaVersion.is_template == True)).one()  # noqa: E712


def round_form(**overrides) -> dict:  # type: ignore[no-untyped-def]
    data = {
        "name": "2026年度先进级智能工厂遴选",
        "year": "2026",
        "tier": "advanced",
        "criteria_version_id": "",
        "scenario_catalogue_version": "2025",
        "application_close": "2026-06-30",
        "scoring_deadline_date": "2026-07-15",
        "scoring_deadline_time": "17:30",
        "publicity_working_days": "5",
        "aggregation": "trimmed_mean",
        "min_scorers": "5",
        "opinion_min_length": "20",
        "outlier_threshold": "15",
        "gate_failure_vetoes": "on",
        "tie_break_1": "dimension:生产作业",
        "tie_break_2": "maturity_score",
        "tie_break_3": "application_order",
        "tie_break_4": "",
        "min_maturity_level": "",
        "min_scenarios": "8",
        "required_stages": ["生产作业", "生产管理", "运营管理"],
        "branch_industries": "石油石化、有色金属",
        "coi_same_credit_code": "on",
        "coi_employment": "on",
        "coi_employment_years": "3",
        "coi_provider": "on",
        "coi_declared_relation": "on",
        "pledge_text": DEFAULT_PLEDGE,
        "validity_years": "3",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def audits(db, action: str) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    reread(db)
    return list(db.exec(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def only_round(db) -> Round:  # type: ignore[no-untyped-def]
    reread(db)
    return db.exec(select(Round)).one()


# --- access and navigation ------------------------------------------------------------------------


def test_staff_see_the_rounds_nav_item_administrators_and_experts_are_refused(
    staff_client, admin_client, make_user, login
):
    page = staff_client.get("/")
    assert 'href="/rounds"' in page.text and "评审批次" in page.text
    assert 'href="/rounds"' not in admin_client.get("/").text and admin_client.get("/rounds").status_code == 403
    expert = login(make_user("expert9", Role.expert))
    assert 'href="/rounds"' not in expert.get("/").text
    assert expert.get("/rounds").status_code == 403
    assert expert.get("/criteria").status_code == 403


def test_unknown_round_is_a_chinese_404(staff_client):
    response = staff_client.get("/rounds/999")
    assert response.status_code == 404
    assert "未找到该评审批次" in response.text


# --- create ---------------------------------------------------------------------------------------


def test_create_with_every_setting_stores_them_and_copies_the_template(staff_client, db, template):
    data = round_form(
        criteria_version_id=str(template.id),
        aggregation="median",
        min_scorers="7",
        opinion_min_length="50",
        outlier_threshold="12.5",
        gate_failure_vetoes=None,
        tie_break_1="maturity_score",
        tie_break_2="dimension:运营管理",
        tie_break_3="",
        min_maturity_level="3",
        min_scenarios="10",
        required_stages=["生产作业", "供应链管理"],
        branch_industries="石油石化，化工",
        coi_employment_years="5",
        coi_provider=None,
        coi_same_city="on",
        pledge_text="本人承诺独立、客观、公正评审，严格保密，主动回避利害关系。",
        validity_years="4",
        publish_scores="on",
        publicity_working_days="7",
    )
    response = staff_client.submit("/rounds", data, follow_redirects=False)
    assert response.status_code == 303, response.text[:2000]
    rnd = only_round(db)
    assert response.headers["location"] == f"/rounds/{rnd.id}"
    assert (rnd.name, rnd.year, rnd.tier) == ("2026年度先进级智能工厂遴选", 2026, "advanced")
    assert rnd.application_close == date(2026, 6, 30)
    # 17:30 Beijing time is stored as 09:30 UTC.
    assert rnd.scoring_deadline.astimezone(UTC) == datetime(2026, 7, 15, 9, 30, tzinfo=UTC)
    assert rnd.aggregation == "median" and rnd.min_scorers == 7 and rnd.opinion_min_length == 50
    assert rnd.outlier_threshold == Decimal("12.5")
    assert rnd.gate_failure_vetoes is False
    assert rnd.tie_break == ["maturity_score", "dimension:运营管理"]
    assert rnd.min_maturity_level == 3 and rnd.min_scenarios == 10
    assert rnd.required_stages == ["生产作业", "供应链管理"]
    assert rnd.branch_industries == ["石油石化", "化工"]
    assert (rnd.coi_employment_years, rnd.coi_provider, rnd.coi_same_city) == (5, False, True)
    assert rnd.pledge_text.startswith("本人承诺独立")
    assert (rnd.validity_years, rnd.publish_scores, rnd.publicity_working_days) == (4, True, 7)
    # The round owns a copy; the template is untouched and still a template.
    own = db.get(CriteriaVersion, rnd.criteria_version_id)
    assert own.id != template.id and not own.is_template and own.based_on_id == template.id
    assert service.criteria_tree(db, own.id).total == Decimal("100")
    created = audits(db, "round.create")
    assert len(created) == 1 and created[0].entity_id == str(rnd.id)
    assert json.loads(created[0].after_json)["min_scorers"] == 7
    assert len(audits(db, "criteria.copy")) == 1


def test_new_round_form_shows_the_tier_defaults(staff_client, template):
    page = staff_client.get("/rounds/new?tier=excellent")
    assert page.status_code == 200
    assert 'name="min_maturity_level" type="number" value="3"' in page.text
    assert "【模板】" in page.text
    advanced = staff_client.get("/rounds/new")
    assert 'name="min_maturity_level" type="number" value="2"' in advanced.text
    assert 'value="生产作业" checked' in advanced.text


@pytest.mark.parametrize(("tier", "level"), [("excellent", 3), ("advanced", 2), ("basic", 2), ("leading", 2)])
def test_blank_minimum_maturity_level_takes_the_tier_default(staff_client, db, tier, level):
    data = round_form(tier=tier, min_maturity_level="", required_stages=["生产作业"])
    assert staff_client.submit("/rounds", data, follow_redirects=False).status_code == 303
    assert only_round(db).min_maturity_level == level


def test_deadline_without_time_counts_the_whole_day(staff_client, db):
    staff_client.submit("/rounds", round_form(scoring_deadline_time=""), follow_redirects=False)
    assert only_round(db).scoring_deadline.astimezone(UTC) == datetime(2026, 7, 15, 15, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "「批次名称」为必填项"),
        ("year", "1999", "「年度」不能小于 2000"),
        ("tier", "gold", "「级别」的取值无效"),
        ("application_close", "2026-13-01", "「申报截止日期」应为日期"),
        ("scoring_deadline_time", "25:00", "「评分截止时间」应为时间"),
        ("publicity_working_days", "0", "「公示期」不能小于 1"),
        ("min_scorers", "abc", "「每份申报最少评分专家数」应为整数"),
        ("min_scorers", "31", "「每份申报最少评分专家数」不能大于 30"),
        ("opinion_min_length", "-1", "「评审意见最少字数」不能小于 0"),
        ("outlier_threshold", "200", "「离群分差阈值」不能大于 100"),
        ("outlier_threshold", "1.234", "最多保留两位小数"),
        ("min_maturity_level", "6", "「最低成熟度等级」不能大于 5"),
        ("coi_employment_years", "0", "「任职回避年限」不能小于 1"),
        ("validity_years", "11", "「认定有效期」不能大于 10"),
        ("pledge_text", "承诺", "「承诺书内容」至少需要 20 个字符"),
        ("aggregation", "mode", "「汇总方式」的取值无效"),
        ("scenario_catalogue_version", "1999", "「场景目录版本」的取值无效"),
        ("scoring_deadline_date", "2026-06-01", "「评分截止时间」不能早于「申报截止日期」"),
        ("required_stages", ["生产作业", "不存在的环节"], "环节「不存在的环节」不在 2025 版场景目录中"),
        ("min_scenarios", "2", "不能少于须覆盖的环节数"),
        ("tie_break_2", "dimension:生产作业", "重复出现"),
        ("tie_break_2", "lottery", "决胜规则中有无效的选项"),
    ],
)
def test_bad_values_are_named_in_chinese_and_nothing_is_saved(staff_client, db, field, value, message):
    response = staff_client.submit("/rounds", round_form(**{field: value}))
    assert response.status_code == 200
    assert message in response.text
    assert "需要修改" in response.text
    reread(db)
    assert db.exec(select(Round)).all() == []


def test_time_without_date_is_refused(staff_client, db):
    response = staff_client.submit("/rounds", round_form(scoring_deadline_date=""))
    assert "请同时填写评分截止日期" in response.text
    assert db.exec(select(Round)).all() == []


def test_duplicate_round_name_is_refused(staff_client, db):
    make_round(db, name="2026年度先进级智能工厂遴选")
    response = staff_client.submit("/rounds", round_form())
    assert "已有名为「2026年度先进级智能工厂遴选」的批次" in response.text
    reread(db)
    assert len(db.exec(select(Round)).all()) == 1


# --- list -----------------------------------------------------------------------------------------


def test_list_searches_filters_and_paginates(staff_client, db):
    for i in range(23):
        make_round(db, name=f"2026年度先进级遴选第{i:02d}批", year=2026)
    make_round(db, name="2025年度卓越级遴选", year=2025, tier="excellent")
    first = staff_client.get("/rounds")
    assert "共 24 条，第 1–20 条" in first.text
    second = staff_client.get("/rounds?page=2")
    assert "第 21–24 条" in second.text and "2025年度卓越级遴选" in second.text
    found = staff_client.get("/rounds?q=卓越")
    assert "2025年度卓越级遴选" in found.text and "第00批" not in found.text
    by_tier = staff_client.get("/rounds?tier=excellent&year=2025")
    assert "共 1 条" in by_tier.text
    fragment = staff_client.get("/rounds?q=第01批", headers={"HX-Request": "true", "HX-Target": "round-table"})
    assert "<html" not in fragment.text and "第01批" in fragment.text
    assert "没有符合条件的记录" in staff_client.get("/rounds?q=不存在").text


# --- the hub page ---------------------------------------------------------------------------------


def test_detail_page_summarises_settings_and_links_to_the_round_work(staff_client, db):
    version = make_criteria_version(db, tree=[("SC", "生产作业", [("SC01", "在线智能检测", "points", "60", "1")])])
    rnd = make_round(db, criteria_version_id=version.id, tie_break_json='["dimension:运营管理"]')
    page = staff_client.get(f"/rounds/{rnd.id}")
    assert page.status_code == 200
    for link in ("applications", "formal-review", "panels"):
        assert f'href="/rounds/{rnd.id}/{link}"' in page.text
    assert f'href="/criteria/{version.id}"' in page.text
    assert "去掉一个最高分和一个最低分后平均" in page.text
    assert "生产作业、生产管理、运营管理" in page.text
    # The tie-break names a dimension this round's criteria do not have; the total is not 100.
    assert "决胜规则中的维度「运营管理」不在本批次的要素条件中" in page.text
    assert "合计为 60 分，不是 100 分" in page.text


def test_detail_warns_when_no_criteria_are_chosen(staff_client, db):
    rnd = make_round(db)
    assert "尚未选择要素条件" in staff_client.get(f"/rounds/{rnd.id}").text


# --- edit -----------------------------------------------------------------------------------------


def edit_form(browser, rnd_id: int, **overrides) -> dict:  # type: ignore[no-untyped-def]
    """The edit form as the browser would submit it, with the row_version it was loaded with."""
    import re

    page = browser.get(f"/rounds/{rnd_id}/edit")
    version = re.search(r'name="row_version" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    return round_form(row_version=version, **overrides)


def test_edit_saves_and_audits_only_what_changed(staff_client, db):
    rnd = make_round(db)
    data = edit_form(staff_client, rnd.id, name=rnd.name, outlier_threshold="10", coi_same_city="on")
    response = staff_client.submit(f"/rounds/{rnd.id}/edit", data, follow_redirects=False)
    assert response.status_code == 303
    rnd = only_round(db)
    assert rnd.outlier_threshold == Decimal("10") and rnd.coi_same_city is True and rnd.row_version == 2
    entry = audits(db, "round.update")[-1]
    before, after = json.loads(entry.before_json), json.loads(entry.after_json)
    assert before["outlier_threshold"] == "15" and after["outlier_threshold"] == "10"
    assert before["coi_same_city"] is False and after["coi_same_city"] is True
    assert "name" not in after and "min_scorers" not in after


def test_a_stale_edit_form_is_refused_and_nothing_is_overwritten(staff_client, db, settings):
    rnd = make_round(db)
    stale = edit_form(staff_client, rnd.id, name=rnd.name, min_scorers="9")
    service.update_round(
        db,
        actor=Actor.system("另一位工作人员"),
        round_id=rnd.id,
        row_version=1,
        values={"min_scorers": 6},
        tz=settings.tz,
    )
    db.commit()
    response = staff_client.submit(f"/rounds/{rnd.id}/edit", stale, follow_redirects=False)
    assert response.status_code == 200
    assert "已被他人修改，请刷新后重试" in response.text
    assert only_round(db).min_scorers == 6
    assert len(audits(db, "round.update")) == 1


def test_choosing_a_version_used_by_another_round_gives_this_round_its_own_copy(staff_client, db):
    shared = make_criteria_version(db, name="甲省版本")
    make_round(db, name="甲批次", criteria_version_id=shared.id)
    rnd = make_round(db, name="乙批次")
    data = edit_form(staff_client, rnd.id, name="乙批次", criteria_version_id=str(shared.id))
    assert staff_client.submit(f"/rounds/{rnd.id}/edit", data, follow_redirects=False).status_code == 303
    reread(db)
    own = db.get(Round, rnd.id).criteria_version_id
    assert own != shared.id and db.get(CriteriaVersion, own).based_on_id == shared.id


def test_once_scoring_started_the_criteria_cannot_be_swapped(staff_client, db, template):
    version = make_criteria_version(db)
    other = make_criteria_version(db, name="另一版本")
    rnd = make_round(db, criteria_version_id=version.id)
    service.mark_scoring_started(db, actor=Actor.system(), round_id=rnd.id)
    db.commit()
    page = staff_client.get(f"/rounds/{rnd.id}/edit")
    assert "已开始评分，要素条件已冻结，不能更换" in page.text
    data = edit_form(staff_client, rnd.id, name=rnd.name, criteria_version_id=str(other.id))
    response = staff_client.submit(f"/rounds/{rnd.id}/edit", data)
    assert "本批次已开始评分，要素条件已冻结，不能更换版本" in response.text
    assert only_round(db).criteria_version_id == version.id
    # Other settings can still be changed; the frozen version stays.
    data = edit_form(staff_client, rnd.id, name=rnd.name, criteria_version_id=str(version.id), min_scorers="6")
    assert staff_client.submit(f"/rounds/{rnd.id}/edit", data, follow_redirects=False).status_code == 303
    assert only_round(db).min_scorers == 6


def test_scoring_start_freezes_the_version_once_and_is_audited(db):
    version = make_criteria_version(db)
    rnd = make_round(db, criteria_version_id=version.id)
    service.mark_scoring_started(db, actor=Actor.system("评分"), round_id=rnd.id)
    db.commit()
    frozen_at = db.get(CriteriaVersion, version.id).frozen_at
    assert frozen_at is not None and db.get(Round, rnd.id).scoring_started_at is not None
    service.mark_scoring_started(db, actor=Actor.system("评分"), round_id=rnd.id)
    db.commit()
    assert db.get(CriteriaVersion, version.id).frozen_at == frozen_at
    assert len(audits(db, "round.scoring_started")) == 1 and len(audits(db, "criteria.freeze")) == 1


def test_scoring_cannot_start_without_criteria_items(db):
    from reviewapp.errors import ServiceError

    rnd = make_round(db)
    with pytest.raises(ServiceError, match="尚未选择要素条件"):
        service.mark_scoring_started(db, actor=Actor.system(), round_id=rnd.id)
    empty = make_criteria_version(db, tree=[("JB", "基本要求", [])])
    rnd2 = make_round(db, name="另一个批次", criteria_version_id=empty.id)
    with pytest.raises(ServiceError, match="没有任何条目"):
        service.mark_scoring_started(db, actor=Actor.system(), round_id=rnd2.id)


def test_switching_a_conflict_rule_on_the_round_form_recomputes_conflicts(staff_client, db):
    from reviewapp.panels.models import Conflict
    from tests.factories import make_application, make_enterprise, make_expert, make_panel

    rnd = make_round(db)
    member = make_expert(db, name="同城专家", city="济南市")
    make_panel(db, rnd, [member])
    app = make_application(db, rnd, make_enterprise(db, city="济南市"), formal_status="passed")
    data = edit_form(staff_client, rnd.id, name=rnd.name, coi_same_city="on")
    assert staff_client.submit(f"/rounds/{rnd.id}/edit", data, follow_redirects=False).status_code == 303
    reread(db)
    conflict = db.exec(select(Conflict).where(Conflict.application_id == app.id)).one()
    assert conflict.rule == "same_city" and conflict.expert_id == member.id
