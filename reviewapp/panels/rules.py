"""Pure conflict-of-interest rules (回避) and the balanced assignment of applications to panels.

Nothing here touches a Session, a request or the clock: callers pass plain facts and `today`.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from reviewapp.panels.models import CONFLICT_RULE_LABELS, ConflictRule

# --- facts the rules look at ----------------------------------------------------------------------


@dataclass(frozen=True)
class Employment:
    employer: str
    credit_code: str = ""
    start: date | None = None
    end: date | None = None  # None: still employed there


@dataclass(frozen=True)
class Relation:
    enterprise_name: str
    relation: str  # one of RELATION_KINDS
    credit_code: str = ""
    since: date | None = None
    until: date | None = None
    note: str = ""


@dataclass(frozen=True)
class ExpertFacts:
    id: int
    name: str
    employer: str = ""
    employer_credit_code: str = ""
    city: str = ""
    employments: tuple[Employment, ...] = ()
    relations: tuple[Relation, ...] = ()


@dataclass(frozen=True)
class Party:
    role: str  # applications.models.PartyRole: provider | consultant
    name: str
    credit_code: str = ""


@dataclass(frozen=True)
class ApplicationFacts:
    id: int
    enterprise_name: str
    credit_code: str = ""
    group_name: str = ""
    group_credit_code: str = ""
    city: str = ""
    parties: tuple[Party, ...] = ()


@dataclass(frozen=True)
class CoiSettings:
    """Which automatic rules a round applies (Round.coi_*); declarations always apply."""

    same_credit_code: bool = True
    employment: bool = True
    employment_years: int = 3
    provider: bool = True
    declared_relation: bool = True
    same_city: bool = False

    @classmethod
    def of_round(cls, rnd: object) -> CoiSettings:
        return cls(
            same_credit_code=rnd.coi_same_credit_code,  # type: ignore[attr-defined]
            employment=rnd.coi_employment,  # type: ignore[attr-defined]
            employment_years=rnd.coi_employment_years,  # type: ignore[attr-defined]
            provider=rnd.coi_provider,  # type: ignore[attr-defined]
            declared_relation=rnd.coi_declared_relation,  # type: ignore[attr-defined]
            same_city=rnd.coi_same_city,  # type: ignore[attr-defined]
        )


@dataclass(frozen=True)
class Finding:
    rule: ConflictRule
    evidence: str

    @property
    def label(self) -> str:
        return CONFLICT_RULE_LABELS[self.rule]


PARTY_LABELS = {"provider": "系统解决方案供应商", "consultant": "咨询服务机构"}

# --- matching organisations -----------------------------------------------------------------------

_NAME_NOISE = re.compile(r"[\s·•.,，。、\"'“”‘’]")


# Pure and called for every name of every application on an expert's list, with the same few thousand names
# again and again: remembered (the expert's home spent a fifth of its time normalising).
@functools.lru_cache(maxsize=65536)
def normalise_org_name(name: str) -> str:
    """Names compared loosely: half-width, no spaces or punctuation noise, one kind of bracket, upper case."""
    text = unicodedata.normalize("NFKC", name or "")
    text = text.replace("（", "(").replace("）", ")")
    return _NAME_NOISE.sub("", text).upper()


@functools.lru_cache(maxsize=4096)
def normalise_city(city: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", city or ""))


def same_org(code_a: str, name_a: str, code_b: str, name_b: str) -> bool:
    """Two organisations are the same when their credit codes agree; when either code is missing, by exact
    normalised name (codes, when both present, decide: two firms may share a name across provinces)."""
    if code_a and code_b:
        return code_a == code_b
    na = normalise_org_name(name_a)
    return bool(na) and na == normalise_org_name(name_b)


def _how(code_a: str, code_b: str) -> str:
    return "统一社会信用代码相同" if code_a and code_b else "单位名称相同"


def ym(value: date) -> str:
    return f"{value.year:04d}-{value.month:02d}"


def years_before(today: date, years: int) -> date:
    """The same calendar day `years` earlier (29 February falls back to the 28th)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def employment_cutoff(today: date, years: int) -> date:
    """Employment that ended on or after this day is "within N years" of `today` (the boundary day counts)."""
    return years_before(today, years)


