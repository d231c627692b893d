"""Regenerate the user guide's screenshots (docs/images/*.png) from the real app: `./manage docs`.

Starts the app on a temporary SQLite database holding the demo data, signs in as each role in headless Chromium
(1366×768, zh-CN, Beijing time) and saves one PNG per step the guide describes. Run it after changing a page the
guide shows, and commit the images with the change."""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
CHROMIUM = os.environ.get("REVIEWAPP_CHROMIUM", "/usr/bin/chromium")
VIEWPORT = {"width": 1366, "height": 768}


def _prepare_database() -> None:
    from click.testing import CliRunner

    from reviewapp.cli import main

    for args in (["db", "upgrade"], ["demo"]):
        result = CliRunner().invoke(main, args)
        if result.exit_code != 0:
            sys.exit(f"reviewapp {' '.join(args)} failed:\n{result.output}")


def _serve():  # type: ignore[no-untyped-def]
    import uvicorn

    from reviewapp.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            sys.exit("the app did not start")
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def _demo_ids() -> dict[str, int]:
    from sqlmodel import Session, select

    from reviewapp.applications.models import Application
    from reviewapp.auth.models import User
    from reviewapp.db import create_db_engine
    from reviewapp.panels import service as panels
    from reviewapp.panels.models import Expert
    from reviewapp.rounds.models import Round
    from reviewapp.scoring.models import ScoreSheet
    from reviewapp.settings import load_settings

    with Session(create_db_engine(load_settings())) as db:
        rnd = db.exec(select(Round)).one()
        chair_user = db.exec(select(User).where(User.username == "expert1")).one()
        chair = db.exec(select(Expert).where(Expert.user_id == chair_user.id)).one()
        panel = panels.expert_panels(db, expert_id=chair.id, round_id=rnd.id)[0]  # type: ignore[arg-type]
        expert_user = db.exec(select(User).where(User.username == "expert2")).one()
        expert = db.exec(select(Expert).where(Expert.user_id == expert_user.id)).one()
        draft = db.exec(
            select(ScoreSheet).where(ScoreSheet.expert_id == expert.id, ScoreSheet.status == "draft")
        ).first()
        returned = db.exec(select(ScoreSheet).where(ScoreSheet.status == "returned")).first()
        first_app = db.exec(
            select(Application).where(Application.round_id == rnd.id).order_by(Application.serial)
        ).first()
        return {
            "round": rnd.id,  # type: ignore[dict-item]
            "panel": panel.id,  # type: ignore[dict-item]
            "draft_app": draft.application_id if draft else first_app.id,  # type: ignore[union-attr]
            "returned_app": returned.application_id if returned else first_app.id,  # type: ignore[union-attr]
        }


def main() -> None:
    from playwright.sync_api import sync_playwright

    tmp = tempfile.mkdtemp(prefix="reviewapp-docs-")
    os.environ.update({"REVIEWAPP_DATA_DIR": tmp, "REVIEWAPP_MODE": "dev", "REVIEWAPP_DATABASE_URL": ""})
    _prepare_database()
    ids = _demo_ids()
    server, base = _serve()
    IMAGES.mkdir(parents=True, exist_ok=True)
    r, p = ids["round"], ids["panel"]
    # (role's username, password, [(image name, path, optional action before the shot)])
    Shot = tuple[str, str, Callable | None]  # type: ignore[type-arg]
    plan: list[tuple[str, str, list[Shot]]] = [
        ("staff", "staff-demo-2026", [
            ("staff-home", "/", None),
            ("staff-rounds", "/rounds", None),
            ("staff-round", f"/rounds/{r}", None),
            ("staff-import", f"/rounds/{r}/applications/import", None),
            ("staff-applications", f"/rounds/{r}/applications", None),
            ("staff-formal-review", f"/rounds/{r}/formal-review", None),
            ("staff-experts", "/experts", None),
            ("staff-panels", f"/rounds/{r}/panels", None),
            ("staff-panel", f"/rounds/{r}/panels/{p}", None),
            ("staff-assignment", f"/rounds/{r}/assignment", None),
            ("staff-scoring", f"/rounds/{r}/scoring", None),
            ("staff-ranking", f"/rounds/{r}/ranking", None),
            ("staff-recommendations", f"/rounds/{r}/recommendations", None),
            ("staff-spot-checks", f"/rounds/{r}/spot-checks", None),
            ("staff-publicity", f"/rounds/{r}/publicity", None),
            ("staff-objections", f"/objections?round_id={r}", None),
            ("staff-exports", f"/rounds/{r}/exports/", None),
            ("staff-certifications", "/certifications/expiring", None),
            ("staff-reports", "/reports", None),
            ("staff-help", "/help/", None),
        ]),
        ("expert2", "expert-demo-2026", [
            ("expert-home", "/", None),
            ("expert-round", f"/expert/rounds/{r}", None),
            ("expert-sheet", f"/expert/applications/{ids['draft_app']}", None),
        ]),
        ("expert1", "expert-demo-2026", [
            ("chair-home", "/", None),
            ("expert-returned", f"/expert/applications/{ids['returned_app']}", None),
            ("chair-panel", f"/expert/panels/{p}/", None),
        ]),
        ("admin", "admin-demo-2026", [("sysadmin-home", "/", None), ("sysadmin-users", "/admin/users", None)]),
        ("secadmin", "secadmin-demo-2026", [
            ("secadmin-roles", "/admin/roles", None),
            ("secadmin-policy", "/admin/policy", None),
        ]),
        ("auditor", "auditor-demo-2026", [("auditadmin-audit", "/audit", None)]),
    ]  # fmt: skip
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(base_url=base, viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai")
        page = context.new_page()
        page.goto("/login")
        page.screenshot(path=str(IMAGES / "login.png"), caret="initial")
        for username, password, shots in plan:
            context.clear_cookies()
            page.goto("/login")
            page.get_by_label("用户名").fill(username)
            page.get_by_label("密码").fill(password)
            page.get_by_role("button", name="登录").click()
            page.wait_for_load_state("networkidle")
            for name, path, action in shots:
                response = page.goto(path)
                if response is None or response.status >= 400:
                    sys.exit(f"{username} {path}: HTTP {response.status if response else '?'}")
                page.wait_for_load_state("networkidle")
                if action:
                    action(page)
                page.screenshot(path=str(IMAGES / f"{name}.png"), caret="initial")
                print(f"  docs/images/{name}.png")
        browser.close()
    server.should_exit = True
    _optimise()


def _optimise() -> None:
    """Fewer colours keep a page's PNG around 100 KB (text stays sharp: these are UI screenshots)."""
    from PIL import Image

    for path in IMAGES.glob("*.png"):
        with Image.open(path) as image:
            small = image.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        small.save(path, optimize=True)


if __name__ == "__main__":
    main()
