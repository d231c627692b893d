"""Pure rules of the pool: who may be drawn, the draw itself and its verification, the conditions check, and the
evaluation score. No Session, no clock: the service passes `today` and the frozen input in.

The draw is independent of Python's random module: within a panel each candidate's place is the SHA-256 of
"seed:input hash:panel id:expert id", so anyone with the frozen input and the seed recomputes the same result.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from reviewapp.panels.rules import normalise_org_name

STATUS_IN_POOL = "在库"
EVALUATION_ASPECTS = (
    ("punctuality", "守时守纪"),
    ("quality", "评审意见质量"),
    ("honesty", "如实申报回避"),
    ("attendance", "出勤情况"),
)
DEFAULT_SUSPEND_BELOW = Decimal("2.5")  # mean evaluation below this suspends (pool settings may change it)
DEFAULT_SUSPEND_MONTHS = 12  # default suspension length (pool settings may change it)


# --- the pool ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolEntry:
    """One expert as the draw sees them (from Expert and PoolProfile)."""

    id: int
    org_name: str
    org_code: str = ""
    province: str = ""
    specialties: tuple[str, ...] = ()
    status: str = STATUS_IN_POOL
    suspended_until: date | None = None
    availability: tuple[tuple[date, date], ...] = ()


def org_key(name: str, code: str) -> str:
    """Two experts share an organisation when their credit codes agree, or (without a code) their names."""
    return code.strip().upper() if code.strip() else normalise_org_name(name)


def is_available(windows: Sequence[tuple[date, date]], day: date | None) -> bool:
    """No windows: always available; otherwise the review day must fall in one of them."""
    if not windows or day is None:
        return True
    return any(start <= day <= end for start, end in windows)


def is_drawable(entry: PoolEntry, *, today: date) -> bool:
    """在库, or 暂停 whose suspension has run out."""
    if entry.status == STATUS_IN_POOL:
        return entry.suspended_until is None or entry.suspended_until <= today
    return entry.status == "暂停" and entry.suspended_until is not None and entry.suspended_until <= today


# --- conditions --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conditions:
    per_panel: int = 5
    backups: int = 2
    specialty_min: tuple[tuple[str, int], ...] = ()  # (specialty or tag, at least n per panel)
    max_per_org: int = 0  # at most K from one organisation per panel; 0: no limit
    min_outside: int = 0  # at least M from outside the home province per panel
    home_province: str = ""
    recent_rounds: int = 0  # not drawn for the same enterprise in the last N rounds; 0: off
    excluded_orgs: tuple[str, ...] = ()
    review_date: date | None = None

    def problems(self) -> list[str]:
        """Conditions that contradict themselves, in words."""
        out = []
        if not 1 <= self.per_panel <= 30:
            out.append("每组抽取人数应在 1–30 之间。")
        if not 0 <= self.backups <= 30:
            out.append("每组备选人数应在 0–30 之间。")
        need = sum(n for _s, n in self.specialty_min)
        if need > self.per_panel:
            out.append(f"专业构成要求合计 {need} 人，超过每组 {self.per_panel} 人。")
        if self.min_outside > self.per_panel:
            out.append(f"省外专家至少 {self.min_outside} 人，超过每组 {self.per_panel} 人。")
        if self.min_outside and not self.home_province:
            out.append("要求省外专家时须填写本省名称。")
        if self.max_per_org < 0 or self.min_outside < 0 or self.recent_rounds < 0:
            out.append("人数与轮数不能为负数。")
        return out

    def describe(self) -> list[str]:
        """The conditions as the draw record prints them."""
        lines = [f"每组抽取 {self.per_panel} 人，备选 {self.backups} 人（按抽取顺序递补）"]
        if self.specialty_min:
            lines.append("专业构成：" + "、".join(f"{s}至少 {n} 人" for s, n in self.specialty_min))
        if self.max_per_org:
            lines.append(f"同一单位至多 {self.max_per_org} 人")
        if self.min_outside:
            lines.append(f"{self.home_province}以外专家至少 {self.min_outside} 人")
        if self.recent_rounds:
            lines.append(f"近 {self.recent_rounds} 个批次评审过同一企业的专家不抽取")
        if self.excluded_orgs:
            lines.append("排除单位：" + "、".join(self.excluded_orgs))
        if self.review_date:
            lines.append(f"评审日期：{self.review_date.isoformat()}（仅抽取该日可参评的专家）")
        return lines

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["specialty_min"] = [list(x) for x in self.specialty_min]
        data["excluded_orgs"] = list(self.excluded_orgs)
        data["review_date"] = self.review_date.isoformat() if self.review_date else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Conditions:
        return cls(
            per_panel=int(data["per_panel"]),
            backups=int(data["backups"]),
            specialty_min=tuple((str(s), int(n)) for s, n in data.get("specialty_min", [])),
            max_per_org=int(data.get("max_per_org", 0)),
            min_outside=int(data.get("min_outside", 0)),
            home_province=str(data.get("home_province", "")),
            recent_rounds=int(data.get("recent_rounds", 0)),
            excluded_orgs=tuple(data.get("excluded_orgs", [])),
            review_date=date.fromisoformat(data["review_date"]) if data.get("review_date") else None,
        )


def parse_specialty_mix(text: str) -> tuple[tuple[tuple[str, int], ...], str | None]:
    """「装备制造:2，电子信息:1」 → (("装备制造", 2), ("电子信息", 1)); an error in words for a bad item."""
    items: dict[str, int] = {}
    for raw in text.replace("，", ",").replace("、", ",").replace("；", ",").replace(";", ",").split(","):
        part = raw.strip()
        if not part:
            continue
        name, sep, count = part.replace("：", ":").rpartition(":")
        if not sep or not name.strip() or not count.strip().isdigit() or int(count) < 1:
            return (), f"专业构成「{part}」格式不正确，应为「专业:人数」，如「装备制造:2」。"
        items[name.strip()] = items.get(name.strip(), 0) + int(count)
    return tuple(items.items()), None


def eligible(entries: Iterable[PoolEntry], conditions: Conditions, *, today: date) -> list[PoolEntry]:
    """Who may be drawn at all: drawable status, available on the review day, not from an excluded organisation."""
    excluded = {org_key(name, "") for name in conditions.excluded_orgs}
    return [
        e
        for e in entries
        if is_drawable(e, today=today)
        and is_available(e.availability, conditions.review_date)
        and normalise_org_name(e.org_name) not in excluded
        and not (e.org_code and e.org_code.upper() in {x.strip().upper() for x in conditions.excluded_orgs})
    ]


# --- the frozen input -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    id: int
    org: str
    outside: bool
    specialties: tuple[str, ...]


@dataclass(frozen=True)
class PanelSpec:
    id: int
    name: str
    excluded: tuple[int, ...] = ()  # experts recused from this panel (conflicts, recent rounds)


@dataclass(frozen=True)
class DrawInput:
    conditions: Conditions
    panels: tuple[PanelSpec, ...]
    candidates: tuple[Candidate, ...]

    def canonical(self) -> str:
        """The frozen list as one canonical JSON text: sorted, no spaces, UTF-8; its SHA-256 is the draw's hash."""
        data = {
            "conditions": self.conditions.to_json(),
            "panels": [
                {"id": p.id, "name": p.name, "excluded": sorted(set(p.excluded))}
                for p in sorted(self.panels, key=lambda p: p.id)
            ],
            "candidates": [
                {"id": c.id, "org": c.org, "outside": c.outside, "specialties": sorted(set(c.specialties))}
                for c in sorted(self.candidates, key=lambda c: c.id)
            ],
        }
        return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_canonical(cls, text: str) -> DrawInput:
        data = json.loads(text)
        return cls(
            conditions=Conditions.from_json(data["conditions"]),
            panels=tuple(PanelSpec(p["id"], p["name"], tuple(p["excluded"])) for p in data["panels"]),
            candidates=tuple(
                Candidate(c["id"], c["org"], bool(c["outside"]), tuple(c["specialties"])) for c in data["candidates"]
            ),
        )


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_input(
    entries: Iterable[PoolEntry],
    panels: Iterable[PanelSpec],
    conditions: Conditions,
    *,
    today: date,
) -> DrawInput:
    home = conditions.home_province.strip()
    candidates = tuple(
        Candidate(
            id=e.id,
            org=org_key(e.org_name, e.org_code),
            outside=bool(home) and bool(e.province.strip()) and e.province.strip() != home,
            specialties=tuple(sorted(set(e.specialties))),
        )
        for e in eligible(entries, conditions, today=today)
    )
    return DrawInput(conditions=conditions, panels=tuple(sorted(panels, key=lambda p: p.id)), candidates=candidates)