def is_current(employment: Employment, today: date) -> bool:
    return employment.end is None or employment.end >= today


def relation_active(relation: Relation, today: date) -> bool:
    started = relation.since is None or relation.since <= today
    not_ended = relation.until is None or relation.until >= today
    return started and not_ended


def current_employers(expert: ExpertFacts, today: date) -> list[tuple[str, str]]:
    """(name, credit code) of the organisations the expert works for today: the profile's employer and any
    history entry without an end (or ending in the future)."""
    orgs: list[tuple[str, str]] = []
    if expert.employer or expert.employer_credit_code:
        orgs.append((expert.employer, expert.employer_credit_code))
    for job in expert.employments:
        if is_current(job, today) and (job.employer, job.credit_code) not in orgs:
            orgs.append((job.employer, job.credit_code))
    return orgs


def _applicant_targets(app: ApplicationFacts) -> list[tuple[str, str, str]]:
    """(kind, name, code) of what "the applicant or its group" means for one application."""
    targets = [("enterprise", app.enterprise_name, app.credit_code)]
    if app.group_name or app.group_credit_code:
        targets.append(("group", app.group_name, app.group_credit_code))
    return targets


# --- the rules, one function each -----------------------------------------------------------------


def rule_same_credit_code(expert: ExpertFacts, app: ApplicationFacts) -> Finding | None:
    """The expert's unit is the applicant, or the applicant's group."""
    if not (expert.employer or expert.employer_credit_code):
        return None
    for kind, name, code in _applicant_targets(app):
        if same_org(expert.employer_credit_code, expert.employer, code, name):
            how = _how(expert.employer_credit_code, code)
            if kind == "enterprise":
                return Finding(ConflictRule.same_credit_code, f"专家所在单位（{expert.employer}）即申报单位（{how}）")
            return Finding(
                ConflictRule.same_credit_code,
                f"专家所在单位（{expert.employer}）为申报单位所属集团（{name}）（{how}）",
            )
    return None


def _employment_words(job: Employment, where: str, years: int, today: date) -> str:
    if is_current(job, today):
        return f"{ym(job.start)} 起在{where}任职" if job.start else f"现在{where}任职"
    period = f"{ym(job.start)} 至 {ym(job.end)}" if job.start else f"至 {ym(job.end)}"  # type: ignore[arg-type]
    return f"{period} 在{where}任职（离职未满 {years} 年）"


def rule_employment(expert: ExpertFacts, app: ApplicationFacts, *, today: date, years: int) -> Finding | None:
    """The expert worked at the applicant (or its group) and left fewer than `years` years ago, or still works there."""
    cutoff = employment_cutoff(today, years)
    words: list[str] = []
    for job in expert.employments:
        if job.end is not None and job.end < cutoff:
            continue
        for kind, name, code in _applicant_targets(app):
            if same_org(job.credit_code, job.employer, code, name):
                where = "该企业" if kind == "enterprise" else f"申报单位所属集团（{name}）"
                words.append(_employment_words(job, where, years, today))
                break
    if not words:
        return None
    return Finding(ConflictRule.employment, "；".join(words))


def rule_provider(expert: ExpertFacts, app: ApplicationFacts, *, today: date) -> Finding | None:
    """The expert's unit is a solution provider (系统解决方案供应商) or consultant on the application."""
    words: list[str] = []
    for emp_name, emp_code in current_employers(expert, today):
        for party in app.parties:
            if same_org(emp_code, emp_name, party.credit_code, party.name):
                text = f"申报项目的{PARTY_LABELS.get(party.role, party.role)}为专家所在单位（{party.name}）"
                if text not in words:
                    words.append(text)
    if not words:
        return None
    return Finding(ConflictRule.provider, "；".join(words))


def _relation_period(relation: Relation) -> str:
    if relation.since and relation.until:
        return f"{relation.since.isoformat()} 至 {relation.until.isoformat()}"
    if relation.since:
        return f"{relation.since.isoformat()} 起"
    if relation.until:
        return f"至 {relation.until.isoformat()}"
    return "未填起止时间"


