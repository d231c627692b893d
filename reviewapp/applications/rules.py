"""Pure rules for applications: credit codes, industry codes, enumerated values, scenario lists and formal review."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from reviewapp.applications.models import ENTERPRISE_NATURES, ENTERPRISE_SIZES, INDUSTRY_GROUPS
from reviewapp.rounds.models import TIER_LABELS, Tier

# --- 统一社会信用代码 (GB 32100-2015) --------------------------------------------------------------

# The code alphabet: digits and capitals without I, O, S, V, Z; a character's value is its index here.
CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CHAR_VALUE = {ch: i for i, ch in enumerate(CREDIT_CODE_CHARS)}


def normalise_credit_code(raw: object) -> str:
    """Full-width to half-width, spaces removed, upper case: what offices type and paste varies in all three."""
    if raw is None:
        return ""
    text = unicodedata.normalize("NFKC", str(raw))
    return re.sub(r"\s+", "", text).upper()


def credit_code_check_char(first17: str) -> str:
    """The 18th character for the first 17 (weighted sum mod 31)."""
    total = sum(_CHAR_VALUE[ch] * w for ch, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """Why a normalised code is not a valid 统一社会信用代码, or None when it is."""
    if len(code) != 18:
        return f"统一社会信用代码应为 18 位，现为 {len(code)} 位。"
    bad = sorted({ch for ch in code if ch not in _CHAR_VALUE})
    if bad:
        shown = "、".join(f"「{ch}」" for ch in bad)
        return f"统一社会信用代码含有无效字符 {shown}（代码只用数字和除 I、O、S、V、Z 以外的大写字母）。"
    if not code[2:8].isdigit():
        return "统一社会信用代码第 3–8 位应为行政区划代码（数字）。"
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        return f"统一社会信用代码校验位不符（按 GB 32100-2015 计算末位应为「{expected}」，实为「{code[17]}」），请核对是否抄错。"
    return None


def check_credit_code(raw: object) -> tuple[str, str | None]:
    """(normalised code, problem or None)."""
    code = normalise_credit_code(raw)
    return code, credit_code_problem(code)


# --- 行业中类/小类 (GB/T 4754-2017) ---------------------------------------------------------------

_INDUSTRY_RE = re.compile(r"^[A-Za-z]?\s*(\d+)")


def parse_industry_code(raw: str) -> str:
    """The digits of an industry code cell: "C3411", "3411", "3411 锅炉及辅助设备制造" all give "3411"."""
    match = _INDUSTRY_RE.match(unicodedata.normalize("NFKC", raw or "").strip())
    return match.group(1) if match else ""


def industry_code_problems(mid_raw: str, small_raw: str, *, known_divisions: set[str]) -> list[tuple[str, str]]:
    """Problems as (column, message). 中类 is 3 digits starting with a known 大类; 小类 4 digits starting with its 中类."""
    problems: list[tuple[str, str]] = []
    mid, small = parse_industry_code(mid_raw), parse_industry_code(small_raw)
    if mid_raw and len(mid) != 3:
        problems.append(("行业中类", f"行业中类应为 3 位数字（GB/T 4754-2017），现为「{mid_raw}」。"))
    elif mid and mid[:2] not in known_divisions:
        problems.append(("行业中类", f"行业中类「{mid}」的大类「{mid[:2]}」不在国民经济行业分类目录中。"))
    if small_raw and len(small) != 4:
        problems.append(("行业小类", f"行业小类应为 4 位数字（GB/T 4754-2017），现为「{small_raw}」。"))
    elif small and len(mid) == 3 and not small.startswith(mid):
        problems.append(("行业小类", f"行业小类「{small}」应以其行业中类「{mid}」开头。"))
    elif small and not mid and small[:2] not in known_divisions:
        problems.append(("行业小类", f"行业小类「{small}」的大类「{small[:2]}」不在国民经济行业分类目录中。"))
    return problems


# --- enumerated columns ---------------------------------------------------------------------------

# Spellings offices use for the official values (the footnotes of the 名单汇总表 list the values).
_CHOICE_ALIASES = {
    "央企": "中央企业",
    "中央国有企业": "中央企业",
    "地方国有企业": "地方国企",
    "国有企业": "地方国企",
    "民企": "民营企业",
    "私营企业": "民营企业",
    "外资企业": "三资企业",
    "中外合资企业": "三资企业",
    "中外合作企业": "三资企业",
    "外商独资企业": "三资企业",
    "原材料工业": "原材料",
    "电子信息制造业": "电子信息",
    "装备制造业": "装备制造",
    "消费品工业": "消费品",
}

ENUMERATIONS: dict[str, tuple[str, ...]] = {
    "所属行业": INDUSTRY_GROUPS,
    "企业性质": ENTERPRISE_NATURES,
    "企业类型": ENTERPRISE_SIZES,
}


def normalise_choice(raw: str, choices: Sequence[str]) -> str | None:
    """The official value for a cell ("民营" → "民营企业", "大型" → "大型企业"), or None when it is not one."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw or ""))
    if text in choices:
        return text
    for candidate in (_CHOICE_ALIASES.get(text), text + "企业", text + "业"):
        if candidate in choices:
            return candidate
    return None


