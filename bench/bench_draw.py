"""Benchmark: one expert draw (抽取) for a large round (target: under 2 s).

300 experts in the pool (each with 2 employment entries, some at applicants: planted conflicts; a third from
outside the province; a few suspended), 40 panels with 20 applications each. Timed: what the 冻结候选名单并抽取
button does — read the pool, recusal with the panels' conflict rules, freeze and hash the candidate list, draw
5 main + 1 backup experts per panel with the conditions, write the picks, audit — and the pure draw alone.

    .venv/bin/python bench/bench_draw.py                      # SQLite file under bench/out/
    .venv/bin/python bench/bench_draw.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test_pool
      (the PostgreSQL schema is dropped and rebuilt: never point it at a database you need)
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, insert, text  # noqa: E402
from sqlmodel import Session, func, select  # noqa: E402

from reviewapp.applications.models import INDUSTRY_GROUPS, Application, Enterprise  # noqa: E402
from reviewapp.audit import Actor  # noqa: E402
from reviewapp.auth.models import User  # noqa: E402
from reviewapp.db import create_db_engine  # noqa: E402
from reviewapp.demo.context import demo_credit_code  # noqa: E402
from reviewapp.models_registry import import_all_models  # noqa: E402
from reviewapp.panels.models import Expert, ExpertEmployment, Panel  # noqa: E402
from reviewapp.pool import draws, rules  # noqa: E402
from reviewapp.pool.models import DrawPick, PoolProfile  # noqa: E402
from reviewapp.rounds.models import Round  # noqa: E402
from reviewapp.settings import Settings  # noqa: E402
from reviewapp.upgrade import upgrade  # noqa: E402

TODAY = date(2026, 9, 1)
N_EXPERTS, N_PANELS, APPS_PER_PANEL = 300, 40, 20
CONDITIONS = rules.Conditions(
    per_panel=5, backups=1, specialty_min=(("装备制造", 1),), max_per_org=1, min_outside=1, home_province="山东省"
)


def build(session: Session, seed: int = 2026) -> tuple[int, int, int]:
    """Insert the round's data in bulk; returns the round id and two staff user ids (drawer, supervisor)."""
    rng = random.Random(seed)
    users = [User(username=f"bench{n}", display_name=f"基准人员{n}", role="staff", password_hash="x") for n in range(2)]
    session.add_all(users)
    rnd = Round(name="基准测试批次", year=2026, tier="advanced")
    session.add(rnd)
    session.flush()
    session.execute(
        insert(Panel),
        [
            {
                "round_id": rnd.id,
                "name": f"{INDUSTRY_GROUPS[p % 4]}{p // 4 + 1}组",
                "industry_group": INDUSTRY_GROUPS[p % 4],
            }
            for p in range(N_PANELS)
        ],  # fmt: skip
    )
    panel_ids = list(session.exec(select(Panel.id).where(Panel.round_id == rnd.id).order_by(Panel.id)))
    n_apps = N_PANELS * APPS_PER_PANEL
    enterprises = [
        {"credit_code": demo_credit_code(f"enterprise{n}"), "name": f"基准企业{n}有限公司", "city": "济南市",
         "industry_group": INDUSTRY_GROUPS[n % 4]}
        for n in range(n_apps)
    ]  # fmt: skip
    session.execute(insert(Enterprise), enterprises)
    ent_ids = list(session.exec(select(Enterprise.id).order_by(Enterprise.id)))
    session.execute(
        insert(Application),
        [
            {
                "round_id": rnd.id,
                "enterprise_id": eid,
                "serial": n + 1,
                "factory_name": f"基准智能工厂{n}",
                "tier": "advanced",
                "formal_status": "passed",
                "panel_id": panel_ids[n % N_PANELS],
            }
            for n, eid in enumerate(ent_ids)
        ],  # fmt: skip
    )
    experts = []
    for n in range(N_EXPERTS):
        if rng.random() < 0.1:
            e = rng.choice(enterprises)
            employer = (e["name"], e["credit_code"])  # works at an applicant: recused from that panel
        else:
            employer = (f"基准研究院{n}", demo_credit_code(f"institute{n}"))
        experts.append({"name": f"基准专家{n}", "employer": employer[0], "employer_credit_code": employer[1],
                        "city": "青岛市", "specialties_json": f'["{INDUSTRY_GROUPS[n % 4]}"]'})  # fmt: skip
    session.execute(insert(Expert), experts)
    expert_ids = list(session.exec(select(Expert.id).order_by(Expert.id)))
    jobs = []
    for eid in expert_ids:
        for k in range(2):
            e = rng.choice(enterprises) if rng.random() < 0.1 else {"name": f"基准前单位{eid}-{k}", "credit_code": ""}
            jobs.append({"expert_id": eid, "employer": e["name"], "credit_code": e["credit_code"],
                         "start": date(2018 + k * 3, 1, 1), "end": date(2020 + k * 3, 12, 31)})  # fmt: skip
    session.execute(insert(ExpertEmployment), jobs)
    session.execute(
        insert(PoolProfile),
        [
            {
                "expert_id": eid,
                "province": "江苏省" if n % 3 == 0 else "山东省",
                "status": "暂停" if n % 50 == 7 else "在库",
                "status_reason": "基准" if n % 50 == 7 else "",
                "suspended_until": date(2099, 1, 1) if n % 50 == 7 else None,
            }
            for n, eid in enumerate(expert_ids)
        ],  # fmt: skip
    )
    session.commit()
    return rnd.id, users[0].id, users[1].id  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    url = args.database_url
    if not url:
        db_file = out / "bench_draw.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{db_file}"
    settings = Settings(database_url=url, data_dir=out)
    import_all_models()
    engine = create_db_engine(settings)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(settings)

    result = measure(engine)
    print(f"数据准备：{N_EXPERTS} 名专家、{N_PANELS} 个专家组（各 {APPS_PER_PANEL} 个申报项目），"
          f"用时 {result['build']:.2f} 秒（不计入）")  # fmt: skip
    print(f"候选 {result['candidates']} 人，回避排除 {result['recused']} 人次，抽中 {result['picks']} 人（正选与备选）")
    print(
        f"冻结候选名单（含回避计算）：{result['frozen']:.3f} 秒；冻结并抽取合计：{result['total']:.3f} 秒"
        f"（目标 < 2 秒，{engine.dialect.name}）"
    )
    print(f"纯抽取规则：{result['pure']:.3f} 秒")


