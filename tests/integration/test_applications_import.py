"""Importing a round's applications from Excel files as offices send them: browser flow, all-or-nothing, CLI."""

from __future__ import annotations

import io
import re

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook
from sqlmodel import select

from reviewapp.applications.models import Application, ApplicationParty, ApplicationScenario, Enterprise
from reviewapp.applications.sample_file import OFFICIAL_COLUMNS, SHANXI_COLUMNS, official_workbook
from reviewapp.audit.models import AuditEntry
from tests.factories import make_round, sample_rows

EXTRA = ("统一社会信用代码", "所在地市", "项目名称", "解决方案供应商", "联系人", "联系电话")


def upload(client, rnd, data: bytes, name: str = "名单汇总表.xlsx"):  # type: ignore[no-untyped-def]
    """Upload through the import page; return (preview page, commit url or None)."""
    response = client.post(
        f"/rounds/{rnd.id}/applications/import",
        files={"file": (name, data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")},
        data={"_csrf_token": client.csrf()},
        follow_redirects=True,
    )
    assert response.status_code == 200, response.text[:500]
    match = re.search(r'action="(/rounds/\d+/applications/import/[^/"]+)/commit"', response.text)
    return response, (match.group(1) + "/commit" if match else None)


def import_file(client, rnd, data: bytes, name: str = "名单汇总表.xlsx"):  # type: ignore[no-untyped-def]
    page, commit_url = upload(client, rnd, data, name)
    assert commit_url, f"preview shows errors: {re.findall(r'error-text[^>]*>(.*?)</div>', page.text)[:5]}"
    return client.submit(commit_url, follow_redirects=True)


def count(db, model) -> int:  # type: ignore[no-untyped-def]
    db.rollback()  # end the test session's read snapshot: the app wrote through its own connections
    return len(db.exec(select(model)).all())


@pytest.fixture
def rnd(db):  # type: ignore[no-untyped-def]
    return make_round(db)


def test_official_layout_previews_every_row_then_imports(staff_client, db, rnd):
    rows = sample_rows(db, rnd, 12)
    data = official_workbook(rows, columns=OFFICIAL_COLUMNS + EXTRA, merge_enterprise=True)
    page, commit_url = upload(staff_client, rnd, data)
    assert commit_url
    assert "检查通过，可以导入" in page.text
    for row in rows:
        assert row["工厂名称"] in page.text
    assert count(db, Application) == 0, "preview must not write"

    done = staff_client.submit(commit_url, follow_redirects=True)
    assert "新增 12 条，更新 0 条，未变 0 条" in done.text
    assert count(db, Application) == 12
    app = db.exec(select(Application).where(Application.factory_name == rows[0]["工厂名称"])).one()
    enterprise = db.get(Enterprise, app.enterprise_id)
    assert enterprise.credit_code == rows[0]["统一社会信用代码"]
    assert enterprise.city == rows[0]["所在地市"] and enterprise.industry_group == rows[0]["所属行业"]
    stages = {s.stage for s in db.exec(select(ApplicationScenario).where(ApplicationScenario.application_id == app.id))}
    assert {"生产作业", "生产管理", "运营管理"} <= stages
    provider = db.exec(select(ApplicationParty).where(ApplicationParty.application_id == app.id)).one()
    assert provider.role == "provider" and len(provider.credit_code) == 18 and "（" not in provider.name

    entries = db.exec(select(AuditEntry).where(AuditEntry.action == "application.import")).all()
    assert len(entries) == 1, "one audit entry per import, not per row"
    assert '"created":12' in entries[0].after_json


def test_reimport_creates_no_duplicates_and_reports_updates(staff_client, db, rnd):
    rows = sample_rows(db, rnd, 6)
    data = official_workbook(rows, columns=OFFICIAL_COLUMNS + EXTRA)
    import_file(staff_client, rnd, data)
    again = import_file(staff_client, rnd, data)
    assert "新增 0 条，更新 0 条，未变 6 条" in again.text
    assert count(db, Application) == 6 and count(db, Enterprise) == 6

    rows[2]["能力成熟度自评得分"] = 3.91
    rows[4]["智能制造典型场景"] += "、设备维修维护"
    rows.append(sample_rows(db, rnd, 7, seed=99)[6])
    changed = import_file(staff_client, rnd, official_workbook(rows, columns=OFFICIAL_COLUMNS + EXTRA))
    assert "新增 1 条，更新 2 条，未变 4 条" in changed.text
    assert count(db, Application) == 7


def test_reimport_of_a_decided_application_sends_it_back_to_pending(staff_client, db, rnd):
    rows = sample_rows(db, rnd, 2)
    import_file(staff_client, rnd, official_workbook(rows, columns=OFFICIAL_COLUMNS + EXTRA))
    db.rollback()
    app = db.exec(select(Application).where(Application.factory_name == rows[0]["工厂名称"])).one()
    staff_client.submit(f"/applications/{app.id}/decision", {"decision": "pass", "row_version": app.row_version})
    rows[0]["能力成熟度自评得分"] = 1.2
    result = import_file(staff_client, rnd, official_workbook(rows, columns=OFFICIAL_COLUMNS + EXTRA))
    assert "1 条已审查的申报因数据变化改为待审查" in result.text
    db.rollback()
    assert db.get(Application, app.id).formal_status == "pending"


def test_shanxi_four_column_layout_with_city_from_the_unit_line(staff_client, db, rnd):
    rows = sample_rows(db, rnd, 3)
    data = official_workbook(
        rows,
        columns=SHANXI_COLUMNS,
        title="先进级智能工厂名单汇总表",
        unit="太原市工业和信息化局",
        headers={"智能制造典型场景": "智能制造典型场景（名称）"},
        footnotes=(),
    )
    result = import_file(staff_client, rnd, data)
    assert "新增 3 条" in result.text
    db.rollback()
    enterprise = db.exec(select(Enterprise).where(Enterprise.name == rows[0]["企业名称"])).one()
    assert enterprise.credit_code is None and enterprise.city == "太原市"
    # The same list again, matched by enterprise name since it has no codes.
    assert "未变 3 条" in import_file(staff_client, rnd, data).text


def test_messy_headers_separators_and_two_row_provider_header(staff_client, db, rnd):
    rows = sample_rows(db, rnd, 2)
    rows[0]["智能制造典型场景"] = (
        "1、生产计划优化，车间智能排产;设备运行监控；在线智能检测\n质量精准追溯\r\n智能经营决策 数智精益管理/能源智能管控"
    )
    rows[0]["统一社会信用代码"] = (
        rows[0]["统一社会信用代码"]
        .lower()
        .translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789abcdefghijklmnopqrstuvwxyz"})
    )
    rows[0]["企业名称"] = rows[0]["企业名称"][:3] + "\u3000" + rows[0]["企业名称"][3:]
    wb = Workbook()
    ws = wb.active
    ws.append(["2026年度先进级智能工厂推荐名单"])
    ws.append(["报送单位（盖章）：青岛市工业和信息化局"])
    headers = ["序 号", "工厂\n名称", "企业名称*", "统一社会\n信用代码", "所属\n行业 1", "企业\n性质 2", "企业\n类型 3",
               "行业\n中类 4", "行业\n小类 4", "能力成熟度\n自评估得分", "智能制造典型场景\n（列举场景名称）", "解决方案供应商", None,
               "备注"]  # fmt: skip
    ws.append(headers)
    ws.merge_cells(start_row=3, start_column=12, end_row=3, end_column=13)
    ws.append([None] * 11 + ["名称", "统一社会信用代码", None])
    for c in range(1, 12):
        ws.merge_cells(start_row=3, start_column=c, end_row=4, end_column=c)
    for row in rows:
        name, _, code = row["解决方案供应商"].partition("（")
        ws.append([row["序号"], row["工厂名称"], row["企业名称"], row["统一社会信用代码"], row["所属行业"], "民营",
                   "大型", row["行业中类"], row["行业小类"], f"{row['能力成熟度自评得分']}分", row["智能制造典型场景"], name,
                   code.rstrip("）"), "无"])  # fmt: skip
    buf = io.BytesIO()
    wb.save(buf)
    import_file(staff_client, rnd, buf.getvalue())
    db.rollback()
    enterprise = db.exec(select(Enterprise).where(Enterprise.city == "青岛市")).all()
    assert len(enterprise) == 2
    first = next(e for e in enterprise if e.name == rows[0]["企业名称"].replace("\u3000", " "))
    assert (
        re.fullmatch(r"[0-9A-Z]{18}", first.credit_code)
        and first.nature == "民营企业"
        and first.size_type == "大型企业"
    )
    app = db.exec(select(Application).where(Application.enterprise_id == first.id)).one()
    names = [s.name for s in db.exec(select(ApplicationScenario).where(ApplicationScenario.application_id == app.id))]
    assert names[:3] == ["生产计划优化", "车间智能排产", "设备运行监控"] and len(names) == 8
    party = db.exec(select(ApplicationParty).where(ApplicationParty.application_id == app.id)).one()
    assert party.credit_code and party.name.endswith("有限公司")


BAD_INPUTS = {
    "wrong check character": (lambda r: r.update(统一社会信用代码=r["统一社会信用代码"][:-1] + ("0" if r["统一社会信用代码"][-1] != "0" else "1")),
                              "统一社会信用代码", "校验位不符"),
    "small class not under its middle class": (lambda r: r.update(行业中类="341", 行业小类="3511"), "行业小类", "应以其行业中类「341」开头"),
    "bad enumerated value": (lambda r: r.update(企业性质="个体工商户"), "企业性质", "应填写：中央企业、地方国企、民营企业、三资企业"),
    "bad industry group": (lambda r: r.update(所属行业="新能源"), "所属行业", "应填写：原材料、电子信息、装备制造、消费品"),
    "tier of another round": (lambda r: r.update(工厂级别="基础级"), "工厂级别", "与本批次（先进级）不一致"),
    "score out of range": (lambda r: r.update(能力成熟度自评得分="85"), "能力成熟度自评得分", "0–5"),
    "missing factory name": (lambda r: r.update(工厂名称=""), "工厂名称", "为必填项"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_a_bad_row_is_named_and_nothing_is_imported(staff_client, db, rnd, case):
    mutate, column, message = BAD_INPUTS[case]
    rows = sample_rows(db, rnd, 5)
    mutate(rows[3])
    page, commit_url = upload(staff_client, rnd, official_workbook(rows, columns=OFFICIAL_COLUMNS + EXTRA))
    assert commit_url is None, "no commit button while a row has an error"
    row_html = re.search(r'<tr class="row-error">(.*?)</tr>', page.text, re.S)
    assert row_html and '<td class="num">7</td>' in row_html.group(
        1
    )  # Excel row 7 = 4th data row under title/unit/header
    assert column in row_html.group(1) and message in row_html.group(1)
    assert count(db, Application) == 0


def test_commit_rechecks_and_refuses_a_file_with_errors(staff_client, db, rnd):
    rows = sample_rows(db, rnd, 3)
    rows[1]["企业类型"] = "巨型企业"
    page, _ = upload(staff_client, rnd, official_workbook(rows, columns=OFFICIAL_COLUMNS + EXTRA))
    token_url = re.search(r'action="(/rounds/\d+/applications/import/[^/"]+)/discard"', page.text).group(1)
    refused = staff_client.submit(token_url + "/commit", follow_redirects=True)
    assert "未导入任何数据" in refused.text and "巨型企业" in refused.text
    assert count(db, Application) == 0 and count(db, Enterprise) == 0


def test_lower_case_and_full_width_codes_are_stored_normalised(staff_client, db, rnd):
    rows = sample_rows(db, rnd, 2)
    code = rows[0]["统一社会信用代码"]
    rows[0]["统一社会信用代码"] = code.lower().translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    import_file(staff_client, rnd, official_workbook(rows, columns=OFFICIAL_COLUMNS + EXTRA))
    db.rollback()
    assert db.exec(select(Enterprise).where(Enterprise.credit_code == code)).one()


def test_unknown_scenario_is_kept_flagged_and_fails_formal_review(staff_client, db, rnd):
    rows = sample_rows(db, rnd, 2)
    rows[0]["智能制造典型场景"] += "、智能仓储机器人集群调度"
    page, commit_url = upload(staff_client, rnd, official_workbook(rows, columns=OFFICIAL_COLUMNS + EXTRA))
    assert "不在场景目录中" in page.text and "智能仓储机器人集群调度" in page.text
    staff_client.submit(commit_url)
    db.rollback()
    scenario = db.exec(select(ApplicationScenario).where(ApplicationScenario.name == "智能仓储机器人集群调度")).one()
    assert scenario.scenario_id is None
    assert db.get(Application, scenario.application_id).formal_failed_codes == ",catalogue,"


def test_duplicate_rows_within_a_file_are_refused(staff_client, db, rnd):
    rows = sample_rows(db, rnd, 4)
    rows.append(dict(rows[1], 序号=5))
    page, commit_url = upload(staff_client, rnd, official_workbook(rows, columns=OFFICIAL_COLUMNS + EXTRA))
    assert commit_url is None and "与第 5 行重复" in page.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "上传的文件是空的"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "无法读取该表格文件"),
        (bytes(range(256)) * 4, "无法识别该文件的格式"),
        ("序号,企业名称\n1,某公司\n".encode(), "缺少必需的列：工厂名称"),
    ],
)
def test_files_that_are_not_a_usable_list(staff_client, db, rnd, data, message):
    page, commit_url = upload(staff_client, rnd, data, "名单.xlsx")
    assert commit_url is None and message in page.text


def test_missing_required_column_and_empty_table(staff_client, db, rnd):
    rows = sample_rows(db, rnd, 2)
    page, commit_url = upload(
        staff_client, rnd, official_workbook(rows, columns=("序号", "企业名称", "智能制造典型场景"))
    )
    assert commit_url is None and "缺少必需的列：工厂名称" in page.text
    page, commit_url = upload(staff_client, rnd, official_workbook([], columns=OFFICIAL_COLUMNS))
    assert commit_url is None and "没有数据行" in page.text


def test_discarded_upload_is_gone(staff_client, db, rnd):
    page, commit_url = upload(staff_client, rnd, official_workbook(sample_rows(db, rnd, 1)))
    staff_client.submit(commit_url.replace("/commit", "/discard"))
    gone = staff_client.submit(commit_url, follow_redirects=True)
    assert "导入文件不存在或已过期" in gone.text and count(db, Application) == 0


def test_template_has_dropdowns_and_imports_back(staff_client, db, rnd):
    response = staff_client.get(f"/rounds/{rnd.id}/applications/template.xlsx")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.content))
    ws = wb["名单汇总表"]
    lists = {dv.formula1 for dv in ws.data_validations.dataValidation if dv.type == "list"}
    assert '"原材料,电子信息,装备制造,消费品"' in lists and '"中央企业,地方国企,民营企业,三资企业"' in lists
    assert '"大型企业,中型企业,小型企业,微型企业"' in lists and '"先进级"' in lists
    assert "场景目录" in wb.sheetnames
    headers = [c.value for c in ws[3]]
    row = sample_rows(db, rnd, 1)[0]
    values = {"序号": 1, "企业名称": row["企业名称"], "统一社会信用代码": row["统一社会信用代码"], "工厂名称": row["工厂名称"],
              "所在地市": "潍坊市", "能力成熟度自评得分": 2.9, "工厂级别（基础级、先进级）": "先进级", "所属行业¹": "装备制造",
              "企业性质²": "民营企业", "企业类型³": "中型企业", "行业中类⁴": "342", "行业小类⁴": "3421", "是否规上企业": "是",
              "智能制造典型场景（列举场景名称，用顿号分隔）": row["智能制造典型场景"]}  # fmt: skip
    ws.append([values.get(h) for h in headers])
    buf = io.BytesIO()
    wb.save(buf)
    assert "新增 1 条" in import_file(staff_client, rnd, buf.getvalue()).text


