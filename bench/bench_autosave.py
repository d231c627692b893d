"""Benchmark: 100 experts autosaving their score sheets against one app worker on a SQLite file.

Run: .venv/bin/python bench/bench_autosave.py [--experts 100] [--seconds 10] [--rate 10] [--client-procs 2]
     [--server uvicorn|granian]

The app runs in a subprocess on 127.0.0.1 (one worker of uvicorn or granian, the `reviewapp serve` settings); the simulated
experts are httpx async clients, each signed in with its own session and its own sheet, spread over a few client
processes so that the clients are not the bottleneck. Phases, in one run:
  1. warm-up: every expert saves once (this creates the sheets: the full visibility check runs once per sheet);
  2. capacity: every expert saves as fast as its tab allows (one save at a time, the next as soon as the answer
     comes: htmx's queue) -> the maximum autosaves/s, with latencies that are mostly queueing;
  3. trivial endpoint: the same clients GET /healthz as fast as they can -> the app's floor;
  4. paced: every expert saves `--rate` times a second (100 x 10 = 1,000/s offered) -> achieved throughput and
     p50/p99 latency at that load (the issue's target: >= 1,000/s with p99 < 100 ms).
Afterwards the database is read directly: every acknowledged save must be in the sheet's history with its value,
and each item's stored value must be the last acknowledged one. Bounded: at most --seconds per phase; loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password-2026"
VERSION_RE = re.compile(r'id="sheet-version" name="row_version" value="(\d+)"')
FIELD_RE = re.compile(r'name="(score-\d+)"[^>]*data-max="([\d.]+)"')
CSRF_RE = re.compile(r'name="_csrf_token" value="([^"]+)"')
PANEL_SIZE = 5


# --- the data ------------------------------------------------------------------------------------


def seed(database_url: str, experts: int) -> list[tuple[str, int]]:
    """A round with the 先进级 template criteria, `experts` expert logins in panels of 5, one application each,
    pledges signed. Returns (username, application id) per expert."""
    from sqlmodel import Session, select

    from reviewapp.applications.models import Application, Enterprise, FormalStatus
    from reviewapp.audit import Actor
    from reviewapp.auth.models import Role, User
    from reviewapp.auth.passwords import hash_password
    from reviewapp.db import create_db_engine, writer_engine
    from reviewapp.panels.models import Expert, Panel, PanelMember, Pledge
    from reviewapp.panels.service import pledge_hash
    from reviewapp.rounds import service as rounds
    from reviewapp.rounds.models import CriteriaVersion
    from reviewapp.rounds.seeds import load_criteria_templates
    from reviewapp.settings import Settings
    from reviewapp.upgrade import upgrade

    settings = Settings(database_url=database_url, secret_key="b" * 40)
    upgrade(settings)
    engine = create_db_engine(settings)
    out: list[tuple[str, int]] = []
    with Session(writer_engine(engine), expire_on_commit=False) as db:
        load_criteria_templates(db)
        template = db.exec(select(CriteriaVersion).where(CriteriaVersion.is_template == True)).first()  # noqa: E712
        rnd = rounds.create_round(
            db,
            actor=Actor.system("基准测试"),
            name="基准测试批次",
            tier="advanced",
            year=2026,
            tz=settings.tz,
            settings={"criteria_version_id": template.id, "scoring_deadline": datetime.now(UTC) + timedelta(days=7)},
        )
        password_hash = hash_password(PASSWORD)  # one hash for all: argon2 is slow on purpose
        panel = None
        for n in range(experts):
            if n % PANEL_SIZE == 0:
                panel = Panel(round_id=rnd.id, name=f"基准专家组{n // PANEL_SIZE + 1}", industry_group="装备制造")
                db.add(panel)
                db.flush()
            user = User(
                username=f"bench{n:03d}",
                display_name=f"基准专家{n}",
                role=Role.expert.value,
                password_hash=password_hash,
            )
            db.add(user)
            db.flush()
            expert = Expert(user_id=user.id, name=f"基准专家{n}", employer="基准研究院")
            db.add(expert)
            db.flush()
            db.add(PanelMember(panel_id=panel.id, expert_id=expert.id, is_chair=n % PANEL_SIZE == 0))
            db.add(
                Pledge(
                    round_id=rnd.id,
                    expert_id=expert.id,
                    pledge_text_sha256=pledge_hash(rnd.pledge_text),
                    declaration_done_at=datetime.now(UTC),
                )
            )
            enterprise = Enterprise(
                credit_code=f"BENCH{n:013d}", name=f"基准企业{n}有限公司", industry_group="装备制造"
            )
            db.add(enterprise)
            db.flush()
            app = Application(
                round_id=rnd.id,
                enterprise_id=enterprise.id,
                serial=n + 1,
                factory_name=f"基准工厂{n}",
                tier="advanced",
                formal_status=FormalStatus.passed.value,
                panel_id=panel.id,
            )
            db.add(app)
            db.flush()
            out.append((user.username, app.id))
        db.commit()
    engine.dispose()
    return out


# --- the server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(database_url: str, port: int, http: str, loop: str, server: str) -> subprocess.Popen:  # type: ignore[type-arg]
    env = dict(os.environ, REVIEWAPP_DATABASE_URL=database_url, REVIEWAPP_SECRET_KEY="b" * 40)
    if server == "granian":
        command = [sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--host", "127.0.0.1",
                   "--port", str(port), "--workers", "1", "--log-level", "warning", "--no-access-log",
                   "--loop", loop, "reviewapp.app:create_app"]  # fmt: skip
    else:
        command = [sys.executable, "-m", "uvicorn", "reviewapp.app:create_app", "--factory", "--host", "127.0.0.1",
                   "--port", str(port), "--workers", "1", "--log-level", "warning", "--no-access-log", "--http", http,
                   "--loop", loop]  # fmt: skip
    proc = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the app did not start")


# --- the clients ---------------------------------------------------------------------------------


class Expert:
    def __init__(self, base: str, username: str, app_id: int, index: int) -> None:
        import httpx

        self.http = httpx.AsyncClient(base_url=base, timeout=30, limits=httpx.Limits(max_connections=1))
        self.username, self.app_id, self.index = username, app_id, index
        self.version = 0
        self.fields: list[tuple[str, float]] = []
        self.n = 0
        self.acks: list[tuple[int, int, str, str]] = []  # (app, version, field, value)

    async def sign_in(self) -> None:
        page = await self.http.get("/login")
        token = CSRF_RE.search(page.text).group(1)  # type: ignore[union-attr]
        r = await self.http.post("/login", data={"username": self.username, "password": PASSWORD, "_csrf_token": token})
        assert r.status_code == 303, r.text[:200]
        sheet = await self.http.get(f"/expert/applications/{self.app_id}")
        assert sheet.status_code == 200, sheet.text[:300]
        self.fields = [(name, float(mx)) for name, mx in FIELD_RE.findall(sheet.text)]
        self.version = int(VERSION_RE.search(sheet.text).group(1))  # type: ignore[union-attr]
        self.headers = {"HX-Request": "true", "x-csrftoken": self.http.cookies["csrftoken"]}

    def next_value(self) -> tuple[str, str]:
        name, mx = self.fields[self.n % len(self.fields)]
        steps = int(mx * 2)  # the template's step is 0.5
        lap = self.n // len(self.fields)
        self.n += 1
        return name, f"{((lap + self.index) % (steps + 1)) / 2:g}"

    async def save(self) -> float:
        name, value = self.next_value()
        start = time.perf_counter()
        r = await self.http.post(
            f"/expert/applications/{self.app_id}/save",
            data={name: value, "row_version": str(self.version)},
            headers=self.headers,
        )
        elapsed = time.perf_counter() - start
        match = VERSION_RE.search(r.text)
        if r.status_code != 200 or match is None or "已保存" not in r.text:
            raise RuntimeError(f"save refused: {r.status_code} {r.text[:300]}")
        new = int(match.group(1))
        if new != self.version:
            self.acks.append((self.app_id, new, name, value))
        self.version = new
        return elapsed


async def _run_clients(base: str, share: list[tuple[int, str, int]], ready, go, start_at, cfg: dict) -> dict:  # type: ignore[no-untyped-def]
    experts = [Expert(base, u, a, i) for i, u, a in share]
    sem = asyncio.Semaphore(10)

    async def login(e: Expert) -> None:
        async with sem:
            await e.sign_in()

    await asyncio.gather(*(login(e) for e in experts))
    ready.put(len(experts))
    await asyncio.get_running_loop().run_in_executor(None, go.wait)
    t0 = start_at.value
    seconds, rate = cfg["seconds"], cfg["rate"]
    result: dict = {"capacity": [], "trivial": [], "paced": [], "errors": []}

    async def until(t: float) -> None:
        await asyncio.sleep(max(0.0, t - time.time()))

    async def warm(e: Expert) -> None:
        await e.save()

    async def closed(e: Expert, end: float, out: list) -> None:  # type: ignore[type-arg]
        while time.time() < end:
            out.append(await e.save())

    async def trivial(e: Expert, end: float, out: list) -> None:  # type: ignore[type-arg]
        while time.time() < end:
            s = time.perf_counter()
            r = await e.http.get("/healthz")
            out.append(time.perf_counter() - s)
            assert r.text == "ok"

    async def paced(e: Expert, start: float, end: float, out: list) -> None:  # type: ignore[type-arg]
        interval = 1.0 / rate
        nxt = start + (e.index % 10) * interval / 10  # spread the experts over the interval
        while nxt < end:
            await until(nxt)
            elapsed = await e.save()
            if time.time() > end:
                break  # finished after the window: not counted
            out.append(elapsed)
            nxt = max(nxt + interval, time.time())  # a slow answer delays this tab's next save, as htmx queues it

    try:
        await until(t0)
        await asyncio.gather(*(warm(e) for e in experts))
        t1 = t0 + 5
        await until(t1)
        await asyncio.gather(*(closed(e, t1 + seconds, result["capacity"]) for e in experts))
        t2 = t1 + seconds + 2
        await until(t2)
        await asyncio.gather(*(trivial(e, t2 + seconds, result["trivial"]) for e in experts))
        t3 = t2 + seconds + 2
        await until(t3)
        await asyncio.gather(*(paced(e, t3, t3 + seconds, result["paced"]) for e in experts))
    except Exception as exc:  # reported, and the verification still runs on what was acknowledged
        result["errors"].append(repr(exc))
    result["acks"] = [a for e in experts for a in e.acks]
    for e in experts:
        await e.http.aclose()
    return result


def client_process(base, share, ready, go, start_at, cfg, out) -> None:  # type: ignore[no-untyped-def]
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    out.put(asyncio.run(_run_clients(base, share, ready, go, start_at, cfg)))


# --- verification and report ---------------------------------------------------------------------


def verify(db_path: str, acks: list[tuple[int, int, str, str]]) -> dict:
    conn = sqlite3.connect(db_path)
    rows = conn.execute(
        "SELECT s.application_id, v.version, v.change_json FROM score_sheet_version v JOIN score_sheet s ON s.id = v.sheet_id"
        " WHERE v.kind = 'save'"
    ).fetchall()
    stored = {(app, version): json.loads(change) for app, version, change in rows}
    missing = [a for a in acks if (a[0], a[1]) not in stored]
    wrong = [a for a in acks if (a[0], a[1]) in stored and (stored[(a[0], a[1])]["field"] != a[2]
             or stored[(a[0], a[1])].get("value") != a[3])]  # fmt: skip
    last: dict[tuple[int, str], tuple[int, str]] = {}
    for app, version, name, value in acks:
        if (app, name) not in last or last[(app, name)][0] < version:
            last[(app, name)] = (version, value)
    current = {
        (app, f"score-{node}"): value
        for app, node, value in conn.execute(
            "SELECT s.application_id, i.node_id, i.value FROM item_score i JOIN score_sheet s ON s.id = i.sheet_id"
        )
    }
    stale = [
        k for k, (_v, value) in last.items() if current.get(k) is None or abs(float(current[k]) - float(value)) > 1e-9
    ]
    conn.close()
    return {"acknowledged": len(acks), "in_history": len(stored), "missing": len(missing), "wrong_value": len(wrong),
            "final_value_mismatch": len(stale)}  # fmt: skip


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) and its child processes (granian runs its worker
    in a child), from /proc."""
    total, children = 0.0, {pid}
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
    changed = True
    while changed:
        grown = {p for p, f in stats.items() if int(f[1]) in children} | children
        changed, children = grown != children, grown
    for p in children:
        if p in stats:
            total += int(stats[p][11]) + int(stats[p][12])
    return total / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experts", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each measured phase")
    parser.add_argument("--rate", type=float, default=10.0, help="saves per second per expert in the paced phase")
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--http", default="auto", help="uvicorn's HTTP parser: auto (httptools if installed) or h11")
    parser.add_argument("--loop", default="auto", help="the event loop: auto (uvloop if installed) or asyncio")
    parser.add_argument("--server", default="uvicorn", choices=["uvicorn", "granian"], help="the ASGI server")
    args = parser.parse_args()

    load_at_start = os.getloadavg()[0]
    workdir = tempfile.mkdtemp(prefix="bench-autosave-")
    db_path = os.path.join(workdir, "bench.db")
    url = f"sqlite:///{db_path}"
    print(f"seeding {args.experts} experts into {db_path} …", flush=True)
    pairs = seed(url, args.experts)
    port = free_port()
    server = start_server(url, port, args.http, args.loop, args.server)
    base = f"http://127.0.0.1:{port}"
    try:
        ctx = mp.get_context("spawn")
        ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
        start_at = ctx.Value("d", 0.0)
        cfg = {"seconds": args.seconds, "rate": args.rate}
        shares = [
            [(i, u, a) for i, (u, a) in enumerate(pairs) if i % args.client_procs == k]
            for k in range(args.client_procs)
        ]
        procs = [ctx.Process(target=client_process, args=(base, s, ready, go, start_at, cfg, out)) for s in shares]
        for p in procs:
            p.start()
        signed = sum(ready.get(timeout=300) for _ in procs)
        print(f"{signed} experts signed in; running the phases ({args.seconds:g} s each) …", flush=True)
        t0 = start_at.value = time.time() + 1
        go.set()
        # The server's CPU time in each phase: a figure that does not depend on what else the machine runs.
        marks = {"capacity": t0 + 5, "trivial": t0 + 5 + args.seconds + 2, "paced": t0 + 5 + 2 * (args.seconds + 2)}
        cpu: dict[str, float] = {}
        for phase, begin in marks.items():
            time.sleep(max(0.0, begin - time.time()))
            before = cpu_seconds(server.pid)
            time.sleep(args.seconds)
            cpu[phase] = cpu_seconds(server.pid) - before
        results = [out.get(timeout=120 + 4 * args.seconds) for _ in procs]
        for p in procs:
            p.join(timeout=30)
    finally:
        server.terminate()
        server.wait(timeout=30)
    merged: dict = defaultdict(list)
    for r in results:
        for key, value in r.items():
            merged[key] += value
    checks = verify(db_path, merged["acks"])
    seconds = args.seconds
    capacity = len(merged["capacity"]) / seconds
    trivial = len(merged["trivial"]) / seconds
    paced = len(merged["paced"]) / seconds
    report = {
        "experts": args.experts,
        "server": f"{args.server}, 1 worker, http={args.http}, loop={args.loop}",
        "machine_load_average_at_start": round(load_at_start, 1),  # other work on the machine skews every figure
        "capacity_saves_per_s": round(capacity),
        "capacity_p50_ms": round(pct(merged["capacity"], 50), 1),
        "capacity_p99_ms": round(pct(merged["capacity"], 99), 1),
        "healthz_per_s": round(trivial),
        "healthz_p50_ms": round(pct(merged["trivial"], 50), 1),
        "capacity_vs_healthz": f"{capacity / trivial:.0%}" if trivial else "n/a",
        "paced_offered_per_s": round(args.experts * args.rate),
        "paced_saves_per_s": round(paced),
        "paced_p50_ms": round(pct(merged["paced"], 50), 1),
        "paced_p99_ms": round(pct(merged["paced"], 99), 1),
        "server_cpu_ms_per_save": round(cpu["capacity"] * 1000 / max(1, len(merged["capacity"])), 2),
        "server_cpu_ms_per_healthz": round(cpu["trivial"] * 1000 / max(1, len(merged["trivial"])), 2),
        "server_cpu_busy_capacity_phase": f"{cpu['capacity'] / seconds:.0%}",
        "verification": checks,
        "errors": merged["errors"],
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    ok = (
        not merged["errors"]
        and checks["missing"] == 0 and checks["wrong_value"] == 0 and checks["final_value_mismatch"] == 0
    )  # fmt: skip
    print("targets: ≥1,000 saves/s with p99 < 100 ms (paced), ≥25% of /healthz (capacity):",
          "met" if paced >= 1000 and pct(merged["paced"], 99) < 100 and trivial and capacity / trivial >= 0.25 else "NOT met")  # fmt: skip
    print("every acknowledged save present with its value:", "yes" if ok else "NO")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
