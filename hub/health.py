"""Component health: checks the API runs on demand, and heartbeats long-running tasks report."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["ok", "degraded", "down"]
Check = Callable[[], Awaitable[dict[str, Any]]]

CHECK_TIMEOUT_S = 2.0


@dataclass
class Beat:
    status: Status
    detail: str
    at: float  # time.monotonic()


@dataclass
class HealthBoard:
    """Later issues register their components here (MQTT loop, pollers, rules worker...)."""

    checks: dict[str, Check] = field(default_factory=dict)
    beats: dict[str, Beat] = field(default_factory=dict)
    critical: set[str] = field(default_factory=set)

    def register(self, name: str, check: Check, *, critical: bool = False) -> None:
        self.checks[name] = check
        if critical:
            self.critical.add(name)

    def beat(self, name: str, status: Status = "ok", detail: str = "") -> None:
        self.beats[name] = Beat(status, detail, time.monotonic())

    async def report(self) -> dict[str, dict[str, Any]]:
        names = list(self.checks)
        results = await asyncio.gather(*(self._run(self.checks[n]) for n in names))
        report = dict(zip(names, results, strict=True))
        now = time.monotonic()
        for name, beat in self.beats.items():
            report[name] = {"status": beat.status, "detail": beat.detail,
                            "seconds_since_beat": round(now - beat.at, 1)}
        return report

    @staticmethod
    async def _run(check: Check) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_S):
                result = await check()
        except TimeoutError:
            return {"status": "down", "detail": f"no answer in {CHECK_TIMEOUT_S}s"}
        except Exception as err:  # noqa: BLE001 - a failing check is a report, not a crash
            return {"status": "down", "detail": type(err).__name__}
        result.setdefault("status", "ok")
        result["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
        return result


def overall(report: dict[str, dict[str, Any]]) -> Status:
    statuses = {component["status"] for component in report.values()}
    if "down" in statuses:
        return "down"
    return "degraded" if "degraded" in statuses else "ok"


LAG_PROBE_S = 0.25
LAG_WINDOW = 240  # probes: one minute at LAG_PROBE_S
LAG_MIN_PROBES = 40  # ten seconds: below that, one slow probe would be the "p99"


async def watch_loop_lag(health: HealthBoard, component: str = "event_loop") -> None:
    """How late the event loop runs a timer: the cost of anything blocking it (RELIABILITY
    Q6 reports its p99). Beats `degraded` when the p99 of the last minute exceeds 100 ms, once
    there are LAG_MIN_PROBES of it: a p99 needs samples, and one slow probe while the process
    starts (imports, seeding, every job's first step) is not a loop that is blocked."""
    loop = asyncio.get_running_loop()
    lags: list[float] = []
    while True:
        started = loop.time()
        await asyncio.sleep(LAG_PROBE_S)
        lags.append(max(0.0, loop.time() - started - LAG_PROBE_S) * 1000)
        del lags[:-LAG_WINDOW]
        ordered = sorted(lags)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        judged = len(lags) >= LAG_MIN_PROBES
        health.beat(component, "degraded" if judged and p99 >= 100 else "ok",
                    f"lag p99 {p99:.1f} ms, max {ordered[-1]:.1f} ms over {len(lags)} probes"
                    + ("" if judged else f" (judged from {LAG_MIN_PROBES})"))
