"""The broker of the parking end-to-end tests: ESTATE_TEST_MQTT_URL when set (a site of the
test's own keeps its topics apart), else a Mosquitto of the test's own (tests/e2e/work); and
one database migrated once, which each test copies (migrating takes seconds)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hub.store.migrate import upgrade_async
from tests.e2e.work.conftest import broker_url

__all__ = ["broker_url", "migrated"]


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("parking-template") / "hub.db"
    asyncio.run(upgrade_async(f"sqlite+aiosqlite:///{path}"))
    return path
