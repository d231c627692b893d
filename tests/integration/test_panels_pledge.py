"""The expert's side: nothing of a round before the pledge and the declaration; declarations act as conflicts."""

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from reviewapp.applications.models import Application, Enterprise
from reviewapp.audit import Actor
from reviewapp.audit.models import AuditEntry
from reviewapp.auth.models import Role
from reviewapp.panels import assignment, declarations, rules, service
from reviewapp.panels.models import Conflict, ExpertEmployment, ExpertRelation, Pledge
from reviewapp.rounds.models import Round
from tests.conftest import reread, reset_database
from tests.factories import make_application, make_enterprise, make_expert, make_panel, make_round

TODAY = date(2026, 6, 15)


def expert_world(db, make_user):  # type: ignore[no-untyped-def]
    user = make_user("e00001", Role.expert, display_name="李建国")
    rnd = make_round(db, name="2026年度先进级智能工厂遴选")
    me = make_expert(db, name="李建国", user_id=user.id)
    others = [make_expert(db, name=f"组员{i}") for i in range(4)]
    panel = make_panel(db, rnd, [me, *others], name="装备制造评审组")
    ent_a = make_enterprise(db, name="济南恒锐精密机械有限公司")
    ent_b = make_enterprise(db, name="淄博华联数控装备有限公司")
    app_a = make_application(
        db, rnd, ent_a, formal_status="passed", panel_id=panel.id, factory_name="恒锐数控加工智能工厂"
    )
    app_b = make_application(db, rnd, ent_b, formal_status="passed", panel_id=panel.id, factory_name="华联智能装配工厂")
    return user, rnd, me, panel, app_a, app_b


