"""64-bit ids: BIGINT ids and foreign keys on PostgreSQL

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 22:00:00

SQLite's INTEGER is 64-bit already (and must stay INTEGER for the rowid autoincrement of a
primary key), so only PostgreSQL changes: its ``integer`` columns and their ``serial`` sequences
stopped at 2^31 - 1.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (table, column, has its own sequence)
COLUMNS = [
    ("users", "id", True),
    ("roles", "id", True),
    ("servers", "id", True),
    ("plugin_storage", "id", True),
    ("audit_log", "id", True),
    ("servers", "owner_id", False),
    ("auth_sessions", "user_id", False),
    ("user_roles", "user_id", False),
    ("user_roles", "role_id", False),
]


def _change(new: sa.types.TypeEngine[int], old: sa.types.TypeEngine[int], sql_type: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table, column, sequenced in COLUMNS:
        op.alter_column(table, column, type_=new, existing_type=old)
        if sequenced:
            sequence = bind.execute(
                sa.text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table, "c": column}
            ).scalar()
            if sequence:
                op.execute(f"ALTER SEQUENCE {sequence} AS {sql_type}")


def upgrade() -> None:
    _change(sa.BigInteger(), sa.Integer(), "bigint")


def downgrade() -> None:
    _change(sa.Integer(), sa.BigInteger(), "integer")
