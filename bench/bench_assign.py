"""Benchmark: conflict computation plus automatic assignment for one large round (target: under 5 s).

2,000 formal-review-passed applications, 300 experts (3 employment entries and 2 declared relations each),
40 panels (10 per industry group, 7–8 members). The data are built first (not timed); then the service call
staff trigger with the 自动分配 button — recompute the round's conflicts, plan, write the assignment — is timed,
and the pure rules are timed on their own for comparison.

    .venv/bin/python bench/bench_assign.py                      # SQLite file under bench/out/
    .venv/bin/python bench/bench_assign.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test_panels
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

from sqlalchemy import insert, text  # noqa: E402
from sqlmodel import Session, func, select  # noqa: E402

from reviewapp.applications.models import INDUSTRY_GROUPS, Application, ApplicationParty, Enterprise  # noqa: E402
from reviewapp.audit import Actor  # noqa: E402
from reviewapp.db import create_db_engine, import_all_models  # noqa: E402
from reviewapp.demo.context import demo_credit_code  # noqa: E402
from reviewapp.panels import assignment, rules, service  # noqa: E402
from reviewapp.panels.models import Conflict, Expert, ExpertEmployment, ExpertRelation, Panel, PanelMember  # noqa: E402
from reviewapp.rounds.models import Round  # noqa: E402
from reviewapp.settings import Settings  # noqa: E402
from reviewapp.upgrade import upgrade  # noqa: E402

TODAY = date(2026, 9, 1)
CITIES = ["济南市", "青岛市", "淄博市", "枣庄市", "东营市", "烟台市", "潍坊市", "济宁市", "泰安市", "威海市", "日照市", "临沂市", "德州市", "聊城市", "滨州市", "菏泽市"]  # fmt: skip
N_APPS, N_EXPERTS, N_PANELS = 2000, 300, 40


def build(session: Session, seed: int = 2026) -> int:
    """Insert the round's data in bulk; returns the round id."""
    rng = random.Random(seed)
    rnd = Round(name="基准测试批次", year=2026, tier="advanced", min_scorers=5)
    session.add(rnd)
    session.flush()
    groups = [(f"基准集团{g}有限公司", demo_credit_code(f"group{g}")) for g in range(60)]
    providers = [(f"基准工业软件{p}有限公司", demo_credit_code(f"provider{p}")) for p in range(150)]
    consultants = [(f"基准咨询{c}有限公司", "") for c in range(50)]  # consultants often come without a code
    enterprises = []
    for n in range(N_APPS):
        group = groups[rng.randrange(len(groups))] if rng.random() < 0.25 else ("", "")
        enterprises.append(
            {
                "credit_code": demo_credit_code(f"enterprise{n}"),
                "name": f"基准企业{n}有限公司",
                "city": rng.choice(CITIES),
                "group_name": group[0],
                "group_credit_code": group[1],
                "industry_group": INDUSTRY_GROUPS[n % 4],
            }
        )
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
            }  # fmt: skip
            for n, eid in enumerate(ent_ids)
        ],
    )
    app_ids = list(session.exec(select(Application.id).where(Application.round_id == rnd.id).order_by(Application.id)))
    parties = []
    for app_id in app_ids:
        name, code = rng.choice(providers)
        parties.append({"application_id": app_id, "role": "provider", "name": name, "credit_code": code})
        if rng.random() < 0.5:
            name, code = rng.choice(consultants)
            parties.append({"application_id": app_id, "role": "consultant", "name": name, "credit_code": code})
    session.execute(insert(ApplicationParty), parties)

    experts = []
    for n in range(N_EXPERTS):
        roll = rng.random()
        if roll < 0.08:
            employer = rng.choice(providers)  # works for a solution provider
        elif roll < 0.10:
            employer = rng.choice(consultants)
        elif roll < 0.13:
            e = rng.choice(enterprises)
            employer = (e["name"], e["credit_code"])  # works for an applicant
        else:
            employer = (f"基准研究院{n}", demo_credit_code(f"institute{n}"))
        experts.append({"name": f"基准专家{n}", "employer": employer[0], "employer_credit_code": employer[1],
                        "city": rng.choice(CITIES), "specialties_json": f'["{INDUSTRY_GROUPS[n % 4]}"]'})  # fmt: skip
    session.execute(insert(Expert), experts)
    expert_ids = list(session.exec(select(Expert.id).order_by(Expert.id)))
    jobs, relations = [], []
    for eid in expert_ids:
        for k in range(3):
            if rng.random() < 0.3:
                e = rng.choice(enterprises)
                org = (e["name"], e["credit_code"] if rng.random() < 0.8 else "")
            else:
                org = (f"基准前单位{eid}-{k}", "")
            start = date(2005 + 6 * k, 3, 1)
            end = None if k == 2 else date(2010 + 6 * k + rng.randrange(0, 6), 6, 30)
            jobs.append({"expert_id": eid, "employer": org[0], "credit_code": org[1], "start": start, "end": end})
        for k in range(2):
            e = rng.choice(enterprises) if rng.random() < 0.4 else {"name": f"基准无关企业{eid}-{k}", "credit_code": ""}
            relations.append({"expert_id": eid, "enterprise_name": e["name"], "credit_code": e["credit_code"],
                              "relation": rng.choice(["亲属任职", "投资入股", "法律纠纷", "咨询服务", "其他"]),
                              "since": date(2018, 1, 1), "until": None if rng.random() < 0.7 else date(2022, 1, 1)})  # fmt: skip
    session.execute(insert(ExpertEmployment), jobs)
    session.execute(insert(ExpertRelation), relations)

    panels = [{"round_id": rnd.id, "name": f"{INDUSTRY_GROUPS[p % 4]}{p // 4 + 1}组", "industry_group": INDUSTRY_GROUPS[p % 4]}
              for p in range(N_PANELS)]  # fmt: skip
    session.execute(insert(Panel), panels)
    panel_rows = list(
        session.exec(select(Panel.id, Panel.industry_group).where(Panel.round_id == rnd.id).order_by(Panel.id))
    )
    by_group = {g: [pid for pid, pg in panel_rows if pg == g] for g in INDUSTRY_GROUPS}
    members, seen = [], {pid: 0 for pid, _ in panel_rows}
    for n, eid in enumerate(expert_ids):
        group_panels = by_group[INDUSTRY_GROUPS[n % 4]]
        pid = group_panels[(n // 4) % len(group_panels)]
        members.append({"panel_id": pid, "expert_id": eid, "is_chair": seen[pid] == 0})
        seen[pid] += 1
    session.execute(insert(PanelMember), members)
    session.commit()
    return rnd.id  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    url = args.database_url
    if not url:
        db_file = out / "bench_assign.db"
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

    with Session(engine, expire_on_commit=False) as session:
        t = time.perf_counter()
        round_id = build(session)
        print(f"数据准备：{N_APPS} 个申报项目、{N_EXPERTS} 名专家（各 3 段工作经历、2 条利害关系）、{N_PANELS} 个专家组，"
              f"用时 {time.perf_counter() - t:.2f} 秒（不计入）")  # fmt: skip

    # The pure rules alone, on facts already in memory.
    with Session(engine, expire_on_commit=False) as session:
        rnd = session.get(Round, round_id)
        experts = service.expert_facts(session, session.exec(select(Expert.id)).all())
        apps = service.application_facts(session, round_id=round_id)
        t = time.perf_counter()
        found = rules.find_conflicts(
            experts.values(), apps.values(), settings=rules.CoiSettings.of_round(rnd), today=TODAY
        )
        pure = time.perf_counter() - t
        print(f"纯规则计算回避关系：{len(found)} 对专家与项目存在回避，用时 {pure:.3f} 秒")

    # What the 自动分配 button does: recompute and store conflicts, plan, write the assignment, audit.
    with Session(engine.execution_options(reviewapp_sqlite_begin="IMMEDIATE"), expire_on_commit=False) as session:
        t = time.perf_counter()
        result = assignment.auto_assign(
            session, actor=Actor.system("基准测试"), round_id=round_id, today=TODAY, mode="all"
        )
        session.commit()
        total = time.perf_counter() - t
    with Session(engine) as session:
        stored = session.exec(select(func.count()).select_from(Conflict)).one()
        loads = dict(
            session.exec(
                select(Application.panel_id, func.count())
                .where(Application.panel_id is not None)
                .group_by(Application.panel_id)
            ).all()
        )  # noqa: E711
        panel_groups = dict(
            session.exec(select(Panel.id, Panel.industry_group).where(Panel.round_id == round_id)).all()
        )
    print(
        f"回避计算 + 自动分配（含写库与操作日志）：{total:.2f} 秒（目标 < 5 秒）{'  ✓' if total < 5 else '  ✗ 超出目标'}"
    )
    print(f"  存储回避记录 {stored} 条；已分配 {result.placed} 项，未能分配 {len(result.unplaced)} 项")
    for group in INDUSTRY_GROUPS:
        counts = [loads.get(pid, 0) for pid, g in panel_groups.items() if g == group]
        print(f"  {group}：{len(counts)} 个组，每组 {min(counts)}–{max(counts)} 项")
    print(f"  数据库：{engine.dialect.name}")
    engine.dispose()


if __name__ == "__main__":
    main()
