"""`hub bench fault`: a lift's fault event published to the broker until its work order is
visible through the API, while meters load the hub with background telemetry.

The hub is built by `hub.bootstrap.bootstrap` with the shipped rule packs, its jobs run as in
`hub bench ingest` (hub.bench.hubjobs), and the API is the real app (`create_app`) on the same
hub, asked in-process over ASGI with an administrator's token. Meters publish QoS 1 telemetry
at `rate` from processes of their own (hub.bench.publishers) against a Mosquitto of the
benchmark's own. After a warm-up (and one unmeasured fault: the first order of a process
compiles its statements), N lifts each raise TRAPPED_AT_FLOOR once on their `event` channel
(DESIGN.md §2), one every `interval_s` whatever became of the previous ones (open loop: a hub
that falls behind shows it as growing latency, not as a slower benchmark), and clear it once
its order is seen.

A fault's time runs from just before its publish to the first API answer that lists its order
(`GET /api/v1/work-orders`, newest first). The API is asked as soon as the rules worker has
finished an outcome (an in-memory counter, checked every millisecond), and every POLL_S
otherwise, so the figure includes one API read and about a millisecond of waiting, not a
polling period. A fault whose order is not seen within VISIBLE_WITHIN_S counts as missing.
"""
from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import secrets
import tempfile
import time
import uuid
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.api.app import create_app
from hub.bench.hubjobs import hub_cpu_seconds
from hub.bench.mosquitto import BenchMosquitto
from hub.bench.publishers import PublishPlan, run_publishers
from hub.bench.stamps import Stamps, percentile, sustained
from hub.bench.workers import Workers, run_in_process, run_workers
from hub.bootstrap import Hub, bootstrap
from hub.devices.registry_config import DeviceSpec, apply_devices
from hub.domain import commands as c
from hub.domain.accounts import SYSTEM, Role
from hub.domain.registry import Device
from hub.handlers.work_orders import SetRoster
from hub.loops import EventLoopKind
from hub.settings import Settings, load_settings
from hub.store import migrate
from hub.store.work_order_tables import work_orders

log = logging.getLogger(__name__)

SITE = "bench"
RULES = Path(__file__).resolve().parents[2] / "config" / "rules"
CODE = "TRAPPED_AT_FLOOR"
SPAWN_S = 1.5  # publisher processes start before their first message
POLL_S = 0.05  # the API is asked at least this often while a fault is awaited
HINT_S = 0.001
PAGE = 100  # newest orders per read: far more than are opened between two reads
VISIBLE_WITHIN_S = 30.0  # a fault whose order is not seen by then counts as missing
TAIL_S = 10.0  # background planned beyond the last fault's publish; cut when all are seen
WARMUP_LIFT = "lift-warm"
SETTLE_S = 180.0
QUIET_S = 1.0


@dataclass(frozen=True)
class FaultPlan:
    faults: int = 200  # lifts, one fault each
    rate: float = 5000.0  # background telemetry, messages/s from all meters
    meters: int = 50
    warmup_s: float = 3.0
    interval_s: float = 0.25  # between two faults' publishes
    broker: str | None = None  # mqtt://host:port; None: a Mosquitto of our own
    database: str | None = None  # SQLAlchemy URL; None: SQLite in a temporary folder
    publishers: int = 2
    client: str = "raw"  # the publishers' MQTT client (hub.bench.publishers)
    # Hub processes on one shared subscription and one database (hub.bench.workers), the API
    # in the benchmark's process; 1: all of the hub runs in the benchmark's process.
    workers: int = 1
    events_apart: bool = False  # events, status and acks on the last worker (worker_sections)
    event_loop: EventLoopKind = "uvloop"  # the workers' (the caller runs this process's)


class _Rules(Protocol):
    """The rules' side of the hub, wherever it runs."""

    async def finished(self) -> int: ...  # outcomes done, refused, skipped or dead-lettered

    async def figures(self) -> dict[str, int]: ...  # as hub.bench.workers._rules_figures


@dataclass
class _InProcessRules:
    hub: Hub

    async def finished(self) -> int:
        assert self.hub.rules is not None
        s = self.hub.rules.stats
        return s.done + s.refused + s.skipped + s.dead_letters

    async def figures(self) -> dict[str, int]:
        assert self.hub.rules is not None
        s = self.hub.rules.stats
        return {"finished": await self.finished(), "processed": s.processed,
                "queue": (await self.hub.rules.health())["queue"], "overflow": s.overflow}


