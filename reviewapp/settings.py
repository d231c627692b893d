"""Typed settings read from REVIEWAPP_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo

DEV_SECRET = "dev-secret-change-me"


class SettingsError(RuntimeError):
    """Raised when the configuration cannot be used (e.g. default secret in production)."""


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from exc


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    mode: str = "dev"  # "dev" or "production"
    data_dir: Path = field(default_factory=lambda: Path("data"))
    database_url: str = ""
    secret_key: str = DEV_SECRET
    timezone: str = "Asia/Shanghai"
    session_idle_minutes: int = 120
    login_max_failures: int = 5
    login_window_minutes: int = 15
    upload_max_mb: int = 50
    trust_proxy_headers: bool = False
    password_min_length: int = 10
    public_report_limit: int = 5  # public reports (举报) per client address per hour
    public_lookup_limit: int = 30  # receipt-code lookups and additions per client address per hour
    crypto: str = "sha256"  # "gm": SM3 audit chain and SM4-encrypted confidential fields (reviewapp.crypto)
    crypto_key: str = field(default="", repr=False)  # SM4 keyring text; never stored in the database
    crypto_key_file: str = ""  # or a file holding it
    file_store: str = "filesystem"  # "filesystem" (under data_dir) or "database" (chunks, shared by every process)

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{(self.data_dir / 'reviewapp.db').as_posix()}")

    @property
    def is_production(self) -> bool:
        return self.mode == "production"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    def check(self) -> Settings:
        """Refuse configurations that must never run."""
        if self.mode not in {"dev", "production"}:
            raise SettingsError(f"REVIEWAPP_MODE must be 'dev' or 'production', got {self.mode!r}")
        if self.is_production and (self.secret_key == DEV_SECRET or len(self.secret_key) < 32):
            raise SettingsError(
                "REVIEWAPP_SECRET_KEY must be set to a random value of at least 32 characters in production"
            )
        if self.file_store not in {"filesystem", "database"}:
            raise SettingsError(f"REVIEWAPP_FILE_STORE must be 'filesystem' or 'database', got {self.file_store!r}")
        ZoneInfo(self.timezone)  # raises on an unknown zone
        if self.crypto not in {"sha256", "gm"}:
            raise SettingsError(f"REVIEWAPP_CRYPTO must be 'sha256' or 'gm', got {self.crypto!r}")
        if self.crypto == "gm" and not (self.crypto_key or self.crypto_key_file):
            raise SettingsError("REVIEWAPP_CRYPTO=gm needs REVIEWAPP_CRYPTO_KEY or REVIEWAPP_CRYPTO_KEY_FILE")
        return self


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("REVIEWAPP_DATA_DIR") or "data")
    return Settings(
        mode=env.get("REVIEWAPP_MODE", "dev") or "dev",
        data_dir=data_dir,
        database_url=env.get("REVIEWAPP_DATABASE_URL", ""),
        secret_key=env.get("REVIEWAPP_SECRET_KEY") or DEV_SECRET,
        timezone=env.get("REVIEWAPP_TIMEZONE") or "Asia/Shanghai",
        session_idle_minutes=_int(env, "REVIEWAPP_SESSION_IDLE_MINUTES", 120),
        login_max_failures=_int(env, "REVIEWAPP_LOGIN_MAX_FAILURES", 5),
        login_window_minutes=_int(env, "REVIEWAPP_LOGIN_WINDOW_MINUTES", 15),
        upload_max_mb=_int(env, "REVIEWAPP_UPLOAD_MAX_MB", 50),
        trust_proxy_headers=_bool(env, "REVIEWAPP_TRUST_PROXY_HEADERS", False),
        password_min_length=_int(env, "REVIEWAPP_PASSWORD_MIN_LENGTH", 10),
        public_report_limit=_int(env, "REVIEWAPP_PUBLIC_REPORT_LIMIT", 5),
        public_lookup_limit=_int(env, "REVIEWAPP_PUBLIC_LOOKUP_LIMIT", 30),
        crypto=(env.get("REVIEWAPP_CRYPTO") or "sha256").strip().lower(),
        crypto_key=env.get("REVIEWAPP_CRYPTO_KEY", ""),
        crypto_key_file=env.get("REVIEWAPP_CRYPTO_KEY_FILE", ""),
        file_store=(env.get("REVIEWAPP_FILE_STORE") or "filesystem").strip().lower(),
    ).check()
