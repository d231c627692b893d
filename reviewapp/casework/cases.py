"""Service helpers every kind of tracked case shares (objections, whistle-blower reports): loading a case, its
handlers, its evidence and step files, the confidential party's identity behind an audited view.

A kind of case is configured once with a CaseKind (its table, workflow, file owner and Chinese nouns); the domain's
service keeps what is its own (registering, the effects of its steps). The caller commits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from reviewapp import audit
from reviewapp.audit import Actor
from reviewapp.auth.models import Role, User
from reviewapp.casework import service as casework
from reviewapp.casework.models import CaseStep
from reviewapp.casework.rules import Workflow
from reviewapp.errors import NotFound, ServiceError
from reviewapp.files import StoredFile, store_upload
from reviewapp.settings import Settings

CONFIDENTIAL = "（保密）"  # shown where a confidential identity would stand


@dataclass(frozen=True)
class CaseKind:
    """One kind of case: e.g. CaseKind(Objection, OBJECTION_WORKFLOW, file_owner="objection", noun="异议",
    party="异议人")."""

    model: Any  # the case table: id, number, state, row_version, received_on, target_name, target_factory…
    workflow: Workflow
    file_owner: str  # StoredFile.owner_type of the evidence registered with the case
    noun: str  # 异议 / 举报
    party: str  # whose identity is confidential: 异议人 / 举报人
    number_prefix: str  # 异议编号 YY-2026-00003, 举报编号 JB-2026-00012
    reply_field: str  # the step value that answers the party (答复异议人 / 答复举报人)
    unassigned_states: frozenset[str] = frozenset()  # states in which handlers are not chosen yet

    @property
    def name(self) -> str:
        return self.workflow.name


def get_case(session: Session, kind: CaseKind, case_id: int, *, for_update: bool = False) -> Any:
    stmt = select(kind.model).where(kind.model.id == case_id)
    if for_update:
        stmt = stmt.with_for_update()
    case = session.exec(stmt).first()
    if case is None:
        raise NotFound(f"未找到该{kind.noun}。")
    return case


def file_new_case(
    session: Session,
    kind: CaseKind,
    *,
    settings: Settings,
    case: Any,
    uploads: Sequence[tuple[str, bytes]],
    user_id: int | None,
) -> None:
    """Add a newly registered case, number it (<prefix>-<year received>-<id>) and store its evidence."""
    session.add(case)
    session.flush()
    case.number = f"{kind.number_prefix}-{case.received_on.year}-{case.id:05d}"
    session.add(case)
    store_evidence(session, kind, settings=settings, case=case, uploads=uploads, user_id=user_id)


def is_case_handler(session: Session, kind: CaseKind, *, case_id: int, user_id: int | None) -> bool:
    return casework.is_handler(session, case_type=kind.name, case_id=case_id, user_id=user_id)


def store_evidence(
    session: Session,
    kind: CaseKind,
    *,
    settings: Settings,
    case: Any,
    uploads: Sequence[tuple[str, bytes]],
    user_id: int | None,
) -> list[StoredFile]:
    """The files registered with the case (already checked with reviewapp.files.check_upload)."""
    return [
        store_upload(
            session,
            settings=settings,
            owner_type=kind.file_owner,
            owner_id=case.id,
            filename=filename,
            data=data,
            uploaded_by=user_id,
        )
        for filename, data in uploads
    ]


def evidence(session: Session, kind: CaseKind, case_id: int) -> list[StoredFile]:
    return list(
        session.exec(
            select(StoredFile)
            .where(StoredFile.owner_type == kind.file_owner, StoredFile.owner_id == case_id)
            .order_by(col(StoredFile.id))
        )
    )


def case_file(session: Session, kind: CaseKind, *, case_id: int, file_id: int) -> StoredFile:
    """A file of this case: its evidence, or a file attached to one of its steps."""
    stored = session.get(StoredFile, file_id)
    if stored is not None:
        if stored.owner_type == kind.file_owner and stored.owner_id == case_id:
            return stored
        if stored.owner_type == casework.STEP_FILE_OWNER:
            step = session.get(CaseStep, stored.owner_id)
            if step is not None and step.case_type == kind.name and step.case_id == case_id:
                return stored
    raise NotFound("未找到该文件。")


def may_reassign(session: Session, kind: CaseKind, *, case_id: int, user: User) -> bool:
    """A current handler may change the handlers; when every handler has left (account disabled or no longer
    staff), any staff member may take the case over. Nobody else: the handlers see the confidential party's
    identity, and administrators do no casework (三员分立)."""
    if user.role != Role.staff.value:
        return False
    current = casework.handlers(session, case_type=kind.name, case_id=case_id)
    if any(h.id == user.id for h in current):
        return True
    return not any(h.is_active and h.role in casework.HANDLER_ROLES for h in current)


def reassign(
    session: Session, kind: CaseKind, *, actor: Actor, case_id: int, user_ids: Sequence[int], note: str
) -> None:
    """Change the handlers (see may_reassign for who may)."""
    case = get_case(session, kind, case_id, for_update=True)
    if case.state in kind.unassigned_states:
        raise ServiceError("承办人在「开始核实」时指定。")
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None or not may_reassign(session, kind, case_id=case.id, user=user):
        raise ServiceError(f"只有该{kind.noun}的承办人可以更换承办人（承办人均已离任时，任一工作人员可接手）。")
    casework.set_handlers(session, workflow=kind.workflow, case=case, user_ids=user_ids, actor=actor, note=note)


def view_identity(session: Session, kind: CaseKind, *, actor: Actor, case_id: int) -> Any:
    """The case, for a handler of it only, to read the confidential party's identity; each call is audited
    (action "<case_type>.view_identity")."""
    case = get_case(session, kind, case_id)
    if not is_case_handler(session, kind, case_id=case.id, user_id=actor.user_id):
        raise ServiceError(f"{kind.party}信息保密，只有该{kind.noun}的承办人可以查看。")
    audit.record(
        session,
        actor=actor,
        action=f"{kind.name}.view_identity",
        entity_type=kind.name,
        entity_id=case.id,
        summary=f"{actor.name} 查看了{kind.noun} {case.number} 的{kind.party}信息",
    )
    return case


# --- steps ----------------------------------------------------------------------------------------


@dataclass
class OpenStep:
    """A case loaded for a transition, with what every workflow's steps record (filled by open_step)."""

    case: Any
    is_handler: bool
    data: dict[str, Any]
    handlers: list[User]