@dataclass
class _WorkersRules:
    workers: Workers
    engine: AsyncEngine

    async def finished(self) -> int:
        # Asking the workers a thousand times a second would cost them more than this:
        # the newest order's id, from the database they write (a read of an index).
        async with self.engine.connect() as connection:
            newest = await connection.scalar(select(func.max(work_orders.c.id)))
        return int(newest or 0)

    async def figures(self) -> dict[str, int]:
        return await self.workers.rules()


@dataclass
class _Faults:
    pending: dict[int, tuple[str, float]] = field(default_factory=dict)  # device: lift, t0
    all_published: bool = False
    latencies_ms: list[float] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    api_reads: int = 0
    started: float = 0.0  # time.time() of the first measured fault
    ended: float = 0.0  # time.time() when the last was seen or given up


async def run(plan: FaultPlan) -> dict[str, Any]:
    run_id = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory(prefix="hub-bench-fault-") as folder:
        async with AsyncExitStack() as stack:
            url = plan.broker
            if url is None:
                broker = await stack.enter_async_context(BenchMosquitto(Path(folder)))
                url = broker.url
            database = plan.database or f"sqlite+aiosqlite:///{folder}/hub.db"
            await migrate.upgrade_async(database)
            settings = _settings(Path(folder), database, url, run_id)
            hub = bootstrap(settings)
            stack.push_async_callback(hub.close)
            password = secrets.token_urlsafe(18)  # accounts of a throw-away database
            lifts, meters = await _furnish(hub, plan, password)
            stamps = Stamps(boot=f"bench-{run_id}")
            api = await stack.enter_async_context(httpx.AsyncClient(
                transport=httpx.ASGITransport(app=create_app(settings, hub)),
                base_url="http://hub.bench"))
            rules: _Rules
            pids: list[int] | None = None
            if plan.workers == 1:
                jobs = await run_in_process(stack, hub, stamps)
                rules = _InProcessRules(hub)

                async def pauses() -> int:
                    return jobs.link_stats.pauses
            else:  # this process's hub furnished the registry and serves the API
                workers = await run_workers(
                    stack, hub, stamps, count=plan.workers, run_id=run_id, folder=folder,
                    broker_url=url, database=database, site=SITE,
                    sections={"rules": {"directory": str(RULES)}},
                    events_apart=plan.events_apart, event_loop=plan.event_loop)
                rules, pids = _WorkersRules(workers, hub.engine), workers.pids

                async def pauses() -> int:
                    return (await workers.stats()).link.pauses
            headers = await _log_in(api, password)
            bench = _Bench(plan, hub, api, headers, lifts, meters, stamps, url, run_id, rules,
                           pids)
            result = await bench.measure()
            return result | {"rules_overflow": (await rules.figures())["overflow"],
                             "mqtt_pauses": await pauses(), "workers": plan.workers}
    raise AssertionError("unreachable")  # pragma: no cover - mypy: the with block returns


def _settings(folder: Path, database: str, url: str, run_id: str) -> Settings:
    if not RULES.is_dir():
        raise RuntimeError(f"no rule packs at {RULES}: run from a checkout of the hub")
    return load_settings(
        None, mode="demo", data_dir=folder, log_level="WARNING", database={"url": database},
        mqtt={"url": url, "client_id": f"bench-hub-{run_id}",
              "command_client_id": f"bench-hub-{run_id}-cmd", "sites": [SITE]},
        ingest={"devices_file": ""}, rules={"directory": str(RULES)})