def rule_declared_relation(expert: ExpertFacts, app: ApplicationFacts, *, today: date) -> Finding | None:
    """A relation the expert entered in the profile (亲属任职, 投资入股, …) that is active today."""
    words: list[str] = []
    for relation in expert.relations:
        if not relation_active(relation, today):
            continue
        for _kind, name, code in _applicant_targets(app):
            if same_org(relation.credit_code, relation.enterprise_name, code, name):
                note = f"；{relation.note}" if relation.note else ""
                words.append(
                    f"专家登记的利害关系：{relation.relation}，涉及{relation.enterprise_name}"
                    f"（{_relation_period(relation)}）{note}"
                )
                break
    if not words:
        return None
    return Finding(ConflictRule.declared_relation, "；".join(words))


def rule_same_city(expert: ExpertFacts, app: ApplicationFacts) -> Finding | None:
    city = normalise_city(expert.city)
    if city and city == normalise_city(app.city):
        return Finding(ConflictRule.same_city, f"专家与申报单位同在{expert.city}")
    return None


def conflicts_between(
    expert: ExpertFacts, app: ApplicationFacts, *, settings: CoiSettings, today: date
) -> list[Finding]:
    """Every automatic rule the round switches on, in a fixed order. Declarations are stored, not computed."""
    found: list[Finding | None] = []
    if settings.same_credit_code:
        found.append(rule_same_credit_code(expert, app))
    if settings.employment:
        found.append(rule_employment(expert, app, today=today, years=settings.employment_years))
    if settings.provider:
        found.append(rule_provider(expert, app, today=today))
    if settings.declared_relation:
        found.append(rule_declared_relation(expert, app, today=today))
    if settings.same_city:
        found.append(rule_same_city(expert, app))
    return [f for f in found if f is not None]


# --- many experts against many applications -------------------------------------------------------


class _OrgIndex:
    """Applications reachable from an organisation under `same_org`, without comparing every pair."""

    def __init__(self) -> None:
        self.by_code: dict[str, set[int]] = defaultdict(set)
        self.by_name: dict[str, set[int]] = defaultdict(set)
        self.by_name_without_code: dict[str, set[int]] = defaultdict(set)

    def add(self, app_id: int, name: str, code: str) -> None:
        key = normalise_org_name(name)
        if code:
            self.by_code[code].add(app_id)
        if key:
            self.by_name[key].add(app_id)
            if not code:
                self.by_name_without_code[key].add(app_id)

    def lookup(self, name: str, code: str) -> set[int]:
        key = normalise_org_name(name)
        if code:
            return self.by_code.get(code, set()) | self.by_name_without_code.get(key, set())
        return set(self.by_name.get(key, set())) if key else set()


def find_conflicts(
    experts: Iterable[ExpertFacts],
    applications: Iterable[ApplicationFacts],
    *,
    settings: CoiSettings,
    today: date,
) -> dict[tuple[int, int], list[Finding]]:
    """All automatic conflicts, keyed (expert id, application id). Same answer as `conflicts_between` on every
    pair, but only pairs that share an organisation (or a city) are examined."""
    experts = list(experts)
    if len(experts) == 1:
        return _conflicts_of_one(experts[0], applications, settings=settings, today=today)
    apps = {a.id: a for a in applications}
    index = _OrgIndex()
    by_city: dict[str, set[int]] = defaultdict(set)
    for app in apps.values():
        for _kind, name, code in _applicant_targets(app):
            index.add(app.id, name, code)
        for party in app.parties:
            index.add(app.id, party.name, party.credit_code)
        city = normalise_city(app.city)
        if city:
            by_city[city].add(app.id)
    result: dict[tuple[int, int], list[Finding]] = {}
    for expert in experts:
        candidates: set[int] = set()
        if expert.employer or expert.employer_credit_code:
            candidates |= index.lookup(expert.employer, expert.employer_credit_code)
        for job in expert.employments:
            candidates |= index.lookup(job.employer, job.credit_code)
        for relation in expert.relations:
            candidates |= index.lookup(relation.enterprise_name, relation.credit_code)
        if settings.same_city:
            candidates |= by_city.get(normalise_city(expert.city), set())
        for app_id in candidates:
            findings = conflicts_between(expert, apps[app_id], settings=settings, today=today)
            if findings:
                result[(expert.id, app_id)] = findings
    return result


