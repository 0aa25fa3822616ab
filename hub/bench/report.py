"""The figures of `hub bench ingest`: the JSON object of its last line, and the summary above."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.bench.bare import BareResult
    from hub.bench.ingest import IngestPlan
    from hub.bench.publishers import PublishReport
    from hub.bench.stamps import Window
    from hub.devices.mqtt.link import LinkStats
    from hub.ingest.stats import IngestStats


def result(*, plan: IngestPlan, backend: str, window: Window, usage: dict[str, float],
           sent: list[PublishReport], catch_up_s: float, hub_ceiling: float,
           backlog: list[PublishReport], bares: list[BareResult], lost: int, duplicates: int,
           stats: IngestStats, link: LinkStats, stored_by_worker: list[int],
           stalled: bool) -> dict[str, Any]:
    bare = {b.mode: round(b.msgs_per_s, 1) for b in bares}
    ceiling = max(bare.values(), default=0.0)
    publishers_cpu = sum(r.cpu_s for r in sent) / max(1e-9, *(r.seconds for r in sent))
    return {
        "scenario": "ingest",
        "msgs_per_s": window.msgs_per_s,
        "p50_ms": window.p50_ms,
        "p99_ms": window.p99_ms,
        "bare_msgs_per_s": ceiling,
        "ratio": round(window.msgs_per_s / ceiling, 3) if ceiling else 0.0,
        "lost": lost,
        "duplicates": duplicates,
        "backend": backend,
        "devices": plan.devices,
        "seconds": plan.seconds,
        "rate": plan.rate,
        "max_ms": window.max_ms,
        "stalled": stalled,  # the hub stopped storing before it had everything acknowledged
        "published": sum(r.sent for r in sent + backlog),
        "unacked_by_broker": sum(len(r.unacked) for r in sent + backlog),
        "publishers_behind_s": round(max(r.behind_s for r in sent), 3),
        "catch_up_s": round(catch_up_s, 2),
        "hub_ceiling_msgs_per_s": round(hub_ceiling, 1),
        "ceiling_ratio": round(hub_ceiling / ceiling, 3) if ceiling else 0.0,
        "bare_by_mode": bare,
        "backlog": sum(r.sent for r in backlog),
        **usage,
        "publishers_cpu_percent": round(publishers_cpu * 100, 1),
        "publishers": len(sent),
        "publisher_client": plan.client,
        "batches": stats.batches,
        "mean_batch": round(stats.items / stats.batches, 1) if stats.batches else 0.0,
        "redeliveries_suppressed": stats.duplicates,
        "mqtt_reconnects": link.reconnects - 1,  # besides the one the ceiling phase makes
        "mqtt_pauses": link.pauses,
        "mqtt_paused_s": round(link.paused_s, 2),
        "mqtt_queue_high_water": link.queue_high_water,
        "cores": os.cpu_count(),
        "workers": plan.workers,
        "stored_by_worker": stored_by_worker,
    }


def describe(r: dict[str, Any]) -> str:
    bare = ", ".join(f"{mode} {rate:,.0f}/s" for mode, rate in r["bare_by_mode"].items())
    return "\n".join([
        f"ingest: {r['devices']} meters at {r['rate']:,.0f} msgs/s offered, "
        f"{r['seconds']}s measured, {r['backend']}"
        + (f", {r['workers']} hub workers" if r.get("workers", 1) > 1 else ""),
        f"  stored               {r['msgs_per_s']:,.0f} msgs/s sustained",
        f"  latency send→stored  p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
        f"max {r['max_ms']} ms",
        f"  hub ceiling          {r['hub_ceiling_msgs_per_s']:,.0f} msgs/s "
        f"(draining a backlog of {r['backlog']:,})",
        f"  bare subscriber      {r['bare_msgs_per_s']:,.0f} msgs/s ({bare})",
        f"  ratio                {r['ratio']:.2f} sustained/bare, "
        f"{r['ceiling_ratio']:.2f} ceiling/bare",
        f"  lost {r['lost']}, duplicates {r['duplicates']} "
        f"(of {r['published']:,} published; {r['redeliveries_suppressed']} redeliveries "
        f"suppressed by the inbox)",
        f"  CPU (one core = 100) hub {r['hub_cpu_percent']}%, broker "
        f"{r['broker_cpu_percent']}%, publishers ({r['publisher_client']}) "
        f"{r['publishers_cpu_percent']}%, whole "
        f"machine {r['machine_cpu_percent']}% of {r['cores'] * 100}%",
        f"  batches              {r['batches']:,}, mean {r['mean_batch']} items; "
        f"MQTT queue high water {r['mqtt_queue_high_water']}, reading paused "
        f"{r['mqtt_pauses']}× ({r['mqtt_paused_s']} s), reconnects {r['mqtt_reconnects']}",
    ])