async def _furnish(hub: Hub, plan: FaultPlan, password: str) -> tuple[dict[str, int], list[str]]:
    """Site, building, lifts and meters through the registry's upsert; an on-duty elevator
    technician for round-robin dispatch, and an administrator for the API."""
    site_id = await hub.bus.handle(c.CreateSite(SYSTEM, code=SITE, name="Benchmark"))
    await hub.bus.handle(c.CreateBuilding(SYSTEM, site_id=site_id, code="b1", name="B1",
                                          floors=30))
    lifts = [f"lift-{n:04d}" for n in range(1, plan.faults + 1)] + [WARMUP_LIFT]
    meters = [f"m{n:04d}" for n in range(1, plan.meters + 1)]
    specs = [DeviceSpec(code=code, kind="elevator", site=SITE, building="b1") for code in lifts]
    specs += [DeviceSpec(code=code, kind="meter", site=SITE) for code in meters]
    async with hub.uow() as uow:
        await apply_devices(uow, specs, source="bench", clock=hub.clock)
    async with hub.uow() as uow:
        ids = {d.code: d.id for d in await uow.find(Device) if d.id is not None}
    hub.pipeline.registry_changed()
    grants = (c.GrantIn(site_id),)
    technician = await hub.bus.handle(c.CreateAccount(
        SYSTEM, username="bench-tech", password=password, role=Role.MAINTENANCE, grants=grants))
    await hub.bus.handle(SetRoster(SYSTEM, site_id=site_id, account_id=technician,
                                   skills=("elevator",), on_duty=True))
    await hub.bus.handle(c.CreateAccount(SYSTEM, username="bench-admin", password=password,
                                         role=Role.ADMIN, grants=grants))
    return {code: ids[code] for code in lifts}, meters


async def _log_in(api: httpx.AsyncClient, password: str) -> dict[str, str]:
    answer = await api.post("/api/v1/auth/login",
                            data={"username": "bench-admin", "password": password})
    if answer.status_code != 200:
        raise RuntimeError(f"login: {answer.status_code} {answer.text}")
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}



class _Monitor:
    """A lift monitor's connection: fault events, QoS 1, from a paho network thread."""

    def __init__(self, url: str, client_id: str, boot: str) -> None:
        parts = urlsplit(url)
        self._client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                   protocol=paho.MQTTv311)
        self._client.connect(parts.hostname or "127.0.0.1", parts.port or 1883, keepalive=60)
        self._client.loop_start()
        self._boot = boot
        self._seq: Counter[str] = Counter()

    def fault(self, lift: str, *, active: bool) -> None:
        self._seq[lift] += 1
        payload = {"seq": self._seq[lift], "boot": self._boot, "ts": int(time.time() * 1000),
                   "type": "fault", "code": CODE, "active": active, "detail": {}}
        self._client.publish(f"estate/{SITE}/elevator/{lift}/event", json.dumps(payload), qos=1)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@dataclass
