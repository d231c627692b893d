"""Publicity (公示), on-site spot checks (现场抽查) and the final list over HTTP."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, func, select

from reviewapp.audit import Actor
from reviewapp.audit.models import AuditEntry
from reviewapp.panels import service as panels
from reviewapp.publicity import rules
from reviewapp.publicity.models import PublicityPeriod, SpotCheck, SpotCheckDraw
from reviewapp.ranking import recommendations
from reviewapp.ranking.models import RecommendationList
from reviewapp.reports.models import Certification
from tests.conftest import Browser, reread
from tests.factories import make_application, make_expert, make_listed_round, make_panel

ACTOR = Actor(user_id=None, name="测试")
# Five experts' totals per application (full marks 100): trimmed means 81.0, 75.3, 68.0, 90.0.
TOTALS = [[80, 82, 85, 79, 81], [75, 76, 74, 70, 80], [68, 66, 70, 69, 67], [90, 91, 89, 88, 92]]
OPINION = "该项目智能化水平较高，同意推荐。"


def finalized_round(db: Session, totals=TOTALS, **round_overrides):  # type: ignore[no-untyped-def]
    """A round whose only panel the chair has finalized, recommending every application (no publicity yet)."""
    reread(db)  # end any read snapshot: this session writes now
    rnd, panel, apps = make_listed_round(db, totals=totals, **round_overrides)
    experts = [e for _m, e in panels.panel_members(db, panel.id)]
    return rnd, panel, apps, experts


def setup_form(client: Browser, round_id: int, **overrides) -> dict:  # type: ignore[type-arg]
    data = {
        "start_date": "2026-09-28",
        "working_days": "5",
        "columns": ["企业名称", "工厂名称", "所在地市"],
        "contact_unit": "省工业和信息化厅装备工业处",
        "contact_address": "济南市历下区省府前街1号",
        "contact_phone": "0531-86000000",
        "contact_email": "",
        "notice_template": rules.DEFAULT_NOTICE_TEMPLATE,
        "notice_text": "",
        "regenerate": "on",
        "row_version": "",
    }
    data.update(overrides)
    return client.submit(f"/rounds/{round_id}/publicity", data)


def period_of(db: Session, round_id: int) -> PublicityPeriod | None:
    reread(db)
    return db.exec(select(PublicityPeriod).where(PublicityPeriod.round_id == round_id)).first()


def publish(client: Browser, db: Session, round_id: int):  # type: ignore[no-untyped-def]
    period = period_of(db, round_id)
    assert period is not None
    return client.submit(f"/rounds/{round_id}/publicity/publish", {"row_version": str(period.row_version)})


def test_period_end_follows_the_official_calendar_and_is_shown(db: Session, staff_client: Browser) -> None:
    rnd, *_ = finalized_round(db)
    page = staff_client.get(f"/rounds/{rnd.id}/publicity")
    assert page.status_code == 200 and 'value="5"' in page.text  # the round's default length

    response = setup_form(staff_client, rnd.id)
    assert response.status_code == 200
    assert "已保存公示设置" in response.text
    assert "2026年9月28日至2026年10月9日" in response.text  # National Day holiday and 调休 counted
    period = period_of(db, rnd.id)
    assert period is not None and period.end_date == date(2026, 10, 9)
    assert "公示期：2026年9月28日至2026年10月9日（5个工作日）" in period.notice_text
    assert "匿名异议" in period.notice_text and "0531-86000000" in period.notice_text
    assert "电子邮箱" not in period.notice_text


def test_bad_input_is_explained_at_its_field(db: Session, staff_client: Browser) -> None:
    rnd, *_ = finalized_round(db)
    response = setup_form(staff_client, rnd.id, working_days="0", columns=["企业名称"])
    assert "「公示期（工作日）」不能小于 1" in response.text
    response = setup_form(staff_client, rnd.id, notice_template="公示期：{开始日期}至{截止日期}")
    assert "{截止日期}" in response.text and "不是可用的占位符" in response.text
    response = setup_form(staff_client, rnd.id, columns=["企业名称", "得分"])
    assert "不公布得分" in response.text
    assert period_of(db, rnd.id) is None


def test_stale_setup_form_is_refused_and_nothing_is_overwritten(db: Session, staff_client: Browser) -> None:
    rnd, *_ = finalized_round(db)
    setup_form(staff_client, rnd.id)
    # a second blank form opened before the first was saved
    response = setup_form(staff_client, rnd.id, start_date="2026-11-02")
    assert "已被他人修改" in response.text and "打开最新设置" in response.text
    period = period_of(db, rnd.id)
    assert period is not None and period.start_date == date(2026, 9, 28)

    setup_form(staff_client, rnd.id, start_date="2026-11-02", row_version=str(period.row_version))
    response = setup_form(staff_client, rnd.id, start_date="2026-12-07", row_version=str(period.row_version))
    assert "已被他人修改" in response.text
    period = period_of(db, rnd.id)
    assert period is not None and period.start_date == date(2026, 11, 2) and period.end_date == date(2026, 11, 6)


def test_publish_and_withdraw_decide_what_the_public_sees(db: Session, staff_client: Browser, client: Browser) -> None:
    rnd, _panel, apps, _experts = finalized_round(db)
    other, *_ = finalized_round(db, name="2026年度卓越级智能工厂遴选")
    setup_form(staff_client, rnd.id)
    assert client.get(f"/public/publicity/{rnd.id}").status_code == 404  # saved, not published
    assert rnd.name not in client.get("/public/publicity").text

    response = publish(staff_client, db, rnd.id)
    assert "已发布公示" in response.text
    listing = client.get("/public/publicity")  # no login
    assert listing.status_code == 200 and rnd.name in listing.text and other.name not in listing.text
    page = client.get(f"/public/publicity/{rnd.id}")
    assert page.status_code == 200
    assert f"关于{rnd.name}拟认定名单的公示" in page.text
    assert "2026年9月28日至2026年10月9日" in page.text and "不予受理" in page.text
    assert "省府前街1号" in page.text
    reread(db)
    listed = recommendations.round_list(db, round_id=rnd.id).listed
    names = [r.enterprise.name for r in listed]
    assert all(n in page.text for n in names)
    assert [page.text.index(n) for n in names] == sorted(page.text.index(n) for n in names)  # priority order
    assert client.get(f"/public/publicity/{other.id}").status_code == 404
    assert (
        db.exec(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "publicity.publish")).one() == 1
    )

    # published: the setup can no longer change
    period = period_of(db, rnd.id)
    response = setup_form(staff_client, rnd.id, start_date="2026-11-02", row_version=str(period.row_version))  # type: ignore[union-attr]
    assert "请先撤回公示" in response.text

    period = period_of(db, rnd.id)
    response = staff_client.submit(f"/rounds/{rnd.id}/publicity/withdraw", {"row_version": str(period.row_version)})  # type: ignore[union-attr]
    assert "已撤回公示" in response.text
    assert client.get(f"/public/publicity/{rnd.id}").status_code == 404
    assert rnd.name not in client.get("/public/publicity").text


def test_public_page_shows_no_scores_unless_allowed_and_never_experts(
    db: Session, staff_client: Browser, client: Browser
) -> None:
    rnd, _panel, _apps, experts = finalized_round(db)
    setup_form(staff_client, rnd.id, columns=["企业名称", "工厂名称", "所在地市", "所属行业", "项目名称"])
    publish(staff_client, db, rnd.id)
    page = client.get(f"/public/publicity/{rnd.id}").text
    assert "所属行业" in page and "项目名称" in page
    for expert in experts:
        assert expert.name not in page
    assert OPINION not in page and "专家组同意推荐" not in page
    for score in ("81.0", "75.3", "68.0", "90.0", "得分"):
        assert score not in page

    scored, _p, _a, scored_experts = finalized_round(db, name="2026年度公布得分的批次", publish_scores=True)
    setup_form(staff_client, scored.id, columns=["企业名称", "得分"])
    publish(staff_client, db, scored.id)
    page = client.get(f"/public/publicity/{scored.id}").text
    assert "得分" in page and "90.0" in page and "81.0" in page and "68.0" in page
    assert page.index("90.0") < page.index("81.0") < page.index("68.0")
    for expert in scored_experts:
        assert expert.name not in page


def test_publish_refused_while_a_panel_is_open(db: Session, staff_client: Browser, client: Browser) -> None:
    rnd, *_ = finalized_round(db)
    open_panel = make_panel(db, rnd, [make_expert(db) for _ in range(5)], name="电子信息组")
    make_application(db, rnd, formal_status="passed", panel_id=open_panel.id)
    setup_form(staff_client, rnd.id)
    page = staff_client.get(f"/rounds/{rnd.id}/publicity").text
    assert "专家组「电子信息组」尚未定稿" in page
    response = publish(staff_client, db, rnd.id)
    assert "还不能发布公示" in response.text
    assert client.get(f"/public/publicity/{rnd.id}").status_code == 404

    # ... and the list cannot be marked final either
    response = staff_client.submit(f"/rounds/{rnd.id}/publicity/final", {"list_version": "0"})
    assert "推荐名单还不能定稿" in response.text and "电子信息组" in response.text
    reread(db)
    the_list = db.exec(select(RecommendationList).where(RecommendationList.round_id == rnd.id)).first()
    assert the_list is None or the_list.marked_final_at is None


def test_spot_check_removal_takes_the_application_off_the_list(
    db: Session, staff_client: Browser, client: Browser
) -> None:
    rnd, _panel, apps, _experts = finalized_round(db)
    target, corrected = apps[0], apps[1]
    response = staff_client.submit(
        f"/rounds/{rnd.id}/spot-checks/choose", {"application_ids": [target.id, corrected.id]}
    )
    assert "已选取 2 个项目" in response.text
    reread(db)
    checks = {c.application_id: c for c in db.exec(select(SpotCheck).where(SpotCheck.round_id == rnd.id))}
    assert set(checks) == {target.id, corrected.id} and all(c.method == "manual" for c in checks.values())

    form = {
        "check_date": "2026-09-10",
        "inspectors": "王检查、李核实",
        "findings": "申报的在线智能检测场景未建成，产线仍为人工目检。",
        "outcome": "remove",
        "outcome_note": "",
        "row_version": str(checks[target.id].row_version),
    }
    response = staff_client.submit(f"/rounds/{rnd.id}/spot-checks/{checks[target.id].id}", form)
    assert "请填写移出名单的理由" in response.text  # nothing changed yet
    form["outcome_note"] = "申报场景与现场不符"
    response = staff_client.submit(f"/rounds/{rnd.id}/spot-checks/{checks[target.id].id}", form)
    assert "已登记现场抽查结论" in response.text and "存在问题-移出名单" in response.text
    response = staff_client.submit(f"/rounds/{rnd.id}/spot-checks/{checks[target.id].id}", form)
    assert "已被他人修改" in response.text or "不能重复登记" in response.text

    staff_client.submit(
        f"/rounds/{rnd.id}/spot-checks/{checks[corrected.id].id}",
        {
            "check_date": "2026-09-11",
            "inspectors": "王检查",
            "findings": "数据采集覆盖率不足。",
            "outcome": "correct",
            "outcome_note": "补齐设备数据采集",
            "row_version": str(checks[corrected.id].row_version),
        },
    )

    reread(db)
    view = recommendations.round_list(db, round_id=rnd.id)
    assert target.id not in [r.application.id for r in view.listed]
    removed = next(r for r in view.removed if r.application.id == target.id)
    assert "已移出名单：现场抽查（2026年9月10日）：申报场景与现场不符" in removed.notes
    kept = next(r for r in view.listed if r.application.id == corrected.id)
    assert "需整改：现场抽查（2026年9月11日）：补齐设备数据采集" in kept.notes
    assert (
        db.exec(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "spot_check.record")).one() == 2
    )

    setup_form(staff_client, rnd.id, start_date="2026-09-28")
    publish(staff_client, db, rnd.id)
    page = client.get(f"/public/publicity/{rnd.id}").text
    assert removed.enterprise.name not in page and kept.enterprise.name in page


def test_random_sample_is_reproducible_from_the_recorded_seed(db: Session, staff_client: Browser) -> None:
    rnd, _panel, apps, _experts = finalized_round(db)
    response = staff_client.submit(f"/rounds/{rnd.id}/spot-checks/draw", {"size": "9", "seed": "4242"})
    assert "抽取数量应在 1 到 4 之间" in response.text
    response = staff_client.submit(f"/rounds/{rnd.id}/spot-checks/draw", {"size": "2", "seed": "4242"})
    assert "随机种子 4242" in response.text
    reread(db)
    record = db.exec(select(SpotCheckDraw).where(SpotCheckDraw.round_id == rnd.id)).one()
    assert record.seed == 4242 and record.sample_size == 2
    assert record.population == sorted(a.id for a in apps)
    assert record.drawn == rules.draw_sample(record.population, record.sample_size, record.seed)
    chosen = {c.application_id for c in db.exec(select(SpotCheck).where(SpotCheck.round_id == rnd.id))}
    assert chosen == set(record.drawn)

    # without a seed the system picks one and records it; only the applications not chosen yet are drawn from
    staff_client.submit(f"/rounds/{rnd.id}/spot-checks/draw", {"size": "1", "seed": ""})
    reread(db)
    second = db.exec(select(SpotCheckDraw).where(SpotCheckDraw.id != record.id)).one()
    assert set(second.population) == {a.id for a in apps} - set(record.drawn)
    assert second.drawn == rules.draw_sample(second.population, 1, second.seed)
    assert str(second.seed) in staff_client.get(f"/rounds/{rnd.id}/spot-checks").text


def test_final_list_waits_for_publicity_then_publishing_certifies_once(db: Session, staff_client: Browser) -> None:
    rnd, _panel, apps, _experts = finalized_round(db)
    response = staff_client.submit(f"/rounds/{rnd.id}/publicity/final", {"list_version": "0"})
    assert "尚未设置公示期" in response.text

    setup_form(staff_client, rnd.id, start_date="2026-01-05")  # a period long past
    staff_client.submit(f"/rounds/{rnd.id}/spot-checks/choose", {"application_ids": [apps[2].id]})
    publish(staff_client, db, rnd.id)
    response = staff_client.submit(f"/rounds/{rnd.id}/publicity/final-list", {"valid_from": "2026-02-01"})
    assert "推荐名单尚未定稿" in response.text
    response = staff_client.submit(f"/rounds/{rnd.id}/publicity/final", {"list_version": "0"})
    assert "现场抽查尚未登记结论" in response.text

    reread(db)
    check = db.exec(select(SpotCheck).where(SpotCheck.round_id == rnd.id)).one()
    staff_client.submit(
        f"/rounds/{rnd.id}/spot-checks/{check.id}",
        {
            "check_date": "2026-01-06",
            "inspectors": "王检查",
            "findings": "与申报一致。",
            "outcome": "passed",
            "outcome_note": "",
            "row_version": str(check.row_version),
        },
    )
    reread(db)
    version = recommendations.round_list(db, round_id=rnd.id).row_version
    response = staff_client.submit(f"/rounds/{rnd.id}/publicity/final", {"list_version": str(version)})
    assert "推荐名单已定稿" in response.text
    # A final list can no longer be reordered: its reorder page says so and carries no form.
    move = staff_client.get(f"/rounds/{rnd.id}/recommendations/moves/{apps[0].id}")
    assert move.status_code == 200 and "不能再调整顺序" in move.text and "调整到第几位" not in move.text

    response = staff_client.submit(f"/rounds/{rnd.id}/publicity/final-list", {"valid_from": "2026-02-01"})
    assert "已发布最终名单" in response.text and "最终名单已发布" in response.text
    reread(db)
    certs = list(db.exec(select(Certification).where(Certification.round_id == rnd.id)))
    assert sorted(c.application_id for c in certs) == sorted(a.id for a in apps)
    assert all(c.valid_from == date(2026, 2, 1) for c in certs)

    staff_client.submit(f"/rounds/{rnd.id}/publicity/final-list", {"valid_from": "2026-03-01"})  # a second click
    reread(db)
    assert db.exec(select(func.count()).select_from(Certification)).one() == len(apps)
    assert (
        db.exec(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "publicity.final_publish")
        ).one()
        == 1
    )


def test_round_hub_and_navigation_link_the_pages(db: Session, staff_client: Browser) -> None:
    rnd, *_ = finalized_round(db)
    hub = staff_client.get(f"/rounds/{rnd.id}").text
    assert f"/rounds/{rnd.id}/spot-checks" in hub and f"/rounds/{rnd.id}/publicity" in hub
    index = staff_client.get("/publicity")
    assert index.status_code == 200 and 'href="/publicity"' in index.text and rnd.name in index.text


def test_pages_of_a_round_without_a_list_explain_what_is_missing(db: Session, staff_client: Browser) -> None:
    from tests.factories import make_round

    rnd = make_round(db, name="2027年度先进级智能工厂遴选")
    page = staff_client.get(f"/rounds/{rnd.id}/publicity")
    assert page.status_code == 200 and "推荐名单上没有项目" in page.text and "尚未设置公示期和公告" in page.text
    page = staff_client.get(f"/rounds/{rnd.id}/spot-checks")
    assert page.status_code == 200 and "推荐名单上没有可选取的项目" in page.text
    assert staff_client.get(f"/rounds/{rnd.id}/publicity/preview").status_code == 404
    assert staff_client.get("/rounds/999999/publicity").status_code == 404