TIER_BY_LABEL = {label: tier.value for tier, label in TIER_LABELS.items()}


def parse_tier(raw: str) -> str | None:
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw or ""))
    text = text.removesuffix("智能工厂")
    if text in TIER_BY_LABEL:
        return TIER_BY_LABEL[text]
    if text + "级" in TIER_BY_LABEL:
        return TIER_BY_LABEL[text + "级"]
    return None


_YES = {"是", "Y", "YES", "√", "✓", "TRUE", "1", "有"}
_NO = {"否", "N", "NO", "×", "✗", "FALSE", "0", "无", "不是"}


def parse_yes_no(raw: str) -> bool | None:
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw or "")).upper()
    if text in _YES:
        return True
    if text in _NO:
        return False
    return None


# --- maturity (GB/T 39116) ------------------------------------------------------------------------

_LEVEL_WORDS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}
_LEVEL_NAMES = {"规划级": 1, "规范级": 2, "集成级": 3, "优化级": 4, "引领级": 5}


def parse_maturity_level(raw: str) -> int | None:
    """ "二级", "2级", "L2", "2", "规范级", "二级（规范级）" → 2."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw or "")).upper()
    for name, level in _LEVEL_NAMES.items():
        if name in text:
            return level
    match = re.match(r"^(?:L|成熟度)?([1-5一二三四五])级?", text)
    if not match:
        return None
    token = match.group(1)
    return int(token) if token.isdigit() else _LEVEL_WORDS[token]


@dataclass(frozen=True)
class LevelBand:
    level: int
    score_min: float
    score_max: float


def level_for_score(score: Decimal, bands: Sequence[LevelBand]) -> int | None:
    """The level whose band holds the score (lower bound inclusive; the top band includes its upper bound)."""
    ordered = sorted(bands, key=lambda b: b.level)
    for i, band in enumerate(ordered):
        top = i == len(ordered) - 1
        if Decimal(str(band.score_min)) <= score and (
            score < Decimal(str(band.score_max)) or (top and score <= Decimal(str(band.score_max)))
        ):
            return band.level
    return None


def parse_score(raw: str) -> Decimal | None:
    text = unicodedata.normalize("NFKC", raw or "").strip().removesuffix("分").strip()
    if not re.fullmatch(r"\d+(\.\d+)?", text):
        return None
    return Decimal(text)


# --- scenario lists and parties -------------------------------------------------------------------

# Separators between scenario names: punctuation, line breaks, spaces (catalogue names have none) and "(2)" numbering.
_LIST_SPLIT_RE = re.compile(r"(?:[、,，;；\s/|]|[（(]\d{1,2}[)）])+")
_CIRCLED_RE = re.compile(r"[\u2460-\u2473\u2776-\u277f]")
_NUMBERING_RE = re.compile(r"^(?:[（(]?\d{1,2}[)）.．:：]|[一二三四五六七八九十]+[、.．])\s*")


def scenario_key(name: str) -> str:
    """How scenario names are compared: no spaces, full-width folded, 和 and 与 treated alike."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))
    return text.replace("和", "与").replace("及", "与")


def split_scenarios(text: str) -> list[str]:
    """Scenario names from one cell: separated by 、 ， , ; ； / or line breaks, numbering removed, duplicates dropped."""
    names: list[str] = []
    seen: set[str] = set()
    # Circled numbers (①②) act as separators; NFKC would turn them into plain digits glued to the names.
    text = _CIRCLED_RE.sub("\n", text or "")
    for part in _LIST_SPLIT_RE.split(unicodedata.normalize("NFKC", text)):
        name = _NUMBERING_RE.sub("", part.strip()).strip(" .。;；")
        if not name or name.isdigit():  # "1、生产计划优化、2、…" leaves bare numbers behind
            continue
        key = scenario_key(name)
        if key not in seen:
            seen.add(key)
            names.append(re.sub(r"\s+", "", name))
    return names


