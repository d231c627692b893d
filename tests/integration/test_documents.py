"""Review-day documents as PDF (issue 16): each renders for a scored, finalized round; the text extracted from the
PDF has the round's title, the document's content in Chinese, page numbers, the date as 2026年5月9日, its signature
lines and the audit-chain anchor; the CLI writes the same documents."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from pypdf import PdfReader
from sqlmodel import Session, select

from reviewapp.audit.models import AuditEntry
from reviewapp.objections import service as objections
from reviewapp.publicity import spot_checks as publicity
from reviewapp.publicity.models import SpotCheck
from tests.conftest import reread
from tests.integration.test_ranking_exports import ACTOR, PANEL_OPINION, World, _cli, _world


@pytest.fixture
def world(db: Session, settings) -> World:  # type: ignore[no-untyped-def]
    w = _world(db)
    checks = publicity.choose(db, actor=ACTOR, round_id=w.rnd.id, application_ids=[w.apps["A"].id])
    db.commit()
    publicity.record_outcome(
        db,
        actor=ACTOR,
        round_id=w.rnd.id,
        check_id=checks[0].id,  # type: ignore[arg-type]
        row_version=checks[0].row_version,
        check_date=date(2026, 5, 9),
        inspectors="王建国、李红",
        findings="现场查看智能仓储与在线检测系统，运行正常，与申报材料一致。",
        outcome="passed",
    )
    objections.create_objection(
        db,
        actor=ACTOR,
        settings=settings,
        round_id=w.rnd.id,
        application_id=w.apps["C"].id,
        target_name="",
        channel="信函",
        received_on=date(2026, 5, 9),
        objector_kind="unit",
        objector_name="济南恒信检测技术有限公司",
        objector_contact="0531-88886666",
        objector_address="济南市历下区",
        sealed_or_signed=True,
        content="该企业申报的智能仓储场景尚未建成投用。",
        uploads=[],
        today=date(2026, 5, 9),
    )
    db.commit()
    return w


def text_of(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    fonts = {
        str(f.get_object().get("/BaseFont"))
        for page in reader.pages
        for f in (page["/Resources"].get("/Font") or {}).values()  # type: ignore[union-attr]
    }
    assert any("CJK" in f or "WenQuanYi" in f for f in fonts), f"Chinese font embedded: {fonts}"
    return "\n".join(page.extract_text() for page in reader.pages)


def get_pdf(client, url: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200, response.text[-1500:]
    assert response.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    return re.sub(r"[ \t]+", "", text_of(response.content))


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_each_document_renders_in_chinese_with_title_pages_date_signatures_and_audit_anchor(world, db, staff_client):
    rnd, panel = world.rnd, world.panel
    objection_id = db.exec(select(objections.Objection)).one().id  # type: ignore[attr-defined]
    base = f"/rounds/{rnd.id}/documents"
    expected = {
        f"{base}/score-sheets.pdf?application={world.apps['A'].id}": ["专家评分表", "评审意见", "专家签字："],
        f"{base}/panel-score-sheets.pdf?panel={panel.id}": ["专家评分表", "合计", "专家签字："],
        f"{base}/group-opinion.pdf?panel={panel.id}": ["专家组意见", PANEL_OPINION, "A项目专家组意见", "组长签字："],
        f"{base}/panel-scores.pdf?panel={panel.id}": [
            "专家评分汇总表",
            "汇总得分",
            "9088868570",
            "组长签字：",
            "经办人：",
        ],
        f"{base}/recommendations.pdf": ["智能工厂推荐汇总表", "推荐顺序", "经办人：", "审核人："],
        f"{base}/objection.pdf?objection={objection_id}": ["异议处理单", "2026年5月9日", "经办人：", "审核人："],
        f"{base}/spot-checks.pdf": ["现场抽查记录", "王建国、李红", "2026年5月9日", "经办人：", "审核人："],
    }
    for url, needles in expected.items():
        text = flat(get_pdf(staff_client, url))
        for needle in [*needles, flat(rnd.name), "第1页，共", "日期：", "年月日", "审计链校验", "生成日期："]:
            assert flat(needle) in text, (url, needle, text[:3000])
        assert re.search(r"生成日期：\d{4}年\d{1,2}月\d{1,2}日", text), url
        assert "E+" not in text, "scores as written (90, 87.5), not in exponent form"
        anchor = re.search(r"第(\d+)条，哈希([0-9a-f]{64})", text)
        assert anchor, url
        reread(db)
        entry = db.exec(select(AuditEntry).where(AuditEntry.seq == int(anchor.group(1)))).one()
        assert entry.hash == anchor.group(2), url
    # The score sheet of one application: one page per expert, each signed.
    text = get_pdf(staff_client, f"{base}/score-sheets.pdf?application={world.apps['A'].id}")
    assert flat(text).count("专家签字：") == 5
    # The spot-check record is anchored to the check's own latest audit entry.
    check = db.exec(select(SpotCheck)).one()
    latest = db.exec(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "spot_check", AuditEntry.entity_id == str(check.id))
        .order_by(AuditEntry.seq.desc())  # type: ignore[attr-defined]
    ).first()
    assert f"本文件对象的最新审计记录第{latest.seq}条，哈希{latest.hash}" in flat(
        get_pdf(staff_client, f"{base}/spot-checks.pdf")
    )


def test_a_document_without_its_object_is_refused_in_chinese(world, db, staff_client, make_user, login):
    base = f"/rounds/{world.rnd.id}/documents"
    response = staff_client.get(f"{base}/group-opinion.pdf", follow_redirects=True)
    assert "生成专家组意见需要指定专家组" in response.text
    response = staff_client.get(f"{base}/nonsense.pdf", follow_redirects=True)
    assert "没有「nonsense」这种文件" in response.text
    assert staff_client.get(f"{base}/group-opinion.pdf?panel=99999").status_code == 404
    from reviewapp.auth.models import Role

    expert = login(make_user("zhuanjia-doc", Role.expert))
    assert expert.get(f"{base}/recommendations.pdf", follow_redirects=False).status_code in (302, 303, 403)


def test_cli_writes_each_document(world, db, settings, tmp_path):
    out = tmp_path / "汇总.pdf"
    result = _cli(
        settings, ["export", "document", "panel-scores", "--round", str(world.rnd.id), "--panel", str(world.panel.id), "-o", str(out)]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "专家评分汇总表" in flat(text_of(out.read_bytes()))
    result = _cli(settings, ["export", "document", "group-opinion", "--round", str(world.rnd.id), "-o", str(out)])
    assert result.exit_code == 1 and "需要指定专家组" in result.output


def test_the_panel_zip_and_the_round_archive_hold_the_pdfs_beside_the_excel_files(world, db, staff_client):
    import zipfile

    rnd, panel = world.rnd, world.panel
    response = staff_client.get(f"/rounds/{rnd.id}/exports/sheets-zip?panel={panel.id}")
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    sheets = [n for n in names if n.endswith(".xlsx")]
    assert len(sheets) == 5 and all(n.removesuffix(".xlsx") + ".pdf" in names for n in sheets)
    assert {"专家评分汇总表.pdf", "专家组意见.pdf"} <= set(names)

    response = staff_client.get(f"/rounds/{rnd.id}/exports/round-archive")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/zip")
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert any(n.endswith("推荐汇总表.xlsx") for n in names) and any(n.endswith("推荐汇总表.pdf") for n in names)
    assert f"{panel.name}/专家组意见.pdf" in names and f"{panel.name}/专家评分汇总表.pdf" in names
    assert any(n.startswith("异议处理单/") and n.endswith(".pdf") for n in names)
    assert any(n.endswith("现场抽查记录.pdf") for n in names)
    assert len([n for n in names if n.startswith(f"{panel.name}/专家评分表/") and n.endswith(".pdf")]) == 5
    opinion = flat(text_of(archive.read(f"{panel.name}/专家组意见.pdf")))
    assert flat(PANEL_OPINION) in opinion and "组长签字：" in opinion


def test_an_expert_downloads_only_their_own_submitted_sheet(world, db, make_user, login):
    from reviewapp.auth.models import Role

    expert = world.experts[1]
    user = make_user("zhuanjia-pdf", Role.expert)
    expert.user_id = user.id
    db.add(expert)
    db.commit()
    browser = login(user)
    app = world.apps["A"]
    text = flat(get_pdf(browser, f"/expert/applications/{app.id}/sheet.pdf"))
    assert text.count("专家签字：") == 1 and flat(expert.name) in text
    assert all(flat(e.name) + "（" not in text for e in world.experts if e.id != expert.id)
    assert f"/expert/applications/{app.id}/sheet.pdf" in browser.get(f"/expert/applications/{app.id}/print").text
