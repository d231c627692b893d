"""The served app for the bench's web and autosave parts: real `reviewapp serve` subprocesses, their CPU time, and
the asyncio/httpx clients that sign in and load them."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench import province
from reviewapp.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SECRET = "b" * 40
CSRF_RE = re.compile(r'name="_csrf_token" value="([^"]+)"')
# The score sheet's version (on the page and in each autosave answer) and its score fields with their maxima.
VERSION_RE = re.compile(r'id="sheet-version" name="row_version" value="(\d+)"')
FIELD_RE = re.compile(r'name="(score-\d+)"[^>]*data-max="([\d.]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(settings: Settings, workers: int) -> tuple[subprocess.Popen, str]:  # type: ignore[type-arg]
    port = free_port()
    env = dict(os.environ, REVIEWAPP_DATABASE_URL=settings.database_url, REVIEWAPP_DATA_DIR=str(settings.data_dir),
               REVIEWAPP_SECRET_KEY=SECRET)  # fmt: skip
    command = [str(Path(sys.executable).with_name("reviewapp")), "serve", "--no-migrate", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers)]  # fmt: skip
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 180  # a loaded machine took 30 s to start one process
    import httpx

    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc, f"http://127.0.0.1:{port}"
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("reviewapp serve did not start")


def stop_server(proc: subprocess.Popen) -> None:  # type: ignore[type-arg]
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and all its descendants (uvicorn's workers), from /proc."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
    tree, changed = {pid}, True
    while changed:
        grown = {p for p, f in stats.items() if int(f[1]) in tree} | tree
        changed, tree = grown != tree, grown
    return sum(int(stats[p][11]) + int(stats[p][12]) for p in tree if p in stats) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent not idle (all cores, every process), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


async def sign_in(base: str, username: str, connections: int = 1):  # type: ignore[no-untyped-def]
    """A signed-in client; one connection (a browser tab), or several when many simulated clients share it."""
    import httpx

    http = httpx.AsyncClient(base_url=base, timeout=600, limits=httpx.Limits(max_connections=connections))
    page = await http.get("/login")
    r = await http.post("/login", data={"username": username, "password": province.PASSWORD,
                                        "_csrf_token": CSRF_RE.search(page.text).group(1)})  # type: ignore[union-attr]  # fmt: skip
    assert r.status_code == 303, r.text[:300]
    return http


async def sign_in_all(base: str, usernames: list[str]) -> list:  # type: ignore[type-arg]
    """Sign many in, ten at a time (a login is an argon2 check on purpose: 100 at once only measures a queue)."""
    gate = asyncio.Semaphore(10)

    async def one(username: str):  # type: ignore[no-untyped-def]
        async with gate:
            return await sign_in(base, username)

    return list(await asyncio.gather(*(one(u) for u in usernames)))


async def load(clients: list, urls: list[str], seconds: float) -> tuple[float, list[float], int]:  # type: ignore[type-arg]
    """Every client GETs its url in a loop for `seconds`: (requests/s, latencies, errors)."""
    latencies: list[float] = []
    errors = [0]
    end = time.perf_counter() + seconds

    async def one(http, url: str) -> None:  # type: ignore[no-untyped-def]
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            r = await http.get(url)
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200:
                errors[0] += 1

    start = time.perf_counter()
    await asyncio.gather(*(one(c, u) for c, u in zip(clients, urls, strict=True)))
    return len(latencies) / (time.perf_counter() - start), latencies, errors[0]


async def warm_up(clients: list, urls: list[str]) -> int:  # type: ignore[type-arg]
    """One request per client, all at once, not timed (the cold start of each session and page); the number of
    answers that were not 200."""
    answers = await asyncio.gather(*(c.get(u) for c, u in zip(clients, urls, strict=True)))
    return sum(1 for r in answers if r.status_code != 200)
