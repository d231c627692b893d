"""One benchmark of a province's review day: prints one table and writes bench/RESULTS.md.

    ./manage bench                       full sizes, SQLite (and PostgreSQL when REVIEWAPP_BENCH_DATABASE_URL is set)
    ./manage bench --quick               small sizes: a smoke run of every part in a few minutes
    ./manage bench --parts pages,web     only some parts (import, assign, ranking, exports, pages, web, autosave)
    ./manage bench --databases sqlite    only one database (sqlite, postgresql)

Parts, per database:
  import     a 5,000-row official-format 名单汇总表 previewed and committed (time; peak memory of the child process
             that does only this)
  assign     the province day (bench/province.py) is built; conflicts + automatic assignment timed
  ranking    the whole round's recommendation list (reading every sheet, ranking, merging the panels' decisions)
  exports    the official Excel exports of the round
  pages      in-process (litestar TestClient): each page's time (median) and SQL statement count
  web        real `reviewapp serve` subprocesses (1 and 2 app processes) and an asyncio/httpx load generator with
             50 concurrent clients: requests/s, p50, p99 of each page, and the ratio to /healthz in the same run
  draw       the expert draw of bench/bench_draw.py (300 experts, 40 panels): freeze the candidate list with the
             recusal rules, draw and record (time), and the pure draw rule
  autosave   100 concurrent experts saving their reopened sheets as fast as htmx lets them: saves/s, p50, p99,
             server CPU per save, and the check that every acknowledged save is stored
The PostgreSQL database's schema is dropped and rebuilt: never point REVIEWAPP_BENCH_DATABASE_URL at data you need.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, event, text  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from bench import inprocess, province  # noqa: E402
from bench.servers import (  # noqa: E402
    CSRF_RE,
    FIELD_RE,
    SECRET,
    VERSION_RE,
    cpu_seconds,
    load,
    machine_busy_seconds,
    sign_in,
    sign_in_all,
    start_server,
    stop_server,
    warm_up,
)
from reviewapp.db import create_db_engine, writer_engine  # noqa: E402
from reviewapp.models_registry import import_all_models  # noqa: E402
from reviewapp.settings import Settings  # noqa: E402
from reviewapp.upgrade import upgrade  # noqa: E402

PARTS = ("import", "draw", "assign", "ranking", "exports", "pages", "web", "autosave")


@dataclass(frozen=True)
class Sizes:
    applications: int
    experts: int
    panels: int
    big_panel: int
    import_rows: int
    clients: int
    autosave_experts: int
    seconds: float
    repeat: int


FULL = Sizes(2000, 300, 40, 250, 5000, 50, 100, 10.0, 20)
QUICK = Sizes(120, 60, 8, 30, 500, 10, 40, 2.0, 5)


# --- results --------------------------------------------------------------------------------------


@dataclass
class Row:
    database: str
    part: str
    what: str
    figure: str
    note: str = ""


ROWS: list[Row] = []


def record(database: str, part: str, what: str, figure: str, note: str = "") -> None:
    ROWS.append(Row(database, part, what, figure, note))
    print(f"  [{database}] {part:<8} {what:<40} {figure:<28} {note}", flush=True)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


# --- databases ------------------------------------------------------------------------------------


def fresh_settings(url: str, workdir: Path, name: str) -> Settings:
    """Settings for an empty, migrated database: a new SQLite file, or the PostgreSQL schema rebuilt."""
    data_dir = workdir / name
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    if not url:
        url = f"sqlite:///{(data_dir / 'bench.db').as_posix()}"
    settings = Settings(database_url=url, data_dir=data_dir, secret_key=SECRET)
    import_all_models()
    engine = create_db_engine(settings)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    upgrade(settings)
    return settings


@contextmanager
def counting_queries() -> Iterator[list[int]]:
    """Count every SQL statement any engine executes inside the block."""
    counter = [0]

    def count(*_args: object) -> None:
        counter[0] += 1

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield counter
    finally:
        event.remove(Engine, "before_cursor_execute", count)


# --- import ---------------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """This process's own peak resident memory (VmHWM: unlike ru_maxrss it does not inherit the parent's peak
    across fork + exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _import_child(url: str, data_dir: str, workbook: str, out: mp.Queue) -> None:  # type: ignore[type-arg]
    """Only the import runs in this process, so its peak memory is the import's (plus the interpreter's)."""
    from reviewapp.applications import importing
    from reviewapp.audit import Actor
    from reviewapp.rounds.models import Round, Tier

    settings = Settings(database_url=url, data_dir=Path(data_dir), secret_key=SECRET)
    import_all_models()
    engine = create_db_engine(settings)
    with Session(engine, expire_on_commit=False) as session:
        rnd = Round(name="2026年度先进级智能工厂遴选（导入）", year=2026, tier=Tier.advanced.value)
        session.add(rnd)
        session.commit()
    data = Path(workbook).read_bytes()
    rss_before = peak_rss_mb()
    t0 = time.perf_counter()
    with Session(engine, expire_on_commit=False) as session:
        preview = importing.preview_import(session, round_id=rnd.id, data=data, filename="bench.xlsx")  # type: ignore[arg-type]
    t1 = time.perf_counter()
    assert preview.ok, preview.errors[:5]
    with Session(writer_engine(engine), expire_on_commit=False) as session:
        result = importing.commit_import(session, actor=Actor.system("基准测试"), round_id=rnd.id, data=data,  # type: ignore[arg-type]
                                         filename="bench.xlsx", today=date(2026, 5, 1))  # fmt: skip
        session.commit()
    t2 = time.perf_counter()
    engine.dispose()
    out.put({"preview": t1 - t0, "commit": t2 - t1, "created": result.created, "size_mb": len(data) / 1048576,
             "rss_before": rss_before, "rss_peak": peak_rss_mb()})  # fmt: skip


