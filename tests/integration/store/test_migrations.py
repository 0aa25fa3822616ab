"""Alembic migrations against each backend: they build, tear down and match the tables."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from hub.store.db import make_engine
from hub.store.migrate import downgrade, upgrade_async
from hub.store.schema import metadata

EVERY_TABLE = set(metadata.tables)


async def _table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    return set(names) - {"alembic_version"}


async def test_upgrade_on_an_empty_database_creates_every_table(empty_database_url: str) -> None:
    assert await _table_names(empty_database_url) == set()

    await upgrade_async(empty_database_url)

    assert await _table_names(empty_database_url) == EVERY_TABLE


async def test_downgrade_to_base_removes_every_table_and_upgrade_restores_them(
        database_url: str) -> None:
    await asyncio.to_thread(downgrade, database_url, "base")
    assert await _table_names(database_url) == set()

    await upgrade_async(database_url)
    assert await _table_names(database_url) == EVERY_TABLE


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_migrated_schema_matches_the_table_definitions(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences)
    finally:
        await engine.dispose()

    assert differences == []
