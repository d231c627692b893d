"""The expert pool through HTTP: list, profile with history and relations, Excel import, bulk accounts."""

import io
import re

from click.testing import CliRunner
from openpyxl import Workbook
from sqlmodel import select

from reviewapp.audit.models import AuditEntry
from reviewapp.auth.models import Role, User
from reviewapp.panels.models import Expert, ExpertEmployment, ExpertRelation
from tests.conftest import reread
from tests.factories import VALID_CREDIT_CODES, make_expert


def test_pool_lists_searches_and_filters_for_staff_only(db, staff_client, make_user, login):
    make_expert(
        db,
        name="王立新",
        employer="烟台工业互联网研究院",
        city="烟台市",
        phone="13805310001",
        specialties_json='["装备制造"]',
    )
    make_expert(db, name="孙丽华", employer="青岛科技大学", city="青岛市", specialties_json='["原材料", "消费品"]')
    page = staff_client.get("/experts")
    assert page.status_code == 200
    assert "王立新" in page.text and "孙丽华" in page.text
    assert "13805310001" in page.text, "staff see contact details"
    page = staff_client.get("/experts", params={"q": "烟台"})
    assert "王立新" in page.text and "孙丽华" not in page.text
    page = staff_client.get("/experts", params={"specialty": "消费品"})
    assert "孙丽华" in page.text and "王立新" not in page.text
    page = staff_client.get("/experts", params={"city": "烟台市", "account": "no"})
    assert "王立新" in page.text and "孙丽华" not in page.text

    expert_browser = login(make_user("zhuanjia", Role.expert))
    assert expert_browser.get("/experts").status_code == 403
    assert expert_browser.get("/experts/1").status_code == 403


def test_pool_paginates(db, staff_client):
    for n in range(55):
        make_expert(db, name=f"分页专家{n:02d}")
    first = staff_client.get("/experts")
    assert "共 55 条，第 1–50 条" in first.text
    second = staff_client.get("/experts", params={"page": 2})
    assert "分页专家54" in second.text and "分页专家00" not in second.text