class ExpertReach:
    """One expert's organisations, indexed the other way round from _OrgIndex: an organisation (name, code) of an
    application is reached from one of the expert's (name', code') when both codes are present and equal, or when
    code' is missing and the names agree, or when code is missing and the names agree. An application none of
    whose organisations (enterprise, group, parties) is reached, in another city than the expert's, has no
    automatic conflict with the expert: callers may leave it out before building its facts."""

    def __init__(self, expert: ExpertFacts) -> None:
        self.codes: set[str] = set()
        self.names_any: set[str] = set()  # of organisations without a code: any application name matches
        self.names_codeless: set[str] = set()  # of those with a code: only an application name without one
        orgs = (
            [(expert.employer, expert.employer_credit_code)] if expert.employer or expert.employer_credit_code else []
        )
        orgs += [(job.employer, job.credit_code) for job in expert.employments]
        orgs += [(relation.enterprise_name, relation.credit_code) for relation in expert.relations]
        for name, code in orgs:
            key = normalise_org_name(name)
            if code:
                self.codes.add(code)
                if key:
                    self.names_codeless.add(key)
            elif key:
                self.names_any.add(key)
        self.city = normalise_city(expert.city)

    def reaches(self, name: str, code: str) -> bool:
        if code and code in self.codes:
            return True
        key = normalise_org_name(name)
        return bool(key) and (key in self.names_any or (not code and key in self.names_codeless))

    def same_city(self, city: str) -> bool:
        return bool(self.city) and normalise_city(city) == self.city

    def may_conflict(self, app: ApplicationFacts, *, same_city: bool = True) -> bool:
        """False only when no rule can find a conflict (`same_city`: whether the city rule is on)."""
        return (
            (same_city and self.same_city(app.city))
            or any(self.reaches(name, code) for _kind, name, code in _applicant_targets(app))
            or any(self.reaches(party.name, party.credit_code) for party in app.parties)
        )


def _conflicts_of_one(
    expert: ExpertFacts, applications: Iterable[ApplicationFacts], *, settings: CoiSettings, today: date
) -> dict[tuple[int, int], list[Finding]]:
    """find_conflicts for one expert (the expert's own pages, against a panel's applications): the expert's few
    organisations are indexed (ExpertReach) instead of every application's."""
    reach = ExpertReach(expert)
    result: dict[tuple[int, int], list[Finding]] = {}
    for app in applications:
        if not reach.may_conflict(app, same_city=settings.same_city):
            continue
        findings = conflicts_between(expert, app, settings=settings, today=today)
        if findings:
            result[(expert.id, app.id)] = findings
    return result


# --- assignment -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PanelSlot:
    id: int
    name: str
    industry_group: str
    member_ids: frozenset[int]


@dataclass(frozen=True)
class AppSlot:
    id: int
    industry_group: str
    label: str = ""


@dataclass
class AssignmentPlan:
    placements: dict[int, int] = field(default_factory=dict)  # application id -> panel id
    unplaced: dict[int, str] = field(default_factory=dict)  # application id -> why, in Chinese
    loads: dict[int, int] = field(default_factory=dict)  # panel id -> applications after the plan


def eligible_scorers(member_ids: Iterable[int], conflicted: Iterable[int]) -> int:
    """How many members of a panel may score an application: members minus those with any conflict."""
    return len(set(member_ids) - set(conflicted))


def eligible_panels(
    app: AppSlot, panels: Sequence[PanelSlot], conflicted: Mapping[int, object], *, min_scorers: int
) -> list[int]:
    """Panels of the application's industry group with at least `min_scorers` conflict-free members."""
    return [
        p.id
        for p in panels
        if app.industry_group
        and p.industry_group == app.industry_group
        and eligible_scorers(p.member_ids, conflicted.keys()) >= min_scorers
    ]


