"""Limits of the draw found after issue 15: a decline that no backup can cover without breaking the draw's
conditions says which condition fails and by how many on the draw page; two staff submitting the draw at the same
moment cannot both win; the suspension rules of evaluations are settings."""

from __future__ import annotations

import json
import threading

from sqlmodel import Session, select

from reviewapp.audit.models import AuditEntry
from reviewapp.auth.models import Role
from reviewapp.panels.models import Panel
from reviewapp.pool.models import Draw, DrawPick, PoolProfile
from tests.conftest import reread
from tests.factories import make_application, make_enterprise, make_expert, make_round
from tests.integration.test_pool_http import _draw, _scenario


def _one_panel_one_specialist(db: Session):  # type: ignore[no-untyped-def]
    """One panel; five experts of whom only one is a 消费品 specialist."""
    rnd = make_round(db)
    panel = Panel(round_id=rnd.id, name="消费品组", industry_group="消费品")
    db.add(panel)
    db.commit()
    make_application(db, rnd, make_enterprise(db, industry_group="消费品"), panel_id=panel.id, formal_status="passed")
    for n in range(5):
        group = "消费品" if n == 0 else "原材料"
        e = make_expert(
            db, name=f"限制专家{n}", employer=f"单位{n}", specialties_json=json.dumps([group], ensure_ascii=False)
        )
        db.add(PoolProfile(expert_id=e.id, province="山东省"))
    db.commit()
    return rnd, panel


def test_a_decline_no_backup_can_cover_says_which_condition_and_by_how_many(db, make_user, login) -> None:  # type: ignore[no-untyped-def]
    rnd, panel = _one_panel_one_specialist(db)
    staff, boss = make_user("drawer", Role.staff), make_user("boss", Role.staff)
    client = login(staff)
    r = _draw(client, rnd.id, boss.id, per_panel="2", backups="2", specialty_mix="消费品:1", max_per_org="0")
    assert r.status_code == 303, r.text[:2000]
    reread(db)
    draw = db.exec(select(Draw)).one()
    picks = db.exec(select(DrawPick).order_by(DrawPick.position)).all()
    specialist = next(p for p in picks if p.role == "main" and "消费品" in _specialties(db, p.expert_id))
    page = client.get(f"/pool/draws/{draw.id}")
    assert "不满足抽取条件" not in page.text

    r = client.submit(
        f"/pool/draws/picks/{specialist.id}",
        {"answer": "decline", "reason": "身体原因", "call_note": "电话告知不能参加"},
    )
    assert r.status_code == 200
    expected = "「消费品」专业至少 1 人，现有 0 人，差 1 人"
    assert f"递补后不满足抽取条件：{expected}" in r.text  # the flash after the decline
    assert f"专家组「消费品组」当前人选不满足抽取条件：{expected}" in r.text  # and the page itself
    assert expected in client.get(f"/pool/draws/{draw.id}").text  # still said on a later visit

    # writing into the panels is refused with the same words
    reread(db)
    for p in db.exec(select(DrawPick).where(DrawPick.status == "pending")).all():
        client.submit(f"/pool/draws/picks/{p.id}", {"answer": "accept", "call_note": "电话确认参加"})
    reread(db)
    draw = db.get(Draw, draw.id)
    r = client.submit(f"/pool/draws/{draw.id}/apply", {"row_version": str(draw.row_version)})
    assert expected in r.text and "请重新抽取" in r.text


def test_when_the_backups_run_out_the_page_says_how_many_are_missing(db, make_user, login) -> None:  # type: ignore[no-untyped-def]
    rnd, panel = _one_panel_one_specialist(db)
    staff, boss = make_user("drawer", Role.staff), make_user("boss", Role.staff)
    client = login(staff)
    assert _draw(client, rnd.id, boss.id, per_panel="2", backups="1", max_per_org="0").status_code == 303
    reread(db)
    draw = db.exec(select(Draw)).one()
    for _ in range(2):  # a main declines, then the backup who came in declines too
        reread(db)
        pending = db.exec(select(DrawPick).where(DrawPick.status == "pending").order_by(DrawPick.position)).first()
        r = client.submit(
            f"/pool/draws/picks/{pending.id}", {"answer": "decline", "reason": "出差", "call_note": "电话告知"}
        )
    assert "备选专家已用完，请重新抽取" in r.text
    assert "人数 1 人，应为 2 人，差 1 人" in client.get(f"/pool/draws/{draw.id}").text