class _Bench:
    plan: FaultPlan
    hub: Hub
    api: httpx.AsyncClient
    headers: dict[str, str]
    lifts: dict[str, int]  # the measured lifts, then WARMUP_LIFT
    meters: list[str]
    stamps: Stamps
    url: str
    run_id: str
    rules: _Rules
    pids: list[int] | None  # the hub's processes; None: this one

    async def measure(self) -> dict[str, Any]:
        plan = self.plan
        seconds = plan.warmup_s + plan.faults * plan.interval_s + TAIL_S
        per_meter = math.ceil(plan.rate * seconds / len(self.meters))
        background = asyncio.create_task(run_publishers(self._plans(per_meter)))
        monitor = _Monitor(self.url, f"bench-monitor-{self.run_id}", f"lift-{self.run_id}")
        faults = _Faults()
        try:
            warmed = time.monotonic() + SPAWN_S + plan.warmup_s
            await self._warm_up(monitor)
            await asyncio.sleep(max(0.0, warmed - time.monotonic()))
            cpu, load = hub_cpu_seconds(self.pids), os.getloadavg()
            faults.started = time.time()
            watcher = asyncio.create_task(self._watch(monitor, faults))
            await self._publish(monitor, faults, background)
            await watcher
            faults.ended = time.time()
            hub_cpu = (hub_cpu_seconds(self.pids) - cpu) / max(1e-9,
                                                               faults.ended - faults.started)
            background_on = not background.done()
        finally:
            monitor.close()
            background.cancel()
            await asyncio.gather(background, return_exceptions=True)
        settle_s = await self._settle()
        orders = await self._orders()
        cleared = await self._cleared(orders)
        return _result(plan, faults, orders, cleared, self._window(faults), hub_cpu, load,
                       background_on, self.hub.engine.dialect.name) | {"settle_s": settle_s}

    def _plans(self, per_meter: int) -> list[PublishPlan]:
        parts = urlsplit(self.url)
        count = min(self.plan.publishers, len(self.meters))
        groups = [tuple(self.meters[i::count]) for i in range(count)]
        start_at = time.time() + SPAWN_S
        return [PublishPlan(
            host=parts.hostname or "127.0.0.1", port=parts.port or 1883,
            client_id=f"bench-pub-{self.run_id}-{index}", site=SITE, devices=group,
            boot=self.stamps.boot, first_seq=1, count=per_meter * len(group),
            rate=self.plan.rate * len(group) / len(self.meters), start_at=start_at,
            client=self.plan.client)
            for index, group in enumerate(groups)]

    async def _warm_up(self, monitor: _Monitor) -> None:
        """One fault, not measured, while the publishers start."""
        warm = _Faults(started=time.time(), all_published=True)
        warm.pending[self.lifts[WARMUP_LIFT]] = (WARMUP_LIFT, time.perf_counter())
        monitor.fault(WARMUP_LIFT, active=True)
        await self._watch(monitor, warm)
        if warm.missing:
            raise RuntimeError("the warm-up fault's order never showed in the API")

    async def _publish(self, monitor: _Monitor, faults: _Faults,
                       background: asyncio.Task[Any]) -> None:
        """One fault every interval_s, on its schedule whatever the hub is doing."""
        start = time.perf_counter()
        measured = [(lift, device) for lift, device in self.lifts.items() if lift != WARMUP_LIFT]
        for index, (lift, device_id) in enumerate(measured):
            await asyncio.sleep(max(0.0, start + index * self.plan.interval_s
                                    - time.perf_counter()))
            if background.done():
                background.result()  # a publisher that failed stops the run with its error
            faults.pending[device_id] = (lift, time.perf_counter())
            monitor.fault(lift, active=True)
        faults.all_published = True

    async def _watch(self, monitor: _Monitor, faults: _Faults) -> None:
        """Ask the API for the newest orders whenever the rules worker finished an outcome (or
        every POLL_S); a pending lift's order in the answer is seen: its time taken, then its
        fault cleared. Ends when nothing is pending and nothing more is to come."""
        finished, last_read = -1, 0.0
        while faults.pending or not faults.all_published:
            now = time.perf_counter()
            count = await self.rules.finished()
            if faults.pending and (count != finished or now - last_read >= POLL_S):
                finished, last_read = count, now
                for device_id in await self._newest(faults):
                    lift, began = faults.pending.pop(device_id)
                    faults.latencies_ms.append((time.perf_counter() - began) * 1000)
                    monitor.fault(lift, active=False)
                for device_id, (lift, began) in list(faults.pending.items()):
                    if time.perf_counter() - began > VISIBLE_WITHIN_S:
                        del faults.pending[device_id]
                        faults.missing.append(lift)
                        monitor.fault(lift, active=False)  # given up on: cleared all the same
            await asyncio.sleep(HINT_S)

    async def _newest(self, faults: _Faults) -> list[int]:
        """The pending devices whose order the API lists among the newest PAGE."""
        faults.api_reads += 1
        answer = await self.api.get("/api/v1/work-orders", headers=self.headers,
                                    params={"category": "elevator", "limit": PAGE})
        if answer.status_code != 200:
            raise RuntimeError(f"GET /api/v1/work-orders: {answer.status_code} {answer.text}")
        return [o["device_id"] for o in answer.json()["items"]
                if o["device_id"] in faults.pending]

    async def _settle(self) -> float:
        """With the background stopped, until the hub has caught up (nothing stored and
        nothing evaluated for QUIET_S, the rules queue empty), at most SETTLE_S: the orders
        of faults still queued when the last fault was given up are then counted too. The
        seconds it took; SETTLE_S when the hub never caught up."""
        started = time.monotonic()
        marks, since = (-1, -1), started
        while time.monotonic() - started < SETTLE_S:
            figures = await self.rules.figures()
            now = (len(self.stamps), figures["processed"])
            if now != marks or figures["queue"]:
                marks, since = now, time.monotonic()
            elif time.monotonic() - since >= QUIET_S:
                return round(since - started, 1)
            await asyncio.sleep(0.1)
        log.error("the hub had not caught up %.0f s after the background stopped", SETTLE_S)
        return SETTLE_S

    async def _orders(self) -> list[dict[str, Any]]:
        """Every elevator order of the site through the API but the warm-up's."""
        items: list[dict[str, Any]] = []
        while True:
            answer = await self.api.get("/api/v1/work-orders", headers=self.headers, params={
                "category": "elevator", "limit": PAGE, "offset": len(items)})
            page = answer.json()
            items += page["items"]
            if not page["items"] or len(items) >= page["total"]:
                return [o for o in items if o["device_id"] != self.lifts[WARMUP_LIFT]]

    async def _cleared(self, orders: list[dict[str, Any]]) -> int:
        """Orders with the clear noted on their timeline ("device reports recovered"), once
        the clears published last have arrived (or VISIBLE_WITHIN_S has passed)."""
        waiting = {o["id"] for o in orders}
        deadline = time.monotonic() + VISIBLE_WITHIN_S
        while waiting and time.monotonic() < deadline:
            for order_id in sorted(waiting):
                answer = await self.api.get(f"/api/v1/work-orders/{order_id}",
                                            headers=self.headers)
                if any(e["kind"] == "recovered" for e in answer.json()["timeline"]):
                    waiting.discard(order_id)
            if waiting:
                await asyncio.sleep(0.2)
        return len(orders) - len(waiting)

    def _window(self, faults: _Faults) -> dict[str, float]:
        window = sustained(self.stamps.stamps, faults.started, faults.ended, 2**62)
        return {"msgs_per_s": window.msgs_per_s, "p50_ms": window.p50_ms,
                "p99_ms": window.p99_ms}


