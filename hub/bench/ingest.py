"""`hub bench ingest`: MQTT telemetry through the hub's own ingestion path into storage.

The hub is built by `hub.bootstrap.bootstrap` and its jobs run supervised as `hub run` runs
them (minus the API): MQTT adapter with ack-after-commit, pipeline, batch writer, SQL, and an
observer in the slot the rules use, which stamps each message after its commit. Simulated
meters publish QoS 1 from processes of their own (hub.bench.publishers).

1. Sustained: `rate` messages/s for a warm-up, then `seconds` measured. Throughput is what
   was stored within the window; latency runs from the payload's `ts` (send time) to the
   observer, for the messages sent within the window.
2. Ceiling, in the same run: the hub's input stops, a backlog is published for the hub's
   session and for bare subscribers' (hub.bench.bare), then each drains it alone.
3. Accounting: every (device, seq) the broker acknowledged to a publisher must be in the
   inbox (`lost`), and no message may have left its readings twice (`duplicates`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hub.bench import report
from hub.bench.bare import BareRequest, BareResult, run_bare
from hub.bench.hubjobs import cpu_seconds
from hub.bench.mosquitto import BenchMosquitto
from hub.bench.publishers import PublishPlan, PublishReport, run_publishers
from hub.bench.stamps import Stamps, drain_rate, stored, sustained
from hub.bench.workers import HubSide, InProcess, hub_settings, run_in_process, run_workers
from hub.bootstrap import Hub, bootstrap
from hub.devices.registry_config import DeviceSpec, apply_devices
from hub.domain import commands as c
from hub.domain.accounts import SYSTEM
from hub.domain.property import Site
from hub.loops import EventLoopKind
from hub.store import migrate

log = logging.getLogger(__name__)

SITE = "bench"
SPAWN_S = 1.5  # publisher processes start before their first message
# Waiting for the hub to store what was published ends when nothing more has been stored for
# this long: a hub slower than the offered rate still gets a figure, and what never comes is
# counted as lost instead of hanging the run.
STALL_S = 30.0


@dataclass(frozen=True)
class IngestPlan:
    devices: int = 50
    rate: float = 10_000.0  # messages/s from all devices together
    seconds: float = 20.0
    warmup_s: float = 3.0
    broker: str | None = None  # mqtt://host:port; None: a Mosquitto of our own
    database: str | None = None  # SQLAlchemy URL; None: SQLite in a temporary folder
    publishers: int = 2
    # Messages drained by the hub, then by each bare subscriber. Kept below 65,535: Mosquitto
    # 2.0.11 does not hold to the receive maximum, and with more unacknowledged messages than
    # packet ids it reuses ids still in flight (docs/benchmarks.md).
    backlog: int = 50_000
    bare: tuple[str, ...] = ("aiomqtt", "paho")
    client: str = "raw"  # the publishers' MQTT client (hub.bench.publishers)
    incoming_queue: int = 20_000  # the hub's [mqtt] incoming_queue: where reading pauses
    # Hub processes on one shared subscription and one database (hub.bench.workers); 1: the
    # hub runs in the benchmark's own process.
    workers: int = 1
    event_loop: EventLoopKind = "uvloop"  # the workers' (the caller runs this process's)


async def run(plan: IngestPlan) -> dict[str, Any]:
    run_id = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory(prefix="hub-bench-") as folder:
        async with AsyncExitStack() as stack:
            broker_pid = None
            url = plan.broker
            if url is None:
                broker = await stack.enter_async_context(BenchMosquitto(Path(folder)))
                url, broker_pid = broker.url, broker.pid
            database = plan.database or f"sqlite+aiosqlite:///{folder}/hub.db"
            await migrate.upgrade_async(database)
            queue = {"mqtt": {"incoming_queue": plan.incoming_queue}}
            hub = bootstrap(hub_settings(
                folder=folder, broker_url=url, database=database,
                client_id=f"bench-hub-{run_id}", site=SITE, sections=queue))
            stack.push_async_callback(hub.close)
            codes = await _register(hub, plan.devices)
            stamps = Stamps(boot=f"bench-{run_id}")
            side: HubSide
            if plan.workers == 1:
                side = InProcess(hub, await run_in_process(stack, hub, stamps), stamps)
            else:  # this process's hub only registers the devices and counts what was stored
                side = await run_workers(
                    stack, hub, stamps, count=plan.workers, run_id=run_id, folder=folder,
                    broker_url=url, database=database, site=SITE, sections=queue,
                    events_apart=False, event_loop=plan.event_loop)
            bench = _Bench(plan, side, codes, url, run_id, broker_pid)
            return await bench.measure()
    raise AssertionError("unreachable")  # pragma: no cover - mypy: the with block returns


async def _register(hub: Hub, count: int) -> list[str]:
    """Site "bench" and its meters, through the registry's own upsert."""
    async with hub.uow() as uow:
        exists = await uow.find_one(Site, code=SITE) is not None
    if not exists:
        await hub.bus.handle(c.CreateSite(SYSTEM, code=SITE, name="Benchmark"))
    codes = [f"m{number:04d}" for number in range(1, count + 1)]
    specs = [DeviceSpec(code=code, kind="meter", site=SITE, name=f"bench meter {code}")
             for code in codes]
    async with hub.uow() as uow:
        await apply_devices(uow, specs, source="bench", clock=hub.clock)
    hub.pipeline.registry_changed()
    return codes



