"""Persistence shared by every tracked case (objections, whistle-blower reports): transitions, events, handlers, files.

A case is any table row with `id`, `state` and `row_version` (and optionally `number`, `updated_at`); its workflow
(reviewapp.casework.rules.Workflow) names the case type. Each operation writes its CaseStep and its audit entry in
the caller's transaction; the caller commits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import Session, select

from reviewapp import audit
from reviewapp.audit import Actor
from reviewapp.audit.service import ACTION_LABELS, ENTITY_LABELS
from reviewapp.auth.models import Role, User
from reviewapp.casework.models import CaseHandler, CaseStep
from reviewapp.casework.rules import TransitionRefused, Workflow
from reviewapp.clock import utcnow
from reviewapp.errors import Conflict, ServiceError
from reviewapp.files import StoredFile, store_upload
from reviewapp.settings import Settings

# Events every workflow has besides its transitions (they keep the state).
EVENT_LABELS = {"note": "办理记录", "assign": "指定承办人"}
STEP_FILE_OWNER = "case_step"
STALE_CASE = "该件已被他人办理或修改，请刷新页面查看最新状态后重试。您这次的操作未执行。"
HANDLER_ROLES = frozenset({Role.staff.value})


def register_workflow_labels(workflow: Workflow, *, entity_label: str, events: Mapping[str, str] | None = None) -> None:
    """Chinese audit labels for the workflow's transitions and events (action code = "<case_type>.<code>")."""
    labels = {f"{workflow.name}.{t.code}": f"{entity_label}：{t.label}" for t in workflow.transitions}
    labels.update(
        {
            f"{workflow.name}.{code}": f"{entity_label}：{text}"
            for code, text in {**EVENT_LABELS, **(events or {})}.items()
        }
    )
    audit.register_labels(actions=labels, entities={workflow.name: entity_label})


def case_ref(case: Any) -> str:
    """How summaries name a case: its number if it has one, else its id."""
    return getattr(case, "number", "") or f"第 {case.id} 号"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return value


def _dump(data: Mapping[str, Any] | None) -> str:
    clean = {k: _jsonable(v) for k, v in (data or {}).items() if v not in (None, "", [], ())}
    return json.dumps(clean, ensure_ascii=False, sort_keys=True) if clean else ""


def _next_seq(session: Session, case_type: str, case_id: int) -> int:
    last = session.exec(
        select(func.max(CaseStep.seq)).where(CaseStep.case_type == case_type, CaseStep.case_id == case_id)
    ).one()
    return int(last or 0) + 1


def _write_step(
    session: Session,
    *,
    workflow: Workflow,
    case: Any,
    code: str,
    from_state: str,
    to_state: str,
    actor: Actor,
    note: str,
    data: Mapping[str, Any] | None,
) -> CaseStep:
    step = CaseStep(
        case_type=workflow.name,
        case_id=case.id,
        seq=_next_seq(session, workflow.name, case.id),
        code=code,
        from_state=from_state,
        to_state=to_state,
        actor_id=actor.user_id,
        actor_name=actor.name[:64],
        at=utcnow(),
        note=(note or "").strip(),
        data_json=_dump(data),
    )
    session.add(step)
    session.flush()
    return step


def permitted(
    session: Session, *, workflow: Workflow, case: Any, code: str, is_handler: bool, row_version: int
) -> None:
    """Refuse early (ServiceError, Conflict for a stale form) when this user may not take `code` on `case` now,
    so that a caller validating the step's values first does not answer a non-handler with a date error."""
    if case.row_version != row_version:
        raise Conflict(STALE_CASE)
    try:
        workflow.permits(case.state, code, is_handler=is_handler)
    except TransitionRefused as exc:
        raise ServiceError(exc.message) from exc