def test_experts_cannot_import(make_user, login, db, rnd):
    expert = login(make_user("zhuanjia", "expert"))
    assert expert.get(f"/rounds/{rnd.id}/applications/import").status_code == 403


# --- command line ----------------------------------------------------------------------------------


def run_cli(settings, *args):  # type: ignore[no-untyped-def]
    from reviewapp.cli import main

    env = {"REVIEWAPP_DATABASE_URL": settings.database_url, "REVIEWAPP_DATA_DIR": str(settings.data_dir)}
    return CliRunner().invoke(main, list(args), env=env)


def test_cli_imports_dry_runs_and_refuses_bad_rows(settings, db, rnd, tmp_path):
    rows = sample_rows(db, rnd, 4)
    good = tmp_path / "good.xlsx"
    good.write_bytes(official_workbook(rows, columns=OFFICIAL_COLUMNS + EXTRA))

    dry = run_cli(settings, "import", "applications", str(good), "--round", str(rnd.id), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "将新增 4 条" in dry.output and count(db, Application) == 0

    done = run_cli(settings, "import", "applications", str(good), "--round", str(rnd.id))
    assert done.exit_code == 0 and "新增 4 条" in done.output and count(db, Application) == 4
    again = run_cli(settings, "import", "applications", str(good), "--round", str(rnd.id))
    assert again.exit_code == 0 and "未变 4 条" in again.output and count(db, Application) == 4

    rows[1]["行业小类"] = "9999"
    rows[2]["统一社会信用代码"] = "91370000163044841G"
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(official_workbook(rows, columns=OFFICIAL_COLUMNS + EXTRA))
    refused = run_cli(settings, "import", "applications", str(bad), "--round", str(rnd.id))
    assert refused.exit_code == 1
    assert "第 5 行「行业小类」" in refused.output and "第 6 行「统一社会信用代码」" in refused.output
    assert "未导入任何数据" in refused.output

    missing = run_cli(settings, "import", "applications", str(good), "--round", "9999")
    assert missing.exit_code != 0 and "未找到该评审批次" in missing.output
