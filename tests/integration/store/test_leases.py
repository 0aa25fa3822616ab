"""Leases on each backend: one holder at a time, renewal, takeover after expiry, and a leased
job that runs in exactly one of two workers and moves to the other when its holder stops."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.bootstrap import SINGLETON_JOBS, bootstrap
from hub.health import HealthBoard
from hub.leases import LeaseStore, leased
from hub.settings import load_settings
from tests.integration.devices.mqtt_support import eventually

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
TTL = timedelta(seconds=30)


async def test_one_holder_renews_and_another_takes_over_only_after_expiry(
        engine: AsyncEngine) -> None:
    store = LeaseStore(engine)
    assert await store.acquire("modbus", "hub-1", T0, TTL)
    assert not await store.acquire("modbus", "hub-2", T0 + timedelta(seconds=10), TTL)
    assert await store.acquire("modbus", "hub-1", T0 + timedelta(seconds=20), TTL)  # renewed
    # Expired 30 s after the renewal, not after the first take.
    assert not await store.acquire("modbus", "hub-2", T0 + timedelta(seconds=45), TTL)
    assert await store.acquire("modbus", "hub-2", T0 + timedelta(seconds=51), TTL)
    assert not await store.acquire("modbus", "hub-1", T0 + timedelta(seconds=52), TTL)
    await store.release("modbus", "hub-1")  # not its own: nothing happens
    assert not await store.acquire("modbus", "hub-1", T0 + timedelta(seconds=53), TTL)
    await store.release("modbus", "hub-2")
    assert await store.acquire("modbus", "hub-1", T0 + timedelta(seconds=54), TTL)


async def test_twenty_workers_racing_for_a_new_lease_one_wins(engine: AsyncEngine) -> None:
    store = LeaseStore(engine)
    won = await asyncio.gather(*(store.acquire("rollups", f"hub-{n}", T0, TTL)
                                 for n in range(20)))
    print(f"\n20 workers racing for one lease: {sum(won)} won")
    assert sum(won) == 1


async def test_a_leased_job_runs_in_one_worker_and_moves_when_it_stops(
        engine: AsyncEngine) -> None:
    store, health = LeaseStore(engine), HealthBoard()
    running: dict[str, int] = {"hub-1": 0, "hub-2": 0}

    def job(holder: str):  # type: ignore[no-untyped-def]
        async def run() -> None:
            running[holder] += 1
            try:
                await asyncio.Event().wait()
            finally:
                running[holder] -= 1
        return run

    def now() -> datetime:
        return datetime.now(UTC)

    first = asyncio.create_task(leased("poll", job("hub-1"), store, "hub-1", health, now,
                                       ttl_s=0.6))
    await eventually(lambda: running["hub-1"] == 1, "hub-1 to run it")
    second = asyncio.create_task(leased("poll", job("hub-2"), store, "hub-2", health, now,
                                        ttl_s=0.6))
    await asyncio.sleep(1.0)  # several renewals of both
    both = dict(running)
    first.cancel()  # hub-1 stops: it releases the lease on the way out
    with pytest.raises(asyncio.CancelledError):
        await first
    await eventually(lambda: running["hub-2"] == 1, "hub-2 to take over")
    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second
    print(f"\nleased job while both ran: {both}; after hub-1 stopped: hub-2 took over")
    assert both == {"hub-1": 1, "hub-2": 0}
    assert running == {"hub-1": 0, "hub-2": 0}


async def test_a_crashing_leased_job_is_raised_to_its_supervisor(engine: AsyncEngine) -> None:
    async def broken() -> None:
        raise ValueError("bad register map")

    with pytest.raises(ValueError, match="bad register map"):
        await asyncio.wait_for(leased("poll", broken, LeaseStore(engine), "hub-1",
                                      HealthBoard(), lambda: datetime.now(UTC), ttl_s=0.6), 10)


def test_the_hub_runs_its_pollers_rollups_and_schedulers_under_leases(tmp_path: Path) -> None:
    settings = load_settings(None, mode="demo", data_dir=tmp_path)
    hub = bootstrap(settings)
    leased_jobs = {name for name, job in hub.jobs.items()
                   if isinstance(job, partial) and job.func is leased}
    asyncio.run(hub.close())
    print(f"\nleased jobs: {sorted(leased_jobs)}")
    assert leased_jobs == set(SINGLETON_JOBS) & set(hub.jobs)
    assert {"telemetry.rollup", "work_orders.sla", "maintenance.due", "complaints.escalation",
            "announcements.scheduled", "billing.reminders", "units.status"} <= leased_jobs
    assert "mqtt" not in leased_jobs and "rules" not in leased_jobs  # every worker's own
