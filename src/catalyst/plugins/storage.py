"""A plugin's key-value storage: JSON values in ``plugin_storage``, with size limits and counters.

Each :class:`StorageService` is bound to one plugin name and only ever reads or writes that
plugin's rows.

Accounting
    A key's ``size`` is the byte length of its value as compact JSON
    (``json.dumps(value, separators=(",", ":"))``, non-ASCII escaped). ``max_value_bytes`` bounds
    that size. The quota bounds the plugin's *usage*: the sum of its sizes **plus the UTF-8 length
    of its keys**, so that a flood of tiny values under long keys still counts.

Values
    ``dict`` (with ``str`` keys), ``list``, ``str``, ``int``, ``float``, ``bool`` and ``None``,
    nested freely. Integers must fit in 64 signed bits and floats must be finite, so every value
    reads back the same on SQLite and PostgreSQL. One SQLite quirk remains: it stores a
    top-level float with an integral value (``2.0``) as the integer ``2`` (the NUMERIC affinity
    of a ``JSON`` column), so that is what ``get`` returns and what ``increment`` adds to.

Consistency
    A write happens first and the quota is checked afterwards in the same transaction (from a
    usage subquery in the write's own ``RETURNING``, and by an exact query only near the quota);
    the transaction is rolled back when the quota is exceeded, so a refused call changes nothing.
    SQLite serialises writers with its database lock; on PostgreSQL :meth:`StorageService.set`
    takes a per-plugin transaction advisory lock so that concurrent writers cannot both squeeze
    under the quota. :meth:`StorageService.increment` is one
    ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement: the arithmetic happens in the
    database, never read-modify-write in Python. It takes no plugin lock, so on PostgreSQL
    concurrent increments of *new* keys may overshoot the quota by the few bytes of each.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    Float,
    LargeBinary,
    Numeric,
    Select,
    Text,
    case,
    cast,
    delete,
    func,
    literal,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from catalyst.db.models import PluginStorage, utcnow
from catalyst.db.outage import guarded
from catalyst.errors import BadRequest

MAX_KEY_LENGTH = 255
MAX_PLUGIN_NAME_LENGTH = 50  # the width of plugin_storage.plugin_name
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
FLOAT_MAX = sys.float_info.max

_JSON_TYPE_NAMES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}


class StorageError(BadRequest):
    """A storage call was refused: a bad key, a value that is not JSON, or a limit reached."""


def _check_key(key: object) -> str:
    if not isinstance(key, str):
        raise StorageError(f"Storage keys are strings, not {type(key).__name__}")
    if not key:
        raise StorageError("Storage keys must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise StorageError(
            f"Storage key {key[:20]!r}… is {len(key)} characters; the limit is {MAX_KEY_LENGTH}"
        )
    if "\x00" in key:
        raise StorageError(f"Storage key {key!r} contains a NUL character")
    _check_text(key, key, "The key")
    return key


def _check_text(key: str, text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise StorageError(
            f"{what} {text[:20]!r} of key {key!r} is not valid Unicode (a lone surrogate)"
        ) from None


def _check_tree(key: str, value: Any) -> None:
    """What ``json.dumps`` lets through but would not read back equal, or not on every backend."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for name, child in item.items():
                if not isinstance(name, str):
                    raise StorageError(
                        f"Value for key {key!r} has the object key {name!r}; "
                        "JSON object keys must be strings"
                    )
                _check_text(key, name, "An object key")
                stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            _check_text(key, item, "A string")
        elif isinstance(item, bool) or item is None or isinstance(item, float):
            continue  # json.dumps(allow_nan=False) already refused NaN and infinities
        elif isinstance(item, int):
            if not INT64_MIN <= item <= INT64_MAX:
                raise StorageError(
                    f"Value for key {key!r} has the integer {item}, outside the 64-bit range"
                )
        else:
            raise StorageError(
                f"Value for key {key!r} contains a {type(item).__name__}; only dict, list, str, "
                "int, float, bool and None can be stored"
            )


