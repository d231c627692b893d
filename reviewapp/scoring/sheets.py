"""Score sheets as an expert reads them: the criteria as the rules see them, what an expert may open, the sheet
page and its completeness, and the errors a save or submit raises.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from reviewapp.applications import service as applications
from reviewapp.applications.models import Application, ApplicationScenario, Enterprise, FormalStatus
from reviewapp.errors import Conflict as StaleEdit
from reviewapp.errors import NotFound, ServiceError
from reviewapp.files import StoredFile
from reviewapp.panels import service as panels
from reviewapp.panels.models import Conflict, Expert, Panel, PanelMember, Pledge
from reviewapp.panels.rules import Party
from reviewapp.rounds.models import CriteriaNode, MaturityLevel, NodeKind, Round
from reviewapp.rounds.rules import CriteriaTree, build_tree, fmt_points
from reviewapp.scoring import rules
from reviewapp.scoring.models import NOT_STARTED_LABEL, ItemScore, ScoreSheet, SheetStatus

STALE_SHEET = "此评分表已在其他窗口或设备上修改过，您这次的修改未保存。下面显示的是当前已保存的内容，请核对后再修改。"
NOT_VISIBLE = "未找到该申报项目，或您无权查看。"


class StaleSheet(StaleEdit):
    """A save or submit from a tab or device that has not seen the latest version of the sheet."""

    def __init__(self, message: str = STALE_SHEET) -> None:
        super().__init__(message)


class IncompleteSheet(ServiceError):
    """Submit refused: every problem, in the order of the sheet."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("评分表尚未填写完整，不能提交。")
        self.problems = problems


def status_label(status: str | None) -> str:
    return SheetStatus(status).label if status else NOT_STARTED_LABEL


STATUS_TAGS = {"draft": "tag-warn", "submitted": "tag-ok", "returned": "tag-bad"}


def status_tag_class(status: str | None) -> str:
    """The tag class a sheet's status is shown with (templates: the status_tag macro and the sheet matrices)."""
    return STATUS_TAGS.get(status or "", "tag-muted")


# --- criteria as the rules see them ---------------------------------------------------------------


def scoring_items(tree: CriteriaTree) -> list[rules.Item]:
    """The scorable items of a tree in sheet order; `dimension` is the dimension's code."""
    return [
        rules.Item(
            id=item.id,
            code=item.code,
            title=item.title,
            kind=item.kind,
            max_points=Decimal(item.max_points),
            step=Decimal(item.step),
            dimension=dim.code,
        )
        for dim in tree.dimensions
        for item in dim.items
        if item.kind in (NodeKind.points.value, NodeKind.gate.value)
    ]


def as_points(value: Any) -> Decimal | None:
    """Numeric columns come back from SQLite as floats: two decimals is what they hold."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"))


def snapshot(items: list[rules.Item], entries: dict[int, rules.Entry], *, opinion: str) -> dict[str, Any]:
    """The full content of a sheet, as recorded on submit, return and reopen."""
    result = rules.totals(items, entries)
    out_items = []
    for item in items:
        entry = entries.get(item.id, rules.Entry())
        row: dict[str, Any] = {"code": item.code, "title": item.title}
        if item.kind == NodeKind.gate.value:
            row["gate"] = entry.gate
        else:
            row["value"] = fmt_points(entry.value) if entry.value is not None else None
        if entry.justification:
            row["justification"] = entry.justification
        out_items.append(row)
    return {
        "items": out_items,
        "subtotals": {code: fmt_points(v) for code, v in result.by_dimension.items()},
        "total": fmt_points(result.total),
        "gate_failed": result.gate_failed,
        "opinion": opinion,
    }


# --- what an expert may open ----------------------------------------------------------------------


def open_application(session: Session, *, user_id: int, application_id: int) -> Application:
    """The application, if the signed-in expert (`user_id`) may see it now; raises PledgeRequired (pledge or
    declaration pending) or NotFound (no expert profile, no such application, not assigned to the expert's panel,
    not passed, or conflicted). The checks are open_sheet_page's, from the same two statements."""
    return _visible_pair(session, user_id=user_id, application_id=application_id)[0].Application


def expert_may_view(user: Any, application: Application, session: Session) -> bool:
    """View rule for an application's attachments (downloaded through the applications' own route): an expert
    reaches what the panels' rules let them score, and nothing they are conflicted with."""
    if user is None or user.role != "expert":
        return False
    expert = panels.expert_of_user(session, user_id=user.id)
    return expert is not None and panels.can_see_application(
        session,
        expert_id=expert.id,
        application_id=application.id,  # type: ignore[arg-type]
    )