def explain_unplaceable(
    app: AppSlot,
    panels: Sequence[PanelSlot],
    conflicted: Mapping[int, str],
    *,
    min_scorers: int,
    expert_names: Mapping[int, str],
) -> str:
    """Why no panel can take this application, in words staff can act on."""
    if not app.industry_group:
        return "申报单位未填写所属行业，无法匹配专家组。"
    same_group = [p for p in panels if p.industry_group == app.industry_group]
    if not same_group:
        return f"本批次没有「{app.industry_group}」行业的专家组，请先建立专家组。"
    parts: list[str] = []
    for p in same_group:
        excluded = [e for e in sorted(p.member_ids) if e in conflicted]
        free = len(p.member_ids) - len(excluded)
        text = f"{p.name}共 {len(p.member_ids)} 人，回避后可评分 {free} 人"
        if excluded:
            who = "、".join(f"{expert_names.get(e, f'专家{e}')}（{conflicted[e]}）" for e in excluded)
            text += f"，须回避：{who}"
        parts.append(text)
    return (
        f"「{app.industry_group}」行业的专家组中，回避后可评分专家均不足 {min_scorers} 人：" + "；".join(parts) + "。"
    )


def balance(
    options: Mapping[int, Sequence[int]], *, panel_ids: Iterable[int], base_load: Mapping[int, int] | None = None
) -> dict[int, int]:
    """Give every application (key) one of its allowed panels so that loads are as even as the options allow.

    This is the semi-matching problem (Harvey, Ladner, Lovász, Tamir 2006): an assignment minimises the sum of
    squared loads — and with it the largest load — exactly when no *cost-reducing path* exists, i.e. no chain
    p0 → a1 → p1 → … → pk where each ai sits in p(i-1), may move to pi, and load(pk) ≤ load(p0) − 2.
    A greedy start (fewest options first, least-loaded panel) is improved by shifting along such paths until
    none is left. `base_load` counts applications already in a panel that this plan does not move.
    """
    load = {p: 0 for p in panel_ids}
    for p, n in (base_load or {}).items():
        load[p] = load.get(p, 0) + n
    placed: dict[int, int] = {}
    members: dict[int, set[int]] = defaultdict(set)  # panel -> applications this plan placed there
    for app_id in sorted(options, key=lambda a: (len(options[a]), a)):
        allowed = options[app_id]
        if not allowed:
            continue
        best = min(allowed, key=lambda p: (load.get(p, 0), p))
        placed[app_id] = best
        members[best].add(app_id)
        load[best] = load.get(best, 0) + 1

    while True:
        found = _cost_reducing_path(options, members, load)
        if found is None:
            return placed
        start, path = found
        # Shift along the path: each application moves one step; the first panel loses one, the last gains one.
        for app_id, target in path:
            members[placed[app_id]].discard(app_id)
            members[target].add(app_id)
            placed[app_id] = target
        load[start] -= 1
        load[path[-1][1]] += 1


def _cost_reducing_path(
    options: Mapping[int, Sequence[int]],
    members: Mapping[int, set[int]],
    load: Mapping[int, int],
) -> tuple[int, list[tuple[int, int]]] | None:
    """(start panel, [(application, panel it moves to), ...]) of a cost-reducing path, or None."""
    for start in sorted(load, key=lambda p: (-load[p], p)):
        if load[start] < 2:
            return None  # no panel can hand an application to one at least two lighter
        parent: dict[int, tuple[int, int] | None] = {start: None}  # panel -> (application, previous panel)
        queue = deque([start])
        best: int | None = None
        while queue:
            panel = queue.popleft()
            for app_id in sorted(members.get(panel, ())):
                for nxt in options[app_id]:
                    if nxt in parent:
                        continue
                    parent[nxt] = (app_id, panel)
                    queue.append(nxt)
                    if load.get(nxt, 0) <= load[start] - 2 and (best is None or load[nxt] < load[best]):
                        best = nxt
        if best is not None:
            steps: list[tuple[int, int]] = []
            node = best
            while (link := parent[node]) is not None:
                app_id, prev = link
                steps.append((app_id, node))
                node = prev
            steps.reverse()
            return start, steps
    return None


