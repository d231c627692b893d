"""Overviews of scoring progress: an expert's rounds and applications, and a panel's sheet-by-sheet progress."""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from reviewapp.applications.models import Application, ApplicationParty, Enterprise, FormalStatus
from reviewapp.clock import as_utc
from reviewapp.panels import rules as pr
from reviewapp.panels import service as panels
from reviewapp.panels.models import (
    Conflict,
    Expert,
    Panel,
    PanelMember,
    Pledge,
)
from reviewapp.rounds.models import Round
from reviewapp.scoring import rules
from reviewapp.scoring.models import ScoreSheet, SheetStatus
from reviewapp.scoring.sheets import status_label, status_tag_class

# --- the expert's rounds and applications --------------------------------------------------------


@dataclass(slots=True)
class AppRow:
    """One application on an expert's list, with the expert's own sheet status."""

    id: int
    serial: int
    factory_name: str
    enterprise_name: str
    status: str | None
    returned_reason: str = ""

    @property
    def status_label(self) -> str:
        return status_label(self.status)

    @property
    def tag_class(self) -> str:  # the status_tag macro's, inlined in the list's 50 rows
        return status_tag_class(self.status)

    @property
    def action(self) -> str:
        return _ACTIONS.get(self.status or "", "开始评分")


_ACTIONS = {"submitted": "查看", "returned": "重新评分", "draft": "继续评分"}

# The list's status filter: value -> (label, the sheet statuses it keeps).
STATUS_FILTERS: dict[str, tuple[str, tuple[str | None, ...]]] = {
    "todo": ("未完成（未开始、草稿、退回重评）", (None, SheetStatus.draft.value, SheetStatus.returned.value)),
    "new": ("未开始", (None,)),
    "draft": ("草稿", (SheetStatus.draft.value,)),
    "returned": ("退回重评", (SheetStatus.returned.value,)),
    "submitted": ("已提交", (SheetStatus.submitted.value,)),
}
PER_PAGE = 50


@dataclass
class RoundOverview:
    """An expert's view of one round: panels, pledge, deadline and (pledge done) the applications they may score."""

    round: Round
    panels: list[Panel]
    chair_of: list[Panel]
    pledge_state: str
    rows: list[AppRow]
    time_left: str
    pledge: Pledge | None = None

    def count(self, status: str | None) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @functools.cached_property
    def counts(self) -> dict[str | None, int]:  # read once rows are filled
        out: dict[str | None, int] = {None: 0, "draft": 0, "returned": 0, "submitted": 0}
        for r in self.rows:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    def select(self, *, q: str = "", status: str = "") -> list[AppRow]:
        """The rows a search (enterprise or factory name, serial) and a status filter keep, in list order."""
        rows = self.rows
        if status in STATUS_FILTERS:
            keep = STATUS_FILTERS[status][1]
            rows = [r for r in rows if r.status in keep]
        q = q.strip()
        if q:
            rows = [r for r in rows if q in r.enterprise_name or q in r.factory_name or q == str(r.serial)]
        return rows


# The statements of the expert's home and round list, built once (building them cost more than running them).
# 1. The signed-in expert with each panel seat, its round and the expert's pledge for that round.
_SEATS = (
    select(Expert, Panel, PanelMember.is_chair, Round, Pledge)  # type: ignore[call-overload]
    .select_from(Expert)
    .outerjoin(PanelMember, PanelMember.expert_id == Expert.id)  # type: ignore[arg-type]
    .outerjoin(Panel, Panel.id == PanelMember.panel_id)  # type: ignore[arg-type]
    .outerjoin(Round, Round.id == Panel.round_id)  # type: ignore[arg-type]
    .outerjoin(Pledge, sa.and_(Pledge.round_id == Panel.round_id, Pledge.expert_id == Expert.id))
    .where(Expert.user_id == sa.bindparam("user_id"))
    .order_by(col(Panel.round_id).desc(), Panel.id)
)
# 2. What visible_applications reads, for several rounds at once: applications of the expert's panels (of the
#    application's round), formal review passed, without a stored conflict; with the enterprise's facts and the
#    parties (one row per party) for the live conflict rules, and the expert's own sheet.
_ROUND_IDS = sa.bindparam("round_ids", expanding=True)
_MY_PANEL_IDS = (  # reached first, so the applications come by their panel (not by scanning the round's)
    select(PanelMember.panel_id)
    .join(Panel, Panel.id == PanelMember.panel_id)  # type: ignore[arg-type]
    .where(PanelMember.expert_id == sa.bindparam("expert_id"), col(Panel.round_id).in_(_ROUND_IDS))
)
_MINE = sa.and_(
    col(Application.panel_id).in_(_MY_PANEL_IDS),
    Panel.id == Application.panel_id,
    Panel.round_id == Application.round_id,
)  # formal review passed: checked on the rows (in SQL it led SQLite to scan every passed application)
_CANDIDATES = (
    select(  # type: ignore[call-overload]
        Application.id,
        Application.round_id,
        Application.serial,
        Application.factory_name,
        Application.formal_status,
        Enterprise.name,
        Enterprise.credit_code,
        Enterprise.group_name,
        Enterprise.group_credit_code,
        Enterprise.city,
        ScoreSheet.status,
        ScoreSheet.returned_reason,
        ApplicationParty.role,
        ApplicationParty.name,
        ApplicationParty.credit_code,
    )
    .select_from(Application)
    .join(Enterprise, Enterprise.id == Application.enterprise_id)  # type: ignore[arg-type]
    .join(Panel, Panel.id == Application.panel_id)  # type: ignore[arg-type]
    .outerjoin(ApplicationParty, ApplicationParty.application_id == Application.id)  # type: ignore[arg-type]
    .outerjoin(
        ScoreSheet,
        sa.and_(ScoreSheet.application_id == Application.id, ScoreSheet.expert_id == sa.bindparam("expert_id")),
    )
    .where(
        _MINE,
        ~sa.exists().where(
            Conflict.round_id == Application.round_id,
            Conflict.expert_id == sa.bindparam("expert_id"),
            Conflict.application_id == Application.id,
        ),
    )
    .order_by(col(Application.round_id).desc(), Application.serial, Application.id, ApplicationParty.id)
)
# 3. The rest of the conflict rules' facts: the expert's employments and relations (panels.EXPERT_TIES).


