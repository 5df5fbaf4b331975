"""Migrations build the whole schema from empty and take it down again, on both backends."""

from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from catalyst.db import migrate
from catalyst.db.engine import create_engine
from catalyst.db.models import Base
from tests.conftest import FreshDatabases


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


async def test_upgrade_from_empty_to_head_and_down_to_base(
    fresh_databases: FreshDatabases,
) -> None:
    import asyncio

    url = await asyncio.to_thread(fresh_databases.new)
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_tables) == set()
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == migrate.head_revision()
        async with engine.connect() as conn:
            tables = await conn.run_sync(_tables)
        assert set(Base.metadata.tables) <= tables
        await migrate.downgrade(engine, "base")
        assert await migrate.current_revision(engine) is None
        async with engine.connect() as conn:
            assert await conn.run_sync(_tables) <= {"alembic_version"}
        # And up again: migrations are repeatable.
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == migrate.head_revision()
    finally:
        await engine.dispose()


async def test_models_match_migrations(migrated_url: str) -> None:
    """Autogenerate finds nothing to do: the models and the migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = create_engine(migrated_url)
    try:

        def diff(conn: Connection) -> list[object]:
            ctx = MigrationContext.configure(conn, opts={"compare_type": False})
            return list(compare_metadata(ctx, Base.metadata))

        async with engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await engine.dispose()