def part_import(db: str, settings: Settings, sizes: Sizes) -> None:
    from reviewapp.applications.sample_file import OFFICIAL_COLUMNS, CatalogueEntry, generate_rows, official_workbook
    from reviewapp.rounds.models import Round, Scenario

    engine = create_db_engine(settings)
    with Session(engine) as session:
        version = Round(name="x", year=2026, tier="advanced").scenario_catalogue_version
        catalogue = [
            CatalogueEntry(s.name, s.stage)
            for s in session.exec(select(Scenario).where(Scenario.catalogue_version == version))
        ]
    engine.dispose()
    extra = ("统一社会信用代码", "所在地市", "项目名称", "解决方案供应商", "联系人", "联系电话")
    workbook = settings.data_dir / "import.xlsx"
    workbook.write_bytes(official_workbook(generate_rows(sizes.import_rows, catalogue=catalogue),
                                           columns=OFFICIAL_COLUMNS + extra, merge_enterprise=True))  # fmt: skip
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    child = ctx.Process(target=_import_child, args=(settings.database_url, str(settings.data_dir), str(workbook), out))  # fmt: skip
    child.start()
    r = out.get(timeout=900)
    child.join()
    record(db, "import", f"{r['created']} 行名单汇总表（{r['size_mb']:.1f} MB）预览+提交",
           f"{r['preview'] + r['commit']:.2f} s", f"预览 {r['preview']:.2f} s，提交 {r['commit']:.2f} s；"
           f"导入进程内存峰值 {r['rss_peak']:.0f} MB（导入前 {r['rss_before']:.0f} MB）")  # fmt: skip


# --- the expert draw -----------------------------------------------------------------------------