# --- the draw ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PanelDraw:
    panel_id: int
    mains: tuple[int, ...]
    backups: tuple[int, ...]


@dataclass
class DrawResult:
    panels: list[PanelDraw] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # unmeetable conditions, which and by how many

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> str:
        data = [{"panel_id": p.panel_id, "mains": list(p.mains), "backups": list(p.backups)} for p in self.panels]
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> DrawResult:
        return cls(panels=[PanelDraw(d["panel_id"], tuple(d["mains"]), tuple(d["backups"])) for d in json.loads(text)])


def _place(seed: str, input_hash: str, panel_id: int, expert_id: int) -> str:
    return hashlib.sha256(f"{seed}:{input_hash}:{panel_id}:{expert_id}".encode()).hexdigest()


def _open_needs(members: Sequence[Candidate], cond: Conditions) -> int:
    """How many more members the minimums still need, at most (one member may meet several)."""
    need = sum(max(0, n - sum(1 for m in members if s in m.specialties)) for s, n in cond.specialty_min)
    return need + max(0, cond.min_outside - sum(1 for m in members if m.outside))


def condition_problems(members: Sequence[Candidate], cond: Conditions) -> list[str]:
    """Which conditions a panel's members break and by how many experts (empty: all hold)."""
    out = []
    if len(members) < cond.per_panel:
        out.append(f"人数 {len(members)} 人，应为 {cond.per_panel} 人，差 {cond.per_panel - len(members)} 人")
    elif len(members) > cond.per_panel:
        out.append(f"人数 {len(members)} 人，应为 {cond.per_panel} 人，多 {len(members) - cond.per_panel} 人")
    for s, n in cond.specialty_min:
        have = sum(1 for m in members if s in m.specialties)
        if have < n:
            out.append(f"「{s}」专业至少 {n} 人，现有 {have} 人，差 {n - have} 人")
    if cond.max_per_org:
        org, count = Counter(m.org for m in members).most_common(1)[0] if members else ("", 0)
        if count > cond.max_per_org:
            out.append(f"同一单位至多 {cond.max_per_org} 人，现有 {count} 人，多 {count - cond.max_per_org} 人")
    outside = sum(1 for m in members if m.outside)
    if outside < cond.min_outside:
        out.append(f"省外专家至少 {cond.min_outside} 人，现有 {outside} 人，差 {cond.min_outside - outside} 人")
    return out


