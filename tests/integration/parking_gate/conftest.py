"""The gate flow on a fresh SQLite database per test: the schema is made once from the table
definitions and its file copied for each test (creating it takes a second)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.store.db import make_engine, make_sessions
from hub.store.mapping import start_mappers
from hub.store.schema import metadata
from tests.integration.parking_gate.world import World, build_world


async def _create(path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    await engine.dispose()


@pytest.fixture(scope="session")
def schema_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gate-schema") / "schema.db"
    asyncio.run(_create(path))
    return path


@pytest.fixture
async def engine(tmp_path: Path, schema_file: Path) -> AsyncIterator[AsyncEngine]:
    start_mappers()
    path = tmp_path / "gate.db"
    shutil.copy(schema_file, path)
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    yield engine
    await engine.dispose()


@pytest.fixture
async def world(engine: AsyncEngine) -> World:
    return await build_world(engine, make_sessions(engine))
