"""Loads the reference catalogues in seeds/ into the database (idempotent)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from sqlmodel import Session, select

from reviewapp.rounds import criteria
from reviewapp.rounds.models import TIER_LABELS, IndustryCode, MaturityLevel, Scenario, Tier

SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [{k.strip(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def load_reference_data(session: Session, seeds_dir: Path = SEEDS_DIR) -> None:
    """Insert catalogue rows that are not there yet; never overwrite a province's edits."""
    for path in sorted(seeds_dir.glob("scenarios-*.csv")):
        version = re.sub(r"^scenarios-", "", path.stem)
        known = set(session.exec(select(Scenario.name).where(Scenario.catalogue_version == version)))
        for order, row in enumerate(_rows(path), start=1):
            if row["场景名称"] in known:
                continue
            session.add(
                Scenario(
                    catalogue_version=version,
                    stage_no=int(row["环节序号"]),
                    stage=row["环节"],
                    number=int(row["场景序号"]) if row["场景序号"] else None,
                    name=row["场景名称"],
                    source=row.get("来源", ""),
                    sort_order=order,
                )
            )
    known_levels = set(session.exec(select(MaturityLevel.level)))
    for row in _rows(seeds_dir / "maturity-levels.csv"):
        level = int(row["等级"])
        if level not in known_levels:
            session.add(
                MaturityLevel(
                    level=level,
                    name=row["名称"],
                    meaning=row["含义(GB/T 39116-2020)"],
                    score_min=float(row["得分下限(未核实)"]),
                    score_max=float(row["得分上限(未核实)"]),
                )
            )
    known_codes = set(session.exec(select(IndustryCode.code)))
    for row in _rows(seeds_dir / "industries-gbt4754-2017.csv"):
        if row["代码"] not in known_codes:
            session.add(IndustryCode(code=row["代码"], name=row["名称"], section=row["门类"], level=row["层级"]))
    session.flush()
    load_criteria_templates(session, seeds_dir)


TEMPLATE_NOTE = (
    "系统自带的示例模板，依据公开资料中已知的要素维度（基本要求及工厂建设、研发设计、生产作业、生产管理、运营管理）编写，"
    "分值与评分指引为示例，不是官方《智能工厂梯度培育要素条件》原文。请复制后按本省要求修改，再用于批次。"
)


def load_criteria_templates(session: Session, seeds_dir: Path = SEEDS_DIR) -> None:
    """Each seeds/criteria-<tier>-<year>-template.csv becomes a template version once (looked up by name)."""
    from reviewapp.audit import Actor
    from reviewapp.rounds import rules

    for path in sorted(seeds_dir.glob("criteria-*-template.csv")):
        match = re.fullmatch(r"criteria-(\w+)-(\d{4})-template", path.stem)
        if match is None or rules.parse_tier(match.group(1)) is None:
            raise ValueError(f"criteria template file name must be criteria-<tier>-<year>-template.csv: {path.name}")
        tier = Tier(match.group(1))
        rows = [(number, row) for number, row in enumerate(_rows(path), start=2)]
        criteria.load_template(
            session,
            actor=Actor.system("系统初始化"),
            name=f"{TIER_LABELS[tier]}要素条件默认模板（{match.group(2)}）",
            tier=tier.value,
            note=TEMPLATE_NOTE,
            parsed=rules.parse_criteria_rows(rows),
        )
    session.flush()


REFERENCE_TABLES = frozenset(
    {Scenario.__tablename__, MaturityLevel.__tablename__, IndustryCode.__tablename__}  # type: ignore[attr-defined]
)
