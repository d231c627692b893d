"""Staff's downloads of the official Excel files of a round (issue 6): GET /rounds/{id}/exports/{type}."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session, col, select

from reviewapp.applications.models import Application, Enterprise, FormalStatus
from reviewapp.errors import NotFound, ServiceError
from reviewapp.excel import content_disposition
from reviewapp.panels import service as panels
from reviewapp.ranking import exports, recommendations
from reviewapp.ranking.export_format import ExportError
from reviewapp.rounds import service as rounds
from reviewapp.web import actor_of, flash, render, staff_only


def _id(value: str, what: str) -> int | None:
    text = (value or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise ExportError(f"{what}编号「{text[:20]}」无效，应为数字。")
    return int(text)


class ExportController(Controller):
    """The official lists, score summaries, individual score sheets and raw scores of one round."""

    path = "/rounds/{round_id:int}/exports"
    guards = [staff_only]

    @get("/", sync_to_thread=True)
    def index(self, db: NamedDependency[Session], round_id: FromPath[int]) -> Template:
        rnd = rounds.get_round(db, round_id)
        view = recommendations.round_list(db, round_id=round_id)
        round_panels = panels.round_panels(db, round_id)
        applications = list(
            db.exec(
                select(Application.id, Application.serial, Application.panel_id, Enterprise.name)
                .join(Enterprise, col(Enterprise.id) == col(Application.enterprise_id))
                .where(
                    Application.round_id == round_id,
                    col(Application.panel_id).is_not(None),
                    Application.formal_status == FormalStatus.passed.value,
                )
                .order_by(Application.serial, Application.id)
            ).all()
        )
        overseas = len(recommendations.overseas_applications(db, round_id=round_id))
        return render(
            "ranking/exports.html",
            rnd=rnd,
            view=view,
            panels=round_panels,
            applications=applications,
            overseas=overseas,
            kinds=exports.KINDS,
        )

    @get("/{kind:str}", sync_to_thread=True)
    def download(
        self,
        request: Request,
        round_id: FromPath[int],
        kind: FromPath[str],
        panel: FromQuery[str] = "",
        application: FromQuery[str] = "",
    ) -> Response[Any]:
        try:
            file = exports.export(
                request.app.state.engine,
                actor=actor_of(request),
                round_id=round_id,
                kind=kind,
                panel_id=_id(panel, "专家组"),
                application_id=_id(application, "申报项目"),
            )
        except NotFound:
            raise
        except ServiceError as exc:
            flash(request, exc.message, "error")
            return Redirect(path=f"/rounds/{round_id}/exports/", status_code=303)
        return Response(
            content=file.data,
            media_type=file.media_type,
            headers={"Content-Disposition": content_disposition(file.filename), "Cache-Control": "no-store"},
        )
