"""A hub on a fresh database per test (SQLite, and PostgreSQL/MariaDB when their URLs are set)
with a clock the test moves, and "maple", the small community of the hand-computed fixture."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from hub.bootstrap import Hub, bootstrap
from hub.settings import load_settings
from hub.store.db import make_engine
from tests.integration.billing.community import Clock
from tests.integration.store.conftest import database_url, empty_database_url

__all__ = ["clock", "database_url", "empty_database_url", "hub"]


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
async def hub(database_url: str, clock: Clock) -> AsyncIterator[Hub]:
    settings = load_settings(None, mode="demo", database={"url": database_url})
    hub = bootstrap(settings, engine=make_engine(database_url), clock=clock)
    try:
        yield hub
    finally:
        await hub.close()