def open_step(
    session: Session,
    kind: CaseKind,
    *,
    actor: Actor,
    case_id: int,
    code: str,
    row_version: int,
    values: dict[str, Any],
    today: date,
) -> OpenStep:
    """Load the case for update and refuse early a step this user may not take now; collect the reply to the
    party and, on 开始核实 ("start"), the handlers and the reply deadline (which must lie after today)."""
    case = get_case(session, kind, case_id, for_update=True)
    handler = is_case_handler(session, kind, case_id=case.id, user_id=actor.user_id)
    casework.permitted(
        session, workflow=kind.workflow, case=case, code=code, is_handler=handler, row_version=row_version
    )
    data: dict[str, Any] = {}
    users: list[User] = []
    reply = (values.get(kind.reply_field) or "").strip()
    if reply:
        data[kind.reply_field] = reply[:2000]
    if code == "start":
        users = casework.check_handlers(session, values.get("handlers") or []) if values.get("handlers") else []
        data["handlers"] = [u.display_name for u in users]
        deadline = values.get("reply_deadline")
        if deadline is not None and deadline <= today:
            label = kind.workflow.field_labels.get("reply_deadline", "reply_deadline")
            raise ServiceError(f"「{label}」应晚于今天。", field="reply_deadline")
        data["reply_deadline"] = deadline
    return OpenStep(case, handler, data, users)


def assign_on_start(
    session: Session, kind: CaseKind, *, opened: OpenStep, values: dict[str, Any], actor: Actor
) -> None:
    """After 开始核实: the handlers chosen (recorded in the step itself) and the reply deadline."""
    casework.set_handlers(
        session,
        workflow=kind.workflow,
        case=opened.case,
        user_ids=[u.id for u in opened.handlers],  # type: ignore[misc]
        actor=actor,
        record=False,
    )
    opened.case.reply_deadline = values["reply_deadline"]


def finish_step(
    session: Session,
    *,
    settings: Settings,
    case: Any,
    step: CaseStep,
    uploads: Sequence[tuple[str, bytes]],
    actor: Actor,
) -> None:
    """Save the case after its step's effects and store the step's files."""
    session.add(case)
    casework.attach_step_files(session, settings=settings, step=step, uploads=uploads, user_id=actor.user_id)
    session.flush()


def take_step(
    session: Session,
    kind: CaseKind,
    *,
    actor: Actor,
    settings: Settings,
    case_id: int,
    code: str,
    row_version: int,
    note: str,
    values: dict[str, Any],
    uploads: Sequence[tuple[str, bytes]],
    today: date,
    record: Callable[..., None],
    effects: Callable[..., None],
    facts: Callable[[Session, Any], Any] | None = None,
) -> CaseStep:
    """One transition of a case's workflow: open it (checks, handlers, reply deadline), let the kind `record` what
    the step keeps in its data (and refuse what it must), take the transition, assign the handlers on 开始核实, let
    the kind apply its `effects` to the case, save the case and store the step's files.

    record(case=, code=, values=, data=, note=, today=) and effects(session=, actor=, case=, code=, values=, data=,
    note=, today=) are the kind's own; `facts(session, case)` feeds the workflow's preconditions when the case row
    alone does not say enough."""
    opened = open_step(
        session, kind, actor=actor, case_id=case_id, code=code, row_version=row_version, values=values, today=today
    )
    case, data = opened.case, opened.data
    record(case=case, code=code, values=values, data=data, note=note, today=today)
    step = casework.apply_transition(
        session,
        workflow=kind.workflow,
        case=case,
        code=code,
        actor=actor,
        is_handler=opened.is_handler,
        note=note,
        data=data,
        today=today,
        row_version=row_version,
        facts=facts(session, case) if facts is not None else None,
    )
    if code == "start":
        assign_on_start(session, kind, opened=opened, values=values, actor=actor)
    effects(session=session, actor=actor, case=case, code=code, values=values, data=data, note=note, today=today)
    finish_step(session, settings=settings, case=case, step=step, uploads=uploads, actor=actor)
    return step
