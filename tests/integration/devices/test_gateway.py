"""Commands to MQTT devices through real Mosquitto: a test device that acknowledges, refuses
or stays silent; expiry, resending, and no retained command ever."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiomqtt
import pytest
from paho.mqtt.subscribeoptions import SubscribeOptions

from hub.devices.broker import EmbeddedBroker, free_port
from hub.devices.gateway import MqttGateway
from hub.devices.mqtt.link import MqttConfig
from hub.domain.device_commands import CommandStatus, DeviceCommand
from hub.domain.observations import DeviceKey
from hub.health import HealthBoard
from tests.integration.devices.mqtt_support import eventually, host_port, unique_site

pytestmark = pytest.mark.mqtt


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class FakeGate:
    """A gate that answers its `cmd` topic: "ok", "refuse", or "silent"."""

    key: DeviceKey
    answer: str = "ok"
    ack_as: DeviceKey | None = None  # acknowledge on another device's topic (a spoofer)
    v5: bool = True
    received: list[aiomqtt.Message] = field(default_factory=list)

    @property
    def commands(self) -> list[dict[str, Any]]:
        return [json.loads(message.payload) for message in self.received
                if isinstance(message.payload, bytes)]

    async def serve(self, url: str, subscribed: asyncio.Event) -> None:
        host, port = host_port(url)
        base = f"estate/{self.key.site}/{self.key.kind}/{self.key.device}"
        acks_to = self.ack_as or self.key
        protocol = aiomqtt.ProtocolVersion.V5 if self.v5 else aiomqtt.ProtocolVersion.V311
        async with aiomqtt.Client(host, port, protocol=protocol) as client:
            # retainAsPublished: the retain flag arrives as the hub set it, not cleared.
            if self.v5:
                await client.subscribe(f"{base}/cmd", options=SubscribeOptions(
                    qos=1, retainAsPublished=True))
            else:
                await client.subscribe(f"{base}/cmd", qos=1)
            subscribed.set()
            async for message in client.messages:
                self.received.append(message)
                command = json.loads(message.payload)  # type: ignore[arg-type]
                if self.answer == "silent":
                    continue
                ok = self.answer == "ok"
                ack = {"id": command["id"], "ok": ok, "error": None if ok else "blocked"}
                await client.publish(
                    f"estate/{acks_to.site}/{acks_to.kind}/{acks_to.device}/cmd/ack",
                    json.dumps(ack), qos=1)


@asynccontextmanager
async def device(url: str, key: DeviceKey, **behaviour: Any) -> AsyncIterator[FakeGate]:
    gate = FakeGate(key, **behaviour)
    subscribed = asyncio.Event()
    task = asyncio.create_task(gate.serve(url, subscribed))
    await asyncio.wait_for(subscribed.wait(), 10)
    try:
        yield gate
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@asynccontextmanager
async def gateway(url: str, site: str, ack_timeout_s: float = 0.5, **settings: Any
                  ) -> AsyncIterator[MqttGateway]:
    config = MqttConfig(url=url, client_id=f"hub-{site}-cmd", sites=(site,), session_expiry_s=60,
                        backoff_base_s=0.1, backoff_cap_s=0.5, connect_timeout_s=2.0,
                        **settings)
    commands = MqttGateway(config, HealthBoard(), now, ack_timeout_s=ack_timeout_s)
    task = asyncio.create_task(commands.run())
    try:
        yield commands
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def command(key: DeviceKey, action: str = "open", *, issued: datetime | None = None,
            lifetime: timedelta = timedelta(seconds=30)) -> DeviceCommand:
    issued = issued or now()
    return DeviceCommand(id=str(uuid.uuid4()), device_id=7, key=key, action=action,
                         issued_at=issued, expires_at=issued + lifetime,
                         args={"lane": "north-in"}, cause="api")


def gate_of(site: str, device: str = "north-gate") -> DeviceKey:
    return DeviceKey(site, "gate", device)


async def test_an_acknowledged_command_round_trips_as_acked(mqtt_url: str) -> None:
    key = gate_of(unique_site())
    open_gate = command(key)
    async with device(mqtt_url, key) as gate, gateway(mqtt_url, key.site) as commands:
        status = await commands.send(open_gate)

    assert status is CommandStatus.ACKED
    assert gate.commands == [{"id": open_gate.id, "action": "open", "args": {"lane": "north-in"},
                              "expires": open_gate.expires_at.isoformat(
                                  timespec="milliseconds").replace("+00:00", "Z")}]
    assert [message.qos for message in gate.received] == [1]


async def test_commands_round_trip_on_the_embedded_demo_broker_over_mqtt_3_1_1() -> None:
    key = gate_of(unique_site())
    async with (EmbeddedBroker() as broker,  # amqtt: MQTT 3.1.1 only
                device(broker.url, key, v5=False) as gate,
                gateway(broker.url, key.site, protocol="3.1.1") as commands):
        status = await commands.send(command(key))

    assert status is CommandStatus.ACKED and len(gate.received) == 1


async def test_a_device_that_refuses_makes_the_command_failed(mqtt_url: str) -> None:
    key = gate_of(unique_site())
    async with device(mqtt_url, key, answer="refuse"), gateway(mqtt_url, key.site) as commands:
        assert await commands.send(command(key)) is CommandStatus.FAILED


async def test_a_silent_device_gives_no_ack_and_a_toggle_is_never_sent_twice(
        mqtt_url: str) -> None:
    key = gate_of(unique_site())
    async with (device(mqtt_url, key, answer="silent") as gate,
                gateway(mqtt_url, key.site) as commands):
        status = await commands.send(command(key, "toggle"))

    assert status is CommandStatus.NO_ACK
    assert len(gate.received) == 1


async def test_a_resendable_command_without_ack_is_sent_once_more_with_the_same_id(
        mqtt_url: str) -> None:
    key = gate_of(unique_site())
    open_gate = command(key, "open")
    async with (device(mqtt_url, key, answer="silent") as gate,
                gateway(mqtt_url, key.site) as commands):
        status = await commands.send(open_gate)

    print(f"\nresendable 'open' without ack: published {len(gate.received)} times, "
          f"outcomes {dict(commands.outcomes)}")
    assert status is CommandStatus.NO_ACK
    assert [c["id"] for c in gate.commands] == [open_gate.id, open_gate.id]


async def test_an_expired_command_is_not_published(mqtt_url: str) -> None:
    key = gate_of(unique_site())
    stale = command(key, issued=now() - timedelta(minutes=5), lifetime=timedelta(minutes=1))
    fresh = command(key)
    async with device(mqtt_url, key) as gate, gateway(mqtt_url, key.site) as commands:
        stale_status = await commands.send(stale)
        fresh_status = await commands.send(fresh)  # a marker: what came before it is all

    assert (stale_status, fresh_status) == (CommandStatus.EXPIRED, CommandStatus.ACKED)
    assert [c["id"] for c in gate.commands] == [fresh.id]


async def test_a_command_is_never_retained(mqtt_url: str) -> None:
    key = gate_of(unique_site())
    async with device(mqtt_url, key) as gate, gateway(mqtt_url, key.site) as commands:
        assert await commands.send(command(key)) is CommandStatus.ACKED
        # A device that subscribes later must find nothing waiting on its topic.
        async with device(mqtt_url, key, answer="silent") as latecomer:
            marker = command(key, "close")
            await commands.send(marker)
            await eventually(lambda: len(latecomer.received) == 1, "the marker")

    assert [message.retain for message in gate.received] == [False, False]
    assert [c["id"] for c in latecomer.commands] == [marker.id]


async def test_an_ack_from_another_device_does_not_settle_the_command(mqtt_url: str) -> None:
    site = unique_site()
    key, spoofer = gate_of(site), gate_of(site, "south-gate")
    async with (device(mqtt_url, key, ack_as=spoofer),
                gateway(mqtt_url, site) as commands):
        status = await commands.send(command(key, "toggle"))

    assert status is CommandStatus.NO_ACK


async def test_a_command_that_cannot_reach_the_broker_before_it_expires_is_expired() -> None:
    nowhere = f"mqtt://127.0.0.1:{free_port()}"
    key = gate_of(unique_site())
    async with gateway(nowhere, key.site) as commands:
        status = await commands.send(command(key, lifetime=timedelta(seconds=1)))

    assert status is CommandStatus.EXPIRED
