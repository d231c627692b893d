"""`reviewapp import experts FILE [--dry-run]`: the expert pool from Excel, all or nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reviewapp.cli import cli_engine, import_group


@import_group.command("experts")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report, without writing anything.")
def import_experts(file: Path, dry_run: bool) -> None:
    """Import experts (sheets 专家信息, optional 工作经历 and 利害关系); exit 1 listing every bad row and field."""
    from reviewapp.audit import Actor
    from reviewapp.clock import today_beijing
    from reviewapp.db import session_scope
    from reviewapp.excel import ExcelReadError
    from reviewapp.panels import expert_import as bulk

    with session_scope(cli_engine(), write=not dry_run) as session:
        try:
            preview = bulk.parse_expert_workbook(session, file.read_bytes())
        except ExcelReadError as exc:
            click.echo(f"无法读取 {file.name}：{exc.message}", err=True)
            sys.exit(1)
        if preview.problems or not preview.experts:
            click.echo(f"{file.name} 中发现 {len(preview.problems)} 处错误，未导入任何数据：", err=True)
            for problem in preview.problems:
                click.echo(f"  {problem}", err=True)
            sys.exit(1)
        summary = f"共 {len(preview.experts)} 位专家：新增 {preview.new_count} 位，更新 {preview.update_count} 位"
        if dry_run:
            click.echo(f"检查通过（未写入）：{summary}。")
            return
        outcome = bulk.apply_expert_import(
            session, actor=Actor.system("命令行"), preview=preview, today=today_beijing()
        )
        session.commit()
    click.echo(f"导入完成：新增 {outcome.created} 位，更新 {outcome.updated} 位，{outcome.unchanged} 位无变化。")
