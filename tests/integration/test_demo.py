"""The demo a newcomer finds: a province in the middle of a 先进级 round, and every role's login on the login page
— only in a database holding the demo, and never when the app runs in production mode."""

from __future__ import annotations

from litestar.testing import TestClient
from sqlmodel import func, select

from reviewapp.applications.models import Application, Enterprise
from reviewapp.demo import load_demo
from reviewapp.objections.models import Objection
from reviewapp.panels.models import Expert, Panel
from reviewapp.publicity.models import PublicityPeriod
from reviewapp.reports.models import Report
from reviewapp.rounds.models import Round
from reviewapp.scoring.models import ScoreSheet

ROLE_LOGINS = {
    "staff": ("staff-demo-2026", "评审批次"),
    "expert1": ("expert-demo-2026", "我的评审"),
    "admin": ("admin-demo-2026", "用户管理"),
    "secadmin": ("secadmin-demo-2026", "安全策略"),
    "auditor": ("auditor-demo-2026", "操作日志"),
}


def test_the_login_page_shows_no_demo_logins_without_the_demo(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/login").text
    assert "演示账号" not in page and "staff-demo-2026" not in page


def test_demo_round_every_role_logs_in_and_the_logins_show_only_outside_production(db, settings, client, login) -> None:  # type: ignore[no-untyped-def]
    load_demo(db, settings=settings)
    db.commit()

    rnd = db.exec(select(Round)).one()
    assert rnd.tier == "advanced"
    assert db.exec(select(func.count()).select_from(Application)).one() == 60
    assert len(set(db.exec(select(Enterprise.city)).all())) > 5  # the province's cities
    assert len(db.exec(select(Panel)).all()) == 3 and len(db.exec(select(Expert)).all()) == 21
    states = set(db.exec(select(ScoreSheet.status)).all())
    assert {"draft", "submitted", "returned"} <= states
    assert db.exec(select(func.count()).select_from(Panel).where(Panel.finalized_at != None)).one() == 1  # noqa: E711
    assert db.exec(select(PublicityPeriod)).one().published_at is not None
    assert sorted(db.exec(select(Objection.state)).all()) == ["registered", "verifying"]
    assert db.exec(select(func.count()).select_from(Report)).one() >= 1

    page = client.get("/login").text
    assert "演示账号" in page
    for username, (password, _nav) in ROLE_LOGINS.items():
        assert username in page and password in page
    for username, (password, nav) in ROLE_LOGINS.items():
        home = login(username, password).get("/")
        assert home.status_code == 200 and nav in home.text, username

    staff = login("staff", "staff-demo-2026")
    assert "复核" in staff.get("/certifications/expiring").text

    from reviewapp.app import create_app

    with TestClient(app=create_app(settings.with_(mode="production", secret_key="p" * 48))) as production:
        page = production.get("/login").text
    assert "登录" in page and "演示账号" not in page and "staff-demo-2026" not in page
