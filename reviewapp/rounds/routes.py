"""Staff pages for rounds (批次): the list, a round's page and its settings form."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import func
from sqlmodel import Session, select

from reviewapp.applications.models import Application
from reviewapp.auth.models import Role
from reviewapp.clock import as_utc, utcnow
from reviewapp.errors import Conflict, ServiceError
from reviewapp.forms import Field, FormResult, validate
from reviewapp.panels import conflicts
from reviewapp.panels.models import Panel
from reviewapp.rounds import criteria, rules, service
from reviewapp.rounds.models import TIER_LABELS, Aggregation, CriteriaVersion, Round, Tier
from reviewapp.web import (
    FormData,
    actor_of,
    flash,
    found_or_404,
    htmx_target,
    int_or_none,
    paginate,
    parse_page,
    render,
    render_block,
    settings_of,
    staff_only,
)

TIER_CHOICES = {t.value: TIER_LABELS[t] for t in Tier}
AGGREGATION_CHOICES = {a.value: a.label for a in Aggregation}
BOOL_SETTINGS = (
    "gate_failure_vetoes",
    "coi_same_credit_code",
    "coi_employment",
    "coi_provider",
    "coi_declared_relation",
    "coi_same_city",
    "publish_scores",
)
# Settings shown by more than one form field: their problems are shown at this field.
FORM_FIELD_OF = {"tie_break": "tie_break_1", "scoring_deadline": "scoring_deadline_date"}
# When a deadline date is given without a time, the whole day counts.
END_OF_DAY = time(23, 59)


def is_admin(request: Request) -> bool:
    return bool(request.user and request.user.role == Role.sysadmin.value)


# --- round form -----------------------------------------------------------------------------------


def _round_fields(catalogues: list[str]) -> list[Field]:
    return [
        Field("name", "批次名称", max_length=120),
        Field("year", "年度", kind="int", min_value=2000, max_value=2100),
        Field("tier", "级别", kind="choice", choices=tuple(TIER_CHOICES)),
        Field("criteria_version_id", "要素条件", kind="int", required=False, min_value=1),
        Field("scenario_catalogue_version", "场景目录版本", kind="choice", choices=tuple(catalogues)),
        Field("application_close", "申报截止日期", kind="date", required=False),
        Field("scoring_deadline_date", "评分截止日期", kind="date", required=False),
        Field("scoring_deadline_time", "评分截止时间", kind="time", required=False),
        Field("publicity_working_days", "公示期", kind="int", min_value=1, max_value=30),
        Field("aggregation", "汇总方式", kind="choice", choices=tuple(AGGREGATION_CHOICES)),
        Field("min_scorers", "每份申报最少评分专家数", kind="int", min_value=1, max_value=30),
        Field("opinion_min_length", "评审意见最少字数", kind="int", min_value=0, max_value=2000),
        Field("outlier_threshold", "离群分差阈值", kind="decimal", min_value=Decimal("0.5"), max_value=Decimal("100")),
        *[
            Field(f"tie_break_{i}", f"第 {i} 决胜依据", required=False, max_length=80)
            for i in range(1, rules.TIE_BREAK_SLOTS + 1)
        ],
        Field("min_maturity_level", "最低成熟度等级", kind="int", required=False, min_value=1, max_value=5),
        Field("min_scenarios", "最少场景数", kind="int", min_value=0, max_value=40),
        Field("required_stages", "须覆盖的环节", kind="multi", required=False),
        Field("branch_industries", "允许分支机构申报的行业", required=False, max_length=500),
        Field("coi_employment_years", "任职回避年限", kind="int", min_value=1, max_value=20),
        Field("pledge_text", "承诺书内容", kind="text", min_length=20, max_length=5000),
        Field("validity_years", "认定有效期", kind="int", min_value=1, max_value=10),
        *[Field(name, name, kind="bool", required=False) for name in BOOL_SETTINGS],
    ]


def _form_from_settings(values: dict[str, Any], tz: Any) -> dict[str, Any]:
    """A round's settings as the strings its form shows."""
    form: dict[str, Any] = {}
    for key, value in values.items():
        if key in BOOL_SETTINGS:
            form[key] = "on" if value else ""
        elif key == "tie_break":
            for i in range(rules.TIE_BREAK_SLOTS):
                form[f"tie_break_{i + 1}"] = value[i] if i < len(value) else ""
        elif key == "required_stages":
            form[key] = list(value)
        elif key == "branch_industries":
            form[key] = "、".join(value)
        elif key == "scoring_deadline":
            local = as_utc(value).astimezone(tz) if value else None
            form["scoring_deadline_date"] = local.date().isoformat() if local else ""
            form["scoring_deadline_time"] = local.strftime("%H:%M") if local else ""
        elif key == "application_close":
            form[key] = value.isoformat() if value else ""
        elif isinstance(value, Decimal):
            form[key] = rules.fmt_points(value)
        else:
            form[key] = "" if value is None else str(value)
    return form


