"""Several instances as one: the instance registry, cron fire claims and shared task status

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cluster_instances",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("plugins", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_cluster_instances_seen_at"), "cluster_instances", ["seen_at"], unique=False
    )
    op.create_table(
        "task_claims",
        sa.Column("task_key", sa.String(length=300), nullable=False),
        sa.Column("fire_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("instance", sa.String(length=128), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("task_key", "fire_time"),
    )
    op.create_index(op.f("ix_task_claims_claimed_at"), "task_claims", ["claimed_at"], unique=False)
    op.create_table(
        "task_status",
        sa.Column("task_key", sa.String(length=300), nullable=False),
        sa.Column("plugin", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("last_run", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_duration", sa.Float(), nullable=True),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        sa.Column("run_count", sa.BigInteger(), nullable=False),
        sa.Column("skipped_count", sa.BigInteger(), nullable=False),
        sa.Column("error_count", sa.BigInteger(), nullable=False),
        sa.Column("running_on", sa.String(length=128), nullable=True),
        sa.Column("running_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("task_key"),
    )
    op.create_index(op.f("ix_task_status_plugin"), "task_status", ["plugin"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_task_status_plugin"), table_name="task_status")
    op.drop_table("task_status")
    op.drop_index(op.f("ix_task_claims_claimed_at"), table_name="task_claims")
    op.drop_table("task_claims")
    op.drop_index(op.f("ix_cluster_instances_seen_at"), table_name="cluster_instances")
    op.drop_table("cluster_instances")
