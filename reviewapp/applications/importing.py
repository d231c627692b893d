"""Excel import of a round's applications as offices send them: check every row, preview, then commit all-or-nothing."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, update
from sqlmodel import Session, col, select

from reviewapp import audit
from reviewapp.applications import rules
from reviewapp.applications.import_sheet import Preview, Problem, Reference, parse_file
from reviewapp.applications.models import (
    Application,
    ApplicationParty,
    ApplicationScenario,
    Enterprise,
    FormalStatus,
)
from reviewapp.audit import Actor
from reviewapp.clock import utcnow
from reviewapp.db import chunked
from reviewapp.errors import NotFound, ServiceError
from reviewapp.rounds.models import IndustryCode, MaturityLevel, Scenario
from reviewapp.rounds.service import get_round
from reviewapp.settings import Settings

_ENTERPRISE_FIELDS = (
    "name", "credit_code", "city", "group_name", "nature", "size_type", "industry_group", "industry_mid",
    "industry_small", "above_designated_size",
)  # fmt: skip
_APPLICATION_FIELDS = (
    "serial", "factory_name", "project_name", "tier", "maturity_score", "maturity_level", "is_branch",
    "branch_industry", "major_accident", "serious_dishonesty", "contact_name", "contact_phone",
)  # fmt: skip


@dataclass(frozen=True)
class ImportResult:
    total: int
    created: int
    updated: int
    unchanged: int
    enterprises_created: int
    reset_to_pending: int
    warnings: int


class ImportRejected(ServiceError):
    """The file has errors: nothing was imported. `preview` lists every problem."""

    def __init__(self, preview: Preview) -> None:
        super().__init__(f"导入文件有 {len(preview.errors)} 处错误，未导入任何数据。")
        self.preview = preview


# --- reference data the checks need ---------------------------------------------------------------


def load_reference(session: Session, round_id: int) -> Reference:
    rnd = get_round(session, round_id)
    scenarios = session.exec(select(Scenario).where(Scenario.catalogue_version == rnd.scenario_catalogue_version))
    catalogue = {rules.scenario_key(s.name): (s.id, s.name, s.stage) for s in scenarios}  # type: ignore[misc]
    divisions = set(session.exec(select(IndustryCode.code).where(IndustryCode.level == "大类")))
    bands = [rules.LevelBand(m.level, m.score_min, m.score_max) for m in session.exec(select(MaturityLevel))]
    return Reference(round=rnd, catalogue=catalogue, divisions=divisions, bands=bands)


# --- matching against the database ----------------------------------------------------------------


@dataclass
class _Existing:
    by_code: dict[str, Enterprise]
    by_name: dict[str, list[Enterprise]]
    applications: dict[tuple[int, str], Application]
    scenarios: dict[int, list[str]]
    parties: dict[int, set[tuple[str, str, str]]]


def _load_existing(session: Session, preview: Preview) -> _Existing:
    codes = sorted({c for r in preview.rows if (c := r.enterprise.get("credit_code"))})
    names = sorted({r.enterprise["name"] for r in preview.rows if r.enterprise["name"]})
    by_code: dict[str, Enterprise] = {}
    by_name: dict[str, list[Enterprise]] = defaultdict(list)
    for chunk in chunked(codes):
        for e in session.exec(select(Enterprise).where(col(Enterprise.credit_code).in_(chunk))):
            by_code[e.credit_code] = e  # type: ignore[index]
    for chunk in chunked(names):
        for e in session.exec(select(Enterprise).where(col(Enterprise.name).in_(chunk))):
            by_name[e.name].append(e)
    enterprise_ids = {e.id for e in by_code.values()} | {e.id for es in by_name.values() for e in es}
    applications: dict[tuple[int, str], Application] = {}
    for chunk in chunked(sorted(enterprise_ids)):  # type: ignore[arg-type]
        stmt = select(Application).where(
            Application.round_id == preview.round_id, col(Application.enterprise_id).in_(chunk)
        )
        for a in session.exec(stmt):
            applications[(a.enterprise_id, a.factory_name)] = a
    app_ids = sorted(a.id for a in applications.values())  # type: ignore[type-var]
    scenarios: dict[int, list[str]] = defaultdict(list)
    parties: dict[int, set[tuple[str, str, str]]] = defaultdict(set)
    for chunk in chunked(app_ids):
        stmt = (
            select(ApplicationScenario.application_id, ApplicationScenario.name)
            .where(col(ApplicationScenario.application_id).in_(chunk))
            .order_by(ApplicationScenario.application_id, ApplicationScenario.sort_order)
        )
        for app_id, name in session.exec(stmt):
            scenarios[app_id].append(name)
        party_stmt = select(ApplicationParty).where(col(ApplicationParty.application_id).in_(chunk))
        for p in session.exec(party_stmt):
            parties[p.application_id].add((p.role, p.name, p.credit_code))
    return _Existing(by_code, by_name, applications, scenarios, parties)


def _differs(obj: Any, values: dict[str, Any]) -> bool:
    return any(getattr(obj, k) != v for k, v in values.items())


def match_existing(session: Session, preview: Preview) -> _Existing:
    """Find each row's enterprise and application; decide create / update / unchanged."""
    existing = _load_existing(session, preview)
    for row in preview.rows:
        if row.has_error:
            continue
        code, name = row.enterprise.get("credit_code"), row.enterprise["name"]
        enterprise = existing.by_code.get(code) if code else None
        if enterprise is None:
            namesakes = existing.by_name.get(name, [])
            if code:
                namesakes = [e for e in namesakes if e.credit_code is None]  # adopt a code-less record of that name
            if len(namesakes) > 1:
                row.problems.append(
                    Problem(row.number, "统一社会信用代码", "系统中有多家同名企业，请填写统一社会信用代码以区分。")
                )
                continue
            enterprise = namesakes[0] if namesakes else None
        if enterprise is None:
            row.action = "create"
            continue
        row.enterprise_id = enterprise.id
        application = existing.applications.get((enterprise.id, row.application["factory_name"]))  # type: ignore[arg-type]
        if application is None:
            row.action = "create"
            continue
        row.application_id = application.id
        changed = (
            _differs(enterprise, row.enterprise)
            or _differs(application, {k: v for k, v in row.application.items() if k != "serial" or v is not None})
            or existing.scenarios.get(application.id, []) != [s[0] for s in row.scenarios]  # type: ignore[arg-type]
            or (row.parties is not None and existing.parties.get(application.id, set()) != set(row.parties))  # type: ignore[arg-type]
        )
        row.action = "update" if changed else "unchanged"
    return existing


