"""From ingestion to the bus: the worker built as bootstrap builds it, fed by the pipeline's
observers after commit, evaluating on its own task; SIGHUP reloads it."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.domain.observations import Envelope, Fault
from hub.domain.outcomes import Priority, RaiseFault
from hub.health import HealthBoard
from hub.ingest.pipeline import IngestPipeline
from hub.rules.runner import RulesRunner
from hub.rules.wiring import build_rules
from hub.settings import load_settings
from hub.supervise import Job
from tests.integration.ingest.conftest import (
    LIFT,
    T0,
    Lakeside,
    lakeside,
    make_pipeline,
    reading,
    running,
    until,
)
from tests.integration.rules.conftest import Clock, FakeBus
from tests.unit.test_rules_engine import PACKS

__all__ = ["lakeside", "make_pipeline"]  # fixtures, from the ingestion tests


@pytest.fixture
async def wired(make_pipeline: Any, bus: FakeBus, engine: AsyncEngine,
                clock: Clock) -> AsyncIterator[
        tuple[IngestPipeline, RulesRunner, dict[str, Job]]]:
    settings = load_settings(None, mode="demo", rules={"directory": str(PACKS)})
    pipeline = make_pipeline()
    jobs: dict[str, Job] = {}
    runner = build_rules(settings, engine, bus.handle, pipeline, HealthBoard(), clock, jobs)
    assert runner is not None and set(jobs) == {"rules", "rules.ticks"}
    task = asyncio.create_task(jobs["rules"]())
    async with running(pipeline):
        yield pipeline, runner, jobs
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def fault(seq: int, code: str, at_s: float = 0.0) -> Fault:
    at = T0 + timedelta(seconds=at_s)
    return Fault(Envelope(LIFT, received_at=at, ts=at, seq=seq, boot="boot-a"), code, True)


async def test_a_trapped_fault_stored_by_ingestion_reaches_the_bus_once(
        wired: Any, lakeside: Lakeside, bus: FakeBus) -> None:
    pipeline, runner, _ = wired
    await pipeline.put(reading(LIFT, 1, mode="normal", floor=3))
    await pipeline.put(fault(2, "TRAPPED_BETWEEN_FLOORS", 1))
    await pipeline.put(fault(2, "TRAPPED_BETWEEN_FLOORS", 1))  # redelivered: deduplicated
    await until(lambda: runner.stats.processed >= 2, "both messages evaluated")
    await runner.drained()
    raise_, _notify = bus.handled
    assert isinstance(raise_, RaiseFault) and raise_.priority == Priority.P1
    assert raise_.device_id == lakeside.ids["b3-lift-1"] and raise_.building_id == lakeside.b3
    assert raise_.cause.evidence[0].summary == {"code": "TRAPPED_BETWEEN_FLOORS",
                                                "active": True}
    # The reading, the first fault, and the lift coming online; the twin never arrives.
    assert (runner.stats.processed, runner.stats.outcomes) == (3, 2)


async def test_in_maintenance_mode_the_same_fault_reaches_nothing(
        wired: Any, lakeside: Lakeside, bus: FakeBus) -> None:
    pipeline, runner, _ = wired
    await pipeline.put(reading(LIFT, 1, mode="maintenance"))
    await pipeline.put(fault(2, "TRAPPED_BETWEEN_FLOORS", 1))
    await until(lambda: runner.stats.processed >= 2, "both messages evaluated")
    await runner.drained()
    assert bus.handled == []


async def test_sighup_reloads_the_rules(wired: Any, lakeside: Lakeside) -> None:
    pipeline, runner, _ = wired
    await pipeline.put(reading(LIFT, 1, mode="normal"))
    await until(lambda: runner.stats.processed >= 1, "the worker running")
    before = runner.rules
    os.kill(os.getpid(), signal.SIGHUP)
    await until(lambda: runner.stats.reloads == 1, "a reload on SIGHUP")
    assert runner.rules is not before and len(runner.rules.rules) == len(before.rules)