def apply_transition(
    session: Session,
    *,
    workflow: Workflow,
    case: Any,
    code: str,
    actor: Actor,
    is_handler: bool,
    note: str,
    data: Mapping[str, Any] | None,
    today: date,
    row_version: int,
    summary: str = "",
    facts: Any = None,
) -> CaseStep:
    """Take transition `code` on `case`: check it against the workflow, move the state, bump row_version,
    write the CaseStep and the audit entry. Refusals raise ServiceError (Conflict for a stale row_version).

    `facts` is what the transition's precondition looks at when the case row alone does not say enough (e.g. an
    objection's acceptance checks, which need the publicity period and the list); by default, the case itself.

    `data` holds the values the step records (their keys are what the transition `requires`, besides "note");
    keep it free of anything confidential: the audit log shows it to every staff member.
    """
    if case.row_version != row_version:
        raise Conflict(STALE_CASE)
    given = {**(data or {}), "note": (note or "").strip()}
    try:
        transition = workflow.check(
            case.state, code, is_handler=is_handler, given=given, case=case if facts is None else facts, today=today
        )
    except TransitionRefused as exc:
        raise ServiceError(exc.message) from exc
    from_state = case.state
    case.state = transition.target
    case.row_version += 1
    if hasattr(case, "updated_at"):
        case.updated_at = utcnow()
    session.add(case)
    step = _write_step(
        session,
        workflow=workflow,
        case=case,
        code=code,
        from_state=from_state,
        to_state=transition.target,
        actor=actor,
        note=note,
        data=data,
    )
    entity = ENTITY_LABELS.get(workflow.name, workflow.name)
    audit.record(
        session,
        actor=actor,
        action=f"{workflow.name}.{code}",
        entity_type=workflow.name,
        entity_id=case.id,
        summary=summary
        or f"{entity} {case_ref(case)}：{transition.label}（{workflow.label(from_state)} → {workflow.label(transition.target)}）",
        before={"state": from_state},
        after={"state": transition.target, "step": step.seq, **{k: _jsonable(v) for k, v in (data or {}).items()}},
    )
    return step


def record_event(
    session: Session,
    *,
    workflow: Workflow,
    case: Any,
    code: str,
    actor: Actor,
    note: str = "",
    data: Mapping[str, Any] | None = None,
    summary: str = "",
) -> CaseStep:
    """A step that keeps the state (a handling note, an assignment, material added by the reporter…), audited.

    The event's Chinese label must be registered (EVENT_LABELS or register_workflow_labels(events=…)).
    """
    if case.state in workflow.final_states and code not in EVENT_LABELS:
        raise ServiceError(f"该件已{workflow.label(case.state)}，不能再补充。")
    step = _write_step(
        session,
        workflow=workflow,
        case=case,
        code=code,
        from_state=case.state,
        to_state=case.state,
        actor=actor,
        note=note,
        data=data,
    )
    entity = ENTITY_LABELS.get(workflow.name, workflow.name)
    label = ACTION_LABELS.get(f"{workflow.name}.{code}", code)
    audit.record(
        session,
        actor=actor,
        action=f"{workflow.name}.{code}",
        entity_type=workflow.name,
        entity_id=case.id,
        summary=summary or f"{entity} {case_ref(case)}：{label.split('：')[-1]}",
        after={"step": step.seq, **{k: _jsonable(v) for k, v in (data or {}).items()}},
    )
    return step


# --- handlers (承办人) -------------------------------------------------------------------------------


def handler_ids(session: Session, *, case_type: str, case_id: int) -> list[int]:
    return list(
        session.exec(
            select(CaseHandler.user_id)
            .where(CaseHandler.case_type == case_type, CaseHandler.case_id == case_id)
            .order_by(CaseHandler.id)
        )
    )


def handlers(session: Session, *, case_type: str, case_id: int) -> list[User]:
    ids = handler_ids(session, case_type=case_type, case_id=case_id)
    users = {u.id: u for u in session.exec(select(User).where(User.id.in_(ids or [-1])))}  # type: ignore[union-attr]
    return [users[i] for i in ids if i in users]


def is_handler(session: Session, *, case_type: str, case_id: int, user_id: int | None) -> bool:
    if user_id is None:
        return False
    return (
        session.exec(
            select(CaseHandler.id).where(
                CaseHandler.case_type == case_type, CaseHandler.case_id == case_id, CaseHandler.user_id == user_id
            )
        ).first()
        is not None
    )


