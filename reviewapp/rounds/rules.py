"""Pure rules for rounds and criteria: tier defaults, setting checks, criteria validation, totals and freezing."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from reviewapp.rounds.models import TIER_LABELS, NodeKind, Tier

# --- tiers and round settings ---------------------------------------------------------------------

_TIER_ALIASES = {**{t.value: t for t in Tier}, **{label: tier for tier, label in TIER_LABELS.items()}}


def parse_tier(text: str) -> Tier | None:
    """基础级/先进级/卓越级/领航级 or basic/advanced/excellent/leading (any case, full-width tolerated)."""
    key = unicodedata.normalize("NFKC", text or "").strip()
    return _TIER_ALIASES.get(key) or _TIER_ALIASES.get(key.lower())


# Stages a factory's scenarios must cover. 先进级: ≥ 8 scenarios covering 生产作业、生产管理、运营管理
# [policy 004 二(三)]; 基础级 must at least cover 生产作业 [policy 004 二(二)]. Higher tiers start from the
# 先进级 requirement; a province changes any of it on the round.
ADVANCED_STAGES = ("生产作业", "生产管理", "运营管理")


def tier_defaults(tier: Tier | str) -> dict[str, Any]:
    """Settings whose default depends on the tier (everything else defaults on the model)."""
    tier = Tier(tier)
    basic = tier == Tier.basic
    return {
        # Shanghai's 卓越级 Q&A asks for maturity level 3; every other tier starts at level 2 [policy 004].
        "min_maturity_level": 3 if tier == Tier.excellent else 2,
        "min_scenarios": 1 if basic else 8,
        "required_stages": ["生产作业"] if basic else list(ADVANCED_STAGES),
        "validity_years": 3,
    }


TIE_BREAK_FIXED = {
    "maturity_score": "能力成熟度自评得分高者优先",
    "application_order": "申报序号靠前者优先",
}
TIE_BREAK_SLOTS = 4
DIMENSION_PREFIX = "dimension:"


def tie_break_label(key: str) -> str:
    if key.startswith(DIMENSION_PREFIX):
        return f"「{key[len(DIMENSION_PREFIX) :]}」维度得分高者优先"
    return TIE_BREAK_FIXED.get(key, key)


def tie_break_options(dimension_titles: Iterable[str], current: Iterable[str] = ()) -> dict[str, str]:
    """The choices for each tie-break slot: the criteria's dimensions, then the fixed keys; current values kept."""
    keys = [f"{DIMENSION_PREFIX}{t}" for t in dimension_titles]
    keys += [k for k in current if k not in keys and k not in TIE_BREAK_FIXED]
    keys += list(TIE_BREAK_FIXED)
    return {k: tie_break_label(k) for k in keys}


def tie_break_problems(keys: Sequence[str]) -> str | None:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            return f"决胜规则中「{tie_break_label(key)}」重复出现。"
        seen.add(key)
        if key in TIE_BREAK_FIXED:
            continue
        title = key[len(DIMENSION_PREFIX) :] if key.startswith(DIMENSION_PREFIX) else ""
        if not title.strip() or len(title) > 64:
            return "决胜规则中有无效的选项。"
    return None


def split_list(text: str) -> list[str]:
    """A list typed in one box: separated by 、 ， , ; ； or line breaks; blanks and repeats dropped."""
    parts = re.split(r"[、，,;；\n\r]+", unicodedata.normalize("NFKC", text or ""))
    out: list[str] = []
    for part in (p.strip() for p in parts):
        if part and part not in out:
            out.append(part)
    return out


def beijing_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """A date and wall-clock time in Beijing as an aware UTC datetime (the way deadlines are stored)."""
    return datetime.combine(day, at, tz).astimezone(UTC)


def round_setting_problems(values: dict[str, Any], *, tz: ZoneInfo) -> dict[str, str]:
    """Cross-field checks on a round's settings (each field's own range is checked by the form)."""
    problems: dict[str, str] = {}
    close, deadline = values.get("application_close"), values.get("scoring_deadline")
    if close and deadline and deadline.astimezone(tz).date() < close:
        problems["scoring_deadline"] = "「评分截止时间」不能早于「申报截止日期」。"
    stages = values.get("required_stages") or []
    min_scenarios = values.get("min_scenarios")
    if min_scenarios is not None and len(stages) > min_scenarios:
        problems["min_scenarios"] = (
            f"「最少场景数」（{min_scenarios}）不能少于须覆盖的环节数（{len(stages)}）：每个环节至少要有一个场景。"
        )
    tie = tie_break_problems(values.get("tie_break") or [])
    if tie:
        problems["tie_break"] = tie
    return problems