applications.register_view_rule(expert_may_view)


# --- the sheet page -------------------------------------------------------------------------------


@dataclass
class SheetPage:
    """Everything the score sheet page (and its print view) shows."""

    application: Application
    enterprise: Enterprise
    round: Round
    panel: Panel | None
    expert: Expert
    tree: CriteriaTree | None
    items: list[rules.Item]
    sheet: ScoreSheet | None
    entries: dict[int, rules.Entry]
    totals: rules.Totals
    refusal: str | None  # why the sheet is read-only now (None: editable)
    stages: list[tuple[str, list[str]]]
    parties: list[Party]  # in (role, id) order
    attachments: list[Any]  # rows of (id, filename, size)
    maturity_name: str
    needs: dict[int, bool] = field(default_factory=dict)

    @property
    def editable(self) -> bool:
        return self.refusal is None and self.tree is not None

    @property
    def row_version(self) -> int:
        return self.sheet.row_version if self.sheet else 0

    @property
    def status(self) -> str | None:
        return self.sheet.status if self.sheet else None

    @property
    def status_label(self) -> str:
        return status_label(self.status)


# The sheet page's statements, built once (building them cost more than running them on SQLite).
_PAGE_ROW = (
    select(  # type: ignore[call-overload]
        Expert,
        Application,
        Enterprise,
        Round,
        Panel,
        ScoreSheet,
        Pledge,
        MaturityLevel.name,
        sa.exists()
        .where(PanelMember.panel_id == Application.panel_id, PanelMember.expert_id == Expert.id)
        .label("member"),
        sa.exists()
        .where(
            Conflict.round_id == Application.round_id,
            Conflict.expert_id == Expert.id,
            Conflict.application_id == Application.id,
        )
        .label("conflicted"),
    )
    .select_from(Expert)
    .outerjoin(Application, Application.id == sa.bindparam("application_id"))  # type: ignore[arg-type]
    .outerjoin(Enterprise, Enterprise.id == Application.enterprise_id)  # type: ignore[arg-type]
    .outerjoin(Round, Round.id == Application.round_id)  # type: ignore[arg-type]
    .outerjoin(Panel, Panel.id == Application.panel_id)  # type: ignore[arg-type]
    .outerjoin(ScoreSheet, sa.and_(ScoreSheet.application_id == Application.id, ScoreSheet.expert_id == Expert.id))
    .outerjoin(Pledge, sa.and_(Pledge.round_id == Application.round_id, Pledge.expert_id == Expert.id))
    .outerjoin(MaturityLevel, MaturityLevel.level == Application.maturity_level)  # type: ignore[arg-type]
    .where(Expert.user_id == sa.bindparam("user_id"))
)
_CRITERIA_WITH_SCORES = (
    select(CriteriaNode, ItemScore.id, ItemScore.value, ItemScore.gate, ItemScore.justification)  # type: ignore[call-overload]
    .outerjoin(ItemScore, sa.and_(ItemScore.node_id == CriteriaNode.id, ItemScore.sheet_id == sa.bindparam("sheet_id")))
    .where(CriteriaNode.version_id == sa.bindparam("version_id"))
)

_SCENARIOS = (
    select(ApplicationScenario.stage, ApplicationScenario.name)
    .where(ApplicationScenario.application_id == sa.bindparam("application_id"))
    .order_by(ApplicationScenario.sort_order, ApplicationScenario.id)
)
_ATTACHMENTS = (  # what the page lists of each file
    select(StoredFile.id, StoredFile.filename, StoredFile.size)
    .where(
        StoredFile.owner_type == applications.ATTACHMENT_OWNER,
        StoredFile.owner_id == sa.bindparam("application_id"),
    )
    .order_by(StoredFile.uploaded_at, StoredFile.id)
)


