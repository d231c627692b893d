"""Criteria versions through HTTP: the list, the htmx tree editor, freezing, copying, Excel export and import."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook
from sqlmodel import select

from reviewapp.audit import Actor
from reviewapp.audit.models import AuditEntry
from reviewapp.rounds import service
from reviewapp.rounds.models import CriteriaNode, CriteriaVersion, Round
from reviewapp.rounds.seeds import load_criteria_templates
from tests.conftest import reread
from tests.factories import make_criteria_version, make_round

HX = {"HX-Request": "true", "HX-Target": "criteria-tree"}


@pytest.fixture
def template(db) -> CriteriaVersion:  # type: ignore[no-untyped-def]
    load_criteria_templates(db)
    db.commit()
    return db.exec(select(CriteriaVersion).where(CriteriaVersion.is_template == True)).one()  # noqa: E712


def shape(db, version_id: int) -> list[tuple[str, list[str]]]:  # type: ignore[no-untyped-def]
    reread(db)
    return [(d.code, [i.code for i in d.items]) for d in service.criteria_tree(db, version_id).dimensions]


def row_version(db, version_id: int) -> str:  # type: ignore[no-untyped-def]
    reread(db)
    return str(db.get(CriteriaVersion, version_id).row_version)


def audit_actions(db) -> list[str]:  # type: ignore[no-untyped-def]
    reread(db)
    return [e.action for e in db.exec(select(AuditEntry).order_by(AuditEntry.seq))]


def node_id(db, version_id: int, code: str) -> int:  # type: ignore[no-untyped-def]
    reread(db)
    return db.exec(
        select(CriteriaNode.id).where(CriteriaNode.version_id == version_id, CriteriaNode.code == code)
    ).one()


def item(code: str, title: str, max_points: str = "10", step: str = "0.5", kind: str = "points", **extra) -> dict:  # type: ignore[no-untyped-def]
    return {"code": code, "title": title, "kind": kind, "max_points": max_points, "step": step, "guidance": "", **extra}


# --- list and template labelling ------------------------------------------------------------------


def test_list_labels_templates_and_shows_totals(staff_client, template, db):
    make_criteria_version(db, name="本省修订版")
    page = staff_client.get("/criteria")
    assert page.status_code == 200
    assert "先进级要素条件默认模板（2025）" in page.text and ">模板</span>" in page.text
    assert "本省修订版" in page.text
    assert ">100</td>" in page.text
    only_templates = staff_client.get("/criteria?kind=template")
    assert "本省修订版" not in only_templates.text


def test_template_page_says_it_is_not_the_official_text_and_staff_cannot_edit_it(staff_client, template, db):
    page = staff_client.get(f"/criteria/{template.id}")
    assert "这是模板，不是官方原文" in page.text
    assert "模板只能由系统管理员修改" in page.text
    assert "/nodes/" not in page.text  # no edit, move or delete controls
    dim = node_id(db, template.id, "JB")
    response = staff_client.submit(
        f"/criteria/{template.id}/nodes/{dim}", {"code": "JB", "title": "改名", "row_version": "1"}, headers=HX
    )
    assert "模板只能由系统管理员修改" in response.text
    reread(db)
    assert db.get(CriteriaNode, dim).title == "基本要求"


def test_the_system_administrator_no_longer_reaches_the_criteria(admin_client, template, db):
    """三员分立: the system administrator, who once edited templates in place, does no reviewing work."""
    dim = node_id(db, template.id, "JB")
    response = admin_client.submit(
        f"/criteria/{template.id}/nodes/{dim}", {"code": "JB", "title": "基本条件", "row_version": "1"}, headers=HX
    )
    assert response.status_code == 403
    reread(db)
    assert db.get(CriteriaNode, dim).title == "基本要求"


# --- building a tree in the editor ----------------------------------------------------------------


def test_build_a_version_in_the_editor_with_running_totals(staff_client, db):
    created = staff_client.submit(
        "/criteria", {"name": "山东省先进级要素条件", "tier": "advanced"}, follow_redirects=False
    )
    assert created.status_code == 303
    vid = int(created.headers["location"].rsplit("/", 1)[1])
    assert "尚未添加任何维度和条目" in staff_client.get(f"/criteria/{vid}").text

    form = staff_client.get(f"/criteria/{vid}?edit=dim-new", headers=HX)
    assert "<html" not in form.text and "添加维度" in form.text
    r = staff_client.submit(
        f"/criteria/{vid}/nodes", {"code": "jb", "title": "基本要求", "row_version": "1"}, headers=HX
    )
    assert "<html" not in r.text and "共 1 个维度" in r.text
    jb = node_id(db, vid, "JB")
    add_item = staff_client.get(f"/criteria/{vid}?edit=item-new-{jb}", headers=HX)
    assert "添加条目" in add_item.text and 'value="0.5"' in add_item.text
    r = staff_client.submit(
        f"/criteria/{vid}/nodes",
        {**item("jb01", "企业规模", "6", "0.5"), "parent_id": str(jb), "row_version": "2"},
        headers=HX,
    )
    assert 'data-dimension-total="JB">6</strong>' in r.text
    r = staff_client.submit(
        f"/criteria/{vid}/nodes",
        {**item("jb02", "财务状况", "4.5", "1.5"), "parent_id": str(jb), "row_version": "3"},
        headers=HX,
    )
    assert 'data-dimension-total="JB">10.5</strong>' in r.text
    r = staff_client.submit(
        f"/criteria/{vid}/nodes",
        {
            **item("jb-g1", "近三年未发生重大安全、质量、环境事故", "", "", kind="gate"),
            "parent_id": str(jb),
            "row_version": "4",
        },
        headers=HX,
    )
    assert "否决项 1 个" in r.text and 'id="criteria-total">10.5</strong>' in r.text
    assert "不是 100 分" in r.text
    assert shape(db, vid) == [("JB", ["JB01", "JB02", "JB-G1"])]
    gate = db.get(CriteriaNode, node_id(db, vid, "JB-G1"))
    assert gate.kind == "gate" and gate.max_points == 0
    assert audit_actions(db).count("criteria.node_add") == 4
    assert "criteria.create" in audit_actions(db)


def test_without_htmx_an_edit_redirects_back_to_the_editor(staff_client, db):
    version = make_criteria_version(db)
    response = staff_client.submit(
        f"/criteria/{version.id}/nodes", {"code": "YY", "title": "运营管理", "row_version": "1"}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == f"/criteria/{version.id}"
    assert shape(db, version.id)[-1] == ("YY", [])


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (item("SC03", "条目", "10.3", "0.5"), "「满分」（10.3）应为「步长」（0.5）的整数倍"),
        (item("SC03", "条目", "十分", "0.5"), "「满分」应为数字"),
        (item("SC03", "条目", "", "0.5"), "分值项须填写「满分」"),
        (item("SC03", "条目", "5", "0"), "「步长」应大于 0"),
        (item("SC03", "条目", "-5", "1"), "「满分」应大于 0"),
        (item("SC03", "条目", "2000", "1"), "「满分」不能大于 1000"),
        (item("基本", "条目"), "「编码」只能由字母、数字"),
        (item("SC03", ""), "「名称」为必填项"),
        (item("SC03", "条目", kind="bonus"), "「类型」应为「分值」或「否决项」"),
        (item("SC01", "重复编码"), "编码 SC01 已被「在线智能检测」使用"),
        (item("JB", "与维度同编码"), "编码 JB 已被「基本要求」使用"),
    ],
)
def test_bad_item_values_come_back_in_the_form_and_nothing_is_saved(staff_client, db, values, message):
    version = make_criteria_version(db)
    sc = node_id(db, version.id, "SC")
    before = shape(db, version.id)
    response = staff_client.submit(
        f"/criteria/{version.id}/nodes", {**values, "parent_id": str(sc), "row_version": "1"}, headers=HX
    )
    assert response.status_code == 200
    assert message in response.text
    assert 'class="edit-row"' in response.text  # the form stays open with what was typed
    if values["title"]:
        assert f'value="{values["title"]}"' in response.text
    assert shape(db, version.id) == before
    assert row_version(db, version.id) == "1"


def test_a_stale_editor_is_refused_and_nothing_is_overwritten(staff_client, db):
    version = make_criteria_version(db)
    jb = node_id(db, version.id, "JB")
    first = staff_client.submit(
        f"/criteria/{version.id}/nodes", {"code": "A", "title": "甲", "row_version": "1"}, headers=HX
    )
    assert "共 3 个维度" in first.text
    # A second tab still holds row_version 1.
    second = staff_client.submit(
        f"/criteria/{version.id}/nodes/{jb}", {"code": "JB", "title": "被覆盖的名称", "row_version": "1"}, headers=HX
    )
    assert "该要素条件已被他人修改，请刷新后重试" in second.text
    reread(db)
    assert db.get(CriteriaNode, jb).title == "基本要求"
    moved = staff_client.submit(
        f"/criteria/{version.id}/nodes/{jb}/move", {"direction": "down", "row_version": "1"}, headers=HX
    )
    assert "已被他人修改" in moved.text
    assert shape(db, version.id)[0][0] == "JB"


def test_edit_an_item_and_move_it_to_another_dimension(staff_client, db):
    version = make_criteria_version(db)
    jb01, sc = node_id(db, version.id, "JB01"), node_id(db, version.id, "SC")
    form = staff_client.get(f"/criteria/{version.id}?edit={jb01}", headers=HX)
    assert 'value="企业规模"' in form.text and "所属维度" in form.text
    response = staff_client.submit(
        f"/criteria/{version.id}/nodes/{jb01}",
        {**item("SC00", "企业规模与产能", "12", "1", guidance="看产能"), "parent_id": str(sc), "row_version": "1"},
        headers=HX,
    )
    assert "企业规模与产能" in response.text
    assert shape(db, version.id) == [("JB", ["JB-G1"]), ("SC", ["SC01", "SC02", "SC00"])]
    reread(db)
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "criteria.node_update")).one()
    assert json.loads(entry.before_json) == {
        "code": "JB01",
        "title": "企业规模",
        "max_points": "10",
        "step": "0.5",
        "guidance": "企业规模的评分指引",
        "dimension": "JB",
    }
    assert json.loads(entry.after_json)["dimension"] == "SC"


def test_reorder_dimensions_and_items(staff_client, db):
    version = make_criteria_version(db)
    sc, sc02 = node_id(db, version.id, "SC"), node_id(db, version.id, "SC02")
    staff_client.submit(f"/criteria/{version.id}/nodes/{sc}/move", {"direction": "up", "row_version": "1"}, headers=HX)
    assert [d for d, _ in shape(db, version.id)] == ["SC", "JB"]
    staff_client.submit(
        f"/criteria/{version.id}/nodes/{sc02}/move", {"direction": "up", "row_version": "2"}, headers=HX
    )
    assert shape(db, version.id)[0] == ("SC", ["SC02", "SC01"])
    # Moving the first one up changes nothing and writes no audit entry.
    staff_client.submit(f"/criteria/{version.id}/nodes/{sc}/move", {"direction": "up", "row_version": "3"}, headers=HX)
    assert audit_actions(db).count("criteria.node_move") == 2


def test_delete_an_item_and_a_dimension_with_its_items(staff_client, db):
    version = make_criteria_version(db)
    sc01, jb = node_id(db, version.id, "SC01"), node_id(db, version.id, "JB")
    r = staff_client.submit(f"/criteria/{version.id}/nodes/{sc01}/delete", {"row_version": "1"}, headers=HX)
    assert 'id="criteria-total">50</strong>' in r.text
    staff_client.submit(f"/criteria/{version.id}/nodes/{jb}/delete", {"row_version": "2"}, headers=HX)
    assert shape(db, version.id) == [("SC", ["SC02"])]
    reread(db)
    entry = db.exec(
        select(AuditEntry).where(AuditEntry.action == "criteria.node_delete").order_by(AuditEntry.seq.desc())
    ).first()  # type: ignore[attr-defined]
    assert [i["code"] for i in json.loads(entry.before_json)["items"]] == ["JB01", "JB-G1"]
    assert "及其下 2 个条目" in entry.summary


def test_version_name_tier_and_note_can_be_changed(staff_client, db):
    version = make_criteria_version(db)
    ok = staff_client.submit(
        f"/criteria/{version.id}/meta",
        {"name": "改后名称", "tier": "excellent", "note": "说明", "row_version": "1"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    reread(db)
    assert (db.get(CriteriaVersion, version.id).name, db.get(CriteriaVersion, version.id).tier) == (
        "改后名称",
        "excellent",
    )
    bad = staff_client.submit(f"/criteria/{version.id}/meta", {"name": "", "tier": "excellent", "row_version": "2"})
    assert "「版本名称」为必填项" in bad.text


def test_new_version_form_validates(staff_client, db):
    response = staff_client.submit("/criteria", {"name": "", "tier": "advanced"})
    assert "「版本名称」为必填项" in response.text
    reread(db)
    assert db.exec(select(CriteriaVersion)).all() == []


# --- freezing, copying, deleting ------------------------------------------------------------------


def test_editing_a_frozen_version_creates_a_new_version_and_the_round_keeps_the_frozen_one(staff_client, db):
    version = make_criteria_version(db, name="甲批次要素条件")
    rnd = make_round(db, criteria_version_id=version.id)
    service.mark_scoring_started(db, actor=Actor.system(), round_id=rnd.id)
    db.commit()
    page = staff_client.get(f"/criteria/{version.id}")
    assert "此版本已冻结" in page.text and "修改会保存到自动复制出的新版本中" in page.text
    sc01 = node_id(db, version.id, "SC01")
    response = staff_client.submit(
        f"/criteria/{version.id}/nodes/{sc01}",
        {**item("SC01", "在线智能检测", "45", "1"), "row_version": row_version(db, version.id)},
        headers=HX,
    )
    new_location = response.headers["hx-redirect"]
    new_id = int(new_location.rsplit("/", 1)[1])
    assert new_id != version.id
    reread(db)
    copy = db.get(CriteriaVersion, new_id)
    assert copy.based_on_id == version.id and copy.frozen_at is None and copy.name == "甲批次要素条件（修订版）"
    assert service.criteria_tree(db, new_id).total == Decimal("95")
    assert service.criteria_tree(db, version.id).total == Decimal("100")
    assert db.get(Round, rnd.id).criteria_version_id == version.id
    landing = staff_client.get(new_location)
    assert "修改已保存到新复制的版本中" in landing.text
    # Without htmx the browser is redirected the same way.
    plain = staff_client.submit(
        f"/criteria/{version.id}/nodes",
        {"code": "YY", "title": "运营管理", "row_version": row_version(db, version.id)},
        follow_redirects=False,
    )
    assert plain.status_code == 303 and plain.headers["location"] != f"/criteria/{version.id}"
    assert shape(db, version.id) == [("JB", ["JB01", "JB-G1"]), ("SC", ["SC01", "SC02"])]


def test_copy_a_version(staff_client, db, template):
    response = staff_client.submit(f"/criteria/{template.id}/copy", {}, follow_redirects=False)
    new_id = int(response.headers["location"].rsplit("/", 1)[1])
    reread(db)
    copy = db.get(CriteriaVersion, new_id)
    assert copy.name == "先进级要素条件默认模板（2025）（副本）" and not copy.is_template
    assert shape(db, new_id) == shape(db, template.id)
    assert "不是官方原文" in copy.note
    # The copy of a template is editable by staff.
    jb = node_id(db, new_id, "JB")
    r = staff_client.submit(
        f"/criteria/{new_id}/nodes/{jb}", {"code": "JB", "title": "基本条件", "row_version": "1"}, headers=HX
    )
    assert "基本条件" in r.text


def test_delete_only_unused_versions(staff_client, db, template):
    spare = make_criteria_version(db, name="废弃草稿")
    used = make_criteria_version(db, name="在用版本")
    make_round(db, criteria_version_id=used.id)
    spare_id, used_id = spare.id, used.id
    assert "删除此版本" in staff_client.get(f"/criteria/{spare.id}").text
    assert "删除此版本" not in staff_client.get(f"/criteria/{used.id}").text
    ok = staff_client.submit(f"/criteria/{spare.id}/delete", {"row_version": "1"}, follow_redirects=False)
    assert ok.headers["location"] == "/criteria"
    refused = staff_client.submit(f"/criteria/{used.id}/delete", {"row_version": "1"})
    assert "正在使用该版本，不能删除" in refused.text
    template_refused = staff_client.submit(f"/criteria/{template.id}/delete", {"row_version": "1"})
    assert "模板只能由系统管理员删除" in template_refused.text
    reread(db)
    remaining = set(db.exec(select(CriteriaVersion.id)))
    assert spare_id not in remaining and used_id in remaining
    assert "criteria.delete" in audit_actions(db)
    assert staff_client.get(f"/criteria/{spare_id}").status_code == 404


def test_criteria_tree_gives_dimensions_and_items_in_order_with_totals(db):
    version = make_criteria_version(db)
    tree = service.criteria_tree(db, version.id)
    assert [d.title for d in tree.dimensions] == ["基本要求", "生产作业"]
    assert [(i.code, i.kind) for i in tree.dimensions[0].items] == [("JB01", "points"), ("JB-G1", "gate")]
    assert [d.total for d in tree.dimensions] == [Decimal("10"), Decimal("90")]
    assert tree.total == Decimal("100") and tree.gate_count == 1 and tree.item_count == 4


# --- Excel ----------------------------------------------------------------------------------------


def upload(browser, content: bytes, filename: str = "要素条件.xlsx", name: str = "导入版本", tier: str = "advanced"):  # type: ignore[no-untyped-def]
    return browser.submit(
        "/criteria/import",
        {"name": name, "tier": tier, "note": ""},
        files={"file": (filename, content, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")},
    )


def commit_from_preview(browser, preview_html: str):  # type: ignore[no-untyped-def]
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', preview_html))
    data = {k: html.unescape(v) for k, v in fields.items() if k != "_csrf_token"}
    return browser.submit("/criteria/import/commit", data, follow_redirects=False)


def office_workbook(rows: list[list[object]], *, merge_dimensions: bool = True) -> bytes:
    """A criteria sheet as a provincial office makes it: title and unit rows, wrapped headers with notes."""
    wb = Workbook()
    ws = wb.active
    ws.append(["山东省先进级智能工厂要素条件（评分表）"])
    ws.merge_cells("A1:H1")
    ws.append(["报送单位（盖章）：山东省工业和信息化厅"])
    ws.append(["维度\n编码", "维度名称", "条目编码", "条目名称", "类型\n（分值/否决项）", "满分¹", "步长", "评分指引"])
    start = ws.max_row + 1
    for r in rows:
        ws.append(r)
    if merge_dimensions:
        # Merge each run of identical dimension cells, as offices do.
        end = ws.max_row
        run_start = start
        for r in range(start + 1, end + 2):
            if r > end or ws.cell(row=r, column=1).value != ws.cell(row=run_start, column=1).value:
                if r - 1 > run_start:
                    for col in ("A", "B"):
                        ws.merge_cells(f"{col}{run_start}:{col}{r - 1}")
                run_start = r
    ws.append(["注：满分合计 100 分。"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


GOOD_ROWS: list[list[object]] = [
    ["JB", "基本要求", "ＪＢ０１", "企业规模", "分值", "１０", "0.5", "规上工业企业"],
    ["JB", "基本要求", "JB02", "财务状况", "分值", 10, 1, ""],
    ["JB", "基本要求", "JB-G1", "近三年未发生重大安全、质量、环境事故", "一票否决", None, None, "发生即否决"],
    ["SC", "生产作业", "SC01", "在线智能检测", "分值", 40, 0.5, "关键工序在线检测"],
    ["SC", "生产作业", "SC02", "设备运行监控", "分值", 40, "0.5", ""],
]


def test_import_an_office_sheet_with_title_rows_merged_cells_and_full_width_text(staff_client, db):
    preview = upload(staff_client, office_workbook(GOOD_ROWS))
    assert preview.status_code == 200
    assert "检查通过：2 个维度、5 个条目，分值合计 100 分" in preview.text
    assert "确认导入" in preview.text
    reread(db)
    assert db.exec(select(CriteriaVersion)).all() == []  # nothing saved by the preview
    done = commit_from_preview(staff_client, preview.text)
    assert done.status_code == 303
    vid = int(done.headers["location"].rsplit("/", 1)[1])
    assert shape(db, vid) == [("JB", ["JB01", "JB02", "JB-G1"]), ("SC", ["SC01", "SC02"])]
    tree = service.criteria_tree(db, vid)
    assert tree.total == Decimal("100") and tree.dimensions[0].items[0].guidance == "规上工业企业"
    reread(db)
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "criteria.import")).one()
    assert json.loads(entry.after_json)["items"] == 5 and "要素条件.xlsx" in entry.summary


def test_a_row_without_its_dimension_is_reported_not_guessed(staff_client, db):
    rows = [*GOOD_ROWS, ["", "", "SC03", "无维度的条目", "分值", 5, 1, ""]]
    preview = upload(staff_client, office_workbook(rows, merge_dimensions=False))
    assert "未导入任何内容" in preview.text and "确认导入" not in preview.text
    assert re.search(r'<td class="num">9</td><td>维度编码</td><td>「编码」为必填项', preview.text)


def test_every_bad_row_and_field_is_listed_and_nothing_is_imported(staff_client, db):
    rows: list[list[object]] = [
        ["JB", "基本要求", "JB01", "企业规模", "分值", "十分", 0.5, ""],
        ["JB", "基本要求", "JB02", "", "评级", 5, 1, ""],
        ["JB", "基本要求", "JB01", "重复", "分值", 5, 0.5, ""],
        ["SC", "生产作业", "SC01", "步长不整", "分值", 5.3, 0.5, ""],
        ["SC", "生产作业", "SC-G", "否决带分", "否决项", 5, None, ""],
    ]
    preview = upload(staff_client, office_workbook(rows, merge_dimensions=False)[:])
    text = preview.text
    assert "未导入任何内容" in text and "确认导入" not in text
    for row_number, column in [(4, "满分"), (5, "条目名称"), (5, "类型"), (6, "条目编码"), (7, "满分"), (8, "满分")]:
        assert re.search(rf'<td class="num">{row_number}</td><td>{column}</td>', text), (row_number, column)
    assert "「满分」应为数字，不能是「十分」" in text
    assert "编码 JB01 与第 4 行的条目编码重复" in text
    reread(db)
    assert db.exec(select(CriteriaVersion)).all() == []


def docx_like_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("要素条件.pdf", b"%PDF-1.4", "请上传 Excel（.xlsx/.xls）、WPS 表格（.et）、.ods 或 CSV 格式的文件"),
        ("要素条件.csv", "维度编码,维度名称\nJB,基本要求\n".encode(), "缺少必需的列"),
        ("要素条件.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "无法读取该表格文件"),
        ("要素条件.xlsx", b"\x00\x01 this is not a spreadsheet", "无法识别该文件的格式"),
        ("要素条件.xlsx", docx_like_zip(), "这是 Word 文档（.docx）"),
        ("要素条件.xlsx", b"", "所选文件是空的"),
    ],
)
def test_wrong_files_are_refused_in_chinese(staff_client, db, filename, content, message):
    response = upload(staff_client, content, filename=filename)
    assert response.status_code == 200
    assert message in response.text
    reread(db)
    assert db.exec(select(CriteriaVersion)).all() == []


def test_a_sheet_missing_columns_or_the_file_is_refused(staff_client):
    wb = Workbook()
    wb.active.append(["维度编码", "维度名称", "条目名称"])
    wb.active.append(["JB", "基本要求", "企业规模"])
    buf = io.BytesIO()
    wb.save(buf)
    response = upload(staff_client, buf.getvalue())
    assert "缺少必需的列：条目编码、类型、满分" in response.text
    no_file = staff_client.submit(
        "/criteria/import", {"name": "x", "tier": "advanced"}, files={"other": ("a.txt", b"x")}
    )
    assert "请选择要导入的 Excel 文件" in no_file.text
    no_name = upload(staff_client, buf.getvalue(), name="")
    assert "「版本名称」为必填项" in no_name.text


def test_a_tampered_or_broken_commit_is_refused(staff_client, db):
    bad_rows = [
        [
            3,
            {
                "维度编码": "JB",
                "维度名称": "基本要求",
                "条目编码": "A1",
                "条目名称": "甲",
                "类型": "分值",
                "满分": "3.3",
            },
        ]
    ]
    tampered = staff_client.submit(
        "/criteria/import/commit",
        {"name": "篡改", "tier": "advanced", "payload": json.dumps(bad_rows, ensure_ascii=False)},
    )
    assert "表格中有 1 处问题，未导入任何内容" in tampered.text
    broken = staff_client.submit("/criteria/import/commit", {"name": "坏", "tier": "advanced", "payload": "{not json"})
    assert "导入内容无效，请重新上传文件" in broken.text
    reread(db)
    assert db.exec(select(CriteriaVersion)).all() == []


def test_export_reads_back_and_reimports_to_the_same_tree(staff_client, db, template):
    exported = staff_client.get(f"/criteria/{template.id}/export.xlsx")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in exported.headers["content-disposition"]
    ws = load_workbook(io.BytesIO(exported.content)).active
    assert "模板" in ws["A1"].value
    assert [c.value for c in ws[2]][:8] == [
        "维度编码",
        "维度名称",
        "条目编码",
        "条目名称",
        "类型（分值/否决项）",
        "满分",
        "步长",
        "评分指引",
    ]
    assert ws.max_row == 2 + 28
    preview = upload(staff_client, exported.content, filename="导出.xlsx", name="再导入")
    assert "检查通过：6 个维度、28 个条目，分值合计 100 分" in preview.text
    done = commit_from_preview(staff_client, preview.text)
    vid = int(done.headers["location"].rsplit("/", 1)[1])
    assert shape(db, vid) == shape(db, template.id)
    original = service.criteria_tree(db, template.id)
    again = service.criteria_tree(db, vid)
    assert [(i.title, i.kind, i.max_points, i.step, i.guidance) for i in again.items] == [
        (i.title, i.kind, i.max_points, i.step, i.guidance) for i in original.items
    ]
    assert [d.guidance for d in again.dimensions] == [d.guidance for d in original.dimensions]


def test_blank_import_template_has_the_headers(staff_client):
    response = staff_client.get("/criteria/import/template.xlsx")
    ws = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in ws[2]][:3] == ["维度编码", "维度名称", "条目编码"]
    page = staff_client.get("/criteria/import")
    assert "类型（分值/否决项）" in page.text and 'enctype="multipart/form-data"' in page.text
