"""Staff's PDF downloads of a round's documents: GET /rounds/{id}/documents/{name}.pdf?panel=&application=&objection=
&draw= (the draw record here keeps the names sealed until review opens; its page links to /pool/draws/{id}/record.pdf)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlmodel import Session

from reviewapp.auth.models import Role
from reviewapp.documents.registry import Target
from reviewapp.documents.render import PDF_MEDIA_TYPE
from reviewapp.documents.service import take_document
from reviewapp.errors import NotFound, ServiceError
from reviewapp.excel import content_disposition
from reviewapp.web import access, actor_of, flash, require, staff_only


def _id(value: str) -> int | None:
    text = (value or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise ServiceError(f"编号「{text[:20]}」无效，应为数字。")
    return int(text)


class DocumentController(Controller):
    """专家评分表, 专家组意见, 专家评分汇总表, 推荐汇总表, 异议处理单, 现场抽查记录 and 抽取记录表 as PDF."""

    path = "/rounds/{round_id:int}/documents"
    guards = [staff_only]

    @get("/{name:str}", sync_to_thread=True)  # name: "<document>.pdf"
    def download(
        self,
        request: Request,
        round_id: FromPath[int],
        name: FromPath[str],
        panel: FromQuery[str] = "",
        application: FromQuery[str] = "",
        objection: FromQuery[str] = "",
        draw: FromQuery[str] = "",
    ) -> Response[Any]:
        try:
            key = name.removesuffix(".pdf")
            target = Target(round_id, _id(panel), _id(application), _id(objection), draw_id=_id(draw))
            pdf = take_document(request.app.state.engine, actor=actor_of(request), key=key, target=target)
        except NotFound:
            raise
        except ServiceError as exc:
            flash(request, exc.message, "error")
            return Redirect(path=f"/rounds/{round_id}/exports/", status_code=303)
        return Response(
            content=pdf.data,
            media_type=PDF_MEDIA_TYPE,
            headers={"Content-Disposition": content_disposition(pdf.filename), "Cache-Control": "no-store"},
        )


class ExpertSheetDocumentController(Controller):
    """An expert's own submitted 专家评分表 as PDF, from the sheet's print view."""

    path = "/expert/applications/{application_id:int}/sheet.pdf"
    guards = [require(Role.expert)]
    opt = access("assigned")

    @get("/", sync_to_thread=True)
    def download(self, request: Request, db: NamedDependency[Session], application_id: FromPath[int]) -> Response[Any]:
        from reviewapp.panels.pledge_routes import my_expert
        from reviewapp.panels.service import PledgeRequired
        from reviewapp.scoring import sheets as scoring
        from reviewapp.scoring.routes import pledge_redirect

        expert = my_expert(db, request)
        try:
            app = scoring.open_application(db, user_id=request.user.id, application_id=application_id)
        except PledgeRequired as exc:  # was a 500: the pledge page, as the sheet's other views answer
            return pledge_redirect(request, exc)
        target = Target(app.round_id, application_id=app.id, expert_id=expert.id)
        try:
            pdf = take_document(request.app.state.engine, actor=actor_of(request), key="score-sheets", target=target)
        except NotFound:
            raise
        except ServiceError as exc:
            flash(request, exc.message, "error")
            return Redirect(path=f"/expert/applications/{application_id}/print", status_code=303)
        return Response(
            content=pdf.data,
            media_type=PDF_MEDIA_TYPE,
            headers={"Content-Disposition": content_disposition(pdf.filename), "Cache-Control": "no-store"},
        )
