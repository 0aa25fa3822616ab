"""The hub's long-running jobs run as `hub run` runs them (hub.runtime), minus the API, with
its MQTT input stoppable on its own; and what the processes spend while measured."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from pathlib import Path

from hub.bootstrap import Hub
from hub.devices.mqtt.adapter import MqttAdapter
from hub.devices.mqtt.link import LinkStats
from hub.runtime import settled_heap
from hub.stopping import stopped
from hub.supervise import supervised

INPUT = "mqtt"
DRAIN_S = 30.0


class HubJobs:
    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._tasks: dict[str, asyncio.Task[None]] = {}
        adapter = getattr(hub.jobs.get(INPUT), "__self__", None)
        if not isinstance(adapter, MqttAdapter):
            raise RuntimeError("the hub has no MQTT adapter: is mqtt.url set?")
        self._adapter = adapter
        self._heap = contextlib.ExitStack()

    @property
    def link_stats(self) -> LinkStats:
        return self._adapter.stats

    @property
    def connected(self) -> bool:
        return self._adapter.stats.connected

    def start_all(self) -> None:
        # As run_hub: the start-up heap out of the collector's sight, else each full
        # collection walks it (about 150 ms each, every few seconds, in `hub bench gate`).
        self._heap.enter_context(settled_heap())
        for name in self._hub.jobs:
            self._start(name)

    def start_input(self) -> None:
        self._start(INPUT)

    def _start(self, name: str) -> None:
        self._tasks[name] = asyncio.create_task(
            supervised(name, self._hub.jobs[name], self._hub.health), name=f"bench:{name}")

    async def stop_input(self) -> None:
        """Stop taking messages, after what was taken is stored: the session keeps the rest."""
        async with asyncio.timeout(DRAIN_S):
            await self._hub.pipeline.drain()
        await self._cancel(INPUT)

    async def stop_all(self) -> None:
        await self._cancel(INPUT)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(DRAIN_S):
                await self._hub.pipeline.drain()
        for name in list(self._tasks):
            await self._cancel(name)
        self._heap.close()

    async def _cancel(self, name: str) -> None:
        task = self._tasks.pop(name, None)
        if task is not None:
            task.cancel()
            await stopped([task])  # as run_hub stops: cancelled again if the cancel was lost
            await asyncio.gather(task, return_exceptions=True)  # its outcome, retrieved


async def cpu_seconds(start: float, end: float, broker_pid: int | None,
                      hub_pids: list[int] | None = None) -> dict[str, float]:
    """Share of one core used between two time.time() instants by the hub (this process, or
    the processes `hub_pids` together), by the broker, and by the whole machine (whatever
    else runs there included)."""
    await asyncio.sleep(max(0.0, start - time.time()))
    hub, broker, busy = hub_cpu_seconds(hub_pids), _process_ticks(broker_pid), _machine_ticks()
    wall = time.perf_counter()
    await asyncio.sleep(max(0.0, end - time.time()))
    wall = time.perf_counter() - wall
    ticks = os.sysconf("SC_CLK_TCK") * wall / 100
    return {"hub_cpu_percent": round((hub_cpu_seconds(hub_pids) - hub) / wall * 100, 1),
            "broker_cpu_percent": round((_process_ticks(broker_pid) - broker) / ticks, 1)
            if broker_pid else -1.0,
            "machine_cpu_percent": round((_machine_ticks() - busy) / ticks, 1)}


def hub_cpu_seconds(pids: list[int] | None) -> float:
    """CPU time so far of this process (None), or of the processes `pids` together."""
    if pids is None:
        return time.process_time()
    return sum(_process_ticks(pid) for pid in pids) / os.sysconf("SC_CLK_TCK")


def _machine_ticks() -> int:
    """Busy clock ticks of all cores since boot (Linux /proc/stat: all but idle and iowait)."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return 0
    values = [int(v) for v in first[1:9]]
    return sum(values) - values[3] - values[4]


def _process_ticks(pid: int | None) -> int:
    """utime + stime of a process from /proc (Linux), in clock ticks; 0 when unknown."""
    if pid is None:
        return 0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])