async def _stored(count: Callable[[], int], target: int) -> tuple[float, bool]:
    """Wait until `count()` reaches `target` or stops growing for STALL_S; the seconds it
    took and whether it got there."""
    started = last_change = time.monotonic()
    seen = count()
    while seen < target:
        await asyncio.sleep(0.05)
        now, current = time.monotonic(), count()
        if current != seen:
            seen, last_change = current, now
        elif now - last_change > STALL_S:
            log.error("stored %d of %d messages, nothing more for %.0fs", seen, target, STALL_S)
            return last_change - started, False
    return time.monotonic() - started, True


@dataclass
class _Bench:
    plan: IngestPlan
    side: HubSide
    codes: list[str]
    url: str
    run_id: str
    broker_pid: int | None

    def _plans(self, first_seq: int, per_device: int, rate: float) -> list[PublishPlan]:
        parts = urlsplit(self.url)
        count = min(self.plan.publishers, len(self.codes))
        groups = [tuple(self.codes[i::count]) for i in range(count)]
        start_at = time.time() + SPAWN_S
        return [PublishPlan(
            host=parts.hostname or "127.0.0.1", port=parts.port or 1883,
            client_id=f"bench-pub-{self.run_id}-{index}", site=SITE, devices=group,
            boot=self.side.stamps.boot, first_seq=first_seq, count=per_device * len(group),
            rate=rate * len(group) / len(self.codes), start_at=start_at,
            client=self.plan.client)
            for index, group in enumerate(groups)]

    async def measure(self) -> dict[str, Any]:
        since = datetime.now(UTC)
        plan = self.plan
        per_device = math.ceil(plan.rate * (plan.warmup_s + plan.seconds) / len(self.codes))
        plans = self._plans(1, per_device, plan.rate)
        start = plans[0].start_at + plan.warmup_s
        usage = asyncio.create_task(cpu_seconds(start, start + plan.seconds, self.broker_pid,
                                                self.side.pids))
        sent = await run_publishers(plans)
        acked = sum(r.sent - len(r.unacked) for r in sent)
        stamps = self.side.stamps
        catch_up, complete = await _stored(lambda: len(stamps), acked)
        window = sustained(stamps.stamps, start, start + plan.seconds, per_device + 1)
        ceiling, backlog, bares, drained = await self._ceilings(per_device + 1)
        found = await stored(self.side.engine, SITE, stamps.boot, since)
        expected = _acked_keys(sent + backlog)
        side = await self.side.stats()
        return report.result(
            plan=plan, backend=self.side.engine.dialect.name, window=window,
            usage=await usage, sent=sent, catch_up_s=catch_up, hub_ceiling=ceiling,
            backlog=backlog, bares=bares, lost=len(expected - found.keys),
            duplicates=max(found.duplicates, stamps.repeated()),
            stats=side.ingest, link=side.link, stored_by_worker=side.stored_by_worker,
            stalled=not (complete and drained))

    async def _ceilings(self, first_seq: int) -> tuple[float, list[PublishReport],
                                                       list[BareResult], bool]:
        """The hub, then each bare subscriber, draining the same backlog alone."""
        await self.side.stop_input()
        parts = urlsplit(self.url)
        requests = [BareRequest(
            host=parts.hostname or "127.0.0.1", port=parts.port or 1883,
            client_id=f"bench-bare-{self.run_id}-{mode}", topic=f"estate/{SITE}/+/+/telemetry",
            mode=mode) for mode in self.plan.bare]
        for request in requests:  # sessions that collect the backlog from now on
            await run_bare(request)
        per_device = max(1, self.plan.backlog // len(self.codes))
        backlog = await run_publishers(self._plans(first_seq, per_device, 0.0))
        acked = sum(r.sent - len(r.unacked) for r in backlog)
        stamps = self.side.stamps
        started, before = time.time(), len(stamps)
        await self.side.start_input()
        _, drained = await _stored(lambda: len(stamps) - before, acked)
        ceiling = drain_rate(stamps.stamps, first_seq, started)
        bares = [await run_bare(replace(request, expected=acked)) for request in requests]
        return ceiling, backlog, bares, drained


def _acked_keys(reports: list[PublishReport]) -> set[tuple[str, int]]:
    keys: set[tuple[str, int]] = set()
    for sent in reports:
        unacked = set(sent.unacked)
        for index, device in enumerate(sent.devices):
            keys.update((device, seq) for seq in sent.seqs(index)
                        if (device, seq) not in unacked)
    return keys
