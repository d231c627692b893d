"""The annual figures page (年度统计) and its export, and the penetration base form."""

from __future__ import annotations

import io
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from openpyxl import Workbook
from sqlmodel import Session

from reviewapp import clock
from reviewapp.errors import ServiceError
from reviewapp.excel import Column, write_sheet
from reviewapp.forms import Field, validate
from reviewapp.reports import rules
from reviewapp.reports.figures import service
from reviewapp.rounds.models import TIER_LABELS, Tier
from reviewapp.web import (
    FormData,
    actor_of,
    flash,
    int_or_none,
    render,
    staff_only,
    xlsx_response,
)

TIER_CHOICES = {t.value: TIER_LABELS[t] for t in Tier}


PENETRATION_FIELDS = [
    Field("year", "年度", kind="int", min_value=2000, max_value=2100),
    Field("above_size_total", "规上工业企业总数", kind="int", min_value=0, max_value=10_000_000),
    Field("above_size_level2", "二级及以上企业数", kind="int", min_value=0, max_value=10_000_000),
    Field("source", "数据来源", required=False, max_length=200),
    Field("row_version", "版本号", kind="int", required=False, min_value=1),
]


class FiguresController(Controller):
    path = "/certifications"
    guards = [staff_only]

    @get("/figures", sync_to_thread=True)
    def figures(self, db: NamedDependency[Session], year: FromQuery[str] = "") -> Template:
        return render("certifications/figures.html", **_figures_context(db, year), form={}, errors={})

    @post("/figures/penetration", sync_to_thread=True)
    def save_penetration(self, request: Request, db: NamedDependency[Session], data: FormData) -> Any:
        form = validate(data, PENETRATION_FIELDS)
        if form.ok:
            v = form.values
            try:
                service.save_penetration(
                    db,
                    actor=actor_of(request),
                    year=v["year"],
                    total=v["above_size_total"],
                    level2=v["above_size_level2"],
                    source=v["source"] or "",
                    row_version=v["row_version"],
                )
                db.commit()
                flash(request, f"已保存 {v['year']} 年的普及率基数。")
                return Redirect(path=f"/certifications/figures?year={v['year']}", status_code=303)
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "_form", exc.message)
        return render(
            "certifications/figures.html",
            **_figures_context(db, str(form.raw.get("year") or "")),
            form=form.raw,
            errors=form.errors,
        )

    @get("/figures/export.xlsx", sync_to_thread=True)
    def export_figures(self, db: NamedDependency[Session], year: FromQuery[str] = "") -> Response[bytes]:
        ctx = _figures_context(db, year)
        wb = Workbook()
        tiers = list(TIER_CHOICES.values())
        sheets = [
            (
                f"{ctx['year']}年举报办理情况",
                [Column("办理结果", 18), Column("件数", 10)],
                [[label, ctx["outcomes"][key]] for key, label in rules.OUTCOME_LABELS.items()]
                + [["合计", ctx["outcome_total"]]],
            ),
        ]
        for title, table in (
            (f"{ctx['year']}年新认定（按地市）", ctx["new_by_city"]),
            (f"{ctx['year']}年新认定（按行业）", ctx["new_by_group"]),
            ("当前有效认定（按地市）", ctx["valid_by_city"]),
            ("当前有效认定（按行业）", ctx["valid_by_group"]),
        ):
            rows = [
                [key, *[counts.get(t, 0) for t in TIER_CHOICES], sum(counts.values())] for key, counts in table.items()
            ]
            sheets.append((title, [Column("分组", 16), *[Column(t, 10) for t in tiers], Column("合计", 10)], rows))
        sheets.append(
            (
                "智能工厂普及率",
                [
                    Column("年度", 8),
                    Column("规上工业企业总数", 16),
                    Column("二级及以上企业数", 16),
                    Column("普及率（%）", 12),
                    Column("数据来源", 30),
                ],
                [
                    [p.year, p.above_size_total, p.above_size_level2, str(ctx["rate"](p)), p.source]
                    for p in ctx["penetration"]
                ],
            )
        )
        for index, (title, columns, rows) in enumerate(sheets):
            ws = wb.active if index == 0 else wb.create_sheet()
            ws.title = title[:31]
            write_sheet(ws, title=title, columns=columns, rows=rows, landscape=False)
        buf = io.BytesIO()
        wb.save(buf)
        return xlsx_response(f"{ctx['year']}年度智能工厂年报数据.xlsx", buf.getvalue())


def _figures_context(db: Session, year_text: str) -> dict[str, Any]:
    today = clock.today_beijing()
    year = int_or_none(year_text) or today.year
    year = min(max(year, 2000), 2100)
    outcomes = service.report_outcomes(db, year=year)
    return {
        "year": year,
        "years": list(range(today.year, today.year - 6, -1)),
        "outcomes": outcomes,
        "outcome_total": sum(outcomes.values()),
        "outcome_labels": rules.OUTCOME_LABELS,
        "new_by_city": service.certification_crosstab(db, by="city", year=year, today=today),
        "new_by_group": service.certification_crosstab(db, by="industry_group", year=year, today=today),
        "valid_by_city": service.certification_crosstab(db, by="city", year=None, today=today),
        "valid_by_group": service.certification_crosstab(db, by="industry_group", year=None, today=today),
        "tiers": TIER_CHOICES,
        "penetration": service.penetration_rows(db),
        "rate": lambda p: rules.penetration_rate(total=p.above_size_total, level2=p.above_size_level2),
        "today": today,
        "tab": "figures",
    }
