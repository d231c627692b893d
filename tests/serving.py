"""Test support: `reviewapp serve` as a real subprocess on a free port, and an HTTP visitor that logs in and posts
forms with the CSRF token, for tests about processes (crashes, several app servers on one database)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from reviewapp.settings import Settings

REVIEWAPP = str(Path(sys.executable).parent / "reviewapp")  # the console script of this virtualenv
CSRF_RE = re.compile(r'name="_csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment under which the `reviewapp` command sees the test's database, data folder and secret."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWAPP_")}
    env.update(
        {
            "REVIEWAPP_DATABASE_URL": settings.database_url,
            "REVIEWAPP_DATA_DIR": str(settings.data_dir),
            "REVIEWAPP_SECRET_KEY": settings.secret_key,
            "REVIEWAPP_LOGIN_MAX_FAILURES": str(settings.login_max_failures),
            "REVIEWAPP_CRYPTO": settings.crypto,
            "REVIEWAPP_CRYPTO_KEY": settings.crypto_key,
        }
    )
    env.update(extra)
    return env


def run_cli(settings: Settings, *args: str, timeout: float = 120, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [REVIEWAPP, *args], env=cli_env(settings, **extra), capture_output=True, text=True, timeout=timeout
    )


class ServedApp:
    """One `reviewapp serve` process (migrations are the test's: --no-migrate)."""

    def __init__(self, settings: Settings, **extra_env: str) -> None:
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [REVIEWAPP, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--no-migrate"],
            env=cli_env(settings, **extra_env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"reviewapp serve exited: {self.process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                if httpx.get(self.url + "/login", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("reviewapp serve did not answer within a minute")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing; what was committed is all that survives."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def visitor(self, cookies: httpx.Cookies | None = None) -> Visitor:
        return Visitor(self.url, cookies)

    def __enter__(self) -> ServedApp:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class Visitor(httpx.Client):
    """A browser-like client of a served app: the CSRF token from the cookie any GET sets, sent with each form."""

    def __init__(self, base_url: str, cookies: httpx.Cookies | None = None) -> None:
        super().__init__(base_url=base_url, cookies=cookies, timeout=30, follow_redirects=False)

    def csrf(self) -> str:
        token = self.cookies.get("csrftoken")
        if token is None:
            self.get("/login")
            token = self.cookies.get("csrftoken")
        assert token, "no CSRF cookie was set"
        return token

    def submit(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        return self.post(url, data={**(data or {}), "_csrf_token": self.csrf()}, **kwargs)

    def login(self, username: str, password: str) -> httpx.Response:
        page = self.get("/login")
        match = CSRF_RE.search(page.text)
        assert match, "the login page has no CSRF field"
        return self.post("/login", data={"username": username, "password": password, "_csrf_token": match.group(1)})
