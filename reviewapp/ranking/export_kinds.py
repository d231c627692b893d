"""The kinds of official files a round exports: shared by the download routes, the CLI (which must stay quick to
import) and reviewapp.ranking.exports, which builds them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExportKind:
    key: str  # the URL segment and the CLI type
    label: str  # what staff read
    needs: str | None = None  # "panel" or "application": the id the export cannot do without
    archive: bool = False  # a zip of workbooks, not one workbook
    unit: str = "行"  # what ExportFile.rows counts


KINDS: dict[str, ExportKind] = {
    k.key: k
    for k in (
        ExportKind("list", "基础级、先进级智能工厂名单汇总表"),
        ExportKind("recommendations", "智能工厂推荐汇总表"),
        ExportKind("panel-scores", "专家评分汇总表", needs="panel"),
        ExportKind("sheets", "专家评分表", needs="application", unit="份评分表"),
        ExportKind("sheets-zip", "专家组全部专家评分表（压缩包）", needs="panel", archive=True, unit="个文件"),
        ExportKind("round-archive", "全批次存档文件（压缩包）", archive=True, unit="个文件"),
        ExportKind("overseas", "海外智能工厂培育名单"),
        ExportKind("raw-scores", "专家原始评分明细", unit="份评分表"),
    )
}