def _json_size(key: str, value: Any) -> int:
    """The compact-JSON byte size of ``value``; StorageError when it cannot be stored."""
    try:
        encoded = json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:  # unsupported type, NaN/Infinity, circular reference
        raise StorageError(f"Value for key {key!r} is not JSON-serialisable: {exc}") from None
    except RecursionError:
        raise StorageError(f"Value for key {key!r} is nested too deeply") from None
    _check_tree(key, value)
    return len(encoded.encode())


def _json_type_name(value: Any) -> str:
    return "null" if value is None else _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


class StorageService:
    """The key-value storage of one plugin."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        plugin_name: str,
        *,
        max_value_bytes: int = 1024 * 1024,
        quota_bytes: int = 10 * 1024 * 1024,
    ) -> None:
        if not plugin_name or len(plugin_name) > MAX_PLUGIN_NAME_LENGTH:
            raise ValueError(f"A plugin name has 1 to 50 characters, not {plugin_name!r}")
        self._sessions = guarded(sessions)  # an outage is a 503, not a plugin failure
        self.plugin_name = plugin_name
        self.max_value_bytes = max_value_bytes
        self.quota_bytes = quota_bytes
        digest = hashlib.blake2b(
            f"catalyst.plugin_storage:{plugin_name}".encode(), digest_size=8
        ).digest()
        self._lock_id = int.from_bytes(digest, "big", signed=True)

    def _own(self) -> ColumnElement[bool]:
        return PluginStorage.plugin_name == self.plugin_name

    def _row(self, key: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
        return self._own(), PluginStorage.key == key

    async def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key``, or ``default`` when it is not set."""
        key = _check_key(key)
        async with self._sessions() as db:
            row = (await db.execute(select(PluginStorage.value).where(*self._row(key)))).first()
        return default if row is None else row[0]

    async def set(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key``, replacing what was there."""
        key = _check_key(key)
        size = _json_size(key, value)
        if size > self.max_value_bytes:
            raise StorageError(
                f"Value for key {key!r} is {size} bytes; the limit is {self.max_value_bytes} bytes"
            )
        async with self._sessions() as db, db.begin():
            dialect = db.get_bind().dialect.name
            if dialect == "postgresql":
                lock = func.pg_advisory_xact_lock(literal(self._lock_id, BigInteger))
                await db.execute(select(lock))
            stmt = self._insert(dialect, key, value, size)
            upsert = stmt.on_conflict_do_update(
                index_elements=[PluginStorage.plugin_name, PluginStorage.key],
                set_={
                    "value": stmt.excluded.value,
                    "size": stmt.excluded.size,
                    "updated_at": stmt.excluded.updated_at,
                },
            ).returning(self._usage_query(dialect).scalar_subquery())
            seen = (await db.execute(upsert)).scalar_one()
            await self._enforce_quota(db, dialect, key, size, seen)

    async def delete(self, key: str) -> bool:
        """Remove ``key``; True when it was there."""
        key = _check_key(key)
        return await self._delete(*self._row(key)) > 0

    async def list(self, prefix: str = "") -> dict[str, Any]:
        """The keys starting with ``prefix`` (no wildcards) and their values, sorted by key."""
        if not isinstance(prefix, str):
            raise StorageError(f"A key prefix is a string, not {type(prefix).__name__}")
        stmt = select(PluginStorage.key, PluginStorage.value).where(self._own())
        if prefix:
            # substr rather than LIKE: no wildcards to escape, and case-sensitive on SQLite too
            stmt = stmt.where(func.substr(PluginStorage.key, 1, len(prefix)) == prefix)
        async with self._sessions() as db:
            rows = (await db.execute(stmt)).all()
        # sorted here, by code point, rather than by the database's collation
        return {key: value for key, value in sorted(rows, key=lambda row: row[0])}

    async def increment(self, key: str, by: int | float = 1) -> int | float:
        """Add ``by`` to the number under ``key`` (a missing key counts as 0); the new value.

        The result is an int when both the stored number and ``by`` are ints, else a float.
        """
        key = _check_key(key)
        if isinstance(by, bool) or not isinstance(by, int | float):
            raise StorageError(f"Cannot increment key {key!r} by {type(by).__name__}: not a number")
        if isinstance(by, float) and not math.isfinite(by):
            raise StorageError(f"Cannot increment key {key!r} by {by}: not a finite number")
        if isinstance(by, int) and not INT64_MIN <= by <= INT64_MAX:
            raise StorageError(f"Cannot increment key {key!r} by {by}: outside the 64-bit range")
        size = _json_size(key, by)
        async with self._sessions() as db, db.begin():
            dialect = db.get_bind().dialect.name
            stmt = self._insert(dialect, key, by, size)
            if dialect == "postgresql":
                new_value, new_size, allowed = _postgresql_sum(by)
            else:
                new_value, new_size, allowed = _sqlite_sum(by)
            upsert = stmt.on_conflict_do_update(
                index_elements=[PluginStorage.plugin_name, PluginStorage.key],
                set_={"value": new_value, "size": new_size, "updated_at": utcnow()},
                where=allowed,
            ).returning(
                PluginStorage.value,
                PluginStorage.size,
                self._usage_query(dialect).scalar_subquery(),
            )
            row = (await db.execute(upsert)).first()
            if row is None:  # the key exists and the update's WHERE refused it
                raise await self._increment_refusal(db, key, by)
            result, stored_size, seen = row
            exact = _json_size(key, result)
            if exact != stored_size:  # the database wrote a float differently from Python
                await db.execute(update(PluginStorage).where(*self._row(key)).values(size=exact))
            await self._enforce_quota(db, dialect, key, exact, seen)
        if isinstance(by, float) or isinstance(result, float):
            return float(result)
        return int(result)

    async def usage(self) -> int:
        """Bytes this plugin uses: its values' sizes plus the UTF-8 length of its keys."""
        async with self._sessions() as db:
            return await self._usage(db, db.get_bind().dialect.name)

    async def clear(self) -> int:
        """Remove every key of this plugin; how many there were."""
        return await self._delete(self._own())

    async def _delete(self, *where: ColumnElement[bool]) -> int:
        async with self._sessions() as db, db.begin():
            # through the Core connection, whose result has a typed rowcount
            conn = await db.connection()
            result = await conn.execute(delete(PluginStorage).where(*where))
        return result.rowcount

    def _insert(
        self, dialect: str, key: str, value: Any, size: int
    ) -> sqlite.Insert | postgresql.Insert:
        row = {
            "plugin_name": self.plugin_name,
            "key": key,
            "value": value,
            "size": size,
            "updated_at": utcnow(),
        }
        if dialect == "postgresql":
            return postgresql.insert(PluginStorage).values(row)
        if dialect == "sqlite":
            return sqlite.insert(PluginStorage).values(row)
        raise NotImplementedError(f"Plugin storage supports SQLite and PostgreSQL, not {dialect}")

    def _usage_query(self, dialect: str) -> Select[int]:
        # over an alias, so that it stays a self-contained subquery inside an INSERT … RETURNING
        row = aliased(PluginStorage)
        if dialect == "postgresql":
            key_bytes = func.octet_length(row.key)
        else:
            key_bytes = func.length(cast(row.key, LargeBinary))
        total = func.coalesce(func.sum(row.size + key_bytes), 0)
        return select(total).where(row.plugin_name == self.plugin_name)

    async def _usage(self, db: AsyncSession, dialect: str) -> int:
        return int((await db.execute(self._usage_query(dialect))).scalar_one())

    async def _enforce_quota(
        self, db: AsyncSession, dialect: str, key: str, size: int, seen: int
    ) -> None:
        """Raise (and so roll back the write just made) when the plugin is now over its quota.

        ``seen`` is the usage measured by the write's own RETURNING, with or without the key's
        old entry depending on the backend: plus the new entry it bounds the usage from above,
        so the exact (extra) query is only needed when that bound is over the quota.
        """
        entry = size + len(key.encode())
        if seen + entry <= self.quota_bytes:
            return
        used = await self._usage(db, dialect)
        if used > self.quota_bytes:
            raise StorageError(
                f"Storage quota of plugin {self.plugin_name!r} exceeded: key {key!r} needs "
                f"{entry} bytes (value and key) and the other keys use {used - entry} bytes, "
                f"{used} bytes in all; the quota is {self.quota_bytes} bytes"
            )

    async def _increment_refusal(self, db: AsyncSession, key: str, by: int | float) -> StorageError:
        current = (
            await db.execute(select(PluginStorage.value).where(*self._row(key)))
        ).scalar_one()
        if isinstance(current, bool) or not isinstance(current, int | float):
            return StorageError(
                f"Cannot increment: value of key {key!r} is not a number "
                f"(it is {_json_type_name(current)})"
            )
        return StorageError(
            f"Cannot increment key {key!r}: {current!r} + {by!r} is out of range "
            "(integers are limited to 64 bits, floats must stay finite)"
        )


SumParts = tuple[ColumnElement[Any], ColumnElement[Any], ColumnElement[bool]]


def _sqlite_sum(by: int | float) -> SumParts:
    """New value, its size and the update's guard on SQLite, where numbers are stored bare."""
    kind = func.json_type(PluginStorage.value)
    new = type_coerce(PluginStorage.value, Float) + literal(by)
    finite = func.abs(new) <= FLOAT_MAX  # a float overflow gives Inf, which is not JSON
    fits: ColumnElement[Any]
    if isinstance(by, int):
        # integer + integer overflows into a REAL in SQLite: refuse that instead
        fits = case((kind == "integer", func.typeof(new) == "integer"), else_=finite)
    else:
        fits = finite
    allowed = kind.in_(["integer", "real"]) & fits
    return new, func.length(cast(new, Text)), allowed


def _postgresql_sum(by: int | float) -> SumParts:
    """New value, its size and the update's guard on PostgreSQL, where the column is ``json``.

    An integer plus an integer is computed in ``numeric`` (exact); anything with a float in
    ``double precision``, like Python does, and written with a ``.0`` when integral so that it
    stays a float. The guard is computed in ``numeric`` so that it cannot overflow itself.
    """
    text = cast(PluginStorage.value, Text)
    is_integer = text.regexp_match(r"^\s*-?[0-9]+\s*$")
    total = cast(text, Float) + literal(by, Float)
    # float8 prints integral values below 1e15 without an exponent or a point ("3"): add ".0"
    integral = (total == func.trunc(total)) & (func.abs(total) < 1e15)
    as_float = case(
        (integral, cast(cast(cast(total, Numeric), Text) + ".0", JSON)),
        else_=func.to_json(total),
    )
    exact = cast(text, Numeric) + (
        literal(by, BigInteger) if isinstance(by, int) else cast(literal(by, Float), Numeric)
    )
    int_limit = literal(Decimal(INT64_MAX), Numeric)
    float_limit = literal(Decimal(FLOAT_MAX), Numeric)
    new: ColumnElement[Any]
    limit: ColumnElement[Any]
    if isinstance(by, int):
        new = case((is_integer, func.to_json(exact)), else_=as_float)
        limit = case((is_integer, int_limit), else_=float_limit)
    else:
        new = as_float
        limit = float_limit
    allowed = (func.json_typeof(PluginStorage.value) == "number") & (func.abs(exact) <= limit)
    return new, func.octet_length(cast(new, Text)), allowed
