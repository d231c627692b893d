"""Demo data for experts and panels: a pool of 21 experts (three panels of seven), the demo expert logins linked, panels, assignment."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from reviewapp.applications.models import INDUSTRY_GROUPS, Application, ApplicationParty, Enterprise
from reviewapp.clock import today_beijing
from reviewapp.demo.context import DemoContext, demo_credit_code
from reviewapp.panels import assignment, membership
from reviewapp.panels import experts as pool
from reviewapp.panels.models import Expert

# name, title, employer, city, specialties. The first five become the demo logins expert1..expert5.
EXPERTS = [
    ("李建国", "正高级工程师", "山东省智能制造研究院", "济南市", ["装备制造", "电子信息"]),
    ("张晓梅", "教授", "山东大学机械工程学院", "济南市", ["装备制造"]),
    ("陈志强", "研究员", "山东省科学院自动化研究所", "济南市", ["电子信息", "装备制造"]),
    ("刘海燕", "教授级高工", "青岛智能装备创新中心", "青岛市", ["装备制造", "消费品"]),
    ("赵文博", "副教授", "中国石油大学（华东）控制科学与工程学院", "青岛市", ["原材料"]),
    ("王立新", "正高级工程师", "烟台工业互联网研究院", "烟台市", ["装备制造"]),
    ("孙丽华", "教授", "青岛科技大学自动化与电子工程学院", "青岛市", ["原材料", "消费品"]),
    ("周国栋", "高级工程师", "潍坊先进制造产业技术研究院", "潍坊市", ["装备制造"]),
    ("吴春燕", "研究员", "山东省计量科学研究院", "济南市", ["电子信息"]),
    ("郑宏伟", "正高级工程师", "淄博新材料产业研究院", "淄博市", ["原材料"]),
    ("冯雪", "副研究员", "济南数字经济研究中心", "济南市", ["电子信息"]),
    ("黄志明", "教授", "山东理工大学机械工程学院", "淄博市", ["装备制造", "原材料"]),
    ("胡斌", "正高级工程师", "威海信息技术应用创新中心", "威海市", ["电子信息"]),
    ("郭宇", "副教授", "山东建筑大学信息与电气工程学院", "济南市", ["电子信息", "装备制造"]),
    ("林涛", "高级工程师", "东营石化智能制造服务中心", "东营市", ["原材料"]),
    ("高鹏", "正高级工程师", "济宁工程机械技术研究院", "济宁市", ["装备制造", "电子信息"]),
    ("罗晓东", "教授", "中国海洋大学工程学院", "青岛市", ["消费品", "原材料"]),
    ("梁欣", "高级工程师", "滨州铝产业技术研究院", "滨州市", ["原材料"]),
    ("宋佳", "副研究员", "日照钢铁工业技术研究中心", "日照市", ["原材料"]),
    ("谢伟", "高级工程师", "聊城电子元器件检测中心", "聊城市", ["电子信息"]),
    ("唐亮", "正高级工程师", "泰安智能装备产业研究院", "泰安市", ["装备制造", "电子信息"]),
]

PAST_EMPLOYERS = [
    "浪潮电子信息产业股份有限公司",
    "潍柴动力股份有限公司",
    "海尔集团公司",
    "山东钢铁集团有限公司",
    "中国重汽集团济南动力有限公司",
]


def panels_step(ctx: DemoContext) -> None:
    db, actor = ctx.session, ctx.actor
    today = today_beijing()
    made = []
    for n, (name, title, employer, city, groups) in enumerate(EXPERTS, start=1):
        expert = pool.create_expert(
            db,
            actor=actor,
            values={
                "name": name,
                "id_number_hint": f"{(n * 379) % 10000:04d}",
                "employer": employer,
                "employer_credit_code": demo_credit_code(employer),
                "title": title,
                "specialties": groups,
                "city": city,
                "phone": f"1380531{n:04d}",
                "email": f"expert{n:02d}@example.cn",
                "active": True,
            },
        )
        past = PAST_EMPLOYERS[n % len(PAST_EMPLOYERS)]
        pool.add_employment(
            db, actor=actor, expert_id=expert.id, employer=past, credit_code="",
            start=date(2008 + n % 6, 7, 1), end=date(2014 + n % 5, 6, 30), today=today,
        )  # fmt: skip
        pool.add_employment(
            db, actor=actor, expert_id=expert.id, employer=employer, credit_code=demo_credit_code(employer),
            start=date(2015 + n % 5, 9, 1), end=None, today=today,
        )  # fmt: skip
        made.append(expert)
    ctx.objects["experts"] = made

    # The demo expert logins are these experts (linking is what bulk account creation does for real ones).
    for i, username in enumerate(["expert1", "expert2", "expert3", "expert4", "expert5"]):
        user = ctx.users.get(username)
        if user is not None:
            made[i].user_id = user.id
            db.add(made[i])
    db.flush()

    rnd = ctx.objects.get("round")
    if rnd is None:
        return  # no round in this dataset: the pool alone
    apps: list[Application] = list(ctx.objects.get("applications") or [])
    _tie_experts_to_applications(ctx, made, apps, today)

    by_group = {g: [e for e in made if g in pool.specialties_of(e)] for g in INDUSTRY_GROUPS}
    used: set[int] = set()
    panels = []
    # expert1 (李建国) chairs the 装备制造 panel, the one most demo applications fall into.
    order = ["装备制造", "电子信息", "原材料"]  # the demo's applications fall into these three; seven experts each
    for group in order:
        candidates = [e for e in by_group[group] if e.id not in used]
        if group == "装备制造":
            candidates.sort(key=lambda e: e.id != made[0].id)
        chosen = candidates[:7]
        if not chosen:
            continue
        panel = membership.create_panel(db, actor=actor, round_id=rnd.id, name=f"{group}评审组", industry_group=group)
        for expert in chosen:
            membership.add_member(db, actor=actor, panel_id=panel.id, expert_id=expert.id, today=today)
            used.add(expert.id)
        panels.append(panel)
    ctx.objects["panels"] = panels
    if apps:
        assignment.auto_assign(db, actor=actor, round_id=rnd.id, today=today)


def _tie_experts_to_applications(ctx: DemoContext, made: list[Expert], apps: list[Application], today: date) -> None:
    """A few real conflicts with the demo applications, one per rule, so the exclusion pages have content."""
    db, actor = ctx.session, ctx.actor
    enterprises = [db.get(Enterprise, a.enterprise_id) for a in apps]
    pairs = [(a, e) for a, e in zip(apps, enterprises, strict=True) if e is not None]
    if len(pairs) < 3:
        return
    (a0, e0), (_a1, e1), (_a2, e2) = pairs[0], pairs[1], pairs[2]
    # 周国栋 worked at the first applicant until two years ago.
    pool.add_employment(
        db, actor=actor, expert_id=made[7].id, employer=e0.name, credit_code=e0.credit_code,
        start=date(today.year - 6, 3, 1), end=date(today.year - 2, 5, 31), today=today,
    )  # fmt: skip
    # 刘海燕's sister works at the second applicant.
    pool.add_relation(
        db, actor=actor, expert_id=made[3].id, enterprise_name=e1.name, credit_code=e1.credit_code,
        relation="亲属任职", since=date(today.year - 3, 1, 1), until=None, note="胞妹在该企业任生产部经理", today=today,
    )  # fmt: skip
    # 高鹏 holds shares in the third applicant.
    pool.add_relation(
        db, actor=actor, expert_id=_named(made, "高鹏").id, enterprise_name=e2.name, credit_code=e2.credit_code,
        relation="投资入股", since=date(today.year - 5, 6, 1), until=None, note="", today=today,
    )  # fmt: skip
    # 陈志强 also works, part-time and still, for the solution provider of the first application, when it names one.
    party = db.exec(select(ApplicationParty).where(ApplicationParty.application_id == a0.id)).first()
    if party is not None:
        pool.add_employment(
            db, actor=actor, expert_id=made[2].id, employer=party.name, credit_code=party.credit_code,
            start=date(today.year - 1, 3, 1), end=None, today=today,
        )  # fmt: skip


def _named(made: list[Expert], name: str) -> Expert:
    return next(e for e in made if e.name == name)