def my_rounds(
    session: Session, *, user_id: int, now: datetime, round_id: int | None = None, today: date | None = None
) -> tuple[Expert | None, list[RoundOverview]]:
    """The signed-in expert and their rounds (only `round_id` when given), newest first, each with the
    applications the expert may see and score, in three statements whatever the number of applications: the
    expert's seats (panel, round, pledge), the visible candidates with the expert's sheets, and the conflict
    rules' remaining facts. The checks are visible_applications': the expert's panels of the round, formal
    review passed, pledge and declaration done, no stored conflict and none by the rules evaluated now."""
    seats = session.exec(_SEATS, params={"user_id": user_id}).all()  # type: ignore[call-overload]
    if not seats:
        return None, []
    expert = seats[0][0]
    by_round: dict[int, RoundOverview] = {}
    for _e, panel, is_chair, rnd, pledge in seats:
        if panel is None or rnd is None or (round_id is not None and rnd.id != round_id):
            continue
        ov = by_round.get(rnd.id)
        if ov is None:
            deadline = as_utc(rnd.scoring_deadline) if rnd.scoring_deadline else None
            ov = by_round[rnd.id] = RoundOverview(
                round=rnd,
                panels=[],
                chair_of=[],
                pledge_state=panels.pledge_state(pledge, rnd),
                rows=[],
                time_left=rules.time_left(now, deadline),
                pledge=pledge,
            )
        ov.panels.append(panel)
        if is_chair:
            ov.chair_of.append(panel)
    done = [r for r, ov in by_round.items() if ov.pledge_state == "done"]
    if done:
        _fill_rows(session, expert=expert, overviews=by_round, round_ids=done, today=today)
    return expert, list(by_round.values())


def _fill_rows(
    session: Session,
    *,
    expert: Expert,
    overviews: dict[int, RoundOverview],
    round_ids: list[int],
    today: date | None,
) -> None:
    params = {"expert_id": expert.id, "round_ids": round_ids}
    conn = session.connection()
    candidates = conn.execute(_CANDIDATES, params).all()
    if not candidates:
        return
    facts = panels.expert_facts_from(expert, conn.execute(panels.EXPERT_TIES, params))
    # One row per (application, party), an application's rows together: its first row carries the application.
    # Only the applications the expert's organisations (or city) reach can be conflicted by the rules: their facts
    # alone are built and go through live_conflicts (ExpertReach is find_conflicts' own matching).
    reach = pr.ExpertReach(facts)
    city_rule = {rid: pr.CoiSettings.of_round(overviews[rid].round).same_city for rid in round_ids}
    passed, returned = FormalStatus.passed.value, SheetStatus.returned.value
    by_round: dict[int, list[Any]] = defaultdict(list)
    parties: dict[int, list[Any]] = defaultdict(list)
    reached: set[int] = set()
    last = None
    for row in candidates:
        app_id = row[0]
        if app_id != last:
            last = app_id
            if row[4] == passed:  # formal_status
                by_round[row[1]].append(row)
            if (
                (city_rule[row[1]] and reach.same_city(row[9]))
                or reach.reaches(row[5], row[6])
                or reach.reaches(row[7], row[8])
            ):
                reached.add(app_id)
        if row[13] is not None:  # a party: role, name, credit code
            parties[app_id].append(row)
            if reach.reaches(row[13], row[14]):
                reached.add(app_id)
    for rid, rows in by_round.items():
        ov = overviews[rid]
        blocked = panels.live_conflicts(
            facts,
            [
                pr.ApplicationFacts(
                    id=row[0],
                    enterprise_name=row[5],
                    credit_code=row[6],
                    group_name=row[7],
                    group_credit_code=row[8],
                    city=row[9],
                    parties=tuple(pr.Party(role=p[12], name=p[13], credit_code=p[14]) for p in parties.get(row[0], ())),
                )
                for row in rows
                if row[0] in reached
            ],
            rnd=ov.round,
            today=today,
        )
        ov.rows = [
            AppRow(app_id, serial or 0, factory or "", name or "", status, (reason or "") if status == returned else "")
            for app_id, _r, serial, factory, _fs, name, _c, _g, _gc, _city, status, reason, *_party in rows
            if app_id not in blocked
        ]


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
