"""create_app(): wiring only — settings, database, templates, CSRF, sessions, routers and error pages."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from litestar import Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.di import Provide
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.plugins.htmx import HTMXRequest
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from reviewapp import crypto
from reviewapp.db import create_db_engine, writer_engine
from reviewapp.errors import NotFound
from reviewapp.models_registry import import_all_models
from reviewapp.nav import nav_for
from reviewapp.scoring.sheets import status_tag_class
from reviewapp.security import ReviewApp
from reviewapp.settings import Settings, load_settings
from reviewapp.web import (
    PUBLIC,
    PasswordChangeRequired,
    SessionAuthMiddleware,
    flash_before_send,
    make_formatters,
    provide_db,
    render,
    take_flashes,
    url_with,
)

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"

log = logging.getLogger("reviewapp")

ERROR_TEXT = {
    400: ("请求无效", "提交的数据格式不正确，请检查后重新提交。"),
    403: ("无权访问", "您没有权限访问此页面或执行此操作。"),
    404: ("页面不存在", "您访问的页面不存在，或您无权查看。"),
    405: ("请求方式不允许", "该页面不支持此请求方式。"),
    413: ("内容过大", "提交的内容或上传的文件超过了允许的大小。"),
    429: ("请求过于频繁", "请求过于频繁，请稍后再试。"),
    500: ("系统错误", "系统处理时发生错误，已记录。请稍后重试；如多次出现，请联系系统管理员。"),
}
CSRF_TEXT = "页面已过期或请求来源无法验证（安全校验失败）。请刷新页面后重新操作。"


def _error_page(request: Request, status: int, detail: str | None = None) -> Response[Any]:
    title, text = ERROR_TEXT.get(status, ERROR_TEXT[500] if status >= 500 else ERROR_TEXT[400])
    return render("errors/error.html", status_code=status, status=status, title=title, text=detail or text)


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _login_redirect(request: Request, target: str) -> Response[Any]:
    if _is_htmx(request):
        return Response(content="", status_code=200, headers={"HX-Redirect": target})
    return Redirect(path=target, status_code=303)


def handle_http_exception(request: Request, exc: HTTPException) -> Response[Any]:
    if isinstance(exc, PasswordChangeRequired):
        return _login_redirect(request, "/account/password")
    if isinstance(exc, NotAuthorizedException):
        from urllib.parse import quote

        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        expired = "&expired=1" if request.state.get("session_expired") else ""
        return _login_redirect(request, f"/login?next={quote(nxt)}{expired}")
    status = exc.status_code
    detail = None
    if status == 403:
        detail = CSRF_TEXT if "csrf" in str(exc.detail).lower() else (exc.detail if _is_chinese(exc.detail) else None)
    elif status == 404 and _is_chinese(exc.detail):
        detail = exc.detail
    return _error_page(request, status, detail)


def _is_chinese(text: object) -> bool:
    return isinstance(text, str) and any("\u4e00" <= ch <= "\u9fff" for ch in text)


def handle_not_found(request: Request, exc: NotFound) -> Response[Any]:
    """A service's NotFound (a ServiceError, not an HTTP exception) is the 404 page with its message."""
    return _error_page(request, 404, exc.message)