def _shortfall(panel: PanelSpec, pool: Sequence[Candidate], cond: Conditions, got: int) -> list[str]:
    """Say which condition cannot be met for this panel, and by how many experts."""
    head = f"专家组「{panel.name}」"
    out = []
    if len(pool) < cond.per_panel:
        out.append(
            f"{head}：回避后可抽专家仅 {len(pool)} 人，每组需 {cond.per_panel} 人，差 {cond.per_panel - len(pool)} 人"
        )
    for s, n in cond.specialty_min:
        have = sum(1 for c in pool if s in c.specialties)
        if have < n:
            out.append(f"{head}：「{s}」专业至少 {n} 人，可抽仅 {have} 人，差 {n - have} 人")
    outside = sum(1 for c in pool if c.outside)
    if outside < cond.min_outside:
        out.append(
            f"{head}：省外专家至少 {cond.min_outside} 人，可抽仅 {outside} 人，差 {cond.min_outside - outside} 人"
        )
    if cond.max_per_org:
        most = sum(min(n, cond.max_per_org) for n in Counter(c.org for c in pool).values())
        if most < cond.per_panel:
            out.append(
                f"{head}：同一单位至多 {cond.max_per_org} 人，可抽专家最多凑成 {most} 人，差 {cond.per_panel - most} 人"
            )
    if not out:
        out.append(f"{head}：各项条件无法同时满足，差 {cond.per_panel - got} 人")
    return out