def plan_assignment(
    applications: Sequence[AppSlot],
    panels: Sequence[PanelSlot],
    conflicts: Mapping[int, Mapping[int, str]],
    *,
    min_scorers: int,
    base_load: Mapping[int, int] | None = None,
    expert_names: Mapping[int, str] | None = None,
) -> AssignmentPlan:
    """Place each application in a panel of its industry group where at least `min_scorers` members are
    conflict-free, loads as even as possible; say why for each application that cannot be placed.

    `conflicts` maps application id -> {conflicted expert id: short reason}.
    """
    plan = AssignmentPlan()
    options: dict[int, list[int]] = {}
    for app in applications:
        conflicted = conflicts.get(app.id, {})
        allowed = eligible_panels(app, panels, conflicted, min_scorers=min_scorers)
        if allowed:
            options[app.id] = allowed
        else:
            plan.unplaced[app.id] = explain_unplaceable(
                app, panels, conflicted, min_scorers=min_scorers, expert_names=expert_names or {}
            )
    # Panels of different industry groups never share an application, so each group is balanced on its own
    # (the path search never crosses groups anyway; splitting keeps each search small).
    by_group: dict[str, dict[int, list[int]]] = defaultdict(dict)
    group_of = {a.id: a.industry_group for a in applications}
    for app_id, allowed in options.items():
        by_group[group_of[app_id]][app_id] = allowed
    for group, group_options in by_group.items():
        group_panels = [p.id for p in panels if p.industry_group == group]
        group_base = {p: (base_load or {}).get(p, 0) for p in group_panels}
        plan.placements.update(balance(group_options, panel_ids=group_panels, base_load=group_base))
    plan.loads = {p.id: (base_load or {}).get(p.id, 0) for p in panels}
    for panel_id in plan.placements.values():
        plan.loads[panel_id] += 1
    return plan


def max_spread(loads: Mapping[int, int], panel_ids: Iterable[int]) -> int:
    values = [loads.get(p, 0) for p in panel_ids]
    return (max(values) - min(values)) if values else 0


def month_end(value: date) -> date:
    """The last day of `value`'s month: an employment "to 2021-06" lasted until 2021-06-30."""
    first_next = (value.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first_next - timedelta(days=1)


# --- expert profile values (forms and Excel import share these) -----------------------------------

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_RE = re.compile(r"^\+?[0-9][0-9 \-]{5,19}$")
_HINT_RE = re.compile(r"^[0-9]{3}[0-9X]$")
_PERIOD_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*(?:[-/.月]\s*(\d{1,2})\s*日?|月)?(?:\s+00:00(?::00)?)?$")
STILL_THERE = {"至今", "今", "现在", "在职", "目前"}


def split_specialties(text: str) -> list[str]:
    return [part for part in re.split(r"[、,，;；/\s]+", unicodedata.normalize("NFKC", text or "")) if part]


def parse_period(text: str, *, end_of_month: bool = False) -> date | None:
    """A date or a month as offices write it ("2023-05", "2023年5月", "2023.5.12", an Excel date). A month alone
    means its first day, or its last day with `end_of_month` (an employment "to 2021-06" lasted through June)."""
    m = _PERIOD_RE.match(unicodedata.normalize("NFKC", text or "").strip())
    if not m:
        raise ValueError(text)
    year, month = int(m.group(1)), int(m.group(2))
    if m.group(3):
        return date(year, month, int(m.group(3)))
    first = date(year, month, 1)
    return month_end(first) if end_of_month else first


def contact_problems(*, phone: str, email: str, id_number_hint: str) -> dict[str, str]:
    problems: dict[str, str] = {}
    if phone and not _PHONE_RE.match(phone):
        problems["phone"] = "手机号码格式不正确（只能包含数字、空格、连字符，可以 + 开头）。"
    if email and not _EMAIL_RE.match(email):
        problems["email"] = "电子邮箱格式不正确。"
    if id_number_hint and not _HINT_RE.match(id_number_hint.upper()):
        problems["id_number_hint"] = "身份证号后四位应为 4 位数字（最后一位可以是 X）。"
    return problems
