"""The shipped 先进级 criteria template and the demo round."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlmodel import select

from reviewapp.audit.models import AuditEntry
from reviewapp.clock import as_utc
from reviewapp.demo import load_demo
from reviewapp.rounds import service
from reviewapp.rounds.models import CriteriaVersion, Round
from reviewapp.rounds.seeds import load_reference_data

KNOWN_DIMENSIONS = ["基本要求", "工厂建设", "研发设计", "生产作业", "生产管理", "运营管理"]
BASIC_REQUIREMENTS = ["企业规模", "财务状况", "关键技术应用", "系统解决方案", "组织机制", "人才体系建设", "成熟度等级"]


def test_the_template_is_loaded_once_totals_100_and_has_a_veto(db):
    load_reference_data(db)
    load_reference_data(db)
    db.commit()
    templates = db.exec(select(CriteriaVersion).where(CriteriaVersion.is_template == True)).all()  # noqa: E712
    assert len(templates) == 1
    template = templates[0]
    assert template.tier == "advanced" and "不是官方" in template.note
    tree = service.criteria_tree(db, template.id)
    assert [d.title for d in tree.dimensions] == KNOWN_DIMENSIONS
    assert [i.title for i in tree.dimensions[0].items if i.kind == "points"] == BASIC_REQUIREMENTS
    assert tree.total == Decimal("100")
    gates = [i.title for i in tree.items if i.kind == "gate"]
    assert "近三年未发生重大安全、质量、环境事故" in gates
    assert db.exec(select(AuditEntry).where(AuditEntry.action == "criteria.seed")).one()


def test_an_edited_template_is_not_overwritten_by_the_next_upgrade(db):
    load_reference_data(db)
    template = db.exec(select(CriteriaVersion).where(CriteriaVersion.is_template == True)).one()  # noqa: E712
    template.note = "本省已改"
    db.add(template)
    db.commit()
    load_reference_data(db)
    db.commit()
    assert db.exec(select(CriteriaVersion)).one().note == "本省已改"


def test_demo_creates_the_advanced_round_with_its_own_copy_of_the_template(db, settings):
    load_demo(db, settings=settings)
    db.commit()
    rnd = db.exec(select(Round)).one()
    assert rnd.name == "2026年度先进级智能工厂遴选" and rnd.tier == "advanced"
    assert as_utc(rnd.scoring_deadline) > datetime.now(UTC)
    version = db.get(CriteriaVersion, rnd.criteria_version_id)
    assert not version.is_template and db.get(CriteriaVersion, version.based_on_id).is_template
    assert service.criteria_tree(db, version.id).total == Decimal("100")
