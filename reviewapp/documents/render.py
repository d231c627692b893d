"""The one rendering path: a Jinja template under templates/documents/ → HTML → PDF with WeasyPrint (Pango lays out
Chinese with the system's Noto CJK fonts, which WeasyPrint embeds as subsets)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from reviewapp.clock import BEIJING
from reviewapp.rounds.rules import fmt_points
from reviewapp.web import make_formatters

PDF_MEDIA_TYPE = "application/pdf"
TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(make_formatters(SimpleNamespace(tz=BEIJING)))  # type: ignore[arg-type]
    env.filters["cn_date"] = cn_date
    env.globals["pts"] = fmt_points  # a score as written: 40, 87.5
    return env


def render_html(template: str, context: dict[str, Any]) -> str:
    return environment().get_template(template).render(**context)


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported late: it loads Pango, which the CLI and most pages never need

    return HTML(string=html, base_url=str(TEMPLATES_DIR)).write_pdf()  # type: ignore[no-any-return]


def cn_date(value: Any) -> str:
    """2026年5月9日 (a datetime is taken in Beijing time)."""
    if hasattr(value, "astimezone") and getattr(value, "tzinfo", None) is not None:
        value = value.astimezone(BEIJING).date()
    return f"{value.year}年{value.month}月{value.day}日"
