"""`reviewapp export TYPE --round ID -o FILE [--panel ID] [--application ID]`: the official files from the
command line, built and audited exactly as the download pages do."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reviewapp.cli import cli_engine, export_group
from reviewapp.ranking.export_kinds import KINDS, ExportKind

_HELP = {
    "list": "基础级、先进级智能工厂名单汇总表 (the recommended factories, official columns).",
    "recommendations": "推荐汇总表 in priority order, with scores, opinions, reasons and counts.",
    "panel-scores": "One panel's 专家评分汇总表 (needs --panel).",
    "sheets": "The 专家评分表 of one application, one worksheet per expert (needs --application).",
    "sheets-zip": "A zip of every application's 专家评分表 of one panel (needs --panel).",
    "round-archive": "A zip of the round's Excel files with their PDFs beside them, objections and spot checks.",
    "overseas": "海外智能工厂培育名单.",
    "raw-scores": "Every expert's item scores with the criteria and the rule (optional --panel).",
}


def _fail(message: str) -> None:
    click.echo(f"错误：{message}", err=True)
    sys.exit(1)


def _command(kind: ExportKind) -> click.Command:
    def run(round_id: int, output: Path, panel_id: int | None = None, application_id: int | None = None) -> None:
        from reviewapp.audit import Actor
        from reviewapp.errors import ServiceError
        from reviewapp.ranking import exports

        try:
            file = exports.export(
                cli_engine(),
                actor=Actor.system("命令行"),
                round_id=round_id,
                kind=kind.key,
                panel_id=panel_id,
                application_id=application_id,
            )
        except ServiceError as exc:
            _fail(exc.message)
            return
        try:
            output.write_bytes(file.data)
        except OSError as exc:
            _fail(f"无法写入文件 {output}：{exc.strerror or exc}")
        click.echo(f"已导出{kind.label}（{file.rows} {kind.unit}）到 {output}（建议文件名：{file.filename}）。")

    params: list[click.Parameter] = [
        click.Option(["--round", "round_id"], type=int, required=True, help="Round (批次) id."),
        click.Option(
            ["-o", "--output"],
            type=click.Path(dir_okay=False, writable=True, path_type=Path),
            required=True,
            help="File to write.",
        ),
    ]
    if kind.needs == "panel" or kind.key == "raw-scores":
        params.append(click.Option(["--panel", "panel_id"], type=int, required=kind.needs == "panel", help="Panel id."))
    if kind.needs == "application":
        params.append(
            click.Option(["--application", "application_id"], type=int, required=True, help="Application id.")
        )
    return click.Command(kind.key, callback=run, params=params, help=_HELP.get(kind.key, kind.label))


for _kind in KINDS.values():
    export_group.add_command(_command(_kind))