def handle_server_error(request: Request, exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _error_page(request, 500)


def _configure_templates(settings: Settings):  # type: ignore[no-untyped-def]
    def callback(engine: JinjaTemplateEngine) -> None:
        env = engine.engine
        env.globals["take_flashes"] = take_flashes
        env.globals["url_with"] = url_with
        env.globals["app_name"] = "智能工厂评审协作平台"
        env.globals["nav_for"] = nav_for
        env.globals["status_tag_class"] = status_tag_class
        env.filters.update(make_formatters(settings))
        env.trim_blocks = True
        env.lstrip_blocks = True

    return TemplateConfig(directory=TEMPLATES_DIR, engine=JinjaTemplateEngine, engine_callback=callback)


def route_handlers() -> list[Any]:
    from reviewapp.applications.routes import (
        ApplicationController,
        ApplicationsOverviewController,
        RoundApplicationsController,
    )
    from reviewapp.audit.routes import AuditController
    from reviewapp.auth.admin_routes import PolicyController, RoleAdminController, UserAdminController
    from reviewapp.auth.routes import AccountController, AuthController
    from reviewapp.documents.routes import DocumentController, ExpertSheetDocumentController
    from reviewapp.help import HelpController
    from reviewapp.home import HealthController, HomeController
    from reviewapp.objections.routes import ObjectionController
    from reviewapp.panels.assignment_routes import RoundAssignmentController
    from reviewapp.panels.expert_routes import ExpertPoolController
    from reviewapp.panels.pledge_routes import ExpertRoundsController
    from reviewapp.panels.routes import PanelIndexController, RoundPanelsController
    from reviewapp.pool.draw_routes import DrawController, DrawVerifyController, InvitationController
    from reviewapp.pool.evaluation_routes import EvaluationController
    from reviewapp.pool.routes import PoolController
    from reviewapp.publicity.routes import (
        PublicityIndexController,
        PublicPublicityController,
        RoundPublicityController,
        SpotCheckController,
    )
    from reviewapp.ranking.export_routes import ExportController
    from reviewapp.ranking.routes import (
        ChairRankingController,
        RankingController,
        RankingIndexController,
        RecommendationController,
    )
    from reviewapp.reports.certifications.routes import CertificationController
    from reviewapp.reports.figures.routes import FiguresController
    from reviewapp.reports.revocations.routes import RevocationController
    from reviewapp.reports.whistleblowing.public_routes import PublicReportController
    from reviewapp.reports.whistleblowing.routes import ReportController
    from reviewapp.rounds.criteria_routes import CriteriaController
    from reviewapp.rounds.routes import RoundController
    from reviewapp.scoring.routes import (
        AutosaveController,
        ChairController,
        ScoreSheetController,
        ScoringProgressController,
    )

    return [
        AuthController,
        AccountController,
        UserAdminController,
        RoleAdminController,
        PolicyController,
        AuditController,
        HomeController,
        HealthController,
        RoundController,
        CriteriaController,
        ApplicationsOverviewController,
        RoundApplicationsController,
        ApplicationController,
        ExpertPoolController,
        PanelIndexController,
        RoundPanelsController,
        RoundAssignmentController,
        ExpertRoundsController,
        PoolController,
        DrawController,
        DrawVerifyController,
        InvitationController,
        EvaluationController,
        CertificationController,
        RevocationController,
        FiguresController,
        ReportController,
        PublicReportController,
        ObjectionController,
        DocumentController,
        ExpertSheetDocumentController,
        ScoreSheetController,
        AutosaveController,
        ChairController,
        ScoringProgressController,
        ChairRankingController,
        RankingIndexController,
        RankingController,
        RecommendationController,
        PublicityIndexController,
        RoundPublicityController,
        SpotCheckController,
        PublicPublicityController,
        ExportController,
        HelpController,
    ]


def create_app(settings: Settings | None = None) -> ReviewApp:
    settings = (settings or load_settings()).check()
    crypto.configure(settings)  # the audit hash and the confidential columns' cipher (REVIEWAPP_CRYPTO)
    import_all_models()
    engine = create_db_engine(settings)
    # web.in_writer_thread; its idle thread ends when the app is dropped (no shutdown hook: tests reuse apps)
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reviewapp-writer")
    static = create_static_files_router(path="/static", directories=[STATIC_DIR], opt=PUBLIC, name="static")

    app = ReviewApp(
        route_handlers=[static, *route_handlers()],
        dependencies={"db": Provide(provide_db)},
        template_config=_configure_templates(settings),
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_secure=settings.is_production,
            cookie_httponly=True,
            cookie_samesite="lax",
        ),
        middleware=[SessionAuthMiddleware()],
        request_class=HTMXRequest,
        exception_handlers={
            HTTPException: handle_http_exception,
            NotFound: handle_not_found,
            Exception: handle_server_error,
        },
        before_send=[flash_before_send],
        on_shutdown=[lambda: engine.dispose()],
        request_max_body_size=(settings.upload_max_mb + 5) * 1024 * 1024,
        openapi_config=None,  # no public API description of an internal tool
        debug=False,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.writer_engine = writer_engine(engine)  # built once: each call makes a new option engine
    app.state.writer = writer
    return app
