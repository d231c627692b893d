"""The reviewapp command: user management with passwords from standard input, demo data, --help everywhere."""

from click.testing import CliRunner
from sqlmodel import select

from reviewapp.auth.models import User
from reviewapp.cli import main
from tests.conftest import reread


def _run(settings, args, stdin=None):
    env = {"REVIEWAPP_DATABASE_URL": settings.database_url, "REVIEWAPP_DATA_DIR": str(settings.data_dir)}
    return CliRunner().invoke(main, args, input=stdin, env=env)


def test_user_add_reads_the_password_from_stdin(settings, db):
    result = _run(settings, ["user", "add", "zhang", "--role", "staff", "--name", "张三"], stdin="a-good-password-1\n")
    assert result.exit_code == 0, result.output
    user = db.exec(select(User).where(User.username == "zhang")).one()
    assert user.role == "staff" and user.display_name == "张三"
    assert user.password_hash.startswith("$argon2id$")


def test_user_add_refuses_a_weak_password_and_a_duplicate(settings):
    weak = _run(settings, ["user", "add", "lisi", "--role", "staff", "--name", "李四"], stdin="short\n")
    assert weak.exit_code != 0 and "至少需要" in weak.output
    _run(settings, ["user", "add", "lisi", "--role", "staff", "--name", "李四"], stdin="a-good-password-1\n")
    dup = _run(settings, ["user", "add", "lisi", "--role", "staff", "--name", "李四"], stdin="a-good-password-1\n")
    assert dup.exit_code != 0 and "已存在" in dup.output


def test_user_passwd_and_disable(settings, make_user, db):
    make_user("wang")
    result = _run(settings, ["user", "passwd", "wang"], stdin="another-password-2\n")
    assert result.exit_code == 0, result.output
    reread(db)
    assert db.exec(select(User).where(User.username == "wang")).one().must_change_password
    result = _run(settings, ["user", "disable", "wang"])
    assert result.exit_code == 0
    reread(db)
    assert not db.exec(select(User).where(User.username == "wang")).one().is_active
    missing = _run(settings, ["user", "disable", "nobody"])
    assert missing.exit_code != 0 and "不存在" in missing.output


def test_demo_loads_once_and_prints_logins(settings, db):
    first = _run(settings, ["demo"])
    assert first.exit_code == 0, first.output
    assert "admin-demo-2026" in first.output
    assert db.exec(select(User).where(User.username == "expert1")).one().role == "expert"
    again = _run(settings, ["demo"])
    assert again.exit_code != 0 and "只能载入空数据库" in again.output
    tolerant = _run(settings, ["demo", "--if-empty"])
    assert tolerant.exit_code == 0 and "未重复载入" in tolerant.output


def test_every_command_has_help():
    runner = CliRunner()

    def walk(command, path):
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0, path
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(main, [])
