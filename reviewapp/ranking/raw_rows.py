"""The rows of the raw-score file (pure): every (application, expert, item) cell of the submitted sheets, and the
ranking recomputed from them, exactly the same as the one computed from the sheets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import (
    Decimal,
    InvalidOperation,
)

from reviewapp.ranking.ordering import Ranking, rank_applications
from reviewapp.ranking.rules import ApplicationFacts, RankingSettings, SheetScores

_PASS_WORDS = {
    "通过": True,
    "是": True,
    "合格": True,
    "√": True,
    "不通过": False,
    "否": False,
    "不合格": False,
    "×": False,
}


@dataclass(frozen=True)
class RawScoreRow:
    """One cell of the raw-score file: a points item carries `value`, a gate item carries `passed`."""

    application_id: int
    expert_id: int
    item_code: str
    value: Decimal | None = None
    passed: bool | None = None

    @classmethod
    def from_cell(cls, application_id: int, expert_id: int, item_code: str, cell: object) -> RawScoreRow:
        """A row from a spreadsheet cell: a number (points), 通过/不通过 (gate), or empty (points left empty)."""
        if isinstance(cell, bool):
            return cls(application_id, expert_id, item_code, passed=cell)
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            return cls(application_id, expert_id, item_code)
        if isinstance(cell, str) and cell.strip() in _PASS_WORDS:
            return cls(application_id, expert_id, item_code, passed=_PASS_WORDS[cell.strip()])
        # str() of a float is the shortest decimal that reads back as it: 0.1 → "0.1", never 0.1000000000000000055…
        text = str(cell).strip()
        try:
            return cls(application_id, expert_id, item_code, value=Decimal(text))
        except InvalidOperation:
            raise ValueError(f"评分项 {item_code} 的分值无法识别：{cell}") from None

    @property
    def cell(self) -> Decimal | str | None:
        """What the export writes: the value, 通过/不通过, or empty."""
        if self.passed is not None:
            return "通过" if self.passed else "不通过"
        return self.value


def raw_rows(sheets: Iterable[SheetScores]) -> list[RawScoreRow]:
    """The raw-score rows of the sheets, ordered by application, expert, item code."""
    rows = []
    for sheet in sheets:
        for code, value in sheet.item_scores.items():
            rows.append(RawScoreRow(sheet.application_id, sheet.expert_id, code, value=value))
        for code, ok in sheet.gates.items():
            rows.append(RawScoreRow(sheet.application_id, sheet.expert_id, code, passed=ok))
    rows.sort(key=lambda r: (r.application_id, r.expert_id, r.item_code))
    return rows


def sheets_from_raw_rows(rows: Iterable[RawScoreRow], *, item_dimensions: Mapping[str, str]) -> list[SheetScores]:
    """Rebuild the sheets (totals and subtotals recomputed from the items) from raw-score rows."""
    items: dict[tuple[int, int], dict[str, Decimal | None]] = defaultdict(dict)
    gates: dict[tuple[int, int], dict[str, bool]] = defaultdict(dict)
    for row in rows:
        key = (row.application_id, row.expert_id)
        if row.item_code in items[key] or row.item_code in gates[key]:
            raise ValueError(f"申报项目 {row.application_id} 专家 {row.expert_id} 的评分项 {row.item_code} 重复")
        if row.passed is not None:
            gates[key][row.item_code] = row.passed
        else:
            items[key][row.item_code] = row.value
    return [
        SheetScores.from_items(
            expert_id=expert_id,
            application_id=application_id,
            item_scores=items[(application_id, expert_id)],
            gates=gates[(application_id, expert_id)],
            item_dimensions=item_dimensions,
        )
        for application_id, expert_id in sorted(set(items) | set(gates))
    ]


def rank_from_raw_rows(
    rows: Iterable[RawScoreRow],
    *,
    item_dimensions: Mapping[str, str],
    facts: Iterable[ApplicationFacts],
    settings: RankingSettings,
) -> Ranking:
    """Recompute the official ranking from a raw-score file: the same rows give exactly the same ranking."""
    return rank_applications(sheets_from_raw_rows(rows, item_dimensions=item_dimensions), facts, settings)
