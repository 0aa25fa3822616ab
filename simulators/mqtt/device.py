"""A simulated MQTT device: the device side of the contract (DESIGN.md §2, docs/devices.md).

Client id and username are `{site}.{kind}.{device}` (hub.devices.mosquitto_auth): a device
id is unique only within its site, and two clients with one id evict each other forever
(mosquitto#631). Every message is QoS 1. `status` is retained and is also the last will;
its payload is the JSON string `"online"` / `"offline"`. Telemetry and events carry a
per-device `seq` and a `boot` id that changes whenever the device starts again.

Commands on the device's own `cmd` are handled one at a time, in order, so that a replay
can never race its original. Each id is carried out at most once; a replay is answered
with the first outcome again and not carried out. Refused with `ok: false`: an expired
command (`"expired"`), one delivered from the broker's retained store (`"retained"`: the
hub never retains commands, so a stored one is a stale or forged order), an unknown action
(`"unknown action"`), or one the device cannot do (e.g. `"stuck"`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hub.devices.backoff import Backoff, stop_if_cancelled
from hub.devices.mosquitto_auth import device_username
from hub.domain.observations import DeviceKey
from hub.stopping import stopped
from simulators.mqtt.commands import (
    Action,
    BadCommand,
    CommandDesk,
    Outcome,
    parse_command,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")
# Long enough to keep commands sent during a broker restart or a short network outage.
SESSION_EXPIRY_S = 300
# A connection that lasted this long was healthy: the next outage backs off from the start.
STABLE_S = 30.0
# A QoS 1 publish whose PUBACK never comes (the link died) is given up after this long.
PUBLISH_TIMEOUT_S = 5.0


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Link:
    """How a simulated device reaches its broker: `mqtt://host:port` and its password."""

    broker: str
    password: str | None = None
    keepalive: int = 30
    # "3.1.1" for brokers without MQTT 5 (the demo's embedded amqtt): the session is kept by
    # clean session off, without an expiry interval.
    protocol: Literal["5", "3.1.1"] = "5"

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.broker)
        if parts.scheme != "mqtt" or not parts.hostname:
            raise ValueError(f"broker must look like mqtt://host:port, not {self.broker!r}")
        return parts.hostname, parts.port or 1883


class UnknownFault(ValueError):
    pass


class SimulatedDevice:
    kind: ClassVar[str] = ""
    # Faults every device can simulate; subclasses add their own.
    faults: ClassVar[frozenset[str]] = frozenset({"offline"})

    def __init__(self, site: str, device: str, link: Link, *, period_s: float = 10.0,
                 clock: Clock = utc_now, rng: random.Random | None = None,
                 tz: tzinfo = CHINA_STANDARD_TIME) -> None:
        self.key = DeviceKey(site=site, kind=self.kind, device=device)
        self.username = device_username(self.key)  # refuses ids outside the grammar
        self.link = link
        self.period_s = period_s
        self.boot = uuid.uuid4().hex[:12]
        self.seq = 0
        self.counters: Counter[str] = Counter()
        self.active_faults: set[str] = set()
        self.rng = rng or random.Random()  # noqa: S311 - a simulation, not a secret
        self._clock, self._tz = clock, tz
        self._desk = CommandDesk(clock)
        self._client: aiomqtt.Client | None = None
        # The `offline` fault: `_present` while the device may connect, `_away` while not.
        self._present, self._away = asyncio.Event(), asyncio.Event()
        self._present.set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._connected_once = asyncio.Event()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key}>"

    def topic(self, channel: str) -> str:
        return f"estate/{self.key.site}/{self.key.kind}/{self.key.device}/{channel}"

    @property
    def executions(self) -> Counter[str]:
        """How many times each command id was carried out: at most once (Q10)."""
        return self._desk.executions

    # --- what subclasses define ---------------------------------------------------------

    def actions(self) -> Mapping[str, Action]:
        """The commands this device understands, by action name."""
        return {}

    def metrics(self) -> dict[str, Any]:
        """What the periodic telemetry reports."""
        return {}

    async def behave(self) -> None:
        """The device's own life while it runs; by default, telemetry every period."""
        while True:
            await self.telemetry()
            await asyncio.sleep(self.period_s)

    async def on_fault(self, fault: str, active: bool) -> None:
        """React to a fault beginning or ending (the base class handles `offline`)."""

    # --- life -------------------------------------------------------------------------

    async def run(self) -> None:
        """Live until cancelled: stay connected, reconnecting with backoff, and behave. The
        first of the two to fail ends both, with its error."""
        name = f"{self.key.kind}/{self.key.device}"
        parts = [asyncio.create_task(self._stay_connected(), name=f"{name} connection"),
                 asyncio.create_task(self._behave_once_connected(), name=f"{name} life")]
        try:
            done, _ = await asyncio.wait(parts, return_when=asyncio.FIRST_EXCEPTION)
            for part in done:
                error = None if part.cancelled() else part.exception()
                if error is not None:
                    raise error
        finally:
            # Not a task group: a part that loses its cancellation inside aiomqtt's publish
            # (Python 3.11's wait_for) would keep the group waiting for it forever, and a
            # second cancel of the group does not reach it (a CI run hung so, 300 s).
            # hub.stopping cancels such a part again.
            for task in [*parts, *self._tasks]:
                task.cancel()
            await stopped(parts)

    async def first_connected(self) -> None:
        """Return once the device has been connected (and said "online") at least once."""
        await self._connected_once.wait()

    async def _behave_once_connected(self) -> None:
        # A device starts its life by connecting; its first message is not lost to that.
        await self._connected_once.wait()
        await self.behave()

    def spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run a consequence of a command (a barrier closing later) beside the device."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def set_fault(self, fault: str, active: bool) -> None:
        if fault not in self.faults:
            raise UnknownFault(f"{self.kind} cannot simulate fault {fault!r}; "
                               f"it knows {', '.join(sorted(self.faults))}")
        if active == (fault in self.active_faults):
            return
        log.info("%s: fault %s %s", self.key, fault, "begins" if active else "ends")
        if active:
            self.active_faults.add(fault)
        else:
            self.active_faults.discard(fault)
        if fault == "offline":
            self._present.clear() if active else self._present.set()
            self._away.set() if active else self._away.clear()
        await self.on_fault(fault, active)

    async def _stay_connected(self) -> None:
        backoff = Backoff(base=0.2, cap=10.0)
        clean_start = True  # a new life starts a new session; a reconnect resumes it
        loop = asyncio.get_running_loop()
        while True:
            await self._present.wait()
            connected_at = None
            try:
                async with self._new_client(clean_start) as client:
                    clean_start, connected_at = False, loop.time()
                    await self._session(client)
            except aiomqtt.MqttError as err:
                stop_if_cancelled(err)
                # Only a connection that held counts as recovery: one dropped at once (a
                # kicked client id, a refused subscription) must keep backing off.
                if connected_at is not None and loop.time() - connected_at > STABLE_S:
                    backoff.reset()
                if backoff.attempt == 0:  # once per outage, not once per attempt
                    log.warning("%s: broker connection lost (%s); reconnecting", self.key, err)
                self.counters["disconnects"] += 1
                await asyncio.sleep(backoff.next())
            finally:
                self._client = None

    def _new_client(self, clean_start: bool) -> aiomqtt.Client:
        host, port = self.link.address
        will = aiomqtt.Will(self.topic("status"), json.dumps("offline"), qos=1, retain=True)
        common: dict[str, Any] = {
            "identifier": self.username, "username": self.username,
            "password": self.link.password, "keepalive": self.link.keepalive,
            "timeout": PUBLISH_TIMEOUT_S, "will": will}
        if self.link.protocol == "3.1.1":
            return aiomqtt.Client(host, port, protocol=aiomqtt.ProtocolVersion.V311,
                                  clean_session=clean_start, **common)
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        return aiomqtt.Client(host, port, protocol=aiomqtt.ProtocolVersion.V5,
                              clean_start=clean_start, properties=properties, **common)

    async def _session(self, client: aiomqtt.Client) -> None:
        # Subscribed before "online", so whoever sees "online" may send commands at once.
        await client.subscribe(self.topic("cmd"), qos=1)
        # Counted before "online" goes out, so whoever sees "online" sees the count too.
        self.counters["connects"] += 1
        # Usable before "online" is acknowledged: whoever sees "online" may make the device
        # publish at once, and paho has queued "online" before any other task runs, so it
        # still goes out first.
        self._client = client
        await client.publish(self.topic("status"), json.dumps("online"), qos=1, retain=True)
        self._connected_once.set()
        try:
            await self._until_broken_or_away(client)
        finally:
            self._client = None
            # Stopped, or gone away by the offline fault: say so, as the last will would
            # have if the link had broken (a clean DISCONNECT discards the will).
            with contextlib.suppress(aiomqtt.MqttError):
                await client.publish(self.topic("status"), json.dumps("offline"), qos=1,
                                     retain=True)

    async def _until_broken_or_away(self, client: aiomqtt.Client) -> None:
        """Answer commands until the link breaks (MqttError) or the offline fault begins."""
        reader = asyncio.create_task(self._read_commands(client))
        leaving = asyncio.create_task(self._away.wait())
        try:
            await asyncio.wait({reader, leaving}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            reader.cancel()
            leaving.cancel()
            await asyncio.wait({reader, leaving})
        error = None if reader.cancelled() else reader.exception()
        if error is not None:
            raise error

    async def _read_commands(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            if isinstance(message.payload, bytes | bytearray):
                await self._on_command(bytes(message.payload), retained=bool(message.retain))

    # --- the contract -----------------------------------------------------------------

    async def telemetry(self, metrics: Mapping[str, Any] | None = None) -> bool:
        return await self._send("telemetry", {**self._stamp(),
                                              "metrics": dict(metrics or self.metrics())})

    async def event(self, event_type: str, **fields: Any) -> bool:
        return await self._send("event", {**self._stamp(), "type": event_type, **fields})

    def _stamp(self) -> dict[str, Any]:
        self.seq += 1
        at = self._clock().astimezone(self._tz)
        return {"seq": self.seq, "boot": self.boot, "ts": at.isoformat(timespec="milliseconds")}

    async def _send(self, channel: str, body: Mapping[str, Any]) -> bool:
        """Publish if connected. A device has no buffer: what it cannot send is lost, and
        the hub sees the hole in `seq`."""
        client = self._client
        if client is None:
            self.counters["dropped"] += 1
            return False
        payload = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        try:
            await client.publish(self.topic(channel), payload.encode(), qos=1)
        except aiomqtt.MqttError:
            self.counters["dropped"] += 1
            return False
        self.counters["published"] += 1
        return True

    async def _on_command(self, payload: bytes, *, retained: bool) -> None:
        try:
            command = parse_command(payload)
        except BadCommand as bad:
            self.counters["bad_commands"] += 1
            if bad.command_id is not None:
                await self._ack(bad.command_id, Outcome(ok=False, error=bad.reason))
            return
        outcome = await self._desk.answer(command, retained=retained, actions=self.actions())
        await self._ack(command.id, outcome)

    async def _ack(self, command_id: str, outcome: Outcome) -> None:
        body = {"id": command_id, "ok": outcome.ok, "error": outcome.error}
        if await self._send("cmd/ack", body):
            self.counters["acks"] += 1
