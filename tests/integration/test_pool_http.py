"""The expert pool through HTTP: profiles and search, the draw with recusal and a recorded seed, the sealed list,
confirmation with backups, the draw record, verification, re-draw and the version check, and evaluation."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime

from openpyxl import Workbook, load_workbook
from sqlmodel import Session, col, select

from reviewapp.applications.models import Enterprise
from reviewapp.audit.models import AuditEntry
from reviewapp.auth.models import Role
from reviewapp.panels.models import Expert, Panel, PanelMember
from reviewapp.pool import rules
from reviewapp.pool.models import Draw, DrawPick, PoolProfile
from tests.conftest import reread
from tests.factories import make_application, make_enterprise, make_expert, make_round

GROUPS = ("原材料", "电子信息", "装备制造", "消费品")


def _scenario(db: Session, *, experts: int = 24) -> dict:  # type: ignore[type-arg]
    """A round with two panels of two applications each, a pool with one planted conflict per panel and one
    suspended expert."""
    rnd = make_round(db)
    panels, apps = [], []
    for group in ("装备制造", "电子信息"):
        panel = Panel(round_id=rnd.id, name=f"{group}组", industry_group=group)
        db.add(panel)
        db.commit()
        panels.append(panel)
        for _ in range(2):
            ent = make_enterprise(db, industry_group=group)
            apps.append(make_application(db, rnd, ent, panel_id=panel.id, formal_status="passed"))
    pool = []
    for n in range(experts):
        e = make_expert(
            db,
            name=f"池专家{n:02d}",
            employer=f"研究院{n % 8}",
            city="济南市",
            specialties_json=json.dumps([GROUPS[n % 4]], ensure_ascii=False),
        )
        db.add(PoolProfile(expert_id=e.id, province="山东省" if n % 3 else "江苏省"))
        pool.append(e)
    # planted conflicts: works at the first application's enterprise of each panel
    conflicted = []
    for k, app in enumerate((apps[0], apps[2])):
        enterprise = db.get(Enterprise, app.enterprise_id)
        e = make_expert(db, name=f"回避专家{k}", employer=enterprise.name, employer_credit_code=enterprise.credit_code)
        conflicted.append((e, panels[k]))
    suspended = make_expert(db, name="暂停专家")
    db.add(
        PoolProfile(expert_id=suspended.id, status="暂停", status_reason="评价过低", suspended_until=date(2099, 1, 1))
    )
    db.commit()
    return {
        "round": rnd,
        "panels": panels,
        "apps": apps,
        "pool": pool,
        "conflicted": conflicted,
        "suspended": suspended,
    }


def _draw(client, rnd_id: int, supervisor_id: int, **extra):  # type: ignore[no-untyped-def]
    data = {
        "expected_seq": "0",
        "per_panel": "3",
        "backups": "2",
        "max_per_org": "1",
        "supervisor_id": str(supervisor_id),
        "seed": "20261006",
        "seed_source": "体彩排列5 第26263期",
    }
    data.update({k: str(v) for k, v in extra.items()})
    return client.submit(f"/pool/draws/rounds/{rnd_id}", data, follow_redirects=False)


def test_draw_applies_recusal_records_seed_and_verifies(db, make_user, login) -> None:  # type: ignore[no-untyped-def]
    s = _scenario(db)
    staff = make_user("drawer", Role.staff)
    boss = make_user("boss", Role.staff, display_name="监督处长")
    client = login(staff)
    r = _draw(client, s["round"].id, boss.id, specialty_mix="装备制造:1", min_outside="1", home_province="山东省")
    assert r.status_code == 303, r.text[:2000]
    reread(db)
    draw = db.exec(select(Draw)).one()
    assert draw.seed == "20261006" and len(draw.input_sha256) == 64
    picks = db.exec(select(DrawPick)).all()
    assert len(picks) == 2 * (3 + 2)
    for conflicted, panel in s["conflicted"]:
        assert not [p for p in picks if p.expert_id == conflicted.id and p.panel_id == panel.id]
    assert s["suspended"].id not in {p.expert_id for p in picks}
    inp = rules.DrawInput.from_canonical(draw.input_json)
    by_id = {c.id: c for c in inp.candidates}
    for panel in s["panels"]:
        mains = [by_id[p.expert_id] for p in picks if p.panel_id == panel.id and p.role == "main"]
        assert rules.condition_problems(mains, inp.conditions) == []
    # the same seed and frozen list give the same result, and the page says so
    assert rules.draw(inp, "20261006").to_json() == draw.result_json
    page = client.get(f"/pool/draws/{draw.id}")
    assert "池专家" in page.text and draw.input_sha256 in page.text
    verify = client.get(f"/pool/verify/{draw.id}")
    assert "候选名单与记录的哈希一致" in verify.text and "抽取结果与记录完全一致" in verify.text
    assert rules.sha256_hex(client.get(f"/pool/verify/{draw.id}/input.json").text) == draw.input_sha256


def test_list_is_sealed_for_other_staff_and_every_view_is_audited(db, make_user, login) -> None:  # type: ignore[no-untyped-def]
    s = _scenario(db)
    staff, boss, other = make_user("drawer", Role.staff), make_user("boss", Role.staff), make_user("other", Role.staff)
    assert _draw(login(staff), s["round"].id, boss.id).status_code == 303
    reread(db)
    draw = db.exec(select(Draw)).one()
    name = db.get(Expert, db.exec(select(DrawPick.expert_id)).first()).name
    sealed = login(other).get(f"/pool/draws/{draw.id}")
    assert "名单密封中" in sealed.text and name not in sealed.text
    record = login(other).get(f"/pool/draws/{draw.id}/record")
    assert "（密封）" in record.text and name not in record.text
    assert name in login(boss).get(f"/pool/draws/{draw.id}").text  # the supervisor sees the names
    reread(db)
    views = db.exec(select(AuditEntry).where(AuditEntry.action == "pool.draw_view")).all()
    assert len(views) == 3 and sum("名单密封" in v.summary for v in views) == 2
    # once the round's review opens, staff see the names
    reread(db)
    rnd = db.get(type(s["round"]), s["round"].id)
    rnd.scoring_started_at = datetime.now(UTC)
    db.add(rnd)
    db.commit()
    assert name in login(other).get(f"/pool/draws/{draw.id}").text


def test_redraw_needs_a_reason_keeps_the_earlier_and_a_stale_form_loses(db, make_user, login) -> None:  # type: ignore[no-untyped-def]
    s = _scenario(db)
    a, b, boss = make_user("drawer", Role.staff), make_user("second", Role.staff), make_user("boss", Role.staff)
    first, second = login(a), login(b)
    assert _draw(first, s["round"].id, boss.id).status_code == 303
    # the second staff member's form still says no draw exists: refused, not a second winner
    late = _draw(second, s["round"].id, boss.id, redraw_reason="同时抽取")
    assert late.status_code == 200 and "其他工作人员刚刚对本批次进行了抽取" in late.text
    no_reason = _draw(second, s["round"].id, boss.id, expected_seq=1)
    assert "重新抽取须填写原因" in no_reason.text
    ok = _draw(second, s["round"].id, boss.id, expected_seq=1, redraw_reason="两位专家临时出差", seed="777")
    assert ok.status_code == 303
    reread(db)
    draws = db.exec(select(Draw).order_by(Draw.seq)).all()
    assert [d.state for d in draws] == ["superseded", "drawn"]
    assert draws[1].redraw_reason == "两位专家临时出差" and draws[1].supersedes_id == draws[0].id
    assert "已作废" in first.get(f"/pool/draws/rounds/{s['round'].id}").text


def test_unmeetable_conditions_say_which_and_by_how_many(db, make_user, login) -> None:  # type: ignore[no-untyped-def]
    s = _scenario(db, experts=10)
    staff, boss = make_user("drawer", Role.staff), make_user("boss", Role.staff)
    r = _draw(login(staff), s["round"].id, boss.id, specialty_mix="消费品:3", per_panel="4", max_per_org="0")
    assert r.status_code == 200
    assert "「消费品」专业至少 3 人，可抽仅 2 人，差 1 人" in r.text
    reread(db)
    assert db.exec(select(Draw)).all() == []  # nothing half-done is kept


def test_seed_entered_later_from_a_public_source(db, make_user, login) -> None:  # type: ignore[no-untyped-def]
    s = _scenario(db)
    staff, boss = make_user("drawer", Role.staff), make_user("boss", Role.staff)
    client = login(staff)
    assert _draw(client, s["round"].id, boss.id, seed="").status_code == 303
    reread(db)
    draw = db.exec(select(Draw)).one()
    assert draw.state == "frozen" and db.exec(select(DrawPick)).all() == []
    assert "尚未录入随机种子" in client.get(f"/pool/verify/{draw.id}").text
    r = client.submit(
        f"/pool/draws/{draw.id}/seed",
        {"seed": "03 11 19 25 31", "seed_source": "双色球第2026115期", "row_version": str(draw.row_version)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    reread(db)
    again = db.get(Draw, draw.id)
    assert again.state == "drawn" and again.input_sha256 == draw.input_sha256
    assert rules.draw(rules.DrawInput.from_canonical(again.input_json), "03 11 19 25 31").to_json() == again.result_json


def test_decline_brings_the_backup_and_the_result_becomes_the_panels(db, make_user, login) -> None:  # type: ignore[no-untyped-def]
    s = _scenario(db)
    staff, boss = make_user("drawer", Role.staff), make_user("boss", Role.staff)
    client = login(staff)
    assert _draw(client, s["round"].id, boss.id, max_per_org="0").status_code == 303
    reread(db)
    draw = db.exec(select(Draw)).one()
    panel = s["panels"][0]
    picks = db.exec(select(DrawPick).where(DrawPick.panel_id == panel.id).order_by(DrawPick.position)).all()
    main = picks[0]
    # the expert declines on their home page
    user = make_user("exp1", Role.expert)
    reread(db)
    expert = db.get(Expert, main.expert_id)
    expert.user_id = user.id
    db.add(expert)
    db.commit()
    home = login(user)
    assert "您已被随机抽取" in home.get("/pool/invitations").text
    missing_reason = home.submit(f"/pool/invitations/{main.id}", {"answer": "decline"}, follow_redirects=False)
    assert missing_reason.status_code == 303
    reread(db)
    assert db.get(DrawPick, main.id).status == "pending"
    home.submit(f"/pool/invitations/{main.id}", {"answer": "decline", "reason": "评审当天出国"})
    reread(db)
    assert db.get(DrawPick, main.id).status == "declined"
    backup = db.get(DrawPick, picks[3].id)
    assert backup.status == "pending" and backup.replaces_id == main.id
    # applying before everyone answered is refused, with the shortfall
    r = client.submit(f"/pool/draws/{draw.id}/apply", {"row_version": str(draw.row_version)})
    assert "尚有专家组人数不足" in r.text
    # staff record the phone calls
    no_note = client.submit(f"/pool/draws/picks/{backup.id}", {"answer": "accept", "call_note": ""})
    assert "请按通话记录要点填写通话情况" in no_note.text
    for p in db.exec(select(DrawPick).where(DrawPick.status == "pending")).all():
        client.submit(f"/pool/draws/picks/{p.id}", {"answer": "accept", "call_note": "已电话确认，无回避事项"})
    reread(db)
    draw = db.get(Draw, draw.id)
    r = client.submit(f"/pool/draws/{draw.id}/apply", {"row_version": str(draw.row_version)}, follow_redirects=False)
    assert r.status_code == 303, r.text[:1500]
    reread(db)
    members = db.exec(select(PanelMember).where(PanelMember.panel_id == panel.id)).all()
    assert len(members) == 3 and main.expert_id not in {m.expert_id for m in members}
    assert backup.expert_id in {m.expert_id for m in members} and sum(m.is_chair for m in members) == 1
    # the record: printable page and Excel, with the confirmation results and signature lines
    page = client.get(f"/pool/draws/{draw.id}/record")
    assert "评审专家抽取记录表" in page.text and "评审当天出国" in page.text and "监督人（签字）" in page.text
    wb = load_workbook(io.BytesIO(client.get(f"/pool/draws/{draw.id}/record.xlsx").content))
    text = "\n".join(str(c.value) for row in wb.active.iter_rows() for c in row if c.value)
    assert "随机种子：20261006" in text and "不参加" in text and expert.name in text and "抽取人（签字）" in text


def test_pool_search_edit_export_and_import(db, staff_client) -> None:  # type: ignore[no-untyped-def]
    a = make_expert(db, name="张工", title="正高级工程师", specialties_json='["电子信息"]')
    make_expert(db, name="李工", title="高级工程师")
    page = staff_client.get("/pool", params={"specialty": "电子信息"})
    assert "张工" in page.text and "李工" not in page.text
    bad = staff_client.submit(f"/pool/experts/{a.id}", {"status": "暂停", "status_reason": "", "row_version": "1"})
    assert "暂停或出库须填写原因" in bad.text
    r = staff_client.submit(
        f"/pool/experts/{a.id}",
        {
            "tags": "工业互联网、数字孪生",
            "province": "江苏省",
            "availability": "2026-10-01至2026-12-31",
            "status": "暂停",
            "status_reason": "借调外地",
            "row_version": "1",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "张工" in staff_client.get("/pool", params={"status": "暂停"}).text
    assert "张工" in staff_client.get("/pool", params={"q": "数字孪生"}).text
    wb = load_workbook(io.BytesIO(staff_client.get("/pool/export.xlsx").content))
    values = [str(c.value) for row in wb.active.iter_rows() for c in row if c.value]
    assert "工业互联网、数字孪生" in values and "2026-10-01至2026-12-31" in values
    # import: all or nothing
    out = Workbook()
    ws = out.active
    ws.append(["姓名", "所在省份", "专业标签", "库内状态", "状态原因"])
    ws.append(["李工", "浙江省", "数字孪生", "在库", ""])
    ws.append(["王工", "浙江省", "", "在库", ""])
    buf = io.BytesIO()
    out.save(buf)
    files = {
        "file": ("专家库.xlsx", buf.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    }
    r = staff_client.submit("/pool/import", files=files)
    assert "第 3 行「王工」：专家库中没有此人" in r.text
    ws.delete_rows(3)
    buf = io.BytesIO()
    out.save(buf)
    files = {
        "file": ("专家库.xlsx", buf.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    }
    assert staff_client.submit("/pool/import", files=files, follow_redirects=False).status_code == 303
    assert "浙江省" in staff_client.get("/pool", params={"q": "李工"}).text


def test_evaluation_after_finalize_and_low_scores_suspend(db, make_user, login) -> None:  # type: ignore[no-untyped-def]
    rnd = make_round(db)
    chair_user = make_user("chair", Role.expert)
    chair = make_expert(db, name="组长甲", user_id=chair_user.id)
    member = make_expert(db, name="成员乙")
    panel = Panel(round_id=rnd.id, name="装备制造组", industry_group="装备制造")
    db.add(panel)
    db.commit()
    db.add(PanelMember(panel_id=panel.id, expert_id=chair.id, is_chair=True))
    db.add(PanelMember(panel_id=panel.id, expert_id=member.id))
    db.commit()
    staff = login(make_user("staff9", Role.staff))
    scores = {"punctuality": "2", "quality": "2", "honesty": "3", "attendance": "2", "note": "多次迟到"}
    r = staff.submit(f"/pool/evaluations/{panel.id}/{member.id}", scores)
    assert "专家组定稿后才能评价专家" in r.text
    panel.finalized_at = datetime.now(UTC)
    db.add(panel)
    db.commit()
    chair_client = login(chair_user)
    page = chair_client.get(f"/pool/evaluations/{panel.id}")
    assert "成员乙" in page.text and "按时提交" in page.text
    assert "组长不能评价自己" in chair_client.submit(f"/pool/evaluations/{panel.id}/{chair.id}", scores).text
    r = chair_client.submit(f"/pool/evaluations/{panel.id}/{member.id}", scores, follow_redirects=False)
    assert r.status_code == 303
    reread(db)
    profile = db.exec(select(PoolProfile).where(PoolProfile.expert_id == member.id)).one()
    assert profile.status == "暂停" and profile.suspended_until and profile.suspended_until > date.today()
    # a confirmed undeclared conflict suspends even with good marks
    good = {"punctuality": "5", "quality": "5", "honesty": "5", "attendance": "5", "undeclared_conflict": "1"}
    staff.submit(f"/pool/evaluations/{panel.id}/{chair.id}", good)
    reread(db)
    assert db.exec(select(PoolProfile).where(PoolProfile.expert_id == chair.id)).one().status == "暂停"
    assert db.exec(select(AuditEntry).where(col(AuditEntry.action).in_(["pool.evaluate", "pool.suspend"]))).all()


def test_nav_has_the_draw_entry(staff_client) -> None:  # type: ignore[no-untyped-def]
    assert 'href="/pool/draws"' in staff_client.get("/").text