_CODE_IN_TEXT_RE = re.compile(r"[（(\[【]?\s*([0-9A-Za-z]{15,20})\s*[)）\]】]?")


def parse_parties(names_text: str, codes_text: str = "") -> list[tuple[str, str]]:
    """(name, raw code) pairs from a provider cell such as "某公司（91370…）、另一公司" plus an optional code column."""
    names = [p.strip() for p in re.split(r"[、;；\n\r]+", unicodedata.normalize("NFKC", names_text or "")) if p.strip()]
    codes = [p for p in re.split(r"[、,，;；\s]+", unicodedata.normalize("NFKC", codes_text or "")) if p]
    parties: list[tuple[str, str]] = []
    for i, entry in enumerate(names):
        code = ""
        match = _CODE_IN_TEXT_RE.search(entry)
        if match:
            code = match.group(1)
            entry = (entry[: match.start()] + entry[match.end() :]).strip(" :：,，")
        if not code and i < len(codes):
            code = codes[i]
        if entry:
            parties.append((entry, code))
    return parties


# --- formal review (形式审查) -----------------------------------------------------------------------


def cn_date(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


@dataclass(frozen=True)
class FormalSettings:
    """The round's formal-review settings (rounds.models.Round)."""

    min_maturity_level: int = 2
    min_scenarios: int = 8
    required_stages: tuple[str, ...] = ("生产作业", "生产管理", "运营管理")
    branch_industries: tuple[str, ...] = ("石油石化", "有色金属")


@dataclass(frozen=True)
class Ban:
    banned_until: date
    revoked_on: date
    reason: str  # the revocation reason's label


@dataclass(frozen=True)
class FormalFacts:
    """What the checks need to know about one application."""

    tier: str
    credit_code: str | None
    above_designated_size: bool
    is_branch: bool
    branch_industry: str
    maturity_level: int | None
    scenarios: Sequence[tuple[str, str, bool]] = ()  # (name, 环节, known in the round's catalogue)
    major_accident: bool = False
    serious_dishonesty: bool = False
    bans: Sequence[Ban] = ()
    advanced_certified_until: Sequence[date] = ()  # valid_to of active 先进级 certifications of the credit code


@dataclass(frozen=True)
class Check:
    code: str
    label: str
    ok: bool
    reason: str
    overridden: bool = False
    override_reason: str = ""

    @property
    def open_failure(self) -> bool:
        return not self.ok and not self.overridden

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "label": self.label,
            "ok": self.ok,
            "reason": self.reason,
            "overridden": self.overridden,
            "override_reason": self.override_reason,
        }


CHECK_LABELS = {
    "above_size": "规模以上工业企业",
    "legal_person": "独立法人资格",
    "maturity": "智能制造能力成熟度等级",
    "scenarios": "典型场景数量与环节覆盖",
    "catalogue": "场景名称在场景目录中",
    "advanced_cert": "已获先进级智能工厂认定",
    "accident": "未发生较大及以上事故",
    "dishonesty": "未列入严重失信主体名单",
    "revocation_ban": "不在取消认定后的禁止申报期内",
}

_LEVEL_CN = {1: "一级", 2: "二级", 3: "三级", 4: "四级", 5: "五级"}


