"""帮助: the user guide in docs/ (Markdown, in Chinese) rendered as plain HTML for signed-in users.

Only the guide's own pages are served (a fixed list, no paths from the request reach the file system), raw HTML in
the Markdown is escaped, and relative links and images are pointed at /help/ so the same files read well on the
code host and in the app."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from litestar import Controller, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import File, Template
from markdown_it import MarkdownIt
from markupsafe import Markup

from reviewapp.web import render, signed_in

DOCS_DIR = Path(__file__).resolve().parent.parent / "docs"
IMAGES_DIR = DOCS_DIR / "images"

# slug → title, in the order the index lists them.
GUIDE_PAGES = {
    "README": "用户指南",
    "staff": "工作人员",
    "review-day": "评审日检查清单",
    "expert": "评审专家",
    "chair": "专家组组长",
    "sysadmin": "系统管理员",
    "secadmin": "安全管理员",
    "auditadmin": "审计管理员",
}


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable("table")

    def local(url: str) -> str:
        if url.startswith(("http://", "https://", "/", "#", "mailto:")):
            return url
        return "/help/" + url.removeprefix("./").removeprefix("docs/")

    def rewrite(state) -> None:  # type: ignore[no-untyped-def]
        for token in state.tokens:
            for child in token.children or []:
                if child.type == "link_open" and child.attrGet("href"):
                    child.attrSet("href", local(str(child.attrGet("href"))))
                elif child.type == "image" and child.attrGet("src"):
                    child.attrSet("src", local(str(child.attrGet("src"))))
                    child.attrSet("loading", "lazy")

    md.core.ruler.push("help_links", rewrite)
    # A line break inside a Chinese paragraph is not a space.
    md.renderer.rules["softbreak"] = lambda *_args: ""
    return md


@lru_cache(maxsize=16)
def _page_html(slug: str, mtime: float) -> str:  # mtime: re-render when the file changes
    return _markdown().render((DOCS_DIR / f"{slug}.md").read_text(encoding="utf-8"))


def guide_page(slug: str) -> Markup:
    path = DOCS_DIR / f"{slug}.md"
    if slug not in GUIDE_PAGES or not path.is_file():
        raise NotFoundException("没有这个帮助页面。")
    return Markup(_page_html(slug, path.stat().st_mtime))  # noqa: S704 - Markdown rendered with raw HTML escaped


class HelpController(Controller):
    path = "/help"
    guards = [signed_in]

    @get("/", sync_to_thread=False)
    def index(self) -> Template:
        return render("help/page.html", body=guide_page("README"), pages=GUIDE_PAGES, current="README")

    @get("/{name:str}", sync_to_thread=False)
    def page(self, name: FromPath[str]) -> Template:
        slug = name.removesuffix(".md")
        return render("help/page.html", body=guide_page(slug), pages=GUIDE_PAGES, current=slug)

    @get("/images/{name:str}", sync_to_thread=False)
    def image(self, name: FromPath[str]) -> File:
        known = {p.name: p for p in IMAGES_DIR.glob("*.png")} if IMAGES_DIR.is_dir() else {}
        if name not in known:
            raise NotFoundException("没有这张截图。")
        return File(path=known[name], media_type="image/png", content_disposition_type="inline")
