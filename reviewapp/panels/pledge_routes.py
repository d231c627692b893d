"""The expert's side of a round: the pledge (承诺) to sign and the declaration of conflicts to submit."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from reviewapp.auth.models import Role
from reviewapp.clock import utcnow
from reviewapp.errors import NotFound, ServiceError
from reviewapp.forms import form_ids, form_text
from reviewapp.panels import declarations, service
from reviewapp.panels.models import Expert
from reviewapp.scoring import overviews as scoring
from reviewapp.web import (
    FormData,
    Page,
    actor_of,
    flash,
    parse_page,
    render,
    require,
)


def my_expert(db: Session, request: Request) -> Expert:
    expert = service.expert_of_user(db, user_id=request.user.id)
    if expert is None:
        raise NotFound(service.NO_EXPERT)
    return expert


def expert_home(db: Session, request: Request) -> Template:
    """The expert's home (also at /): a summary of each round (panels, pledge state, how many of the expert's
    sheets are in each status, the time left and the next step) linking to the round's list."""
    expert, overviews = scoring.my_rounds(db, user_id=request.user.id, now=utcnow())
    return render("panels/expert_rounds.html", expert=expert, overviews=overviews, labels=service.PLEDGE_STATE_LABELS)


class ExpertRoundsController(Controller):
    path = "/expert/rounds"
    guards = [require(Role.expert)]

    @get("/", sync_to_thread=True)
    def my_rounds(self, request: Request, db: NamedDependency[Session]) -> Template:
        return expert_home(db, request)

    @get("/{round_id:int}", sync_to_thread=True)
    def my_round(
        self,
        request: Request,
        db: NamedDependency[Session],
        round_id: FromPath[int],
        q: FromQuery[str] = "",
        status: FromQuery[str] = "",
        page: FromQuery[str] = "1",
    ) -> Any:
        """The round's list of applications to score, 50 a page, with a search and a status filter (the counts
        are the whole round's). The checks of require_pledge, from the statements of scoring.my_rounds."""
        expert, overviews = scoring.my_rounds(db, user_id=request.user.id, now=utcnow(), round_id=round_id)
        if expert is None:
            raise NotFound(service.NO_EXPERT)
        if not overviews:
            service.get_round(db, round_id)  # an unknown round says so
            raise NotFound("您不是该批次任何专家组的成员。")
        ov = overviews[0]
        try:
            service.pledge_gate(ov.pledge, ov.round)
        except service.PledgeRequired as exc:
            flash(request, exc.message, "info")
            return Redirect(path=exc.next_url, status_code=303)
        q, status = q.strip()[:64], status if status in scoring.STATUS_FILTERS else ""
        rows = ov.select(q=q, status=status)
        per_page = scoring.PER_PAGE
        current = max(1, min(parse_page(page), max(1, -(-len(rows) // per_page))))
        listed = Page(
            items=rows[(current - 1) * per_page : current * per_page], total=len(rows), page=current, per_page=per_page
        )
        return render(
            "panels/expert_round.html",
            ov=ov,
            labels=service.PLEDGE_STATE_LABELS,
            page=listed,
            filters={"q": q, "status": status},
            status_filters=scoring.STATUS_FILTERS,
        )

    @get("/{round_id:int}/pledge", sync_to_thread=True)
    def pledge_page(self, request: Request, db: NamedDependency[Session], round_id: FromPath[int]) -> Template:
        expert = my_expert(db, request)
        rnd = service.get_round(db, round_id)
        if not service.expert_panels(db, expert_id=expert.id, round_id=round_id):  # type: ignore[arg-type]
            raise NotFound("您不是该批次任何专家组的成员。")
        state = service.pledge_state(service.get_pledge(db, expert_id=expert.id, round_id=round_id), rnd)  # type: ignore[arg-type]
        return render("panels/pledge.html", rnd=rnd, expert=expert, state=state, error=None)

    @post("/{round_id:int}/pledge", sync_to_thread=True)
    def sign(self, request: Request, db: NamedDependency[Session], round_id: FromPath[int], data: FormData) -> Any:
        expert = my_expert(db, request)
        rnd = service.get_round(db, round_id)
        try:
            service.sign_pledge(
                db,
                actor=actor_of(request),
                expert_id=expert.id,
                round_id=round_id,
                agreed=form_text(data, "agree") in {"1", "on", "yes"},  # type: ignore[arg-type]
            )
            db.commit()
        except ServiceError as exc:
            db.rollback()
            state = service.pledge_state(service.get_pledge(db, expert_id=expert.id, round_id=round_id), rnd)  # type: ignore[arg-type]
            return render("panels/pledge.html", rnd=rnd, expert=expert, state=state, error=exc.message)
        flash(request, "已签署承诺。请逐一核对本组申报企业，完成回避声明。")
        return Redirect(path=f"/expert/rounds/{round_id}/declaration", status_code=303)

    @get("/{round_id:int}/declaration", sync_to_thread=True)
    def declaration_page(self, request: Request, db: NamedDependency[Session], round_id: FromPath[int]) -> Any:
        expert = my_expert(db, request)
        rnd = service.get_round(db, round_id)
        pledge = service.get_pledge(db, expert_id=expert.id, round_id=round_id)  # type: ignore[arg-type]
        state = service.pledge_state(pledge, rnd)
        if state in {"unsigned", "resign"}:
            flash(request, "请先阅读并签署保密与公正承诺。", "info")
            return Redirect(path=f"/expert/rounds/{round_id}/pledge", status_code=303)
        items = declarations.declaration_items(db, expert_id=expert.id, round_id=round_id)  # type: ignore[arg-type]
        return render("panels/declaration.html", rnd=rnd, items=items, state=state, error=None, chosen=set(), words={})

    @post("/{round_id:int}/declaration", sync_to_thread=True)
    def declare(self, request: Request, db: NamedDependency[Session], round_id: FromPath[int], data: FormData) -> Any:
        expert = my_expert(db, request)
        rnd = service.get_round(db, round_id)
        chosen = set(form_ids((data or {}).get("enterprise_id")))
        words = {e: form_text(data, f"reason_{e}") for e in chosen}
        try:
            declarations.submit_declaration(
                db,
                actor=actor_of(request),
                expert_id=expert.id,  # type: ignore[arg-type]
                round_id=round_id,
                declared=words,
                confirmed=form_text(data, "confirm") in {"1", "on", "yes"},
            )
            db.commit()
        except service.PledgeRequired as exc:
            db.rollback()
            return Redirect(path=exc.next_url, status_code=303)
        except ServiceError as exc:
            db.rollback()
            items = declarations.declaration_items(db, expert_id=expert.id, round_id=round_id)  # type: ignore[arg-type]
            state = service.pledge_state(service.get_pledge(db, expert_id=expert.id, round_id=round_id), rnd)  # type: ignore[arg-type]
            return render(
                "panels/declaration.html",
                rnd=rnd,
                items=items,
                state=state,
                error=exc.message,
                chosen=chosen,
                words=words,
            )
        flash(
            request,
            f"回避声明已提交（声明回避 {len(chosen)} 家企业）。"
            if chosen
            else "回避声明已提交：您确认与本组申报企业均无利害关系。",
        )
        return Redirect(path=f"/expert/rounds/{round_id}", status_code=303)
