"""Reads of one device's stored telemetry: raw rows, or 1-minute or 1-hour buckets.

At most MAX_POINTS points per answer. `auto` takes raw rows when the range holds no more
than that and starts after raw retention began deleting, else the finest bucket size whose
buckets fit and are still kept. An explicit step that would need more points is refused
rather than cut short, so a chart never silently misses its end.
Buckets are written by the rollup job about once a minute, so the newest ones lag the raw rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.domain.accounts import Actor
from hub.domain.errors import Invalid, NotFound
from hub.store.device_tables import devices, telemetry, telemetry_1h, telemetry_1m
from hub.views.scoping import building_filter

MAX_POINTS = 2000
DEFAULT_RANGE = timedelta(hours=1)
# Buckets start at whole UTC minutes and hours, whatever offset the caller writes times in.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BUCKETS = {"1m": (timedelta(minutes=1), telemetry_1m), "1h": (timedelta(hours=1), telemetry_1h)}
Step = Literal["auto", "raw", "1m", "1h"]


async def visible_device(session: AsyncSession, actor: Actor, device_id: int) -> None:
    """A device the actor may not see answers exactly as one that does not exist."""
    query = select(devices.c.id).where(
        devices.c.id == device_id,
        building_filter(actor, devices.c.site_id, devices.c.building_id))
    if await session.scalar(query) is None:
        raise NotFound("device", device_id)


def window(start: datetime | None, end: datetime | None,
           now: datetime) -> tuple[datetime, datetime]:
    """[from, to): `to` defaults to now, `from` to an hour before `to`."""
    end = end or now
    start = start or end - DEFAULT_RANGE
    if start >= end:
        raise Invalid("from must be before to", field="query.from")
    return start, end


def bucket_count(start: datetime, end: datetime, size: timedelta) -> int:
    """Buckets of `size` (aligned to the epoch, as the rollups are) that overlap [start, end)."""
    return math.ceil((end - EPOCH) / size) - (start - EPOCH) // size


@dataclass(frozen=True)
class Kept:
    """Since when raw rows and 1-minute buckets are complete (retention deletes older)."""

    raw_since: datetime
    minutes_since: datetime


def bucket_step(start: datetime, end: datetime, step: Step, kept: Kept) -> str:
    """The bucket size to answer with, or Invalid naming the field to change."""
    if step in BUCKETS:
        size = BUCKETS[step][0]
        needed = bucket_count(start, end, size)
        if needed > MAX_POINTS:
            raise Invalid(f"the range holds {needed} buckets of {step}, more than "
                          f"{MAX_POINTS}: use a larger step or a shorter range",
                          field="query.step")
        return step
    if start >= kept.minutes_since and bucket_count(start, end, BUCKETS["1m"][0]) <= MAX_POINTS:
        return "1m"
    if bucket_count(start, end, BUCKETS["1h"][0]) <= MAX_POINTS:
        return "1h"
    longest = BUCKETS["1h"][0] * MAX_POINTS
    raise Invalid(f"the range is longer than {longest.days} days, the most one answer holds "
                  f"({MAX_POINTS} hours)", field="query.from")


async def series(session: AsyncSession, device_id: int, metric: str, start: datetime,
                 end: datetime, step: Step, kept: Kept) -> dict[str, Any]:
    """Points of one metric: {"step", "points"}; the caller has checked scope and range."""
    if step == "raw" or (step == "auto" and start >= kept.raw_since):
        points = await _raw(session, device_id, metric, start, end, MAX_POINTS + 1)
        if len(points) <= MAX_POINTS:
            return {"step": "raw", "points": points}
        if step == "raw":
            raise Invalid(f"the range holds more than {MAX_POINTS} raw points: use step=1m, "
                          "step=1h or a shorter range", field="query.step")
    chosen = bucket_step(start, end, step, kept)
    return {"step": chosen,
            "points": await _buckets(session, device_id, metric, start, end, chosen)}


async def _raw(session: AsyncSession, device_id: int, metric: str, start: datetime,
               end: datetime, limit: int) -> list[dict[str, Any]]:
    query = select(telemetry.c.at, telemetry.c.value, telemetry.c.text).where(
        telemetry.c.device_id == device_id, telemetry.c.metric == metric,
        telemetry.c.at >= start, telemetry.c.at < end,
    ).order_by(telemetry.c.at, telemetry.c.id).limit(limit)
    rows = await session.execute(query)
    return [{"time": r.at, "value": r.value, "text": r.text} for r in rows]


async def _buckets(session: AsyncSession, device_id: int, metric: str, start: datetime,
                   end: datetime, step: str) -> list[dict[str, Any]]:
    size, table = BUCKETS[step]
    first = EPOCH + (start - EPOCH) // size * size  # the bucket holding `start`
    query = select(table).where(
        table.c.device_id == device_id, table.c.metric == metric,
        table.c.bucket >= first, table.c.bucket < end,
    ).order_by(table.c.bucket).limit(MAX_POINTS)
    rows = (await session.execute(query)).mappings()
    return [{"time": r["bucket"], "count": r["count"], "sum": r["sum"], "min": r["min"],
             "max": r["max"], "avg": r["sum"] / r["count"], "last": r["last"]} for r in rows]
