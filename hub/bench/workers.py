"""The hub's side of `hub bench ingest` and `hub bench gate`: in this process, or as N worker
processes.

With `--workers N` the hub is scaled out as DESIGN.md §1 describes: N processes, each a hub
as `hub run` runs one, with its own client id on one MQTT 5 shared subscription
(`$share/bench/...`) and one database. On SQLite their writers take turns through the lock
file beside it (hub.store.turns). Each worker's observer stamps what it stored, and the
benchmark collects the stamps over a pipe while it runs.
"""

from __future__ import annotations

import asyncio
import faulthandler
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from hub import loops
from hub.bench.hubjobs import HubJobs
from hub.bench.stamps import Stamps
from hub.bootstrap import Hub, bootstrap
from hub.devices.mqtt.link import LinkStats
from hub.domain.observations import Telemetry
from hub.ingest.stats import IngestStats
from hub.settings import Settings, load_settings

SHARED_GROUP = "bench"
COLLECT_S = 0.05  # how often the workers' new stamps are fetched
CONNECT_S = 30.0  # the in-process hub's first connection to the broker
READY_S = 60.0  # a worker's start: imports, bootstrap, its connection to the broker
ALIVE_CHECK_S = 0.5  # while an answer is awaited, how often the worker is checked for life


def hub_settings(*, folder: str, broker_url: str, database: str, client_id: str,
                 site: str, shared_group: str = "",
                 sections: Mapping[str, Mapping[str, Any]] | None = None) -> Settings:
    """A hub as `hub run` makes it, minus the API and the registry file, with `sections`
    (e.g. `{"mqtt": {"incoming_queue": 500}, "rules": {...}}`) over it."""
    given = {name: dict(values) for name, values in (sections or {}).items()}
    mqtt = {"url": broker_url, "client_id": client_id, "command_client_id": f"{client_id}-cmd",
            "sites": [site], "shared_group": shared_group} | given.pop("mqtt", {})
    ingest = {"devices_file": ""} | given.pop("ingest", {})
    return load_settings(None, mode="demo", data_dir=Path(folder), log_level="WARNING",
                         database={"url": database}, mqtt=mqtt, ingest=ingest, **given)


def worker_sections(sections: Mapping[str, Mapping[str, Any]], index: int, count: int, *,
                    events_apart: bool) -> dict[str, dict[str, Any]]:
    """Worker `index` of `count`'s settings sections. With `events_apart` the last worker
    takes the events, status and command acks (plate reads, faults), the others telemetry
    (`mqtt.channels`); else each takes a share of everything."""
    given = {name: dict(values) for name, values in sections.items()}
    if events_apart:
        urgent = index == count - 1
        channels = ["event", "status", "cmd/ack"] if urgent else ["telemetry"]
        given["mqtt"] = given.get("mqtt", {}) | {"channels": channels}
    return given


@dataclass(frozen=True)
class SideStats:
    ingest: IngestStats  # the workers' together
    link: LinkStats  # as one hub's: see Workers.stats
    stored_by_worker: list[int]


class HubSide(Protocol):
    """What the benchmark does with the hub, wherever it runs."""

    stamps: Stamps

    @property
    def engine(self) -> AsyncEngine: ...

    @property
    def pids(self) -> list[int] | None: ...  # None: this process

    async def stop_input(self) -> None: ...

    async def start_input(self) -> None: ...

    async def stats(self) -> SideStats: ...


@dataclass
class InProcess:
    hub: Hub
    jobs: HubJobs
    stamps: Stamps

    @property
    def engine(self) -> AsyncEngine:
        return self.hub.engine

    @property
    def pids(self) -> list[int] | None:
        return None

    async def stop_input(self) -> None:
        await self.jobs.stop_input()

    async def start_input(self) -> None:
        self.jobs.start_input()

    async def stats(self) -> SideStats:
        ingest = self.hub.pipeline.stats
        return SideStats(ingest, self.jobs.link_stats, [ingest.stored])


@dataclass(frozen=True)
class WorkerPlan:
    index: int
    client_id: str
    folder: str
    broker_url: str
    database: str
    site: str
    boot: str  # of the benchmark's telemetry: what the worker's observer stamps
    event_loop: loops.EventLoopKind
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)  # see hub_settings


