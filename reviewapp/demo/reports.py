"""Demo step: certifications (two due for re-review), one revocation with its ban, an overdue major-change filing,
two reports in different states, and one year's 普及率 counts."""

from __future__ import annotations

from datetime import timedelta

from reviewapp.audit import Actor
from reviewapp.clock import today_beijing
from reviewapp.demo.context import DemoContext
from reviewapp.reports import rules
from reviewapp.reports.certifications import service as certifications
from reviewapp.reports.figures import service as figures
from reviewapp.reports.revocations import service as revocations
from reviewapp.reports.whistleblowing import public
from reviewapp.reports.whistleblowing import service as whistleblowing
from reviewapp.rounds.models import Tier

# (credit code, enterprise, factory, tier, city, industry group, valid_from as days before today)
DEMO_CERTIFICATIONS = [
    (
        "91370100MA3C4XKD1B",
        "山东华岳重工机械有限公司",
        "华岳重工济南数字化铸造工厂",
        Tier.excellent,
        "济南市",
        "装备制造",
        3 * 365 - 75,
    ),
    (
        "91370200MA3D2HQW8E",
        "青岛海澜电子科技有限公司",
        "海澜电子智能装配工厂",
        Tier.excellent,
        "青岛市",
        "电子信息",
        3 * 365 - 150,
    ),
    (
        "91370600MA3E7LPN2K",
        "烟台鲁东化工新材料有限公司",
        "鲁东化工新材料智能工厂",
        Tier.advanced,
        "烟台市",
        "原材料",
        400,
    ),
    (
        "91370700MA3F5RTY6M",
        "潍坊北辰食品股份有限公司",
        "北辰食品数字化灌装工厂",
        Tier.advanced,
        "潍坊市",
        "消费品",
        300,
    ),
    ("91370100MA3G8JKW4X", "济南齐鲁精密仪表有限公司", "齐鲁精密仪表智能工厂", Tier.leading, "济南市", "装备制造", 180),
    ("91370300MA3H1MNB73", "淄博瑞丰纺织有限公司", "瑞丰纺织智能车间", Tier.basic, "淄博市", "消费品", 500),
]


def demo_reports(ctx: DemoContext) -> None:
    session, actor = ctx.session, ctx.actor
    today = today_beijing()
    certs = []
    for code, name, factory, tier, city, group, days_ago in DEMO_CERTIFICATIONS:
        certs.append(
            certifications.record_certification(
                session,
                actor=actor,
                credit_code=code,
                enterprise_name=name,
                factory_name=factory,
                tier=tier.value,
                valid_from=today - timedelta(days=days_ago),
                valid_to=None,
                city=city,
                industry_group=group,
                note="演示数据",
            )
        )
    ctx.objects["certifications"] = certs

    # 北辰食品 falsified its materials: revoked 40 days ago, banned for 3 years.
    revocations.revoke(
        session,
        actor=actor,
        certification_id=certs[3].id,  # type: ignore[arg-type]
        row_version=None,
        reason_category="falsified",
        revoked_on=today - timedelta(days=40),
        reason="经核实，申报材料中的设备联网率和数据采集覆盖率数据与现场情况严重不符。",
        banned_until=None,
        today=today,
    )
    # 鲁东化工 changed its controlling shareholder four months ago and has not filed it.
    certifications.record_major_change(
        session,
        actor=actor,
        certification_id=certs[2].id,  # type: ignore[arg-type]
        changed_on=rules.add_months(today, -4),
        filed_on=None,
        description="控股股东变更，主要生产线由母公司统一调整。",
        today=today,
    )

    staff = ctx.users.get("staff")
    staff_actor = Actor(staff.id, staff.username) if staff else actor
    # A letter against 海澜电子, accepted and under verification; the unit has let its reply deadline pass.
    received = today - timedelta(days=30)
    letter = whistleblowing.create_report(
        session,
        actor=staff_actor,
        settings=ctx.settings,
        channel="信函",
        received_on=received,
        certification_id=certs[1].id,
        application_id=None,
        target_name="",
        target_factory="",
        content="反映该工厂申报的“智能仓储”场景实际未建成，仓库仍以人工台账管理，请予核实。",
        reporter_name="赵某",
        reporter_contact="138****0000",
        uploads=[],
        today=today,
    )
    whistleblowing.take_step(
        session,
        actor=staff_actor,
        settings=ctx.settings,
        report_id=letter.id,
        code="accept",  # type: ignore[arg-type]
        row_version=letter.row_version,
        note="属于智能工厂信息真实性问题，予以受理。",
        values={},
        uploads=[],
        today=received + timedelta(days=2),
    )
    if staff:
        whistleblowing.take_step(
            session,
            actor=staff_actor,
            settings=ctx.settings,
            report_id=letter.id,
            code="start",  # type: ignore[arg-type]
            row_version=letter.row_version,
            note="请该单位书面说明智能仓储场景建设情况并提供佐证。",
            values={"handlers": [staff.id], "reply_deadline": received + timedelta(days=20)},
            uploads=[],
            today=received + timedelta(days=3),
        )
    # A report filed online against 华岳重工, waiting to be accepted.
    public.submit_public_report(
        session,
        settings=ctx.settings,
        client_addr="203.0.113.10",
        target_name="山东华岳重工机械有限公司",
        target_factory="",
        content="该企业宣传的数字化铸造工厂中，多个申报场景的系统并未实际上线运行。",
        reporter_name="",
        reporter_contact="",
        uploads=[],
        today=today,
    )
    figures.save_penetration(
        session,
        actor=actor,
        year=today.year - 1,
        total=4213,
        level2=1156,
        source="省统计局、智能制造能力成熟度自诊断平台",
        row_version=None,
    )