# --- criteria nodes -------------------------------------------------------------------------------

KIND_LABELS = {NodeKind.dimension.value: "维度", NodeKind.points.value: "分值", NodeKind.gate.value: "否决项"}
_KIND_ALIASES = {
    "分值": NodeKind.points,
    "分值项": NodeKind.points,
    "评分": NodeKind.points,
    "评分项": NodeKind.points,
    "打分": NodeKind.points,
    "points": NodeKind.points,
    "否决项": NodeKind.gate,
    "否决": NodeKind.gate,
    "一票否决": NodeKind.gate,
    "一票否决项": NodeKind.gate,
    "gate": NodeKind.gate,
}
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,15}$")
MAX_POINTS_LIMIT = Decimal("1000")
DEFAULT_STEP = Decimal("0.5")
TITLE_MAX = 200
GUIDANCE_MAX = 5000


def parse_kind(text: str) -> NodeKind | None:
    key = unicodedata.normalize("NFKC", text or "").strip()
    return _KIND_ALIASES.get(key) or _KIND_ALIASES.get(key.lower())


def normalise_code(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip().upper()


def parse_decimal(text: str) -> Decimal | None:
    """A number as typed (full-width digits tolerated); None when it is not a finite number."""
    cleaned = unicodedata.normalize("NFKC", str(text or "")).strip().replace("分", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def fmt_points(value: Decimal | int | float | None) -> str:
    """10.00 → 10, 2.50 → 2.5: points as people write them."""
    if value is None:
        return ""
    d = Decimal(str(value))
    text = format(d.quantize(Decimal("0.01")), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass
class NodeDraft:
    """A dimension or item as entered (form or Excel row), before it is stored."""

    kind: str
    code: str
    title: str
    guidance: str = ""
    max_points: Decimal | None = None
    step: Decimal | None = None

    def normalised(self) -> NodeDraft:
        kind = self.kind
        gate_or_dim = kind in (NodeKind.gate.value, NodeKind.dimension.value)
        return NodeDraft(
            kind=kind,
            code=normalise_code(self.code),
            title=unicodedata.normalize("NFKC", self.title or "").strip(),
            guidance=(self.guidance or "").strip(),
            max_points=Decimal("0") if gate_or_dim else self.max_points,
            step=Decimal("0") if gate_or_dim else (self.step if self.step is not None else DEFAULT_STEP),
        )


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -int(exponent)) if isinstance(exponent, int) else 0


def node_problems(draft: NodeDraft) -> dict[str, str]:
    """Field → Chinese message for one dimension or item on its own (uniqueness is checked against the version)."""
    problems: dict[str, str] = {}
    d = draft.normalised()
    if d.kind not in KIND_LABELS:
        problems["kind"] = "「类型」应为「分值」或「否决项」。"
        return problems
    if not d.code:
        problems["code"] = "「编码」为必填项。"
    elif not CODE_RE.match(d.code):
        problems["code"] = "「编码」只能由字母、数字、点、横线或下划线组成，以字母或数字开头，最多 16 个字符。"
    if not d.title:
        problems["title"] = "「名称」为必填项。"
    elif len(d.title) > TITLE_MAX:
        problems["title"] = f"「名称」不能超过 {TITLE_MAX} 个字符。"
    if len(d.guidance) > GUIDANCE_MAX:
        problems["guidance"] = f"「评分指引」不能超过 {GUIDANCE_MAX} 个字符。"
    if d.kind == NodeKind.points.value:
        max_points, step = d.max_points, d.step
        if max_points is None:
            problems["max_points"] = "分值项须填写「满分」。"
        elif max_points <= 0:
            problems["max_points"] = "「满分」应大于 0。"
        elif max_points > MAX_POINTS_LIMIT:
            problems["max_points"] = f"「满分」不能大于 {MAX_POINTS_LIMIT}。"
        elif _decimals(max_points) > 2:
            problems["max_points"] = "「满分」最多保留两位小数。"
        if step is None or step <= 0:
            problems["step"] = "「步长」应大于 0，例如 0.5 或 1。"
        elif _decimals(step) > 2:
            problems["step"] = "「步长」最多保留两位小数，例如 0.5、0.25 或 1。"
        elif "max_points" not in problems and max_points is not None:
            if step > max_points:
                problems["step"] = f"「步长」（{fmt_points(step)}）不能大于「满分」（{fmt_points(max_points)}）。"
            elif max_points % step != 0:
                problems["max_points"] = (
                    f"「满分」（{fmt_points(max_points)}）应为「步长」（{fmt_points(step)}）的整数倍。"
                )
    return problems


# --- trees and totals -----------------------------------------------------------------------------


@dataclass
class DimensionView:
    """A dimension with its items in order and its running total (points items only; gates carry no points)."""

    node: Any
    items: list[Any] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.node.id  # type: ignore[no-any-return]

    @property
    def code(self) -> str:
        return self.node.code  # type: ignore[no-any-return]

    @property
    def title(self) -> str:
        return self.node.title  # type: ignore[no-any-return]

    @property
    def guidance(self) -> str:
        return self.node.guidance  # type: ignore[no-any-return]

    @property
    def total(self) -> Decimal:
        return sum((Decimal(str(i.max_points)) for i in self.items if i.kind == NodeKind.points.value), Decimal("0"))

    @property
    def gate_count(self) -> int:
        return sum(1 for i in self.items if i.kind == NodeKind.gate.value)


@dataclass
class CriteriaTree:
    """A criteria version read for display, scoring and export: dimensions → items, in order, with totals."""

    version_id: int | None
    dimensions: list[DimensionView]

    @property
    def items(self) -> list[Any]:
        return [item for dim in self.dimensions for item in dim.items]

    @property
    def total(self) -> Decimal:
        return sum((d.total for d in self.dimensions), Decimal("0"))

    @property
    def item_count(self) -> int:
        return len(self.items)

    @property
    def gate_count(self) -> int:
        return sum(d.gate_count for d in self.dimensions)

    @property
    def codes(self) -> set[str]:
        return {d.code for d in self.dimensions} | {i.code for i in self.items}


def _order_key(node: Any) -> tuple[int, int]:
    return (node.sort_order, node.id or 0)


def build_tree(nodes: Iterable[Any], version_id: int | None = None) -> CriteriaTree:
    """Group node rows (dimension: parent_id None) into an ordered tree."""
    nodes = list(nodes)
    dims = sorted((n for n in nodes if n.parent_id is None), key=_order_key)
    by_parent: dict[int, list[Any]] = {}
    for n in nodes:
        if n.parent_id is not None:
            by_parent.setdefault(n.parent_id, []).append(n)
    return CriteriaTree(
        version_id=version_id,
        dimensions=[DimensionView(node=d, items=sorted(by_parent.get(d.id, []), key=_order_key)) for d in dims],
    )


TARGET_TOTAL = Decimal("100")


def tree_warnings(tree: CriteriaTree) -> list[str]:
    """Things worth fixing before a round uses this version; none of them prevents saving."""
    warnings: list[str] = []
    if not tree.dimensions:
        return ["尚未添加任何维度和条目。"]
    for dim in tree.dimensions:
        if not dim.items:
            warnings.append(f"维度「{dim.title}」下没有条目。")
    if tree.total != TARGET_TOTAL:
        warnings.append(f"各分值项满分合计为 {fmt_points(tree.total)} 分，不是 100 分；公布的得分按百分制，请核对。")
    return warnings


def moved_order(ids: Sequence[int], node_id: int, direction: str) -> list[int]:
    """Sibling ids after moving `node_id` one place up or down (unchanged at either end)."""
    order = list(ids)
    if node_id not in order:
        return order
    i = order.index(node_id)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(order):
        order[i], order[j] = order[j], order[i]
    return order


# --- freezing and versioning ----------------------------------------------------------------------


class EditMode(StrEnum):
    in_place = "in_place"  # change this version
    new_version = "new_version"  # frozen: copy it and change the copy; the round keeps the frozen one
    refused = "refused"


@dataclass(frozen=True)
class EditDecision:
    mode: EditMode
    reason: str = ""


def edit_decision(*, is_template: bool, frozen: bool, is_admin: bool) -> EditDecision:
    """How an edit to a criteria version is applied."""
    if is_template and not is_admin:
        return EditDecision(EditMode.refused, "模板只能由系统管理员修改。请先「复制为新版本」，再修改副本。")
    if frozen:
        return EditDecision(
            EditMode.new_version,
            "该版本已冻结（所属批次已开始评分），修改已保存到新复制的版本中；批次仍使用冻结的版本。",
        )
    return EditDecision(EditMode.in_place)


def round_needs_copy(*, is_template: bool, used_by_other_round: bool, frozen: bool) -> bool:
    """A round owns its criteria version alone: templates and versions in use elsewhere are copied for it."""
    return is_template or used_by_other_round or frozen


def criteria_change_refusal(*, scoring_started: bool) -> str | None:
    if scoring_started:
        return "本批次已开始评分，要素条件已冻结，不能更换版本。"
    return None


# --- Excel layout of a criteria version -----------------------------------------------------------

IMPORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "维度编码": ("维度代码", "一级指标编码"),
    "维度名称": ("维度", "一级指标", "一级指标名称"),
    "条目编码": ("条目代码", "二级指标编码", "指标编码"),
    "条目名称": ("条目", "二级指标", "二级指标名称", "评价内容"),
    "类型": ("类型（分值/否决项）", "条目类型", "评分类型"),
    "满分": ("分值", "最高分", "满分（分）", "分值（分）"),
    "步长": ("评分步长", "最小评分单位"),
    "评分指引": ("评分说明", "评分标准", "评分要点"),
    "维度说明": ("维度指引",),
}
IMPORT_REQUIRED = ("维度编码", "维度名称", "条目编码", "条目名称", "类型", "满分")
IMPORT_PROSE = ("维度名称", "条目名称", "评分指引", "维度说明")  # read as typed: full-width punctuation is kept
EXPORT_HEADERS = (
    "维度编码",
    "维度名称",
    "条目编码",
    "条目名称",
    "类型（分值/否决项）",
    "满分",
    "步长",
    "评分指引",
    "维度说明",
)
IMPORT_MAX_ROWS = 500


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str
    message: str


@dataclass
class ParsedItem:
    row: int
    draft: NodeDraft


@dataclass
class ParsedDimension:
    row: int
    draft: NodeDraft
    items: list[ParsedItem] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum(
            (i.draft.max_points or Decimal("0") for i in self.items if i.draft.kind == NodeKind.points.value),
            Decimal("0"),
        )


@dataclass
class ParsedCriteria:
    dimensions: list[ParsedDimension]
    problems: list[RowProblem]

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.dimensions)

    @property
    def total(self) -> Decimal:
        return sum((d.total for d in self.dimensions), Decimal("0"))

    @property
    def item_count(self) -> int:
        return sum(len(d.items) for d in self.dimensions)


