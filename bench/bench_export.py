"""Benchmark: the 2,000-row recommendation list exported as the 推荐汇总表 and the 名单汇总表 (target < 5 s each), timed
from the service call (reading the sheets, ranking, merging the panels' decisions) to the workbook bytes.

A round of 20 finalized panels × 7 experts × 100 applications, 20 points items and 1 gate, every application
recommended, is inserted directly (not timed). Runs on a fresh SQLite file by default; set
REVIEWAPP_BENCH_DATABASE_URL to a PostgreSQL database to measure there (its tables are dropped and rebuilt).

Run: .venv/bin/python bench/bench_export.py [--applications N] [--repeat R]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, text
from sqlmodel import Session

from reviewapp.applications.models import Application, ApplicationScenario, Enterprise
from reviewapp.db import create_db_engine, import_all_models
from reviewapp.panels.models import Expert, Panel, PanelMember
from reviewapp.ranking import exports, list_files
from reviewapp.ranking.models import PanelDecision
from reviewapp.rounds.models import CriteriaNode, CriteriaVersion, Round, Tier
from reviewapp.scoring.models import ItemScore, ScoreSheet
from reviewapp.settings import Settings
from reviewapp.upgrade import upgrade

DIMENSIONS = ("工厂建设", "研发设计", "生产作业", "生产管理", "运营管理")
PANEL_SIZE = 7
PER_PANEL = 100
CITIES = ("济南市", "青岛市", "淄博市", "枣庄市", "东营市", "烟台市", "潍坊市", "济宁市", "泰安市", "威海市")
GROUPS = ("原材料", "电子信息", "装备制造", "消费品")
SCENARIOS = (
    "工厂数字化规划设计",
    "产品数字化研发与设计",
    "智能在线检测",
    "精益生产管理",
    "能耗智能管控",
    "安全风险智能化管控",
    "供应链协同",
    "营销管理",
    "设备运行监控",
    "质量精准追溯",
)


def populate(session: Session, applications: int, seed: int = 20260509) -> int:
    """Insert a finalized round; returns its id."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    version = CriteriaVersion(name="基准要素条件", tier=Tier.advanced.value)
    session.add(version)
    session.flush()
    items: list[CriteriaNode] = []
    for d, title in enumerate(DIMENSIONS, start=1):
        dim = CriteriaNode(version_id=version.id, kind="dimension", code=f"D{d}", title=title, sort_order=d)  # type: ignore[arg-type]
        session.add(dim)
        session.flush()
        for i in range(1, 5):
            node = CriteriaNode(
                version_id=version.id,
                parent_id=dim.id,
                kind="points",
                code=f"{d}.{i}",  # type: ignore[arg-type]
                title=f"{title}评分项{i}",
                max_points=Decimal(5),
                step=Decimal("0.5"),
                sort_order=i,
            )
            session.add(node)
            items.append(node)
    gate = CriteriaNode(
        version_id=version.id,
        parent_id=dim.id,
        kind="gate",
        code="G1",
        title="无重大事故",  # type: ignore[arg-type]
        max_points=Decimal(0),
        step=Decimal(0),
        sort_order=9,
    )
    session.add(gate)
    rnd = Round(
        name="2026年度先进级智能工厂遴选（基准）", year=2026, tier=Tier.advanced.value, criteria_version_id=version.id
    )
    session.add(rnd)
    session.flush()

    panels = applications // PER_PANEL + (1 if applications % PER_PANEL else 0)
    session.execute(
        insert(Panel),
        [
            {
                "id": p + 1,
                "round_id": rnd.id,
                "name": f"{GROUPS[p % 4]}第{p + 1}组",
                "industry_group": GROUPS[p % 4],
                "group_opinion": "同意推荐。",
                "finalized_at": now,
                "created_at": now,
                "row_version": 2,
            }
            for p in range(panels)
        ],
    )
    session.execute(
        insert(Expert),
        [
            {
                "id": e + 1,
                "name": f"专家{e + 1}",
                "employer": "某研究院",
                "city": "青岛市",
                "specialties_json": "[]",
                "active": True,
                "created_at": now,
                "updated_at": now,
                "row_version": 1,
            }
            for e in range(panels * PANEL_SIZE)
        ],
    )
    session.execute(
        insert(PanelMember),
        [
            {"panel_id": e // PANEL_SIZE + 1, "expert_id": e + 1, "is_chair": e % PANEL_SIZE == 0}
            for e in range(panels * PANEL_SIZE)
        ],
    )
    session.execute(
        insert(Enterprise),
        [
            {
                "id": a,
                "credit_code": f"BENCH{a:013d}",
                "name": f"山东基准制造{a}有限公司",
                "city": CITIES[a % len(CITIES)],
                "group_name": "",
                "group_credit_code": "",
                "nature": "民营企业",
                "size_type": "中型企业",
                "industry_group": GROUPS[((a - 1) // PER_PANEL) % 4],
                "industry_mid": "341",
                "industry_small": "3411",
                "above_designated_size": True,
                "created_at": now,
                "updated_at": now,
            }
            for a in range(1, applications + 1)
        ],
    )
    session.execute(
        insert(Application),
        [
            {
                "id": a,
                "round_id": rnd.id,
                "enterprise_id": a,
                "serial": a,
                "factory_name": f"基准智能工厂{a}",
                "project_name": f"数字化车间改造项目{a}",
                "tier": Tier.advanced.value,
                "maturity_score": Decimal(rng.randrange(200, 500)) / 100,
                "maturity_level": 3,
                "formal_status": "passed",
                "panel_id": (a - 1) // PER_PANEL + 1,
                "created_at": now,
                "updated_at": now,
                "row_version": 1,
                "overseas_intro": "",
                "formal_checks_json": "",
                "formal_failed_codes": "",
                "formal_note": "",
            }
            for a in range(1, applications + 1)
        ],
    )
    session.execute(
        insert(ApplicationScenario),
        [
            {"application_id": a, "name": name, "stage": "", "sort_order": k}
            for a in range(1, applications + 1)
            for k, name in enumerate(rng.sample(SCENARIOS, 8))
        ],
    )
    half_points = [Decimal(k) / 2 for k in range(11)]
    sheets, scores = [], []
    sheet_id = 0
    for a in range(1, applications + 1):
        panel = (a - 1) // PER_PANEL
        quality = rng.uniform(2.0, 4.6)
        for member in range(PANEL_SIZE):
            sheet_id += 1
            values = [
                half_points[max(0, min(10, round((quality + (member - 3) * 0.15 + rng.gauss(0, 0.6)) * 2)))]
                for _ in items
            ]
            sheets.append(
                {
                    "id": sheet_id,
                    "round_id": rnd.id,
                    "panel_id": panel + 1,
                    "application_id": a,
                    "expert_id": panel * PANEL_SIZE + member + 1,
                    "criteria_version_id": version.id,
                    "status": "submitted",
                    "opinion": "该项目智能化场景建设较完整，建议推荐。",
                    "total": sum(values, Decimal(0)),
                    "returned_reason": "",
                    "submitted_at": now,
                    "created_at": now,
                    "updated_at": now,
                    "row_version": 2,
                }
            )
            scores.extend(
                {"sheet_id": sheet_id, "node_id": node.id, "value": v, "justification": ""}
                for node, v in zip(items, values, strict=True)
            )
            scores.append({"sheet_id": sheet_id, "node_id": gate.id, "gate": "pass", "justification": ""})
    session.execute(insert(ScoreSheet), sheets)
    for start in range(0, len(scores), 20000):
        session.execute(insert(ItemScore), scores[start : start + 20000])
    session.execute(
        insert(PanelDecision),
        [
            {
                "panel_id": (a - 1) // PER_PANEL + 1,
                "application_id": a,
                "recommend": True,
                "group_opinion": "专家组认为该项目场景建设完整、成效明显，同意推荐。",
                "manual_position": None,
                "move_reason": "",
                "updated_at": now,
                "row_version": 1,
            }
            for a in range(1, applications + 1)
        ],
    )
    session.commit()
    return rnd.id  # type: ignore[return-value]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-export-"))
    url = os.environ.get("REVIEWAPP_BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}"
    settings = Settings(database_url=url, data_dir=tmp)
    import_all_models()
    engine = create_db_engine(settings)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(settings)

    start = time.perf_counter()
    with Session(engine, expire_on_commit=False) as session:
        round_id = populate(session, args.applications)
    built = time.perf_counter() - start
    print(
        f"{args.applications} 个申报项目 × {PANEL_SIZE} 位专家 × 20 个评分项（+1 门槛项），"
        f"{engine.dialect.name}；造数 {built:.1f} s（不计入）"
    )
    rss_before = peak_rss_mb()

    cases = [
        ("recommendations", None, args.repeat, "（目标 < 5 s）"),
        ("list", None, args.repeat, "（目标 < 5 s）"),
        ("raw-scores", 1, args.repeat, "（一个专家组，仅供参考）"),
        ("raw-scores", None, 1, "（全批次，仅供参考）"),
    ]
    for kind, panel_id, repeat, target in cases:
        times = []
        file = None
        for _ in range(repeat):
            with Session(engine, expire_on_commit=False) as session:
                t0 = time.perf_counter()
                file = exports.build(session, round_id=round_id, kind=kind, panel_id=panel_id)
                times.append(time.perf_counter() - t0)
        assert file is not None
        print(
            f"  {kind:<16} {file.rows:>6} {'份评分表' if kind == 'raw-scores' else '行'}  最快 {min(times):6.2f} s  "
            f"文件 {len(file.data) / 1048576:5.2f} MB  {target}"
        )
    # The parts of the list export: the service call alone.
    with Session(engine, expire_on_commit=False) as session:
        from reviewapp.ranking import recommendations

        t0 = time.perf_counter()
        view = recommendations.round_list(session, round_id=round_id)
        service_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        list_files.recommendations_workbook(view)
        excel_s = time.perf_counter() - t0
    print(f"  其中 round_list（读取评分、排名、合并各组决定）{service_s:5.2f} s，写 Excel {excel_s:5.2f} s")
    print(f"  峰值内存（RSS）：造数后 {rss_before:.0f} MB，导出后 {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
