"""Fixtures of the ingestion reliability tests: a rig per test with its own Mosquitto, a fresh
database migrated by `hub db upgrade` (SQLite in tmp_path by default, PostgreSQL when the test
asks for it with `@pytest.mark.parametrize("database_url", [rig.POSTGRES], indirect=True)`), hub
workers and devices, all stopped at the end.

Each test prints one summary line of its numbers (RELIABILITY.md, "numbers to report"); see
them with `pytest -s tests/e2e/devices`. PostgreSQL comes from ESTATE_TEST_POSTGRES_URL
(tests/services.py); the `mosquitto` binary must be on PATH."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.devices.processes import Broker
from tests.e2e.devices.rig import Rig
from tests.e2e.devices.store import Store
from tests.integration.store.conftest import fresh_database
from tests.services import in_ci, require_service


@pytest.fixture
def mosquitto_binary() -> str:
    path = shutil.which("mosquitto")
    if path is None:
        reason = "mosquitto: install it (apt-get install mosquitto) to run these tests"
        if in_ci():
            pytest.fail(f"{reason}; CI=true needs every service", pytrace=False)
        pytest.skip(reason)
    return path


@pytest.fixture(params=["sqlite"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of the test's own; `rig` migrates it with `hub db upgrade`."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
        return
    async with fresh_database(require_service(request.param)) as url:
        yield url


@pytest.fixture
async def rig(tmp_path: Path, database_url: str, mosquitto_binary: str) -> AsyncIterator[Rig]:
    broker = Broker(tmp_path / "broker")
    await broker.start()
    world = Rig(tmp_path, database_url, broker, Store(database_url))
    try:
        await world.prepare()
        yield world
    finally:
        await world.close()
