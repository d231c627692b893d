"""Score sheets: what an expert sees and may change, autosave, submit, return and reopen, the scoring deadline.

Autosaves go to the sheet's own version history (SheetVersion), not to the audit log; submit, resubmit, return,
reopen and deadline changes are audited with the full values. The caller (a route) commits or rolls back.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, insert, literal, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from reviewapp import audit
from reviewapp.applications import service as applications
from reviewapp.applications.models import Application, ApplicationParty, ApplicationScenario, Enterprise, FormalStatus
from reviewapp.audit import Actor
from reviewapp.auth import service as accounts
from reviewapp.auth.models import User
from reviewapp.clock import as_utc, utcnow
from reviewapp.errors import Conflict as StaleEdit
from reviewapp.errors import NotFound, ServiceError
from reviewapp.files import StoredFile
from reviewapp.panels import service as panels
from reviewapp.panels.models import Conflict, Expert, Panel, PanelMember, Pledge
from reviewapp.rounds import service as rounds
from reviewapp.rounds.models import CriteriaNode, MaturityLevel, NodeKind, Round
from reviewapp.rounds.rules import CriteriaTree, fmt_points, round_setting_problems
from reviewapp.scoring import rules
from reviewapp.scoring.models import NOT_STARTED_LABEL, ItemScore, ScoreSheet, SheetStatus, SheetVersion

audit.register_labels(
    actions={
        "scoring.submit": "提交评分表",
        "scoring.resubmit": "重新提交评分表",
        "scoring.return": "组长退回评分表",
        "scoring.reopen": "工作人员重新开放评分表",
        "scoring.deadline": "调整评分截止时间",
    },
    entities={"score_sheet": "评分表", "round": "评审批次"},
)

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


def sheet_entries(session: Session, sheet_id: int | None) -> dict[int, rules.Entry]:
    if sheet_id is None:
        return {}
    rows = session.exec(
        select(ItemScore.node_id, ItemScore.value, ItemScore.gate, ItemScore.justification).where(
            ItemScore.sheet_id == sheet_id
        )
    )
    return {
        node_id: rules.Entry(value=as_points(value), gate=gate, justification=justification or "")
        for node_id, value, gate, justification in rows
    }


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


def open_application(session: Session, *, expert_id: int, application_id: int) -> Application:
    """The application, if this expert may see it now; raises PledgeRequired (pledge or declaration pending) or
    NotFound (no such application, not assigned to the expert's panel, not passed, or conflicted)."""
    app = session.get(Application, application_id)
    if app is None:
        raise NotFound(NOT_VISIBLE)
    panels.require_pledge(session, expert_id=expert_id, round_id=app.round_id)
    if not panels.can_see_application(session, expert_id=expert_id, application_id=application_id):
        raise NotFound(NOT_VISIBLE)
    return app


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
    parties: list[ApplicationParty]
    attachments: list[StoredFile]
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


def sheet_page(session: Session, *, expert: Expert, application: Application, now: datetime) -> SheetPage:
    rnd = rounds.get_round(session, application.round_id)
    enterprise = session.get(Enterprise, application.enterprise_id)
    assert enterprise is not None
    panel = session.get(Panel, application.panel_id) if application.panel_id else None
    sheet = session.exec(
        select(ScoreSheet).where(ScoreSheet.application_id == application.id, ScoreSheet.expert_id == expert.id)
    ).first()
    version_id = sheet.criteria_version_id if sheet else rnd.criteria_version_id
    tree = rounds.criteria_tree(session, version_id) if version_id else None
    items = scoring_items(tree) if tree else []
    entries = sheet_entries(session, sheet.id if sheet else None)
    refusal = rules.edit_refusal(
        status=sheet.status if sheet else None,
        now=now,
        deadline=rnd.scoring_deadline,
        finalized=panel is not None and panel.finalized_at is not None,
    )
    if tree is None and refusal is None:
        refusal = "本批次尚未设置要素条件，暂不能评分。"
    stages: dict[str, list[str]] = defaultdict(list)
    for stage, name in session.exec(
        select(ApplicationScenario.stage, ApplicationScenario.name)
        .where(ApplicationScenario.application_id == application.id)
        .order_by(ApplicationScenario.sort_order, ApplicationScenario.id)
    ):
        stages[stage or "其他"].append(name)
    maturity = session.get(MaturityLevel, application.maturity_level) if application.maturity_level else None
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
        parties=list(
            session.exec(
                select(ApplicationParty)
                .where(ApplicationParty.application_id == application.id)
                .order_by(ApplicationParty.role, ApplicationParty.id)
            )
        ),
        attachments=list(
            session.exec(
                select(StoredFile)
                .where(StoredFile.owner_type == applications.ATTACHMENT_OWNER, StoredFile.owner_id == application.id)
                .order_by(StoredFile.uploaded_at, StoredFile.id)
            )
        ),
        maturity_name=maturity.name if maturity else "",
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


# --- autosave -------------------------------------------------------------------------------------


@dataclass
class Saved:
    """The outcome of one autosave, for the fragment that answers it."""

    field: str
    kind: str
    node_id: int | None
    ok: bool
    message: str = ""  # why it was not saved
    row_version: int = 0
    at: datetime | None = None
    need: bool | None = None  # the item now requires a justification
    dimension_id: int | None = None
    subtotal: Decimal | None = None
    total: Decimal | None = None
    current: str = ""  # the value now stored, shown when a value was refused


def save_field(
    session: Session,
    *,
    actor: Actor,
    application_id: int,
    field: str,
    raw: str,
    row_version: int,
    now: datetime,
    context: Any = None,
) -> Saved:
    """Store one field of the signed-in expert's sheet: a few statements in the request's one transaction.

    The sheet is found through the user (an expert can only ever write their own), the checks are one joined
    query (membership, assignment, formal review, stored conflicts, pledge, deadline, finalization, version),
    and the change goes to the sheet's version history. A save whose `row_version` is not the sheet's current
    one raises StaleSheet; a refused value comes back as Saved(ok=False) and nothing is written.
    `context`: that query's row when the caller already read it (`signed_in_save_context`, for `actor`'s user).
    """
    parsed = rules.parse_field_name(field)
    if parsed is None:
        raise ServiceError("无法识别要保存的内容，请刷新页面后重试。")
    kind, node_id = parsed
    user_id = actor.user_id
    if user_id is None:
        raise NotFound(NOT_VISIBLE)
    if context is None:
        context = _save_context(session, user_id=user_id, application_id=application_id, node_id=node_id)
    ctx = context
    if ctx is None or not ctx.member or ctx.app_panel is None or ctx.formal_status != FormalStatus.passed.value:
        raise NotFound(NOT_VISIBLE)
    if ctx.conflicted:
        raise NotFound(NOT_VISIBLE)
    if ctx.pledge_hash != panels.pledge_hash(ctx.pledge_text) or ctx.declaration_done_at is None:
        # Pledge or declaration reset since the page was loaded: the full check says where to go.
        panels.require_pledge(session, expert_id=ctx.expert_id, round_id=ctx.round_id)
    refusal = rules.edit_refusal(
        status=ctx.status, now=now, deadline=ctx.scoring_deadline, finalized=ctx.finalized_at is not None
    )
    if refusal:
        return Saved(
            field=field, kind=kind, node_id=node_id, ok=False, message=refusal, row_version=ctx.row_version or 0
        )
    current_version = ctx.row_version or 0
    if row_version != current_version:
        raise StaleSheet()
    version_id = ctx.sheet_criteria or ctx.round_criteria
    if version_id is None:
        raise ServiceError("本批次尚未设置要素条件，暂不能评分。")

    item: rules.Item | None = None
    if kind != "opinion":
        if ctx.node_kind not in (NodeKind.points.value, NodeKind.gate.value) or ctx.node_version != version_id:
            raise ServiceError("该评分条目不属于本评分表，请刷新页面后重试。")
        item = rules.Item(
            id=node_id,  # type: ignore[arg-type]
            code=ctx.node_code,
            title=ctx.node_title,
            kind=ctx.node_kind,
            max_points=as_points(ctx.node_max) or Decimal(0),
            step=as_points(ctx.node_step) or Decimal(0),
            dimension=str(ctx.node_parent),
        )
    old = rules.Entry(value=as_points(ctx.item_value), gate=ctx.item_gate, justification=ctx.item_just or "")
    new = old
    change: dict[str, Any] = {"field": field}
    if kind == "score":
        if item is None or item.kind != NodeKind.points.value:
            raise ServiceError("该条目不是分值项，请刷新页面后重试。")
        value, problem = rules.parse_points(item, raw)
        if problem:
            return _refused(field, kind, node_id, problem, current_version, _shown(old.value))
        new = rules.Entry(value=value, gate=old.gate, justification=old.justification)
        change["value"] = fmt_points(value) if value is not None else None
    elif kind == "gate":
        if item is None or item.kind != NodeKind.gate.value:
            raise ServiceError("该条目不是否决项，请刷新页面后重试。")
        gate, problem = rules.parse_gate(raw)
        if problem:
            return _refused(field, kind, node_id, problem, current_version, old.gate or "")
        new = rules.Entry(value=old.value, gate=gate, justification=old.justification)
        change["gate"] = gate
    elif kind == "just":
        problem = rules.text_problem(raw, limit=rules.JUSTIFICATION_MAX, what="评分理由")
        if problem:
            return _refused(field, kind, node_id, problem, current_version, "")
        new = rules.Entry(value=old.value, gate=old.gate, justification=raw)
        change["justification"] = raw
    else:
        problem = rules.text_problem(raw, limit=rules.OPINION_MAX, what="评审意见")
        if problem:
            return _refused(field, kind, node_id, problem, current_version, "")
        change["opinion"] = raw

    need = rules.needs_justification(item, new) if item is not None else None
    unchanged = (raw == (ctx.opinion or "")) if kind == "opinion" else (new == old)
    if unchanged:
        return Saved(field=field, kind=kind, node_id=node_id, ok=True, row_version=current_version, at=now, need=need)

    sheet_id = ctx.sheet_id
    if sheet_id is None:
        sheet_id = _create_sheet(session, ctx=ctx, actor=actor, version_id=version_id, now=now)
    result = Saved(field=field, kind=kind, node_id=node_id, ok=True, row_version=current_version + 1, at=now, need=need)
    conn = session.connection()
    bump: dict[str, Any] = {
        "sheet_id": sheet_id,
        "expected": current_version,
        "version": current_version + 1,
        "now": now,
    }
    statement = _BUMP_PLAIN
    if kind == "opinion":
        statement, bump["opinion"] = _BUMP_OPINION, raw
    elif kind == "score":
        # The stored sums with this item's new value in place of its old one (exact decimals; the version check
        # below guarantees nothing changed them since they were read).
        delta = (new.value or Decimal(0)) - (old.value or Decimal(0))
        bump["total"] = (as_points(ctx.total) or Decimal(0)) + delta
        statement = _BUMP_TOTAL
        result.dimension_id, result.total = ctx.node_parent, bump["total"]
        result.subtotal = (as_points(ctx.dimension_sum) or Decimal(0)) + delta
    # The version check comes first: on PostgreSQL it takes the sheet's row lock, so a concurrent save of the
    # same sheet waits here and then finds the version moved on.
    if conn.execute(statement, bump).rowcount != 1:
        raise StaleSheet()
    if kind != "opinion":
        columns = {"value": new.value, "gate": new.gate, "justification": new.justification}
        if ctx.item_id is not None:
            conn.execute(_ITEM_UPDATE, {"item_id": ctx.item_id, **columns})
        else:
            conn.execute(_ITEM_INSERT, {"sheet_id": sheet_id, "node_id": node_id, **columns})
    conn.execute(
        _VERSION_INSERT,
        {
            "sheet_id": sheet_id,
            "version": current_version + 1,
            "kind": "save",
            "actor_id": user_id,
            "at": now,
            "change_json": json.dumps(change, ensure_ascii=False, separators=(",", ":")),
        },
    )
    return result


def _refused(field: str, kind: str, node_id: int | None, problem: str, version: int, current: str) -> Saved:
    return Saved(
        field=field, kind=kind, node_id=node_id, ok=False, message=problem, row_version=version, current=current
    )


def _shown(value: Decimal | None) -> str:
    return fmt_points(value) if value is not None else ""


# The autosave's statements, built once: constructing SQLAlchemy expressions costs more than running them on
# SQLite, and these run on every keystroke pause of every expert. Plain Core on the tables (no ORM layer).
_sheet, _item, _node, _version = (
    ScoreSheet.__table__,
    ItemScore.__table__,
    CriteriaNode.__table__,
    SheetVersion.__table__,
)  # type: ignore[attr-defined]
_expert, _app, _round, _user = Expert.__table__, Application.__table__, Round.__table__, User.__table__  # type: ignore[attr-defined]
_panel, _member, _pledge, _conflict = Panel.__table__, PanelMember.__table__, Pledge.__table__, Conflict.__table__  # type: ignore[attr-defined]


def _context_statement(with_item: bool, signed_in: bool = False) -> Any:
    """One row with everything an autosave checks (None: the user is no expert, or the application is gone).

    `signed_in`: found by the session token instead of the user id, with the session lookup's columns in
    front (auth.service.SESSION_COLUMNS); the context's columns are NULL when the user is no expert or the
    application is gone, and there is no row when the token is no live session.
    """
    conflicted = (
        exists()
        .where(
            _conflict.c.round_id == _app.c.round_id,
            _conflict.c.expert_id == _expert.c.id,
            _conflict.c.application_id == _app.c.id,
        )
        .label("conflicted")
    )
    columns = [
        _expert.c.id.label("expert_id"),
        _app.c.id.label("application_id"),
        _app.c.round_id,
        _app.c.panel_id.label("app_panel"),
        _app.c.formal_status,
        _round.c.scoring_deadline,
        _round.c.pledge_text,
        _round.c.criteria_version_id.label("round_criteria"),
        _round.c.scoring_started_at,
        _sheet.c.id.label("sheet_id"),
        _sheet.c.status,
        _sheet.c.row_version,
        _sheet.c.criteria_version_id.label("sheet_criteria"),
        _sheet.c.opinion,
        _sheet.c.total,
        _panel.c.finalized_at,
        _member.c.id.label("member"),
        _pledge.c.pledge_text_sha256.label("pledge_hash"),
        _pledge.c.declaration_done_at,
        conflicted,
    ]
    stmt_from = (
        _expert.join(_app, _app.c.id == bindparam("application_id"))
        .join(_round, _round.c.id == _app.c.round_id)
        .outerjoin(_sheet, and_(_sheet.c.application_id == _app.c.id, _sheet.c.expert_id == _expert.c.id))
        .outerjoin(_panel, _panel.c.id == _app.c.panel_id)
        .outerjoin(_member, and_(_member.c.panel_id == _app.c.panel_id, _member.c.expert_id == _expert.c.id))
        .outerjoin(_pledge, and_(_pledge.c.round_id == _app.c.round_id, _pledge.c.expert_id == _expert.c.id))
    )
    if with_item:
        # The stored subtotal of the item's dimension, for the answer's running subtotal.
        other, other_node = _item.alias("other"), _node.alias("other_node")
        dimension_sum = (
            select(func.sum(other.c.value))
            .select_from(other.join(other_node, other_node.c.id == other.c.node_id))
            .where(other.c.sheet_id == _sheet.c.id, other_node.c.parent_id == _node.c.parent_id)
            .scalar_subquery()
            .label("dimension_sum")
        )
        columns += [
            _node.c.kind.label("node_kind"),
            _node.c.version_id.label("node_version"),
            _node.c.code.label("node_code"),
            _node.c.title.label("node_title"),
            _node.c.max_points.label("node_max"),
            _node.c.step.label("node_step"),
            _node.c.parent_id.label("node_parent"),
            _item.c.id.label("item_id"),
            _item.c.value.label("item_value"),
            _item.c.gate.label("item_gate"),
            _item.c.justification.label("item_just"),
            dimension_sum,
        ]
        stmt_from = stmt_from.outerjoin(_node, _node.c.id == bindparam("node_id")).outerjoin(
            _item, and_(_item.c.sheet_id == _sheet.c.id, _item.c.node_id == bindparam("node_id"))
        )
    else:
        names = ("node_parent", "item_id", "item_value", "item_gate", "item_just", "dimension_sum")
        columns += [literal(None).label(n) for n in names]
    if signed_in:
        return (
            select(*accounts.SESSION_COLUMNS, *columns)
            .select_from(accounts.SESSION_FROM.outerjoin(stmt_from, _expert.c.user_id == _user.c.id))
            .where(accounts.SESSION_WHERE)
        )
    return select(*columns).select_from(stmt_from).where(_expert.c.user_id == bindparam("user_id"))


_CONTEXT_ITEM = _context_statement(with_item=True)
_CONTEXT_OPINION = _context_statement(with_item=False)
_BUMP = _sheet.c.id == bindparam("sheet_id"), _sheet.c.row_version == bindparam("expected")
_BUMP_PLAIN = update(_sheet).where(*_BUMP).values(row_version=bindparam("version"), updated_at=bindparam("now"))
_BUMP_TOTAL = _BUMP_PLAIN.values(total=bindparam("total"))
_BUMP_OPINION = _BUMP_PLAIN.values(opinion=bindparam("opinion"))
_ITEM_UPDATE = update(_item).where(_item.c.id == bindparam("item_id"))
_ITEM_INSERT = insert(_item)
_VERSION_INSERT = insert(_version)


def _save_context(session: Session, *, user_id: int, application_id: int, node_id: int | None) -> Any:
    params = {"user_id": user_id, "application_id": application_id}
    if node_id is None:
        return session.connection().execute(_CONTEXT_OPINION, params).first()
    return session.connection().execute(_CONTEXT_ITEM, {**params, "node_id": node_id}).first()


# The same with the session lookup in front (signed_in_save_context).
_SIGNED_IN_ITEM = _context_statement(with_item=True, signed_in=True)
_SIGNED_IN_OPINION = _context_statement(with_item=False, signed_in=True)


def signed_in_save_context(
    session: Session, *, token: str | None, idle_minutes: int, application_id: int, field: str
) -> tuple[accounts.SessionLookup, Any]:
    """The autosave's first statement, in its writer transaction: the cookie's session and the save's context
    (what `save_field` checks) in one query, then the session rules (idle timeout, disabled account, touch;
    their writes join this transaction). Returns the lookup (the caller checks the user's access) and the row
    to pass to `save_field`. A save costs one round trip fewer and no separate session read."""
    params = accounts.token_params(token)
    if params is None:
        return accounts.SessionLookup(None), None
    parsed = rules.parse_field_name(field)
    node_id = parsed[1] if parsed else None
    statement = _SIGNED_IN_OPINION if node_id is None else _SIGNED_IN_ITEM
    row = session.connection().execute(statement, {**params, "application_id": application_id, "node_id": node_id})
    found = row.first()
    lookup = accounts.session_from_row(session, found, idle_minutes=idle_minutes, commit=False)
    return lookup, (found if lookup.user is not None else None)


def _create_sheet(session: Session, *, ctx: Any, actor: Actor, version_id: int, now: datetime) -> int:
    """The first save of a sheet: the full visibility check (conflict rules evaluated now), then the row.

    The round's criteria are frozen here, when the first sheet of the round is saved: from then on every sheet
    of the round refers to the same items.
    """
    if not panels.can_see_application(session, expert_id=ctx.expert_id, application_id=ctx.application_id):
        raise NotFound(NOT_VISIBLE)
    if ctx.scoring_started_at is None:
        rounds.mark_scoring_started(session, actor=actor, round_id=ctx.round_id)
    sheet = ScoreSheet(
        round_id=ctx.round_id,
        panel_id=ctx.app_panel,
        application_id=ctx.application_id,
        expert_id=ctx.expert_id,
        criteria_version_id=version_id,
        row_version=0,  # the save that creates it makes it version 1
        created_at=now,
        updated_at=now,
    )
    session.add(sheet)
    try:
        session.flush()
    except IntegrityError as exc:  # PostgreSQL: another tab created it at the same moment
        raise StaleSheet() from exc
    return sheet.id  # type: ignore[return-value]


# --- submit, return, reopen -----------------------------------------------------------------------


def _sheet_of(session: Session, *, expert_id: int, application_id: int) -> ScoreSheet | None:
    return session.exec(
        select(ScoreSheet)
        .where(ScoreSheet.application_id == application_id, ScoreSheet.expert_id == expert_id)
        .with_for_update()
    ).first()


def _label(session: Session, application_id: int) -> str:
    row = session.exec(
        select(Enterprise.name, Application.factory_name)
        .join(Application, col(Application.enterprise_id) == col(Enterprise.id))
        .where(Application.id == application_id)
    ).first()
    return f"{row[0]}·{row[1]}" if row else f"申报项目 {application_id}"


def _content(session: Session, sheet: ScoreSheet) -> tuple[list[rules.Item], dict[int, rules.Entry], dict[str, Any]]:
    items = scoring_items(rounds.criteria_tree(session, sheet.criteria_version_id))
    entries = sheet_entries(session, sheet.id)
    return items, entries, snapshot(items, entries, opinion=sheet.opinion)


def _last_submitted(session: Session, sheet_id: int) -> dict[str, Any] | None:
    row = session.exec(
        select(SheetVersion.change_json)
        .where(SheetVersion.sheet_id == sheet_id, col(SheetVersion.kind).in_(["submit", "resubmit"]))
        .order_by(col(SheetVersion.version).desc())
    ).first()
    return json.loads(row) if row else None


def _new_version(
    session: Session, *, sheet: ScoreSheet, kind: str, actor: Actor, now: datetime, change: dict[str, Any]
) -> None:
    """Bump the sheet's version and keep what happened in its history (submit, resubmit, return, reopen)."""
    sheet.row_version += 1
    sheet.updated_at = now
    session.add(sheet)
    session.add(
        SheetVersion(
            sheet_id=sheet.id,  # type: ignore[arg-type]
            version=sheet.row_version,
            kind=kind,
            actor_id=actor.user_id,
            at=now,
            change_json=json.dumps(change, ensure_ascii=False),
        )
    )
    session.flush()


def submit_sheet(
    session: Session, *, actor: Actor, expert: Expert, application_id: int, row_version: int, now: datetime
) -> tuple[ScoreSheet, bool]:
    """Check completeness and lock the sheet. Returns (sheet, True), or (sheet, False) when it was already
    submitted: a second click or a resent form changes nothing and records nothing."""
    app = open_application(session, expert_id=expert.id, application_id=application_id)  # type: ignore[arg-type]
    sheet = _sheet_of(session, expert_id=expert.id, application_id=application_id)  # type: ignore[arg-type]
    if sheet is None:
        raise ServiceError("评分表尚未填写，不能提交。")
    if sheet.status == SheetStatus.submitted.value:
        return sheet, False
    rnd = rounds.get_round(session, app.round_id)
    panel = session.get(Panel, sheet.panel_id)
    refusal = rules.edit_refusal(
        status=sheet.status, now=now, deadline=rnd.scoring_deadline, finalized=bool(panel and panel.finalized_at)
    )
    if refusal:
        raise ServiceError(refusal)
    if sheet.row_version != row_version:
        raise StaleSheet("评分表在您检查之后又有修改（可能来自其他窗口或设备），请重新检查后再提交。")
    items, entries, content = _content(session, sheet)
    problems = rules.completeness_problems(
        items, entries, opinion=sheet.opinion, opinion_min_length=rnd.opinion_min_length
    )
    if problems:
        raise IncompleteSheet(problems)
    kind = "resubmit" if sheet.status == SheetStatus.returned.value else "submit"
    before = _last_submitted(session, sheet.id) if kind == "resubmit" else None  # type: ignore[arg-type]
    sheet.status = SheetStatus.submitted.value
    sheet.submitted_at = now
    sheet.total = Decimal(content["total"])
    _new_version(session, sheet=sheet, kind=kind, actor=actor, now=now, change=content)
    verb = "重新提交" if kind == "resubmit" else "提交"
    audit.record(
        session,
        actor=actor,
        action=f"scoring.{kind}",
        entity_type="score_sheet",
        entity_id=sheet.id,
        summary=f"{expert.name} {verb}「{_label(session, application_id)}」的评分表，总分 {content['total']} 分"
        + ("，有否决项判定为不通过" if content["gate_failed"] else ""),
        before=before,
        after=content,
    )
    return sheet, True


def _send_back(
    session: Session, *, actor: Actor, sheet: ScoreSheet, kind: str, reason: str, now: datetime, who: str
) -> ScoreSheet:
    """Return (chair) or reopen (staff) a submitted sheet: it becomes editable again, the expert sees why."""
    panel = session.get(Panel, sheet.panel_id)
    refusal = rules.return_refusal(status=sheet.status, finalized=bool(panel and panel.finalized_at))
    if refusal:
        raise ServiceError(refusal)
    what = "退回原因" if kind == "return" else "重新开放原因"
    problem = rules.reason_problem(reason, what=what)
    if problem:
        raise ServiceError(problem, field="reason")
    reason = reason.strip()[:500]
    _items, _entries, content = _content(session, sheet)
    sheet.status = SheetStatus.returned.value
    sheet.returned_reason = reason
    sheet.returned_at = now
    sheet.returned_by = actor.user_id
    _new_version(session, sheet=sheet, kind=kind, actor=actor, now=now, change={"reason": reason, "by": who})
    expert = session.get(Expert, sheet.expert_id)
    verb = "退回" if kind == "return" else "重新开放"
    audit.record(
        session,
        actor=actor,
        action=f"scoring.{kind}",
        entity_type="score_sheet",
        entity_id=sheet.id,
        summary=f"{who}{verb}{expert.name if expert else ''}对「{_label(session, sheet.application_id)}」的评分表（原因：{reason}）",
        before={"status": SheetStatus.submitted.value, **content},
        after={"status": SheetStatus.returned.value, "reason": reason},
    )
    return sheet


def chair_panel(session: Session, *, expert_id: int, panel_id: int) -> Panel:
    """The panel, if this expert chairs it (otherwise it does not exist for them)."""
    panel = panels.get_panel(session, panel_id)
    is_chair = session.exec(
        select(PanelMember.is_chair).where(PanelMember.panel_id == panel_id, PanelMember.expert_id == expert_id)
    ).first()
    if not is_chair:
        raise NotFound("未找到该专家组，或您不是该组组长。")
    return panel


def return_sheet(
    session: Session, *, actor: Actor, chair: Expert, panel_id: int, sheet_id: int, reason: str, now: datetime
) -> ScoreSheet:
    """The panel chair sends a submitted sheet back for re-scoring (before the panel is finalized)."""
    panel = chair_panel(session, expert_id=chair.id, panel_id=panel_id)  # type: ignore[arg-type]
    panels.require_pledge(session, expert_id=chair.id, round_id=panel.round_id)  # type: ignore[arg-type]
    sheet = session.exec(select(ScoreSheet).where(ScoreSheet.id == sheet_id).with_for_update()).first()
    app = session.get(Application, sheet.application_id) if sheet else None
    if sheet is None or app is None or app.panel_id != panel_id:
        raise NotFound("未找到该评分表。")
    # A chair conflicted with the application does not see it, so cannot act on its sheets either.
    if not panels.can_see_application(session, expert_id=chair.id, application_id=app.id):  # type: ignore[arg-type]
        raise NotFound("未找到该评分表。")
    return _send_back(session, actor=actor, sheet=sheet, kind="return", reason=reason, now=now, who=f"组长{chair.name}")


def reopen_sheet(
    session: Session, *, actor: Actor, round_id: int, sheet_id: int, reason: str, now: datetime
) -> ScoreSheet:
    """Staff reopen a submitted sheet (for example when the chair cannot act), with a reason."""
    sheet = session.exec(select(ScoreSheet).where(ScoreSheet.id == sheet_id).with_for_update()).first()
    if sheet is None or sheet.round_id != round_id:
        raise NotFound("未找到该评分表。")
    user = session.get(User, actor.user_id) if actor.user_id else None
    who = f"工作人员{user.display_name if user else actor.name}"
    return _send_back(session, actor=actor, sheet=sheet, kind="reopen", reason=reason, now=now, who=who)


# --- the deadline ---------------------------------------------------------------------------------


def set_scoring_deadline(
    session: Session, *, actor: Actor, round_id: int, deadline: datetime, reason: str, tz: Any
) -> Round:
    """Move the round's scoring deadline (usually to extend it), with the old and new values in the audit log."""
    rnd = rounds.get_round(session, round_id, for_update=True)
    problem = rules.reason_problem(reason, what="调整原因")
    if problem:
        raise ServiceError(problem, field="reason")
    problems = round_setting_problems({"application_close": rnd.application_close, "scoring_deadline": deadline}, tz=tz)
    if problems:
        raise ServiceError(next(iter(problems.values())), field="deadline_date")
    old = rnd.scoring_deadline
    if old is not None and as_utc(old) == deadline:
        return rnd
    reason = reason.strip()[:300]
    rnd.scoring_deadline = deadline
    rnd.row_version += 1
    rnd.updated_at = utcnow()
    session.add(rnd)
    session.flush()

    def shown(value: datetime | None) -> str:
        return as_utc(value).astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else "未设置"

    audit.record(
        session,
        actor=actor,
        action="scoring.deadline",
        entity_type="round",
        entity_id=rnd.id,
        summary=f"将「{rnd.name}」的评分截止时间由 {shown(old)} 调整为 {shown(deadline)}（北京时间；原因：{reason}）",
        before={"scoring_deadline": as_utc(old).isoformat() if old else None},
        after={"scoring_deadline": deadline.isoformat(), "reason": reason},
    )
    return rnd


# --- overviews ------------------------------------------------------------------------------------


@dataclass
class AppRow:
    """One application on an expert's list, with the expert's own sheet status."""

    application: Application
    enterprise_name: str
    status: str | None
    returned_reason: str = ""

    @property
    def status_label(self) -> str:
        return status_label(self.status)


@dataclass
class RoundOverview:
    round: Round
    panels: list[Panel]
    chair_of: list[Panel]
    pledge_state: str
    rows: list[AppRow]
    time_left: str

    def count(self, status: str | None) -> int:
        return sum(1 for r in self.rows if r.status == status)


def round_overview(session: Session, *, expert_id: int, round_id: int, now: datetime) -> RoundOverview:
    """An expert's view of one round: panels, pledge, and the applications to score with their status."""
    rnd = rounds.get_round(session, round_id)
    my_panels = panels.expert_panels(session, expert_id=expert_id, round_id=round_id)
    chair_ids = set(
        session.exec(
            select(PanelMember.panel_id).where(PanelMember.expert_id == expert_id, PanelMember.is_chair == True)  # noqa: E712
        )
    )
    state = panels.pledge_state(panels.get_pledge(session, expert_id=expert_id, round_id=round_id), rnd)
    rows: list[AppRow] = []
    if state == "done":
        apps = panels.visible_applications(session, expert_id=expert_id, round_id=round_id)
        ids = [a.id for a in apps]
        names = dict(
            session.exec(
                select(Enterprise.id, Enterprise.name).where(
                    col(Enterprise.id).in_([a.enterprise_id for a in apps] or [-1])
                )
            ).all()
        )
        sheets = {
            s.application_id: s
            for s in session.exec(
                select(ScoreSheet).where(
                    ScoreSheet.expert_id == expert_id, col(ScoreSheet.application_id).in_(ids or [-1])
                )
            )
        }
        for app in apps:
            sheet = sheets.get(app.id)  # type: ignore[arg-type]
            rows.append(
                AppRow(
                    application=app,
                    enterprise_name=names.get(app.enterprise_id, ""),
                    status=sheet.status if sheet else None,
                    returned_reason=sheet.returned_reason
                    if sheet and sheet.status == SheetStatus.returned.value
                    else "",
                )
            )
    deadline = as_utc(rnd.scoring_deadline) if rnd.scoring_deadline else None
    return RoundOverview(
        round=rnd,
        panels=my_panels,
        chair_of=[p for p in my_panels if p.id in chair_ids],
        pledge_state=state,
        rows=rows,
        time_left=rules.time_left(now, deadline),
    )


def expert_rounds(session: Session, *, expert_id: int, now: datetime) -> list[RoundOverview]:
    round_ids = []
    for panel in panels.expert_panels(session, expert_id=expert_id):
        if panel.round_id not in round_ids:
            round_ids.append(panel.round_id)
    return [round_overview(session, expert_id=expert_id, round_id=r, now=now) for r in round_ids]


@dataclass
class SheetCell:
    sheet: ScoreSheet | None
    conflicted: bool = False

    @property
    def status(self) -> str | None:
        return self.sheet.status if self.sheet else None

    @property
    def label(self) -> str:
        return "回避" if self.conflicted else status_label(self.status)


@dataclass
class PanelProgress:
    """A panel's applications × members with each sheet's status (never its scores)."""

    panel: Panel
    members: list[tuple[PanelMember, Expert]]
    rows: list[tuple[Application, str, list[SheetCell]]]

    def count(self, status: str | None) -> int:
        return sum(1 for _a, _n, cells in self.rows for c in cells if not c.conflicted and c.status == status)


def panel_progress(session: Session, *, panel_id: int, hide_from_expert: int | None = None) -> PanelProgress:
    """Statuses of every sheet of a panel. `hide_from_expert`: leave out applications that expert may not see
    (the chair's view); staff see everything, conflicts marked."""
    panel = panels.get_panel(session, panel_id)
    members = panels.panel_members(session, panel_id)
    apps = list(
        session.exec(
            select(Application, Enterprise.name)
            .join(Enterprise, col(Enterprise.id) == col(Application.enterprise_id))
            .where(Application.panel_id == panel_id, Application.formal_status == FormalStatus.passed.value)
            .order_by(Application.serial, Application.id)
        )
    )
    if hide_from_expert is not None:
        visible = {
            a.id for a in panels.visible_applications(session, expert_id=hide_from_expert, round_id=panel.round_id)
        }
        apps = [(a, n) for a, n in apps if a.id in visible]
    ids = [a.id for a, _n in apps]
    sheets = {
        (s.application_id, s.expert_id): s
        for s in session.exec(select(ScoreSheet).where(col(ScoreSheet.application_id).in_(ids or [-1])))
    }
    conflicts = set(
        session.exec(
            select(Conflict.application_id, Conflict.expert_id).where(
                Conflict.round_id == panel.round_id, col(Conflict.application_id).in_(ids or [-1])
            )
        ).all()
    )
    rows = [
        (
            app,
            name,
            [SheetCell(sheets.get((app.id, e.id)), (app.id, e.id) in conflicts) for _m, e in members],  # type: ignore[arg-type]
        )
        for app, name in apps
    ]
    return PanelProgress(panel=panel, members=members, rows=rows)


# --- panels' guard: submitted sheets are never dropped silently -----------------------------------


def count_submitted_sheets(
    session: Session, *, round_id: int, panel_id: int, expert_ids: set[int], application_ids: set[int]
) -> int:
    """Submitted (or returned, hence once submitted) sheets a panel change would take away: the leaving members'
    sheets on the panel's applications, and every sheet on the leaving applications."""
    kept = (SheetStatus.submitted.value, SheetStatus.returned.value)
    base = (
        select(func.count())
        .select_from(ScoreSheet)
        .where(ScoreSheet.round_id == round_id, col(ScoreSheet.status).in_(kept))
    )
    total = 0
    if expert_ids:
        panel_apps = select(Application.id).where(Application.panel_id == panel_id) if panel_id else None
        stmt = base.where(col(ScoreSheet.expert_id).in_(sorted(expert_ids)))
        if panel_apps is not None:
            stmt = stmt.where(col(ScoreSheet.application_id).in_(panel_apps))
        total += int(session.exec(stmt).one())
    if application_ids:
        stmt = base.where(col(ScoreSheet.application_id).in_(sorted(application_ids)))
        if expert_ids:  # already counted above
            stmt = stmt.where(col(ScoreSheet.expert_id).not_in(sorted(expert_ids)))
        total += int(session.exec(stmt).one())
    return total


if count_submitted_sheets not in panels.SUBMITTED_SCORE_COUNTERS:
    panels.SUBMITTED_SCORE_COUNTERS.append(count_submitted_sheets)
