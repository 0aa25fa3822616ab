"""Scale-out (DESIGN.md §1, issue "Must show"): two `hub run` workers with their own client
ids on one MQTT 5 shared subscription and one PostgreSQL database store every message once."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.devices.processes import wait_for
from tests.e2e.devices.rig import POSTGRES, Rig
from tests.e2e.devices.store import brief, summary


@pytest.mark.parametrize("database_url", [POSTGRES], indirect=True)
async def test_two_workers_on_one_shared_subscription_store_every_message_once(
        rig: Rig) -> None:
    fleet = rig.fleet(20)
    workers = [rig.hub("hub-a", shared_group="hub"), rig.hub("hub-b", shared_group="hub")]
    # Started together on a fresh database, as replicas are: made certain by holding both
    # at their first write of the registry file until each has found the devices missing,
    # then at their first try for the leases of the jobs one worker runs (rollups, pollers,
    # schedulers): each finds no lease and both insert it at once.
    async def both_waiting() -> bool:
        return await rig.store.lock_waiters() >= len(workers)
    async with rig.store.table_locked("leases"):
        async with rig.store.table_locked("devices"):
            starting = [asyncio.create_task(w.start()) for w in workers]
            await wait_for(both_waiting, "both workers registering the devices", 30)
        await wait_for(both_waiting, "both workers taking their leases", 30)
    await asyncio.gather(*starting)
    await fleet.start()
    fleet.stream(per_second=500)
    await asyncio.sleep(4.0)
    await fleet.halt()
    await fleet.all_acked()
    catch_up = await rig.caught_up(fleet.acked())

    tally = await rig.tally()
    ingest = [await w.ingest() for w in workers]
    stored = [i["stored"] for i in ingest]
    summary("shared", {
        "workers": len(workers), "published": len(tally.published), "acked": len(tally.acked),
        "stored": len(tally.stored), "split": "+".join(map(str, stored)),
        "duplicates_suppressed": sum(i["duplicates_suppressed"] for i in ingest),
        "duplicate_rows": tally.duplicate_rows, "lost_after_ack": len(tally.lost_after_ack),
        "catch_up_s": catch_up,
    })
    assert not tally.lost_after_ack, f"lost after ack: {brief(tally.lost_after_ack)}"
    assert not tally.duplicated, f"stored twice: {brief(tally.duplicated)}"
    assert all(share > 0 for share in stored), "a worker took no share"
    assert sum(stored) == len(tally.stored)  # each message stored by one worker only
    assert len(await rig.store.inbox_keys()) == len(tally.stored)
    assert not rig.crashes()  # no task of either crashed on the other's writes
    holders = await rig.store.lease_holders()
    print(f"\nleases after the race: {holders}")
    assert {"telemetry.rollup", "work_orders.sla"} <= set(holders)
    assert set(holders.values()) <= {"hub-a", "hub-b"}  # each job held by one of the two