def part_draw(db: str, settings: Settings) -> None:
    from bench import bench_draw

    engine = create_db_engine(settings)
    try:
        r = bench_draw.measure(engine)
    finally:
        engine.dispose()
    record(db, "draw", f"专家抽取（{bench_draw.N_EXPERTS} 名专家，{bench_draw.N_PANELS} 个组）冻结+抽取",
           f"{r['total']:.2f} s", f"其中冻结候选名单（含回避）{r['frozen']:.2f} s，纯抽取规则 {r['pure'] * 1000:.0f} ms；"
           f"候选 {r['candidates']:.0f} 人，回避 {r['recused']:.0f} 人次，抽中 {r['picks']:.0f} 人")  # fmt: skip


# --- the province day -----------------------------------------------------------------------------


def build_day(db: str, settings: Settings, sizes: Sizes) -> province.Province:
    engine = create_db_engine(settings)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with Session(writer_engine(engine), expire_on_commit=False) as session:
        day = province.build(session, applications=sizes.applications, experts=sizes.experts,
                             panels_count=sizes.panels, big_panel=sizes.big_panel, timings=timings)  # fmt: skip
    engine.dispose()
    record(db, "assign", f"回避计算+自动分配（{sizes.applications} 项 × {sizes.panels} 组）",
           f"{timings['assign']:.2f} s", f"回避 {day.conflicts} 对；造数合计 {time.perf_counter() - t0:.1f} s（不计入），"
           f"评分表 {day.sheets} 份")  # fmt: skip
    return day


def part_ranking(db: str, settings: Settings, day: province.Province, sizes: Sizes) -> None:
    from reviewapp.ranking import recommendations as service

    engine = create_db_engine(settings)
    times = []
    for _ in range(2):
        with Session(engine) as session:
            t0 = time.perf_counter()
            view = service.round_list(session, round_id=day.round_id)
            times.append(time.perf_counter() - t0)
    engine.dispose()
    record(db, "ranking", f"全批次排名（round_list，{day.applications} 项）", f"{min(times):.2f} s",
           f"{len(getattr(view, 'entries', getattr(view, 'rows', [])))} 项入列")  # fmt: skip


def part_exports(db: str, settings: Settings, day: province.Province, sizes: Sizes) -> None:
    from reviewapp.ranking import exports

    engine = create_db_engine(settings)
    for kind, panel_id in (("recommendations", None), ("list", None), ("raw-scores", day.chair_panel_id), ("raw-scores", None)):  # fmt: skip
        with Session(engine) as session:
            t0 = time.perf_counter()
            try:
                file = exports.build(session, round_id=day.round_id, kind=kind, panel_id=panel_id)
            except Exception as exc:  # an export the day cannot make yet (e.g. panels not finalized) is reported
                record(db, "exports", kind, "—", f"未能导出：{getattr(exc, 'message', exc)}")
                continue
            elapsed = time.perf_counter() - t0
        scope = "一个组" if panel_id else "全批次"
        record(db, "exports", f"{kind}（{scope}）", f"{elapsed:.2f} s", f"{file.rows} 行/份，{len(file.data) / 1048576:.2f} MB")  # fmt: skip
    engine.dispose()


# --- pages ----------------------------------------------------------------------------------------


def page_urls(day: province.Province) -> list[tuple[str, str, str]]:
    """(label, who, url): who is "chair", "expert" (each client its own expert) or "staff"."""
    return [
        ("score sheet 评分表", "expert", "/expert/applications/{app}"),
        (f"chair panel page 组长页（{day.chair_panel_size}项×7）", "chair", f"/expert/panels/{day.chair_panel_id}"),
        ("expert home 专家首页", "expert", "/"),
        ("expert round list 批次页", "expert", f"/expert/rounds/{day.round_id}"),
        ("staff applications 50/页", "staff", f"/rounds/{day.round_id}/applications"),
        (f"recommendation list 推荐名单（{day.applications}项）", "staff", f"/rounds/{day.round_id}/recommendations"),
    ]


