"""Demo step for publicity: the round's period is set and on the public page (a demo shortcut: in a real round it is
published only once every panel is finalized), with two objections against listed projects — one accepted and
under verification, one just registered and waiting for staff to decide whether to accept it."""

from __future__ import annotations

from datetime import timedelta

from reviewapp.audit import Actor
from reviewapp.clock import today_beijing, utcnow
from reviewapp.demo.context import DemoContext
from reviewapp.objections import service as objections
from reviewapp.publicity import periods
from reviewapp.ranking import recommendations
from reviewapp.rounds.models import Round


def publicity_step(ctx: DemoContext) -> None:
    db = ctx.session
    rnd: Round | None = ctx.objects.get("round")
    staff = ctx.users.get("staff")
    if rnd is None or staff is None:
        return
    listed = recommendations.round_list(db, round_id=rnd.id).listed  # type: ignore[arg-type]
    if len(listed) < 2:
        return
    actor = Actor(staff.id, staff.username)
    today = today_beijing()
    start = today - timedelta(days=2)
    values = periods.new_period_values(rnd, today=start)
    period = periods.save_period(
        db,
        actor=actor,
        round_id=rnd.id,  # type: ignore[arg-type]
        row_version=None,
        start_date=start,
        working_days=5,
        columns=values["columns"],  # type: ignore[arg-type]
        notice_template=values["notice_template"],  # type: ignore[arg-type]
        notice_text="",
        regenerate=True,
        contact_unit="山东省工业和信息化厅智能制造处",
        contact_address="济南市历下区省府前街1号",
        contact_phone="0531-51780000",
        contact_email="znzz@example.cn",
    )
    period.published_at = utcnow()
    period.published_by = staff.id
    period.row_version += 1
    db.add(period)
    db.flush()

    first, second = listed[0], listed[-1]
    verifying = objections.create_objection(
        db,
        actor=actor,
        settings=ctx.settings,
        round_id=rnd.id,  # type: ignore[arg-type]
        application_id=first.application.id,
        target_name="",
        channel="信函",
        received_on=today - timedelta(days=1),
        objector_kind="unit",
        objector_name="山东同创精密机械有限公司",
        objector_contact="0531-88990000",
        objector_address="济南市高新区舜华路100号",
        sealed_or_signed=True,
        content="该企业申报的“在线智能检测”场景于公示前一个月才上线试运行，不满足稳定运行要求，请予核实。",
        uploads=[],
        today=today,
    )
    objections.take_step(
        db, actor=actor, settings=ctx.settings, objection_id=verifying.id, code="accept",  # type: ignore[arg-type]
        row_version=verifying.row_version, note="异议材料加盖单位公章，在公示期内提出，予以受理。",
        values={}, uploads=[], today=today,
    )  # fmt: skip
    objections.take_step(
        db, actor=actor, settings=ctx.settings, objection_id=verifying.id, code="start",  # type: ignore[arg-type]
        row_version=verifying.row_version, note="请被异议企业提供在线检测系统的运行记录。",
        values={"handlers": [staff.id], "reply_deadline": today + timedelta(days=7)}, uploads=[], today=today,
    )  # fmt: skip
    objections.create_objection(
        db,
        actor=actor,
        settings=ctx.settings,
        round_id=rnd.id,  # type: ignore[arg-type]
        application_id=second.application.id,
        target_name="",
        channel="邮件",
        received_on=today,
        objector_kind="person",
        objector_name="孙先生",
        objector_contact="13905310000",
        objector_address="",
        sealed_or_signed=True,
        content="反映该工厂的设备联网率数据与实际不符，部分产线仍为单机运行。",
        uploads=[],
        today=today,
    )
    db.flush()