def preview_import(session: Session, *, round_id: int, data: bytes, filename: str) -> Preview:
    """Every row with its problems and what committing would do to it; nothing is written."""
    ref = load_reference(session, round_id)
    preview = parse_file(data, filename=filename, ref=ref)
    if preview.rows:
        match_existing(session, preview)
    return preview


# --- commit ---------------------------------------------------------------------------------------


def _with_defaults(model: Any, fields: Sequence[str], values: dict[str, Any]) -> dict[str, Any]:
    """Every row of a bulk insert carries the same columns; those the file did not give take the model default."""
    return {**{f: model.model_fields[f].default for f in fields}, **values}


def _bulk_update(session: Session, model: Any, params: list[dict[str, Any]]) -> None:
    """Update by primary key; rows carrying different columns go in separate batches."""
    by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for values in params:
        by_shape[tuple(sorted(values))].append(values)
    for group in by_shape.values():
        session.exec(update(model), params=group)  # type: ignore[call-overload]


def commit_import(
    session: Session, *, actor: Actor, round_id: int, data: bytes, filename: str, today: date
) -> ImportResult:
    """Check the file again and, only when no row has an error, write every row; one audit entry for the import."""
    from reviewapp.applications.service import recompute_checks

    ref = load_reference(session, round_id)
    preview = parse_file(data, filename=filename, ref=ref)
    existing = match_existing(session, preview) if preview.rows else None
    if not preview.ok or existing is None:
        raise ImportRejected(preview)
    now = utcnow()

    # Enterprises: one per credit code (or per name when the code is unknown); the first row gives the facts.
    new_enterprises: dict[str, dict[str, Any]] = {}
    enterprise_updates: dict[int, dict[str, Any]] = {}
    for row in preview.rows:
        if row.action == "unchanged":
            continue
        if row.enterprise_id is None:
            key = row.key[0]
            if key not in new_enterprises:
                new_enterprises[key] = {"credit_code": None, **row.enterprise, "created_at": now, "updated_at": now}
        else:
            enterprise_updates.setdefault(
                row.enterprise_id, {"id": row.enterprise_id, **row.enterprise, "updated_at": now}
            )
    if new_enterprises:
        keys = list(new_enterprises)
        result = session.exec(  # type: ignore[call-overload]
            insert(Enterprise).returning(Enterprise.id, sort_by_parameter_order=True),
            params=[_with_defaults(Enterprise, _ENTERPRISE_FIELDS, new_enterprises[k]) for k in keys],
        )
        ids = dict(zip(keys, (r[0] for r in result), strict=True))
        for row in preview.rows:
            if row.enterprise_id is None:
                row.enterprise_id = ids[row.key[0]]
    _bulk_update(session, Enterprise, list(enterprise_updates.values()))

    # Applications.
    position = {row.number: i for i, row in enumerate(preview.rows, start=1)}
    creates = [r for r in preview.rows if r.action == "create"]
    updates = [r for r in preview.rows if r.action == "update"]
    if creates:
        params = [
            {
                "round_id": round_id,
                "enterprise_id": r.enterprise_id,
                **_with_defaults(Application, _APPLICATION_FIELDS, r.application),
                "serial": r.application.get("serial") or position[r.number],
                "formal_status": FormalStatus.pending.value,
                "created_at": now,
                "updated_at": now,
            }
            for r in creates
        ]
        result = session.exec(  # type: ignore[call-overload]
            insert(Application).returning(Application.id, sort_by_parameter_order=True), params=params
        )
        for r, (app_id,) in zip(creates, result, strict=True):
            r.application_id = app_id
    reset = 0
    if updates:
        current = {a.id: a for a in existing.applications.values()}
        params = []
        for r in updates:
            values = {k: v for k, v in r.application.items() if k != "serial" or v is not None}
            values.update(id=r.application_id, updated_at=now, row_version=current[r.application_id].row_version + 1)  # type: ignore[index]
            # Changed facts invalidate an earlier formal-review decision: it must be taken again.
            if current[r.application_id].formal_status != FormalStatus.pending.value:  # type: ignore[index]
                values.update(
                    formal_status=FormalStatus.pending.value,
                    formal_decided_by=None,
                    formal_decided_at=None,
                    formal_note="",
                )
                reset += 1
            params.append(values)
        _bulk_update(session, Application, params)

    touched = creates + updates
    touched_ids = [r.application_id for r in touched]
    for chunk in chunked(touched_ids):
        session.exec(delete(ApplicationScenario).where(col(ApplicationScenario.application_id).in_(chunk)))  # type: ignore[call-overload]
    scenario_rows = [
        {"application_id": r.application_id, "name": name, "scenario_id": sid, "stage": stage, "sort_order": i}
        for r in touched
        for i, (name, sid, stage) in enumerate(r.scenarios, start=1)
    ]
    if scenario_rows:
        session.exec(insert(ApplicationScenario), params=scenario_rows)  # type: ignore[call-overload]
    party_owners = [r.application_id for r in touched if r.parties is not None]
    for chunk in chunked(party_owners):
        session.exec(delete(ApplicationParty).where(col(ApplicationParty.application_id).in_(chunk)))  # type: ignore[call-overload]
    party_rows = [
        {"application_id": r.application_id, "role": role, "name": name, "credit_code": code}
        for r in touched
        if r.parties
        for role, name, code in r.parties
    ]
    if party_rows:
        session.exec(insert(ApplicationParty), params=party_rows)  # type: ignore[call-overload]
    session.expire_all()
    recompute_checks(session, round_id=round_id, application_ids=touched_ids, today=today)  # type: ignore[arg-type]
    if touched_ids:
        # Changed enterprises, groups or providers can create or end conflicts of interest.
        from reviewapp.panels.conflicts import recompute_conflicts

        recompute_conflicts(session, actor=actor, round_id=round_id, today=today)

    outcome = ImportResult(
        total=len(preview.rows),
        created=len(creates),
        updated=len(updates),
        unchanged=preview.count("unchanged"),
        enterprises_created=len(new_enterprises),
        reset_to_pending=reset,
        warnings=len(preview.warnings),
    )
    summary = (
        f"导入申报名单《{filename}》到批次「{ref.round.name}」：共 {outcome.total} 行，新增 {outcome.created} 条，"
        f"更新 {outcome.updated} 条，未变 {outcome.unchanged} 条"
        + (f"；{reset} 条已审查的申报因数据变化改为待审查" if reset else "")
    )
    audit.record(
        session,
        actor=actor,
        action="application.import",
        entity_type="round",
        entity_id=round_id,
        summary=summary,
        after={
            "file": filename,
            "sha256": hashlib.sha256(data).hexdigest(),
            "rows": outcome.total,
            "created": outcome.created,
            "updated": outcome.updated,
            "unchanged": outcome.unchanged,
            "enterprises_created": outcome.enterprises_created,
            "reset_to_pending": reset,
            "warnings": outcome.warnings,
        },
    )
    return outcome