def _specialties(db: Session, expert_id: int) -> list[str]:
    from reviewapp.panels.models import Expert

    return json.loads(db.get(Expert, expert_id).specialties_json)


def test_two_staff_submitting_the_draw_at_the_same_moment_cannot_both_win(db, make_user, login) -> None:  # type: ignore[no-untyped-def]
    s = _scenario(db)
    boss = make_user("boss", Role.staff)
    browsers = [login(make_user(f"drawer{n}", Role.staff)) for n in range(2)]
    for b in browsers:  # both loaded the form when no draw existed (expected_seq 0)
        assert "冻结候选名单并抽取" in b.get(f"/pool/draws/rounds/{s['round'].id}").text
    start = threading.Barrier(2)
    answers: list = [None, None]

    def submit(n: int) -> None:
        start.wait()
        answers[n] = _draw(browsers[n], s["round"].id, boss.id, seed=f"2026100{n}")

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 303], [a.text[:500] for a in answers]
    loser = next(a for a in answers if a.status_code == 200)
    assert "其他工作人员刚刚对本批次进行了抽取" in loser.text
    reread(db)
    draws = db.exec(select(Draw)).all()
    assert len(draws) == 1 and draws[0].seq == 1 and draws[0].state == "drawn"
    assert {p.draw_id for p in db.exec(select(DrawPick)).all()} == {draws[0].id}
    assert len(db.exec(select(AuditEntry).where(AuditEntry.action == "pool.draw_freeze")).all()) == 1
    assert len(db.exec(select(AuditEntry).where(AuditEntry.action == "pool.draw")).all()) == 1


def test_the_suspension_threshold_and_default_length_are_settings(db, make_user, login) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime
    from decimal import Decimal

    from reviewapp.clock import today_beijing
    from reviewapp.panels.models import PanelMember
    from reviewapp.pool import rules

    staff = login(make_user("staff9", Role.staff))
    form = staff.get("/pool/settings")
    assert 'value="2.5"' in form.text and 'value="12"' in form.text  # the defaults
    assert 'href="/pool/settings"' in staff.get("/pool").text
    for below, months, error in [
        ("abc", "6", "暂停阈值应为数字"),
        ("6", "6", "暂停阈值应大于 1、不超过 5"),
        ("3.555", "6", "最多两位小数"),
        ("3.5", "99", "暂停期限应为 0–60 之间的整数"),
    ]:
        r = staff.submit("/pool/settings", {"suspend_below": below, "suspend_months": months, "row_version": "0"})
        assert r.status_code == 200 and error in r.text, (below, months)
    r = staff.submit(
        "/pool/settings", {"suspend_below": "3.5", "suspend_months": "6", "row_version": "0"}, follow_redirects=False
    )
    assert r.status_code == 303
    assert 'value="3.5"' in staff.get("/pool/settings").text and "最近修改" in staff.get("/pool/settings").text
    stale = staff.submit("/pool/settings", {"suspend_below": "2", "suspend_months": "3", "row_version": "0"})
    assert "专家库规则已被其他工作人员修改" in stale.text
    reread(db)
    assert db.exec(select(AuditEntry).where(AuditEntry.action == "pool.settings")).one().summary == (
        "专家评价综合得分低于 3.5 分暂停抽取，默认暂停 6 个月"
    )

    # an evaluation averaging 3.0 is below the new threshold: suspended for the new default length
    rnd = make_round(db)
    expert = make_expert(db, name="成员丙")
    panel = Panel(round_id=rnd.id, name="原材料组", industry_group="原材料", finalized_at=datetime.now(UTC))
    db.add(panel)
    db.commit()
    db.add(PanelMember(panel_id=panel.id, expert_id=expert.id))
    db.commit()
    page = staff.get(f"/pool/evaluations/{panel.id}")
    assert '<span id="suspend-below">3.5</span>' in page.text
    assert 'name="suspend_months" type="number" min="0" max="60" value="6"' in page.text
    marks = {"punctuality": "3", "quality": "3", "honesty": "3", "attendance": "3"}
    r = staff.submit(f"/pool/evaluations/{panel.id}/{expert.id}", marks, follow_redirects=False)
    assert r.status_code == 303
    reread(db)
    profile = db.exec(select(PoolProfile).where(PoolProfile.expert_id == expert.id)).one()
    expected = rules.suspension_end(
        score=Decimal(3), undeclared_conflict=False, today=today_beijing(), months=6, below=Decimal("3.5")
    )
    assert profile.status == "暂停" and profile.suspended_until == expected
    assert profile.status_reason == "专家评价综合 3.00 分，低于 3.5 分"
