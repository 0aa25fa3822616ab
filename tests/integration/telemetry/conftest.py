"""Telemetry tests: databases on each backend (tests/integration/store), rows made with Core."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.store.device_tables import devices, telemetry
from hub.store.tables import sites
from tests.integration.api import conftest as api_conftest
from tests.integration.store.conftest import (  # noqa: F401 - fixtures, found by name
    database_url,
    empty_database_url,
    engine,
)

# The API tests' fixtures, by name: a seeded world (with devices), copied per test.
template = api_conftest.template
api = api_conftest.api

# The morning of the DESIGN.md example message: lift 1 of Lakeside Gardens goes up.
NOW = datetime(2026, 11, 26, 8, 30, tzinfo=UTC)


def at(clock: str, day: int = 26) -> datetime:
    """`at("08:00:40")`: a time on the test morning (or another day of November 2026)."""
    hour, minute, second = (float(part) for part in clock.split(":"))
    whole = int(second)
    return datetime(2026, 11, day, int(hour), int(minute), whole,
                    round((second - whole) * 1_000_000), tzinfo=UTC)


async def add_device(db: AsyncEngine, code: str = "lift-1", kind: str = "elevator",
                     site: str = "lakeside") -> int:
    async with db.begin() as conn:
        site_id = await conn.scalar(select(sites.c.id).where(sites.c.code == site))
        if site_id is None:
            site_id = await conn.scalar(insert(sites).values(
                code=site, name=site.title(), address="", timezone="Asia/Shanghai"
            ).returning(sites.c.id))
        return int(await conn.scalar(insert(devices).values(
            site_id=site_id, code=code, kind=kind, name=code, protocol="mqtt", connection={},
            poll_period_s=1.0, timeout_s=300, approval="active", tags=[]
        ).returning(devices.c.id)))


async def add_raw(db: AsyncEngine, device_id: int, metric: str,
                  rows: Iterable[tuple[datetime, float | str]]) -> None:
    """Raw rows as the ingestion pipeline stores them: numbers in value, words in text."""
    values = [{"device_id": device_id, "metric": metric, "at": stamp,
               "value": None if isinstance(v, str) else float(v),
               "text": v if isinstance(v, str) else None} for stamp, v in rows]
    async with db.begin() as conn:
        await conn.execute(insert(telemetry), values)
