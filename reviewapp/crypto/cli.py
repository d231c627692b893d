"""`reviewapp crypto new-key|status|rotate-key`: SM4 keys are made and kept outside the database."""

from __future__ import annotations

import os
from pathlib import Path

import click

from reviewapp.cli import cli_engine, cli_settings, main


@main.group()
def crypto() -> None:
    """国密 (REVIEWAPP_CRYPTO=gm): SM3 audit chain, SM4-encrypted confidential fields."""


@crypto.command("new-key")
@click.option("--id", "key_id", default=None, help="Key id (default: k + UTC timestamp).")
@click.option(
    "--file",
    "key_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Put the key first in this key file (older keys stay, to read old values until rotate-key).",
)
def new_key(key_id: str | None, key_file: Path | None) -> None:
    """Make a random SM4 key; print it, or make it the active key of a key file."""
    from reviewapp.crypto import core

    try:
        line = core.generate_key_line(key_id)
        if key_file is None:
            click.echo(line)
            return
        old = key_file.read_text(encoding="utf-8") if key_file.exists() else ""
        if old.strip():
            core.Keyring.parse(old)  # refuse to prepend to a file that is not a keyring
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(line + "\n" + old)
    except core.CryptoError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"已生成新密钥 {line.split(':', 1)[0]} 并设为 {key_file} 中的当前密钥。请运行 reviewapp crypto rotate-key 重新加密。"
    )


@crypto.command("status")
def status() -> None:
    """Show the mode, the keys, and what is stored under which key."""
    from reviewapp.crypto import core, service
    from reviewapp.db import session_scope

    settings = cli_settings()
    cfg = core.active()
    click.echo(f"加密模式：{'国密（SM3 + SM4）' if cfg.gm else '默认（SHA-256，机密字段明文存储）'}")
    if cfg.keyring is not None:
        ids = ", ".join(kid for kid, _ in cfg.keyring.keys)
        click.echo(f"当前密钥：{cfg.keyring.active_id}（可用密钥：{ids}）")
    source = "REVIEWAPP_CRYPTO_KEY" if settings.crypto_key else settings.crypto_key_file or "无"
    click.echo(f"密钥来源：{source}")
    with session_scope(cli_engine()) as session:
        for (table, column), counts in service.stored_key_counts(session).items():
            parts = "，".join(f"{k} {n} 条" for k, n in sorted(counts.items())) or "无数据"
            click.echo(f"  {table}.{column}：{parts}")
        algs = service.audit_algorithm_counts(session)
    click.echo("审计日志：" + ("，".join(f"{alg.upper()} {n} 条" for alg, n in sorted(algs.items())) or "无记录"))


@crypto.command("rotate-key")
def rotate_key() -> None:
    """Re-encrypt every confidential value with the active key (in default mode: decrypt to plain text)."""
    from reviewapp.audit import Actor
    from reviewapp.crypto import core, service
    from reviewapp.db import session_scope

    cli_settings()
    try:
        with session_scope(cli_engine(), write=True) as session:
            changed = service.rotate(session, actor=Actor.system("命令行"))
            session.commit()
    except core.CryptoError as exc:
        raise click.ClickException(str(exc)) from exc
    cfg = core.active()
    if cfg.gm and cfg.keyring:
        click.echo(f"已用密钥 {cfg.keyring.active_id} 重新加密 {changed} 个机密字段值。")
    else:
        click.echo(f"已将 {changed} 个机密字段值恢复为明文存储。")