def test_expert_sees_nothing_of_a_round_before_pledge_and_declaration(db, make_user, login):
    user, rnd, me, panel, app_a, app_b = expert_world(db, make_user)
    browser = login(user)
    home = browser.get("/")
    assert 'href="/expert/rounds"' in home.text and "我的评审" in home.text
    mine = browser.get("/expert/rounds")
    assert "2026年度先进级智能工厂遴选" in mine.text and "装备制造评审组" in mine.text and "未签署承诺" in mine.text

    for url in (f"/expert/rounds/{rnd.id}", f"/expert/rounds/{rnd.id}/declaration"):
        response = browser.get(url, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == f"/expert/rounds/{rnd.id}/pledge"
    assert service.visible_applications(db, expert_id=me.id, round_id=rnd.id, today=TODAY) == []

    pledge_page = browser.get(f"/expert/rounds/{rnd.id}/pledge")
    assert rnd.pledge_text in pledge_page.text
    assert "恒锐" not in pledge_page.text, "the pledge page shows nothing of the applications"
    refused = browser.submit(f"/expert/rounds/{rnd.id}/pledge", {})
    assert "请勾选“本人已阅读并承诺遵守”" in refused.text
    signed = browser.submit(f"/expert/rounds/{rnd.id}/pledge", {"agree": "1"}, follow_redirects=False)
    assert signed.headers["location"] == f"/expert/rounds/{rnd.id}/declaration"
    assert browser.get(f"/expert/rounds/{rnd.id}", follow_redirects=False).headers["location"] == (
        f"/expert/rounds/{rnd.id}/declaration"
    )
    assert service.visible_applications(db, expert_id=me.id, round_id=rnd.id, today=TODAY) == []

    declaration = browser.get(f"/expert/rounds/{rnd.id}/declaration")
    assert "济南恒锐精密机械有限公司" in declaration.text and "淄博华联数控装备有限公司" in declaration.text
    assert "恒锐数控加工智能工厂" not in declaration.text, "the declaration lists enterprise names only"
    refused = browser.submit(f"/expert/rounds/{rnd.id}/declaration", {"enterprise_id": str(app_b.enterprise_id)})
    assert "请勾选“本人已逐一核对以上企业”" in refused.text
    done = browser.submit(
        f"/expert/rounds/{rnd.id}/declaration",
        {
            "enterprise_id": str(app_b.enterprise_id),
            f"reason_{app_b.enterprise_id}": "两年前为该企业提供过咨询",
            "confirm": "1",
        },
    )
    assert "回避声明已提交（声明回避 1 家企业）" in done.text
    assert "恒锐数控加工智能工厂" in done.text and "华联智能装配工厂" not in done.text

    reread(db)
    row = db.exec(select(Conflict).where(Conflict.expert_id == me.id)).one()
    assert (row.application_id, row.rule, row.evidence) == (
        app_b.id,
        "declaration",
        "专家本人声明存在利害关系：两年前为该企业提供过咨询",
    )
    assert [a.id for a in service.visible_applications(db, expert_id=me.id, round_id=rnd.id, today=TODAY)] == [app_a.id]
    actions = list(db.exec(select(AuditEntry.action).order_by(AuditEntry.seq)))
    assert "pledge.sign" in actions and "pledge.declare" in actions
    summary = db.exec(select(AuditEntry.summary).where(AuditEntry.action == "pledge.declare")).one()
    assert (
        summary
        == "李建国 提交「2026年度先进级智能工厂遴选」回避声明：声明与 1 家企业存在利害关系（淄博华联数控装备有限公司）"
    )


def test_new_assignments_and_a_changed_pledge_text_send_the_expert_back_through_the_gate(
    db, make_user, login, staff_client
):
    user, rnd, me, panel, app_a, _b = expert_world(db, make_user)
    actor = Actor.system("测试")
    service.sign_pledge(db, actor=actor, expert_id=me.id, round_id=rnd.id, agreed=True)
    declarations.submit_declaration(db, actor=actor, expert_id=me.id, round_id=rnd.id, declared={}, confirmed=True)
    db.commit()
    browser = login(user)
    assert browser.get(f"/expert/rounds/{rnd.id}").status_code == 200

    late = make_application(db, rnd, make_enterprise(db, name="新到企业有限公司"), formal_status="passed")
    staff_client.submit(f"/rounds/{rnd.id}/assignment/{late.id}", {"panel_id": str(panel.id)})
    response = browser.get(f"/expert/rounds/{rnd.id}", follow_redirects=False)
    assert response.headers["location"] == f"/expert/rounds/{rnd.id}/declaration", (
        "a new enterprise must be declared on"
    )
    assert "新到企业有限公司" in browser.get(f"/expert/rounds/{rnd.id}/declaration").text
    browser.submit(f"/expert/rounds/{rnd.id}/declaration", {"confirm": "1"})
    assert browser.get(f"/expert/rounds/{rnd.id}").status_code == 200

    reread(db)
    rnd_row = db.get(Round, rnd.id)
    rnd_row.pledge_text = rnd_row.pledge_text + "评审期间不得私自联系申报单位。"
    db.add(rnd_row)
    db.commit()
    assert (
        browser.get(f"/expert/rounds/{rnd.id}", follow_redirects=False).headers["location"]
        == f"/expert/rounds/{rnd.id}/pledge"
    )
    assert "承诺书已更新" in browser.get("/expert/rounds").text


def test_an_expert_outside_the_round_gets_nothing(db, make_user, login):
    _user, rnd, *_ = expert_world(db, make_user)
    stranger = make_user("e00099", Role.expert)
    make_expert(db, name="局外专家", user_id=stranger.id)
    browser = login(stranger)
    assert browser.get(f"/expert/rounds/{rnd.id}/pledge").status_code == 404
    assert browser.get(f"/expert/rounds/{rnd.id}").status_code == 404
    assert "您目前没有参加任何专家组" in browser.get("/expert/rounds").text
    unlinked = login(make_user("nobody", Role.expert))
    assert "尚未关联专家信息" in unlinked.get("/expert/rounds").text


# --- the guarantee, against the database ----------------------------------------------------------

ORGS = [
    ("甲机械有限公司", "91370000163044841F"),
    ("乙电子有限公司", "91110000100010433L"),
    ("丙集团有限公司", "91310000132204065H"),
]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=st.data())
def test_visible_applications_never_include_a_conflicted_one(engine, data):
    """Random experts, employment, relations, declarations and rule switches; after automatic assignment, every
    application an expert may see is conflict-free for that expert by the rules and by the stored declarations,
    and every placed application keeps the minimum of conflict-free scorers."""
    from sqlmodel import Session

    reset_database(engine)
    actor = Actor.system("测试")
    with Session(engine, expire_on_commit=False) as db:
        switches = {
            k: data.draw(st.booleans())
            for k in (
                "coi_same_credit_code",
                "coi_employment",
                "coi_provider",
                "coi_declared_relation",
                "coi_same_city",
            )
        }
        rnd = make_round(db, min_scorers=data.draw(st.integers(1, 3)), **switches)
        enterprises = [
            make_enterprise(db, credit_code=code, name=name, city=data.draw(st.sampled_from(["济南市", "青岛市"])))
            for name, code in ORGS
        ]
        experts = []
        for i in range(data.draw(st.integers(3, 6))):
            name, code = data.draw(st.sampled_from([*ORGS, ("某大学", "")]))
            expert = make_expert(
                db,
                name=f"专家{i}",
                employer=name,
                employer_credit_code=code,
                city=data.draw(st.sampled_from(["济南市", "烟台市"])),
            )
            for org_name, org_code in data.draw(st.lists(st.sampled_from(ORGS), max_size=2)):
                end = data.draw(st.one_of(st.none(), st.dates(date(2020, 1, 1), date(2026, 12, 31))))
                db.add(
                    ExpertEmployment(
                        expert_id=expert.id, employer=org_name, credit_code=org_code, start=date(2015, 1, 1), end=end
                    )
                )
            if data.draw(st.booleans()):
                org_name, org_code = data.draw(st.sampled_from(ORGS))
                db.add(
                    ExpertRelation(expert_id=expert.id, enterprise_name=org_name, credit_code=org_code, relation="其他")
                )
            db.commit()
            experts.append(expert)
        split = data.draw(st.integers(1, len(experts) - 1))
        make_panel(db, rnd, experts[:split], name="一组")
        make_panel(db, rnd, experts[split:], name="二组")
        [
            make_application(
                db,
                rnd,
                data.draw(st.sampled_from(enterprises)),
                formal_status=data.draw(st.sampled_from(["passed", "passed", "pending"])),
            )
            for _ in range(data.draw(st.integers(1, 6)))
        ]
        assignment.auto_assign(db, actor=actor, round_id=rnd.id, today=TODAY)
        for expert in experts:
            service.sign_pledge(db, actor=actor, expert_id=expert.id, round_id=rnd.id, agreed=True)
            items = declarations.declaration_items(db, expert_id=expert.id, round_id=rnd.id)
            declared = {i.enterprise_id: "声明" for i in items if data.draw(st.booleans())}
            declarations.submit_declaration(
                db, actor=actor, expert_id=expert.id, round_id=rnd.id, declared=declared, confirmed=True
            )
        db.commit()

        settings_now = rules.CoiSettings.of_round(rnd)
        facts = service.application_facts(db, round_id=rnd.id)
        experts_facts = service.expert_facts(db, [e.id for e in experts])
        declared_pairs = set(
            db.exec(select(Conflict.expert_id, Conflict.application_id).where(Conflict.rule == "declaration"))
        )
        membership = service.round_membership(db, rnd.id)
        for expert in experts:
            for app in service.visible_applications(db, expert_id=expert.id, round_id=rnd.id, today=TODAY):
                assert app.formal_status == "passed"
                assert expert.id in membership[app.panel_id]
                assert not rules.conflicts_between(
                    experts_facts[expert.id], facts[app.id], settings=settings_now, today=TODAY
                )
                assert (expert.id, app.id) not in declared_pairs
        for app in db.exec(select(Application).where(Application.round_id == rnd.id, Application.panel_id != None)):  # noqa: E711
            # Placement happened before the declarations: the automatic rules alone must leave enough scorers.
            free = [
                e
                for e in membership[app.panel_id]
                if not rules.conflicts_between(experts_facts[e], facts[app.id], settings=settings_now, today=TODAY)
            ]
            assert len(free) >= rnd.min_scorers


def test_pledge_records_the_text_it_was_signed_against(db, make_user):
    _user, rnd, me, *_ = expert_world(db, make_user)
    pledge = service.sign_pledge(db, actor=Actor.system("测试"), expert_id=me.id, round_id=rnd.id, agreed=True)
    db.commit()
    assert pledge.pledge_text_sha256 == service.pledge_hash(rnd.pledge_text)
    assert db.exec(select(Pledge)).one().declaration_done_at is None
    assert db.exec(select(Enterprise)).all()
