"""The home page: what the signed-in role can do next; and the health check for load balancers and benchmarks."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.response import Template
from sqlmodel import Session, col, func, select

from reviewapp.applications.models import Application, FormalStatus
from reviewapp.auth.models import Role
from reviewapp.panels.models import Panel
from reviewapp.ranking.models import PanelDecision
from reviewapp.reports.models import Report
from reviewapp.reports.rules import REPORT_WORKFLOW
from reviewapp.rounds.models import Round
from reviewapp.scoring.models import ScoreSheet, SheetStatus
from reviewapp.web import PUBLIC, render, signed_in

RECENT_ROUNDS = 6


@dataclass
class RoundSummary:
    """Where one round stands, for staff's home page."""

    round: Round
    applications: int = 0
    passed: int = 0
    pending: int = 0
    panels: int = 0
    finalized: int = 0
    submitted: int = 0
    recommended: int = 0

    @property
    def stage(self) -> str:
        if self.applications == 0:
            return "待导入申报"
        if self.pending:
            return "形式审查中"
        if self.panels == 0:
            return "待组建专家组"
        if self.panels and self.finalized == self.panels:
            return "各组已定稿"
        if self.submitted:
            return "专家评分中"
        return "待评分"


def _by_round(db: Session, stmt) -> dict[int, int]:  # type: ignore[no-untyped-def]
    return {r: n for r, n in db.exec(stmt).all()}


def dashboard(db: Session) -> tuple[list[RoundSummary], int]:
    """The most recent rounds with their counts, and how many whistle-blower reports are still open."""
    rounds = list(db.exec(select(Round).order_by(col(Round.year).desc(), col(Round.id).desc()).limit(RECENT_ROUNDS)))
    ids = [r.id for r in rounds] or [-1]
    apps = select(Application.round_id, func.count()).where(col(Application.round_id).in_(ids))
    counts = {
        "applications": _by_round(db, apps.group_by(Application.round_id)),
        "passed": _by_round(
            db, apps.where(Application.formal_status == FormalStatus.passed.value).group_by(Application.round_id)
        ),
        "pending": _by_round(
            db, apps.where(Application.formal_status == FormalStatus.pending.value).group_by(Application.round_id)
        ),
        "panels": _by_round(
            db, select(Panel.round_id, func.count()).where(col(Panel.round_id).in_(ids)).group_by(Panel.round_id)
        ),
        "finalized": _by_round(
            db,
            select(Panel.round_id, func.count())
            .where(col(Panel.round_id).in_(ids), col(Panel.finalized_at).is_not(None))
            .group_by(Panel.round_id),
        ),
        "submitted": _by_round(
            db,
            select(ScoreSheet.round_id, func.count())
            .where(col(ScoreSheet.round_id).in_(ids), ScoreSheet.status == SheetStatus.submitted.value)
            .group_by(ScoreSheet.round_id),
        ),
        "recommended": _by_round(
            db,
            select(Panel.round_id, func.count())
            .join(PanelDecision, col(PanelDecision.panel_id) == col(Panel.id))
            .where(col(Panel.round_id).in_(ids), col(Panel.finalized_at).is_not(None), PanelDecision.recommend == True)  # noqa: E712
            .group_by(Panel.round_id),
        ),
    }
    summaries = [RoundSummary(r, **{k: v.get(r.id, 0) for k, v in counts.items()}) for r in rounds]  # type: ignore[arg-type]
    open_reports = db.exec(
        select(func.count()).select_from(Report).where(col(Report.state).not_in(sorted(REPORT_WORKFLOW.final_states)))
    ).one()
    return summaries, int(open_reports)


class HomeController(Controller):
    guards = [signed_in]

    @get("/", sync_to_thread=True)
    def home(self, request: Request, db: NamedDependency[Session]) -> Template:
        if request.user.role == Role.expert.value:
            from reviewapp.panels.pledge_routes import expert_home

            return expert_home(db, request)  # an expert's home is their review list
        if request.user.is_admin:
            return render("home/admin.html")  # administrators do no reviewing work: their own pages only
        summaries, open_reports = dashboard(db)
        return render("home/index.html", summaries=summaries, open_reports=open_reports)


class HealthController(Controller):
    """GET /healthz: "ok" without touching the database (the session middleware skips it as well)."""

    opt = PUBLIC

    @get("/healthz", sync_to_thread=False, media_type=MediaType.TEXT)
    def healthz(self) -> str:
        return "ok"
