"""Gather a round's facts for the guidance (counts only; one query per kind)."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from reviewapp.applications.models import Application, FormalStatus
from reviewapp.nextsteps import rules
from reviewapp.objections.models import Objection
from reviewapp.objections.rules import OPEN_STATES
from reviewapp.panels import service as panels
from reviewapp.panels.models import PanelMember
from reviewapp.publicity import periods
from reviewapp.scoring import overviews


def round_facts(session: Session, *, round_id: int) -> rules.RoundFacts:
    by_status = dict(
        session.exec(
            select(Application.formal_status, func.count())
            .where(Application.round_id == round_id)
            .group_by(Application.formal_status)
        ).all()
    )
    unassigned = session.exec(
        select(func.count())
        .select_from(Application)
        .where(
            Application.round_id == round_id,
            Application.formal_status == FormalStatus.passed.value,
            col(Application.panel_id).is_(None),
        )
    ).one()
    round_panels = panels.round_panels(session, round_id)
    chaired = set(
        session.exec(
            select(PanelMember.panel_id).where(
                col(PanelMember.panel_id).in_([p.id for p in round_panels] or [-1]),
                PanelMember.is_chair == True,  # noqa: E712
            )
        ).all()
    )
    counts = {None: 0, "draft": 0, "returned": 0}
    for panel in round_panels:
        if panel.finalized_at is not None:
            continue
        progress = overviews.panel_progress(session, panel_id=panel.id)  # type: ignore[arg-type]
        for status in counts:
            counts[status] += progress.count(status)
    status = periods.publicity_status(session, round_id=round_id)
    open_objections = session.exec(
        select(func.count())
        .select_from(Objection)
        .where(Objection.round_id == round_id, col(Objection.state).in_(sorted(OPEN_STATES)))
    ).one()
    return rules.RoundFacts(
        round_id=round_id,
        applications=sum(by_status.values()),
        formal_pending=by_status.get(FormalStatus.pending.value, 0),
        passed=by_status.get(FormalStatus.passed.value, 0),
        unassigned=unassigned,
        panels=len(round_panels),
        panels_without_chair=tuple(p.name for p in round_panels if p.id not in chaired),
        sheets_not_started=counts[None],
        sheets_draft=counts["draft"],
        sheets_returned=counts["returned"],
        open_panels=tuple(p.name for p in round_panels if p.finalized_at is None),
        listed=len(status.view.listed),
        publicity_set=status.period is not None,
        published=status.published,
        publish_problems=tuple(status.publish_problems),
        open_objections=open_objections,
        final_published=status.final_published,
    )


def round_steps(session: Session, *, round_id: int) -> list[rules.Step]:
    return rules.round_steps(round_facts(session, round_id=round_id))
