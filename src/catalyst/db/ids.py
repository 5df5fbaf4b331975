"""The largest id a table's integer primary key can hold, read from the model.

A path or query id above it cannot name a row; sending it to the database would fail (PostgreSQL's
``integer`` is 32-bit), so callers answer "not found" or drop the bound instead.
"""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlalchemy.orm import DeclarativeBase


def max_id(model: type[DeclarativeBase]) -> int:
    column = model.__table__.c.id
    return 2**63 - 1 if isinstance(column.type, BigInteger) else 2**31 - 1
