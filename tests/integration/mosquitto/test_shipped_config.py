"""The shipped Mosquitto configuration with the generated password and ACL files refuses
what RELIABILITY MS1-MS4 list, and lets the hub and each device do their part."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiomqtt
import pytest
from aiomqtt.exceptions import MqttConnectError

from simulators.mqtt.device import Link
from simulators.mqtt.gates import BarrierGate
from simulators.mqtt.lights import StreetLight
from tests.integration.mosquitto.conftest import SecuredBroker
from tests.integration.simulators.conftest import command, is_ack, status_of
from tests.integration.simulators.watch import Watch, watching

NORTH = "lakeside.gate.gate-north"
SOUTH = "lakeside.gate.gate-south"
ROOT_NORTH, ROOT_SOUTH = "estate/lakeside/gate/gate-north", "estate/lakeside/gate/gate-south"
# Reason codes of a refused CONNECT: 134 bad user name or password, 135 not authorised.
REFUSED = (134, 135)


def watch_as(broker: SecuredBroker, username: str, *topics: str
             ) -> contextlib.AbstractAsyncContextManager[Watch]:
    return watching(broker.host, broker.port, *topics, username=username,
                    password=broker.passwords[username])


async def test_anonymous_and_wrong_password_connections_are_refused(
        secured_broker: SecuredBroker) -> None:
    with pytest.raises(MqttConnectError) as anonymous:
        async with aiomqtt.Client(secured_broker.host, secured_broker.port,
                                  protocol=aiomqtt.ProtocolVersion.V5):
            pass
    with pytest.raises(MqttConnectError) as wrong:
        async with secured_broker.login(NORTH, "not-the-password"):
            pass
    async with secured_broker.login(NORTH):  # the generated $7$ hash is one Mosquitto reads
        pass

    assert anonymous.value.rc in REFUSED and wrong.value.rc in REFUSED


async def test_device_publishing_as_another_device_reaches_no_one(
        secured_broker: SecuredBroker) -> None:
    spoofs = [f"{ROOT_SOUTH}/telemetry", f"{ROOT_SOUTH}/event", f"{ROOT_SOUTH}/status",
              f"{ROOT_SOUTH}/cmd/ack", f"{ROOT_SOUTH}/cmd", "estate/lakeside/light/light-1/event",
              "estate/elsewhere/gate/gate-north/event", "estate/lakeside/gate/gate-north/cmd"]
    async with watch_as(secured_broker, "hub", "estate/#") as hub, \
            watch_as(secured_broker, SOUTH, f"{ROOT_SOUTH}/cmd") as south, \
            secured_broker.login(NORTH) as north, secured_broker.login("hub-2") as sender:
        for topic in spoofs:
            await north.publish(topic, b"spoof", qos=1, retain=topic.endswith("status"))
        # Markers: the broker keeps each publisher's order, so whatever of the above it had
        # passed on would have arrived before these.
        await north.publish(f"{ROOT_NORTH}/event", b"marker", qos=1)
        _, body = command("open")
        await sender.publish(f"{ROOT_SOUTH}/cmd", body, qos=1)
        await hub.wait_for(lambda s: s.payload == b"marker")
        await south.wait_for(lambda s: s.payload == body)
    async with watch_as(secured_broker, "hub", f"{ROOT_SOUTH}/#") as late, \
            secured_broker.login("hub-2") as sender:
        # Mosquitto queues retained messages as it answers the SUBSCRIBE: any would arrive
        # before a command published after that.
        _, marker = command("close")
        await sender.publish(f"{ROOT_SOUTH}/cmd", marker, qos=1)
        await late.wait_for(lambda s: s.payload == marker)
        retained = [s for s in late.seen if s.retain]

    spoofed = [s for s in hub.seen + south.seen + retained if s.payload == b"spoof"]
    print(f"spoofed messages stored: {len(spoofed)} (of {len(spoofs)} attempts)")
    assert spoofed == []
    assert [s.payload for s in south.seen] == [body], "only the hub's command reached it"


async def test_device_subscribing_to_everything_receives_only_its_own_commands(
        secured_broker: SecuredBroker) -> None:
    wide = ["#", "estate/#", "estate/+/+/+/cmd", f"{ROOT_SOUTH}/cmd", "$SYS/#",
            f"{ROOT_NORTH}/cmd"]
    async with watch_as(secured_broker, NORTH, *wide) as north, \
            secured_broker.login(SOUTH) as south, secured_broker.login("hub-2") as sender:
        await south.publish(f"{ROOT_SOUTH}/telemetry", b'{"seq": 1}', qos=1)
        _, for_south = command("open")
        await sender.publish(f"{ROOT_SOUTH}/cmd", for_south, qos=1)
        _, for_north = command("close")
        await sender.publish(f"{ROOT_NORTH}/cmd", for_north, qos=1)
        await north.wait_for(lambda s: s.payload == for_north)

    print(f"messages a device subscribed to {' '.join(wide)} received: {len(north.seen)}")
    # One copy per matching subscription (Mosquitto delivers overlapping ones each), but
    # only ever its own command.
    assert {(s.topic, s.payload) for s in north.seen} == {(f"{ROOT_NORTH}/cmd", for_north)}


@contextlib.asynccontextmanager
async def simulated(*devices: BarrierGate | StreetLight) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(d.run()) for d in devices]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_hub_hears_every_device_and_its_command_reaches_only_the_addressed_one(
        secured_broker: SecuredBroker) -> None:
    def link(username: str) -> Link:
        return Link(secured_broker.url, password=secured_broker.passwords[username])

    north = BarrierGate("lakeside", "gate-north", link(NORTH), period_s=3600, hold_s=3600)
    south = BarrierGate("lakeside", "gate-south", link(SOUTH), period_s=3600, hold_s=3600)
    light = StreetLight("lakeside", "light-1", link("lakeside.light.light-1"), period_s=3600)
    async with watch_as(secured_broker, "hub", "$share/hub/estate/#") as hub, \
            secured_broker.login("hub-2") as sender, simulated(north, south, light):
        for device in (north, south, light):
            await hub.wait_for(status_of(device, "online"))
        open_id, body = command("open")
        await sender.publish(north.topic("cmd"), body, qos=1)
        await hub.wait_for(lambda s: is_ack(s, north, open_id))
        # Nor may the hub speak for a device.
        await sender.publish(light.topic("status"), b'"offline"', qos=1, retain=True)
        await sender.publish(light.topic("telemetry"), b"spoof", qos=1)
        off_id, off = command("off")
        await sender.publish(light.topic("cmd"), off, qos=1)
        await hub.wait_for(lambda s: s.topic == light.topic("cmd/ack"))
        heard = list(hub.seen)  # before the simulators stop and say "offline" themselves

    assert north.executions[open_id] == 1 and north.state == "open"
    assert south.executions == {} and light.executions == {off_id: 1}
    assert [s.body["state"] for s in hub.on(north.topic("event"))
            if s.body["type"] == "barrier"] == ["open"]
    assert not [s for s in heard if s.payload in (b"spoof", b'"offline"')
                and s.topic.startswith("estate/lakeside/light/")]
