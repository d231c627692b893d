"""The `reviewapp` command: serve, db, user, demo, audit (and, as capabilities land, import/export/round)."""

from __future__ import annotations

import importlib
import sys

import click

from reviewapp.settings import SettingsError, load_settings


def cli_settings():  # type: ignore[no-untyped-def]
    from reviewapp import crypto

    try:
        settings = load_settings()
        crypto.configure(settings)  # every command reads and writes confidential columns and audit entries alike
        return settings
    except (SettingsError, crypto.CryptoError) as exc:
        raise click.ClickException(str(exc)) from exc


def cli_engine():  # type: ignore[no-untyped-def]
    from reviewapp.db import create_db_engine
    from reviewapp.models_registry import import_all_models

    import_all_models()
    return create_db_engine(cli_settings())


def _read_password(prompt: str) -> str:
    """From standard input when it is not a terminal, else a hidden prompt asked twice. Never from argv."""
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise click.ClickException("未从标准输入读到密码。")
        return line
    return click.prompt(prompt, hide_input=True, confirmation_prompt="再次输入以确认")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """智能工厂评审协作平台 (reviewapp) command line.

    Configuration comes from REVIEWAPP_* environment variables (see README).
    """


# --- serve ----------------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=int, help="Number of app processes.")
@click.option("--no-migrate", is_flag=True, help="Do not apply pending migrations before starting.")
def serve(host: str, port: int, workers: int, no_migrate: bool) -> None:
    """Apply pending migrations once, then start the web server with N workers."""
    import uvicorn

    from reviewapp.upgrade import upgrade

    settings = cli_settings()
    if not no_migrate:
        upgrade(settings)
    click.echo(f"智能工厂评审协作平台已启动：http://{host}:{port}/  （{workers} 个进程，按 Ctrl+C 停止）")
    uvicorn.run(
        "reviewapp.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        proxy_headers=settings.trust_proxy_headers,
    )


# --- db -------------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def db_upgrade(revision: str) -> None:
    """Apply pending migrations and load the reference catalogues."""
    from reviewapp.upgrade import upgrade

    settings = cli_settings()
    upgrade(settings, revision)
    click.echo(f"数据库已升级到最新版本（{settings.database_url.split('@')[-1]}）。")
    _admin_roles_note()


def _admin_roles_note() -> None:
    """After migration 0012_admin_roles: say what became of the old administrators and which roles are missing."""
    from sqlalchemy import func
    from sqlmodel import select

    from reviewapp.auth.models import ADMIN_ROLES, ROLE_LABELS, User
    from reviewapp.db import session_scope

    with session_scope(cli_engine()) as session:
        counts = dict(session.exec(select(User.role, func.count()).group_by(User.role)).all())
    if not counts:
        return
    missing = [role for role in sorted(ADMIN_ROLES) if not counts.get(role)]
    if missing:
        click.echo(
            "注意：本系统实行三员分立。原「管理员（admin）」账号已全部转为系统管理员（sysadmin），"
            "只管理账号，不再能进入评审业务页面和操作日志。"
        )
        for role in missing:
            click.echo(
                f"  尚无{ROLE_LABELS[role]}（{role}），请创建：reviewapp user create 用户名 --role {role} --name 姓名"  # type: ignore[index]
            )


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the migration changes.")
@click.option("--rev-id", default=None, help="Revision id (default: next number).")
def db_revision(message: str, rev_id: str | None) -> None:
    """Autogenerate a migration from the models (against an up-to-date database)."""
    from alembic import command
    from alembic.script import ScriptDirectory

    from reviewapp.db import alembic_config
    from reviewapp.models_registry import import_all_models

    import_all_models()
    cfg = alembic_config(cli_settings())
    if rev_id is None:
        heads = ScriptDirectory.from_config(cfg).get_heads()
        numbers = [int(h[:4]) for h in heads if h[:4].isdigit()]
        rev_id = f"{max(numbers, default=0) + 1:04d}"
    command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)


# --- users ----------------------------------------------------------------------------------------


@main.group()
def user() -> None:
    """Manage accounts (passwords are read from standard input or a prompt)."""


ROLE_CHOICES = ["sysadmin", "secadmin", "auditadmin", "staff", "expert", "admin"]


