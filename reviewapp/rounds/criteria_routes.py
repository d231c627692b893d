"""Pages for criteria versions (要素条件): the list, the tree editor, copy and delete, Excel export and import."""

from __future__ import annotations

import json
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import func
from sqlmodel import Session, select

from reviewapp.errors import Conflict, ServiceError
from reviewapp.excel import XLSX_MEDIA_TYPE, Column, ExcelReadError, content_disposition, read_table, workbook_bytes
from reviewapp.forms import Field, FormResult, validate
from reviewapp.rounds import criteria, criteria_editor, rules, service
from reviewapp.rounds.models import CriteriaNode, CriteriaVersion, NodeKind, Tier
from reviewapp.rounds.routes import TIER_CHOICES, is_admin
from reviewapp.spreadsheets import FORMATS_TEXT, SPREADSHEET_SUFFIXES
from reviewapp.web import (
    FormData,
    actor_of,
    flash,
    found_or_404,
    int_or_none,
    is_htmx,
    paginate,
    parse_page,
    render,
    render_block,
    staff_only,
)

KIND_CHOICES = {NodeKind.points.value: "分值项", NodeKind.gate.value: "否决项（一票否决）"}


VERSION_FILTERS = {"template": "模板", "in_use": "批次使用中", "frozen": "已冻结", "free": "未使用"}


NODE_FIELDS = [
    Field("code", "编码", max_length=32),
    Field("title", "名称", max_length=rules.TITLE_MAX),
    Field("guidance", "评分指引", kind="text", required=False, max_length=rules.GUIDANCE_MAX),
    Field("kind", "类型", required=False, max_length=16),
    Field("max_points", "满分", required=False, max_length=20),
    Field("step", "步长", required=False, max_length=20),
    Field("parent_id", "所属维度", kind="int", required=False, min_value=1),
    Field("row_version", "版本号", kind="int", min_value=1),
]


VERSION_FIELDS = [
    Field("name", "版本名称", max_length=120),
    Field("tier", "适用级别", kind="choice", choices=tuple(TIER_CHOICES)),
    Field("note", "说明", kind="text", required=False, max_length=500),
]


IMPORT_MAX_BYTES = 5 * 1024 * 1024


def _get_version(db: Session, version_id: int) -> CriteriaVersion:
    return found_or_404(service.get_version, db, version_id)  # type: ignore[no-any-return]


def _editor_context(
    request: Request,
    db: Session,
    version: CriteriaVersion,
    *,
    editing: str = "",
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    error: str = "",
) -> dict[str, Any]:
    tree = service.criteria_tree(db, version.id)  # type: ignore[arg-type]
    used_by = service.rounds_using(db, [version.id]).get(version.id)  # type: ignore[list-item]
    based_on = db.get(CriteriaVersion, version.based_on_id) if version.based_on_id else None
    decision = rules.edit_decision(
        is_template=version.is_template, frozen=version.frozen_at is not None, is_admin=is_admin(request)
    )
    if decision.mode == rules.EditMode.refused:
        editing = ""
    return {
        "version": version,
        "tree": tree,
        "warnings": rules.tree_warnings(tree),
        "used_by": used_by,
        "based_on": based_on,
        "decision": decision,
        "can_edit": decision.mode != rules.EditMode.refused,
        "editing": editing,
        "form": form or {},
        "errors": errors or {},
        "error": error,
        "kinds": KIND_CHOICES,
        "tiers": TIER_CHOICES,
        "dimension_choices": {str(d.id): f"{d.code} {d.title}" for d in tree.dimensions},
        "pts": rules.fmt_points,
        "deletable": used_by is None and version.frozen_at is None and (not version.is_template or is_admin(request)),
    }


def _node_form(node: CriteriaNode) -> dict[str, Any]:
    return {
        "code": node.code,
        "title": node.title,
        "guidance": node.guidance,
        "kind": node.kind,
        "max_points": rules.fmt_points(node.max_points) if node.kind == NodeKind.points.value else "",
        "step": rules.fmt_points(node.step) if node.kind == NodeKind.points.value else "",
        "parent_id": str(node.parent_id or ""),
    }