class _Worker:
    """The parent's end of one worker process: one request at a time, answered in order."""

    def __init__(self, plan: WorkerPlan) -> None:
        context = multiprocessing.get_context("spawn")  # no forked event loop or threads
        self._conn, child = context.Pipe()
        self.process = context.Process(target=serve, args=(plan, child),
                                       name=f"bench-hub-{plan.index}", daemon=True)
        self.process.start()
        child.close()
        self._lock = asyncio.Lock()

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    async def ask(self, request: str, timeout_s: float = 60.0) -> Any:
        async with self._lock:
            self._conn.send(request)
            return await self._answer(timeout_s)

    async def _answer(self, timeout_s: float) -> Any:
        deadline = time.monotonic() + timeout_s
        while not self._conn.poll():
            if not self.process.is_alive():
                raise RuntimeError(f"hub worker {self.process.name} ended "
                                   f"(exit code {self.process.exitcode})")
            if time.monotonic() > deadline:
                raise TimeoutError(f"hub worker {self.process.name}: no answer "
                                   f"within {timeout_s:.0f}s")
            # In a thread: the connection stays blocking, as multiprocessing needs it (the
            # event loop's readers make a descriptor non-blocking, and a long message then
            # breaks off half written).
            await asyncio.to_thread(self._conn.poll, ALIVE_CHECK_S)
        try:
            kind, value = self._conn.recv()
        except EOFError:  # its end of the pipe closed: the process is ending or gone
            self.process.join(5)
            raise RuntimeError(f"hub worker {self.process.name} ended "
                               f"(exit code {self.process.exitcode})") from None
        if kind == "error":
            raise RuntimeError(f"hub worker {self.process.name}: {value}")
        return value

    async def ready(self) -> None:
        async with self._lock:
            await self._answer(READY_S)

    def end(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self._conn.close()


@dataclass
class Workers:
    """N hub workers on one shared subscription; `stamps` fills in as they store."""

    engine: AsyncEngine  # the benchmark's own, for its accounting
    stamps: Stamps
    _workers: list[_Worker] = field(default_factory=list)
    _collecting: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, plans: list[WorkerPlan], engine: AsyncEngine,
                    stamps: Stamps) -> Workers:
        workers = cls(engine, stamps)
        try:
            for plan in plans:
                workers._workers.append(_Worker(plan))
            for worker in workers._workers:
                await worker.ready()
        except BaseException:
            await workers.close()
            raise
        workers._collecting = asyncio.create_task(workers._collect(), name="bench:stamps")
        return workers

    @property
    def pids(self) -> list[int] | None:
        return [w.pid for w in self._workers]

    async def _collect(self) -> None:
        while True:
            await self.collect()
            await asyncio.sleep(COLLECT_S)

    async def collect(self) -> None:
        for worker in self._workers:
            self.stamps.extend(await worker.ask("stamps"))

    async def stop_input(self) -> None:
        await asyncio.gather(*(w.ask("stop_input") for w in self._workers))
        await self.collect()

    async def start_input(self) -> None:
        await asyncio.gather(*(w.ask("start_input") for w in self._workers))

    async def stats(self) -> SideStats:
        answers: list[tuple[IngestStats, LinkStats]] = [
            await w.ask("stats") for w in self._workers]
        ingest = IngestStats(capacity=sum(s.capacity for s, _ in answers))
        link = LinkStats()
        for stats, links in answers:
            ingest.batches += stats.batches
            ingest.items += stats.items
            ingest.stored += stats.stored
            ingest.duplicates += stats.duplicates
            ingest.high_water = max(ingest.high_water, stats.high_water)
            link.connects += links.connects
            link.pauses += links.pauses
            link.paused_s += links.paused_s
            link.queue_high_water = max(link.queue_high_water, links.queue_high_water)
        # As one hub's: the report counts all but the first connection and the one after the
        # ceiling phase's stop, which every worker makes.
        link.connects -= 2 * (len(answers) - 1)
        return SideStats(ingest, link, [stats.stored for stats, _ in answers])

    async def rules(self) -> dict[str, int]:
        """The rules workers' figures, summed (see _rules_figures)."""
        total: dict[str, int] = {}
        for worker in self._workers:
            for name, value in (await worker.ask("rules")).items():
                total[name] = total.get(name, 0) + value
        return total

    async def close(self) -> None:
        if self._collecting is not None:
            self._collecting.cancel()
            await asyncio.gather(self._collecting, return_exceptions=True)
            self._collecting = None
        for worker in self._workers:
            try:
                if worker.process.is_alive():
                    await worker.ask("stop")
            except (RuntimeError, TimeoutError, OSError):
                pass  # ended below, whatever it was doing
            worker.end()


