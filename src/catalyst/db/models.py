"""SQLAlchemy tables. The schema is created only by the Alembic migrations next to this file."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use an aware UTC datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: The range of a 64-bit column: every id, and every integer the API accepts.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def fits_int64(value: int) -> bool:
    return INT64_MIN <= value <= INT64_MAX


#: A 64-bit id: BIGINT on PostgreSQL; on SQLite INTEGER, which is 64-bit already and, as the
#: primary key, keeps its rowid autoincrement.
BigId = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    pass


user_roles = Table(
    "user_roles",
    Base.metadata,
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", BigId, ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
)


class Role(Base):
    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    roles: Mapped[list[Role]] = relationship(secondary=user_roles, lazy="selectin")

    @property
    def permissions(self) -> list[str]:
        return sorted({p for role in self.roles for p in role.permissions})


class AuthSession(Base):
    """A login session; the token itself is never stored, only its SHA-256."""

    __tablename__ = "auth_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Server(Base):
    """A game server managed by the panel."""

    __tablename__ = "servers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    game: Mapped[str] = mapped_column(String(64))
    node: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="stopped")
    owner_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Plugin(Base):
    """What the host remembers of a plugin across restarts."""

    __tablename__ = "plugins"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    granted_permissions: Mapped[list[str]] = mapped_column(JSON, default=list)
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class PluginStorage(Base):
    """One key of a plugin's key-value storage."""

    __tablename__ = "plugin_storage"
    __table_args__ = (UniqueConstraint("plugin_name", "key", name="uq_plugin_storage_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plugin_name: Mapped[str] = mapped_column(String(50), index=True)
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[Any] = mapped_column(JSON)
    size: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(255), default="", index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class ClusterInstance(Base):
    """One running instance of the host (a ``catalyst serve`` process), as it last reported.

    Written by the instance itself every ``cluster_heartbeat_seconds``; an instance not seen for
    three heartbeats is gone. ``plugins`` maps each plugin it knows to ``{"hash", "state",
    "loadedAt"}``: the code version (a hash of the plugin folder) it runs."""

    __tablename__ = "cluster_instances"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    host: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[str] = mapped_column(String(64), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    plugins: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class TaskClaim(Base):
    """One fire time of one task, claimed by the instance that runs it: the primary key makes a
    second claim of the same (task, fire time) a no-op (``ON CONFLICT DO NOTHING``)."""

    __tablename__ = "task_claims"
    __table_args__ = (PrimaryKeyConstraint("task_key", "fire_time"),)

    task_key: Mapped[str] = mapped_column(String(300))
    fire_time: Mapped[datetime] = mapped_column(UTCDateTime())
    instance: Mapped[str] = mapped_column(String(128))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class TaskState(Base):
    """A task's status shared by every instance and kept across restarts."""

    __tablename__ = "task_status"

    task_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    plugin: Mapped[str] = mapped_column(String(50), index=True)
    name: Mapped[str] = mapped_column(String(255))
    last_run: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_duration: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    run_count: Mapped[int] = mapped_column(BigInteger, default=0)
    skipped_count: Mapped[int] = mapped_column(BigInteger, default=0)
    error_count: Mapped[int] = mapped_column(BigInteger, default=0)
    #: The instance running it now (None when idle) and since when.
    running_on: Mapped[str | None] = mapped_column(String(128), nullable=True)
    running_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


__all__ = [
    "AuditLog",
    "AuthSession",
    "Base",
    "ClusterInstance",
    "Plugin",
    "PluginStorage",
    "Role",
    "Server",
    "TaskClaim",
    "TaskState",
    "User",
    "user_roles",
]
