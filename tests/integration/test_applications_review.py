"""Formal review, lists, detail and attachments of applications, through HTTP."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlmodel import select

from reviewapp import files
from reviewapp.applications import attachments, service
from reviewapp.applications.models import Application, Enterprise
from reviewapp.audit.models import AuditEntry
from reviewapp.clock import today_beijing
from reviewapp.files import StoredFile
from reviewapp.reports.models import Revocation
from tests.factories import VALID_CREDIT_CODES, make_application, make_enterprise, make_round

GOOD_SCENARIOS = [
    ("生产管理", "生产计划优化"), ("生产管理", "车间智能排产"), ("生产作业", "设备运行监控"), ("生产作业", "在线智能检测"),
    ("生产作业", "质量精准追溯"), ("运营管理", "智能经营决策"), ("运营管理", "数智精益管理"), ("生产管理", "能源智能管控"),
]  # fmt: skip


def make_clean(db, rnd, code: str, **overrides):  # type: ignore[no-untyped-def]
    from reviewapp.applications.models import ApplicationScenario
    from reviewapp.rounds.models import Scenario

    enterprise = make_enterprise(db, credit_code=code, **overrides.pop("enterprise", {}))
    app = make_application(db, rnd, enterprise, **overrides)
    ids = {s.name: s.id for s in db.exec(select(Scenario).where(Scenario.catalogue_version == "2025"))}
    for order, (stage, name) in enumerate(GOOD_SCENARIOS, start=1):
        db.add(
            ApplicationScenario(application_id=app.id, name=name, stage=stage, scenario_id=ids[name], sort_order=order)
        )
    db.commit()
    service.recompute_checks(db, round_id=rnd.id, application_ids=[app.id], today=today_beijing())
    db.commit()
    return app


def fresh(db, model, pk):  # type: ignore[no-untyped-def]
    db.rollback()
    return db.get(model, pk)


def test_formal_review_page_shows_each_failed_check_with_its_reason(staff_client, db):
    rnd = make_round(db)
    clean = make_clean(db, rnd, VALID_CREDIT_CODES[0])
    low = make_clean(db, rnd, VALID_CREDIT_CODES[1], maturity_level=1)
    banned = make_clean(db, rnd, VALID_CREDIT_CODES[2])
    db.add(
        Revocation(
            credit_code=VALID_CREDIT_CODES[2],
            enterprise_name="某公司",
            reason_category="safety",
            revoked_on=date(2025, 1, 10),
            banned_until=today_beijing() + timedelta(days=700),
        )
    )
    db.commit()
    response = staff_client.submit(f"/rounds/{rnd.id}/formal-review/recheck", follow_redirects=True)
    assert "已重新检查 3 条申报，其中 2 条有未通过的检查项" in response.text
    page = staff_client.get(f"/rounds/{rnd.id}/formal-review").text
    assert "成熟度自评为一级，低于本批次要求的二级" in page
    ban_until = today_beijing() + timedelta(days=700)
    assert f"{ban_until.year}年{ban_until.month}月{ban_until.day}日前不得申报" in page
    filtered = staff_client.get(f"/rounds/{rnd.id}/formal-review?check=revocation_ban").text
    assert banned.factory_name in filtered and clean.factory_name not in filtered and low.factory_name not in filtered


def test_bulk_pass_confirms_clean_ones_and_refuses_failing_ones(staff_client, db):
    rnd = make_round(db)
    clean = make_clean(db, rnd, VALID_CREDIT_CODES[0])
    small = make_clean(db, rnd, VALID_CREDIT_CODES[1], enterprise={"above_designated_size": False})
    response = staff_client.submit(
        f"/rounds/{rnd.id}/formal-review/decide",
        {
            "ids": [clean.id, small.id],
            "decision": "pass",
            f"v_{clean.id}": clean.row_version,
            f"v_{small.id}": small.row_version,
        },
        follow_redirects=True,
    )
    assert "已确认 1 条申报形式审查通过" in response.text
    assert "1 条未确认" in response.text and "规模以上工业企业" in response.text
    assert fresh(db, Application, clean.id).formal_status == "passed"
    assert fresh(db, Application, small.id).formal_status == "pending"
    eligible = service.eligible_for_review(db, round_id=rnd.id)
    assert [a.id for a in eligible] == [clean.id]

    failed = staff_client.submit(
        f"/rounds/{rnd.id}/formal-review/decide", {"ids": [small.id], "decision": "fail"}, follow_redirects=True
    )
    assert "已确认 1 条申报形式审查不通过" in failed.text
    assert fresh(db, Application, small.id).formal_status == "failed"
    assert not service.is_eligible_for_review(fresh(db, Application, small.id))


def test_failing_a_clean_application_needs_a_reason(staff_client, db):
    rnd = make_round(db)
    clean = make_clean(db, rnd, VALID_CREDIT_CODES[0])
    page = staff_client.submit(
        f"/applications/{clean.id}/decision", {"decision": "fail", "row_version": clean.row_version, "note": ""}
    )
    assert page.status_code == 200 and "须填写理由" in page.text
    assert fresh(db, Application, clean.id).formal_status == "pending"
    done = staff_client.submit(
        f"/applications/{clean.id}/decision",
        {"decision": "fail", "row_version": clean.row_version, "note": "申报书与名单不一致"},
        follow_redirects=True,
    )
    assert "已确认形式审查不通过" in done.text
    assert fresh(db, Application, clean.id).formal_note == "申报书与名单不一致"


def test_stale_decision_is_refused(staff_client, db):
    rnd = make_round(db)
    clean = make_clean(db, rnd, VALID_CREDIT_CODES[0])
    staff_client.submit(f"/applications/{clean.id}/decision", {"decision": "pass", "row_version": clean.row_version})
    stale = staff_client.submit(
        f"/applications/{clean.id}/decision",
        {"decision": "fail", "row_version": clean.row_version, "note": "材料缺失情况严重"},
    )
    assert "已被他人修改" in stale.text
    assert fresh(db, Application, clean.id).formal_status == "passed"


def test_override_needs_a_written_reason_is_audited_and_allows_pass(staff_client, db):
    rnd = make_round(db)
    small = make_clean(db, rnd, VALID_CREDIT_CODES[0], enterprise={"above_designated_size": False})
    refused = staff_client.submit(f"/applications/{small.id}/overrides", {"check_code": "above_size", "reason": ""})
    assert "豁免理由" in refused.text and "为必填项" in refused.text
    short = staff_client.submit(f"/applications/{small.id}/overrides", {"check_code": "above_size", "reason": "同意"})
    assert "至少 5 个字" in short.text
    ok = staff_client.submit(
        f"/applications/{small.id}/overrides",
        {"check_code": "above_size", "reason": "市统计局函复：2025年12月已纳入规上统计"},
        follow_redirects=True,
    )
    assert "已豁免检查项「规模以上工业企业」" in ok.text
    assert fresh(db, Application, small.id).formal_failed_codes == ""
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "application.formal_override")).one()
    assert "市统计局函复" in entry.summary

    staff_client.submit(
        f"/applications/{small.id}/decision",
        {"decision": "pass", "row_version": fresh(db, Application, small.id).row_version},
    )
    assert fresh(db, Application, small.id).formal_status == "passed"
    # Taking the override back sends the passed application back to pending: it must not reach an expert.
    staff_client.submit(f"/applications/{small.id}/overrides/above_size/remove")
    app = fresh(db, Application, small.id)
    assert app.formal_status == "pending" and app.formal_failed_codes == ",above_size,"


def test_a_ban_recorded_after_passing_takes_the_application_off_the_expert_list(staff_client, db):
    rnd = make_round(db)
    clean = make_clean(db, rnd, VALID_CREDIT_CODES[0])
    staff_client.submit(f"/applications/{clean.id}/decision", {"decision": "pass", "row_version": clean.row_version})
    db.rollback()
    db.add(
        Revocation(
            credit_code=VALID_CREDIT_CODES[0],
            enterprise_name="某公司",
            reason_category="falsified",
            revoked_on=today_beijing(),
            banned_until=today_beijing() + timedelta(days=1096),
        )
    )
    db.commit()
    response = staff_client.submit(f"/rounds/{rnd.id}/formal-review/recheck", follow_redirects=True)
    assert "1 条原已通过的申报因检查未通过改为待审查" in response.text
    db.rollback()
    assert service.eligible_for_review(db, round_id=rnd.id) == []


def test_facts_edit_recomputes_checks(staff_client, db):
    rnd = make_round(db)
    app = make_clean(db, rnd, VALID_CREDIT_CODES[0])
    staff_client.submit(f"/applications/{app.id}/facts", {
        "row_version": app.row_version, "above_designated_size": "1", "is_branch": "1", "branch_industry": "有色金属",
        "serious_dishonesty": "1",
    })  # fmt: skip
    updated = fresh(db, Application, app.id)
    assert updated.is_branch and updated.formal_failed_codes == ",dishonesty,"
    page = staff_client.get(f"/applications/{app.id}").text
    assert "申报单位被列入严重失信主体名单" in page and "分支机构（有色金属）" in page


def test_list_search_filters_and_counts(staff_client, db):
    rnd = make_round(db)
    make_clean(
        db,
        rnd,
        VALID_CREDIT_CODES[0],
        enterprise={"name": "青岛海川电子有限公司", "city": "青岛市", "industry_group": "电子信息"},
    )
    make_clean(
        db,
        rnd,
        VALID_CREDIT_CODES[1],
        enterprise={"name": "淄博宏达化工有限公司", "city": "淄博市", "industry_group": "原材料"},
        maturity_level=1,
    )
    other_round = make_round(db, name="2025年度先进级")
    make_clean(db, other_round, VALID_CREDIT_CODES[2], enterprise={"name": "不该出现的公司"})
    page = staff_client.get(f"/rounds/{rnd.id}/applications").text
    assert "青岛海川电子有限公司" in page and "淄博宏达化工有限公司" in page and "不该出现的公司" not in page
    assert "共 2 条" in page
    by_city = staff_client.get(f"/rounds/{rnd.id}/applications?city=青岛市").text
    assert "青岛海川电子有限公司" in by_city and "淄博宏达化工有限公司" not in by_city
    by_code = staff_client.get(f"/rounds/{rnd.id}/applications?q={VALID_CREDIT_CODES[1].lower()}").text
    assert "淄博宏达化工有限公司" in by_code and "青岛海川电子有限公司" not in by_code
    failing = staff_client.get(f"/rounds/{rnd.id}/applications?check=maturity&industry=原材料").text
    assert "淄博宏达化工有限公司" in failing and "共 1 条" in failing
    passed = staff_client.get(f"/rounds/{rnd.id}/applications?status=passed").text
    assert "没有符合条件的记录" in passed


def test_detail_groups_scenarios_by_stage_and_shows_parties(staff_client, db):
    rnd = make_round(db)
    app = make_clean(db, rnd, VALID_CREDIT_CODES[0], providers=[("济南浪云数智软件有限公司", VALID_CREDIT_CODES[3])])
    page = staff_client.get(f"/applications/{app.id}").text
    assert page.index("生产管理") < page.index("生产作业") < page.index("运营管理")
    assert "济南浪云数智软件有限公司" in page and VALID_CREDIT_CODES[3] in page


PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def test_attachment_upload_checks_type_and_download_needs_permission(staff_client, make_user, login, db, settings):
    rnd = make_round(db)
    app = make_clean(db, rnd, VALID_CREDIT_CODES[0])
    fake = staff_client.post(
        f"/applications/{app.id}/attachments",
        files={"file": ("申报书.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")},
        data={"_csrf_token": staff_client.csrf()},
        follow_redirects=True,
    )
    assert "的内容与扩展名 .pdf 不符" in fake.text
    exe = staff_client.post(
        f"/applications/{app.id}/attachments",
        files={"file": ("工具.exe", b"MZ", "application/x")},
        data={"_csrf_token": staff_client.csrf()},
        follow_redirects=True,
    )
    assert "类型不允许上传" in exe.text
    ok = staff_client.post(
        f"/applications/{app.id}/attachments",
        files={"file": ("申报书.pdf", PDF, "text/html")},
        data={"_csrf_token": staff_client.csrf()},
        follow_redirects=True,
    )
    assert "已上传附件《申报书.pdf》" in ok.text
    db.rollback()
    stored = db.exec(select(StoredFile)).one()
    path = files.stored_path(settings, stored)
    assert path.read_bytes() == PDF and "static" not in str(path) and stored.storage_key not in "申报书.pdf"
    assert stored.content_type == "application/pdf"
    assert db.exec(select(AuditEntry).where(AuditEntry.action == "application.attachment_upload")).one()

    url = f"/applications/{app.id}/attachments/{stored.id}"
    download = staff_client.get(url)
    assert download.status_code == 200 and download.content == PDF
    assert "attachment" in download.headers["content-disposition"]
    assert download.headers["x-content-type-options"] == "nosniff"

    db.rollback()
    other = make_clean(db, rnd, VALID_CREDIT_CODES[1])
    assert staff_client.get(f"/applications/{other.id}/attachments/{stored.id}").status_code == 404

    staff_client.submit(f"{url}/delete")
    assert not path.exists() and staff_client.get(url).status_code == 404


def test_view_rule_extension_lets_another_capability_grant_access(db, make_user):
    rnd = make_round(db)
    app = make_clean(db, rnd, VALID_CREDIT_CODES[0])
    expert = make_user("expert7", "expert")
    assert not service.can_view_application(expert, app, db)

    def assigned(user, application, session):  # type: ignore[no-untyped-def]
        return user.username == "expert7" and application.id == app.id

    service.register_view_rule(assigned)
    try:
        assert service.can_view_application(expert, app, db)
    finally:
        service._VIEW_RULES.remove(assigned)


def test_overview_lists_rounds_with_counts(staff_client, db):
    rnd = make_round(db)
    make_clean(db, rnd, VALID_CREDIT_CODES[0])
    page = staff_client.get("/applications").text
    assert rnd.name in page and f"/rounds/{rnd.id}/formal-review" in page
    assert re.search(r'<td class="num">1</td>', page)
    assert db.exec(select(Enterprise)).first() is not None


def test_experts_cannot_download_attachments_or_open_the_staff_page(make_user, login, db, settings):
    rnd = make_round(db)
    app = make_clean(db, rnd, VALID_CREDIT_CODES[0])
    from reviewapp.audit import Actor

    actor = Actor.system("测试")
    stored = attachments.save_attachment(
        db, actor=actor, settings=settings, application_id=app.id, filename="申报书.pdf", data=PDF
    )
    db.commit()
    expert = login(make_user("expert9", "expert"))
    assert expert.get(f"/applications/{app.id}/attachments/{stored.id}").status_code == 404
    assert expert.get(f"/applications/{app.id}").status_code == 403
