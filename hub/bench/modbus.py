"""`hub bench modbus`: N simulated elevators polled at 1 Hz from this one process.

Topology: the simulators run in separate processes (`python -m simulators.modbus`), a few
units behind each TCP port as behind a real gateway (4 by default: one RS-485 bus per lift
bank), so 1,000 devices are 250 connections. A share of the stations is hung (accepts the
connection, never answers). Healthy devices must keep their period meanwhile.

Measured over a window after a warm-up: successful reads per second, start jitter of the
polls of healthy devices (start - scheduled, fixed-rate slots), their missed polls, how often
the hung ones are tried (backoff, not a busy loop), and the poller's CPU and event-loop lag.
"""

from __future__ import annotations

import asyncio
import json
import math
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.devices.modbus.polling import ModbusPolling
from hub.devices.modbus.registers import load_register_maps
from hub.devices.modbus.stats import PollRecord
from hub.devices.modbus.targets import ModbusTarget
from hub.domain.observations import DeviceKey, Observation, Rejected
from hub.health import HealthBoard
from hub.ports import Ack

REPO_REGISTERS = Path(__file__).resolve().parents[2] / "config" / "registers"
LAG_SAMPLE_S = 0.05
STOP_WITHIN_S = 10.0
DESCRIPTION_LIMIT = 16 * 1024 * 1024  # the simulators' one-line JSON: ~130 bytes a station


@dataclass
class BenchPlan:
    devices: int = 1000
    hung_share: float = 0.1
    seconds: float = 30.0
    warmup_s: float = 5.0
    period_s: float = 1.0
    units_per_port: int = 4
    sim_processes: int = 1
    request_timeout_s: float = 1.0
    registers: Path = REPO_REGISTERS


@dataclass
class _Window:
    """Polls whose slot falls inside the measured window."""

    start: float = math.inf
    end: float = math.inf
    healthy: set[DeviceKey] = field(default_factory=set)
    jitter: list[float] = field(default_factory=list)
    intervals: list[float] = field(default_factory=list)
    reads_ok: int = 0
    sick_attempts: int = 0
    errors: int = 0
    _last_start: dict[DeviceKey, float] = field(default_factory=dict)

    def record(self, poll: PollRecord) -> None:
        if not self.start <= poll.due < self.end:
            return
        self.reads_ok += poll.ok
        if poll.key not in self.healthy:
            self.sick_attempts += 1
            return
        self.errors += not poll.ok
        self.jitter.append(poll.started - poll.due)
        if (last := self._last_start.get(poll.key)) is not None:
            self.intervals.append(poll.started - last)
        self._last_start[poll.key] = poll.started


class _CountingIngest:
    def __init__(self) -> None:
        self.items = 0

    async def put(self, item: Observation | Rejected, ack: Ack | None = None) -> None:
        self.items += 1


async def _start_simulators(plan: BenchPlan, processes: list[asyncio.subprocess.Process],
                            ) -> list[dict[str, Any]]:
    """Start the simulator processes (each appended to `processes` at once, so the caller
    stops them whatever happens) and return the stations they describe."""
    stations: list[dict[str, Any]] = []
    share = math.ceil(plan.devices / plan.sim_processes)
    for index in range(plan.sim_processes):
        count = min(share, plan.devices - index * share)
        if count <= 0:
            break
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "simulators.modbus", "--elevators", str(count),
            "--meters", "0", "--units-per-port", str(plan.units_per_port), "--port-base", "0",
            "--hung-share", str(plan.hung_share), "--seed", str(2026 + index),
            stdout=asyncio.subprocess.PIPE, limit=DESCRIPTION_LIMIT)
        processes.append(proc)
        assert proc.stdout is not None
        async with asyncio.timeout(60):
            line = await proc.stdout.readline()
        if not line:
            raise RuntimeError("a simulator process exited before it was ready")
        stations += json.loads(line)["stations"]
    return stations


def _targets(plan: BenchPlan, stations: list[dict[str, Any]]) -> tuple[list[ModbusTarget],
                                                                      set[DeviceKey]]:
    targets: list[ModbusTarget] = []
    healthy: set[DeviceKey] = set()
    for station in stations:
        for unit, regmap in station["units"].items():
            number = len(targets) + 1
            key = DeviceKey("bench", "elevator", f"lift-{number:04d}")
            targets.append(ModbusTarget(
                device_id=number, key=key, host=station["host"], port=station["port"],
                register_map=regmap, unit=int(unit), period_s=plan.period_s,
                request_timeout_s=plan.request_timeout_s))
            if station["mode"] == "healthy":
                healthy.add(key)
    return targets, healthy


