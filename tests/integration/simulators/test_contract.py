"""Each simulator speaks the device contract of DESIGN.md §2 on a real broker: topics, QoS,
retain, payload fields and types, `seq` with a stable `boot`, and the last will."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiomqtt
import pytest

from hub.devices.mqtt.codec import decode
from hub.domain.observations import Rejected
from simulators.mqtt.cameras import PlateCamera, Vehicles
from simulators.mqtt.device import Link, SimulatedDevice
from simulators.mqtt.doors import DoorController
from simulators.mqtt.gates import BarrierGate
from simulators.mqtt.lights import StreetLight
from tests.integration.simulators.conftest import (
    command,
    events,
    is_ack,
    is_status,
    online,
    running,
    telemetry_of,
)
from tests.integration.simulators.proxy import Proxy
from tests.integration.simulators.watch import Seen, Watch, split_url

pytestmark = pytest.mark.mqtt
FAST = 0.05  # telemetry period in these tests, seconds
RESIDENTS = ["沪A12345", "沪AD12345", "沪B67890"]
VISITORS = ["粤BD12345"]


def simulator(kind: str, site: str, url: str) -> SimulatedDevice:
    link = Link(url)
    if kind == "light":
        return StreetLight(site, "light-b3-1", link, period_s=FAST, on=True)
    if kind == "gate":
        return BarrierGate(site, "gate-north", link, period_s=FAST)
    if kind == "camera":
        return PlateCamera(site, "cam-north-in", link, period_s=FAST, per_minute=0,
                           vehicles=Vehicles(RESIDENTS))
    return DoorController(site, "door-b3-1", link, period_s=FAST, per_minute=0)


def check_stamp(body: dict[str, Any]) -> None:
    assert isinstance(body["seq"], int) and not isinstance(body["seq"], bool)
    assert isinstance(body["boot"], str) and 0 < len(body["boot"]) <= 64
    ts = datetime.fromisoformat(body["ts"])
    assert ts.tzinfo is not None, "ts must carry an offset"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d", body["ts"])


@pytest.mark.parametrize("kind", ["light", "gate", "camera", "door"])
async def test_simulator_reports_retained_online_then_qos1_telemetry_in_sequence(
        kind: str, site: str, mqtt_url: str, watch: Watch) -> None:
    device = simulator(kind, site, mqtt_url)
    async with running(device, watch):
        telemetry = await watch.wait_for(lambda s: s.topic == device.topic("telemetry"),
                                         count=3)

    status = online(watch, device)[0]
    assert status.topic == f"estate/{site}/{kind}/{device.key.device}/status"
    assert (status.qos, status.retain, json.loads(status.payload)) == (1, True, "online")
    for seen in telemetry:
        assert (seen.qos, seen.retain) == (1, False)
        check_stamp(seen.body)
        assert isinstance(seen.body["metrics"], dict) and seen.body["metrics"]
    seqs = [s.body["seq"] for s in telemetry]
    assert seqs == list(range(seqs[0], seqs[0] + 3)), "seq counts up by one"
    assert seqs[0] == 1, "the first message of a life is not lost to connecting"
    assert len({s.body["boot"] for s in telemetry}) == 1
    assert not [s for s in watch.seen if s.channel == "cmd"], "a device never publishes cmd"


def this_life(device: SimulatedDevice) -> Callable[[Seen], bool]:
    return lambda s: telemetry_of(device)(s) and s.body["boot"] == device.boot


async def test_device_started_again_has_a_new_boot_and_counts_from_one(
        site: str, mqtt_url: str, watch: Watch) -> None:
    first, second = (StreetLight(site, "light-b3-1", Link(mqtt_url), period_s=FAST)
                     for _ in range(2))
    for device in (first, second):
        async with running(device, watch):
            await watch.wait_for(this_life(device))

    assert first.boot != second.boot
    seqs = {boot: [s.body["seq"] for s in watch.on(first.topic("telemetry"))
                   if s.body["boot"] == boot] for boot in (first.boot, second.boot)}
    assert seqs[first.boot][0] == 1 and seqs[second.boot][0] == 1


async def test_last_will_offline_is_delivered_when_the_link_is_cut_and_the_device_returns(
        site: str, mqtt_url: str, watch: Watch) -> None:
    async with Proxy(*split_url(mqtt_url)) as proxy:
        gate = BarrierGate(site, "gate-north", Link(proxy.url), period_s=FAST)
        async with running(gate, watch):
            before = (await watch.wait_for(lambda s: s.topic == gate.topic("telemetry")))[0]
            proxy.cut()
            will = (await watch.wait_for(lambda s: is_status(s, gate, "offline")))[0]
            await watch.wait_for(lambda s: is_status(s, gate, "online"), count=2)
            after = await telemetry_after(watch, gate, will)

    assert (will.qos, will.retain) == (1, True), "the last will is retained QoS 1"
    assert gate.counters["disconnects"] >= 1 and gate.counters["connects"] == 2
    assert after.body["boot"] == before.body["boot"], "a reconnect is not a restart"
    assert after.body["seq"] > before.body["seq"]


async def telemetry_after(watch: Watch, device: SimulatedDevice, marker: Seen) -> Seen:
    start = watch.seen.index(marker)
    found = await watch.wait_for(lambda s: s.topic == device.topic("telemetry")
                                 and watch.seen.index(s) > start)
    return found[0]


async def test_camera_reads_arriving_vehicles_with_lane_direction_color_confidence(
        site: str, mqtt_url: str, watch: Watch) -> None:
    vehicles = Vehicles(RESIDENTS, VISITORS)
    camera = PlateCamera(site, "cam-north-in", Link(mqtt_url), vehicles=vehicles,
                         lane="north", direction="in", per_minute=0, misread_probability=0,
                         repeat_probability=0)
    async with running(camera, watch):
        for _ in range(4):
            plate = vehicles.arriving()
            assert plate is not None
            await camera.see(plate)
        reads = await watch.wait_for(lambda s: s.topic == camera.topic("event"), count=4)

    for seen in reads:
        body = seen.body
        check_stamp(body)
        assert (seen.qos, body["type"], body["lane"], body["direction"]) == (1, "plate",
                                                                            "north", "in")
        assert body["plate"] in RESIDENTS + VISITORS
        assert body["color"] == ("green" if len(body["plate"]) == 8 else "blue")
        assert isinstance(body["confidence"], float) and 0 < body["confidence"] <= 1
    assert len({s.body["plate"] for s in reads}) == 4, "a vehicle inside does not arrive again"


async def test_exit_camera_reads_only_vehicles_that_came_in(
        site: str, mqtt_url: str, watch: Watch) -> None:
    vehicles = Vehicles(["沪A12345"], [])
    exit_camera = PlateCamera(site, "cam-north-out", Link(mqtt_url), vehicles=vehicles,
                              direction="out", per_minute=0)
    assert vehicles.leaving() is None, "nobody is inside yet"
    assert vehicles.arriving() == "沪A12345"
    assert vehicles.arriving() is None, "the only vehicle is already inside"
    async with running(exit_camera, watch):
        plate = vehicles.leaving()
        assert plate == "沪A12345"
        await exit_camera.see(plate)
        read = await watch.wait_for(lambda s: s.topic == exit_camera.topic("event"))
    assert read[0].body["direction"] == "out"


async def test_camera_with_an_image_hook_sends_the_picture_and_no_plate(
        site: str, mqtt_url: str, watch: Watch) -> None:
    jpeg = b"\xff\xd8\xff\xe0fake-jpeg-of-" + "沪A12345".encode()
    camera = PlateCamera(site, "cam-north-in", Link(mqtt_url), vehicles=Vehicles([]),
                         per_minute=0, repeat_probability=0,
                         image_source=lambda plate, color: jpeg)
    async with running(camera, watch):
        await camera.see("沪A12345")
        read = (await watch.wait_for(lambda s: s.topic == camera.topic("event")))[0].body

    assert (read["plate"], read["color"], read["confidence"]) == (None, None, None)
    assert base64.b64decode(read["image"]) == jpeg


async def test_door_reports_presented_credentials_as_events(
        site: str, mqtt_url: str, watch: Watch) -> None:
    door = DoorController(site, "door-b3-1", Link(mqtt_url), per_minute=0)
    async with running(door, watch):
        await door.present("QR:visitor-0412")
        await door.present("CARD:04A1B2C3")
        await watch.wait_for(lambda s: s.topic == door.topic("event"), count=2)

    assert [e["credential"] for e in events(watch, door, "credential")] == [
        "QR:visitor-0412", "CARD:04A1B2C3"]


async def test_hub_decoder_accepts_every_message_every_simulator_sends(
        site: str, mqtt_url: str, watch: Watch, hub: aiomqtt.Client) -> None:
    vehicles = Vehicles(RESIDENTS, VISITORS)
    devices = [simulator(kind, site, mqtt_url) for kind in ("light", "gate", "door")]
    camera = PlateCamera(site, "cam-north-in", Link(mqtt_url), vehicles=vehicles,
                         per_minute=0, misread_probability=0.5, repeat_probability=0)
    gate, door = devices[1], devices[2]
    assert isinstance(gate, BarrierGate) and isinstance(door, DoorController)
    async with running(devices[0], watch), running(gate, watch), running(door, watch), \
            running(camera, watch):
        open_id, body = command("open")
        await hub.publish(gate.topic("cmd"), body, qos=1)
        await watch.wait_for(lambda s: is_ack(s, gate, open_id))
        await gate.set_fault("stuck", True)
        await gate.set_fault("stuck", False)
        await door.present("QR:visitor-0412")
        for _ in range(3):
            await camera.see(vehicles.arriving() or "沪A12345")
        await watch.wait_for(lambda s: s.topic == camera.topic("event"), count=3)
    decoded = [(s, decode(s.topic, s.payload, datetime.now(UTC))) for s in watch.seen]

    rejected = [(s.topic, d.reason) for s, d in decoded if isinstance(d, Rejected)]
    print(f"messages decoded by the hub's codec: {len(decoded)}, rejected: {len(rejected)}")
    assert rejected == []
    assert {type(d).__name__ for _, d in decoded} >= {
        "StatusReported", "Telemetry", "BarrierChanged", "CredentialPresented", "PlateRead",
        "CommandAcknowledged"}
