"""Benchmark: a 5,000-row official-format 名单汇总表 imported (preview, then commit); prints time and peak memory.

Runs on a fresh SQLite file by default; set REVIEWAPP_BENCH_DATABASE_URL to a PostgreSQL database to measure there
(its tables are dropped and rebuilt). Target: under 15 s in total and under 500 MB peak memory.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session, select

from reviewapp.applications import importing
from reviewapp.applications.models import Application, ApplicationScenario
from reviewapp.applications.sample_file import OFFICIAL_COLUMNS, CatalogueEntry, generate_rows, official_workbook
from reviewapp.audit import Actor
from reviewapp.db import create_db_engine, import_all_models
from reviewapp.rounds.models import Round, Scenario, Tier
from reviewapp.settings import Settings
from reviewapp.upgrade import upgrade

ROWS = int(os.environ.get("REVIEWAPP_BENCH_ROWS", "5000"))
EXTRA_COLUMNS = ("统一社会信用代码", "所在地市", "项目名称", "解决方案供应商", "联系人", "联系电话")


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-import-"))
    url = os.environ.get("REVIEWAPP_BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}"
    settings = Settings(database_url=url, data_dir=tmp)
    import_all_models()
    engine = create_db_engine(settings)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(settings)

    with Session(engine, expire_on_commit=False) as session:
        rnd = Round(name="2026年度先进级智能工厂遴选", year=2026, tier=Tier.advanced.value)
        session.add(rnd)
        session.commit()
        catalogue = [
            CatalogueEntry(s.name, s.stage)
            for s in session.exec(select(Scenario).where(Scenario.catalogue_version == rnd.scenario_catalogue_version))
        ]
    started = time.perf_counter()
    data = official_workbook(
        generate_rows(ROWS, catalogue=catalogue), columns=OFFICIAL_COLUMNS + EXTRA_COLUMNS, merge_enterprise=True
    )
    generated = time.perf_counter() - started
    print(f"生成 {ROWS} 行官方格式文件：{len(data) / 1048576:.1f} MB，用时 {generated:.1f} s（不计入）")

    t0 = time.perf_counter()
    with Session(engine, expire_on_commit=False) as session:
        preview = importing.preview_import(session, round_id=rnd.id, data=data, filename="bench.xlsx")  # type: ignore[arg-type]
    t1 = time.perf_counter()
    assert preview.ok, preview.errors[:5]
    with Session(engine.execution_options(reviewapp_sqlite_begin="IMMEDIATE"), expire_on_commit=False) as session:
        result = importing.commit_import(
            session,
            actor=Actor.system("基准测试"),
            round_id=rnd.id,
            data=data,
            filename="bench.xlsx",  # type: ignore[arg-type]
            today=date(2026, 5, 1),
        )
        session.commit()
    t2 = time.perf_counter()
    with Session(engine.execution_options(reviewapp_sqlite_begin="IMMEDIATE"), expire_on_commit=False) as session:
        again = importing.commit_import(
            session,
            actor=Actor.system("基准测试"),
            round_id=rnd.id,
            data=data,
            filename="bench.xlsx",  # type: ignore[arg-type]
            today=date(2026, 5, 1),
        )
        session.commit()
    t3 = time.perf_counter()
    with Session(engine) as session:
        apps = len(session.exec(select(Application.id)).all())
        scenarios = len(session.exec(select(ApplicationScenario.id)).all())
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = t2 - t0
    print(f"数据库：{engine.dialect.name}")
    print(f"预览：{t1 - t0:.2f} s；提交（含再次校验）：{t2 - t1:.2f} s；合计 {total:.2f} s（目标 < 15 s）")
    print(f"新增申报 {result.created} 条（库中 {apps} 条，场景 {scenarios} 条）")
    print(f"同一文件再次导入：{t3 - t2:.2f} s，新增 {again.created}、更新 {again.updated}、未变 {again.unchanged}")
    print(f"进程内存峰值（maxrss，含生成文件）：{rss_mb:.0f} MB（目标 < 500 MB）")
    engine.dispose()
    ok = total < 15 and rss_mb < 500 and result.created == ROWS and again.unchanged == ROWS
    print("结论：" + ("达标" if ok else "未达标"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