def test_create_and_edit_expert_with_history_and_relations(db, staff_client):
    response = staff_client.submit(
        "/experts",
        {
            "name": "李建国",
            "id_number_hint": "123x",
            "employer": "山东省智能制造研究院",
            "employer_credit_code": "９１３７００００１６３０４４８４１ｆ",
            "title": "正高级工程师",
            "specialties": ["装备制造", "电子信息"],
            "city": "济南市",
            "phone": "13800000000",
            "email": "LiJG@Example.cn",
            "active": "1",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    expert = db.exec(select(Expert).where(Expert.name == "李建国")).one()
    assert expert.employer_credit_code == "91370000163044841F"
    assert expert.id_number_hint == "123X" and expert.email == "lijg@example.cn"
    url = f"/experts/{expert.id}"

    bad = staff_client.submit(f"{url}/employments", {"employer": "浪潮集团", "credit_code": "91370000163044841G"})
    assert bad.status_code == 200 and "校验位不符" in bad.text
    ok = staff_client.submit(
        f"{url}/employments", {"employer": "浪潮集团有限公司", "start": "2015-07-01", "end": "2021-06-30"}
    )
    assert ok.status_code == 200 and "浪潮集团有限公司" in ok.text
    staff_client.submit(
        f"{url}/relations",
        {
            "enterprise_name": "济南某机械有限公司",
            "relation": "亲属任职",
            "since": "2020-01-01",
            "note": "配偶任财务经理",
        },
    )
    page = staff_client.get(url)
    assert "济南某机械有限公司" in page.text and "亲属任职" in page.text

    reread(db)
    edited = staff_client.submit(url, _profile(expert, title="教授"), follow_redirects=False)
    assert edited.status_code == 303
    reread(db)
    assert expert.title == "教授"
    stale = staff_client.submit(url, _profile(expert, title="研究员", row_version=expert.row_version - 1))
    assert stale.status_code == 200 and "已被他人修改" in stale.text

    job = db.exec(select(ExpertEmployment).where(ExpertEmployment.expert_id == expert.id)).one()
    staff_client.submit(f"{url}/employments/{job.id}/delete")
    reread(db)
    assert db.exec(select(ExpertEmployment).where(ExpertEmployment.expert_id == expert.id)).all() == []
    actions = set(db.exec(select(AuditEntry.action)))
    assert {
        "expert.create",
        "expert.update",
        "expert.employment_add",
        "expert.employment_delete",
        "expert.relation_add",
    } <= actions
    contacts = " ".join(e.after_json + e.before_json for e in db.exec(select(AuditEntry)))
    assert "13800000000" not in contacts, "the audit log does not copy personal contact details"


def _profile(expert: Expert, **changes):  # type: ignore[no-untyped-def]
    values = {
        "name": expert.name,
        "id_number_hint": expert.id_number_hint,
        "employer": expert.employer,
        "employer_credit_code": expert.employer_credit_code,
        "title": expert.title,
        "specialties": ["装备制造"],
        "city": expert.city,
        "phone": expert.phone,
        "email": expert.email,
        "active": "1",
        "row_version": expert.row_version,
    }
    values.update(changes)
    return values


def test_namesakes_need_the_id_digits(db, staff_client):
    make_expert(db, name="张伟", id_number_hint="")
    response = staff_client.submit("/experts", {"name": "张伟", "employer": "某单位"})
    assert response.status_code == 200 and "已有同名专家" in response.text
    response = staff_client.submit(
        "/experts", {"name": "张伟", "id_number_hint": "5678", "employer": "某单位"}, follow_redirects=False
    )
    assert response.status_code == 303


# --- Excel import ---------------------------------------------------------------------------------


def expert_workbook(experts=None, jobs=None, relations=None) -> bytes:  # type: ignore[no-untyped-def]
    """As an office fills in the template: title row, header with line breaks, then data; two optional sheets."""
    wb = Workbook()
    ws = wb.active
    ws.title = "专家信息"
    ws.append(["2026年度智能工厂评审专家信息表"])
    ws.append(
        [
            "序号",
            "姓名",
            "身份证号\n后四位",
            "工作单位",
            "单位统一社会\n信用代码",
            "职称",
            "专业领域（所属行业）",
            "所在地市",
            "手机号码",
            "电子邮箱",
        ]
    )
    for n, row in enumerate(experts if experts is not None else EXPERT_ROWS, start=1):
        ws.append([n, *row])
    if jobs is not None:
        sheet = wb.create_sheet("工作经历")
        sheet.append(["姓名", "身份证号后四位", "工作单位", "统一社会信用代码", "起始年月", "截止年月"])
        for row in jobs:
            sheet.append(list(row))
    if relations is not None:
        sheet = wb.create_sheet("利害关系")
        sheet.append(
            ["姓名", "身份证号后四位", "相关企业名称", "统一社会信用代码", "关系类型", "起始日期", "截止日期", "说明"]
        )
        for row in relations:
            sheet.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


EXPERT_ROWS = [
    [
        "周国栋",
        "0379",
        "潍坊先进制造产业技术研究院",
        VALID_CREDIT_CODES[4],
        "高级工程师",
        "装备制造",
        "潍坊市",
        "13805310008",
        "zhougd@example.cn",
    ],
    ["吴春燕", "1234", "山东省计量科学研究院", "", "研究员", "电子信息、装备制造", "济南市", "", ""],
]
JOB_ROWS = [
    ["周国栋", "0379", "潍柴动力股份有限公司", VALID_CREDIT_CODES[5], "2010-07", "2018-06"],
    ["周国栋", "0379", "潍坊先进制造产业技术研究院", VALID_CREDIT_CODES[4], "2018-07", "至今"],
    ["吴春燕", "1234", "浪潮电子信息产业股份有限公司", "", "2012年3月", "2019年12月"],
]
RELATION_ROWS = [
    ["吴春燕", "1234", "济南某电子有限公司", VALID_CREDIT_CODES[6], "投资入股", "2021-03-01", "", "持股 2%"]
]


def preview(client, data: bytes):  # type: ignore[no-untyped-def]
    return client.submit(
        "/experts/import",
        files={"file": ("专家.xlsx", data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")},
    )


def confirm(client, page_html: str):  # type: ignore[no-untyped-def]
    payload = re.search(r'name="payload" value="([^"]+)"', page_html).group(1)  # type: ignore[union-attr]
    sha = re.search(r'name="sha256" value="([0-9a-f]+)"', page_html).group(1)  # type: ignore[union-attr]
    return client.submit("/experts/import/confirm", {"payload": payload, "sha256": sha}, follow_redirects=False)


def test_import_previews_then_writes_and_reimport_updates_instead_of_duplicating(db, staff_client):
    data = expert_workbook(jobs=JOB_ROWS, relations=RELATION_ROWS)
    page = preview(staff_client, data)
    assert page.status_code == 200
    assert "新增 <strong>2</strong> 位" in page.text and "确认导入" in page.text
    assert db.exec(select(Expert)).all() == [], "the preview writes nothing"
    response = confirm(staff_client, page.text)
    assert response.status_code == 303
    reread(db)
    zhou = db.exec(select(Expert).where(Expert.name == "周国栋")).one()
    wu = db.exec(select(Expert).where(Expert.name == "吴春燕")).one()
    assert zhou.employer_credit_code == VALID_CREDIT_CODES[4]
    assert '"电子信息"' in wu.specialties_json and '"装备制造"' in wu.specialties_json
    jobs = db.exec(
        select(ExpertEmployment).where(ExpertEmployment.expert_id == zhou.id).order_by(ExpertEmployment.id)
    ).all()
    assert [(j.employer, str(j.start), str(j.end)) for j in jobs] == [
        ("潍柴动力股份有限公司", "2010-07-01", "2018-06-30"),
        ("潍坊先进制造产业技术研究院", "2018-07-01", "None"),
    ]
    rel = db.exec(select(ExpertRelation).where(ExpertRelation.expert_id == wu.id)).one()
    assert rel.relation == "投资入股" and rel.note == "持股 2%"

    # The same file again: nothing new, nothing duplicated.
    page = preview(staff_client, data)
    assert "更新 <strong>2</strong> 位" in page.text
    confirm(staff_client, page.text)
    reread(db)
    assert len(db.exec(select(Expert)).all()) == 2
    assert len(db.exec(select(ExpertEmployment)).all()) == 3

    # A changed file: the title changes, the employment sheet is replaced for the experts listed.
    rows = [list(EXPERT_ROWS[0]), list(EXPERT_ROWS[1])]
    rows[0][4] = "正高级工程师"
    page = preview(staff_client, expert_workbook(rows, jobs=JOB_ROWS[1:]))
    confirm(staff_client, page.text)
    reread(db)
    assert db.get(Expert, zhou.id).title == "正高级工程师"
    assert len(db.exec(select(ExpertEmployment).where(ExpertEmployment.expert_id == zhou.id)).all()) == 1
    assert len(db.exec(select(ExpertRelation)).all()) == 1, "no 利害关系 sheet: relations are left as they were"
    summaries = [e.summary for e in db.exec(select(AuditEntry).where(AuditEntry.action == "expert.import"))]
    assert summaries == [
        "导入专家：新增 2 位，更新 0 位，未变化 0 位",
        "导入专家：新增 0 位，更新 0 位，未变化 2 位",
        "导入专家：新增 0 位，更新 1 位，未变化 1 位",  # 周国栋 changed; 吴春燕 did not
    ]


def test_import_with_errors_lists_every_bad_row_and_writes_nothing(db, staff_client):
    rows = [
        ["周国栋", "0379", "", "91370000163044841G", "", "装备制造、航天", "潍坊市", "138-abc", "not-an-email"],
        ["周国栋", "0379", "潍坊研究院", "", "", "", "", "", ""],
    ]
    jobs = [["不存在", "9999", "某公司", "", "2020-01", ""], ["周国栋", "0379", "某公司", "", "2020年13月", ""]]
    relations = [["周国栋", "0379", "某公司", "", "同学", "", "", ""]]
    page = preview(staff_client, expert_workbook(rows, jobs=jobs, relations=relations))
    assert page.status_code == 200
    assert "未导入任何数据" in page.text and "确认导入" not in page.text
    for text in ["请填写工作单位。", "校验位不符", "专业领域「航天」无效", "手机号码格式不正确", "电子邮箱格式不正确",
                 "与第 3 行是同一位专家", "找不到这位专家", "无法识别的日期「2020年13月」", "「同学」无效"]:  # fmt: skip
        assert text in page.text, text
    assert db.exec(select(Expert)).all() == []


def test_import_refuses_a_file_that_is_not_excel_or_misses_columns(db, staff_client):
    page = preview(staff_client, b"\x00\x01not a workbook\xff")
    assert "无法识别该文件的格式" in page.text
    wb = Workbook()
    wb.active.append(["姓名", "职称"])
    wb.active.append(["张三", "教授"])
    buf = io.BytesIO()
    wb.save(buf)
    page = preview(staff_client, buf.getvalue())
    assert "缺少必需的列：工作单位" in page.text


def test_import_confirmation_must_carry_the_previewed_file(db, staff_client):
    response = staff_client.submit("/experts/import/confirm", {"payload": "AAAA", "sha256": "0" * 64})
    assert response.status_code == 200 and "导入内容无效或已过期" in response.text
    assert db.exec(select(Expert)).all() == []


def test_template_download_is_a_workbook_the_importer_reads(db, staff_client):
    response = staff_client.get("/experts/import/template.xlsx")
    assert response.status_code == 200
    page = preview(staff_client, response.content)
    assert "新增 <strong>1</strong> 位" in page.text and "含工作经历" in page.text


def test_cli_import_dry_run_real_run_and_errors(db, settings, monkeypatch, tmp_path):
    from reviewapp.cli import main

    monkeypatch.setenv("REVIEWAPP_DATABASE_URL", settings.database_url)
    good = tmp_path / "experts.xlsx"
    good.write_bytes(expert_workbook(jobs=JOB_ROWS))
    runner = CliRunner()
    result = runner.invoke(main, ["import", "experts", str(good), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "检查通过（未写入）：共 2 位专家：新增 2 位，更新 0 位" in result.output
    assert db.exec(select(Expert)).all() == []
    result = runner.invoke(main, ["import", "experts", str(good)])
    assert result.exit_code == 0 and "新增 2 位" in result.output
    reread(db)
    assert len(db.exec(select(Expert)).all()) == 2

    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(expert_workbook([["赵六", "", "", "", "", "", "", "", "x@"]]))
    result = runner.invoke(main, ["import", "experts", str(bad)])
    assert result.exit_code == 1
    assert "「专家信息」第 3 行「工作单位」：请填写工作单位。" in result.output
    assert "「专家信息」第 3 行「电子邮箱」：电子邮箱格式不正确。" in result.output


# --- bulk accounts --------------------------------------------------------------------------------


def test_bulk_accounts_show_passwords_once_and_force_a_change(db, staff_client, client):
    a = make_expert(db, name="高鹏", employer="济宁工程机械技术研究院")
    b = make_expert(db, name="罗晓东", employer="中国海洋大学")
    already = make_expert(db, name="已有账号")
    page = staff_client.submit("/experts/accounts", {"expert_id": [str(a.id), str(b.id)]})
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.text.count('data-testid="credential-slip"') == 2
    passwords = re.findall(r'data-testid="one-time-password">([^<]+)<', page.text)
    assert len(passwords) == 2
    reread(db)
    user_a = db.get(User, db.get(Expert, a.id).user_id)
    assert user_a.username == f"e{a.id:05d}" and user_a.role == "expert" and user_a.must_change_password
    assert user_a.display_name == "高鹏"

    # The password is nowhere in the audit log.
    log = " ".join(e.summary + e.after_json + e.before_json for e in db.exec(select(AuditEntry)))
    assert all(p not in log for p in passwords)
    assert "为 2 位专家创建账号" in log

    # Signing in with the slip leads to the password change first.
    from tests.conftest import csrf_from

    login_page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": user_a.username, "password": passwords[0], "_csrf_token": csrf_from(login_page.text)},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/account/password"

    # Experts that already have an account are skipped, and the list no longer offers them.
    again = staff_client.submit("/experts/accounts", {"expert_id": [str(a.id)]})
    assert "所选专家均无需创建账号" in again.text
    listing = staff_client.get("/experts")
    assert f'name="expert_id" value="{a.id}"' not in listing.text
    assert f'name="expert_id" value="{already.id}"' in listing.text


def test_bulk_accounts_need_a_selection(db, staff_client):
    response = staff_client.submit("/experts/accounts", {})
    assert "请先勾选需要创建账号的专家" in response.text
