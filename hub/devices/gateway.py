"""Commands to MQTT devices (hub.ports.DeviceGateway): published on `cmd`, QoS 1, never
retained, then the device's `cmd/ack` awaited with a timeout.

The gateway keeps its own connection with a plain (not shared) subscription to `cmd/ack`:
with several workers on one shared subscription the ack of a command may reach any of them,
but it must reach the one whose `send` is waiting. The shared subscription of the adapter
still hands every ack to the Ingest, which stores the outcome. Its own connection needs its
own client id (and, with the shipped `use_username_as_clientid`, its own broker account):
two connections with one id evict each other (mosquitto#631).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import Counter
from dataclasses import dataclass

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hub.devices.mqtt.codec import DEFAULT_CONTRACT, Contract, decode, encode_command
from hub.devices.mqtt.link import Link, MqttConfig, keep_connected, make_client
from hub.devices.mqtt.topics import ack_filters
from hub.domain.device_commands import MAX_LIFETIME, CommandStatus, DeviceCommand
from hub.domain.observations import CommandAcknowledged, DeviceKey
from hub.health import HealthBoard
from hub.ports import Clock

log = logging.getLogger(__name__)

DEFAULT_ACK_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class _Waiter:
    key: DeviceKey
    ack: asyncio.Future[CommandAcknowledged]


class MqttGateway:
    """`await gateway.run()` under supervision keeps the connection; `send` uses it."""

    def __init__(self, config: MqttConfig, health: HealthBoard, clock: Clock, *,
                 ack_timeout_s: float = DEFAULT_ACK_TIMEOUT_S,
                 contract: Contract = DEFAULT_CONTRACT, name: str = "mqtt-commands") -> None:
        self._config = config
        self._clock = clock
        self._ack_timeout_s = ack_timeout_s
        self._contract = contract
        self._link = Link(name, config, health)
        self._backoff = config.backoff()
        self._client: aiomqtt.Client | None = None
        self._ready = asyncio.Event()
        self._waiters: dict[str, _Waiter] = {}
        self.outcomes: Counter[str] = Counter()  # by CommandStatus, plus "resent"

    async def run(self) -> None:
        await keep_connected(self._connect, ack_filters(self._config.sites), self._serve,
                             self._link, self._backoff)

    def _connect(self) -> aiomqtt.Client:
        # Acks that arrive during a short reconnect wait in the session; none outlives a
        # command, so the session need not outlive the longest command either.
        return make_client(self._config, session_expiry_s=int(MAX_LIFETIME.total_seconds()))

    async def _serve(self, client: aiomqtt.Client) -> None:
        self._client = client
        self._ready.set()
        try:
            async for message in client.messages:
                self._link.stats.messages_in += 1
                payload = message.payload if isinstance(message.payload, bytes) else b""
                self._deliver(decode(message.topic.value, payload, self._clock(),
                                     self._contract))
        finally:
            self._ready.clear()
            self._client = None

    def _deliver(self, item: object) -> None:
        if not isinstance(item, CommandAcknowledged):
            return  # a bad ack is the Ingest's to dead-letter, through the adapter
        waiter = self._waiters.get(item.command_id)
        if waiter is None or waiter.ack.done():
            return  # another worker's command, or an ack repeated
        if waiter.key != item.envelope.key:  # RELIABILITY MS2: one device acking for another
            log.warning("ack for command %s came from %s, not from %s: ignored",
                        item.command_id, item.envelope.key, waiter.key)
            return
        waiter.ack.set_result(item)

    async def send(self, command: DeviceCommand) -> CommandStatus:
        """ACKED or FAILED as the device answered; NO_ACK without an answer in time; EXPIRED
        when it could not be published before it expired. Only resendable commands (same id:
        the device runs an id once) are published a second time."""
        if command.id in self._waiters:
            raise ValueError(f"command {command.id} is already being sent")
        waiter = _Waiter(command.key, asyncio.get_running_loop().create_future())
        self._waiters[command.id] = waiter
        try:
            status = await self._attempts(command, waiter)
        finally:
            del self._waiters[command.id]
        self.outcomes[status.value] += 1
        log.info("command %s %s to %s: %s", command.id, command.action, command.key, status)
        return status

    async def _attempts(self, command: DeviceCommand, waiter: _Waiter) -> CommandStatus:
        published = False
        for attempt in range(2 if command.resendable else 1):
            if not await self._publish(command):
                break
            published = True
            self.outcomes["resent"] += attempt
            try:
                async with asyncio.timeout(min(self._ack_timeout_s, self._left(command))):
                    ack = await asyncio.shield(waiter.ack)
            except TimeoutError:
                continue
            return CommandStatus.ACKED if ack.ok else CommandStatus.FAILED
        return CommandStatus.NO_ACK if published else CommandStatus.EXPIRED

    async def _publish(self, command: DeviceCommand) -> bool:
        """Whether the command went out (or may have) before it expired."""
        try:
            async with asyncio.timeout(self._left(command)):
                await self._ready.wait()
        except TimeoutError:
            return False
        left = self._left(command)
        if left <= 0 or self._client is None:
            return False
        topic, payload = encode_command(command)
        properties = None
        if self._config.v5:
            # The broker drops it too if it cannot deliver it in time (a queued session).
            properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            properties.MessageExpiryInterval = max(1, math.ceil(left))
        try:
            await self._client.publish(topic, payload, qos=1, retain=False,
                                       properties=properties, timeout=left)
        except aiomqtt.MqttError as err:
            # The broker may have it or not; an ack, if one comes, still settles it.
            log.warning("command %s: publish to %s failed: %s", command.id, topic, err)
        return True

    def _left(self, command: DeviceCommand) -> float:
        return max(0.0, (command.expires_at - self._clock()).total_seconds())
