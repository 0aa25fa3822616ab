"""The periodic telemetry jobs: rollups every `rollup_interval_s`, retention every
`retention_interval_s`. Each is a plain loop meant to run under `hub.supervise.supervised`,
which restarts it with backoff when the database fails; each reports a beat to /health.

Several workers may run them at once (scale-out): a rollup recomputes whole buckets, so two
runs agree, and a retention run deletes what the other would have.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from hub.health import HealthBoard
from hub.ports import Clock
from hub.settings import TelemetrySettings
from hub.store.telemetry import (
    RollupRun,
    delete_minutes_before,
    delete_raw_before,
    roll_up,
)
from hub.supervise import Job

log = logging.getLogger(__name__)

ROLLUP, RETENTION = "telemetry.rollup", "telemetry.retention"


@dataclass
class TelemetryJobs:
    engine: AsyncEngine
    settings: TelemetrySettings
    health: HealthBoard
    clock: Clock

    def jobs(self) -> dict[str, Job]:
        """Name -> job, for `supervised(name, job, health)` in the composition root."""
        return {ROLLUP: self.rollups, RETENTION: self.retention}

    async def rollups(self) -> None:
        while True:
            run = await self.roll_up_once()
            self.health.beat(ROLLUP, "ok", f"last run: {run.raw_rows} raw ids, "
                             f"{run.minute_buckets} minute and {run.hour_buckets} hour buckets")
            await asyncio.sleep(self.settings.rollup_interval_s)

    async def retention(self) -> None:
        while True:
            raw, minutes = await self.retain_once()
            self.health.beat(RETENTION, "ok",
                             f"last run: {raw} raw rows and {minutes} minute buckets deleted")
            await asyncio.sleep(self.settings.retention_interval_s)

    async def roll_up_once(self) -> RollupRun:
        return await roll_up(self.engine, now=self.clock(),
                             raw_retention=timedelta(days=self.settings.raw_retention_days))

    async def retain_once(self) -> tuple[int, int]:
        now, chunk = self.clock(), self.settings.delete_chunk_rows
        raw = await delete_raw_before(
            self.engine, now - timedelta(days=self.settings.raw_retention_days), chunk)
        minutes = await delete_minutes_before(
            self.engine, now - timedelta(days=self.settings.minute_retention_days), chunk)
        if raw or minutes:
            log.info("telemetry retention deleted %s raw rows and %s minute buckets",
                     raw, minutes)
        return raw, minutes
