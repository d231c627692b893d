"""The chair's workbench and staff's ranking pages through HTTP: blindness until every sheet is in, decisions,
moves with reasons, finalization and its guards, staff reopening, and the round's recommendation list."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlmodel import Session, select

from reviewapp.audit import Actor
from reviewapp.audit.models import AuditEntry
from reviewapp.auth.models import Role, User
from reviewapp.panels.models import Expert, Panel
from reviewapp.ranking import decisions, recommendations
from reviewapp.ranking.models import PanelDecision
from reviewapp.rounds.models import Round
from reviewapp.scoring.models import ScoreSheet
from tests.conftest import Browser, reread
from tests.factories import make_scored_panel

OPINION = "该项目生产作业环节数字化水平较高，同意推荐。"
# totals[a][e]: expert e's total for application a. Application 0 has an outlier (expert 4: 60 vs ~82.75).
TOTALS = [[80, 82, 79, 90, 60], [70, 71, 72, 73, 74], [88, 86, 87, 85, 89]]


@dataclass
class World:
    db: Session
    rnd: Round
    panel: Panel
    apps: list  # type: ignore[type-arg]
    experts: list[Expert]
    users: list[User]
    login: object

    def browser(self, n: int) -> Browser:
        return self.login(self.users[n])  # type: ignore[operator,no-any-return]

    @property
    def base(self) -> str:
        return f"/expert/panels/{self.panel.id}"

    def panel_version(self) -> int:
        reread(self.db)
        return self.db.get(Panel, self.panel.id).row_version  # type: ignore[union-attr]

    def decide_all(self, chair: Browser) -> None:
        for app in self.apps:
            response = chair.submit(
                f"{self.base}/decisions/{app.id}",
                {"recommend": "yes", "group_opinion": OPINION, "row_version": "0"},
            )
            assert response.status_code == 200
        chair.submit(
            f"{self.base}/opinion",
            {"opinion": "本组评审意见一致，推荐三个项目。", "row_version": str(self.panel_version())},
        )


def _world(db, make_user, login, totals) -> World:  # type: ignore[no-untyped-def]
    users = [make_user(f"pingshen{i}", Role.expert, display_name=f"专家{i}") for i in range(len(totals[0]))]
    rnd, panel, apps, experts = make_scored_panel(db, totals=totals, users=users)
    return World(db, rnd, panel, apps, experts, users, login)


@pytest.fixture
def world(db, make_user, login) -> World:  # type: ignore[no-untyped-def]
    return _world(db, make_user, login, TOTALS)


def positions(html: str) -> list[str]:
    """Enterprise names in the order of the ranking table."""
    table = html.split('class="table ranking-table"', 1)[1]
    return re.findall(r'<a href="[^"]+/applications/\d+">([^<]+)</a>', table)


def name(world: World, index: int) -> str:
    from reviewapp.applications.models import Enterprise

    return world.db.get(Enterprise, world.apps[index].enterprise_id).name  # type: ignore[union-attr]


def test_chair_sees_no_scores_until_every_sheet_is_in(db, make_user, login) -> None:  # type: ignore[no-untyped-def]
    w = _world(db, make_user, login, TOTALS)
    sheet = db.exec(select(ScoreSheet).where(ScoreSheet.application_id == w.apps[1].id)).first()
    sheet.status = "draft"
    db.add(sheet)
    db.commit()
    page = w.browser(0).get(w.base)
    assert page.status_code == 200
    assert "全部评分表提交后" in page.text
    assert "ranking-table" not in page.text and "72.0" not in page.text
    assert w.browser(0).get(f"{w.base}/applications/{w.apps[0].id}").status_code == 404
    assert w.browser(0).get(f"{w.base}/calibration").status_code == 404


def test_chair_sees_ranking_aggregates_and_outlier_with_justification(world: World) -> None:
    page = world.browser(0).get(world.base).text
    assert positions(page) == [name(world, 2), name(world, 0), name(world, 1)]
    # Trimmed mean of 5: (80 + 82 + 79) / 3 = 80.3; the outlier is the 60 (others' mean 82.75, 22.8 lower).
    assert "80.3" in page and "87.0" in page and "72.0" in page
    assert "离群" in page and "低 22.8 分" in page
    assert "生产作业环节数字化覆盖全面" in page  # the outlying expert's opinion, shown beside it
    sheets = world.browser(0).get(f"{world.base}/applications/{world.apps[0].id}").text
    assert all(e.name in sheets for e in world.experts)
    assert "60" in sheets


def test_expert_who_is_not_chair_cannot_see_or_finalize(world: World) -> None:
    member = world.browser(1)
    assert member.get(world.base).status_code == 404
    assert member.get(f"{world.base}/calibration").status_code == 404
    response = member.submit(f"{world.base}/finalize", {"row_version": str(world.panel_version())})
    assert response.status_code == 404
    response = member.submit(
        f"{world.base}/decisions/{world.apps[0].id}", {"recommend": "yes", "group_opinion": OPINION, "row_version": "0"}
    )
    assert response.status_code == 404
    reread(world.db)
    assert world.db.get(Panel, world.panel.id).finalized_at is None  # type: ignore[union-attr]
    assert world.db.exec(select(PanelDecision)).first() is None


def test_chair_of_one_panel_cannot_touch_another(db, make_user, login, world: World) -> None:  # type: ignore[no-untyped-def]
    _rnd, other, other_apps, _experts = make_scored_panel(db, totals=[[50, 60, 70]], rnd=world.rnd)
    chair = world.browser(0)
    assert chair.get(f"/expert/panels/{other.id}").status_code == 404
    response = chair.submit(
        f"/expert/panels/{other.id}/decisions/{other_apps[0].id}",
        {"recommend": "yes", "group_opinion": OPINION, "row_version": "0"},
    )
    assert response.status_code == 404
    # Nor through its own panel's URL with the other panel's application.
    response = chair.submit(
        f"{world.base}/decisions/{other_apps[0].id}", {"recommend": "yes", "group_opinion": OPINION, "row_version": "0"}
    )
    assert response.status_code == 404 and "未找到该申报项目" in response.text
    assert chair.submit(f"/expert/panels/{other.id}/finalize", {"row_version": "1"}).status_code == 404
    reread(db)
    assert db.exec(select(PanelDecision)).first() is None


def test_move_needs_a_reason_and_is_printed_and_audited(world: World) -> None:
    chair = world.browser(0)
    target = world.apps[1]  # computed third
    response = chair.submit(f"{world.base}/moves/{target.id}", {"position": "1", "reason": ""})
    assert "请填写调整理由" in response.text
    assert positions(chair.get(world.base).text)[0] == name(world, 2)

    response = chair.submit(
        f"{world.base}/moves/{target.id}", {"position": "1", "reason": "现场核查材料更完整，质量追溯覆盖全部工序"}
    )
    assert "已调整名次" in response.text
    assert positions(response.text) == [name(world, 1), name(world, 2), name(world, 0)]
    assert "调整理由：现场核查材料更完整" in response.text and "计算名次 3" in response.text
    reread(world.db)
    entry = world.db.exec(select(AuditEntry).where(AuditEntry.action == "ranking.move")).one()
    assert "由第3名调整为第1名" in entry.summary and "现场核查材料更完整" in entry.summary

    response = chair.submit(f"{world.base}/moves/{target.id}/clear", {})
    assert positions(response.text)[-1] == name(world, 1)


def test_stale_decision_is_refused(world: World) -> None:
    chair = world.browser(0)
    app = world.apps[0]
    chair.submit(f"{world.base}/decisions/{app.id}", {"recommend": "yes", "group_opinion": OPINION, "row_version": "0"})
    response = chair.submit(
        f"{world.base}/decisions/{app.id}", {"recommend": "no", "group_opinion": "另一个窗口的意见", "row_version": "0"}
    )
    assert "已在其他窗口修改过" in response.text
    reread(world.db)
    decision = world.db.exec(select(PanelDecision).where(PanelDecision.application_id == app.id)).one()
    assert decision.recommend is True and decision.group_opinion == OPINION


def test_finalize_refused_until_complete_then_locks_sheets(world: World) -> None:
    chair = world.browser(0)
    response = chair.submit(f"{world.base}/finalize", {"row_version": str(world.panel_version())})
    assert "还不能定稿" in response.text and "尚未选择推荐或不推荐" in response.text
    world.decide_all(chair)
    response = chair.submit(f"{world.base}/finalize", {"row_version": str(world.panel_version())})
    assert "本专家组已定稿" in response.text
    reread(world.db)
    assert world.db.get(Panel, world.panel.id).finalized_at is not None  # type: ignore[union-attr]
    entry = world.db.exec(select(AuditEntry).where(AuditEntry.action == "ranking.finalize")).one()
    assert "推荐3个" in entry.summary and '"position":1' in (entry.after_json or "")

    # Sheets are locked: the chair can no longer return one, an expert can no longer save.
    sheet = world.db.exec(select(ScoreSheet).where(ScoreSheet.expert_id == world.experts[1].id)).first()
    response = chair.submit(f"{world.base}/sheets/{sheet.id}/return", {"reason": "请重新核对评分"})  # type: ignore[union-attr]
    assert "已定稿" in response.text
    reread(world.db)
    assert world.db.get(ScoreSheet, sheet.id).status == "submitted"  # type: ignore[union-attr]
    # Decisions are locked too.
    response = chair.submit(
        f"{world.base}/decisions/{world.apps[0].id}", {"recommend": "no", "group_opinion": OPINION, "row_version": "1"}
    )
    assert "已定稿" in response.text
    # A double submit of finalize is harmless.
    assert chair.submit(f"{world.base}/finalize", {"row_version": "1"}).status_code == 200


def test_only_staff_reopen_a_panel_and_only_with_a_reason(world: World, staff_client: Browser) -> None:
    chair = world.browser(0)
    world.decide_all(chair)
    chair.submit(f"{world.base}/finalize", {"row_version": str(world.panel_version())})
    staff_url = f"/rounds/{world.rnd.id}/ranking/panels/{world.panel.id}"
    assert chair.submit(f"{staff_url}/reopen", {"reason": "组长申请修改意见"}).status_code == 403

    response = staff_client.submit(f"{staff_url}/reopen", {"reason": ""})
    assert "请填写重新开放的原因" in response.text
    response = staff_client.submit(f"{staff_url}/reopen", {"reason": "组长申请修改第二名的专家组意见"})
    assert "已重新开放" in response.text
    reread(world.db)
    assert world.db.get(Panel, world.panel.id).finalized_at is None  # type: ignore[union-attr]
    entry = world.db.exec(select(AuditEntry).where(AuditEntry.action == "ranking.reopen")).one()
    assert "组长申请修改第二名" in entry.summary
    # The chair can act again.
    response = chair.submit(
        f"{world.base}/decisions/{world.apps[1].id}",
        {"recommend": "no", "group_opinion": "复议后不推荐。", "row_version": "1"},
    )
    assert "已保存专家组意见" in response.text


def test_staff_see_every_panel_and_calibration_experts_get_403(world: World, staff_client: Browser) -> None:
    index = staff_client.get(f"/rounds/{world.rnd.id}/ranking")
    assert index.status_code == 200 and world.panel.name in index.text and "待组长定稿" in index.text
    page = staff_client.get(f"/rounds/{world.rnd.id}/ranking/panels/{world.panel.id}").text
    assert "87.0" in page and "调整名次" not in page  # staff read; only the chair decides
    calibration = staff_client.get(f"/rounds/{world.rnd.id}/ranking/panels/{world.panel.id}/calibration").text
    assert "宽严度" in calibration and "标准分" in calibration and world.experts[4].name in calibration
    assert world.browser(1).get(f"/rounds/{world.rnd.id}/ranking").status_code == 403
    assert world.browser(1).get(f"/rounds/{world.rnd.id}/recommendations").status_code == 403


def test_recommendation_list_orders_by_score_and_staff_reorder_with_reason(
    db, make_user, login, staff_client: Browser
) -> None:  # type: ignore[no-untyped-def]
    w = _world(db, make_user, login, TOTALS)
    # A second panel in the same round with one strong application (90.0).
    _r, other, other_apps, other_experts = make_scored_panel(db, totals=[[90, 90, 90]], rnd=w.rnd)
    chair = w.browser(0)
    w.decide_all(chair)
    # Not recommending the weakest application of the first panel keeps it off the list.
    chair.submit(
        f"{w.base}/decisions/{w.apps[1].id}",
        {"recommend": "no", "group_opinion": "材料不足，不推荐。", "row_version": "1"},
    )
    chair.submit(f"{w.base}/finalize", {"row_version": str(w.panel_version())})

    url = f"/rounds/{w.rnd.id}/recommendations"
    page = staff_client.get(url).text
    assert "尚有 1 个专家组未定稿" in page
    assert name(w, 2) in page and name(w, 1) not in page.split("ranking-table", 1)[1]

    actor = Actor(user_id=None, name="测试")
    reread(db)  # end this session's read snapshot before it writes
    for app in other_apps:
        decisions.save_decision(
            db,
            actor=actor,
            chair=other_experts[0],
            panel_id=other.id,
            application_id=app.id,
            recommend=True,
            group_opinion=OPINION,
            row_version=0,
        )
    decisions.save_panel_opinion(
        db, actor=actor, chair=other_experts[0], panel_id=other.id, opinion="同意。", row_version=1
    )
    decisions.finalize_panel(db, actor=actor, chair=other_experts[0], panel_id=other.id, row_version=2)
    db.commit()

    view = recommendations.round_list(db, round_id=w.rnd.id)
    assert [r.application.id for r in view.listed] == [other_apps[0].id, w.apps[2].id, w.apps[0].id]
    assert dict(view.by_industry) == {"装备制造": 3}

    page = staff_client.get(url)
    assert f'href="{url}/moves/{w.apps[0].id}"' in page.text  # each line links to its reorder form
    form = staff_client.get(f"{url}/moves/{w.apps[0].id}")
    assert form.status_code == 200 and "调整到第几位" in form.text and "第 3 位（共 3 项）" in form.text
    assert f'name="row_version" value="{view.row_version}"' in form.text
    assert staff_client.get(f"{url}/moves/{w.apps[1].id}").status_code == 404  # not on the list
    response = staff_client.submit(
        f"{url}/moves/{w.apps[0].id}", {"position": "1", "reason": "", "row_version": str(view.row_version)}
    )
    assert "请填写调整理由" in response.text
    response = staff_client.submit(
        f"{url}/moves/{w.apps[0].id}",
        {"position": "1", "reason": "省级重点培育项目，优先推荐", "row_version": str(view.row_version)},
    )
    assert "已调整推荐顺序" in response.text and "推荐顺序调整：省级重点培育项目" in response.text
    reread(db)
    assert [r.application.id for r in recommendations.round_list(db, round_id=w.rnd.id).listed][0] == w.apps[0].id
    # The same (now stale) form again is refused.
    response = staff_client.submit(
        f"{url}/moves/{w.apps[2].id}",
        {"position": "1", "reason": "另一位工作人员的调整", "row_version": str(view.row_version)},
    )
    assert "推荐名单已被他人修改" in response.text
    assert db.exec(select(AuditEntry).where(AuditEntry.action == "ranking.list_move")).one()


def test_demo_has_a_finalized_panel_on_the_recommendation_list(db, settings, login) -> None:  # type: ignore[no-untyped-def]
    from reviewapp.demo import load_demo

    load_demo(db, settings=settings)
    db.commit()
    rnd = db.exec(select(Round)).one()
    view = recommendations.round_list(db, round_id=rnd.id)
    assert len(view.listed) >= 2 and any(r.notes for r in view.listed)  # the demo chair moved one, with a reason
    page = login("staff", "staff-demo-2026").get(f"/rounds/{rnd.id}/recommendations").text
    assert view.listed[0].enterprise.name in page and "专家组调整排序" in page


def test_application_the_chair_is_conflicted_with_is_settled_by_staff_before_finalizing(
    world: World, staff_client: Browser
) -> None:
    from reviewapp.panels.models import Conflict

    hidden = world.apps[1]
    world.db.add(
        Conflict(
            round_id=world.rnd.id,
            expert_id=world.experts[0].id,
            application_id=hidden.id,
            rule="declaration",
            evidence="评审前声明回避",
        )
    )
    world.db.commit()
    chair = world.browser(0)
    page = chair.get(world.base).text
    assert name(world, 1) not in page  # it does not exist for the chair
    for app in (world.apps[0], world.apps[2]):
        chair.submit(
            f"{world.base}/decisions/{app.id}", {"recommend": "yes", "group_opinion": OPINION, "row_version": "0"}
        )
    chair.submit(f"{world.base}/opinion", {"opinion": "本组意见一致。", "row_version": str(world.panel_version())})
    response = chair.submit(f"{world.base}/finalize", {"row_version": str(world.panel_version())})
    assert "与您存在回避关系，须由工作人员代为记录" in response.text
    reread(world.db)
    assert world.db.get(Panel, world.panel.id).finalized_at is None  # type: ignore[union-attr]

    staff_url = f"/rounds/{world.rnd.id}/ranking/panels/{world.panel.id}"
    # Staff may record only for the chair's conflicted application.
    response = staff_client.submit(
        f"{staff_url}/decisions/{world.apps[0].id}",
        {"recommend": "no", "group_opinion": "工作人员的意见", "row_version": "1"},
    )
    assert "工作人员只代为记录与组长存在回避关系的项目" in response.text
    response = staff_client.submit(
        f"{staff_url}/decisions/{hidden.id}",
        {"recommend": "yes", "group_opinion": "经其余四位专家合议，同意推荐。", "row_version": "0"},
    )
    assert "已代组长记录专家组意见" in response.text and "组长回避" in response.text
    response = chair.submit(f"{world.base}/finalize", {"row_version": str(world.panel_version())})
    assert "本专家组已定稿" in response.text
    reread(world.db)
    entry = world.db.exec(
        select(AuditEntry).where(AuditEntry.action == "ranking.decision").order_by(AuditEntry.seq.desc())
    ).first()
    assert "代组长记录" in entry.summary  # type: ignore[union-attr]


def test_staff_rounds_index_sheets_page_and_undoing_a_list_move(world: World, staff_client: Browser) -> None:
    index = staff_client.get("/ranking").text
    assert world.rnd.name in index and f"/rounds/{world.rnd.id}/recommendations" in index
    sheets = staff_client.get(f"/rounds/{world.rnd.id}/ranking/panels/{world.panel.id}/applications/{world.apps[0].id}")
    assert sheets.status_code == 200 and world.experts[4].name in sheets.text and "导出专家评分表" in sheets.text

    chair = world.browser(0)
    world.decide_all(chair)
    chair.submit(f"{world.base}/finalize", {"row_version": str(world.panel_version())})
    url = f"/rounds/{world.rnd.id}/recommendations"
    reread(world.db)
    version = recommendations.round_list(world.db, round_id=world.rnd.id).row_version
    staff_client.submit(
        f"{url}/moves/{world.apps[1].id}", {"position": "1", "reason": "省级重点培育项目", "row_version": str(version)}
    )
    reread(world.db)
    assert recommendations.round_list(world.db, round_id=world.rnd.id).listed[0].application.id == world.apps[1].id
    response = staff_client.submit(f"{url}/moves/{world.apps[1].id}/clear", {"row_version": str(version + 1)})
    assert "已恢复按得分排列的推荐顺序" in response.text
    reread(world.db)
    assert [r.application.id for r in recommendations.round_list(world.db, round_id=world.rnd.id).listed] == [
        world.apps[2].id,
        world.apps[0].id,
        world.apps[1].id,
    ]
    assert world.db.exec(select(AuditEntry).where(AuditEntry.action == "ranking.list_move_cleared")).one()