def part_pages(db: str, settings: Settings, day: province.Province, sizes: Sizes) -> None:
    from litestar.testing import TestClient

    from reviewapp.app import create_app

    app = create_app(settings)
    with TestClient(app=app, base_url="http://testserver.local") as anon:
        health = timed_in_process(anon, "/healthz", sizes.repeat)
        record(db, "pages", "/healthz（进程内）", f"{health[0]:.2f} ms", f"{health[1]} 条 SQL")
        clients = {}
        for who, username in (("chair", day.chair_username), ("staff", day.staff_username), ("expert", day.chair_username)):  # fmt: skip
            c = TestClient(app=app, base_url="http://testserver.local")
            # The app's event loop of the entered client: a client not entered starts a thread and an event loop
            # for every request, which was timed as the page's own cost (/healthz ran on the entered one).
            c.blocking_portal = anon.blocking_portal  # type: ignore[attr-defined]
            page = c.get("/login")
            r = c.post("/login", data={"username": username, "password": province.PASSWORD,
                                       "_csrf_token": CSRF_RE.search(page.text).group(1)}, follow_redirects=False)  # type: ignore[union-attr]  # fmt: skip
            assert r.status_code == 303, r.text[:300]
            clients[who] = c
        for label, who, url in page_urls(day):
            url = url.format(app=day.sheet_application[day.chair_username])
            ms, queries, size = timed_in_process(clients[who], url, sizes.repeat, size=True)
            record(db, "pages", f"{label}（进程内）", f"{ms:.1f} ms", f"{queries} 条 SQL，{size / 1024:.0f} KB")


def timed_in_process(client, url: str, repeat: int, size: bool = False):  # type: ignore[no-untyped-def]
    r = client.get(url)
    assert r.status_code == 200, f"{url}: {r.status_code} {r.text[:300]}"
    with counting_queries() as counter:
        client.get(url)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
    if size:
        return statistics.median(times), counter[0], len(r.content)
    return statistics.median(times), counter[0]


# --- the web part: pages under load ----------------------------------------------------------------


async def _web(db: str, base: str, day: province.Province, sizes: Sizes, workers: int) -> None:
    import httpx

    n = sizes.clients
    experts = [u for u in day.expert_usernames if u in day.sheet_application][:n]
    expert_clients = await sign_in_all(base, experts)
    chair = await sign_in(base, day.chair_username, connections=n)  # shared by the n clients of the chair's page
    staff = await sign_in(base, day.staff_username, connections=n)
    anon = [httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(max_connections=1)) for _ in range(n)]
    rate, lat, err = await load(anon, ["/healthz"] * n, sizes.seconds)
    tag = f"{workers} 进程"
    record(db, "web", f"/healthz，{n} 并发，{tag}", f"{rate:.0f}/s p50 {pct(lat, 50):.1f} ms", f"p99 {pct(lat, 99):.1f} ms")  # fmt: skip
    health = rate
    for label, who, url in page_urls(day):
        if who == "expert":
            clients = [expert_clients[i % len(expert_clients)] for i in range(n)]
            urls = [url.format(app=day.sheet_application[experts[i % len(experts)]]) for i in range(n)]
        else:
            clients, urls = [chair if who == "chair" else staff] * n, [url] * n
        cold = await warm_up(clients, urls)
        r, lat, err = await load(clients, urls, sizes.seconds)
        record(db, "web", f"{label}，{n} 并发，{tag}", f"{r:.1f}/s p50 {pct(lat, 50):.0f} ms",
               f"p99 {pct(lat, 99):.0f} ms；为 /healthz 的 {r / health:.2%}" + (f"；{err} 个错误" if err else "")
               + (f"；冷启动 {n} 个同时请求中 {cold} 个失败" if cold else ""))  # fmt: skip
    for c in [*expert_clients, chair, staff, *anon]:
        await c.aclose()


