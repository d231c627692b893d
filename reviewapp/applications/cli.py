"""`reviewapp import applications FILE --round ID [--dry-run]`: the browser import, from the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reviewapp.cli import cli_engine, import_group


@import_group.command("applications")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--round", "round_id", type=int, required=True, help="Round (批次) id.")
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
def import_applications(file: Path, round_id: int, dry_run: bool) -> None:
    """Import a 名单汇总表 (.xlsx, .xls, .et, .ods or CSV) into a round. All-or-nothing: any bad row means nothing is imported (exit 1)."""
    from reviewapp.applications import importing
    from reviewapp.audit import Actor
    from reviewapp.clock import today_beijing
    from reviewapp.db import session_scope
    from reviewapp.errors import NotFound

    data = file.read_bytes()
    with session_scope(cli_engine(), write=not dry_run) as session:
        try:
            preview = importing.preview_import(session, round_id=round_id, data=data, filename=file.name)
        except NotFound as exc:
            raise click.ClickException(exc.message) from exc
        for problem in preview.warnings:
            click.echo(f"提示：{_where(problem)}{problem.message}", err=True)
        if not preview.ok:
            for problem in preview.errors:
                click.echo(f"错误：{_where(problem)}{problem.message}", err=True)
            click.echo(
                f"《{file.name}》有 {len(preview.errors)} 处错误（涉及 {preview.error_rows} 行），未导入任何数据。",
                err=True,
            )
            sys.exit(1)
        if dry_run:
            click.echo(
                f"检查通过（未写入）：共 {len(preview.rows)} 行，将新增 {preview.count('create')} 条，"
                f"更新 {preview.count('update')} 条，未变 {preview.count('unchanged')} 条。"
            )
            return
        try:
            result = importing.commit_import(
                session,
                actor=Actor.system("命令行"),
                round_id=round_id,
                data=data,
                filename=file.name,
                today=today_beijing(),
            )
        except importing.ImportRejected as exc:  # the data changed between the check and the write
            for problem in exc.preview.errors:
                click.echo(f"错误：{_where(problem)}{problem.message}", err=True)
            sys.exit(1)
        session.commit()
    click.echo(
        f"已导入《{file.name}》：共 {result.total} 行，新增 {result.created} 条，更新 {result.updated} 条，"
        f"未变 {result.unchanged} 条。"
        + (f"{result.reset_to_pending} 条已审查的申报因数据变化改为待审查。" if result.reset_to_pending else "")
    )


def _where(problem) -> str:  # type: ignore[no-untyped-def]
    if not problem.row:
        return ""
    return f"第 {problem.row} 行" + (f"「{problem.column}」" if problem.column else "") + "："