def measure(engine: Engine) -> dict[str, float]:
    """Build the pool and panels in a migrated, empty database, then time freeze + draw and the pure draw
    (also a part of bench/run.py: `./manage bench --parts draw`)."""
    with Session(engine, expire_on_commit=False) as session:
        t = time.perf_counter()
        round_id, drawer, supervisor = build(session)
        built = time.perf_counter() - t

    with Session(engine.execution_options(reviewapp_sqlite_begin="IMMEDIATE"), expire_on_commit=False) as session:
        t = time.perf_counter()
        actor = Actor(drawer, "基准人员0")
        draw = draws.freeze(
            session, actor=actor, round_id=round_id, conditions=CONDITIONS, supervisor_id=supervisor,
            expected_seq=0, today=TODAY,
        )  # fmt: skip
        frozen = time.perf_counter() - t
        draws.run(
            session, actor=actor, draw_id=draw.id, seed="20260901", seed_source="基准", row_version=draw.row_version
        )  # type: ignore[arg-type]
        session.commit()
        total = time.perf_counter() - t
    with Session(engine) as session:
        picks = session.exec(select(func.count()).select_from(DrawPick)).one()
        recused = sum(len(p.excluded) for p in rules.DrawInput.from_canonical(draw.input_json).panels)
    inp = rules.DrawInput.from_canonical(draw.input_json)
    t = time.perf_counter()
    result = rules.draw(inp, "20260901")
    pure = time.perf_counter() - t
    assert result.ok and result.to_json() == draw.result_json
    return {"build": built, "frozen": frozen, "total": total, "pure": pure, "candidates": draw.candidate_count,
            "recused": recused, "picks": picks}  # fmt: skip


if __name__ == "__main__":
    main()
