"""The home page: what the signed-in role can do next; and the health check for load balancers and benchmarks."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.enums import MediaType
from litestar.response import Redirect

from reviewapp.auth.models import Role
from reviewapp.web import PUBLIC, render, signed_in


class HomeController(Controller):
    guards = [signed_in]

    @get("/", sync_to_thread=False)
    def home(self, request: Request) -> Any:
        if request.user.role == Role.expert.value:
            return Redirect(path="/expert/rounds", status_code=303)  # an expert's home is their review list
        return render("home/index.html")


class HealthController(Controller):
    """GET /healthz: "ok" without touching the database (the session middleware skips it as well)."""

    @get("/healthz", opt=PUBLIC, sync_to_thread=False, media_type=MediaType.TEXT)
    def healthz(self) -> str:
        return "ok"
