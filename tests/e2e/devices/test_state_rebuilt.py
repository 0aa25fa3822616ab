"""RELIABILITY Q7: a restarted hub knows every device's state again (online, last seen, last
values) from its database, and learns what changed meanwhile from the broker: the queued
messages of its session and the retained status (a last will among them)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import paho.mqtt.subscribe as mqtt_subscribe

from tests.e2e.devices.fleet import OFFLINE, Device
from tests.e2e.devices.processes import HubProcess, wait_for
from tests.e2e.devices.rig import Rig, api_get
from tests.e2e.devices.store import summary

SHOWN = ("online", "offline_reason", "last_seen", "boot", "last_seq", "last_values")


async def statuses(hub: HubProcess, headers: dict[str, str],
                   ids: dict[str, int]) -> dict[str, dict[str, Any]]:
    found = {}
    for code, device_id in ids.items():
        body = await api_get(hub, f"/api/v1/devices/{device_id}/status", headers)
        found[code] = {key: body[key] for key in SHOWN}
    return found


async def retained_status(rig: Rig, device: Device) -> bytes:
    message = await asyncio.wait_for(asyncio.to_thread(
        mqtt_subscribe.simple, device.topic("status"), hostname="127.0.0.1",
        port=rig.broker.port, retained=True, msg_count=1, keepalive=5), 10)
    assert not isinstance(message, list)
    return bytes(message.payload)


async def test_q7_a_restarted_hub_rebuilds_device_states_from_the_database_and_the_broker(
        rig: Rig) -> None:
    fleet = rig.fleet(6, will=True)  # each says "online", retained, with "offline" as its will
    hub = rig.hub()
    await hub.start()
    headers = await rig.admin(hub)
    await fleet.start()
    for number in range(3):
        for device in fleet:
            device.send(lamp="on", power_w=30.0 + number)
    retired = fleet.devices[5]
    retired.publish_raw(retired.topic("status"), OFFLINE, retain=True)  # switched off properly
    await fleet.all_acked()
    await rig.caught_up(fleet.acked())
    ids = await rig.store.device_ids()
    await wait_for(lambda: _offline(rig, retired.code), "the retired lamp offline", 10)
    before = await statuses(hub, headers, ids)
    await hub.stop()

    # While the hub is away: one lamp loses power (the broker publishes its last will),
    # another reports new values. The other four say nothing.
    vanished, busy = fleet.devices[0], fleet.devices[1]
    await asyncio.to_thread(vanished.vanish)
    busy.send(lamp="on", power_w=99.0)
    busy.send(lamp="off", power_w=0.0)
    await fleet.all_acked()
    await wait_for(lambda: _retained_offline(rig, vanished), "the last will retained", 10)

    started = time.monotonic()
    ready_s = await hub.start()
    first = await statuses(hub, headers, ids)

    async def rebuilt() -> bool:
        now = await statuses(hub, headers, ids)
        return (now[busy.code]["last_seq"] == busy.seq
                and now[vanished.code]["online"] is False)
    await wait_for(rebuilt, "every device's state rebuilt", 20, every=0.05)
    full_state_s = time.monotonic() - started
    after = await statuses(hub, headers, ids)
    quiet = [d.code for d in fleet.devices[2:]]
    summary("Q7", {
        "devices": len(ids), "process_start_to_api_ready_s": ready_s,
        "process_start_to_full_state_s": full_state_s,
        "unchanged_correct_at_first_answer": sum(first[c] == before[c] for c in quiet),
        "unchanged": len(quiet),
    })
    for code in quiet:  # from the database, at the first answer, to the last timestamp
        assert first[code] == before[code], code
        assert after[code] == before[code], code
    assert after[vanished.code] == {**before[vanished.code], "online": False,
                                    "offline_reason": "status offline"}
    assert after[busy.code]["online"] is True
    assert after[busy.code]["last_values"]["power_w"]["value"] == 0.0
    assert after[busy.code]["last_values"]["lamp"]["value"] == "off"
    assert after[busy.code]["last_seq"] == busy.seq == 5
    assert not rig.crashes()


async def _offline(rig: Rig, code: str) -> bool:
    return (await rig.store.states())[code]["online"] is False


async def _retained_offline(rig: Rig, device: Device) -> bool:
    return await retained_status(rig, device) == OFFLINE
