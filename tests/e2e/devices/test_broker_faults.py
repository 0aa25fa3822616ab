"""RELIABILITY Q1 and Q2: the broker restarted (SIGTERM) or killed (SIGKILL) while devices
publish QoS 1 telemetry to a `hub run` worker; what the broker acknowledged, what was stored."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import statistics
import time

from tests.e2e.devices.fleet import Fleet
from tests.e2e.devices.processes import HubProcess, wait_for
from tests.e2e.devices.rig import Rig
from tests.e2e.devices.store import brief, covered, summary

RECONNECT_WITHIN_S = 15.0  # a bound against hangs; the times are printed


async def hub_reconnected(hub: HubProcess, reconnects_before: int) -> float:
    async def back() -> bool:
        counts = await hub.mqtt()
        return counts is not None and counts.connected and counts.reconnects > reconnects_before
    return await wait_for(back, f"{hub.name} reconnected", RECONNECT_WITHIN_S, every=0.02)


async def reconnects(hub: HubProcess) -> int:
    counts = await hub.mqtt()
    assert counts is not None
    return counts.reconnects


async def restart_broker(rig: Rig, hub: HubProcess, fleet: Fleet, *, kill: bool
                         ) -> tuple[float, float]:
    """Stop the broker one way or the other, start it on what it saved; the seconds until
    every device, and until the hub, had reconnected."""
    devices_before, hub_before = fleet.connects, await reconnects(hub)
    await (rig.broker.kill() if kill else rig.broker.stop())
    await rig.broker.start()
    started = time.monotonic()
    devices_back = await fleet.connected(devices_before)
    await hub_reconnected(hub, hub_before)
    return devices_back, time.monotonic() - started


async def test_q1_ten_broker_restarts_lose_nothing_acknowledged_and_store_nothing_twice(
        rig: Rig) -> None:
    fleet = rig.fleet(50)
    hub = rig.hub()
    await hub.start()
    await fleet.start()
    fleet.stream(per_second=500)
    await asyncio.sleep(0.5)
    hub_back: list[float] = []
    devices_back: list[float] = []
    for _ in range(10):
        devices_s, hub_s = await restart_broker(rig, hub, fleet, kill=False)
        devices_back.append(devices_s)
        hub_back.append(hub_s)
        await asyncio.sleep(0.5)
    await fleet.halt()
    await fleet.all_acked()
    catch_up = await rig.caught_up(fleet.acked())

    tally = await rig.tally()
    counters = await rig.store.counters()
    inbox = await rig.store.inbox_keys()
    summary("Q1", {
        "restarts": 10, "published": len(tally.published), "acked": len(tally.acked),
        "stored": len(tally.stored), "duplicate_rows": tally.duplicate_rows,
        "duplicates_suppressed": counters.get("ingest|duplicates", 0),
        "lost_after_ack": len(tally.lost_after_ack), "gaps": len(await rig.store.gaps()),
        "hub_recovery_s_mean": statistics.mean(hub_back), "hub_recovery_s_max": max(hub_back),
        "devices_recovery_s_max": max(devices_back), "catch_up_s": catch_up,
        "hub_reconnects": await reconnects(hub),
    })
    assert tally.acked == tally.published  # SIGTERM: Mosquitto saved everything it took
    assert not tally.lost_after_ack, f"lost after ack: {brief(tally.lost_after_ack)}"
    assert not tally.duplicated, f"stored twice: {brief(tally.duplicated)}"
    assert not tally.never_published, f"never sent: {brief(tally.never_published)}"
    assert len(inbox) == len(tally.stored)
    assert not rig.crashes()


def per_kill(lost: set[tuple[str, int]], sent_at: dict[tuple[str, int], float],
             kills: list[float]) -> list[int]:
    """Lost messages attributed to the first kill after they were published (one entry per
    kill, and one more only if something was lost after the last)."""
    counts = [0] * (len(kills) + 1)
    for key in lost:
        counts[bisect.bisect_left(kills, sent_at[key])] += 1
    return counts[:-1] if not counts[-1] else counts


async def test_q2_broker_killed_mid_stream_hub_and_devices_reconnect_and_loss_is_measured(
        rig: Rig) -> None:
    fleet = rig.fleet(50)
    hub = rig.hub()
    await hub.start()
    await fleet.start()
    began = time.monotonic()
    fleet.stream(per_second=500)
    kills: list[float] = []
    hub_back: list[float] = []
    for _ in range(3):
        await asyncio.sleep(1.5)  # past an autosave: each kill loses at most ~1 s of state
        kills.append(time.monotonic())
        _, hub_s = await restart_broker(rig, hub, fleet, kill=True)
        hub_back.append(hub_s)
    await asyncio.sleep(0.5)
    await fleet.halt()
    await fleet.all_acked()  # what the broker never acknowledged, the devices sent again
    await rig.quiet()
    minutes = (time.monotonic() - began) / 60

    tally = await rig.tally()
    gaps = await rig.store.gaps()

    async def delivered_all_stored() -> bool:  # the adapter's counts refresh every 5 s
        counts = await hub.mqtt()
        return counts is not None and counts.messages_in == (await hub.ingest())["items"]
    with contextlib.suppress(AssertionError):  # the assertion below says by how much
        await wait_for(delivered_all_stored, "delivered all stored", 12.0, every=0.25)
    counts, ingest = await hub.mqtt(), await hub.ingest()
    assert counts is not None
    device_reconnects = sum(fleet.connects) - len(fleet.devices)
    summary("Q2", {
        "kills": len(kills), "published": len(tally.published), "acked": len(tally.acked),
        "stored": len(tally.stored), "delivered_to_hub": counts.messages_in,
        "taken_by_ingest": ingest["items"],
        "duplicate_rows": tally.duplicate_rows,
        "duplicates_suppressed": ingest["duplicates_suppressed"],
        "lost_after_ack": len(tally.lost_after_ack),
        "lost_after_ack_per_kill": per_kill(tally.lost_after_ack, fleet.sent_at(), kills),
        "gaps": len(gaps), "gap_missing": sum(g.size for g in gaps),
        "hub_recovery_s_max": max(hub_back),
        "hub_reconnects_per_min": counts.reconnects / minutes,
        "device_reconnects_per_min": device_reconnects / minutes,
    })
    assert not tally.duplicated, f"stored twice: {brief(tally.duplicated)}"
    assert not tally.never_published, f"never sent: {brief(tally.never_published)}"
    # Not hidden: the devices went on counting, so every message lost shows as a gap.
    hidden = tally.lost_after_ack - covered(gaps)
    assert not hidden, f"lost without a gap: {brief(hidden)}"
    assert counts.messages_in == ingest["items"], "delivered to the hub, never stored"
    assert counts.reconnects >= len(kills)
    assert not rig.crashes()