def _result(plan: FaultPlan, faults: _Faults, orders: list[dict[str, Any]], cleared: int,
            background: dict[str, float], hub_cpu: float, load: tuple[float, float, float],
            background_on: bool, backend: str) -> dict[str, Any]:
    ordered = sorted(faults.latencies_ms)
    per_device = Counter(o["device_id"] for o in orders)
    return {
        "scenario": "fault",
        "faults": plan.faults,
        "p50_ms": _ms(percentile(ordered, 0.50)),
        "p99_ms": _ms(percentile(ordered, 0.99)),
        "max_ms": _ms(ordered[-1] if ordered else math.nan),
        "background_msgs_per_s": background["msgs_per_s"],
        "orders_expected": plan.faults,
        "orders_created": len(orders),
        "duplicates": sum(n - 1 for n in per_device.values()),
        "missing": len(faults.missing),
        "p1_assigned": sum(1 for o in orders if o["priority"] == "P1" and o["assignee_id"]),
        "cleared_noted": cleared,
        "background_offered_msgs_per_s": plan.rate,
        "background_p50_ms": _ms(background["p50_ms"]),
        "background_p99_ms": _ms(background["p99_ms"]),
        "background_throughout": background_on,  # still publishing when the last fault ended
        "meters": plan.meters,
        "seconds": round(faults.ended - faults.started, 1),
        "api_reads": faults.api_reads,
        "backend": backend,
        "hub_cpu_percent": round(hub_cpu * 100, 1),
        "load_average_1m": round(load[0], 2),
        "interval_s": plan.interval_s,
        "cores": os.cpu_count(),
    }


def _ms(value: float) -> float | None:
    """Rounded; None (JSON null, not NaN) when nothing was measured."""
    return None if math.isnan(value) else round(value, 1)


def describe(result: dict[str, Any]) -> str:
    r = result
    return "\n".join([
        f"fault -> work order visible in the API, {r['faults']} faults (one per lift), "
        f"{r['backend']}",
        f"  latency        p50 {r['p50_ms']} ms   p99 {r['p99_ms']} ms   max {r['max_ms']} ms"
        f"   (target p99 < 100 ms on 2 cores)",
        f"  orders         {r['orders_created']} of {r['orders_expected']} "
        f"({r['duplicates']} duplicates, {r['missing']} not seen, "
        f"{r['p1_assigned']} P1 assigned, {r['cleared_noted']} with the clear noted)",
        f"  background     {r['background_msgs_per_s']} msgs/s stored of "
        f"{r['background_offered_msgs_per_s']:g} offered (p50 {r['background_p50_ms']} ms, "
        f"p99 {r['background_p99_ms']} ms), throughout: {r['background_throughout']}",
        f"  hub            {r['hub_cpu_percent']} % of a core over {r['seconds']} s, "
        f"{r['api_reads']} API reads; load average {r['load_average_1m']} at the start",
        f"  after          the hub caught up {r['settle_s']} s after the background stopped",
        f"  overload       rules queue overflowed {r['rules_overflow']} times (events not "
        f"evaluated), MQTT reading paused {r['mqtt_pauses']} times",
    ])