def cases_handled_by(*, case_type: str, user_id: int):  # type: ignore[no-untyped-def]
    """A subquery of the case ids `user_id` handles, for list filters (`Case.id.in_(…)`)."""
    return select(CaseHandler.case_id).where(CaseHandler.case_type == case_type, CaseHandler.user_id == user_id)


def handler_choices(session: Session) -> list[User]:
    """Active staff who can be assigned."""
    return list(
        session.exec(
            select(User)
            .where(User.role.in_(sorted(HANDLER_ROLES)), User.is_active.is_(True))  # type: ignore[attr-defined]
            .order_by(User.display_name)
        )
    )


def check_handlers(session: Session, user_ids: Iterable[int]) -> list[User]:
    """The users to assign, refusing unknown, disabled and non-staff accounts."""
    ids = list(dict.fromkeys(int(i) for i in user_ids))
    if not ids:
        raise ServiceError("请至少指定一名承办人。", field="handlers")
    users = {u.id: u for u in session.exec(select(User).where(User.id.in_(ids)))}  # type: ignore[union-attr]
    for i in ids:
        user = users.get(i)
        if user is None or not user.is_active or user.role not in HANDLER_ROLES:
            raise ServiceError("承办人只能是在用的工作人员账号。", field="handlers")
    return [users[i] for i in ids]


def set_handlers(
    session: Session,
    *,
    workflow: Workflow,
    case: Any,
    user_ids: Sequence[int],
    actor: Actor,
    note: str = "",
    record: bool = True,
) -> list[User]:
    """Replace the case's handlers. With `record`, an "assign" step and its audit entry are written
    (a transition that assigns handlers records them in its own step instead)."""
    users = check_handlers(session, user_ids)
    session.exec(  # type: ignore[call-overload]
        delete(CaseHandler).where(CaseHandler.case_type == workflow.name, CaseHandler.case_id == case.id)
    )
    for user in users:
        session.add(CaseHandler(case_type=workflow.name, case_id=case.id, user_id=user.id, assigned_by=actor.user_id))  # type: ignore[arg-type]
    session.flush()
    if record:
        record_event(
            session,
            workflow=workflow,
            case=case,
            code="assign",
            actor=actor,
            note=note,
            data={"handlers": [u.display_name for u in users]},
        )
    return users


# --- steps and their files ------------------------------------------------------------------------


def case_steps(session: Session, *, case_type: str, case_id: int) -> list[CaseStep]:
    return list(
        session.exec(
            select(CaseStep).where(CaseStep.case_type == case_type, CaseStep.case_id == case_id).order_by(CaseStep.seq)
        )
    )


def step_files(session: Session, step_ids: Sequence[int]) -> dict[int, list[StoredFile]]:
    out: dict[int, list[StoredFile]] = {}
    rows = session.exec(
        select(StoredFile)
        .where(StoredFile.owner_type == STEP_FILE_OWNER, StoredFile.owner_id.in_(list(step_ids) or [-1]))  # type: ignore[attr-defined]
        .order_by(StoredFile.id)
    )
    for f in rows:
        out.setdefault(f.owner_id, []).append(f)
    return out


def attach_step_files(
    session: Session, *, settings: Settings, step: CaseStep, uploads: Sequence[tuple[str, bytes]], user_id: int | None
) -> list[StoredFile]:
    """Store files (already checked with reviewapp.files.check_upload) on a step."""
    return [
        store_upload(
            session,
            settings=settings,
            owner_type=STEP_FILE_OWNER,
            owner_id=step.id,  # type: ignore[arg-type]
            filename=name,
            data=data,
            uploaded_by=user_id,
        )
        for name, data in uploads
    ]


def step_label(workflow: Workflow, step: CaseStep) -> str:
    """What a step was, in Chinese: the transition's button label, or the registered event label."""
    transition = workflow.transition(step.code)
    if transition is not None:
        return transition.label
    return ACTION_LABELS.get(f"{workflow.name}.{step.code}", step.code).split("：", 1)[-1]
