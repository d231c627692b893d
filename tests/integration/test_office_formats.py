"""Every importer reads the formats offices save lists in: .xls, .et, .ods and CSV (GBK, GB18030, UTF-8 with or
without BOM) import the same rows as the .xlsx of the same list."""

from __future__ import annotations

import io
import time

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from reviewapp.applications.models import Application, ApplicationParty, ApplicationScenario, Enterprise
from reviewapp.applications.sample_file import OFFICIAL_COLUMNS, official_workbook
from reviewapp.audit.models import AuditEntry
from reviewapp.excel import ExcelReadError, read_table
from reviewapp.panels.models import Expert, ExpertEmployment
from reviewapp.rounds.models import CriteriaNode, CriteriaVersion
from tests.conftest import reread
from tests.factories import make_round, sample_rows
from tests.integration.test_applications_import import EXTRA, import_file, upload
from tests.integration.test_panels_experts import EXPERT_ROWS, JOB_ROWS, confirm, expert_workbook, preview
from tests.integration.test_rounds_criteria import GOOD_ROWS, commit_from_preview, office_workbook
from tests.integration.test_rounds_criteria import upload as upload_criteria
from tests.office_formats import to_csv, to_ods, to_xls

FORMATS = {
    "名单.xls": to_xls,
    "名单.et": to_xls,  # WPS's own .et is the same compound (BIFF) file
    "名单.ods": to_ods,
    "名单-GBK.csv": lambda data: to_csv(data, encoding="gbk"),
    "名单-GB18030.csv": lambda data: to_csv(data, encoding="gb18030"),
    "名单-UTF8-BOM.csv": lambda data: to_csv(data, encoding="utf-8-sig"),
    "名单-UTF8.csv": lambda data: to_csv(data, encoding="utf-8"),
}
MERGES_KEPT = {"名单.xls", "名单.et", "名单.ods"}  # CSV keeps a merged cell's value in its first cell only


