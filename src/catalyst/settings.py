"""One settings object for the whole host, read from ``CATALYST_*`` variables and ``.env``."""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Host settings. Every field can be set with ``CATALYST_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix="CATALYST_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite+aiosqlite:///./data/catalyst.db"
    redis_url: str | None = None
    plugins_dir: Path = Path("./catalyst-plugins")
    data_dir: Path = Path("./data")
    host: str = "127.0.0.1"
    port: int = Field(default=3000, ge=1, le=65535)
    secret_key: str | None = None
    hot_reload: bool = False
    #: Hot reload waits this long after the last change of a burst before reloading.
    hot_reload_step_ms: int = Field(default=30, ge=5, le=2000)
    log_format: str = Field(default="auto", pattern="^(auto|console|json)$")
    log_level: str = "info"

    plugin_hook_timeout: float = Field(default=10.0, gt=0)
    plugin_storage_quota_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    plugin_storage_max_value_bytes: int = Field(default=1024 * 1024, ge=1024)
    #: Plugins enabled the first time they are discovered (``make run`` enables the example).
    plugin_auto_enable: list[str] = Field(default_factory=list)
    event_handler_timeout: float = Field(default=10.0, gt=0)
    ws_max_message_bytes: int = Field(default=64 * 1024, ge=1024)
    ws_queue_size: int = Field(default=256, ge=1)

    admin_username: str = "admin"
    admin_password: str | None = None

    session_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    session_cookie_name: str = "catalyst_session"
    session_cookie_secure: bool = False
    login_max_attempts: int = Field(default=5, ge=1)
    login_window_seconds: float = Field(default=60.0, gt=0)

    # --- data: database timeouts and secrets at rest ---
    #: Seconds to open a database connection before the request fails with 503.
    db_connect_timeout: float = Field(default=1.5, gt=0)
    #: Seconds one statement may run (PostgreSQL ``statement_timeout`` and the driver's own
    #: command timeout) before the request fails with 503.
    db_statement_timeout: float = Field(default=2.5, gt=0)
    #: Seconds a request waits for a free pooled connection before failing with 503.
    db_pool_timeout: float = Field(default=2.0, gt=0)
    #: Seconds SQLite waits for another writer's lock before giving up (503).
    db_busy_timeout: float = Field(default=4.0, gt=0)
    #: Seconds ``/readyz`` allows the database to answer ``SELECT 1``.
    readiness_timeout: float = Field(default=1.0, gt=0)
    #: The previous ``secret_key`` after a key change: secrets encrypted with it stay readable
    #: until ``catalyst secrets rotate`` (or the next start) re-encrypts them with the current one.
    secret_key_previous: str | None = None

    def resolved_secret_key(self) -> str:
        """The configured secret, or one generated once and kept in the data folder."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key