def formal_checks(facts: FormalFacts, settings: FormalSettings, *, today: date) -> list[Check]:
    """Every formal-review check that applies to the application's tier, each with the reason for its outcome."""
    checks: list[Check] = []

    def add(code: str, ok: bool, reason: str) -> None:
        checks.append(Check(code=code, label=CHECK_LABELS[code], ok=ok, reason=reason))

    add(
        "above_size",
        facts.above_designated_size,
        "规模以上工业企业" if facts.above_designated_size else "申报单位不是规模以上工业企业。",
    )

    if not facts.is_branch:
        add("legal_person", True, "具有独立法人资格")
    elif facts.branch_industry and facts.branch_industry in settings.branch_industries:
        add("legal_person", True, f"分支机构，属{facts.branch_industry}行业，允许以分支机构申报")
    else:
        allowed = "、".join(settings.branch_industries) or "（本批次不允许）"
        industry = f"（{facts.branch_industry}）" if facts.branch_industry else ""
        add("legal_person", False, f"申报单位为法人的分支机构{industry}；仅{allowed}行业允许分支机构申报。")

    wanted = settings.min_maturity_level
    if facts.maturity_level is None:
        add("maturity", False, f"未提供能力成熟度自评等级或得分（须达到{_LEVEL_CN.get(wanted, wanted)}及以上）。")
    elif facts.maturity_level < wanted:
        add(
            "maturity",
            False,
            f"成熟度自评为{_LEVEL_CN.get(facts.maturity_level, facts.maturity_level)}，"
            f"低于本批次要求的{_LEVEL_CN.get(wanted, wanted)}。",
        )
    else:
        add("maturity", True, f"成熟度自评为{_LEVEL_CN.get(facts.maturity_level, facts.maturity_level)}")

    known = [(name, stage) for name, stage, ok in facts.scenarios if ok]
    if facts.tier == Tier.advanced.value:
        count = len({name for name, _ in known})
        missing = [s for s in settings.required_stages if s not in {stage for _, stage in known}]
        problems = []
        if count < settings.min_scenarios:
            problems.append(f"目录内典型场景 {count} 个，少于要求的 {settings.min_scenarios} 个")
        if missing:
            problems.append(f"未覆盖环节：{'、'.join(missing)}")
        if problems:
            add("scenarios", False, "；".join(problems) + "。")
        else:
            add("scenarios", True, f"典型场景 {count} 个，覆盖{'、'.join(settings.required_stages)}")

    unknown = [name for name, _stage, ok in facts.scenarios if not ok]
    if unknown:
        add("catalogue", False, f"以下场景名称不在本批次场景目录中：{'、'.join(unknown)}。")
    else:
        add("catalogue", True, "全部场景名称均在场景目录中")

    if facts.tier == Tier.excellent.value:
        valid = [d for d in facts.advanced_certified_until if d >= today]
        if not facts.credit_code:
            add("advanced_cert", False, "缺少统一社会信用代码，无法核对先进级认定。")
        elif valid:
            add("advanced_cert", True, f"先进级认定有效期至{cn_date(max(valid))}")
        else:
            add("advanced_cert", False, "未查到该统一社会信用代码有效的先进级智能工厂认定；卓越级须已获先进级认定。")

    add(
        "accident",
        not facts.major_accident,
        "申报单位近三年发生较大及以上安全、环保、质量等事故。" if facts.major_accident else "未登记较大及以上事故",
    )
    add(
        "dishonesty",
        not facts.serious_dishonesty,
        "申报单位被列入严重失信主体名单。" if facts.serious_dishonesty else "未列入严重失信主体名单",
    )

    active_bans = sorted((b for b in facts.bans if b.banned_until >= today), key=lambda b: b.banned_until)
    if not facts.credit_code:
        add("revocation_ban", False, "缺少统一社会信用代码，无法核对取消认定记录。")
    elif active_bans:
        ban = active_bans[-1]
        add(
            "revocation_ban",
            False,
            f"该企业于{cn_date(ban.revoked_on)}因{ban.reason}被取消认定，{cn_date(ban.banned_until)}前不得申报。",
        )
    else:
        add("revocation_ban", True, "无有效期内的取消认定记录")
    return checks


def apply_overrides(checks: Iterable[Check], overrides: dict[str, str]) -> list[Check]:
    """Mark failed checks that staff set aside (check code → written reason)."""
    return [
        replace(c, overridden=True, override_reason=overrides[c.code]) if not c.ok and c.code in overrides else c
        for c in checks
    ]


def failed_codes(checks: Iterable[Check]) -> str:
    """The stored ",code,code," form of the open failures ("" when none), so lists can filter with LIKE."""
    codes = [c.code for c in checks if c.open_failure]
    return f",{','.join(codes)}," if codes else ""


@dataclass
class Decision:
    """Whether staff may confirm a formal-review outcome, and what to record."""

    allowed: bool
    message: str = ""
    failures: list[Check] = field(default_factory=list)


def decide(checks: Sequence[Check], *, passed: bool, note: str) -> Decision:
    """Pass only with no open failure; fail a clean application only with a written reason."""
    failures = [c for c in checks if c.open_failure]
    if passed and failures:
        names = "、".join(c.label for c in failures)
        return Decision(
            False, f"存在未通过的检查项（{names}），不能确认通过；如确需豁免，请先填写理由豁免该项。", failures
        )
    if not passed and not failures and len(note.strip()) < 4:
        return Decision(False, "各项检查均已通过，确认不通过须填写理由（至少 4 个字）。", failures)
    return Decision(True, "", failures)