def open_sheet_page(session: Session, *, user_id: int, application_id: int, now: datetime) -> SheetPage:
    """The signed-in expert's sheet page with every check of _visible_pair, read in five statements: the
    pair's row (expert, application, enterprise, round, panel, sheet, pledge, membership, stored conflict),
    the conflict rules' facts, the criteria items with this sheet's scores, the scenarios and the attachments.
    Raises NotFound (no expert profile; an application this expert may not see) or PledgeRequired."""
    row, app_facts = _visible_pair(session, user_id=user_id, application_id=application_id)
    expert, app, enterprise, rnd, panel, sheet, _pledge, maturity_name, _member, _conflicted = row
    version_id = sheet.criteria_version_id if sheet else rnd.criteria_version_id
    tree, entries = None, {}
    if version_id:
        tree, entries = sheet_criteria(session, version_id=version_id, sheet_id=sheet.id if sheet else None)
    return _page(
        session,
        expert=expert,
        application=app,
        enterprise=enterprise,
        rnd=rnd,
        panel=panel,
        sheet=sheet,
        tree=tree,
        entries=entries,
        parties=list(app_facts.parties),
        maturity_name=maturity_name or "",
        now=now,
    )


def _visible_pair(session: Session, *, user_id: int, application_id: int) -> tuple[Any, Any]:
    """The pair's row (_PAGE_ROW) and the application's conflict facts, after every check an expert's page about
    an application makes, in this order and with these answers: an expert of another panel learns nothing (the
    same answer as for an unknown id, before the pledge gate); then the pledge; then formal review, stored and
    live conflicts."""
    row = session.exec(_PAGE_ROW, params={"user_id": user_id, "application_id": application_id}).first()  # type: ignore[call-overload]
    if row is None:
        raise NotFound(panels.NO_EXPERT)
    expert, app, enterprise, rnd, _panel, _sheet, pledge, _maturity, is_member, is_conflicted = row
    if app is None or not is_member:
        raise NotFound(NOT_VISIBLE)
    panels.pledge_gate(pledge, rnd)
    if app.formal_status != FormalStatus.passed.value or is_conflicted:
        raise NotFound(NOT_VISIBLE)
    expert_facts, app_facts = panels.pair_facts(session, expert=expert, application=app, enterprise=enterprise)
    if panels.live_conflicts(expert_facts, [app_facts], rnd=rnd):
        raise NotFound(NOT_VISIBLE)
    return row, app_facts


def sheet_criteria(
    session: Session, *, version_id: int, sheet_id: int | None
) -> tuple[CriteriaTree, dict[int, rules.Entry]]:
    """A criteria version's tree with one sheet's entries, in one statement (the nodes joined to their scores)."""
    rows = session.exec(_CRITERIA_WITH_SCORES, params={"version_id": version_id, "sheet_id": sheet_id or -1}).all()  # type: ignore[call-overload]
    entries = {
        node.id: rules.Entry(value=as_points(value), gate=gate, justification=justification or "")
        for node, item_id, value, gate, justification in rows
        if item_id is not None
    }
    return build_tree([r[0] for r in rows], version_id=version_id), entries


def _page(
    session: Session,
    *,
    expert: Expert,
    application: Application,
    enterprise: Enterprise,
    rnd: Round,
    panel: Panel | None,
    sheet: ScoreSheet | None,
    tree: CriteriaTree | None,
    entries: dict[int, rules.Entry],
    parties: list[Party],
    maturity_name: str,
    now: datetime,
) -> SheetPage:
    """The page from what open_sheet_page read, with the application's scenarios and attachments."""
    items = scoring_items(tree) if tree else []
    refusal = rules.edit_refusal(
        status=sheet.status if sheet else None,
        now=now,
        deadline=rnd.scoring_deadline,
        finalized=panel is not None and panel.finalized_at is not None,
    )
    if tree is None and refusal is None:
        refusal = "本批次尚未设置要素条件，暂不能评分。"
    stages: dict[str, list[str]] = defaultdict(list)
    for stage, name in session.exec(_SCENARIOS, params={"application_id": application.id}):  # type: ignore[call-overload]
        stages[stage or "其他"].append(name)
    return SheetPage(
        application=application,
        enterprise=enterprise,
        round=rnd,
        panel=panel,
        expert=expert,
        tree=tree,
        items=items,
        sheet=sheet,
        entries=entries,
        totals=rules.totals(items, entries),
        refusal=refusal,
        stages=list(stages.items()),
        parties=parties,
        attachments=list(session.exec(_ATTACHMENTS, params={"application_id": application.id})),  # type: ignore[call-overload]
        maturity_name=maturity_name,
        needs={i.id: rules.needs_justification(i, entries.get(i.id, rules.Entry())) for i in items},
    )


def completeness(page: SheetPage) -> list[tuple[str, str]]:
    """(field name, problem) for everything that stops the sheet from being submitted."""
    return rules.completeness_issues(
        page.items,
        page.entries,
        opinion=page.sheet.opinion if page.sheet else "",
        opinion_min_length=page.round.opinion_min_length,
    )