_FIELD_COLUMN = {
    "code": "条目编码",
    "title": "条目名称",
    "kind": "类型",
    "max_points": "满分",
    "step": "步长",
    "guidance": "评分指引",
}
_DIM_FIELD_COLUMN = {"code": "维度编码", "title": "维度名称", "guidance": "维度说明"}


_NOTE_RE = re.compile(r"^(注|备注|说明|填表说明)\s*\d*\s*[:：.、]")


def _is_note_row(values: dict[str, str]) -> bool:
    """A note under the table ("注：……"): text in one cell only, starting like a note."""
    filled = [v for v in values.values() if (v or "").strip()]
    return len(filled) == 1 and bool(_NOTE_RE.match(filled[0].strip()))


def parse_criteria_rows(rows: Sequence[tuple[int, dict[str, str]]]) -> ParsedCriteria:
    """Excel rows (row number, column → text) into a tree; every bad row and field is reported, nothing skipped."""
    problems: list[RowProblem] = []
    dims: dict[str, ParsedDimension] = {}
    dim_by_title: dict[str, tuple[str, int]] = {}
    seen_codes: dict[str, tuple[int, str]] = {}

    def claim(code: str, row: int, column: str, what: str) -> bool:
        """Record a code's first use; a second use anywhere in the sheet is an error."""
        if code in seen_codes:
            first_row, first_what = seen_codes[code]
            problems.append(RowProblem(row, column, f"编码 {code} 与第 {first_row} 行的{first_what}编码重复。"))
            return False
        seen_codes[code] = (row, what)
        return True

    if len(rows) > IMPORT_MAX_ROWS:
        return ParsedCriteria(
            [], [RowProblem(0, "", f"行数过多（{len(rows)} 行），一个版本最多 {IMPORT_MAX_ROWS} 行。")]
        )

    for number, values in rows:
        if _is_note_row(values):
            continue

        def get(name: str, values: dict[str, str] = values) -> str:
            return (values.get(name) or "").strip()

        dim_draft = NodeDraft(
            kind=NodeKind.dimension.value, code=get("维度编码"), title=get("维度名称"), guidance=get("维度说明")
        ).normalised()
        dim_errors = node_problems(dim_draft)
        for fname, message in dim_errors.items():
            problems.append(RowProblem(number, _DIM_FIELD_COLUMN.get(fname, fname), message))
        dim = None
        if not dim_errors:
            dim = dims.get(dim_draft.code)
            if dim is None:
                prior = dim_by_title.get(dim_draft.title)
                if prior:
                    problems.append(
                        RowProblem(
                            number,
                            "维度编码",
                            f"维度「{dim_draft.title}」在第 {prior[1]} 行的编码是 {prior[0]}，"
                            f"此处为 {dim_draft.code}。",
                        )
                    )
                elif claim(dim_draft.code, number, "维度编码", "维度"):
                    dim = ParsedDimension(row=number, draft=dim_draft)
                    dims[dim_draft.code] = dim
                    dim_by_title[dim_draft.title] = (dim_draft.code, number)
            elif dim.draft.title != dim_draft.title:
                problems.append(
                    RowProblem(
                        number,
                        "维度名称",
                        f"维度编码 {dim_draft.code} 在第 {dim.row} 行的名称是「{dim.draft.title}」，"
                        f"此处为「{dim_draft.title}」。",
                    )
                )
                dim = None
            elif dim_draft.guidance and not dim.draft.guidance:
                dim.draft.guidance = dim_draft.guidance

        item_cells = [get(c) for c in ("条目编码", "条目名称", "类型", "满分", "步长", "评分指引")]
        if not any(item_cells):
            continue  # a row that only names a dimension
        kind = parse_kind(get("类型"))
        max_text, step_text = get("满分"), get("步长")
        max_points = parse_decimal(max_text) if max_text else None
        step = parse_decimal(step_text) if step_text else None
        row_problems: dict[str, str] = {}
        if kind is None:
            row_problems["kind"] = (
                "「类型」为必填项，应为「分值」或「否决项」。"
                if not get("类型")
                else f"「类型」应为「分值」或「否决项」，不能是「{get('类型')}」。"
            )
        if max_text and max_points is None:
            row_problems["max_points"] = f"「满分」应为数字，不能是「{max_text}」。"
        if step_text and step is None:
            row_problems["step"] = f"「步长」应为数字，不能是「{step_text}」。"
        if kind == NodeKind.gate:
            if max_points:
                row_problems["max_points"] = "否决项只判定通过或不通过，不计分：「满分」应留空或填 0。"
            if step:
                row_problems["step"] = "否决项不计分：「步长」应留空。"
        item_draft = NodeDraft(
            kind=(kind or NodeKind.points).value,
            code=get("条目编码"),
            title=get("条目名称"),
            guidance=get("评分指引"),
            max_points=max_points,
            step=step,
        )
        for fname, message in node_problems(item_draft).items():
            if fname in ("max_points", "step") and (fname in row_problems or kind is None):
                continue
            row_problems.setdefault(fname, message)
        for fname, message in row_problems.items():
            problems.append(RowProblem(number, _FIELD_COLUMN.get(fname, fname), message))
        code = normalise_code(get("条目编码"))
        unique = bool(code) and "code" not in row_problems and claim(code, number, "条目编码", "条目")
        if dim is not None and unique and not row_problems:
            dim.items.append(ParsedItem(row=number, draft=item_draft.normalised()))

    if not rows:
        problems.append(RowProblem(0, "", "表格中没有数据行。"))
    problems.sort(key=lambda p: (p.row, list(IMPORT_COLUMNS).index(p.column) if p.column in IMPORT_COLUMNS else 99))
    return ParsedCriteria(dimensions=list(dims.values()), problems=problems)
