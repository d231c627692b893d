"""The expert's round list at a panel's size: 50 applications a page, a search by enterprise, factory or serial and a
status filter; the home page summarises the round. Neither ever shows an application of another panel or one the
expert is conflicted with (stored, or by the rules evaluated now), whatever is searched or filtered."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from reviewapp.applications.models import FormalStatus
from reviewapp.auth.models import Role
from reviewapp.panels.models import Conflict
from reviewapp.scoring.models import ScoreSheet, SheetStatus
from tests.factories import (
    make_application,
    make_criteria_version,
    make_enterprise,
    make_expert,
    make_panel,
    make_pledge,
    make_round,
)

PASSED = FormalStatus.passed.value
MINE = 60  # applications on the expert's panel, two of them conflicted: 58 to score, two pages


@pytest.fixture
def world(db: Session, make_user, login):  # type: ignore[no-untyped-def]
    version = make_criteria_version(db)
    rnd = make_round(db, criteria_version_id=version.id, scoring_deadline=datetime.now(UTC) + timedelta(days=3))
    user = make_user("liebiao1", Role.expert, display_name="列表专家")
    expert = make_expert(db, user_id=user.id, name="列表专家", employer="某某装备集团有限公司",
                         employer_credit_code="91370000EMPLOYER01", city="青岛市")  # fmt: skip
    other = make_expert(db, name="他组专家")
    panel = make_panel(db, rnd, [expert], chair=expert)
    other_panel = make_panel(db, rnd, [other])
    apps = [
        make_application(
            db,
            rnd,
            make_enterprise(db, name=f"列表企业{n:02d}有限公司"),
            formal_status=PASSED,
            panel_id=panel.id,
            serial=1000 + n,
        )  # fmt: skip
        for n in range(1, MINE + 1)
    ]
    # Conflicted by the rules evaluated now (the expert's own employer; no stored conflict) and by a stored one.
    live = make_application(db, rnd, make_enterprise(db, name="某某装备集团有限公司", credit_code="91370000EMPLOYER01"),
                            formal_status=PASSED, panel_id=panel.id, serial=1031)  # fmt: skip
    stored = apps[9]
    db.add(Conflict(round_id=rnd.id, expert_id=expert.id, application_id=stored.id, rule="declaration",
                    evidence="专家本人声明存在利害关系"))  # fmt: skip
    theirs = [
        make_application(
            db,
            rnd,
            make_enterprise(db, name=f"他组企业{n}有限公司"),
            formal_status=PASSED,
            panel_id=other_panel.id,
            serial=2000 + n,
        )  # fmt: skip
        for n in range(3)
    ]
    submitted = apps[2]
    db.add(ScoreSheet(round_id=rnd.id, panel_id=panel.id, application_id=submitted.id, expert_id=expert.id,
                      criteria_version_id=version.id, status=SheetStatus.submitted.value))  # fmt: skip
    make_pledge(db, rnd, expert)
    make_pledge(db, rnd, other)
    db.commit()
    visible = [a for a in apps if a.id != stored.id]  # in serial order; `live` is not among them
    return {"rnd": rnd, "browser": login(user), "visible": visible, "hidden": [live, stored, *theirs],
            "submitted": submitted}  # fmt: skip


def listed_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/expert/applications/(\d+)"', html)]


def test_the_round_list_pages_fifty_at_a_time_and_page_two_shows_the_51st(world) -> None:  # type: ignore[no-untyped-def]
    b, rnd, visible = world["browser"], world["rnd"], world["visible"]
    first = b.get(f"/expert/rounds/{rnd.id}")
    assert first.status_code == 200
    assert listed_ids(first.text) == [a.id for a in visible[:50]]
    assert "共 <strong>59</strong> 项" in first.text  # counts are the whole round's, not the page's
    assert 'rel="next"' in first.text and "page=2" in first.text and "第 1 / 2 页" in first.text
    second = b.get(f"/expert/rounds/{rnd.id}?page=2")
    assert listed_ids(second.text) == [a.id for a in visible[50:]]
    assert visible[50].factory_name in second.text and 'rel="prev"' in second.text
    beyond = b.get(f"/expert/rounds/{rnd.id}?page=99")  # a page past the end shows the last one
    assert listed_ids(beyond.text) == [a.id for a in visible[50:]]


def test_search_by_enterprise_name_or_serial_and_filter_by_status(world) -> None:  # type: ignore[no-untyped-def]
    b, rnd, visible = world["browser"], world["rnd"], world["visible"]
    found = b.get(f"/expert/rounds/{rnd.id}", params={"q": "列表企业57"})
    assert listed_ids(found.text) == [visible[55].id] and 'value="列表企业57"' in found.text
    by_serial = b.get(f"/expert/rounds/{rnd.id}", params={"q": "1005"})
    assert listed_ids(by_serial.text) == [visible[4].id]
    done = b.get(f"/expert/rounds/{rnd.id}", params={"status": "submitted"})
    assert listed_ids(done.text) == [world["submitted"].id] and "清除筛选" in done.text
    todo = b.get(f"/expert/rounds/{rnd.id}", params={"status": "todo"})
    assert world["submitted"].id not in listed_ids(todo.text) and "第 1 / 2 页" in todo.text
    nothing = b.get(f"/expert/rounds/{rnd.id}", params={"q": "不存在的企业"})
    assert nothing.status_code == 200 and listed_ids(nothing.text) == [] and "没有符合条件的项目" in nothing.text
    odd = b.get(f"/expert/rounds/{rnd.id}", params={"status": "<script>", "page": "abc"})
    assert odd.status_code == 200 and listed_ids(odd.text) == [a.id for a in visible[:50]]


def test_other_panels_and_conflicted_applications_never_appear(world) -> None:  # type: ignore[no-untyped-def]
    b, rnd = world["browser"], world["rnd"]
    pages = [b.get("/"), b.get("/expert/rounds")]
    pages += [b.get(f"/expert/rounds/{rnd.id}", params={"page": str(n)}) for n in (1, 2)]
    pages += [b.get(f"/expert/rounds/{rnd.id}", params={"q": q}) for q in ("他组企业", "某某装备集团", "列表企业10")]
    pages += [b.get(f"/expert/rounds/{rnd.id}", params={"status": s}) for s in ("todo", "new", "submitted")]
    for page in pages:
        assert page.status_code == 200
        for app in world["hidden"]:
            assert app.factory_name not in page.text, (app.factory_name, page.url)
            assert f'href="/expert/applications/{app.id}"' not in page.text
    for app in world["hidden"]:
        assert b.get(f"/expert/applications/{app.id}").status_code == 404


def test_home_summarises_the_round_with_counts_and_the_next_step(world) -> None:  # type: ignore[no-untyped-def]
    b, rnd = world["browser"], world["rnd"]
    home = b.get("/").text
    assert rnd.name in home and f'href="/expert/rounds/{rnd.id}"' in home
    assert "共 <strong>59</strong> 项" in home and re.search(r"已提交 <strong>1</strong>", home)
    assert "还有 <strong>58</strong> 项待评分" in home and f'href="/expert/rounds/{rnd.id}?status=todo"' in home
    assert "剩余 2 天" in home and "/expert/applications/" not in home
