"""Certifications over HTTP (and the certify() service publicity calls): validity, the expiring view, re-review,
major-change filings, revocation and the ban register, exports, and the annual-report figures."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from reviewapp.applications.models import Enterprise
from reviewapp.audit import Actor
from reviewapp.audit.models import AuditEntry
from reviewapp.errors import ServiceError
from reviewapp.reports.certifications import service
from reviewapp.reports.models import Certification, MajorChange, PenetrationCount, Report, ReReview, Revocation
from reviewapp.rounds.models import Tier
from tests.conftest import reread
from tests.factories import formal_ban_check, make_application, make_certification, make_enterprise, make_round

CODE = "91370100MA3C4XKD1B"  # a valid GB 32100-2015 check character


@pytest.fixture
def today(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("reviewapp.clock.today_beijing", lambda: date(2026, 11, 22))
    return date(2026, 11, 22)


def sheet_rows(content: bytes) -> list[list[object]]:
    ws = load_workbook(io.BytesIO(content)).active
    return [[c.value for c in row] for row in ws.iter_rows()]


# --- certify (called by publicity) -----------------------------------------------------------------


def test_certify_creates_one_certification_per_factory_with_the_tiers_validity(db):
    excellent = make_round(db, name="2026年度卓越级", tier=Tier.excellent.value, validity_years=5)
    advanced = make_round(db, name="2026年度先进级", tier=Tier.advanced.value, validity_years=4)
    a1, a2 = make_application(db, excellent), make_application(db, excellent)
    b1 = make_application(db, advanced)
    actor = Actor.system("测试")
    created = service.certify(
        db, actor=actor, round_id=excellent.id, application_ids=[a1.id, a2.id], valid_from=date(2026, 12, 1)
    )
    assert [(c.application_id, c.tier, c.valid_to) for c in created] == [
        (a1.id, "excellent", date(2029, 11, 30)),  # 3 years by policy, whatever the round says
        (a2.id, "excellent", date(2029, 11, 30)),
    ]
    [adv] = service.certify(
        db, actor=actor, round_id=advanced.id, application_ids=[b1.id], valid_from=date(2026, 12, 1)
    )
    assert adv.valid_to == date(2030, 11, 30) and adv.source == "round" and adv.round_id == advanced.id
    # Publishing again creates nothing new; an application of another round is refused.
    assert (
        service.certify(db, actor=actor, round_id=excellent.id, application_ids=[a1.id], valid_from=date(2026, 12, 1))
        == []
    )
    with pytest.raises(ServiceError, match="不属于该批次"):
        service.certify(db, actor=actor, round_id=excellent.id, application_ids=[b1.id], valid_from=date(2026, 12, 1))
    db.commit()
    assert len(db.exec(select(AuditEntry).where(AuditEntry.action == "certification.create")).all()) == 3


# --- manual entry and the register -----------------------------------------------------------------


def test_staff_record_an_existing_certification_by_hand(staff_client, db, today):
    response = staff_client.submit(
        "/certifications",
        {
            "credit_code": " 91370100ma3c4xkd1b ",
            "enterprise_name": "山东华岳重工机械有限公司",
            "factory_name": "华岳数字化铸造工厂",
            "tier": "excellent",
            "city": "济南市",
            "industry_group": "装备制造",
            "valid_from": "2024-02-06",
            "valid_to": "",
            "note": "鲁工信〔2024〕12号",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    reread(db)
    cert = db.exec(select(Certification)).one()
    assert cert.credit_code == CODE and cert.valid_to == date(2027, 2, 5) and cert.source == "manual"
    enterprise = db.get(Enterprise, cert.enterprise_id)
    assert enterprise.name == "山东华岳重工机械有限公司" and enterprise.city == "济南市"
    page = staff_client.get(response.headers["location"])
    assert "2024-02-06 至 2027-02-05" in page.text and "2026-11-05" in page.text  # re-review due
    assert "复核申请期限（2026-11-05）已过" in page.text
    again = staff_client.submit(
        "/certifications",
        {
            "credit_code": CODE,
            "enterprise_name": "山东华岳重工机械有限公司",
            "factory_name": "华岳数字化铸造工厂",
            "tier": "excellent",
            "valid_from": "2024-02-06",
        },
    )
    assert "该工厂已有同级别的有效认定" in again.text


def test_a_malformed_credit_code_is_refused(staff_client, db, today):
    response = staff_client.submit(
        "/certifications",
        {
            "credit_code": "12345",
            "enterprise_name": "某公司",
            "factory_name": "某工厂",
            "tier": "advanced",
            "valid_from": "2025-01-01",
        },
    )
    assert response.status_code == 200 and "统一社会信用代码应为 18 位" in response.text and "某工厂" in response.text
    reread(db)
    assert db.exec(select(Certification)).first() is None


def test_the_register_filters_and_exports(staff_client, db, today):
    jinan = make_enterprise(db, name="济南甲公司", city="济南市", industry_group="装备制造")
    qingdao = make_enterprise(db, name="青岛乙公司", city="青岛市", industry_group="电子信息")
    make_certification(db, jinan, factory_name="甲工厂", tier="advanced")
    make_certification(db, qingdao, factory_name="乙工厂", tier="excellent")
    page = staff_client.get("/certifications?city=青岛市")
    assert "乙工厂" in page.text and "甲工厂" not in page.text
    fragment = staff_client.get("/certifications?q=甲", headers={"HX-Request": "true", "HX-Target": "cert-table"})
    assert "<html" not in fragment.text and "甲工厂" in fragment.text and "乙工厂" not in fragment.text
    rows = sheet_rows(staff_client.get("/certifications/export.xlsx?tier=excellent").content)
    assert rows[0][0] == "智能工厂认定名录" and rows[1][:5] == [
        "序号",
        "企业名称",
        "工厂名称",
        "统一社会信用代码",
        "级别",
    ]
    assert [r[2] for r in rows[2:]] == ["乙工厂"] and rows[2][4] == "卓越级"


def test_the_expiring_view_highlights_rereview_due(staff_client, db, today):
    due_soon = make_certification(db, factory_name="三个月后截止工厂", valid_to=date(2027, 4, 20))  # due 2027-01-20
    missed = make_certification(db, factory_name="已过复核期限工厂", valid_to=date(2027, 2, 5))  # due 2026-11-05
    make_certification(db, factory_name="远期工厂", valid_to=date(2028, 6, 30))
    page = staff_client.get("/certifications/expiring?months=6")
    assert "远期工厂" not in page.text
    assert "应于 2027-01-20 前申请复核" in page.text and "复核申请期限（2026-11-05）已过" in page.text
    assert page.text.index("已过复核期限工厂") < page.text.index("三个月后截止工厂")  # soonest first
    assert 'class="row-flag"' in page.text and 'class="row-warn"' in page.text
    assert "远期工厂" in staff_client.get("/certifications/expiring?months=24").text
    assert due_soon.id and missed.id


# --- re-review -------------------------------------------------------------------------------------


def test_a_passed_rereview_extends_three_years(staff_client, db, today):
    cert = make_certification(db, valid_to=date(2027, 2, 5))
    response = staff_client.submit(
        f"/certifications/{cert.id}/rereview",
        {"outcome": "passed", "decided_on": "2026-11-20", "note": "复核通过", "row_version": str(cert.row_version)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    reread(db)
    cert = db.get(Certification, cert.id)
    assert cert.valid_to == date(2030, 2, 5) and cert.status == "active"
    review = db.exec(select(ReReview)).one()
    assert review.previous_valid_to == date(2027, 2, 5) and review.new_valid_to == date(2030, 2, 5)
    assert "复核通过" in staff_client.get(f"/certifications/{cert.id}").text


def test_a_failed_or_missing_rereview_lapses_the_certification(staff_client, db, today):
    cert = make_certification(db, valid_to=date(2026, 11, 1))
    staff_client.submit(
        f"/certifications/{cert.id}/rereview",
        {"outcome": "not_requested", "decided_on": "2026-11-20", "row_version": str(cert.row_version)},
    )
    reread(db)
    assert db.get(Certification, cert.id).status == "lapsed"
    again = staff_client.submit(
        f"/certifications/{cert.id}/rereview",
        {
            "outcome": "passed",
            "decided_on": "2026-11-20",
            "row_version": str(db.get(Certification, cert.id).row_version),
        },
    )
    assert "该认定已失效，不能再记录复核结果。" in again.text


def test_a_stale_rereview_form_is_refused(staff_client, db, today):
    cert = make_certification(db, valid_to=date(2027, 2, 5))
    stale = cert.row_version
    staff_client.submit(
        f"/certifications/{cert.id}/rereview",
        {"outcome": "passed", "decided_on": "2026-11-20", "row_version": str(stale)},
    )
    response = staff_client.submit(
        f"/certifications/{cert.id}/rereview",
        {"outcome": "not_passed", "decided_on": "2026-11-20", "row_version": str(stale)},
    )
    assert "该认定已被他人修改，请刷新后重试" in response.text
    reread(db)
    assert db.get(Certification, cert.id).status == "active"


# --- major changes ---------------------------------------------------------------------------------


def test_major_changes_are_listed_with_overdue_highlighted(staff_client, db, today):
    cert = make_certification(db, factory_name="鲁东化工工厂")
    staff_client.submit(
        f"/certifications/{cert.id}/changes",
        {"changed_on": "2026-07-01", "filed_on": "", "description": "控股股东变更"},
    )
    staff_client.submit(
        f"/certifications/{cert.id}/changes",
        {"changed_on": "2026-10-01", "filed_on": "", "description": "主要生产线搬迁"},
    )
    staff_client.submit(
        f"/certifications/{cert.id}/changes",
        {"changed_on": "2026-03-01", "filed_on": "2026-05-01", "description": "更名"},
    )
    overdue = staff_client.get("/certifications/changes?status=overdue")
    assert "控股股东变更" in overdue.text and "逾期未备案（期限 2026-10-01）" in overdue.text
    assert "主要生产线搬迁" not in overdue.text and 'class="row-flag"' in overdue.text
    assert "待备案（期限 2027-01-01）" in staff_client.get("/certifications/changes?status=pending").text
    assert "按期备案" in staff_client.get("/certifications/changes?status=filed").text
    refused = staff_client.submit(
        f"/certifications/{cert.id}/changes", {"changed_on": "2026-12-01", "description": "未来"}
    )
    assert "不能晚于今天" in refused.text
    reread(db)
    change = db.exec(select(MajorChange).where(MajorChange.description == "控股股东变更")).one()
    staff_client.submit(
        f"/certifications/changes/{change.id}/filed", {"filed_on": "2026-11-20", "row_version": str(change.row_version)}
    )
    reread(db)
    assert db.get(MajorChange, change.id).filed_on == date(2026, 11, 20)
    assert "逾期备案（期限 2026-10-01）" in staff_client.get("/certifications/changes?status=filed").text


# --- revocation and bans ---------------------------------------------------------------------------


def test_revoking_bans_the_credit_code_for_three_years(staff_client, db, today):
    enterprise = make_enterprise(db, name="潍坊北辰食品股份有限公司", credit_code="91370700MA3F5RTY6C")
    cert = make_certification(db, enterprise, factory_name="北辰食品灌装工厂", tier="advanced")
    form = staff_client.get(f"/certifications/{cert.id}/revoke")
    assert "2029-11-22" in form.text and "发生安全事故（含网络安全、数据安全）" in form.text
    data = {
        "reason_category": "falsified",
        "revoked_on": "2026-11-20",
        "reason": "申报数据造假",
        "row_version": str(cert.row_version),
    }
    short = staff_client.submit(f"/certifications/{cert.id}/revoke", {**data, "banned_until": "2029-11-19"})
    assert "禁止申报期限至少 3 年：应不早于 2029-11-20" in short.text
    future = staff_client.submit(f"/certifications/{cert.id}/revoke", {**data, "revoked_on": "2026-11-23"})
    assert "不能晚于今天" in future.text
    response = staff_client.submit(f"/certifications/{cert.id}/revoke", data, follow_redirects=False)
    assert response.status_code == 303
    reread(db)
    revocation = db.exec(select(Revocation)).one()
    assert revocation.banned_until == date(2029, 11, 20) and revocation.credit_code == "91370700MA3F5RTY6C"
    assert (
        revocation.enterprise_name == "潍坊北辰食品股份有限公司" and db.get(Certification, cert.id).status == "revoked"
    )
    enterprise = db.get(Enterprise, db.get(Certification, cert.id).enterprise_id)
    assert not formal_ban_check(db, enterprise, today=date(2027, 6, 1))["ok"]
    assert formal_ban_check(db, enterprise, today=date(2029, 11, 21))["ok"]
    again = staff_client.submit(
        f"/certifications/{cert.id}/revoke", {**data, "row_version": str(db.get(Certification, cert.id).row_version)}
    )
    assert "不能重复取消" in again.text
    bans = staff_client.get("/certifications/bans")
    assert "禁止申报中" in bans.text and "弄虚作假" in bans.text
    rows = sheet_rows(staff_client.get("/certifications/bans/export.xlsx").content)
    assert rows[2][1:8] == [
        "潍坊北辰食品股份有限公司",
        "91370700MA3F5RTY6C",
        "北辰食品灌装工厂",
        "弄虚作假",
        "2026-11-20",
        "2029-11-20",
        "禁止申报中",
    ]


def test_a_longer_ban_may_be_chosen(staff_client, db, today):
    cert = make_certification(db)
    staff_client.submit(
        f"/certifications/{cert.id}/revoke",
        {
            "reason_category": "safety",
            "revoked_on": "2026-11-20",
            "banned_until": "2031-12-31",
            "reason": "发生较大数据安全事故",
            "row_version": str(cert.row_version),
        },
    )
    reread(db)
    assert db.exec(select(Revocation)).one().banned_until == date(2031, 12, 31)
    assert "禁止申报中" in staff_client.get("/certifications/bans?status=active").text
    assert "2031-12-31" not in staff_client.get("/certifications/bans?status=ended").text


# --- annual figures --------------------------------------------------------------------------------


def test_annual_figures_count_reports_certifications_and_penetration(staff_client, db, today):
    jinan = make_enterprise(db, city="济南市", industry_group="装备制造")
    yantai = make_enterprise(db, city="烟台市", industry_group="原材料")
    make_certification(db, jinan, tier="advanced", valid_from=date(2026, 3, 1), valid_to=date(2029, 2, 28))
    make_certification(db, jinan, tier="excellent", valid_from=date(2026, 5, 1), valid_to=date(2029, 4, 30))
    make_certification(db, yantai, tier="advanced", valid_from=date(2025, 5, 1), valid_to=date(2028, 4, 30))
    for state, conclusion in [("closed", "revocation"), ("refused", ""), ("verifying", ""), ("closed", "unfounded")]:
        db.add(
            Report(
                channel="电话",
                received_on=date(2026, 6, 1),
                target_name="某",
                content="x",
                state=state,
                conclusion=conclusion,
            )
        )
    db.add(
        Report(
            channel="电话",
            received_on=date(2025, 6, 1),
            target_name="某",
            content="x",
            state="closed",
            conclusion="revocation",
        )
    )
    db.commit()
    page = staff_client.get("/certifications/figures?year=2026")
    outcomes = page.text.split("figures-outcomes")[1].split("</table>")[0]
    assert [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', outcomes)] == [1, 1, 1, 0, 1, 4]
    new_by_city = page.text.split("2026年新认定（按地市）")[1].split("</table>")[0]
    assert "济南市" in new_by_city and "烟台市" not in new_by_city
    assert "烟台市" in page.text.split("有效认定（按地市）")[1]

    saved = staff_client.submit(
        "/certifications/figures/penetration",
        {"year": "2025", "above_size_total": "4213", "above_size_level2": "1156", "source": "省统计局"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert "27.4%" in staff_client.get("/certifications/figures?year=2025").text
    bad = staff_client.submit(
        "/certifications/figures/penetration", {"year": "2024", "above_size_total": "10", "above_size_level2": "11"}
    )
    assert "不能大于规上工业企业总数" in bad.text
    duplicate = staff_client.submit(
        "/certifications/figures/penetration", {"year": "2025", "above_size_total": "10", "above_size_level2": "1"}
    )
    assert "已录入，请在列表中修改" in duplicate.text
    reread(db)
    row = db.get(PenetrationCount, 2025)
    staff_client.submit(
        "/certifications/figures/penetration",
        {"year": "2025", "above_size_total": "4300", "above_size_level2": "1300", "row_version": str(row.row_version)},
    )
    stale = staff_client.submit(
        "/certifications/figures/penetration",
        {"year": "2025", "above_size_total": "1", "above_size_level2": "1", "row_version": str(row.row_version)},
    )
    assert "已被他人修改" in stale.text
    reread(db)
    assert db.get(PenetrationCount, 2025).above_size_total == 4300
    workbook = load_workbook(io.BytesIO(staff_client.get("/certifications/figures/export.xlsx?year=2026").content))
    assert workbook.sheetnames[0] == "2026年举报办理情况" and "智能工厂普及率" in workbook.sheetnames
    assert [c.value for c in workbook["智能工厂普及率"][3]][:4] == [2025, 4300, 1300, "30.2"]