async def run_in_process(stack: AsyncExitStack, hub: Hub, stamps: Stamps) -> HubJobs:
    """The hub's jobs in this process, as `hub run` runs them, its observer stamping; stopped
    with `stack`."""
    hub.pipeline.observers.subscribe(stamps.on_delivered, Telemetry)
    jobs = HubJobs(hub)
    stack.push_async_callback(jobs.stop_all)
    jobs.start_all()
    started = time.monotonic()
    while not jobs.connected:
        if time.monotonic() - started > CONNECT_S:
            raise RuntimeError(f"the hub did not connect to the broker within {CONNECT_S:.0f}s")
        await asyncio.sleep(0.02)
    return jobs


async def run_workers(stack: AsyncExitStack, hub: Hub, stamps: Stamps, *, count: int,
                      run_id: str, folder: str, broker_url: str, database: str, site: str,
                      sections: Mapping[str, Mapping[str, Any]], events_apart: bool,
                      event_loop: loops.EventLoopKind) -> Workers:
    """`count` worker processes on the database `hub` (this process's) has furnished; ended
    with `stack`."""
    workers = await Workers.start([WorkerPlan(
        index=index, client_id=f"bench-hub-{run_id}-{index}", folder=folder,
        broker_url=broker_url, database=database, site=site, boot=stamps.boot,
        event_loop=event_loop,
        sections=worker_sections(sections, index, count, events_apart=events_apart))
        for index in range(count)], hub.engine, stamps)
    stack.push_async_callback(workers.close)
    return workers


# The worker process.

def serve(plan: WorkerPlan, conn: Connection) -> None:
    # The benchmark's parent stops the run with Ctrl-C: the parent ends its workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    faulthandler.enable()  # a crash of the interpreter shows where it happened
    import sys
    if os.environ.get("BENCH_SWITCH"):
        sys.setswitchinterval(float(os.environ["BENCH_SWITCH"]))
    try:
        loops.run(_serve(plan, conn), plan.event_loop)
    finally:
        conn.close()


async def _serve(plan: WorkerPlan, conn: Connection) -> None:
    hub = bootstrap(hub_settings(
        folder=plan.folder, broker_url=plan.broker_url, database=plan.database,
        client_id=plan.client_id, site=plan.site, shared_group=SHARED_GROUP,
        sections=plan.sections))
    stamps = Stamps(boot=plan.boot)
    hub.pipeline.observers.subscribe(stamps.on_delivered, Telemetry)
    jobs = HubJobs(hub)
    try:
        jobs.start_all()
        started = time.monotonic()
        while not jobs.connected:
            if time.monotonic() - started > READY_S:
                raise RuntimeError("not connected to the broker")
            await asyncio.sleep(0.02)
        conn.send(("ok", os.getpid()))
        sent = [0]  # stamps handed over so far
        handlers: dict[str, Callable[[], Any]] = {
            "stamps": lambda: _new_stamps(stamps, sent),
            "stop_input": jobs.stop_input,
            "start_input": jobs.start_input,
            "stats": lambda: (hub.pipeline.stats, jobs.link_stats),
            "rules": lambda: _rules_figures(hub),
        }
        while True:
            request = await _request(conn)
            if request == "stop":
                break
            try:
                answer = handlers[request]()
                if asyncio.iscoroutine(answer):
                    answer = await answer
            except Exception as error:  # noqa: BLE001 - reported to the parent, which fails
                conn.send(("error", f"{request}: {error!r}"))
                continue
            conn.send(("ok", answer))
    finally:
        await jobs.stop_all()
        await hub.close()
    conn.send(("ok", None))


async def _rules_figures(hub: Hub) -> dict[str, int]:
    """What the rules worker has done so far (zeros without rules)."""
    if hub.rules is None:
        return {"finished": 0, "processed": 0, "queue": 0, "overflow": 0}
    s = hub.rules.stats
    return {"finished": s.done + s.refused + s.skipped + s.dead_letters,
            "processed": s.processed, "queue": (await hub.rules.health())["queue"],
            "overflow": s.overflow}


def _new_stamps(stamps: Stamps, sent: list[int]) -> list[tuple[Any, ...]]:
    new = stamps.raw_since(sent[0])
    sent[0] += len(new)
    return new


async def _request(conn: Connection) -> str:
    request = await asyncio.to_thread(conn.recv)  # EOFError once the parent's end is gone
    assert isinstance(request, str)
    return request
