"""Demo step: the round 「2026年度先进级智能工厂遴选」 with its own copy of the 先进级 criteria template."""

from __future__ import annotations

from datetime import time, timedelta

from sqlmodel import select

from reviewapp.clock import today_beijing
from reviewapp.demo.context import DemoContext
from reviewapp.rounds import rules, service
from reviewapp.rounds.models import CriteriaVersion, Tier
from reviewapp.rounds.seeds import load_criteria_templates

DEMO_ROUND_NAME = "2026年度先进级智能工厂遴选"


def demo_round(ctx: DemoContext) -> None:
    load_criteria_templates(ctx.session)  # normally loaded by `db upgrade`; harmless if already there
    template = ctx.session.exec(
        select(CriteriaVersion).where(CriteriaVersion.is_template == True, CriteriaVersion.tier == Tier.advanced.value)  # noqa: E712
    ).first()
    today = today_beijing()
    tz = ctx.settings.tz
    ctx.objects["round"] = service.create_round(
        ctx.session,
        actor=ctx.actor,
        name=DEMO_ROUND_NAME,
        tier=Tier.advanced,
        year=2026,
        tz=tz,
        settings={
            "criteria_version_id": template.id if template else None,
            "application_close": today + timedelta(days=14),
            # Scoring closes in the future so that the scoring demo is open.
            "scoring_deadline": rules.beijing_to_utc(today + timedelta(days=45), time(17, 30), tz),
        },
    )
