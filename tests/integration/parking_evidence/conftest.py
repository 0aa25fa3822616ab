"""The gate flow with its evidence keeper on a fresh SQLite database per test (the gate
flow's own world, tests/integration/parking_gate/world.py)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.store.db import make_engine
from hub.store.mapping import start_mappers
from hub.store.schema import metadata


async def _create(path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    await engine.dispose()


@pytest.fixture(scope="session")
def evidence_schema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("evidence-schema") / "schema.db"
    asyncio.run(_create(path))
    return path


@pytest.fixture
async def engine(tmp_path: Path, evidence_schema: Path) -> AsyncIterator[AsyncEngine]:
    start_mappers()
    path = tmp_path / "gate.db"
    shutil.copy(evidence_schema, path)
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    yield engine
    await engine.dispose()
