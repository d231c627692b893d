"""The official Excel exports of a round through HTTP and the CLI: headers and titles as the official tables, values
(one-decimal scores, priority order, every reason for the order), the 专家评分表 archive files, the raw-score file
from which the ranking is recomputed exactly, guards and the audit log."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import unquote

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlmodel import Session, select

from reviewapp.applications import import_sheet
from reviewapp.applications.models import Application, ApplicationScenario, Enterprise
from reviewapp.audit import Actor
from reviewapp.audit.models import AuditEntry
from reviewapp.auth.models import Role
from reviewapp.cli import main
from reviewapp.excel import read_table
from reviewapp.panels.models import Conflict, Expert, Panel
from reviewapp.ranking import decisions, raw_score_file, recommendations
from reviewapp.rounds.models import Round
from reviewapp.scoring.models import ItemScore, ScoreSheet
from tests.conftest import reread
from tests.factories import make_application, make_enterprise, make_scored_panel

ACTOR = Actor.system("测试")
CHAIR_MOVE = "示范带动作用突出，组内一致同意前移"
LIST_MOVE = "地市推荐意见优先，经研究前移"
PANEL_OPINION = "本组项目整体水平较高，同意按上述顺序推荐。"


@dataclass
class World:
    rnd: Round
    panel: Panel
    apps: dict[str, Application]  # by letter
    experts: list[Expert]


def _world(db: Session) -> World:
    """Five applications scored by five experts; E's fifth expert is conflicted (回避) with D.

    A 90/88/86/85/70 → trimmed 86.333… (shown 86.3; the 70 is an outlier), C and E 85 (tied: 申报顺序 decides),
    B 80 (the chair moves it to the top with a reason), D about 71 (not recommended)."""
    totals = {
        "A": [90, 88, 86, 85, 70],
        "B": [80, 80, 80, 80, 80],
        "C": [85, 85, 85, 85, 85],
        "D": [70, 72, 71, 69, 73],
        "E": [85, 85, 85, 85, 85],
    }
    rnd, panel, apps, experts = make_scored_panel(db, totals=list(totals.values()))
    by_letter = dict(zip(totals, apps, strict=True))
    # D: the fifth expert is conflicted and has no sheet.
    d = by_letter["D"]
    sheet = db.exec(
        select(ScoreSheet).where(ScoreSheet.application_id == d.id, ScoreSheet.expert_id == experts[4].id)
    ).one()
    for item in db.exec(select(ItemScore).where(ItemScore.sheet_id == sheet.id)):
        db.delete(item)
    db.delete(sheet)
    db.add(
        Conflict(
            round_id=rnd.id,
            expert_id=experts[4].id,
            application_id=d.id,
            rule="declared_relation",
            evidence="近亲属在该企业任职",
        )
    )
    cities = {"A": "济南市", "B": "青岛市", "C": "济南市", "D": "烟台市", "E": "淄博市"}
    for letter, app in by_letter.items():
        enterprise = db.get(Enterprise, app.enterprise_id)
        enterprise.city = cities[letter]
        enterprise.industry_group = "电子信息" if letter == "E" else "装备制造"
        db.add(enterprise)
        for order, name in enumerate(("智能在线检测", "精益生产管理", "供应链协同"), start=1):
            db.add(
                ApplicationScenario(
                    application_id=app.id, name=f"{name}{letter}" if order == 3 else name, sort_order=order
                )
            )
    db.commit()

    chair = experts[0]
    for letter, app in by_letter.items():
        decisions.save_decision(
            db,
            actor=ACTOR,
            chair=chair,
            panel_id=panel.id,
            application_id=app.id,
            recommend=letter != "D",
            group_opinion=f"{letter}项目专家组意见：场景建设完整。",
            row_version=0,
        )
    decisions.move_application(
        db, actor=ACTOR, chair=chair, panel_id=panel.id, application_id=by_letter["B"].id, position=1, reason=CHAIR_MOVE
    )
    decisions.save_panel_opinion(
        db, actor=ACTOR, chair=chair, panel_id=panel.id, opinion=PANEL_OPINION, row_version=panel.row_version
    )
    decisions.finalize_panel(db, actor=ACTOR, chair=chair, panel_id=panel.id, row_version=panel.row_version)
    db.commit()
    return World(rnd, panel, by_letter, experts)


@pytest.fixture
def world(db: Session) -> World:
    return _world(db)


def _download(client, url: str, *, filename: str | None = None):  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200, response.text[:500]
    disposition = unquote(response.headers["content-disposition"])
    if filename is not None:
        assert disposition.endswith(filename), disposition
    return response


def _workbook(response):  # type: ignore[no-untyped-def]
    return load_workbook(io.BytesIO(response.content))


def _header_row(ws, first: str) -> int:  # type: ignore[no-untyped-def]
    return next(r for r in range(1, 10) if ws.cell(row=r, column=1).value == first)


def _rows(ws, header_row: int) -> list[list]:  # type: ignore[no-untyped-def]
    """Data rows under the header: lines whose first cell is filled and not merged (notes are merged)."""
    merged = {m.min_row for m in ws.merged_cells.ranges}
    return [
        [c.value for c in row]
        for row in ws.iter_rows(min_row=header_row + 1)
        if row[0].row not in merged and any(c.value is not None for c in row)
    ]


def _notes(ws, header_row: int) -> list[str]:  # type: ignore[no-untyped-def]
    rows = sorted(m.min_row for m in ws.merged_cells.ranges if m.min_row > header_row)
    return [ws.cell(row=r, column=1).value for r in rows]


def _name(db: Session, app: Application) -> str:
    return db.get(Enterprise, app.enterprise_id).name


def _assert_print_setup(ws, header_row: int) -> None:  # type: ignore[no-untyped-def]
    assert ws.freeze_panes == f"A{header_row + 1}"
    assert ws.print_title_rows == f"${header_row}:${header_row}"
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert max(d.width for d in ws.column_dimensions.values()) >= 24  # names and opinions get room


# --- 推荐汇总表 -----------------------------------------------------------------------------------------------


def test_recommendation_list_in_priority_order_with_scores_reasons_and_counts(world, db, staff_client):
    w = world
    recommendations.move_in_list(
        db, actor=ACTOR, round_id=w.rnd.id, application_id=w.apps["C"].id, position=1, reason=LIST_MOVE, row_version=0
    )
    db.commit()

    response = _download(
        staff_client,
        f"/rounds/{w.rnd.id}/exports/recommendations",
        filename="2026年度先进级智能工厂遴选-先进级智能工厂推荐汇总表.xlsx",
    )
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    ws = _workbook(response).active
    assert ws["A1"].value == "先进级智能工厂推荐汇总表"
    assert ws["A2"].value == "报送单位（盖章）："
    header = _header_row(ws, "推荐顺序")
    assert [c.value for c in ws[header]] == [
        "推荐顺序",
        "地市",
        "企业名称",
        "工厂名称",
        "项目名称",
        "所属行业",
        "能力成熟度自评得分",
        "专家评审得分",
        "专家组",
        "专家组意见",
        "说明",
    ]
    _assert_print_setup(ws, header)
    rows = _rows(ws, header)
    names = [r[2] for r in rows]
    # Staff moved C to the top; then the chair's order: B (moved), A, E (C's tie partner).
    assert names == [_name(db, w.apps[x]) for x in "CBAE"]
    assert [r[0] for r in rows] == [1, 2, 3, 4]
    by_name = {r[2]: r for r in rows}
    a_row = by_name[_name(db, w.apps["A"])]
    assert a_row[7] == pytest.approx(86.3) and a_row[1] == "济南市"
    assert ws.cell(row=header + 3, column=8).number_format == "0.0"
    assert by_name[_name(db, w.apps["B"])][7] == 80
    assert f"推荐顺序调整：{LIST_MOVE}" in by_name[_name(db, w.apps["C"])][10]
    assert f"专家组调整排序：{CHAIR_MOVE}" in by_name[_name(db, w.apps["B"])][10]
    assert "同分，按申报顺序排序" in by_name[_name(db, w.apps["E"])][10]
    assert by_name[_name(db, w.apps["A"])][9] == "A项目专家组意见：场景建设完整。"
    assert _name(db, w.apps["D"]) not in names  # not recommended
    notes = _notes(ws, header)
    assert "按地市统计：济南市 2 个；青岛市 1 个；淄博市 1 个（合计 4 个）" in notes
    assert "按所属行业统计：装备制造 3 个；电子信息 1 个（合计 4 个）" in notes


def test_name_list_has_the_official_columns_footnotes_and_reads_back_with_the_import(world, db, staff_client):
    w = world
    response = _download(
        staff_client,
        f"/rounds/{w.rnd.id}/exports/list",
        filename="2026年度先进级智能工厂遴选-基础级、先进级智能工厂名单汇总表.xlsx",
    )
    ws = _workbook(response).active
    assert ws["A1"].value == "基础级、先进级智能工厂名单汇总表"
    assert ws["A2"].value == "报送单位（盖章）："
    assert [c.value for c in ws[3]] == [
        "序号",
        "企业名称",
        "工厂名称",
        "能力成熟度自评得分",
        "工厂级别（基础级、先进级）",
        "所属行业¹",
        "企业性质²",
        "企业类型³",
        "行业中类⁴",
        "行业小类⁴",
        "智能制造典型场景（列举场景名称）",
    ]
    _assert_print_setup(ws, 3)
    rows = _rows(ws, 3)
    assert [r[1] for r in rows] == [_name(db, w.apps[x]) for x in "BACE"]
    first = rows[0]
    assert first[0] == 1 and first[3] == 2.5 and first[4] == "先进级"
    assert first[5:10] == ["装备制造", "民营企业", "中型企业", "341", "3411"]
    assert first[10] == "智能在线检测、精益生产管理、供应链协同B"
    notes = _notes(ws, 3)
    assert notes[0].startswith("¹ 所属行业请填写：原材料、电子信息、装备制造、消费品")
    assert notes[3].startswith("⁴ 行业中类、行业小类参考《国民经济行业分类》")
    # The file is the same 名单汇总表 that the application import reads.
    table = read_table(response.content, columns=import_sheet.COLUMNS, required=import_sheet.REQUIRED_COLUMNS)
    assert [r.values["企业名称"] for r in table.rows] == [r[1] for r in rows]
    assert table.unit_line.startswith("报送单位")


def test_lists_say_when_panels_are_not_finalized(db, staff_client):
    rnd, panel, apps, experts = make_scored_panel(db, totals=[[80, 81, 82]])
    response = _download(staff_client, f"/rounds/{rnd.id}/exports/recommendations")
    ws = _workbook(response).active
    texts = [ws.cell(row=r, column=1).value or "" for r in range(1, 6)]
    assert any(t.startswith("注意：尚有 1 个专家组未定稿") for t in texts)
    assert _rows(ws, _header_row(ws, "推荐顺序")) == []


# --- 专家评分汇总表 --------------------------------------------------------------------------------------------


def test_panel_score_summary_shows_each_expert_conflicts_aggregate_and_decisions(world, db, staff_client):
    w = world
    response = _download(
        staff_client,
        f"/rounds/{w.rnd.id}/exports/panel-scores?panel={w.panel.id}",
        filename=f"2026年度先进级智能工厂遴选-{w.panel.name}-专家评分汇总表.xlsx",
    )
    ws = _workbook(response).active
    assert ws["A1"].value == "专家评分汇总表"
    head = [ws.cell(row=r, column=1).value for r in range(2, 6)]
    assert any(
        "汇总方法：去掉一个最高分和一个最低分后平均" in (t or "") and f"组长：{w.experts[0].name}" in (t or "")
        for t in head
    )
    assert any((t or "").startswith("定稿时间：") for t in head)
    header = _header_row(ws, "排名")
    expert_names = [e.name for e in w.experts]
    assert [c.value for c in ws[header]] == [
        "排名",
        "序号",
        "企业名称",
        "工厂名称",
        *expert_names,
        "最高分",
        "最低分",
        "汇总得分（去掉一个最高分和一个最低分后平均）",
        "推荐意见",
        "说明",
    ]
    _assert_print_setup(ws, header)
    rows = _rows(ws, header)
    assert [r[2] for r in rows] == [_name(db, w.apps[x]) for x in "BACED"]
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5]
    a = rows[1]
    assert a[1] == w.apps["A"].serial
    assert a[4:9] == [90, 88, 86, 85, 70] and a[9:11] == [90, 70]
    assert a[11] == pytest.approx(86.3) and ws.cell(row=header + 2, column=12).number_format == "0.0"
    assert a[12] == "推荐"
    assert f"{w.experts[4].name}的评分低于其他专家平均 17.3 分" in a[13]
    b = rows[0]
    assert f"专家组调整排序（计算排名第4名）：{CHAIR_MOVE}" in b[13]
    d = rows[4]
    assert d[8] == "回避" and d[12] == "不推荐"
    assert "按算术平均计算" in d[13]  # four valid sheets: no trimming, said so
    notes = _notes(ws, header)
    assert f"专家组意见：{PANEL_OPINION}" in notes
    assert any(n.startswith("组长签字：") and "日期：" in n for n in notes)


def test_a_panel_of_another_round_or_a_missing_panel_is_refused(world, db, staff_client):
    other, other_panel, _apps, _experts = make_scored_panel(db, totals=[[80, 80, 80]], name="另一批次")
    response = staff_client.get(f"/rounds/{world.rnd.id}/exports/panel-scores?panel={other_panel.id}")
    assert response.status_code == 404 and f"本批次没有编号为 {other_panel.id} 的专家组" in response.text
    response = staff_client.get(f"/rounds/{world.rnd.id}/exports/panel-scores", follow_redirects=True)
    assert "导出专家评分汇总表需要指定专家组" in response.text
    response = staff_client.get(f"/rounds/{world.rnd.id}/exports/nonsense", follow_redirects=True)
    assert "没有「nonsense」这种导出" in response.text
    response = staff_client.get(f"/rounds/{world.rnd.id}/exports/panel-scores?panel=x1", follow_redirects=True)
    assert "专家组编号「x1」无效" in response.text


# --- 专家评分表 (per application) and the archive zip ------------------------------------------------------------


def test_individual_score_sheets_one_worksheet_per_expert_named_for_the_archive(world, db, staff_client):
    w = world
    a = w.apps["A"]
    enterprise = db.get(Enterprise, a.enterprise_id)
    a.project_name = "一期/二期:数字化车间*改造"
    db.add(a)
    db.commit()
    response = _download(
        staff_client,
        f"/rounds/{w.rnd.id}/exports/sheets?application={a.id}",
        filename=f"济南市-{a.serial}-{enterprise.name}-一期_二期_数字化车间_改造.xlsx",
    )
    wb = _workbook(response)
    assert wb.sheetnames == [e.name for e in w.experts]
    ws = wb[w.experts[4].name]
    assert ws["A1"].value == "专家评分表"
    head = " ".join(ws.cell(row=r, column=1).value or "" for r in range(2, 6))
    assert f"企业名称：{enterprise.name}" in head and f"评审专家：{w.experts[4].name}" in head
    header = _header_row(ws, "评价维度")
    assert [c.value for c in ws[header]] == ["评价维度", "评分项", "分值", "得分", "评分说明"]
    rows = _rows(ws, header)
    assert rows[0][:4] == ["基本要求", "JB01 企业规模", 10, 7]  # scored_values(70): 7 + 33 + 30
    assert rows[1][:4] == ["基本要求", "JB-G1 近三年未发生重大安全、质量、环境事故", "门槛项", "通过"]
    assert rows[2][:4] == ["基本要求", "小计", 10, 7]
    assert rows[-1][:4] == ["合计", None, 100, 70]
    notes = _notes(ws, header)
    assert notes[0].startswith("评审意见：该项目智能化水平较高")
    assert notes[1].startswith("专家签字：") and "日期：" in notes[1]


def test_a_panels_sheets_as_one_zip_for_the_paper_archive(world, db, staff_client):
    w = world
    response = _download(
        staff_client,
        f"/rounds/{w.rnd.id}/exports/sheets-zip?panel={w.panel.id}",
        filename=f"2026年度先进级智能工厂遴选-{w.panel.name}-专家评分表.zip",
    )
    assert response.headers["content-type"].startswith("application/zip")
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    expected = sorted(
        f"{db.get(Enterprise, a.enterprise_id).city}-{a.serial}-{_name(db, a)}-{a.project_name}.xlsx"
        for a in w.apps.values()
    )
    assert sorted(n for n in archive.namelist() if n.endswith(".xlsx")) == expected  # PDFs beside: test_documents
    d = w.apps["D"]
    wb = load_workbook(io.BytesIO(archive.read(next(n for n in expected if f"-{d.serial}-" in n))))
    assert len(wb.sheetnames) == 4  # the conflicted expert has no sheet


def test_an_application_without_submitted_sheets_has_no_score_sheet_file(world, db, staff_client):
    other = make_application(db, world.rnd, formal_status="passed", panel_id=world.panel.id)
    response = staff_client.get(f"/rounds/{world.rnd.id}/exports/sheets?application={other.id}", follow_redirects=True)
    assert "该项目尚无已提交的专家评分表" in response.text
    assert staff_client.get(f"/rounds/{world.rnd.id}/exports/sheets?application=999999").status_code == 404


# --- 海外智能工厂培育名单 ------------------------------------------------------------------------------------------


def test_overseas_list_has_passed_overseas_factories_in_serial_order(db, staff_client):
    from tests.factories import make_round

    rnd = make_round(db)
    kept = []
    for serial, status in ((30, "passed"), (10, "passed"), (20, "failed")):
        enterprise = make_enterprise(db, industry_group="消费品")
        kept.append(
            make_application(
                db,
                rnd,
                enterprise,
                serial=serial,
                formal_status=status,
                is_overseas=True,
                tier="excellent",
                overseas_factory_name=f"泰国罗勇智能工厂{serial}",
                employees=1200,
                revenue_10k_yuan=Decimal("35600.50"),
                overseas_intro="主营家电整机制造，建成数字化总装线。",
                contact_name="王经理",
                contact_phone="13800000000",
            )
        )
    make_application(db, rnd, formal_status="passed")  # not overseas
    response = _download(
        staff_client, f"/rounds/{rnd.id}/exports/overseas", filename=f"{rnd.name}-海外智能工厂培育名单.xlsx"
    )
    ws = _workbook(response).active
    assert ws["A1"].value == "海外智能工厂培育名单¹" and ws["A2"].value == "报送单位（盖章）："
    assert [c.value for c in ws[3]] == [
        "序号",
        "企业名称",
        "海外智能工厂名称",
        "自评级别（基础级、先进级、卓越级、领航级）",
        "所属行业²",
        "从业人数",
        "营业收入（万元）",
        "海外智能工厂简介³（500字以内）",
        "企业联系人及联系方式",
    ]
    rows = _rows(ws, 3)
    assert [r[2] for r in rows] == ["泰国罗勇智能工厂10", "泰国罗勇智能工厂30"]
    assert rows[0][0] == 1 and rows[0][3] == "卓越级" and rows[0][4] == "消费品" and rows[0][5] == 1200
    assert rows[0][6] == pytest.approx(35600.5) and rows[0][8] == "王经理 13800000000"
    notes = _notes(ws, 3)
    assert notes[0].startswith("¹ 可重点推荐位于金砖国家") and notes[2].startswith("³ 简介中请主要介绍主营业务")


# --- raw scores: the ranking recomputed from the exported file ---------------------------------------------------


def _official(entries):  # type: ignore[no-untyped-def]
    return [
        (
            e.application_id,
            e.position,
            e.rank,
            e.tied,
            e.tie_note,
            e.aggregate.score,
            e.aggregate.display,
            e.aggregate.vetoed,
        )
        for e in entries
    ]


def test_the_ranking_is_recomputed_exactly_from_the_exported_raw_scores(world, db, staff_client):
    w = world
    # A failed gate (veto) and a half point, so that the file carries more than round numbers.
    sheet = db.exec(
        select(ScoreSheet).where(ScoreSheet.application_id == w.apps["E"].id, ScoreSheet.expert_id == w.experts[1].id)
    ).one()
    for item in db.exec(select(ItemScore).where(ItemScore.sheet_id == sheet.id)):
        if item.gate is not None:
            item.gate = "fail"
        db.add(item)
    db.commit()

    response = _download(staff_client, f"/rounds/{w.rnd.id}/exports/raw-scores?panel={w.panel.id}")
    wb = _workbook(response)
    assert wb.sheetnames == ["原始评分", "评分项", "申报项目", "排序规则"]
    raw = raw_score_file.read_raw_scores(response.content)
    assert len(raw.rows) == 24 * 4  # 24 sheets × (3 items + 1 gate)
    recomputed = raw.ranking()
    reread(db)
    panel_view = decisions.panel_ranking(db, panel_id=w.panel.id)
    assert _official(recomputed.entries) == _official(panel_view.ranking.entries)
    assert recomputed.entry(w.apps["E"].id).aggregate.vetoed

    whole = _download(staff_client, f"/rounds/{w.rnd.id}/exports/raw-scores")
    again = raw_score_file.read_raw_scores(whole.content).ranking()
    listed = recommendations.round_list(db, round_id=w.rnd.id)
    assert _official(again.entries) == _official(listed.scores.ranking().entries)
    assert {e.application_id: e.aggregate.score for e in again.entries}[w.apps["A"].id] * 3 == 259  # 88+86+85


# --- guards, audit, index page ------------------------------------------------------------------------------------


def test_experts_and_strangers_cannot_export(world, make_user, login, client):
    expert = login(make_user("expert9", Role.expert))
    for url in (
        f"/rounds/{world.rnd.id}/exports/",
        f"/rounds/{world.rnd.id}/exports/recommendations",
        f"/rounds/{world.rnd.id}/exports/sheets?application={world.apps['A'].id}",
    ):
        assert expert.get(url).status_code == 403
        anonymous = client.get(url, follow_redirects=False)
        assert anonymous.status_code in (302, 303) and anonymous.headers["location"].startswith("/login")


def test_each_export_is_recorded_in_the_audit_log(world, db, staff_client):
    _download(staff_client, f"/rounds/{world.rnd.id}/exports/sheets?application={world.apps['A'].id}")
    reread(db)
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "ranking.export")).one()
    assert entry.actor_name == "staff1" and entry.entity_id == str(world.rnd.id)
    assert entry.summary.startswith("导出专家评分表《济南市-") and '"type":"sheets"' in entry.after_json


def test_the_export_page_links_every_file(world, staff_client):
    page = staff_client.get(f"/rounds/{world.rnd.id}/exports/")
    assert page.status_code == 200
    for path in (
        "recommendations",
        "list",
        "overseas",
        "raw-scores",
        f"panel-scores?panel={world.panel.id}",
        f"sheets-zip?panel={world.panel.id}",
    ):
        assert f'href="/rounds/{world.rnd.id}/exports/{path}"' in page.text
    assert re.search(rf'<option value="{world.apps["A"].id}">{world.apps["A"].serial} ', page.text)


# --- CLI ----------------------------------------------------------------------------------------------------------


def _cli(settings, args):  # type: ignore[no-untyped-def]
    env = {"REVIEWAPP_DATABASE_URL": settings.database_url, "REVIEWAPP_DATA_DIR": str(settings.data_dir)}
    return CliRunner().invoke(main, args, env=env)


def test_cli_exports_the_same_files(world, db, settings, tmp_path):
    w = world
    out = tmp_path / "推荐.xlsx"
    result = _cli(settings, ["export", "recommendations", "--round", str(w.rnd.id), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "已导出智能工厂推荐汇总表（4 行）" in result.output
    ws = load_workbook(out).active
    assert ws["A1"].value == "先进级智能工厂推荐汇总表"
    assert [r[2] for r in _rows(ws, _header_row(ws, "推荐顺序"))] == [_name(db, w.apps[x]) for x in "BACE"]

    out = tmp_path / "评分表.xlsx"
    result = _cli(
        settings, ["export", "sheets", "--round", str(w.rnd.id), "--application", str(w.apps["B"].id), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert len(load_workbook(out).sheetnames) == 5

    out = tmp_path / "raw.xlsx"
    result = _cli(
        settings, ["export", "raw-scores", "--round", str(w.rnd.id), "--panel", str(w.panel.id), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    reread(db)
    assert _official(raw_score_file.read_raw_scores(out.read_bytes()).ranking().entries) == _official(
        decisions.panel_ranking(db, panel_id=w.panel.id).ranking.entries
    )
    reread(db)
    actors = db.exec(select(AuditEntry.actor_name).where(AuditEntry.action == "ranking.export")).all()
    assert actors == ["命令行"] * 3


def test_cli_refuses_bad_ids_in_chinese(world, settings, tmp_path):
    out = tmp_path / "x.xlsx"
    result = _cli(settings, ["export", "list", "--round", "999999", "-o", str(out)])
    assert result.exit_code == 1 and "错误：" in result.output and not out.exists()
    result = _cli(
        settings, ["export", "panel-scores", "--round", str(world.rnd.id), "--panel", "999999", "-o", str(out)]
    )
    assert result.exit_code == 1 and "本批次没有编号为 999999 的专家组" in result.output
    result = _cli(
        settings, ["export", "sheets", "--round", str(world.rnd.id), "--application", "999999", "-o", str(out)]
    )
    assert result.exit_code == 1 and "未找到该申报项目" in result.output


def test_text_that_looks_like_a_formula_stays_text(world, db, staff_client):
    enterprise = db.get(Enterprise, world.apps["A"].enterprise_id)
    enterprise.name = '=HYPERLINK("http://example.com","点击")'
    db.add(enterprise)
    db.commit()
    for kind in ("recommendations", f"raw-scores?panel={world.panel.id}"):
        wb = _workbook(_download(staff_client, f"/rounds/{world.rnd.id}/exports/{kind}"))
        cells = [c for row in wb.worksheets[0].iter_rows() for c in row if c.value == enterprise.name]
        assert cells and all(c.data_type == "s" for c in cells)
