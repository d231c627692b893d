"""Overviews of scoring progress: an expert's rounds and applications, and a panel's sheet-by-sheet progress."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from reviewapp.applications.models import Application, Enterprise, FormalStatus
from reviewapp.clock import as_utc
from reviewapp.panels import service as panels
from reviewapp.panels.models import Conflict, Expert, Panel, PanelMember
from reviewapp.rounds import service as rounds
from reviewapp.rounds.models import Round
from reviewapp.scoring import rules
from reviewapp.scoring.models import ScoreSheet, SheetStatus
from reviewapp.scoring.sheets import status_label, status_tag_class

# --- overviews ------------------------------------------------------------------------------------


@dataclass
class AppRow:
    """One application on an expert's list, with the expert's own sheet status."""

    application: Application
    enterprise_name: str
    status: str | None
    returned_reason: str = ""

    @property
    def status_label(self) -> str:
        return status_label(self.status)


@dataclass
class RoundOverview:
    round: Round
    panels: list[Panel]
    chair_of: list[Panel]
    pledge_state: str
    rows: list[AppRow]
    time_left: str

    def count(self, status: str | None) -> int:
        return sum(1 for r in self.rows if r.status == status)


def round_overview(session: Session, *, expert_id: int, round_id: int, now: datetime) -> RoundOverview:
    """An expert's view of one round: panels, pledge, and the applications to score with their status."""
    rnd = rounds.get_round(session, round_id)
    my_panels = panels.expert_panels(session, expert_id=expert_id, round_id=round_id)
    chair_ids = set(
        session.exec(
            select(PanelMember.panel_id).where(PanelMember.expert_id == expert_id, PanelMember.is_chair == True)  # noqa: E712
        )
    )
    state = panels.pledge_state(panels.get_pledge(session, expert_id=expert_id, round_id=round_id), rnd)
    rows: list[AppRow] = []
    if state == "done":
        apps = panels.visible_applications(session, expert_id=expert_id, round_id=round_id)
        ids = [a.id for a in apps]
        names = dict(
            session.exec(
                select(Enterprise.id, Enterprise.name).where(
                    col(Enterprise.id).in_([a.enterprise_id for a in apps] or [-1])
                )
            ).all()
        )
        sheets = {
            s.application_id: s
            for s in session.exec(
                select(ScoreSheet).where(
                    ScoreSheet.expert_id == expert_id, col(ScoreSheet.application_id).in_(ids or [-1])
                )
            )
        }
        for app in apps:
            sheet = sheets.get(app.id)  # type: ignore[arg-type]
            rows.append(
                AppRow(
                    application=app,
                    enterprise_name=names.get(app.enterprise_id, ""),
                    status=sheet.status if sheet else None,
                    returned_reason=sheet.returned_reason
                    if sheet and sheet.status == SheetStatus.returned.value
                    else "",
                )
            )
    deadline = as_utc(rnd.scoring_deadline) if rnd.scoring_deadline else None
    return RoundOverview(
        round=rnd,
        panels=my_panels,
        chair_of=[p for p in my_panels if p.id in chair_ids],
        pledge_state=state,
        rows=rows,
        time_left=rules.time_left(now, deadline),
    )


def expert_rounds(session: Session, *, expert_id: int, now: datetime) -> list[RoundOverview]:
    round_ids = []
    for panel in panels.expert_panels(session, expert_id=expert_id):
        if panel.round_id not in round_ids:
            round_ids.append(panel.round_id)
    return [round_overview(session, expert_id=expert_id, round_id=r, now=now) for r in round_ids]


@dataclass(slots=True)
class SheetCell:
    """One cell of a panel's matrix; what it shows is computed once (a big panel has thousands of cells)."""

    sheet: Any  # the sheet's id, status and returned_reason (a row of panel_progress's query), or None
    conflicted: bool = False
    status: str | None = field(init=False)
    label: str = field(init=False)
    tag: str = field(init=False)  # the status tag's class

    def __post_init__(self) -> None:
        self.status = self.sheet.status if self.sheet else None
        self.label = "回避" if self.conflicted else status_label(self.status)
        self.tag = status_tag_class(self.status)


@dataclass
class PanelProgress:
    """A panel's applications × members with each sheet's status (never its scores)."""

    panel: Panel
    members: list[tuple[PanelMember, Expert]]
    rows: list[tuple[Application, str, list[SheetCell]]]

    def count(self, status: str | None) -> int:
        return sum(1 for _a, _n, cells in self.rows for c in cells if not c.conflicted and c.status == status)


def panel_progress(session: Session, *, panel_id: int, hide_from_expert: int | None = None) -> PanelProgress:
    """Statuses of every sheet of a panel. `hide_from_expert`: leave out applications that expert may not see
    (the chair's view); staff see everything, conflicts marked."""
    panel = panels.get_panel(session, panel_id)
    members = panels.panel_members(session, panel_id)
    apps = list(
        session.exec(
            select(Application, Enterprise.name)
            .join(Enterprise, col(Enterprise.id) == col(Application.enterprise_id))
            .where(Application.panel_id == panel_id, Application.formal_status == FormalStatus.passed.value)
            .order_by(Application.serial, Application.id)
        )
    )
    ids = [a.id for a, _n in apps]
    sheets = {  # the columns the matrix shows, not whole rows: a big panel holds thousands of sheets
        (s.application_id, s.expert_id): s
        for s in session.exec(
            select(
                ScoreSheet.id,
                ScoreSheet.application_id,
                ScoreSheet.expert_id,
                ScoreSheet.status,
                ScoreSheet.returned_reason,
            ).where(col(ScoreSheet.application_id).in_(ids or [-1]))
        )
    }
    conflicts = set(
        session.exec(
            select(Conflict.application_id, Conflict.expert_id).where(
                Conflict.round_id == panel.round_id, col(Conflict.application_id).in_(ids or [-1])
            )
        ).all()
    )
    rows = [
        (
            app,
            name,
            [SheetCell(sheets.get((app.id, e.id)), (app.id, e.id) in conflicts) for _m, e in members],  # type: ignore[arg-type]
        )
        for app, name in apps
    ]
    progress = PanelProgress(panel=panel, members=members, rows=rows)
    return progress if hide_from_expert is None else visible_part(session, progress, expert_id=hide_from_expert)


def visible_part(session: Session, progress: PanelProgress, *, expert_id: int) -> PanelProgress:
    """The rows of a panel's progress that expert may see (the chair's view of their panel)."""
    visible = {
        a.id for a in panels.visible_applications(session, expert_id=expert_id, round_id=progress.panel.round_id)
    }
    rows = [row for row in progress.rows if row[0].id in visible]
    return PanelProgress(panel=progress.panel, members=progress.members, rows=rows)
