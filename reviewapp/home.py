"""The home page: what the signed-in role can do next; and the health check for load balancers and benchmarks."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.response import Template
from sqlmodel import Session

from reviewapp.auth.models import Role
from reviewapp.web import PUBLIC, render, signed_in


class HomeController(Controller):
    guards = [signed_in]

    @get("/", sync_to_thread=True)
    def home(self, request: Request, db: NamedDependency[Session]) -> Template:
        if request.user.role == Role.expert.value:
            from reviewapp.panels.routes import expert_home

            return expert_home(db, request)  # an expert's home is their review list
        return render("home/index.html")


class HealthController(Controller):
    """GET /healthz: "ok" without touching the database (the session middleware skips it as well)."""

    opt = PUBLIC

    @get("/healthz", sync_to_thread=False, media_type=MediaType.TEXT)
    def healthz(self) -> str:
        return "ok"