def part_web(db: str, settings: Settings, day: province.Province, sizes: Sizes, workers: int) -> None:
    proc, base = start_server(settings, workers)
    try:
        asyncio.run(_web(db, base, day, sizes, workers))
    finally:
        stop_server(proc)


# --- autosave -------------------------------------------------------------------------------------


def reopen_for_autosave(settings: Settings, day: province.Province, count: int) -> list[tuple[str, int]]:
    """Staff reopen one submitted sheet of `count` experts (through the scoring service): their open sheets."""
    from reviewapp.audit import Actor
    from reviewapp.auth.models import User
    from reviewapp.scoring import submission as service
    from reviewapp.scoring.models import ScoreSheet

    engine = create_db_engine(settings)
    pairs = []
    from reviewapp.panels.models import Panel
    from reviewapp.ranking import decisions as ranking

    with Session(writer_engine(engine), expire_on_commit=False) as session:
        staff = session.exec(select(User).where(User.username == day.staff_username)).one()
        for panel in session.exec(select(Panel).where(Panel.round_id == day.round_id, Panel.finalized_at != None)):  # noqa: E711
            ranking.reopen_panel(session, actor=Actor(staff.id, staff.username), panel_id=panel.id,  # type: ignore[arg-type]
                                 reason="基准测试：退回重新评分")  # fmt: skip
        users = {u.username: u.id for u in session.exec(select(User)).all()}
        from reviewapp.panels.models import Expert

        experts = {x.user_id: x.id for x in session.exec(select(Expert)).all()}
        for username in [u for u in day.expert_usernames if u in day.sheet_application][:count]:
            app_id = day.sheet_application[username]
            sheet = session.exec(select(ScoreSheet).where(ScoreSheet.application_id == app_id,
                                                          ScoreSheet.expert_id == experts[users[username]])).one()  # fmt: skip
            service.reopen_sheet(session, actor=Actor(staff.id, staff.username), round_id=day.round_id,  # type: ignore[arg-type]
                                 sheet_id=sheet.id, reason="基准测试：重新评分", now=datetime.now(UTC))  # type: ignore[arg-type]  # fmt: skip
            pairs.append((username, app_id))
        session.commit()
    engine.dispose()
    return pairs


async def _autosave(base: str, pairs: list[tuple[str, int]], seconds: float, server_pid: int) -> dict:  # type: ignore[type-arg]
    clients = await sign_in_all(base, [u for u, _a in pairs])
    acks: list[tuple[int, int]] = []
    latencies: list[float] = []
    errors: list[str] = []

    async def open_sheet(http, app_id: int) -> tuple[list[tuple[str, float]], int]:  # type: ignore[no-untyped-def]
        sheet = await http.get(f"/expert/applications/{app_id}")
        fields = [(name, float(mx)) for name, mx in FIELD_RE.findall(sheet.text)]
        assert fields, f"no score fields on the reopened sheet: {sheet.status_code} {sheet.text[:200]}"
        return fields, int(VERSION_RE.search(sheet.text).group(1))  # type: ignore[union-attr]

    opened = await asyncio.gather(*(open_sheet(c, a) for c, (_u, a) in zip(clients, pairs, strict=True)))

    async def expert(http, app_id: int, index: int, end: float) -> None:  # type: ignore[no-untyped-def]
        fields, version = opened[index]
        headers = {"HX-Request": "true", "x-csrftoken": http.cookies["csrftoken"]}
        n = 0
        while time.perf_counter() < end:
            name, mx = fields[n % len(fields)]
            value = f"{((n // len(fields) + index) % (int(mx * 2) + 1)) / 2:g}"
            n += 1
            t0 = time.perf_counter()
            r = await http.post(f"/expert/applications/{app_id}/save", data={name: value, "row_version": str(version)},
                                headers=headers)  # fmt: skip
            latencies.append(time.perf_counter() - t0)
            match = VERSION_RE.search(r.text)
            if r.status_code != 200 or match is None or "已保存" not in r.text:
                errors.append(f"{r.status_code} {r.text[:120]}")
                return
            if int(match.group(1)) != version:
                acks.append((app_id, int(match.group(1))))
            version = int(match.group(1))

    cpu_before, own_before, busy_before = cpu_seconds(server_pid), time.process_time(), machine_busy_seconds()
    end = time.perf_counter() + seconds
    start = time.perf_counter()
    await asyncio.gather(*(expert(c, a, i, end) for i, (c, (_u, a)) in enumerate(zip(clients, pairs, strict=True))))
    elapsed = time.perf_counter() - start
    cpu = cpu_seconds(server_pid) - cpu_before
    own, busy = time.process_time() - own_before, machine_busy_seconds() - busy_before
    for c in clients:
        await c.aclose()
    return {"acks": acks, "latencies": latencies, "errors": errors, "elapsed": elapsed, "cpu": cpu, "own": own,
            "busy": busy}  # fmt: skip


