"""The rollup and retention jobs, supervised as the composition root runs them, on each backend."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.health import HealthBoard
from hub.settings import TelemetrySettings
from hub.store.device_tables import telemetry, telemetry_1h, telemetry_1m
from hub.supervise import supervised
from hub.telemetry.jobs import RETENTION, ROLLUP, TelemetryJobs
from tests.integration.telemetry.conftest import NOW, add_device, add_raw, at

WAIT_S = 20.0


@pytest.fixture
async def jobs(engine: AsyncEngine) -> TelemetryJobs:
    """A lift that rode this morning and ten days ago; raw rows are kept a week."""
    lift = await add_device(engine)
    await add_raw(engine, lift, "floor", [(at("08:00:05"), 3), (at("08:00:40"), 7),
                                          (at("08:00:05", day=16), 12)])
    settings = TelemetrySettings(raw_retention_days=7, minute_retention_days=30)
    return TelemetryJobs(engine, settings, HealthBoard(), lambda: NOW)


async def rows(engine: AsyncEngine, table: Table) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


async def test_supervised_jobs_roll_up_and_report_to_health(jobs: TelemetryJobs,
                                                            engine: AsyncEngine) -> None:
    tasks = [asyncio.create_task(supervised(name, job, jobs.health))
             for name, job in jobs.jobs().items()]
    try:
        async with asyncio.timeout(WAIT_S):
            while not {ROLLUP, RETENTION} <= jobs.health.beats.keys():  # noqa: ASYNC110
                await asyncio.sleep(0.02)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    assert jobs.health.beats[ROLLUP].status == "ok"
    # The row of ten days ago is too close to deletion to be rolled up.
    assert "1 minute and 1 hour buckets" in jobs.health.beats[ROLLUP].detail
    assert await rows(engine, telemetry_1h) == 1


async def test_retention_deletes_what_is_rolled_up_and_older_than_the_limits(
        jobs: TelemetryJobs, engine: AsyncEngine) -> None:
    await jobs.roll_up_once()
    await jobs.roll_up_once()  # the watermark lags a run: now every row is behind it

    raw, minutes = await jobs.retain_once()

    async with engine.connect() as conn:
        kept = sorted(await conn.scalars(select(telemetry.c.at)))
        buckets = sorted(await conn.scalars(select(telemetry_1m.c.bucket)))
    assert (raw, minutes) == (1, 0)
    assert kept == [at("08:00:05"), at("08:00:40")]
    assert buckets == [at("08:00:00")]
    jobs.clock = lambda: NOW + timedelta(days=31)  # past the 30 days of minute buckets
    assert await jobs.retain_once() == (2, 1)
    assert await rows(engine, telemetry_1h) == 1
