"""An expert signs in, signs the pledge, goes through the panel's enterprises and declares one conflict."""

from playwright.sync_api import expect
from sqlmodel import select

from reviewapp.auth.models import Role
from reviewapp.panels.models import Conflict
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.factories import make_application, make_enterprise, make_expert, make_panel, make_round


def test_expert_walks_through_pledge_and_declaration(page, db, make_user):
    user = make_user("e00007", Role.expert, display_name="周国栋")
    rnd = make_round(db, name="2026年度先进级智能工厂遴选")
    me = make_expert(db, name="周国栋", user_id=user.id)
    panel = make_panel(db, rnd, [me, *(make_expert(db) for _ in range(4))], name="装备制造评审组")
    kept = make_application(db, rnd, make_enterprise(db, name="济南恒锐精密机械有限公司"), formal_status="passed",
                            panel_id=panel.id, factory_name="恒锐数控加工智能工厂")  # fmt: skip
    declared = make_application(db, rnd, make_enterprise(db, name="淄博华联数控装备有限公司"), formal_status="passed",
                                panel_id=panel.id, factory_name="华联智能装配工厂")  # fmt: skip

    sign_in(page, "e00007", PASSWORD)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的评审").click()
    card = page.get_by_role("region", name="2026年度先进级智能工厂遴选")
    expect(card).to_contain_text("未签署承诺")
    expect(card).not_to_contain_text("恒锐数控加工智能工厂")  # nothing of the round before the pledge
    card.get_by_role("link", name="阅读并签署承诺").click()

    expect(page.get_by_role("heading", name="保密与公正承诺")).to_be_visible()
    expect(page.get_by_text("对评审材料、评审过程和评审结果严格保密")).to_be_visible()
    page.get_by_label("本人已阅读并承诺遵守以上内容").check()
    page.get_by_role("button", name="签署承诺").click()

    expect(page.get_by_role("heading", name="回避声明")).to_be_visible()
    expect(page.get_by_text("已签署承诺。请逐一核对本组申报企业")).to_be_visible()
    expect(page.get_by_role("cell", name="济南恒锐精密机械有限公司", exact=True)).to_be_visible()
    expect(page.get_by_text("恒锐数控加工智能工厂")).to_have_count(0)
    page.get_by_label("声明回避 淄博华联数控装备有限公司").check()
    page.get_by_label("淄博华联数控装备有限公司 的说明").fill("配偶在该企业任技术总监")
    page.get_by_label("本人已逐一核对以上企业，如实声明").check()
    page.get_by_role("button", name="提交回避声明").click()

    expect(page.get_by_text("回避声明已提交（声明回避 1 家企业）。")).to_be_visible()
    expect(page.get_by_role("cell", name="恒锐数控加工智能工厂", exact=True)).to_be_visible()
    expect(page.get_by_text("华联智能装配工厂")).to_have_count(0)

    page.goto("/expert/rounds")
    card = page.get_by_role("region", name="2026年度先进级智能工厂遴选")
    expect(card).to_contain_text("共 1 项")  # the declared enterprise is not counted
    expect(card.get_by_text("华联智能装配工厂")).to_have_count(0)
    card.get_by_role("link", name="进入评审列表").click()
    expect(page.get_by_role("cell", name="恒锐数控加工智能工厂", exact=True)).to_be_visible()
    expect(page.get_by_text("华联智能装配工厂")).to_have_count(0)

    db.rollback()
    conflict = db.exec(select(Conflict).where(Conflict.expert_id == me.id)).one()
    assert conflict.application_id == declared.id and conflict.rule == "declaration"
    assert conflict.evidence == "专家本人声明存在利害关系：配偶在该企业任技术总监"
    assert kept.id != declared.id
