"""`reviewapp export document NAME --round ID -o FILE [--panel ID] [--application ID] [--objection ID] [--draw ID]`:
the PDF documents from the command line, rendered and audited as the download links do."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reviewapp.cli import cli_engine, export_group

NAMES = (
    "score-sheets",
    "panel-score-sheets",
    "group-opinion",
    "panel-scores",
    "recommendations",
    "objection",
    "spot-checks",
    "draw-record",
)  # fmt: skip  (the registry's keys; listed here so the CLI starts without WeasyPrint)


@export_group.command("document")
@click.argument("name", type=click.Choice(NAMES))
@click.option("--round", "round_id", type=int, required=True, help="Round (批次) id.")
@click.option("--panel", "panel_id", type=int, help="Panel id (专家组意见, 专家评分汇总表, panel-score-sheets).")
@click.option("--application", "application_id", type=int, help="Application id (score-sheets).")
@click.option("--objection", "objection_id", type=int, help="Objection id (异议处理单).")
@click.option("--draw", "draw_id", type=int, help="Expert draw id (抽取记录表; names sealed until review opens).")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True, help="PDF file."
)
def document(
    name: str,
    round_id: int,
    panel_id: int | None,
    application_id: int | None,
    objection_id: int | None,
    draw_id: int | None,
    output: Path,
) -> None:
    """A review-day document as PDF (专家评分表, 专家组意见, 专家评分汇总表, 推荐汇总表, 异议处理单, 现场抽查记录,
    抽取记录表)."""
    from reviewapp.audit import Actor
    from reviewapp.documents.registry import Target
    from reviewapp.documents.service import take_document
    from reviewapp.errors import ServiceError

    try:
        pdf = take_document(
            cli_engine(),
            actor=Actor.system("命令行"),
            key=name,
            target=Target(round_id, panel_id, application_id, objection_id, draw_id=draw_id),
        )
        output.write_bytes(pdf.data)
    except ServiceError as exc:
        click.echo(f"错误：{exc.message}", err=True)
        sys.exit(1)
    except OSError as exc:
        click.echo(f"错误：无法写入文件 {output}：{exc.strerror or exc}", err=True)
        sys.exit(1)
    click.echo(f"已生成{pdf.document.label}到 {output}（建议文件名：{pdf.filename}）。")