def _values_from_form(form: FormResult, tz: Any) -> dict[str, Any]:
    """Validated form values as round settings (keys of service.ROUND_SETTINGS)."""
    v = form.values
    values: dict[str, Any] = {
        k: v.get(k)
        for k in (
            "name",
            "year",
            "tier",
            "criteria_version_id",
            "scenario_catalogue_version",
            "application_close",
            "publicity_working_days",
            "aggregation",
            "min_scorers",
            "opinion_min_length",
            "outlier_threshold",
            "min_scenarios",
            "required_stages",
            "coi_employment_years",
            "pledge_text",
            "validity_years",
        )
    }
    values.update({k: bool(v.get(k)) for k in BOOL_SETTINGS})
    values["tie_break"] = [v[f"tie_break_{i}"] for i in range(1, rules.TIE_BREAK_SLOTS + 1) if v.get(f"tie_break_{i}")]
    values["branch_industries"] = rules.split_list(v.get("branch_industries") or "")
    level = v.get("min_maturity_level")
    values["min_maturity_level"] = level if level is not None else rules.tier_defaults(v["tier"])["min_maturity_level"]
    day, at = v.get("scoring_deadline_date"), v.get("scoring_deadline_time")
    values["scoring_deadline"] = rules.beijing_to_utc(day, at or END_OF_DAY, tz) if day else None
    return values


def _check_round_form(db: Session, data: dict[str, Any], *, round_id: int | None, tz: Any) -> tuple[FormResult, dict]:
    form = validate(data, _round_fields(service.catalogue_versions(db)))
    if form.values.get("scoring_deadline_time") and not form.values.get("scoring_deadline_date"):
        form.add_error("scoring_deadline_date", "填写了评分截止时间，请同时填写评分截止日期。")
    threshold = form.values.get("outlier_threshold")
    if threshold is not None and threshold != threshold.quantize(Decimal("0.01")):
        form.add_error("outlier_threshold", "「离群分差阈值」最多保留两位小数。")
    if not form.ok:
        return form, {}
    values = _values_from_form(form, tz)
    for key, message in service.check_round_values(db, values, round_id=round_id, tz=tz).items():
        form.add_error(FORM_FIELD_OF.get(key, key), message)
    return form, values


