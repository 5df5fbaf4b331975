"""One settings object for the whole host, read from ``CATALYST_*`` variables and ``.env``."""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: This process's instance id when none is configured (``resolved_instance_id``).
_PROCESS_INSTANCE_ID = f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"


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
    #: On disable, a plugin's task runs still going get this long to finish before cancellation.
    plugin_task_grace_seconds: float = Field(default=5.0, ge=0)
    #: A process-runtime plugin's child is pinged this often, and killed (then restarted) when
    #: it does not answer within ``plugin_ping_timeout`` seconds.
    plugin_ping_interval: float = Field(default=5.0, gt=0)
    plugin_ping_timeout: float = Field(default=10.0, gt=0)
    #: This many crashes of a plugin's child within ``plugin_restart_window`` seconds put it in
    #: ``error``; before that each crash restarts it after a growing back-off.
    plugin_restart_max: int = Field(default=5, ge=1)
    #: The most memory a plugin's ``limits.memoryMb`` may ask for: a plugin does not choose how
    #: much of the host it may take.
    plugin_memory_max_mb: int = Field(default=1024, ge=32)
    plugin_restart_window: float = Field(default=60.0, gt=0)
    #: Run every plugin in this runtime whatever its manifest says (tests of both runtimes;
    #: ``inprocess`` gives every plugin full access to the host, consent or not).
    plugin_force_runtime: Literal["process", "inprocess"] | None = None
    plugin_storage_quota_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    plugin_storage_max_value_bytes: int = Field(default=1024 * 1024, ge=1024)
    #: Plugins enabled the first time they are discovered (``make run`` enables the example).
    plugin_auto_enable: list[str] = Field(default_factory=list)
    event_handler_timeout: float = Field(default=10.0, gt=0)
    ws_max_message_bytes: int = Field(default=64 * 1024, ge=1024)

    admin_username: str = "admin"
    admin_password: str | None = None

    session_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    session_cookie_name: str = "catalyst_session"
    session_cookie_secure: bool = False
    login_max_attempts: int = Field(default=5, ge=1)
    login_window_seconds: float = Field(default=60.0, gt=0)

    # --- edge: login floods, request body limits, cross-origin checks, proxies ---
    #: Failed logins allowed per client address within ``login_window_seconds``, any username.
    login_max_attempts_per_address: int = Field(default=30, ge=1)
    #: Threads that hash and verify passwords (argon2), off the event loop. One by default: an
    #: argon2 hash already uses 4 cores (its lanes), more would starve the event loop of CPU.
    login_hash_threads: int = Field(default=1, ge=1, le=32)
    #: Logins allowed to wait for a hashing thread; more are answered 503 with Retry-After.
    login_max_waiting: int = Field(default=16, ge=0)
    #: Largest request body of ``/api/auth/*``, and of every other path (plugin routes may raise
    #: their own with ``max_body_bytes``).
    auth_max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    #: Origins (``https://panel.example.com``) allowed besides the panel's own for cookie
    #: requests that change state and for ``/ws``. Comma separated in the environment.
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: Proxies (addresses or CIDRs, comma separated) whose ``X-Forwarded-For``/``-Proto`` are
    #: believed. Default: none, the direct peer is the client.
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("allowed_origins", "forwarded_allow_ips", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            scheme, sep, rest = origin.partition("://")
            if scheme not in ("http", "https") or not sep or not rest or "/" in rest:
                raise ValueError(f"{origin!r} is not an origin like https://panel.example.com")
        return [origin.lower() for origin in value]

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            if item != "*":
                ipaddress.ip_network(item, strict=False)  # raises ValueError with the reason
        return value

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
    # --- exec: plugin execution (route timeouts, thread pools, loop watchdog, shutdown)
    #: Seconds a plugin route may take before it is answered 504 (a route may set ``timeout=``).
    plugin_route_timeout: float = Field(default=30.0, gt=0)
    #: Worker threads per plugin for its sync handlers, tasks, listeners and hooks.
    plugin_threads: int = Field(default=4, ge=1, le=256)
    #: Worker threads for importing plugin code (separate from every plugin's own pool).
    plugin_import_threads: int = Field(default=2, ge=1, le=64)
    #: The event loop not answering for this long is a stall, logged and blamed; 0 turns it off.
    loop_stall_threshold_ms: int = Field(default=250, ge=0)
    #: On SIGTERM, seconds in-flight requests get before they are cancelled (uvicorn's grace).
    shutdown_grace_seconds: int = Field(default=3, ge=0)
    #: On shutdown, each on_disable/on_unload gets at most this long (or plugin_hook_timeout).
    shutdown_hook_timeout: float = Field(default=2.0, gt=0)
    # --- ws: WebSocket fan-out (a client is dropped only when really slow) ---
    #: A client whose writer made no progress this long while messages wait is dropped (4008).
    ws_slow_client_seconds: float = Field(default=10.0, gt=0)
    #: Hard memory bound of one client's outgoing queue; over it the client is dropped (4008).
    ws_max_queue_bytes: int = Field(default=16 * 1024 * 1024, ge=64 * 1024)

    # --- cluster: several instances as one (the database for truth, Redis for fan-out) ---
    #: Processes ``catalyst serve`` runs on one port (more than one needs PostgreSQL and Redis).
    workers: int = Field(default=1, ge=1, le=64)
    #: Every Redis channel and key of this cluster starts with this. Instances that share a
    #: database share it; two clusters on one Redis need different names.
    cluster_name: str = Field(default="catalyst", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    #: This instance's id in the cluster; default: host name, process id and a random suffix.
    instance_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:@-]{1,100}$")
    #: How often an instance writes its row in ``cluster_instances`` (3 missed: it is gone).
    cluster_heartbeat_seconds: float = Field(default=5.0, gt=0)
    #: How often an instance re-reads the database and repairs what a lost message missed
    #: (also at once after Redis comes back).
    cluster_reconcile_seconds: float = Field(default=30.0, gt=0)

    # --- metrics: Prometheus ``/metrics`` (docs/metrics.md) ---
    #: Measure and serve ``/metrics``; false: no ``/metrics`` anywhere.
    metrics_enabled: bool = True
    #: None: ``/metrics`` on the main app (``admin.read`` needed, unless ``metrics_public``).
    #: A port: only on a separate plain listener at ``127.0.0.1:<port>``, without login.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    #: Serve ``/metrics`` on the main app without login (scrapers on a private network).
    metrics_public: bool = False

    def resolved_instance_id(self) -> str:
        """``instance_id``, or one made once per process (host, pid, random suffix)."""
        if self.instance_id:
            return self.instance_id
        return _PROCESS_INSTANCE_ID

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
