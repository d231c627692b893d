"""REVIEWAPP_FILE_STORE=database: two app processes with their own data directories share one database, and an
attachment uploaded through one downloads, byte for byte, through the other."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlmodel import Session, select

from reviewapp.auth.models import Role
from reviewapp.files import StoredFile
from tests.conftest import PASSWORD
from tests.factories import make_application, make_round

CSRF_RE = re.compile(r'name="_csrf_token" value="([^"]+)"')


def serve(database_url: str, data_dir: Path) -> tuple[subprocess.Popen, str]:  # type: ignore[type-arg]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, REVIEWAPP_DATABASE_URL=database_url, REVIEWAPP_DATA_DIR=str(data_dir),
               REVIEWAPP_SECRET_KEY="t" * 40, REVIEWAPP_FILE_STORE="database")  # fmt: skip
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("reviewapp")),
            "serve",
            "--no-migrate",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],  # fmt: skip
        env=env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("reviewapp serve did not start")


def signed_in(base: str, username: str) -> httpx.Client:
    http = httpx.Client(base_url=base, timeout=30)
    page = http.get("/login")
    r = http.post("/login", data={"username": username, "password": PASSWORD, "_csrf_token": CSRF_RE.search(page.text).group(1)})  # type: ignore[union-attr]  # fmt: skip
    assert r.status_code == 303, r.text[:300]
    return http


def test_attachment_uploaded_through_one_process_downloads_through_another(db: Session, settings, make_user, tmp_path) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    make_user("staff1", Role.staff)
    application = make_application(db, make_round(db))
    db.commit()
    content = b"%PDF-1.7\n" + os.urandom(600 * 1024) + b"\n%%EOF\n"  # several chunks
    first, base1 = serve(settings.database_url, tmp_path / "one")
    second, base2 = serve(settings.database_url, tmp_path / "two")
    try:
        uploader = signed_in(base1, "staff1")
        r = uploader.post(
            f"/applications/{application.id}/attachments",
            data={"_csrf_token": uploader.cookies["csrftoken"]},
            files={"file": ("智能工厂佐证材料.pdf", content, "application/pdf")},
        )
        assert r.status_code == 303, r.text[:300]
        db.rollback()
        stored = db.exec(select(StoredFile).where(StoredFile.owner_id == application.id)).one()
        reader = signed_in(base2, "staff1")
        download = reader.get(f"/applications/{application.id}/attachments/{stored.id}")
        assert download.status_code == 200
        assert download.content == content
        assert download.headers["content-type"].startswith("application/pdf")
        assert not list((tmp_path / "one").rglob("*.pdf")) and not (tmp_path / "one" / "uploads").exists()
    finally:
        for proc in (first, second):
            proc.terminate()
            proc.wait(timeout=30)
