"""Context builders of the registered documents: each reads the same views the pages and Excel files use
(reviewapp.ranking, publicity, objections) and names the audit entities that anchor the printed page."""

from __future__ import annotations

from sqlmodel import Session

from reviewapp.documents.registry import Built, Target, not_found, register
from reviewapp.errors import NotFound, ServiceError
from reviewapp.panels import service as panels
from reviewapp.ranking import decisions, expert_sheets
from reviewapp.ranking import recommendations as recommendation_list


def _panel(session: Session, target: Target):  # type: ignore[no-untyped-def]
    try:
        return panels.get_panel(session, target.panel_id, round_id=target.round_id)  # type: ignore[arg-type]
    except NotFound:
        raise not_found("专家组") from None


def _sheet_anchors(views: list[expert_sheets.ApplicationSheets]) -> tuple[tuple[str, int], ...]:
    return tuple(("score_sheet", s.sheet.id) for v in views for s in v.sheets)


@register("score-sheets", "专家评分表（一个项目的全部专家）", "documents/score_sheets.html", needs="application")
def score_sheets(session: Session, target: Target) -> Built:
    view = expert_sheets.application_sheets(session, round_id=target.round_id, application_id=target.application_id)  # type: ignore[arg-type]
    if target.expert_id is not None:
        view.sheets = [s for s in view.sheets if s.expert.id == target.expert_id]
        if not view.sheets:
            raise ServiceError("您的评分表提交后才能下载 PDF。")
    if not view.sheets:
        raise ServiceError("该项目尚无已提交的专家评分表。")
    return Built(f"{view.enterprise.name}-专家评分表", {"views": [view]}, _sheet_anchors([view]))


@register("panel-score-sheets", "专家组全部专家评分表", "documents/score_sheets.html", needs="panel")
def panel_score_sheets(session: Session, target: Target) -> Built:
    panel = _panel(session, target)
    views = [
        expert_sheets.application_sheets(session, round_id=target.round_id, application_id=a)
        for a in expert_sheets.panel_application_ids(session, round_id=target.round_id, panel_id=panel.id)
    ]
    views = [v for v in views if v.sheets]
    if not views:
        raise ServiceError(f"「{panel.name}」尚无已提交的专家评分表。")
    return Built(f"{panel.name}-专家评分表", {"views": views}, _sheet_anchors(views))


def _panel_view(session: Session, target: Target) -> decisions.PanelRanking:
    panel = _panel(session, target)
    return decisions.panel_ranking(session, panel_id=panel.id)  # type: ignore[arg-type]


def _panel_anchors(view: decisions.PanelRanking) -> tuple[tuple[str, int], ...]:
    decisions = tuple(("panel_decision", d.id) for d in view.decisions.values())
    return (("panel", view.panel.id), *decisions)  # type: ignore[return-value]


@register("group-opinion", "专家组意见", "documents/group_opinion.html", needs="panel")
def group_opinion(session: Session, target: Target) -> Built:
    view = _panel_view(session, target)
    return Built(f"{view.panel.name}-专家组意见", {"view": view}, _panel_anchors(view))


@register("panel-scores", "专家评分汇总表", "documents/panel_scores.html", needs="panel")
def panel_scores(session: Session, target: Target) -> Built:
    view = _panel_view(session, target)
    members = [e for _m, e in view.members]
    return Built(
        f"{view.panel.name}-专家评分汇总表",
        {
            "view": view,
            "members": members,
            "totals": {r.application.id: dict(r.entry.aggregate.totals) for r in view.rows},
        },
        _panel_anchors(view),
    )


@register("recommendations", "推荐汇总表", "documents/recommendations.html")
def recommendations(session: Session, target: Target) -> Built:
    view = recommendation_list.round_list(session, round_id=target.round_id)
    anchors: tuple[tuple[str, int], ...] = (("recommendation_list", target.round_id),)
    if view.list is not None:
        anchors += (("recommendation_list", view.list.id),)  # type: ignore[assignment]
    return Built(f"{view.round.tier_label}智能工厂推荐汇总表", {"view": view}, anchors)


@register("objection", "异议处理单", "documents/objection.html", needs="objection")
def objection(session: Session, target: Target) -> Built:
    from reviewapp.casework import service as casework
    from reviewapp.objections import rules as objection_rules
    from reviewapp.objections import service as objections
    from reviewapp.objections.rules import OBJECTION_WORKFLOW

    o = objections.get_objection(session, target.objection_id)  # type: ignore[arg-type]
    if o.round_id != target.round_id:
        raise not_found("异议")
    steps = casework.case_steps(session, case_type=OBJECTION_WORKFLOW.name, case_id=o.id)  # type: ignore[arg-type]
    context = {
        "o": o,
        "period": objections.period_of(session, o.round_id),
        "workflow": OBJECTION_WORKFLOW,
        "steps": [(s, casework.step_label(OBJECTION_WORKFLOW, s)) for s in steps],
        "handlers": casework.handlers(session, case_type=OBJECTION_WORKFLOW.name, case_id=o.id),  # type: ignore[arg-type]
        "confidential": objections.CONFIDENTIAL,
        "conclusions": objection_rules.CONCLUSION_LABELS,
        "outcomes": objection_rules.OUTCOME_LABELS,
    }
    return Built(f"异议处理单-{o.number}", context, (("objection", o.id),))


@register("spot-checks", "现场抽查记录", "documents/spot_checks.html")
def spot_checks(session: Session, target: Target) -> Built:
    from reviewapp.publicity import spot_checks as publicity

    page = publicity.spot_check_page(session, round_id=target.round_id)
    if not page.checks:
        raise ServiceError("本批次尚未安排现场抽查。")
    positions = {r.application.id: r.position for r in page.view.rows}
    return Built(
        "现场抽查记录", {"page": page, "positions": positions}, tuple(("spot_check", r.check.id) for r in page.checks)
    )


@register("draw-record", "评审专家抽取记录表", "documents/draw_record.html", needs="draw")
def draw_record(session: Session, target: Target) -> Built:
    """The draw record to be signed by who drew and who supervised. Names stay sealed until the round's review
    opens unless the caller checked the viewer is the drawer or the supervisor (`target.unsealed`)."""
    from reviewapp.pool import draws
    from reviewapp.pool.models import DRAW_STATE_LABELS, PICK_STATUS_LABELS

    try:
        draw = draws.get_draw(session, target.draw_id)  # type: ignore[arg-type]
    except NotFound:
        raise not_found("抽取记录") from None
    if draw.round_id != target.round_id:
        raise not_found("抽取记录")
    rnd = draws.get_round(session, draw.round_id)
    context = {
        **draws.record_context(session, draw),
        "visible": bool(target.unsealed) or draws.review_opened(rnd),
        "state_labels": DRAW_STATE_LABELS,
        "pick_labels": PICK_STATUS_LABELS,
    }
    return Built(f"专家抽取记录表-第{draw.seq}次", context, (("pool_draw", draw.id),))
