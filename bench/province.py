"""A province's review day, generated deterministically from a seed.

Full size (the defaults): 2,000 formal-review-passed applications with plausible names, valid unified social credit
codes (GB 32100 check character), cities, industries and scenarios; 300 experts with employment histories and
declared relations, each with a login; 40 panels of 7; a 20-item criteria template (plus one gate); conflicts and the
assignment computed by the app's own automatic assignment; pledges signed; a submitted score sheet for every
assignment. One panel (the chair's, `big_panel`) can be grown to a given number of applications for the chair page.

Rounds, assignment and pledges go through the app's services; the bulk rows (enterprises, applications, sheets, item
scores) are inserted as the models' rows in batches, since 300,000 item scores through autosave would take longer
than the day itself. `build()` returns a `Province` with the ids the benchmark and the query-count tests need.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert, update
from sqlmodel import Session, select

from reviewapp.applications.models import (
    ENTERPRISE_NATURES,
    ENTERPRISE_SIZES,
    INDUSTRY_GROUPS,
    Application,
    ApplicationParty,
    ApplicationScenario,
    Enterprise,
    FormalStatus,
)
from reviewapp.applications.rules import credit_code_check_char
from reviewapp.audit import Actor
from reviewapp.auth.models import Role, User
from reviewapp.auth.passwords import hash_password
from reviewapp.panels import assignment
from reviewapp.panels import service as panels
from reviewapp.panels.models import Conflict, Expert, ExpertEmployment, ExpertRelation, Panel, PanelMember, Pledge
from reviewapp.ranking.models import PanelDecision
from reviewapp.rounds import service as rounds
from reviewapp.rounds.models import CriteriaNode, CriteriaVersion, Scenario, Tier
from reviewapp.scoring import rules as sheet_rules
from reviewapp.scoring.models import ItemScore, ScoreSheet
from reviewapp.scoring.sheets import scoring_items

PASSWORD = "bench-password-2026"
TODAY = date(2026, 9, 1)
CITIES = ("济南市", "青岛市", "淄博市", "枣庄市", "东营市", "烟台市", "潍坊市", "济宁市", "泰安市", "威海市", "日照市", "临沂市", "德州市", "聊城市", "滨州市", "菏泽市")  # fmt: skip
CITY_CODES = ("370100", "370200", "370300", "370400", "370500", "370600", "370700", "370800", "370900", "371000", "371100", "371300", "371400", "371500", "371600", "371700")  # fmt: skip
WORDS = ("华", "鲁", "泰", "瑞", "恒", "通", "新", "盛", "海", "科", "源", "达", "宏", "远", "金", "正", "信", "德", "鑫", "安")  # fmt: skip
TRADES = {
    "原材料": ("化工", "钢铁", "新材料", "建材", "有色金属"),
    "电子信息": ("电子", "光电", "半导体", "通信设备", "智能终端"),
    "装备制造": ("重工", "机械", "汽车零部件", "数控装备", "动力"),
    "消费品": ("食品", "纺织", "家电", "医药", "轻工"),
}
INDUSTRY_CODES = {"原材料": ("261", "2614"), "电子信息": ("397", "3971"), "装备制造": ("342", "3421"), "消费品": ("131", "1311")}  # fmt: skip
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ("建国", "立新", "海涛", "晓明", "志强", "文静", "丽华", "国栋", "振宇", "红梅", "永刚", "春生", "秀英", "伟", "敏")  # fmt: skip
TITLES = ("正高级工程师", "教授", "高级工程师", "研究员", "副教授")
DIMENSIONS = ("工厂建设", "研发设计", "生产作业", "生产管理", "运营管理")
OPINION = "该项目智能化场景建设较完整，数据贯通程度较高，建议推荐。"


def credit_code(rng: random.Random, city_index: int) -> str:
    """A valid 18-character unified social credit code: 91 (enterprise), the city's division code, an
    organisation code, and the GB 32100 check character."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "91" + CITY_CODES[city_index] + "".join(rng.choice(alphabet) for _ in range(9))
    return body + credit_code_check_char(body)


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


