"""The autosave's server CPU per save, in-process: one expert saving in a loop through litestar's TestClient, the
CPU time of the app's own threads (its event loop and its writer thread) read from /proc, so the client's work
in the test's thread is not counted."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from bench.servers import CSRF_RE, FIELD_RE, VERSION_RE
from reviewapp.settings import Settings


def thread_cpu_seconds(native_id: int) -> float:
    """utime + stime of one thread of this process."""
    fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def autosave_cpu_ms(settings: Settings, *, username: str, password: str, application_id: int, saves: int) -> float:
    """Server CPU milliseconds per save of `username`'s open sheet of `application_id` (after 20 warm-up saves)."""
    from litestar.testing import TestClient

    from reviewapp.app import create_app

    app = create_app(settings)
    with TestClient(app=app, base_url="http://testserver.local") as client:
        page = client.get("/login")
        client.post("/login", data={"username": username, "password": password,
                                     "_csrf_token": CSRF_RE.search(page.text).group(1)})  # type: ignore[union-attr]  # fmt: skip
        sheet = client.get(f"/expert/applications/{application_id}")
        token = CSRF_RE.search(sheet.text).group(1)  # type: ignore[union-attr]
        version = int(VERSION_RE.search(sheet.text).group(1))  # type: ignore[union-attr]
        name = FIELD_RE.findall(sheet.text)[0][0]
        threads = [
            client.blocking_portal.call(threading.get_native_id),  # type: ignore[attr-defined]
            app.state.writer.submit(threading.get_native_id).result(),
        ]

        def save(n: int) -> None:
            nonlocal version
            r = client.post(f"/expert/applications/{application_id}/save",
                            data={name: str(n % 2), "row_version": str(version), "_csrf_token": token},
                            headers={"HX-Request": "true"})  # fmt: skip
            match = VERSION_RE.search(r.text)
            assert r.status_code == 200 and match and "已保存" in r.text, r.text[:300]
            version = int(match.group(1))

        for n in range(20):
            save(n)
        before = sum(thread_cpu_seconds(t) for t in threads)
        for n in range(saves):
            save(n)
        return (sum(thread_cpu_seconds(t) for t in threads) - before) * 1000 / saves
