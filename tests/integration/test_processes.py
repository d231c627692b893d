"""The app as real processes: a SIGKILL in the middle of a stream of autosaves loses no acknowledged save and
leaves the audit chain whole; two app processes on one database share sessions, saves and the login lockout."""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from reviewapp.applications.models import FormalStatus
from reviewapp.auth.models import Role
from reviewapp.rounds.models import CriteriaNode
from reviewapp.scoring.models import ItemScore, ScoreSheet, SheetVersion
from tests.conftest import PASSWORD, reread
from tests.factories import make_application, make_criteria_version, make_expert, make_panel, make_pledge, make_round
from tests.serving import ServedApp, Visitor, run_cli

HX = {"HX-Request": "true"}
VERSION_RE = re.compile(r'id="sheet-version" name="row_version" value="(\d+)"')


@pytest.fixture
def scoring(db, make_user):  # type: ignore[no-untyped-def]
    """An expert on a panel with two applications to score; returns (username, [application ids], item field)."""
    version = make_criteria_version(db)
    rnd = make_round(db, criteria_version_id=version.id, scoring_deadline=datetime.now(UTC) + timedelta(days=3))
    user = make_user("zhuanjia", Role.expert)
    expert = make_expert(db, user_id=user.id, name="评审专家甲")
    panel = make_panel(db, rnd, [expert], chair=expert)
    apps = [make_application(db, rnd, formal_status=FormalStatus.passed.value, panel_id=panel.id) for _ in range(2)]
    make_pledge(db, rnd, expert)
    node = db.exec(select(CriteriaNode).where(CriteriaNode.version_id == version.id, CriteriaNode.code == "SC02")).one()
    return user.username, [a.id for a in apps], node.id


class SaveStream:
    """Autosaves of one item, values 1, 2, 3 ... each with the version the previous answer gave; records what the
    server acknowledged (answered 200 "已保存") as value -> version, and stops at the first failed request."""

    def __init__(self, visitor: Visitor, application_id: int, node_id: int, limit: int = 10_000) -> None:
        self.visitor, self.application_id, self.node_id, self.limit = visitor, application_id, node_id, limit
        self.acknowledged: dict[int, int] = {}
        self.version = 0
        self.error: str | None = None
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        for value in range(1, self.limit + 1):
            try:
                response = self.visitor.submit(
                    f"/expert/applications/{self.application_id}/save",
                    {f"score-{self.node_id}": str(value % 40 + 1), "row_version": str(self.version)},
                    headers=HX,
                )
            except Exception as exc:  # the server went away: the stream ends here
                self.error = repr(exc)
                return
            match = VERSION_RE.search(response.text)
            if response.status_code != 200 or "已保存" not in response.text or not match:
                self.error = f"{response.status_code}: {response.text[:300]}"
                return
            self.version = int(match.group(1))
            self.acknowledged[self.version] = value % 40 + 1


def assert_all_present(db, stream: SaveStream) -> None:  # type: ignore[no-untyped-def]
    """Every acknowledged save is in the sheet's history, with its value."""
    reread(db)
    sheet = db.exec(select(ScoreSheet).where(ScoreSheet.application_id == stream.application_id)).one()
    assert sheet.row_version >= max(stream.acknowledged)
    history = {v.version: v for v in db.exec(select(SheetVersion).where(SheetVersion.sheet_id == sheet.id))}
    missing = [version for version in stream.acknowledged if version not in history]
    assert missing == [], f"acknowledged saves lost: versions {missing[:10]}"
    for version, value in stream.acknowledged.items():
        change = json.dumps(json.loads(history[version].change_json), ensure_ascii=False)
        assert re.search(rf"\b{value}(\.0+)?\b", change), (version, value, change)
    if sheet.row_version == max(stream.acknowledged):
        item = db.exec(
            select(ItemScore).where(ItemScore.sheet_id == sheet.id, ItemScore.node_id == stream.node_id)
        ).one()
        assert item.value == Decimal(stream.acknowledged[sheet.row_version])


def test_a_sigkill_mid_stream_loses_no_acknowledged_save_and_the_chain_verifies(db, settings, scoring):
    username, (app_id, _), node_id = scoring
    server = ServedApp(settings)
    try:
        visitor = server.visitor()
        assert visitor.login(username, PASSWORD).status_code == 303
        stream = SaveStream(visitor, app_id, node_id)
        stream.thread.start()
        deadline = datetime.now(UTC) + timedelta(seconds=60)
        while len(stream.acknowledged) < 40 and stream.error is None and datetime.now(UTC) < deadline:
            threading.Event().wait(0.02)
        assert len(stream.acknowledged) >= 40, stream.error
        server.kill()  # while saves are in flight
        stream.thread.join(timeout=30)
        assert stream.error is not None, "the stream ended when the server died"
    finally:
        server.stop()
    assert_all_present(db, stream)

    with ServedApp(settings) as restarted:
        # The session lives in the database: the same cookie goes on saving after the restart.
        again = SaveStream(restarted.visitor(cookies=visitor.cookies), app_id, node_id, limit=3)
        reread(db)
        again.version = db.exec(select(ScoreSheet).where(ScoreSheet.application_id == app_id)).one().row_version
        again.run()
        assert len(again.acknowledged) == 3, again.error
    verify = run_cli(settings, "audit", "verify")
    assert verify.returncode == 0 and "校验通过" in verify.stdout, verify.stdout + verify.stderr


def test_two_processes_share_sessions_and_lose_no_concurrent_save(db, settings, scoring):
    username, (app_a, app_b), node_id = scoring
    with ServedApp(settings) as one, ServedApp(settings) as two:
        first = one.visitor()
        assert first.login(username, PASSWORD).status_code == 303
        second = two.visitor(cookies=first.cookies)
        sheet = second.get(f"/expert/applications/{app_a}")
        assert sheet.status_code == 200 and 'name="row_version"' in sheet.text, (
            "a session made on one works on the other"
        )
        streams = [SaveStream(first, app_a, node_id, limit=40), SaveStream(second, app_b, node_id, limit=40)]
        for stream in streams:
            stream.thread.start()
        for stream in streams:
            stream.thread.join(timeout=120)
            assert stream.error is None and len(stream.acknowledged) == 40, stream.error
    for stream in streams:
        assert_all_present(db, stream)


def test_the_login_lockout_counts_failures_made_through_either_process(db, settings, make_user):
    make_user("zhouli", Role.staff)
    failures = settings.login_max_failures
    with ServedApp(settings) as one, ServedApp(settings) as two:
        for n in range(failures):
            server = one if n % 2 == 0 else two
            refused = server.visitor().login("zhouli", "wrong-password-9")
            assert refused.status_code == 200 and "用户名或密码错误" in refused.text
        for server in (one, two):
            locked = server.visitor().login("zhouli", PASSWORD)
            assert locked.status_code == 200 and "登录失败次数过多" in locked.text