async def _lag(samples: list[float], window: _Window) -> None:
    loop = asyncio.get_running_loop()
    while True:
        before = loop.time()
        await asyncio.sleep(LAG_SAMPLE_S)
        if window.start <= before < window.end:
            samples.append(loop.time() - before - LAG_SAMPLE_S)


async def run(plan: BenchPlan) -> dict[str, Any]:
    started, children_before = time.perf_counter(), _children_cpu()
    processes: list[asyncio.subprocess.Process] = []
    try:
        stations = await _start_simulators(plan, processes)
        result = await _measure(plan, stations)
    finally:
        for proc in processes:
            proc.terminate()
        for proc in processes:
            await proc.wait()
    # Simulators run from start to end, warm-up included: their share of the whole run.
    children = (_children_cpu() - children_before) / (time.perf_counter() - started)
    result["simulators_cpu_percent"] = round(children * 100, 1)
    return result


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def _measure(plan: BenchPlan, stations: list[dict[str, Any]]) -> dict[str, Any]:
    targets, healthy = _targets(plan, stations)
    window = _Window(healthy=healthy)
    polling = ModbusPolling(targets, load_register_maps(plan.registers),
                            ingest=_CountingIngest(), health=HealthBoard(),
                            on_reachability=lambda *_: None, observer=window.record)
    loop = asyncio.get_running_loop()
    lags: list[float] = []
    task = asyncio.create_task(polling.run())
    lag_task = asyncio.create_task(_lag(lags, window))
    window.start = loop.time() + plan.warmup_s
    window.end = window.start + plan.seconds
    await asyncio.sleep(plan.warmup_s)
    missed_before = {k: d.stats.missed for k, d in polling.devices.items()}
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    await asyncio.sleep(plan.seconds)
    cpu = (time.process_time() - cpu_before) / (time.perf_counter() - wall_before)
    await asyncio.sleep(plan.request_timeout_s * 3)  # let polls due in the window finish
    missed = sum(polling.devices[k].stats.missed - missed_before[k] for k in healthy)
    for each in (task, lag_task):
        each.cancel()
    _, stuck = await asyncio.wait({task, lag_task}, timeout=STOP_WITHIN_S)
    if stuck:
        raise RuntimeError(f"the poller did not stop within {STOP_WITHIN_S}s")
    return _summary(plan, targets, window, missed, cpu, lags)


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def _summary(plan: BenchPlan, targets: list[ModbusTarget], window: _Window, missed: int,
             cpu: float, lags: list[float]) -> dict[str, Any]:
    sick = len(targets) - len(window.healthy)
    interval_jitter = [abs(i - plan.period_s) for i in window.intervals]
    ms = 1000.0
    return {
        "scenario": "modbus", "devices": len(targets), "healthy": len(window.healthy),
        "hung": sick, "connections": len({t.endpoint for t in targets}),
        "period_s": plan.period_s, "seconds": plan.seconds,
        "reads_per_s": round(window.reads_ok / plan.seconds, 1),
        "jitter_p50_ms": round(_percentile(window.jitter, 0.50) * ms, 2),
        "jitter_p99_ms": round(_percentile(window.jitter, 0.99) * ms, 2),
        "jitter_max_ms": round(max(window.jitter, default=math.nan) * ms, 2),
        "interval_jitter_p99_ms": round(_percentile(interval_jitter, 0.99) * ms, 2),
        "missed_healthy": missed, "errors_healthy": window.errors,
        "hung_attempts_per_device_min": round(
            window.sick_attempts / sick / (plan.seconds / 60), 2) if sick else 0.0,
        "poller_cpu_percent": round(cpu * 100, 1),
        "loop_lag_p99_ms": round(_percentile(lags, 0.99) * ms, 2),
        "simulator_processes": plan.sim_processes,
    }


def describe(result: dict[str, Any]) -> str:
    return "\n".join([
        f"modbus: {result['devices']} devices on {result['connections']} connections "
        f"({result['hung']} hung), period {result['period_s']}s, {result['seconds']}s measured",
        f"  reads/s              {result['reads_per_s']}",
        f"  start jitter         p50 {result['jitter_p50_ms']} ms, p99 "
        f"{result['jitter_p99_ms']} ms, max {result['jitter_max_ms']} ms",
        f"  interval jitter p99  {result['interval_jitter_p99_ms']} ms",
        f"  missed (healthy)     {result['missed_healthy']}, "
        f"errors (healthy) {result['errors_healthy']}",
        f"  hung device tried    {result['hung_attempts_per_device_min']} times/min",
        f"  poller CPU           {result['poller_cpu_percent']}% of one core, "
        f"loop lag p99 {result['loop_lag_p99_ms']} ms",
        f"  simulators CPU       {result['simulators_cpu_percent']}% of one core "
        f"({result['simulator_processes']} processes)",
    ])