def draw(inp: DrawInput, seed: str) -> DrawResult:
    """Main and backup experts for each panel in panel order; an expert is drawn for one panel at most."""
    cond = inp.conditions
    input_hash = sha256_hex(inp.canonical())
    result = DrawResult(problems=[f"抽取条件有误：{p}" for p in cond.problems()])
    if result.problems:
        return result
    used: set[int] = set()
    for panel in sorted(inp.panels, key=lambda p: p.id):
        excluded = set(panel.excluded)
        pool = [c for c in inp.candidates if c.id not in used and c.id not in excluded]
        order = sorted(pool, key=lambda c: _place(seed, input_hash, panel.id, c.id))
        mains: list[Candidate] = []
        orgs: Counter[str] = Counter()
        for c in order:
            if len(mains) == cond.per_panel:
                break
            if cond.max_per_org and orgs[c.org] >= cond.max_per_org:
                continue
            trial = [*mains, c]
            if _open_needs(trial, cond) <= cond.per_panel - len(trial):
                mains.append(c)
                orgs[c.org] += 1
        if len(mains) < cond.per_panel:
            result.problems += _shortfall(panel, pool, cond, len(mains))
            continue
        chosen = {c.id for c in mains}
        backups = [c.id for c in order if c.id not in chosen][: cond.backups]
        if len(backups) < cond.backups:
            result.problems.append(
                f"专家组「{panel.name}」：备选专家需 {cond.backups} 人，可抽仅 {len(backups)} 人，"
                f"差 {cond.backups - len(backups)} 人"
            )
            continue
        used |= chosen | set(backups)
        result.panels.append(PanelDraw(panel.id, tuple(c.id for c in mains), tuple(backups)))
    if result.problems:
        result.panels = []
    return result


def verify(input_text: str, recorded_hash: str, seed: str, recorded_result: str) -> tuple[bool, bool, DrawResult]:
    """Recompute: does the frozen list hash to the recorded hash, and does the seed give the recorded result?"""
    hash_ok = sha256_hex(input_text) == recorded_hash
    again = draw(DrawInput.from_canonical(input_text), seed)
    same = again.ok and json.loads(again.to_json()) == json.loads(recorded_result or "[]")
    return hash_ok, same, again


def next_backup(
    members: Sequence[Candidate], leaving: Candidate, backups: Sequence[Candidate], cond: Conditions
) -> Candidate | None:
    """The first backup in drawn order with whom the panel still meets every condition (None: none does)."""
    staying = [m for m in members if m.id != leaving.id]
    for b in backups:
        if not condition_problems([*staying, b], cond):
            return b
    return None


# --- evaluation -------------------------------------------------------------------------------------------------


def evaluation_score(ratings: Iterable[Sequence[int]]) -> Decimal | None:
    """The mean of every aspect of every rater, two decimals (None: not yet rated)."""
    values = [v for r in ratings for v in r]
    if not values:
        return None
    if any(not 1 <= v <= 5 for v in values):
        raise ValueError("ratings are 1..5")
    return (Decimal(sum(values)) / Decimal(len(values))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def suspension_end(
    *,
    score: Decimal | None,
    undeclared_conflict: bool,
    today: date,
    months: int,
    below: Decimal = DEFAULT_SUSPEND_BELOW,
) -> date | None:
    """Until when a low score or a confirmed undeclared conflict keeps the expert out of draws (None: not at all)."""
    if months <= 0 or not (undeclared_conflict or (score is not None and score < below)):
        return None
    month = today.month - 1 + months
    year, month = today.year + month // 12, month % 12 + 1
    day = min(
        today.day,
        [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][
            month - 1
        ],
    )
    return date(year, month, day)
