"""Ingestion on each backend: a migrated database with Lakeside Gardens' devices, and a
pipeline factory whose writer runs as a task for the length of a test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.devices.backoff import Backoff
from hub.domain.observations import DeviceKey, Envelope, Telemetry
from hub.domain.registry import Approval, Protocol
from hub.ingest.pipeline import IngestPipeline
from hub.settings import IngestSettings
from hub.store.device_tables import devices
from hub.store.tables import buildings, sites
from tests.integration.store import conftest as store

# The store tests' fresh database per backend (SQLite, PostgreSQL, MariaDB), reused.
empty_database_url = store.empty_database_url
database_url = store.database_url
engine = store.engine
new_uow = store.new_uow

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
WAIT_S = 20.0  # an upper bound against hangs, never a measurement


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Lakeside:
    site_id: int = 0
    b3: int = 0
    ids: dict[str, int] = field(default_factory=dict)  # device code -> id


LIFT = DeviceKey("lakeside", "elevator", "b3-lift-1")
METER = DeviceKey("lakeside", "meter", "b3-meter-power")
GATE = DeviceKey("lakeside", "gate", "north-gate")
PENDING = DeviceKey("lakeside", "light", "lamp-07")
STRANGER = DeviceKey("lakeside", "door", "b9-door-1")


@pytest.fixture
async def lakeside(engine: AsyncEngine) -> Lakeside:
    world = Lakeside()
    async with engine.begin() as connection:
        world.site_id = (await connection.execute(insert(sites).values(
            code="lakeside", name="Lakeside Gardens", address="", timezone="Asia/Shanghai")
            .returning(sites.c.id))).scalar_one()
        world.b3 = (await connection.execute(insert(buildings).values(
            site_id=world.site_id, code="b3", name="Building 3", floors=18)
            .returning(buildings.c.id))).scalar_one()
        for key, approval, timeout in ((LIFT, Approval.ACTIVE, 30), (METER, Approval.ACTIVE, 300),
                                       (GATE, Approval.ACTIVE, 60),
                                       (PENDING, Approval.PENDING, 300)):
            await connection.execute(insert(devices).values(
                site_id=world.site_id, code=key.device, kind=key.kind, building_id=world.b3,
                name=key.device, protocol=Protocol.MQTT, connection={}, poll_period_s=1.0,
                timeout_s=timeout, approval=approval, tags=[]))
        rows = await connection.execute(select(devices.c.code, devices.c.id))
        world.ids = {row.code: row.id for row in rows}
    return world


def fast_backoff() -> Backoff:
    return Backoff(base=0.01, cap=0.05, floor=0.001)


PipelineFactory = Callable[..., IngestPipeline]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_pipeline(engine: AsyncEngine, clock: Clock) -> Iterator[PipelineFactory]:
    def build(**settings: Any) -> IngestPipeline:
        options: dict[str, Any] = {"batch_max_ms": 1.0, "registry_refresh_s": 60.0}
        options.update(settings)
        returning = options.pop("returning", None)
        export = options.pop("export", None)
        return IngestPipeline(engine, IngestSettings(**options), clock, backoff=fast_backoff,
                              returning=returning, export=export)

    yield build


@asynccontextmanager
async def running(pipeline: IngestPipeline) -> AsyncIterator[IngestPipeline]:
    """The writer as a task; cancelled on leaving."""
    task = asyncio.create_task(pipeline.run())
    try:
        yield pipeline
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait for a condition the test then asserts on; fail (not hang) if it never holds.
    Polled: the conditions are counters of the code under test, which signals nothing."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while not condition():
        if loop.time() > deadline:
            pytest.fail(f"never happened: {what}")
        await asyncio.sleep(0.005)


def reading(key: DeviceKey, seq: int | None, boot: str = "boot-a", *,
            at: datetime = T0, **metrics: float | int | bool | str) -> Telemetry:
    envelope = Envelope(key=key, received_at=at, ts=at, seq=seq, boot=boot)
    return Telemetry(envelope, metrics or {"floor": seq or 0})