def _draft(form: FormResult, *, errors: dict[str, str]) -> rules.NodeDraft:
    v = form.values
    draft = rules.NodeDraft(
        kind=v.get("kind") or NodeKind.points.value,
        code=v.get("code") or "",
        title=v.get("title") or "",
        guidance=v.get("guidance") or "",
        max_points=rules.parse_decimal(v.get("max_points") or ""),
        step=rules.parse_decimal(v.get("step") or ""),
    )
    for name in ("max_points", "step"):
        if (v.get(name) or "") and rules.parse_decimal(v[name]) is None:
            errors.setdefault(name, f"「{'满分' if name == 'max_points' else '步长'}」应为数字，例如 5 或 0.5。")
    return draft


class CriteriaController(Controller):
    path = "/criteria"
    guards = [staff_only]

    @get("/", sync_to_thread=True)
    def list_versions(
        self,
        request: Request,
        db: NamedDependency[Session],
        q: FromQuery[str] = "",
        kind: FromQuery[str] = "",
        page: FromQuery[str] = "1",
    ) -> Template:
        stmt = criteria.list_versions_query(q=q[:64], kind=kind if kind in VERSION_FILTERS else "")
        result = paginate(db, stmt, page=parse_page(page), per_page=20)
        ids = [v.id for v in result.items]
        totals = {
            vid: (total, count)
            for vid, total, count in db.exec(
                select(
                    CriteriaNode.version_id,
                    func.coalesce(func.sum(CriteriaNode.max_points), 0),
                    func.count(),
                )
                .where(CriteriaNode.version_id.in_(ids or [-1]), CriteriaNode.parent_id.is_not(None))  # type: ignore[attr-defined,union-attr]
                .group_by(CriteriaNode.version_id)
            )
        }
        sources = {
            v.id: v
            for v in db.exec(
                select(CriteriaVersion).where(
                    CriteriaVersion.id.in_([v.based_on_id for v in result.items if v.based_on_id] or [-1])  # type: ignore[union-attr]
                )
            )
        }
        return render(
            "criteria/list.html",
            page=result,
            q=q,
            kind=kind,
            filters=VERSION_FILTERS,
            totals=totals,
            used=service.rounds_using(db, ids),  # type: ignore[arg-type]
            sources=sources,
            tiers=TIER_CHOICES,
            pts=rules.fmt_points,
        )

    @get("/new", sync_to_thread=False)
    def new_version(self) -> Template:
        return render("criteria/new.html", form={"tier": Tier.advanced.value}, errors={}, tiers=TIER_CHOICES)

    @post("/", sync_to_thread=True)
    def create_version(self, request: Request, db: NamedDependency[Session], data: FormData) -> Any:
        form = validate(data, VERSION_FIELDS)
        if form.ok:
            try:
                version = criteria.create_version(
                    db,
                    actor=actor_of(request),
                    name=form.values["name"],
                    tier=form.values["tier"],
                    note=form.values["note"] or "",
                )
                db.commit()
                flash(request, f"已新建空白版本「{version.name}」，请添加维度和条目。")
                return Redirect(path=f"/criteria/{version.id}", status_code=303)
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "name", exc.message)
        return render("criteria/new.html", form=form.raw, errors=form.errors, tiers=TIER_CHOICES)

    @get("/{version_id:int}", sync_to_thread=True)
    def editor(
        self, request: Request, db: NamedDependency[Session], version_id: FromPath[int], edit: FromQuery[str] = ""
    ) -> Template:
        version = _get_version(db, version_id)
        form: dict[str, Any] = {}
        if edit.isdigit():
            node = db.get(CriteriaNode, int(edit))
            if node is None or node.version_id != version.id:
                edit = ""
            else:
                form = _node_form(node)
        elif edit.startswith("item-new-"):
            form = {"kind": NodeKind.points.value, "step": "0.5", "parent_id": edit.removeprefix("item-new-")}
        context = _editor_context(request, db, version, editing=edit, form=form)
        if is_htmx(request):
            return render_block("criteria/editor.html", "tree", **context)
        return render("criteria/editor.html", **context)

    def _after_edit(
        self,
        request: Request,
        db: Session,
        version_id: int,
        *,
        outcome: criteria_editor.EditOutcome | None,
        editing: str = "",
        form: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        error: str = "",
        done: str = "",
    ) -> Any:
        """Success: the updated tree (htmx) or a redirect; a frozen version's edit lands on its new copy."""
        if outcome is not None and outcome.forked:
            flash(request, rules.edit_decision(is_template=False, frozen=True, is_admin=False).reason, "warning")
            target = f"/criteria/{outcome.version.id}"
            if is_htmx(request):
                return Response(content="", status_code=200, headers={"HX-Redirect": target})
            return Redirect(path=target, status_code=303)
        if outcome is not None and not is_htmx(request):
            if done:
                flash(request, done)
            return Redirect(path=f"/criteria/{version_id}", status_code=303)
        db.expire_all()
        version = _get_version(db, version_id)
        context = _editor_context(request, db, version, editing=editing, form=form, errors=errors, error=error)
        context["done"] = done if outcome is not None else ""
        if is_htmx(request):
            return render_block("criteria/editor.html", "tree", **context)
        return render("criteria/editor.html", **context)

    def _edit(
        self,
        request: Request,
        db: Session,
        version_id: int,
        data: dict[str, Any],
        *,
        editing: str,
        node_id: int | None,
        done: str,
    ) -> Any:
        _get_version(db, version_id)
        form = validate(data, NODE_FIELDS)
        errors = dict(form.errors)
        draft = _draft(form, errors=errors)
        existing = db.get(CriteriaNode, node_id) if node_id is not None else None
        is_dimension = editing == "dim-new" or (existing is not None and existing.parent_id is None)
        if is_dimension:
            draft.kind = NodeKind.dimension.value
            errors.pop("kind", None)
        elif draft.kind not in KIND_CHOICES:
            errors.setdefault("kind", "「类型」应为「分值」或「否决项」。")
        for name, message in rules.node_problems(draft).items():
            if name == "code" and "code" in errors:
                continue
            errors.setdefault(name, message)
        if "row_version" in errors:
            return self._after_edit(request, db, version_id, outcome=None, error=service.STALE_CRITERIA)
        if not errors:
            try:
                common = {
                    "actor": actor_of(request),
                    "version_id": version_id,
                    "row_version": form.values["row_version"],
                    "is_admin": is_admin(request),
                    "draft": draft,
                }
                if node_id is None:
                    parent = None if is_dimension else form.values.get("parent_id")
                    if not is_dimension and parent is None:
                        raise ServiceError("请选择条目所属的维度。", field="parent_id")
                    outcome = criteria_editor.add_node(db, parent_id=parent, **common)
                else:
                    outcome = criteria_editor.update_node(
                        db, node_id=node_id, parent_id=form.values.get("parent_id"), **common
                    )
                db.commit()
                return self._after_edit(request, db, version_id, outcome=outcome, done=done)
            except Conflict as exc:
                db.rollback()
                return self._after_edit(request, db, version_id, outcome=None, error=exc.message)
            except ServiceError as exc:
                db.rollback()
                if exc.field is None:
                    return self._after_edit(request, db, version_id, outcome=None, error=exc.message)
                errors[exc.field] = exc.message
        return self._after_edit(request, db, version_id, outcome=None, editing=editing, form=form.raw, errors=errors)

    @post("/{version_id:int}/nodes", sync_to_thread=True)
    def add_node(
        self, request: Request, db: NamedDependency[Session], version_id: FromPath[int], data: FormData
    ) -> Any:
        parent = (data or {}).get("parent_id")
        editing = f"item-new-{parent}" if parent else "dim-new"
        return self._edit(request, db, version_id, data, editing=editing, node_id=None, done="已添加。")

    @post("/{version_id:int}/nodes/{node_id:int}", sync_to_thread=True)
    def update_node(
        self,
        request: Request,
        db: NamedDependency[Session],
        version_id: FromPath[int],
        node_id: FromPath[int],
        data: FormData,
    ) -> Any:
        return self._edit(request, db, version_id, data, editing=str(node_id), node_id=node_id, done="已保存修改。")

    @post("/{version_id:int}/nodes/{node_id:int}/delete", sync_to_thread=True)
    def delete_node(
        self,
        request: Request,
        db: NamedDependency[Session],
        version_id: FromPath[int],
        node_id: FromPath[int],
        data: FormData,
    ) -> Any:
        return self._simple(request, db, version_id, data, "已删除。", criteria_editor.delete_node, node_id=node_id)

    @post("/{version_id:int}/nodes/{node_id:int}/move", sync_to_thread=True)
    def move_node(
        self,
        request: Request,
        db: NamedDependency[Session],
        version_id: FromPath[int],
        node_id: FromPath[int],
        data: FormData,
    ) -> Any:
        direction = str((data or {}).get("direction", ""))
        return self._simple(
            request, db, version_id, data, "", criteria_editor.move_node, node_id=node_id, direction=direction
        )

    def _simple(
        self,
        request: Request,
        db: Session,
        version_id: int,
        data: dict[str, Any],
        done: str,
        operation,  # type: ignore[no-untyped-def]
        **kwargs: Any,
    ) -> Any:
        _get_version(db, version_id)
        row_version = int_or_none((data or {}).get("row_version"))
        try:
            outcome = operation(
                db,
                actor=actor_of(request),
                version_id=version_id,
                row_version=row_version or 0,
                is_admin=is_admin(request),
                **kwargs,
            )
            db.commit()
            return self._after_edit(request, db, version_id, outcome=outcome, done=done)
        except ServiceError as exc:
            db.rollback()
            return self._after_edit(request, db, version_id, outcome=None, error=exc.message)

    @post("/{version_id:int}/meta", sync_to_thread=True)
    def update_meta(
        self, request: Request, db: NamedDependency[Session], version_id: FromPath[int], data: FormData
    ) -> Any:
        _get_version(db, version_id)
        form = validate(data, [*VERSION_FIELDS, Field("row_version", "版本号", kind="int", min_value=1)])
        if form.ok:
            try:
                outcome = criteria_editor.update_version(
                    db,
                    actor=actor_of(request),
                    version_id=version_id,
                    row_version=form.values["row_version"],
                    is_admin=is_admin(request),
                    name=form.values["name"],
                    tier=form.values["tier"],
                    note=form.values["note"] or "",
                )
                db.commit()
                return self._after_edit(request, db, version_id, outcome=outcome, done="已保存版本信息。")
            except Conflict as exc:
                db.rollback()
                return self._after_edit(request, db, version_id, outcome=None, error=exc.message)
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "_form", exc.message)
        return self._after_edit(
            request,
            db,
            version_id,
            outcome=None,
            editing="meta",
            form=form.raw,
            errors=form.errors,
            error=form.errors.get("_form", "") or "版本信息未保存，请按提示修改。",
        )

    @post("/{version_id:int}/copy", sync_to_thread=True)
    def copy(
        self, request: Request, db: NamedDependency[Session], version_id: FromPath[int], data: FormData
    ) -> Redirect:
        source = _get_version(db, version_id)
        name = str((data or {}).get("name") or "").strip() or None
        try:
            version = service.copy_version(db, actor=actor_of(request), version_id=source.id, name=name)  # type: ignore[arg-type]
            db.commit()
            flash(request, f"已复制为新版本「{version.name}」，可以在此修改。")
            return Redirect(path=f"/criteria/{version.id}", status_code=303)
        except ServiceError as exc:
            db.rollback()
            flash(request, exc.message, "error")
            return Redirect(path=f"/criteria/{version_id}", status_code=303)

    @post("/{version_id:int}/delete", sync_to_thread=True)
    def delete(
        self, request: Request, db: NamedDependency[Session], version_id: FromPath[int], data: FormData
    ) -> Redirect:
        version = _get_version(db, version_id)
        try:
            criteria.delete_version(
                db,
                actor=actor_of(request),
                version_id=version.id,
                is_admin=is_admin(request),  # type: ignore[arg-type]
                row_version=int_or_none((data or {}).get("row_version")) or 0,
            )
            db.commit()
            flash(request, f"已删除要素条件版本「{version.name}」。")
            return Redirect(path="/criteria", status_code=303)
        except ServiceError as exc:
            db.rollback()
            flash(request, exc.message, "error")
            return Redirect(path=f"/criteria/{version_id}", status_code=303)

    @get("/{version_id:int}/export.xlsx", sync_to_thread=True)
    def export(self, db: NamedDependency[Session], version_id: FromPath[int]) -> Response[bytes]:
        version = _get_version(db, version_id)
        tree = service.criteria_tree(db, version.id)  # type: ignore[arg-type]
        rows: list[list[Any]] = []
        for dim in tree.dimensions:
            if not dim.items:
                rows.append([dim.code, dim.title, "", "", "", "", "", "", dim.guidance])
            for n, item in enumerate(dim.items):
                points = item.kind == NodeKind.points.value
                rows.append(
                    [
                        dim.code,
                        dim.title,
                        item.code,
                        item.title,
                        "分值" if points else "否决项",
                        float(item.max_points) if points else None,
                        float(item.step) if points else None,
                        item.guidance,
                        dim.guidance if n == 0 else "",
                    ]
                )
        title = f"要素条件：{version.name}" + ("（模板）" if version.is_template else "")
        data = workbook_bytes(title=title, columns=_export_columns(), rows=rows, sheet_name="要素条件")
        return Response(
            content=data,
            media_type=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": content_disposition(f"要素条件-{version.name}.xlsx")},
        )

    @get("/import/template.xlsx", sync_to_thread=False)
    def import_template(self) -> Response[bytes]:
        data = workbook_bytes(title="要素条件导入表", columns=_export_columns(), rows=[], sheet_name="要素条件")
        return Response(
            content=data,
            media_type=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": content_disposition("要素条件导入模板.xlsx")},
        )

    @get("/import", sync_to_thread=False)
    def import_page(self) -> Template:
        return render(
            "criteria/import.html",
            form={"tier": Tier.advanced.value},
            errors={},
            tiers=TIER_CHOICES,
            columns=rules.EXPORT_HEADERS,
        )

    @post("/import", sync_to_thread=True)
    def import_preview(
        self,
        request: Request,
        db: NamedDependency[Session],
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Template:
        upload = data.get("file")
        form = validate({k: v for k, v in data.items() if k != "file"}, VERSION_FIELDS)
        errors = dict(form.errors)
        content = b""
        filename = ""
        if not isinstance(upload, UploadFile) or not upload.filename:
            errors["file"] = "请选择要导入的 Excel 文件。"
        else:
            filename = upload.filename
            content = upload.file.read(IMPORT_MAX_BYTES + 1)
            if not filename.lower().endswith(SPREADSHEET_SUFFIXES):
                errors["file"] = f"请上传 {FORMATS_TEXT} 格式的文件（所选文件为「{filename}」）。"
            elif len(content) > IMPORT_MAX_BYTES:
                errors["file"] = "文件超过 5 MB，要素条件表不应这么大，请检查是否选错了文件。"
            elif not content:
                errors["file"] = "所选文件是空的。"
        table = None
        if "file" not in errors:
            try:
                table = read_table(
                    content, columns=rules.IMPORT_COLUMNS, required=rules.IMPORT_REQUIRED, keep_text=rules.IMPORT_PROSE
                )
            except ExcelReadError as exc:
                errors["file"] = exc.message
        if errors or table is None:
            return render(
                "criteria/import.html", form=form.raw, errors=errors, tiers=TIER_CHOICES, columns=rules.EXPORT_HEADERS
            )
        rows = [(r.number, r.values) for r in table.rows]
        parsed = rules.parse_criteria_rows(rows)
        return render(
            "criteria/preview.html",
            parsed=parsed,
            form=form.values,
            filename=filename,
            payload=json.dumps(rows, ensure_ascii=False),
            tiers=TIER_CHOICES,
            pts=rules.fmt_points,
            kinds=rules.KIND_LABELS,
            unknown_headers=table.unknown_headers,
        )

    @post("/import/commit", sync_to_thread=True)
    def import_commit(self, request: Request, db: NamedDependency[Session], data: FormData) -> Any:
        form = validate(
            data,
            [
                *VERSION_FIELDS,
                Field("filename", "文件名", required=False, max_length=255),
                Field("payload", "表格内容", kind="text", max_length=2_000_000),
            ],
        )
        rows: list[tuple[int, dict[str, str]]] = []
        if form.ok:
            try:
                raw_rows = json.loads(form.values["payload"])
                rows = [(int(n), {str(k): str(v) for k, v in values.items()}) for n, values in raw_rows]
            except (ValueError, TypeError, AttributeError):
                form.add_error("payload", "导入内容无效，请重新上传文件。")
        if form.ok:
            parsed = rules.parse_criteria_rows(rows)
            try:
                version = criteria.import_version(
                    db,
                    actor=actor_of(request),
                    name=form.values["name"],
                    tier=form.values["tier"],
                    note=form.values["note"] or "",
                    parsed=parsed,
                    filename=form.values.get("filename") or "",
                )
                db.commit()
                flash(request, f"已导入要素条件版本「{version.name}」（{parsed.item_count} 个条目）。")
                return Redirect(path=f"/criteria/{version.id}", status_code=303)
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "file", exc.message)
        return render(
            "criteria/import.html", form=form.raw, errors=form.errors, tiers=TIER_CHOICES, columns=rules.EXPORT_HEADERS
        )


def _export_columns() -> list[Column]:
    widths = (10, 14, 10, 30, 12, 8, 8, 50, 30)
    return [Column(h, w, wrap=w >= 30) for h, w in zip(rules.EXPORT_HEADERS, widths, strict=True)]
