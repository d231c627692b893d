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
