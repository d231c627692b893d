"""Experts score on tablets and phones: at 768×1024 and 390×844 the score sheet has no horizontal scrolling, the
criteria come first (the application's facts fold into a closed panel above them), and the sheet's save state and
the submit button stay in view while the expert scrolls. Screenshots of both sizes are kept as test artifacts."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from reviewapp.applications.models import FormalStatus
from reviewapp.auth.models import Role
from tests.conftest import PASSWORD
from tests.e2e.conftest import ARTIFACTS, sign_in
from tests.factories import make_application, make_criteria_version, make_expert, make_panel, make_pledge, make_round

NO_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"
WIDE = """Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 3).map(e => [e.parentElement.tagName, e.parentElement.className, e.parentElement.getBoundingClientRect().left, e.parentElement.clientWidth, e.getBoundingClientRect().left, e.getBoundingClientRect().width].join(",") + " " + e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))"""


@pytest.mark.parametrize(("width", "height"), [(768, 1024), (390, 844)])
def test_score_sheet_fits_tablets_and_phones(page, db, make_user, width, height):
    version = make_criteria_version(db)
    rnd = make_round(db, criteria_version_id=version.id, scoring_deadline=datetime.now(UTC) + timedelta(days=2))
    user = make_user("pingban", Role.expert, display_name="李专家")
    expert = make_expert(db, user_id=user.id, name="李建国")
    panel = make_panel(db, rnd, [expert])
    app = make_application(
        db,
        rnd,
        formal_status=FormalStatus.passed.value,
        panel_id=panel.id,
        scenarios=[("生产作业", "在线智能检测"), ("生产管理", "车间智能排产")],
    )
    make_pledge(db, rnd, expert)

    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, "pingban", PASSWORD)
    expect(page.get_by_role("heading", name="我的评审")).to_be_visible()
    assert page.evaluate(NO_OVERFLOW), page.evaluate(WIDE)
    page.goto(f"/expert/applications/{app.id}")
    expect(page.get_by_role("heading", name="专家评分表")).to_be_visible()
    assert page.evaluate(NO_OVERFLOW), page.evaluate(WIDE)

    # Criteria first: the facts are folded, the first criterion is on the first screen.
    facts = page.locator("#sheet-facts")
    expect(facts).not_to_have_attribute("open", "")
    first = page.get_by_label("JB01 企业规模")
    expect(first).to_be_in_viewport()
    submit = page.get_by_role("button", name="检查并提交")
    expect(submit).to_be_in_viewport()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"score-sheet-{width}x{height}.png"), caret="initial")

    # Score one item: the sticky bar reports the save; scrolled to the far end of the form it is still in view.
    first.fill("8")
    first.press("Tab")
    expect(page.locator("#sheet-saved")).to_contain_text("已全部保存")
    page.get_by_role("textbox", name="评审意见").scroll_into_view_if_needed()
    expect(submit).to_be_in_viewport()
    expect(page.locator("#sheet-saved")).to_be_in_viewport()
    page.evaluate("window.scrollTo(0, document.body.scrollHeight / 2)")
    expect(submit).to_be_in_viewport()
    assert page.evaluate(NO_OVERFLOW), page.evaluate(WIDE)

    # The facts open on a tap, and still fit.
    facts.locator("summary").click()
    expect(facts.get_by_text(app.factory_name).first).to_be_visible()
    assert page.evaluate(NO_OVERFLOW), page.evaluate(WIDE)
    page.screenshot(path=str(ARTIFACTS / f"score-sheet-{width}x{height}-facts.png"), caret="initial")
