"""The home page: what the signed-in role can do next."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.response import Template

from reviewapp.web import render, signed_in


class HomeController(Controller):
    guards = [signed_in]

    @get("/", sync_to_thread=False)
    def home(self, request: Request) -> Template:
        return render("home/index.html")