@user.command("create")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice(ROLE_CHOICES),
    required=True,
    help="sysadmin (系统管理员), secadmin (安全管理员), auditadmin (审计管理员), staff, expert; 'admin' is the old "
    "single administrator role and now means sysadmin.",
)
@click.option("--name", "display_name", required=True, help="Display name (姓名).")
@click.option("--temporary/--permanent", default=False, help="Require a password change at first login.")
def user_add(username: str, role: str, display_name: str, temporary: bool) -> None:
    """Create an account (the first account of each administrator role is made here)."""
    from reviewapp.audit import Actor
    from reviewapp.auth import service
    from reviewapp.auth.models import LEGACY_ADMIN, Role
    from reviewapp.db import session_scope
    from reviewapp.errors import ServiceError

    if role == LEGACY_ADMIN:
        role = Role.sysadmin.value
        click.echo("注意：原「管理员（admin）」角色已拆分为三员；--role admin 按系统管理员（sysadmin）创建。")
    password = _read_password("密码")
    with session_scope(cli_engine(), write=True) as session:
        try:
            service.create_user(
                session,
                actor=Actor.system("命令行"),
                username=username,
                display_name=display_name,
                role=role,
                password=password,
                must_change_password=temporary,
                settings=cli_settings(),
            )
        except ServiceError as exc:
            raise click.ClickException(exc.message) from exc
        session.commit()
    click.echo(f"已创建用户 {username}（{Role(role).label}）。")


user.add_command(user_add, "add")  # the command's earlier name


@user.command("passwd")
@click.argument("username")
@click.option("--temporary/--permanent", default=True, help="Require a change at next login (default).")
def user_passwd(username: str, temporary: bool) -> None:
    """Set a user's password; ends the user's sessions."""
    from reviewapp.audit import Actor
    from reviewapp.auth import service
    from reviewapp.db import session_scope
    from reviewapp.errors import ServiceError

    password = _read_password("新密码")
    with session_scope(cli_engine(), write=True) as session:
        found = service.find_user(session, username)
        if found is None:
            raise click.ClickException(f"用户 {username} 不存在。")
        try:
            changed = service.set_one_time_password(
                session,
                actor=Actor.system("命令行"),
                user_id=found.id,
                password=password,
                settings=cli_settings(),
                admin_accounts=True,  # the server's operator may reset an administrator's password
            )
        except ServiceError as exc:
            raise click.ClickException(exc.message) from exc
        changed.must_change_password = temporary
        session.add(changed)
        session.commit()
    click.echo(f"已为 {username} 设置新密码，其登录会话已结束。")


@user.command("disable")
@click.argument("username")
def user_disable(username: str) -> None:
    """Disable an account and end its sessions."""
    from reviewapp.audit import Actor
    from reviewapp.auth import service
    from reviewapp.db import session_scope

    with session_scope(cli_engine(), write=True) as session:
        found = service.find_user(session, username)
        if found is None:
            raise click.ClickException(f"用户 {username} 不存在。")
        service.set_active(session, actor=Actor.system("命令行"), user_id=found.id, active=False, admin_accounts=True)
        session.commit()
    click.echo(f"已停用用户 {username}。")


# --- demo -----------------------------------------------------------------------------------------


@main.command()
@click.option("--if-empty", is_flag=True, help="Do nothing (but print the demo logins) when the database has users.")
def demo(if_empty: bool) -> None:
    """Load the demo dataset into an empty database and print the demo logins."""
    from reviewapp.db import session_scope
    from reviewapp.demo import DemoError, all_logins, load_demo

    with session_scope(cli_engine(), write=True) as session:
        try:
            logins = load_demo(session, settings=cli_settings())
            session.commit()
            click.echo("演示数据已载入。演示账号（用户名 / 密码）：")
        except DemoError as exc:
            if not if_empty:
                raise click.ClickException(str(exc)) from exc
            logins = all_logins()
            click.echo("数据库中已有数据，未重复载入演示数据。演示账号（若未修改）：")
    for username, password, label in logins:
        click.echo(f"  {label:<8} {username:<12} {password}")


# --- audit ----------------------------------------------------------------------------------------


@main.group()
def audit() -> None:
    """Audit-log commands."""


@audit.command("verify")
def audit_verify() -> None:
    """Check the hash chain; exit 1 naming the first broken entry."""
    from reviewapp.audit.service import verify_chain
    from reviewapp.db import session_scope

    with session_scope(cli_engine()) as session:
        count, problem = verify_chain(session)
    if problem is not None:
        click.echo(f"审计日志校验失败：{problem.reason}（已核对 {count} 条）", err=True)
        sys.exit(1)
    click.echo(f"审计日志完整：共 {count} 条记录，哈希链校验通过。")


# --- groups that domain packages fill -------------------------------------------------------------


@main.group(name="round")
def round_group() -> None:
    """Review rounds (批次)."""


@main.group(name="import")
def import_group() -> None:
    """Import Excel files (all-or-nothing; --dry-run reports every bad row)."""


@main.group(name="export")
def export_group() -> None:
    """Export the official Excel lists."""


# Each domain defines its commands in its own cli module, on the groups above.
DOMAIN_CLI_MODULES: list[str] = [
    "reviewapp.crypto.cli",
    "reviewapp.backup",
    "reviewapp.rounds.cli",
    "reviewapp.applications.cli",
    "reviewapp.panels.cli",
    "reviewapp.ranking.cli",
    "reviewapp.documents.cli",
]

for _module in DOMAIN_CLI_MODULES:
    importlib.import_module(_module)


if __name__ == "__main__":  # pragma: no cover
    main()