# --- the upload kept between preview and commit ---------------------------------------------------

_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
UPLOAD_TTL_SECONDS = 24 * 3600


def _imports_dir(settings: Settings) -> Path:
    return settings.data_dir / "imports"


def save_upload(settings: Settings, *, round_id: int, user_id: int | None, filename: str, data: bytes) -> str:
    """Keep an uploaded file (outside static/) until it is committed or discarded; return its token."""
    folder = _imports_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - UPLOAD_TTL_SECONDS
    for old in folder.iterdir():  # forgotten previews
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(24)
    (folder / f"{token}.xlsx").write_bytes(data)
    meta = {"round_id": round_id, "user_id": user_id, "filename": filename[:200], "size": len(data)}
    (folder / f"{token}.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return token


def load_upload(settings: Settings, *, token: str, round_id: int) -> tuple[bytes, str]:
    """(file bytes, original name) of a kept upload of this round."""
    folder = _imports_dir(settings)
    if not _TOKEN_RE.match(token or ""):
        raise NotFound("导入文件不存在或已过期，请重新上传。")
    try:
        meta = json.loads((folder / f"{token}.json").read_text(encoding="utf-8"))
        data = (folder / f"{token}.xlsx").read_bytes()
    except (OSError, ValueError) as exc:
        raise NotFound("导入文件不存在或已过期，请重新上传。") from exc
    if meta.get("round_id") != round_id:
        raise NotFound("导入文件不存在或已过期，请重新上传。")
    return data, str(meta.get("filename") or "导入文件.xlsx")


def discard_upload(settings: Settings, *, token: str) -> None:
    if _TOKEN_RE.match(token or ""):
        for suffix in (".xlsx", ".json"):
            (_imports_dir(settings) / f"{token}{suffix}").unlink(missing_ok=True)