def part_autosave(db: str, settings: Settings, pairs: list[tuple[str, int]], sizes: Sizes, workers: int) -> None:
    from reviewapp.scoring.models import ScoreSheet, SheetVersion

    proc, base = start_server(settings, workers)
    try:
        r = asyncio.run(_autosave(base, pairs, sizes.seconds, proc.pid))
    finally:
        stop_server(proc)
    engine = create_db_engine(settings)
    with Session(engine) as session:
        stored = set(session.exec(select(ScoreSheet.application_id, SheetVersion.version)
                                  .join(ScoreSheet, ScoreSheet.id == SheetVersion.sheet_id)
                                  .where(SheetVersion.kind == "save")).all())  # fmt: skip
    engine.dispose()
    lost = sum(1 for a in r["acks"] if a not in stored)
    saves = len(r["latencies"])
    record(db, "autosave", f"{len(pairs)} 位专家并发自动保存，{workers} 进程", f"{saves / r['elapsed']:.0f}/s",
           f"p50 {pct(r['latencies'], 50):.0f} ms，p99 {pct(r['latencies'], 99):.0f} ms；丢失 {lost}；"
           f"服务端 CPU {r['cpu'] * 1000 / max(1, saves):.2f} ms/次；负载发生器 {r['own'] * 1000 / max(1, saves):.2f} ms/次；"
           f"整机（含数据库与其他进程）{r['busy'] * 1000 / max(1, saves):.2f} ms/次，CPU 利用 {r['busy'] / r['elapsed'] / (os.cpu_count() or 1):.0%}"
           + (f"；错误 {len(r['errors'])}" if r["errors"] else ""))  # fmt: skip


# --- the run --------------------------------------------------------------------------------------


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1048576:.1f} GB"
    except (OSError, ValueError):
        pass
    return (f"{platform.system()} {platform.release()}, {os.cpu_count()} CPU ({cpu}), RAM {mem}, Python "
            f"{platform.python_version()}, load average at start {os.getloadavg()[0]:.1f}")  # fmt: skip


def run_database(db: str, url: str, parts: set[str], sizes: Sizes, workdir: Path, processes: list[int]) -> None:
    print(f"== {db} ==", flush=True)
    if "import" in parts:
        part_import(db, fresh_settings(url, workdir, f"{db}-import"), sizes)
    if "draw" in parts:
        part_draw(db, fresh_settings(url, workdir, f"{db}-draw"))
    rest = parts - {"import", "draw"}
    if not rest:
        return
    settings = fresh_settings(url, workdir, f"{db}-day")
    day = build_day(db, settings, sizes)
    steps: list[tuple[str, Callable[[], None]]] = [
        ("ranking", lambda: part_ranking(db, settings, day, sizes)),
        ("exports", lambda: part_exports(db, settings, day, sizes)),
        ("pages", lambda: part_pages(db, settings, day, sizes)),
    ]
    for name, step in steps:
        if name in parts:
            step()
    if "web" in parts:
        for workers in processes:
            part_web(db, settings, day, sizes, workers)
    if "autosave" in parts:
        pairs = reopen_for_autosave(settings, day, sizes.autosave_experts)
        username, app_id = pairs[-1]  # the concurrent runs below read each sheet's version when they open it
        ms = inprocess.autosave_cpu_ms(settings, username=username, password=province.PASSWORD,
                                       application_id=app_id, saves=50 * sizes.repeat)  # fmt: skip
        record(
            db,
            "autosave",
            "进程内：一位专家连续保存",
            f"{ms:.2f} ms/次",
            "服务端 CPU（应用的事件循环线程与写入线程），不含客户端",
        )
        for workers in processes:
            part_autosave(db, settings, pairs, sizes, workers)


