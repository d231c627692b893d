"""The expert draw record (抽取记录表) as a PDF through the documents registry: the drawer downloads it from the draw
page with the names, conditions, seed, candidate count, frozen-list hash, each drawn expert's confirmation result and
the 抽取人 / 监督人 signature and date lines; other staff get it sealed; the CLI writes the same document."""

from __future__ import annotations

import re

from sqlmodel import select

from reviewapp.audit.models import AuditEntry
from reviewapp.auth.models import Role
from reviewapp.panels.models import Expert
from reviewapp.pool.models import Draw, DrawPick
from tests.conftest import reread
from tests.integration.test_documents import flat, text_of
from tests.integration.test_pool_http import _draw, _scenario
from tests.integration.test_ranking_exports import _cli


def test_draw_record_pdf_has_everything_the_signed_record_needs(db, make_user, login, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = _scenario(db)
    staff = make_user("drawer", Role.staff, display_name="张立")
    boss = make_user("boss", Role.staff, display_name="王建监督")
    other = make_user("other", Role.staff)
    client = login(staff)
    assert _draw(client, s["round"].id, boss.id, specialty_mix="装备制造:1").status_code == 303
    reread(db)
    draw = db.exec(select(Draw)).one()
    first = db.exec(select(DrawPick).where(DrawPick.role == "main").order_by(DrawPick.id)).first()
    r = client.submit(
        f"/pool/draws/picks/{first.id}",
        {"answer": "decline", "reason": "评审当天出国", "call_note": "电话告知，本人不能参加"},
    )
    assert r.status_code == 200
    reread(db)
    name = db.get(Expert, first.expert_id).name

    page = client.get(f"/pool/draws/{draw.id}")
    assert f'href="/pool/draws/{draw.id}/record.pdf"' in page.text
    response = client.get(f"/pool/draws/{draw.id}/record.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    text = flat(text_of(response.content))
    for needle in [
        "评审专家抽取记录表",
        flat(s["round"].name),
        "每组抽取3人，备选2人",
        "装备制造至少1人",
        "随机种子20261006",
        "体彩排列5第26263期",
        f"候选专家人数{draw.candidate_count}人",
        draw.input_sha256[:32],
        "张立/王建监督",
        flat(name),
        "不参加",
        "评审当天出国",
        "待确认",
        "（递补）",
        "抽取人：",
        "监督人：",
        "日期：",
        "年月日",
        "第1页，共",
        "审计链校验",
    ]:
        assert flat(needle) in text, (needle, text[:3000])
    anchor = re.search(r"第(\d+)条，哈希([0-9a-f]{64})", text)
    assert anchor
    reread(db)
    entry = db.exec(select(AuditEntry).where(AuditEntry.seq == int(anchor.group(1)))).one()
    assert entry.entity_type == "pool_draw" and entry.entity_id == str(draw.id) and entry.hash == anchor.group(2)
    views = db.exec(select(AuditEntry.summary).where(AuditEntry.action == "pool.draw_view")).all()
    assert any("抽取记录表（PDF）" in v and "显示姓名" in v for v in views)

    # other staff: sealed before the review opens, by both download paths
    sealed = flat(text_of(login(other).get(f"/pool/draws/{draw.id}/record.pdf").content))
    assert "（密封）" in sealed and flat(name) not in sealed and draw.input_sha256[:32] in sealed
    generic = login(other).get(f"/rounds/{s['round'].id}/documents/draw-record.pdf?draw={draw.id}")
    assert generic.status_code == 200 and flat(name) not in flat(text_of(generic.content))
    assert login(other).get(f"/rounds/{s['round'].id + 1000}/documents/draw-record.pdf?draw={draw.id}").status_code in (
        404,
        303,
    )

    # the command line
    out = tmp_path / "抽取记录表.pdf"
    args = ["export", "document", "draw-record", "--round", str(s["round"].id), "--draw", str(draw.id), "-o", str(out)]
    result = _cli(settings, args)
    assert result.exit_code == 0, result.output
    cli_text = flat(text_of(out.read_bytes()))
    assert "评审专家抽取记录表" in cli_text and "监督人：" in cli_text and draw.input_sha256[:32] in cli_text
    result = _cli(settings, ["export", "document", "draw-record", "--round", str(s["round"].id), "-o", str(out)])
    assert result.exit_code == 1 and "需要指定抽取记录" in result.output