def office_list(db, rnd, *, merges: bool) -> bytes:  # type: ignore[no-untyped-def]
    """The official 名单汇总表 as offices send it: merged title, hidden first sheet (drop-down lists), full-width
    digits, a score typed as text, footnote rows, and the provider's header over two rows."""
    rows = sample_rows(db, rnd, 6)
    rows[0]["统一社会信用代码"] = rows[0]["统一社会信用代码"].translate(
        {ord(c): ord(c) + 0xFEE0 for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
    )
    rows[1]["能力成熟度自评得分"] = str(rows[1]["能力成熟度自评得分"])
    rows[2]["能力成熟度自评得分"] = float(rows[2]["能力成熟度自评得分"])
    wb = load_workbook(io.BytesIO(official_workbook(rows, columns=OFFICIAL_COLUMNS + EXTRA, merge_enterprise=merges)))
    ws = wb.worksheets[0]
    # 解决方案供应商 as two columns under one header merged across them, the rest merged down two rows.
    provider = list(OFFICIAL_COLUMNS + EXTRA).index("解决方案供应商") + 1
    ws.insert_cols(provider + 1)
    ws.insert_rows(4)
    for r in range(5, ws.max_row + 1):
        text = ws.cell(row=r, column=provider).value
        if text and "（" in str(text):
            name, _, code = str(text).partition("（")
            ws.cell(row=r, column=provider, value=name)
            ws.cell(row=r, column=provider + 1, value=code.rstrip("）"))
    ws.cell(row=4, column=provider, value="名称")
    ws.cell(row=4, column=provider + 1, value="统一社会信用代码")
    ws.merge_cells(start_row=3, start_column=provider, end_row=3, end_column=provider + 1)
    if merges:
        for c in range(1, ws.max_column + 1):
            if c not in (provider, provider + 1):
                ws.merge_cells(start_row=3, start_column=c, end_row=4, end_column=c)
    lists = wb.create_sheet("下拉选项", 0)
    lists.sheet_state = "hidden"
    for value in ("原材料", "电子信息", "装备制造", "消费品"):
        lists.append([value])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def imported(db, rnd) -> list[tuple]:  # type: ignore[type-arg]
    reread(db)
    result = []
    for app in db.exec(select(Application).where(Application.round_id == rnd.id).order_by(Application.factory_name)):
        ent = db.get(Enterprise, app.enterprise_id)
        scenarios = db.exec(
            select(ApplicationScenario.name)
            .where(ApplicationScenario.application_id == app.id)
            .order_by(ApplicationScenario.id)
        ).all()
        parties = db.exec(
            select(ApplicationParty.name, ApplicationParty.credit_code).where(ApplicationParty.application_id == app.id)
        ).all()
        result.append(
            (ent.name, ent.credit_code, ent.city, ent.nature, app.factory_name, str(app.maturity_score), ent.industry_mid, ent.size_type, tuple(scenarios),
             tuple(parties))
        )  # fmt: skip
    return result


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_each_format_imports_the_same_applications_as_the_xlsx(staff_client, db, name):
    merges = name in MERGES_KEPT
    xlsx_round, other_round = make_round(db), make_round(db)
    data = office_list(db, xlsx_round, merges=merges)
    import_file(staff_client, xlsx_round, data, "名单.xlsx")
    expected = imported(db, xlsx_round)
    assert len(expected) == 6 and all(row[-1] for row in expected), "provider read from the two-row header"
    assert expected[0][1].isascii(), "full-width digits stored half-width"

    import_file(staff_client, other_round, FORMATS[name](data), name)
    assert imported(db, other_round) == expected


@pytest.mark.parametrize("name", ["专家.xls", "专家.ods", "专家-GBK.csv", "专家-UTF8-BOM.csv"])
def test_each_format_imports_the_same_experts_as_the_xlsx(staff_client, db, name):
    convert = {"xls": to_xls, "ods": to_ods}.get(name.rsplit(".", 1)[1])
    data = expert_workbook(jobs=None if convert is None else JOB_ROWS)
    converted = to_csv(data, encoding="gbk" if "GBK" in name else "utf-8-sig") if convert is None else convert(data)
    page = staff_client.submit(
        "/experts/import", files={"file": (name, converted, "application/octet-stream")}
    )  # fmt: skip
    assert "新增 <strong>2</strong> 位" in page.text, page.text[-2000:]
    assert confirm(staff_client, page.text).status_code == 303
    reread(db)
    experts = {e.name: (e.id_number_hint, e.employer, e.employer_credit_code, e.title) for e in db.exec(select(Expert))}
    assert experts == {row[0]: (row[1], row[2], row[3], row[4]) for row in EXPERT_ROWS}
    if convert is not None:
        assert len(db.exec(select(ExpertEmployment)).all()) == 3, "the second sheet is read too"

    # The .xlsx of the same list changes nothing.
    confirm(staff_client, preview(staff_client, data).text)
    reread(db)
    summaries = [e.summary for e in db.exec(select(AuditEntry).where(AuditEntry.action == "expert.import"))]
    assert summaries[-1] == "导入专家：新增 0 位，更新 0 位，未变化 2 位"


@pytest.mark.parametrize("name", ["要素条件.xls", "要素条件.ods", "要素条件.csv"])
def test_each_format_imports_the_same_criteria_as_the_xlsx(staff_client, db, name):
    def items(version_name: str) -> list[tuple]:  # type: ignore[type-arg]
        reread(db)
        version = db.exec(select(CriteriaVersion).where(CriteriaVersion.name == version_name)).one()
        rows = db.exec(select(CriteriaNode).where(CriteriaNode.version_id == version.id).order_by(CriteriaNode.id))
        return [(i.code, i.title, i.kind, str(i.max_points), str(i.step), i.guidance) for i in rows]

    merges = not name.endswith(".csv")
    data = office_workbook(GOOD_ROWS, merge_dimensions=merges)
    commit_from_preview(staff_client, upload_criteria(staff_client, data, name="从 xlsx").text)
    converted = (
        to_csv(data, encoding="gbk") if name.endswith(".csv") else FORMATS[f"名单.{name.rsplit('.', 1)[1]}"](data)
    )
    commit_from_preview(staff_client, upload_criteria(staff_client, converted, filename=name, name="从其他格式").text)
    assert items("从其他格式") == items("从 xlsx") and len(items("从 xlsx")) == 7


def _docx() -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_docx(), "这是 Word 文档（.docx），不是表格文件"),
        (bytes(range(256)) * 8, "无法识别该文件的格式"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 8, "无法读取该表格文件"),
    ],
)
def test_a_file_that_is_no_spreadsheet_gets_a_chinese_message(staff_client, db, data, message):
    rnd = make_round(db)
    page, commit_url = upload(staff_client, rnd, data, "名单.xls")
    assert commit_url is None and message in page.text
    with pytest.raises(ExcelReadError, match=message):
        read_table(data, columns={"序号": ()}, required=["序号"])


def test_a_5000_row_xls_reads_within_the_xlsx_budget(db):
    rnd = make_round(db)
    rows = sample_rows(db, rnd, 5000)
    wb = load_workbook(io.BytesIO(official_workbook(rows, columns=OFFICIAL_COLUMNS + EXTRA)))
    data_xlsx = io.BytesIO()
    wb.save(data_xlsx)
    timings = {}
    for label, data in {"xlsx": data_xlsx.getvalue(), "xls": to_xls(wb)}.items():
        from reviewapp.applications.import_sheet import COLUMNS, REQUIRED_COLUMNS

        start = time.perf_counter()
        table = read_table(data, columns=COLUMNS, required=REQUIRED_COLUMNS)
        timings[label] = time.perf_counter() - start
        assert len(table.rows) == 5000
    assert timings["xls"] <= max(2 * timings["xlsx"], 1.0), timings