NOTES_MARKER = "<!-- 以下为人工撰写的解读（预算、剖析、差距），bench/run.py 重写上表时保留 -->"


def write_results(path: Path, sizes: Sizes, quick: bool, started: str, elapsed: float) -> str:
    lines = [
        "# 基准测试结果（bench/run.py）",
        "",
        f"- 运行：{started} UTC，用时 {elapsed:.0f} s，{'快速（--quick，小规模冒烟）' if quick else '完整规模'}",
        f"- 机器：{machine()}",
        f"- 规模：{sizes.applications} 个申报项目，{sizes.experts} 名专家，{sizes.panels} 个专家组（每组 7 人），"
        f"组长页的组 {sizes.big_panel} 项，20 个评分项 + 1 个门槛项；导入 {sizes.import_rows} 行；"
        f"页面并发 {sizes.clients}，自动保存 {sizes.autosave_experts} 位专家；每项负载 {sizes.seconds:g} s",
        "- 负载发生器：与应用同机的单个 asyncio/httpx 进程（会与应用争用 CPU）；应用为 `reviewapp serve --workers N`；"
        "每个页面先由全部客户端同时请求一次（冷启动，不计时，失败数写在说明里），再计时",
        "- 进程内页面：litestar TestClient，同一页面请求若干次取中位数；SQL 条数为一次请求执行的语句数",
        "",
        "| 数据库 | 部分 | 项目 | 结果 | 说明 |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {r.database} | {r.part} | {r.what} | {r.figure} | {r.note} |" for r in ROWS]
    text_ = "\n".join(lines) + "\n"
    # The reading of the figures (budgets, profiles, shortfalls) is written by hand below a marker and kept.
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if NOTES_MARKER in old:
        text_ += "\n" + NOTES_MARKER + old.split(NOTES_MARKER, 1)[1]
    path.write_text(text_, encoding="utf-8")
    return text_


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, short phases: a smoke run")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    parser.add_argument("--databases", default="", help="sqlite,postgresql (default: sqlite, plus postgresql "
                        "when REVIEWAPP_BENCH_DATABASE_URL is set)")  # fmt: skip
    parser.add_argument("--processes", default="1,2", help="app process counts for the web and autosave parts")
    parser.add_argument("--output", default=str(ROOT / "bench" / "RESULTS.md"))
    args = parser.parse_args()
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would bury the table
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    unknown = parts - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    pg_url = os.environ.get("REVIEWAPP_BENCH_DATABASE_URL", "")
    databases = [d.strip() for d in args.databases.split(",") if d.strip()] or (["sqlite"] + (["postgresql"] if pg_url else []))  # fmt: skip
    if "postgresql" in databases and not pg_url:
        parser.error("postgresql needs REVIEWAPP_BENCH_DATABASE_URL")
    sizes = QUICK if args.quick else FULL
    processes = [int(p) for p in args.processes.split(",")]
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    t0 = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="reviewapp-bench-"))
    try:
        for db in databases:
            run_database(db, pg_url if db == "postgresql" else "", parts, sizes, workdir, processes)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(write_results(Path(args.output), sizes, args.quick, started, time.perf_counter() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