@dataclass
class Province:
    round_id: int
    criteria_version_id: int
    staff_username: str
    panel_ids: list[int]
    chair_panel_id: int
    chair_username: str
    expert_usernames: list[str]  # panel members, panel by panel
    application_ids: list[int]
    sheet_application: dict[str, int] = field(default_factory=dict)  # username -> one application of theirs
    applications: int = 0
    experts: int = 0
    sheets: int = 0
    conflicts: int = 0
    chair_panel_size: int = 0


def build(
    session: Session,
    *,
    seed: int = 2026,
    applications: int = 2000,
    experts: int = 300,
    panels_count: int = 40,
    panel_size: int = 7,
    items: int = 20,
    big_panel: int = 0,
    sheets: bool = True,
    assign: bool = True,
    timings: dict[str, float] | None = None,
) -> Province:
    """Build the day in `session` and commit it. `big_panel` > 0 moves applications into the first panel until it
    holds that many (only ones none of its members conflicts with)."""
    rng = random.Random(seed)
    actor = Actor.system("基准测试")
    now = datetime.now(UTC)
    password_hash = hash_password(PASSWORD)  # one hash for all: argon2 is slow on purpose

    staff = User(
        username="bench-staff", display_name="基准工作人员", role=Role.staff.value, password_hash=password_hash
    )
    session.add(staff)

    # The criteria template: `items` points items over five dimensions, and one gate.
    version = CriteriaVersion(name=f"基准要素条件（{items}项）", tier=Tier.advanced.value, is_template=True)
    session.add(version)
    session.flush()
    dims = []
    for d, title in enumerate(DIMENSIONS, start=1):
        dim = CriteriaNode(version_id=version.id, kind="dimension", code=f"D{d}", title=title, sort_order=d)  # type: ignore[arg-type]
        session.add(dim)
        dims.append(dim)
    session.flush()
    for n in range(items):
        dim = dims[n % len(dims)]
        session.add(
            CriteriaNode(
                version_id=version.id,  # type: ignore[arg-type]
                parent_id=dim.id,
                kind="points",
                code=f"{n % len(dims) + 1}.{n // len(dims) + 1}",
                title=f"{dim.title}评分项{n // len(dims) + 1}",
                max_points=Decimal(5),
                step=Decimal("0.5"),
                sort_order=n // len(dims) + 1,
            )
        )
    session.add(CriteriaNode(version_id=version.id, parent_id=dims[-1].id, kind="gate", code="G1", title="近三年无重大安全事故", max_points=Decimal(0), step=Decimal(0), sort_order=99))  # type: ignore[arg-type]  # fmt: skip
    session.flush()

    rnd = rounds.create_round(
        session,
        actor=actor,
        name="2026年度先进级智能工厂遴选（省级评审日）",
        tier="advanced",
        year=2026,
        tz=UTC,
        settings={"criteria_version_id": version.id, "scoring_deadline": now + timedelta(days=7)},
    )
    criteria_version_id = rnd.criteria_version_id
    nodes = session.exec(
        select(CriteriaNode).where(CriteriaNode.version_id == criteria_version_id).order_by(CriteriaNode.id)
    ).all()
    points = [n for n in nodes if n.kind == "points"]
    gates = [n for n in nodes if n.kind == "gate"]
    sheet_items = scoring_items(rounds.criteria_tree(session, criteria_version_id))  # type: ignore[arg-type]
    passed = {g.id: sheet_rules.Entry(gate=sheet_rules.GATE_PASS) for g in gates}
    scenarios = session.exec(select(Scenario).where(Scenario.catalogue_version == rnd.scenario_catalogue_version)).all()

    # Enterprises and their applications.
    groups = [
        (f"山东{rng.choice(WORDS)}{rng.choice(WORDS)}控股集团有限公司", credit_code(rng, g % 16)) for g in range(60)
    ]
    providers = [(f"{rng.choice(CITIES)[:-1]}{rng.choice(WORDS)}{rng.choice(WORDS)}工业软件有限公司", credit_code(rng, p % 16)) for p in range(150)]  # fmt: skip
    enterprises = []
    for n in range(applications):
        c = rng.randrange(len(CITIES))
        group_name = INDUSTRY_GROUPS[n % len(INDUSTRY_GROUPS)]
        trade = rng.choice(TRADES[group_name])
        name = f"{CITIES[c][:-1]}{rng.choice(WORDS)}{rng.choice(WORDS)}{trade}{'股份' if rng.random() < 0.3 else ''}有限公司"
        parent = groups[rng.randrange(len(groups))] if rng.random() < 0.25 else ("", "")
        mid, small = INDUSTRY_CODES[group_name]
        enterprises.append(
            Enterprise(
                credit_code=credit_code(rng, c),
                name=name,
                city=CITIES[c],
                group_name=parent[0],
                group_credit_code=parent[1],
                nature=rng.choice(ENTERPRISE_NATURES),
                size_type=rng.choice(ENTERPRISE_SIZES[:3]),
                industry_group=group_name,
                industry_mid=mid,
                industry_small=small,
            )
        )
    session.add_all(enterprises)
    session.flush()
    apps = [
        Application(
            round_id=rnd.id,  # type: ignore[arg-type]
            enterprise_id=e.id,  # type: ignore[arg-type]
            serial=n + 1,
            factory_name=f"{e.name.removesuffix('有限公司').removesuffix('股份')}智能工厂",
            project_name=f"{e.name[:4]}数字化车间改造项目",
            tier=Tier.advanced.value,
            maturity_score=Decimal(rng.randrange(200, 500)) / 100,
            maturity_level=rng.choice((2, 3, 3, 4)),
            formal_status=FormalStatus.passed.value,
            formal_decided_at=now - timedelta(days=10),
        )
        for n, e in enumerate(enterprises)
    ]
    session.add_all(apps)
    session.flush()
    app_ids = [a.id for a in apps]
    if scenarios:
        session.execute(
            insert(ApplicationScenario),
            [
                {"application_id": a, "scenario_id": s.id, "name": s.name, "stage": s.stage, "sort_order": k}
                for a in app_ids
                for k, s in enumerate(rng.sample(scenarios, min(8, len(scenarios))), start=1)
            ],
        )
    session.execute(
        insert(ApplicationParty),
        [{"application_id": a, "role": "provider", "name": p[0], "credit_code": p[1]}
         for a in app_ids for p in [rng.choice(providers)]],
    )  # fmt: skip

    # Experts: logins, histories, relations (some to applicants or providers, so conflicts exist).
    users = [
        User(
            username=f"expert{n:03d}", display_name=person(rng), role=Role.expert.value, password_hash=password_hash
        )  # fmt: skip
        for n in range(experts)
    ]
    session.add_all(users)
    session.flush()
    expert_rows = []
    for n, user in enumerate(users):
        roll = rng.random()
        if roll < 0.06:
            employer = rng.choice(providers)
        elif roll < 0.09:
            e = rng.choice(enterprises)
            employer = (e.name, e.credit_code)
        else:
            employer = (f"{rng.choice(('山东大学', '山东省科学院', '齐鲁工业大学', '山东省工业技术研究院'))}{n}室", "")
        expert_rows.append(
            Expert(
                user_id=user.id,
                name=user.display_name,
                employer=employer[0],
                employer_credit_code=employer[1],
                title=rng.choice(TITLES),
                city=rng.choice(CITIES),
                specialties_json=json.dumps([INDUSTRY_GROUPS[n % len(INDUSTRY_GROUPS)]], ensure_ascii=False),
            )
        )
    session.add_all(expert_rows)
    session.flush()
    jobs, relations = [], []
    for x in expert_rows:
        for k in range(3):
            e = rng.choice(enterprises) if rng.random() < 0.2 else None
            jobs.append({"expert_id": x.id, "employer": e.name if e else f"{x.employer}（前{k}）",
                         "credit_code": e.credit_code if e else "", "start": date(2005 + 6 * k, 3, 1),
                         "end": None if k == 2 else date(2010 + 6 * k, 6, 30)})  # fmt: skip
        for _k in range(2):
            e = rng.choice(enterprises)
            if rng.random() < 0.4:
                relations.append({"expert_id": x.id, "enterprise_name": e.name, "credit_code": e.credit_code,
                                  "relation": rng.choice(["亲属任职", "投资入股", "咨询服务"]), "since": date(2019, 1, 1),
                                  "until": None, "note": ""})  # fmt: skip
    session.execute(insert(ExpertEmployment), jobs)
    if relations:
        session.execute(insert(ExpertRelation), relations)

    # Panels of `panel_size`, industry group by group.
    panel_rows = [
        Panel(round_id=rnd.id, name=f"{INDUSTRY_GROUPS[p % 4]}第{p // 4 + 1}组", industry_group=INDUSTRY_GROUPS[p % 4])  # type: ignore[arg-type]
        for p in range(panels_count)
    ]
    session.add_all(panel_rows)
    session.flush()
    by_group = {g: [x for n, x in enumerate(expert_rows) if n % 4 == INDUSTRY_GROUPS.index(g)] for g in INDUSTRY_GROUPS}
    members: dict[int, list[Expert]] = {}
    for p, panel in enumerate(panel_rows):
        pool = by_group[panel.industry_group]
        k = p // 4
        chosen = pool[k * panel_size : (k + 1) * panel_size]
        if len(chosen) < panel_size:  # fewer experts than seats: reuse the pool (small sizes only)
            chosen = [pool[(k * panel_size + i) % len(pool)] for i in range(panel_size)]
        members[panel.id] = chosen  # type: ignore[index]
        for i, x in enumerate(chosen):
            session.add(PanelMember(panel_id=panel.id, expert_id=x.id, is_chair=i == 0))  # type: ignore[arg-type]
    session.flush()
    session.commit()

    conflicts = 0
    if assign:
        started = time.perf_counter()
        assignment.auto_assign(session, actor=actor, round_id=rnd.id, today=TODAY, mode="all")  # type: ignore[arg-type]
        session.commit()
        if timings is not None:
            timings["assign"] = time.perf_counter() - started
        conflicts = len(session.exec(select(Conflict.id).where(Conflict.round_id == rnd.id)).all())
    chair_panel = panel_rows[0]
    if big_panel:
        grow_panel(session, panel_id=chair_panel.id, round_id=rnd.id, size=big_panel)  # type: ignore[arg-type]

    # Pledges (text hash of the round's pledge) with the declaration done, for every member.
    pledge_sha = panels.pledge_hash(rnd.pledge_text)
    seen: set[int] = set()
    for xs in members.values():
        for x in xs:
            if x.id not in seen:
                seen.add(x.id)  # type: ignore[arg-type]
                session.add(Pledge(round_id=rnd.id, expert_id=x.id, pledge_text_sha256=pledge_sha, declaration_done_at=now))  # type: ignore[arg-type]  # fmt: skip
    session.flush()

    assigned = session.exec(
        select(Application.id, Application.panel_id).where(Application.round_id == rnd.id, Application.panel_id != None)  # noqa: E711
    ).all()
    conflict_pairs = set(session.exec(select(Conflict.expert_id, Conflict.application_id).where(Conflict.round_id == rnd.id)).all())  # fmt: skip
    n_sheets = 0
    first_app: dict[str, int] = {}
    username = {u.id: u.username for u in users}
    if sheets:
        half = [Decimal(k) / 2 for k in range(11)]
        sheet_rows, score_rows = [], []
        next_id = (session.exec(select(ScoreSheet.id).order_by(ScoreSheet.id.desc())).first() or 0) + 1  # type: ignore[union-attr]
        for app_id, panel_id in assigned:
            quality = rng.uniform(2.0, 4.6)
            for m, x in enumerate(members[panel_id]):
                if (x.id, app_id) in conflict_pairs:
                    continue
                values = [half[max(0, min(10, round((quality + (m - 3) * 0.15 + rng.gauss(0, 0.6)) * 2)))] for _ in points]  # fmt: skip
                sheet_rows.append({"id": next_id, "round_id": rnd.id, "panel_id": panel_id, "application_id": app_id,
                                   "expert_id": x.id, "criteria_version_id": criteria_version_id, "status": "submitted",
                                   "opinion": OPINION, "total": sum(values, Decimal(0)), "returned_reason": "",
                                   "submitted_at": now, "created_at": now, "updated_at": now, "row_version": 2,
                                   "summary_json": sheet_rules.summary_json(sheet_items, {**passed, **{
                                       node.id: sheet_rules.Entry(value=v) for node, v in zip(points, values, strict=True)}})})  # fmt: skip
                score_rows.extend({"sheet_id": next_id, "node_id": node.id, "value": v, "justification": ""}
                                  for node, v in zip(points, values, strict=True))  # fmt: skip
                score_rows.extend({"sheet_id": next_id, "node_id": g.id, "gate": "pass", "justification": ""} for g in gates)  # fmt: skip
                first_app.setdefault(username[x.user_id], app_id)
                next_id += 1
        for start in range(0, len(sheet_rows), 5000):
            session.execute(insert(ScoreSheet), sheet_rows[start : start + 5000])
        for start in range(0, len(score_rows), 20000):
            session.execute(insert(ItemScore), score_rows[start : start + 20000])
        n_sheets = len(sheet_rows)
        # Every panel's decisions recorded (about two thirds recommended); every panel but the chair's finalized,
        # so the recommendation list holds the round and the chair's page is the one still being worked on.
        session.execute(
            insert(PanelDecision),
            [{"panel_id": panel_id, "application_id": app_id, "recommend": rng.random() < 0.67,
              "group_opinion": "专家组认为该项目场景建设完整、成效明显。", "manual_position": None, "move_reason": "",
              "updated_at": now, "row_version": 1} for app_id, panel_id in assigned],
        )  # fmt: skip
        session.execute(
            update(Panel).where(Panel.round_id == rnd.id, Panel.id != chair_panel.id)
            .values(finalized_at=now, group_opinion="同意推荐。")
        )  # fmt: skip
    else:
        for app_id, panel_id in assigned:
            for x in members[panel_id]:
                if (x.id, app_id) not in conflict_pairs:
                    first_app.setdefault(username[x.user_id], app_id)
    session.commit()
    ordered = [username[x.user_id] for xs in members.values() for x in xs]
    return Province(
        round_id=rnd.id,  # type: ignore[arg-type]
        criteria_version_id=criteria_version_id,  # type: ignore[arg-type]
        staff_username=staff.username,
        panel_ids=[p.id for p in panel_rows],  # type: ignore[misc]
        chair_panel_id=chair_panel.id,  # type: ignore[arg-type]
        chair_username=username[members[chair_panel.id][0].user_id],  # type: ignore[index]
        expert_usernames=list(dict.fromkeys(ordered)),
        application_ids=app_ids,  # type: ignore[arg-type]
        sheet_application=first_app,
        applications=applications,
        experts=experts,
        sheets=n_sheets,
        conflicts=conflicts,
        chair_panel_size=sum(1 for _a, p in assigned if p == chair_panel.id),
    )


def grow_panel(session: Session, *, panel_id: int, round_id: int, size: int) -> None:
    """Move applications no member of the panel conflicts with into it until it holds `size`."""
    member_ids = set(session.exec(select(PanelMember.expert_id).where(PanelMember.panel_id == panel_id)).all())
    blocked = set(
        session.exec(
            select(Conflict.application_id).where(Conflict.round_id == round_id, Conflict.expert_id.in_(member_ids))  # type: ignore[attr-defined]
        ).all()
    )
    have = session.exec(select(Application.id).where(Application.panel_id == panel_id)).all()
    candidates = session.exec(
        select(Application.id)
        .where(Application.round_id == round_id, Application.formal_status == FormalStatus.passed.value)
        .where((Application.panel_id != panel_id) | (Application.panel_id == None))  # noqa: E711
        .order_by(Application.id)
    ).all()
    move = [a for a in candidates if a not in blocked][: max(0, size - len(have))]
    if move:
        session.execute(update(Application).where(Application.id.in_(move)).values(panel_id=panel_id))  # type: ignore[attr-defined]
    session.commit()
