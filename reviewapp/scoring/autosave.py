"""The autosave of one field of a score sheet: every check in one query, the value, the sheet's version history.

Autosaves go to the sheet's own version history (SheetVersion), not to the audit log. The caller (a route)
commits or rolls back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, insert, literal, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from reviewapp.applications.models import Application, FormalStatus
from reviewapp.audit import Actor
from reviewapp.auth import service as accounts
from reviewapp.auth.models import User
from reviewapp.errors import NotFound, ServiceError
from reviewapp.panels import service as panels
from reviewapp.panels.models import Conflict, Expert, Panel, PanelMember, Pledge
from reviewapp.rounds import service as rounds
from reviewapp.rounds.models import CriteriaNode, NodeKind, Round
from reviewapp.rounds.rules import fmt_points
from reviewapp.scoring import rules
from reviewapp.scoring.models import ItemScore, ScoreSheet, SheetVersion
from reviewapp.scoring.sheets import NOT_VISIBLE, StaleSheet, as_points

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
    # Signed in: one flat chain of outer joins from the session row. (A parenthesised "expert JOIN application
    # ..." on the right of the session's outer join made SQLite materialise that join for every expert, then
    # scan it: 0.7 ms of the save's 1 ms statement.)
    if signed_in:
        stmt_from = (
            accounts.SESSION_FROM.outerjoin(_expert, _expert.c.user_id == _user.c.id)
            .outerjoin(_app, _app.c.id == bindparam("application_id"))
            .outerjoin(_round, _round.c.id == _app.c.round_id)
        )
    else:
        stmt_from = _expert.join(_app, _app.c.id == bindparam("application_id")).join(
            _round, _round.c.id == _app.c.round_id
        )
    stmt_from = (
        stmt_from.outerjoin(_sheet, and_(_sheet.c.application_id == _app.c.id, _sheet.c.expert_id == _expert.c.id))
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
        return select(*accounts.SESSION_COLUMNS, *columns).select_from(stmt_from).where(accounts.SESSION_WHERE)
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
