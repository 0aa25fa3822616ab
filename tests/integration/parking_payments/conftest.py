"""A hub per test (SQLite, and PostgreSQL/MariaDB when their URLs are set) with a clock the
test moves, and "willow": one site, two households, a visitors' tariff and a car inside."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC
from pathlib import Path

import pytest

from hub import bootstrap as composition
from hub.bootstrap import Hub, bootstrap
from hub.domain.parking.events import ParkingChargePaid
from hub.settings import load_settings
from hub.store.db import make_engine
from hub.store.migrate import upgrade, upgrade_async
from tests.integration.billing.community import Clock
from tests.integration.parking_payments.willow import ENTRY
from tests.integration.store.conftest import empty_database_url

__all__ = ["clock", "database_url", "empty_database_url", "hub", "paid_events"]
# Only the races need every backend; the rest run on SQLite (see SQLITE_ONLY).
SQLITE_ONLY = pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite database migrated once, copied for each test (migrating takes seconds)."""
    path = tmp_path_factory.mktemp("parking-payments") / "hub.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
async def database_url(empty_database_url: str, migrated_sqlite: Path) -> str:
    """The test's database migrated to the head revision."""
    if empty_database_url.startswith("sqlite"):
        shutil.copy(migrated_sqlite, empty_database_url.removeprefix("sqlite+aiosqlite:///"))
    else:
        await upgrade_async(empty_database_url)
    return empty_database_url


@pytest.fixture
def clock() -> Clock:
    return Clock(ENTRY.astimezone(UTC))


@pytest.fixture
def paid_events() -> Iterator[list[ParkingChargePaid]]:
    """The ParkingChargePaid events the bus publishes (what the gate flow listens to)."""
    seen: list[ParkingChargePaid] = []

    async def record(event: ParkingChargePaid, uow: object) -> None:
        seen.append(event)

    followers = composition.EVENT_HANDLERS.setdefault(ParkingChargePaid, [])
    followers.append(record)
    try:
        yield seen
    finally:
        followers.remove(record)


@pytest.fixture
async def hub(database_url: str, clock: Clock, paid_events: list[ParkingChargePaid]
              ) -> AsyncIterator[Hub]:
    settings = load_settings(None, mode="demo", database={"url": database_url})
    hub = bootstrap(settings, engine=make_engine(database_url), clock=clock)
    try:
        yield hub
    finally:
        await hub.close()
