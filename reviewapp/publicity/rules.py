"""Pure rules of publicity (公示) and spot checks (现场抽查): the notice template, the public list's columns, the
reproducible random sample, and what must hold before a notice or the final list can be published.

No database, no clock: callers pass `today`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date

# --- the public list's columns ------------------------------------------------------------------------------

SCORE_COLUMN = "得分"
PUBLIC_COLUMNS: tuple[str, ...] = ("企业名称", "工厂名称", "所在地市", "所属行业", "项目名称", SCORE_COLUMN)
DEFAULT_COLUMNS: tuple[str, ...] = ("企业名称", "工厂名称", "所在地市")


def allowed_columns(publish_scores: bool) -> tuple[str, ...]:
    """The columns a round may show: 得分 only when the round publishes scores."""
    return PUBLIC_COLUMNS if publish_scores else tuple(c for c in PUBLIC_COLUMNS if c != SCORE_COLUMN)


def shown_columns(chosen: Iterable[str], *, publish_scores: bool) -> list[str]:
    """The chosen columns in their fixed order, leaving out any the round may not show (any more)."""
    wanted = set(chosen)
    return [c for c in allowed_columns(publish_scores) if c in wanted]


def column_problems(chosen: Sequence[str], *, publish_scores: bool) -> list[str]:
    problems = []
    if not chosen:
        problems.append("请至少选择一列在公示名单中显示。")
    unknown = [c for c in chosen if c not in PUBLIC_COLUMNS]
    if unknown:
        problems.append(f"「{'、'.join(unknown)}」不是可公示的列。")
    if SCORE_COLUMN in chosen and not publish_scores:
        problems.append("本批次设置为不公布得分，公示名单不能显示「得分」列（可在批次设置中修改）。")
    return problems


# --- the notice -----------------------------------------------------------------------------------------------

PLACEHOLDERS: tuple[str, ...] = (
    "批次名称",
    "开始日期",
    "结束日期",
    "工作日数",
    "受理单位",
    "联系地址",
    "联系电话",
    "电子邮箱",
)

DEFAULT_NOTICE_TEMPLATE = """根据智能工厂梯度培育工作安排，经企业申报、形式审查、专家评审和现场抽查，现将{批次名称}拟认定名单予以公示（见下表）。

公示期：{开始日期}至{结束日期}（{工作日数}个工作日）。

公示期间，如对公示名单有异议，请在公示期内以书面形式向{受理单位}提出。单位提出异议的，须在异议材料上加盖本单位公章；个人提出异议的，须在异议材料上签署真实姓名，并注明联系方式。异议应实事求是，并附必要的证明材料。匿名异议、超出公示期提出的异议不予受理。我们将对异议人的身份信息严格保密。

联系地址：{联系地址}
联系电话：{联系电话}
电子邮箱：{电子邮箱}"""

_PLACEHOLDER_RE = re.compile(r"\{([^{}\s]{1,20})\}")


def cn_date(value: date) -> str:
    """2026年9月28日"""
    return f"{value.year}年{value.month}月{value.day}日"


def template_problems(template: str) -> list[str]:
    """Placeholders the template uses that do not exist (a typo would otherwise be published as it is)."""
    unknown = sorted({m for m in _PLACEHOLDER_RE.findall(template or "") if m not in PLACEHOLDERS})
    if unknown:
        known = " ".join("{" + p + "}" for p in PLACEHOLDERS)
        return [f"公告模板中的「{'」「'.join('{' + u + '}' for u in unknown)}」不是可用的占位符。可用：{known}"]
    return []


def notice_values(
    *,
    round_name: str,
    start: date,
    end: date,
    working_days: int,
    contact_unit: str = "",
    contact_address: str = "",
    contact_phone: str = "",
    contact_email: str = "",
) -> dict[str, str]:
    return {
        "批次名称": round_name,
        "开始日期": cn_date(start),
        "结束日期": cn_date(end),
        "工作日数": str(working_days),
        "受理单位": contact_unit.strip(),
        "联系地址": contact_address.strip(),
        "联系电话": contact_phone.strip(),
        "电子邮箱": contact_email.strip(),
    }


def render_notice(template: str, values: Mapping[str, str]) -> str:
    """Fill the placeholders. A line whose placeholders are all empty (e.g. 电子邮箱：{电子邮箱} with no e-mail) is
    left out; unknown placeholders stay as they are (template_problems reports them)."""
    lines = []
    for line in (template or "").replace("\r\n", "\n").split("\n"):
        names = [n for n in _PLACEHOLDER_RE.findall(line) if n in values]
        if names and not any(values[n] for n in names):
            continue
        lines.append(_PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), m.group(0)), line))
    return "\n".join(lines).strip()


# --- spot checks ----------------------------------------------------------------------------------------------


def draw_sample(application_ids: Iterable[int], size: int, seed: int) -> list[int]:
    """A random sample that anyone can redraw from (the sorted ids, the size, the seed): each id's place is the
    SHA-256 of "seed:id", the smallest `size` are drawn. Independent of Python's random module and its versions.
    Returned in draw order."""
    population = sorted(set(application_ids))
    if not 1 <= size <= len(population):
        raise ValueError(f"sample size {size} outside 1..{len(population)}")

    def place(application_id: int) -> str:
        return hashlib.sha256(f"{seed}:{application_id}".encode()).hexdigest()

    return sorted(population, key=place)[:size]


def list_reason(*, check_date: date | None, note: str) -> str:
    """What the recommendation list says about an application a spot check removed or sent to correction."""
    when = f"（{cn_date(check_date)}）" if check_date else ""
    return f"现场抽查{when}：{note.strip()}"


# --- publishing -----------------------------------------------------------------------------------------------


def publish_problems(
    *,
    open_panels: Sequence[str],
    listed: int,
    contact_unit: str,
    contact_address: str,
    contact_phone: str,
    notice_text: str,
) -> list[str]:
    """What stops staff from publishing a round's notice, one line each in Chinese."""
    problems = [f"专家组「{name}」尚未定稿。" for name in open_panels]
    if listed == 0:
        problems.append("推荐名单上没有项目。")
    if not contact_unit.strip():
        problems.append("请填写受理异议的单位。")
    if not (contact_address.strip() or contact_phone.strip()):
        problems.append("请填写受理异议的联系地址或联系电话。")
    if not notice_text.strip():
        problems.append("公告正文为空。")
    return problems


def final_list_publicity_problems(
    *, start_date: date | None, end_date: date | None, published: bool, today: date
) -> list[str]:
    """The list is final only after its publicity period has run out (objections may arrive until the last day)."""
    if start_date is None or end_date is None:
        return ["尚未设置公示期。"]
    if not published:
        return ["公示尚未发布。"]
    if today <= end_date:
        return [f"公示期至{cn_date(end_date)}结束，期满后才能定稿。"]
    return []
