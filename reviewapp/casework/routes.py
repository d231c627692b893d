"""The endpoints every case register shares (the case page, its steps, handlers, files and the confidential
party's identity), as a controller base that a domain's controller configures.

A subclass sets `path`, `guards`, `kind`, `detail_template`, `identity_target`, `case_key`, `step_fields` and
`step_common`, and implements `context` (what its detail page shows), `take_step` (its service call) and
`reveal` (the identity view). Its own endpoints (register, export, new, create…) stay in the subclass.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, ClassVar

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Stream, Template
from sqlmodel import Session

from reviewapp.audit import Actor
from reviewapp.casework import cases, register
from reviewapp.casework import service as casework
from reviewapp.casework.cases import CaseKind
from reviewapp.errors import NotFound, ServiceError
from reviewapp.excel import Column, workbook_bytes
from reviewapp.files import download_response
from reviewapp.forms import Field, FormResult, validate
from reviewapp.web import (
    FormData,
    MultipartData,
    actor_of,
    checked_uploads,
    flash,
    form_fields,
    htmx_target,
    int_list,
    no_store,
    paginate,
    parse_page,
    render,
    render_block,
    settings_of,
    xlsx_response,
)

STAFF_MAX_FILES = 10
EXPORT_LIMIT = 100_000
REASSIGN_FIELDS = [Field("handlers", "承办人", kind="multi"), Field("note", "说明", kind="text", required=False)]


def case_page(
    request: Request, db: Session, kind: CaseKind, case: Any, *, base_url: str, facts: Any, today: date
) -> dict[str, Any]:
    """What every case page shows: the workflow's actions for this user (preconditions judged on `facts`), the
    trail with its files, the evidence, the handlers, and the empty step forms."""
    user = request.user
    workflow = kind.workflow
    is_handler = cases.is_case_handler(db, kind, case_id=case.id, user_id=user.id)
    steps = casework.case_steps(db, case_type=kind.name, case_id=case.id)
    handlers = casework.handlers(db, case_type=kind.name, case_id=case.id)
    return {
        "workflow": workflow,
        "is_handler": is_handler,
        "can_reassign": bool(handlers) and cases.may_reassign(db, kind, case_id=case.id, user=user),
        "offered": workflow.offered(case.state, is_handler=is_handler, case=facts, today=today),
        "waiting": workflow.waiting(case.state, is_handler=is_handler, case=facts, today=today),
        "steps": steps,
        "step_files": casework.step_files(db, [s.id for s in steps]),  # type: ignore[misc]
        "step_label": lambda s: casework.step_label(workflow, s),
        "file_url": lambda f: f"{base_url}/{case.id}/files/{f.id}",
        "evidence": cases.evidence(db, kind, case.id),
        "handlers": handlers,
        "handler_choices": casework.handler_choices(db),
        "identity": None,
        "identity_error": "",
        "open_step": "",
        "errors": {},
        "error": "",
        "confidential": cases.CONFIDENTIAL,
        "today": today,
    }


class CaseworkController(Controller):
    kind: ClassVar[CaseKind]
    detail_template: ClassVar[str]
    identity_target: ClassVar[str]  # the htmx target of the identity block
    case_key: ClassVar[str]  # the case's name in the detail template
    step_values_key: ClassVar[str] = "step_values"  # the step forms' values in the detail template
    step_fields: ClassVar[dict[str, list[Field]]] = {}
    step_common: ClassVar[list[Field]] = []
    max_files: ClassVar[int] = STAFF_MAX_FILES
    list_template: ClassVar[str]
    table_target: ClassVar[str]  # the htmx target of the register's table
    channel_choices: ClassVar[dict[str, str]]
    flag_choices: ClassVar[dict[str, str]]
    export_title: ClassVar[str]  # the sheet's title and the file's name (登记簿)
    export_columns: ClassVar[list[Column]]

    # --- what the domain configures ---------------------------------------------------------------

    def context(self, request: Request, db: Session, case: Any, **extra: Any) -> dict[str, Any]:
        raise NotImplementedError

    def take_step(
        self, request: Request, db: Session, *, case_id: int, code: str, values: dict[str, Any], uploads: list[Any]
    ) -> None:
        raise NotImplementedError

    def reveal(self, db: Session, actor: Actor, case_id: int) -> Any:
        raise NotImplementedError

    def query(self, today: date, filters: dict[str, str], handler_id: int | None = None) -> Any:
        """The register's select for cleaned `filters` (a missing key is no filter)."""
        raise NotImplementedError

    def case_flags(self, case: Any, today: date) -> list[Any]:
        raise NotImplementedError

    def export_rows(self, db: Session, items: list[Any], today: date) -> list[list[Any]]:
        raise NotImplementedError

    def own_filters(self, db: Session, params: Any, *, export: bool) -> dict[str, str]:
        """The domain's own register filters besides search, state, channel, flag and mine (none by default)."""
        return {}

    def list_extra(self, db: Session, items: list[Any]) -> dict[str, Any]:
        """What the domain's register shows besides the common columns."""
        return {}

    def step_defaults(self, today: date) -> dict[str, Any]:
        return {}

    def check_step_form(self, code: str, form: FormResult) -> None:
        """Refusals of a step's form before the service is asked (none by default)."""

    def step_label(self, code: str) -> str:
        transition = self.kind.workflow.transition(code)
        return transition.label if transition else code

    def today(self) -> date:
        from reviewapp import clock

        return clock.today_beijing()

    # --- helpers ------------------------------------------------------------------------------------

    def case_url(self, case_id: int) -> str:
        return f"{self.path}/{case_id}"

    def get_case(self, db: Session, case_id: int) -> Any:
        try:
            return cases.get_case(db, self.kind, case_id)
        except NotFound as exc:
            raise NotFoundException(exc.message) from exc

    def step_error(
        self, request: Request, db: Session, case_id: int, code: str, raw: dict[str, Any], errors: dict[str, str]
    ) -> Template:
        """The case page again with the step's form open, its values and the reason it was refused."""
        db.expire_all()
        case = self.get_case(db, case_id)
        error = errors.get("_form") or next(iter(errors.values()))
        extra = {self.step_values_key: {**self.step_defaults(self.today()), **raw}}
        return render(
            self.detail_template,
            **self.context(request, db, case, open_step=code, errors=errors, error=error, **extra),
        )

    def uploads_of(self, request: Request, data: dict[str, Any], form: FormResult) -> list[Any]:
        settings = settings_of(request)
        uploads, problem = checked_uploads(
            data, max_bytes=settings.upload_max_mb * 1024 * 1024, max_count=self.max_files
        )
        if problem:
            form.add_error("files", problem)
        return uploads

    def register_case(
        self,
        request: Request,
        db: Session,
        form: FormResult,
        create: Callable[[], Any],
        *,
        message: str,
        not_found_field: str = "_form",
    ) -> Redirect | None:
        """The end of registering a new case: create() it, commit, flash `message` (formatted with the case's
        number) and go to the case page. A refusal is rolled back and comes back as the form's error (None)."""
        try:
            case = create()
            db.commit()
        except ServiceError as exc:
            db.rollback()
            form.add_error(not_found_field if isinstance(exc, NotFound) else exc.field or "_form", exc.message)
            return None
        flash(request, message.format(number=case.number))
        return Redirect(path=self.case_url(case.id), status_code=303)

    def filters_of(self, db: Session, params: Any, *, export: bool = False) -> dict[str, str]:
        """The register's filters from the query string, each kept only when valid."""
        return {
            "q": str(params.get("q") or "")[:64],
            **self.own_filters(db, params, export=export),
            "status": register.choice(str(params.get("status") or ""), self.kind.workflow.states),
            "channel": register.choice(str(params.get("channel") or ""), self.channel_choices),
            "flag": register.choice(str(params.get("flag") or ""), self.flag_choices),
            "mine": "" if export or not params.get("mine") else "1",
        }

    # --- the shared endpoints -----------------------------------------------------------------------

    @get("/", sync_to_thread=True)
    def register(self, request: Request, db: NamedDependency[Session], page: FromQuery[str] = "1") -> Template:
        today = self.today()
        filters = self.filters_of(db, request.query_params)
        stmt = self.query(today, filters, handler_id=request.user.id if filters["mine"] else None)
        result = paginate(db, stmt, page=parse_page(page), per_page=30)
        context = {
            "page": result,
            "filters": filters,
            "states": self.kind.workflow.states,
            "channels": self.channel_choices,
            "flags_choices": self.flag_choices,
            "handler_names": register.handler_names(db, self.kind, result.items),
            "flags": lambda case: self.case_flags(case, today),
            "overdue_count": paginate(db, self.query(today, {"flag": "overdue"}), page=1, per_page=1).total,
            **self.list_extra(db, result.items),
        }
        if htmx_target(request) == self.table_target:
            return render_block(self.list_template, "table", **context)
        return render(self.list_template, **context)

    @get("/export.xlsx", sync_to_thread=True)
    def export(self, request: Request, db: NamedDependency[Session]) -> Response[bytes]:
        """The register without the confidential party's identity: a file leaves the access control and the audit
        of identity views behind, so no export carries it (handlers read it on the case's page)."""
        today = self.today()
        stmt = self.query(today, self.filters_of(db, request.query_params, export=True))
        items = list(db.exec(stmt.limit(EXPORT_LIMIT)))
        data = workbook_bytes(
            title=self.export_title, columns=self.export_columns, rows=self.export_rows(db, items, today)
        )
        return xlsx_response(f"{self.export_title}.xlsx", data)

    @get("/{case_id:int}", sync_to_thread=True)
    def show(self, request: Request, db: NamedDependency[Session], case_id: FromPath[int]) -> Template:
        return render(self.detail_template, **self.context(request, db, self.get_case(db, case_id)))

    @post("/{case_id:int}/identity", sync_to_thread=True)
    def identity(self, request: Request, db: NamedDependency[Session], case_id: FromPath[int]) -> Template:
        case = self.get_case(db, case_id)
        try:
            identity = self.reveal(db, actor_of(request), case.id)
            db.commit()
            error = ""
        except ServiceError as exc:
            db.rollback()
            identity, error = None, exc.message
        if htmx_target(request) == self.identity_target:
            return no_store(
                render_block(
                    self.detail_template,
                    "identity",
                    **{self.case_key: case},
                    identity=identity,
                    identity_error=error,
                    is_handler=identity is not None,
                    confidential=cases.CONFIDENTIAL,
                )
            )
        return no_store(
            render(self.detail_template, **self.context(request, db, case, identity=identity, identity_error=error))
        )

    @post("/{case_id:int}/steps", sync_to_thread=True)
    def step(self, request: Request, db: NamedDependency[Session], case_id: FromPath[int], data: MultipartData) -> Any:
        """A transition of the case's workflow (or an event the domain takes through the same form)."""
        values = form_fields(data)
        code = str(values.get("code") or "")
        form = validate(values, [*self.step_common, *self.step_fields.get(code, [])])
        uploads = self.uploads_of(request, data, form)
        self.check_step_form(code, form)
        if form.ok:
            v = form.values
            if code == "start":
                v["handlers"] = int_list(v.get("handlers"))
            try:
                self.take_step(request, db, case_id=case_id, code=code, values=v, uploads=uploads)
                db.commit()
                flash(request, f"已办理：{self.step_label(code)}。")
                return Redirect(path=self.case_url(case_id), status_code=303)
            except NotFound as exc:
                db.rollback()
                raise NotFoundException(exc.message) from exc
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "_form", exc.message)
        return self.step_error(request, db, case_id, code, form.raw, form.errors)

    @post("/{case_id:int}/handlers", sync_to_thread=True)
    def handlers(
        self, request: Request, db: NamedDependency[Session], case_id: FromPath[int], data: FormData
    ) -> Redirect:
        form = validate(data, REASSIGN_FIELDS)
        if not form.ok:
            flash(request, next(iter(form.errors.values())), "error")
            return Redirect(path=self.case_url(case_id), status_code=303)
        try:
            cases.reassign(
                db,
                self.kind,
                actor=actor_of(request),
                case_id=case_id,
                user_ids=int_list(form.values["handlers"]),
                note=form.values["note"] or "",
            )
            db.commit()
            flash(request, "已更换承办人。")
        except NotFound as exc:
            raise NotFoundException(exc.message) from exc
        except ServiceError as exc:
            db.rollback()
            flash(request, exc.message, "error")
        return Redirect(path=self.case_url(case_id), status_code=303)

    @get("/{case_id:int}/files/{file_id:int}", sync_to_thread=True)
    def download(
        self, request: Request, db: NamedDependency[Session], case_id: FromPath[int], file_id: FromPath[int]
    ) -> Stream:
        try:
            stored = cases.case_file(db, self.kind, case_id=case_id, file_id=file_id)
        except NotFound as exc:
            raise NotFoundException(exc.message) from exc
        return download_response(request, stored, missing="文件已不在存储中，请联系系统管理员。")