def _round_form_context(
    db: Session, *, form: dict[str, Any], errors: dict[str, str], rnd: Round | None
) -> dict[str, Any]:
    catalogue = form.get("scenario_catalogue_version") or (service.catalogue_versions(db) or [""])[0]
    current_id = rnd.criteria_version_id if rnd else None
    choices = criteria.version_choices(db, current_id=current_id)
    chosen_id = int_or_none(form.get("criteria_version_id"))
    chosen = next((c for c in choices if c.id == chosen_id), None) or next((c for c in choices if c.is_template), None)
    titles = [d.title for d in service.criteria_tree(db, chosen.id).dimensions] if chosen else []  # type: ignore[arg-type]
    current_keys = [form.get(f"tie_break_{i}", "") for i in range(1, rules.TIE_BREAK_SLOTS + 1)]
    return {
        "form": form,
        "errors": errors,
        "round": rnd,
        "editing": rnd is not None,
        "tiers": TIER_CHOICES,
        "aggregations": AGGREGATION_CHOICES,
        "catalogues": {c: f"{c} 版" for c in service.catalogue_versions(db)},
        "stages": service.catalogue_stages(db, catalogue),
        "versions": choices,
        "tie_options": rules.tie_break_options(titles, [k for k in current_keys if k]),
        "tie_slots": range(1, rules.TIE_BREAK_SLOTS + 1),
    }


def _round_stage(rnd: Round) -> tuple[str, str]:
    """A short status label and its tag colour for lists."""
    if rnd.scoring_started_at is not None:
        if rnd.scoring_deadline and as_utc(rnd.scoring_deadline) < utcnow():
            return "评分已截止", "tag-muted"
        return "评分中", "tag-warn"
    return "筹备中", "tag-ok"


