"""Staff's home page: where each recent round stands, with links to the next piece of work."""

from tests.factories import make_application, make_round, make_scored_panel


def test_staff_home_shows_each_round_with_its_counts_and_stage(db, staff_client) -> None:  # type: ignore[no-untyped-def]
    rnd, _panel, _apps, _experts = make_scored_panel(db, totals=[[80, 82, 79], [70, 71, 72]])
    make_application(db, rnd)  # one still waiting for formal review
    empty = make_round(db, name="2026年度基础级智能工厂认定")
    page = staff_client.get("/").text
    row = page.split(rnd.name, 1)[1].split("</tr>", 1)[0]
    cells = [c.split("<", 1)[0].strip() for c in row.split('class="num">')[1:]]
    # 申报 3, 通过 2, 待审查 1 (a link), 专家组 1（0）, 已提交 6 (a link), 推荐 0
    assert "形式审查中" in row
    assert cells[:2] == ["3", "2"] and ">1</a>" in row and "1（0）" in row and ">6</a>" in row
    assert f"/rounds/{rnd.id}/recommendations" in row
    assert "待导入申报" in page.split(empty.name, 1)[1].split("</tr>", 1)[0]


def test_expert_home_is_their_review_list(db, make_user, login) -> None:  # type: ignore[no-untyped-def]
    from reviewapp.auth.models import Role

    expert = login(make_user("zhuanjia9", Role.expert))
    page = expert.get("/").text
    assert "评审批次进展" not in page
