"""RELIABILITY Q4 and Q5: the hub stopped while devices publish, and the hub killed between
receiving messages and committing them; the broker keeps the hub's persistent session."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest

from tests.e2e.devices.fleet import Fleet
from tests.e2e.devices.rig import POSTGRES, Rig, api_get
from tests.e2e.devices.store import Gap, brief, covered, summary


async def publish_rounds(fleet: Fleet, rounds: int) -> None:
    """Every device publishes `rounds` messages, paced so that the broker keeps up."""
    for _ in range(rounds):
        fleet.send_all()
        await asyncio.sleep(0.01)


async def test_q4_hub_down_while_devices_publish_gets_everything_on_return_and_reports_gaps(
        rig: Rig) -> None:
    fleet = rig.fleet(10)
    hub = rig.hub()
    await hub.start()
    headers = await rig.admin(hub)
    await fleet.start()
    await publish_rounds(fleet, 20)
    await fleet.all_acked()
    await rig.caught_up(fleet.acked())
    before = fleet.acked()
    assert await hub.stop() == 128 + signal.SIGTERM  # stopped cleanly, by the signal

    gappy = fleet.devices[0]
    for number in range(100):
        if number in (30, 60):
            gappy.skip(5 if number == 30 else 2)  # lost on the device: the broker never had it
        fleet.send_all()
        await asyncio.sleep(0.01)
    await fleet.all_acked()  # the broker holds them in the hub's session
    expected = fleet.acked() - before
    restarted = time.monotonic()
    start_s = await hub.start()
    catch_up = await rig.caught_up(fleet.acked())
    since_start = time.monotonic() - restarted

    tally = await rig.tally()
    gaps = await rig.store.gaps()
    ids = await rig.store.device_ids()
    status = await api_get(hub, f"/api/v1/devices/{ids[gappy.code]}/status", headers)
    summary("Q4", {
        "queued_while_down": len(expected),
        "delivered": len(expected & tally.stored), "expected": len(expected),
        "gaps_detected": len(gaps), "gaps_actual": len(gappy.skipped),
        "gap_missing_detected": sum(g.size for g in gaps),
        "gap_missing_actual": sum(last - first + 1 for first, last in gappy.skipped),
        "duplicate_rows": tally.duplicate_rows, "lost_after_ack": len(tally.lost_after_ack),
        "hub_start_s": start_s, "catch_up_s": catch_up,
        "restart_to_caught_up_s": since_start,
    })
    assert expected <= tally.stored, f"not delivered: {brief(expected - tally.stored)}"
    assert not tally.duplicated, f"stored twice: {brief(tally.duplicated)}"
    assert gaps == [Gap(gappy.code, first, last) for first, last in gappy.skipped]
    assert status["gaps"]["count"] == len(gappy.skipped)
    assert status["gaps"]["missing"] == 7
    assert status["last_seq"] == gappy.seq
    assert not rig.crashes()


async def test_q4_messages_beyond_the_brokers_queue_are_dropped_by_it_and_each_loss_is_a_gap(
        rig: Rig) -> None:
    rig.broker.max_queued = 100  # Mosquitto drops silently beyond this, per client
    await rig.broker.stop()
    await rig.broker.start()
    fleet = rig.fleet(10)
    hub = rig.hub()
    await hub.start()
    await fleet.start()
    await publish_rounds(fleet, 5)
    await fleet.all_acked()
    await rig.caught_up(fleet.acked())
    assert await hub.stop() == 128 + signal.SIGTERM  # stopped cleanly, by the signal

    await publish_rounds(fleet, 30)  # 300 for a queue of 100
    await fleet.all_acked()
    await hub.start()
    await rig.quiet()
    await publish_rounds(fleet, 1)  # each device's next message reveals what it lost
    await fleet.all_acked()
    await rig.caught_up({(d.code, d.seq) for d in fleet})

    tally = await rig.tally()
    gaps = await rig.store.gaps()
    dropped = tally.published - tally.stored
    summary("Q4-overflow", {
        "published": len(tally.published), "acked": len(tally.acked),
        "stored": len(tally.stored), "broker_queue": rig.broker.max_queued,
        "dropped_by_broker": len(dropped), "gaps_detected": len(gaps),
        "gap_missing_detected": sum(g.size for g in gaps),
        "devices_with_gaps": len({g.code for g in gaps}),
        "duplicate_rows": tally.duplicate_rows,
    })
    assert dropped, "the broker's queue did not overflow: nothing was tested"
    assert covered(gaps) == dropped, f"lost without a gap: {brief(dropped - covered(gaps))}"
    assert not tally.duplicated, f"stored twice: {brief(tally.duplicated)}"
    assert not rig.crashes()


@pytest.mark.parametrize("database_url", ["sqlite", POSTGRES], indirect=True)
async def test_q5_hub_killed_before_commit_loses_nothing_and_stores_nothing_twice(
        rig: Rig) -> None:
    fleet = rig.fleet(20)
    hub = rig.hub()
    await hub.start()
    await fleet.start()
    fleet.stream(per_second=500)
    await asyncio.sleep(1.5)
    assert await hub.kill() == -signal.SIGKILL  # wherever it was: receive, commit or ack
    await asyncio.sleep(1.0)  # devices keep publishing; the broker queues for the hub
    restarts = [await hub.start()]
    await asyncio.sleep(1.0)
    # Then certainly between receive and commit: the database holds the hub's writes back
    # while messages keep arriving, and the hub dies with them received, none committed.
    async with rig.store.writes_blocked():
        await asyncio.sleep(1.0)
        uncommitted = (await hub.ingest())["queue_depth"]
        assert await hub.kill() == -signal.SIGKILL
    await asyncio.sleep(0.5)
    restarts.append(await hub.start())
    await asyncio.sleep(1.0)
    await fleet.halt()
    await fleet.all_acked()
    catch_up = await rig.caught_up(fleet.acked())

    tally = await rig.tally()
    counters = await rig.store.counters()
    summary("Q5", {
        "kills": 2, "published": len(tally.published), "acked": len(tally.acked),
        "stored": len(tally.stored), "uncommitted_at_second_kill": uncommitted,
        "duplicate_rows": tally.duplicate_rows,
        "redelivered_and_suppressed": counters.get("ingest|duplicates", 0),
        "lost_after_ack": len(tally.lost_after_ack), "gaps": len(await rig.store.gaps()),
        "restart_s_max": max(restarts), "catch_up_s": catch_up,
    })
    assert uncommitted > 0, "the hub held nothing uncommitted when killed: nothing was tested"
    assert not tally.lost_after_ack, f"lost after ack: {brief(tally.lost_after_ack)}"
    assert not tally.duplicated, f"stored twice: {brief(tally.duplicated)}"
    assert not tally.never_published, f"never sent: {brief(tally.never_published)}"
    assert len(await rig.store.inbox_keys()) == len(tally.stored)
    assert not rig.crashes()