class RoundController(Controller):
    path = "/rounds"
    guards = [staff_only]

    @get("/", sync_to_thread=True)
    def list_rounds(
        self,
        request: Request,
        db: NamedDependency[Session],
        q: FromQuery[str] = "",
        year: FromQuery[str] = "",
        tier: FromQuery[str] = "",
        page: FromQuery[str] = "1",
    ) -> Template:
        year_value = int_or_none(year)
        stmt = service.list_rounds_query(q=q[:64], year=year_value, tier=tier if tier in TIER_CHOICES else "")
        result = paginate(db, stmt, page=parse_page(page), per_page=20)
        version_ids = [r.criteria_version_id for r in result.items if r.criteria_version_id]
        versions = {
            v.id: v
            for v in db.exec(select(CriteriaVersion).where(CriteriaVersion.id.in_(version_ids or [-1])))  # type: ignore[union-attr]
        }
        years = sorted(set(db.exec(select(Round.year))), reverse=True)
        context = {
            "page": result,
            "q": q,
            "year": year,
            "tier": tier,
            "tiers": TIER_CHOICES,
            "years": years,
            "versions": versions,
            "stage": _round_stage,
        }
        if htmx_target(request) == "round-table":
            return render_block("rounds/list.html", "table", **context)
        return render("rounds/list.html", **context)

    @get("/new", sync_to_thread=True)
    def new_round(self, request: Request, db: NamedDependency[Session], tier: FromQuery[str] = "advanced") -> Template:
        tier_value = tier if tier in TIER_CHOICES else Tier.advanced.value
        tz = settings_of(request).tz
        blank = Round(name="", year=utcnow().astimezone(tz).year, tier=tier_value)
        values = {**service.round_settings(blank), **rules.tier_defaults(tier_value)}
        template = next((v for v in criteria.version_choices(db, current_id=None) if v.is_template), None)
        values["criteria_version_id"] = template.id if template else None
        values["scenario_catalogue_version"] = (service.catalogue_versions(db) or ["2025"])[0]
        form = _form_from_settings(values, tz)
        form["name"] = ""
        return render("rounds/form.html", **_round_form_context(db, form=form, errors={}, rnd=None))

    @post("/", sync_to_thread=True)
    def create_round(self, request: Request, db: NamedDependency[Session], data: FormData) -> Any:
        tz = settings_of(request).tz
        form, values = _check_round_form(db, data, round_id=None, tz=tz)
        if form.ok:
            try:
                rnd = service.create_round(
                    db,
                    actor=actor_of(request),
                    name=values["name"],
                    tier=values["tier"],
                    year=values["year"],
                    tz=tz,
                    settings=values,
                )
                db.commit()
                flash(request, f"已创建评审批次「{rnd.name}」。")
                return Redirect(path=f"/rounds/{rnd.id}", status_code=303)
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "name", exc.message)
        return render("rounds/form.html", **_round_form_context(db, form=form.raw, errors=form.errors, rnd=None))

    @get("/{round_id:int}", sync_to_thread=True)
    def show_round(self, request: Request, db: NamedDependency[Session], round_id: FromPath[int]) -> Template:
        rnd = _get_round(db, round_id)
        version = db.get(CriteriaVersion, rnd.criteria_version_id) if rnd.criteria_version_id else None
        tree = service.criteria_tree(db, version.id) if version else None  # type: ignore[arg-type]
        warnings: list[str] = []
        if version is None:
            warnings.append("尚未选择要素条件：专家开始评分前必须选定。")
        elif tree is not None:
            warnings += rules.tree_warnings(tree)
            titles = {d.title for d in tree.dimensions}
            for key in rnd.tie_break:
                if key.startswith(rules.DIMENSION_PREFIX) and key[len(rules.DIMENSION_PREFIX) :] not in titles:
                    warnings.append(f"决胜规则中的维度「{key[len(rules.DIMENSION_PREFIX) :]}」不在本批次的要素条件中。")
        counts = {
            "applications": db.exec(
                select(func.count()).select_from(Application).where(Application.round_id == rnd.id)
            ).one(),
            "panels": db.exec(select(func.count()).select_from(Panel).where(Panel.round_id == rnd.id)).one(),
        }
        from reviewapp.nextsteps import rules as next_rules  # the guidance reads every later step's domain
        from reviewapp.nextsteps import service as next_steps

        steps = next_steps.round_steps(db, round_id=rnd.id)  # type: ignore[arg-type]
        return render(
            "rounds/detail.html",
            steps=steps,
            next_step=next_rules.next_step(steps),
            round=rnd,
            version=version,
            tree=tree,
            warnings=warnings,
            counts=counts,
            stage=_round_stage(rnd),
            aggregations=AGGREGATION_CHOICES,
            tie_label=rules.tie_break_label,
            pts=rules.fmt_points,
        )

    @get("/{round_id:int}/edit", sync_to_thread=True)
    def edit_round(self, request: Request, db: NamedDependency[Session], round_id: FromPath[int]) -> Template:
        rnd = _get_round(db, round_id)
        form = _form_from_settings(service.round_settings(rnd), settings_of(request).tz)
        form["row_version"] = str(rnd.row_version)
        return render("rounds/form.html", **_round_form_context(db, form=form, errors={}, rnd=rnd))

    @post("/{round_id:int}/edit", sync_to_thread=True)
    def update_round(
        self, request: Request, db: NamedDependency[Session], round_id: FromPath[int], data: FormData
    ) -> Any:
        rnd = _get_round(db, round_id)
        tz = settings_of(request).tz
        form, values = _check_round_form(db, data, round_id=rnd.id, tz=tz)
        row_version = int_or_none((data or {}).get("row_version"))
        stale = False
        if form.ok:
            try:
                conflicts.update_round_settings(
                    db,
                    actor=actor_of(request),
                    round_id=rnd.id,
                    row_version=row_version or 0,  # type: ignore[arg-type]
                    values=values,
                    tz=tz,
                )
                db.commit()
                flash(request, "已保存批次设置。")
                return Redirect(path=f"/rounds/{rnd.id}", status_code=303)
            except Conflict as exc:
                db.rollback()
                stale = True
                form.add_error("_form", exc.message)
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "_form", exc.message)
        raw = dict(form.raw)
        raw["row_version"] = str(row_version or "")
        db.expire_all()
        current = _get_round(db, round_id)
        return render(
            "rounds/form.html",
            **_round_form_context(db, form=raw, errors=form.errors, rnd=current),
            stale=stale,
        )


def _get_round(db: Session, round_id: int) -> Round:
    return found_or_404(service.get_round, db, round_id)
