"""Settings come from REVIEWAPP_* variables; production refuses the default secret."""

import pytest

from reviewapp.settings import DEV_SECRET, SettingsError, load_settings


def test_defaults_use_sqlite_under_data_and_beijing_time():
    settings = load_settings({})
    assert settings.database_url == "sqlite:///data/reviewapp.db"
    assert settings.timezone == "Asia/Shanghai"
    assert settings.session_idle_minutes == 120
    assert not settings.is_production


def test_environment_overrides():
    settings = load_settings(
        {
            "REVIEWAPP_DATABASE_URL": "postgresql+psycopg://u@h/db",
            "REVIEWAPP_DATA_DIR": "/srv/review",
            "REVIEWAPP_SESSION_IDLE_MINUTES": "30",
        }
    )
    assert settings.database_url.startswith("postgresql+psycopg")
    assert str(settings.upload_dir) == "/srv/review/uploads"
    assert settings.session_idle_minutes == 30


@pytest.mark.parametrize("secret", ["", DEV_SECRET, "too-short"])
def test_production_refuses_default_or_weak_secret(secret):
    with pytest.raises(SettingsError, match="REVIEWAPP_SECRET_KEY"):
        load_settings({"REVIEWAPP_MODE": "production", "REVIEWAPP_SECRET_KEY": secret})


def test_production_starts_with_a_real_secret():
    settings = load_settings({"REVIEWAPP_MODE": "production", "REVIEWAPP_SECRET_KEY": "x" * 48})
    assert settings.is_production


def test_bad_numbers_and_modes_are_named():
    with pytest.raises(SettingsError, match="REVIEWAPP_SESSION_IDLE_MINUTES"):
        load_settings({"REVIEWAPP_SESSION_IDLE_MINUTES": "two hours"})
    with pytest.raises(SettingsError, match="REVIEWAPP_MODE"):
        load_settings({"REVIEWAPP_MODE": "staging"})


def test_create_app_refuses_default_secret_in_production(monkeypatch):
    from reviewapp.app import create_app

    monkeypatch.setenv("REVIEWAPP_MODE", "production")
    monkeypatch.delenv("REVIEWAPP_SECRET_KEY", raising=False)
    with pytest.raises(SettingsError):
        create_app()
