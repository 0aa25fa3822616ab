"""One MQTT connection kept up for ever: client construction (MQTT 5, persistent session),
reconnect with capped jittered backoff, an outage logged once, health beats and counters."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hub.devices.backoff import Backoff, stop_if_cancelled
from hub.health import HealthBoard

log = logging.getLogger(__name__)

SESSION_TAKEN_OVER = 0x8E  # MQTT 5 reason code: another connection used our client id
SUBSCRIBE_REFUSED = 0x80  # SUBACK reason codes from here up are failures
BEAT_EVERY_S = 5.0
# A connection that lasted this long was healthy: the next outage starts from short delays.
HEALTHY_CONNECTION_S = 10.0


@dataclass(frozen=True)
class MqttConfig:
    """How the hub reaches its broker (settings `[mqtt]`, documented in docs/devices.md)."""

    url: str  # mqtt://host:1883 or mqtts://host:8883; user and password may be in it
    client_id: str  # stable per worker, unique among workers (mosquitto#631)
    ca_file: str | None = None  # mqtts: the CA that signed the broker's certificate (PEM)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    keepalive_s: int = 10  # a half-open link is detected within 1.5x this (see wire_keepalive)
    session_expiry_s: int = 86_400
    receive_maximum: int = 1000  # unacknowledged QoS 1 messages the broker may send us
    # What the hub holds before the Ingest takes it. Beyond receive_maximum because Mosquitto
    # 2.0.11 overshoots it (mosquitto#2301); at either bound the hub stops reading from the
    # broker until half of it is taken (backpressure: nothing is dropped).
    incoming_queue: int = 20_000
    incoming_queue_bytes: int = 32 * 1024 * 1024
    connect_timeout_s: float = 10.0
    shared_group: str = ""  # "hub": workers split `$share/hub/estate/...`
    sites: tuple[str, ...] = ()  # empty: every site on the broker
    channels: tuple[str, ...] = ()  # inbound channels taken; empty: all of them
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    # "3.1.1" for brokers without MQTT 5, such as the embedded demo broker (amqtt): the
    # session is kept (clean session off) without an expiry, and there is no receive
    # maximum, message expiry or shared subscription.
    protocol: Literal["5", "3.1.1"] = "5"

    def __post_init__(self) -> None:
        if urlsplit(self.url).scheme not in ("mqtt", "mqtts"):
            raise ValueError("mqtt url must start with mqtt:// or mqtts://")
        if not self.client_id or len(self.client_id) > 64:
            raise ValueError("mqtt client_id must be 1-64 characters")
        if not 5 <= self.keepalive_s <= 3600:  # below 5 the wire Keep Alive drops under 3 s
            raise ValueError("mqtt keepalive_s must be between 5 and 3600")
        if not 1 <= self.receive_maximum <= 65_535:
            raise ValueError("mqtt receive_maximum must be between 1 and 65535")
        if self.shared_group and self.protocol != "5":
            raise ValueError("mqtt shared_group needs protocol 5")
        if self.incoming_queue < 1 or self.incoming_queue_bytes < 1:
            raise ValueError("mqtt incoming_queue and incoming_queue_bytes must be positive")

    @property
    def v5(self) -> bool:
        return self.protocol == "5"

    @property
    def where(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.hostname}:{self.port}"

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (8883 if parts.scheme == "mqtts" else 1883)

    @property
    def wire_keepalive_s(self) -> int:
        """The MQTT Keep Alive sent to the broker. paho pings after one Keep Alive without
        traffic and gives up one Keep Alive after its ping, checking once a second: a dead link
        is noticed within 2 x wire + 1 s, which this keeps within 1.5 x keepalive_s. At least
        3 s: paho may ping up to 1 s late, and the broker gives up after 1.5 x wire."""
        return max(1, int((1.5 * self.keepalive_s - 1) // 2))

    def backoff(self) -> Backoff:
        return Backoff(base=self.backoff_base_s, cap=self.backoff_cap_s)


class Client(aiomqtt.Client):
    """aiomqtt's client, minus one race with the broker going away.

    paho asks for the socket to be watched for writing from its own callback, and aiomqtt
    hands that to the loop for later (`call_soon_threadsafe`). When the link breaks in
    between, the socket is closed, or uvloop has closed its watcher of it, by the time the
    loop gets to it, and uvloop raises from the callback, which the loop logs as an error
    with its traceback (seen when Mosquitto was killed under load, RELIABILITY Q2, and
    restarted, Q1). A socket going away needs no watching: the reconnect opens a new one.
    The callback is aiomqtt 2.5's (pinned in constraints.txt)."""

    def _on_socket_register_write(self, client: Any, userdata: Any, sock: Any) -> None:
        fileno = sock.fileno()

        def write() -> None:
            try:
                client.loop_write()
            except Exception as exc:  # noqa: BLE001 - a broken link, as aiomqtt treats it
                if not self._disconnected.done():
                    self._disconnected.set_exception(exc)

        def watch() -> None:
            if sock.fileno() != fileno or fileno < 0:
                return  # closed, or another socket now: not the one paho asked about
            try:
                self._loop.add_writer(fileno, write)
            except RuntimeError:
                # uvloop has already closed its watcher of this descriptor: the socket is
                # being torn down (its reader removed) a moment before paho closes it
                # (seen under broker restarts, RELIABILITY Q1).
                log.debug("MQTT socket %d closing: not watched for writing", fileno)

        self._loop.call_soon_threadsafe(watch)


def make_client(config: MqttConfig, *, session_expiry_s: int,
                queue_type: type[asyncio.Queue[aiomqtt.Message]] | None = None,
                max_queued: int = 0,
                client_type: type[aiomqtt.Client] = Client) -> aiomqtt.Client:
    """A client that resumes its session (clean start off), so QoS 1 messages that arrive
    while it is away wait in the broker (for `session_expiry_s` with MQTT 5)."""
    parts = urlsplit(config.url)
    session: dict[str, Any] = {"protocol": aiomqtt.ProtocolVersion.V311, "clean_session": False}
    if config.v5:
        connect = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        connect.SessionExpiryInterval = session_expiry_s
        connect.ReceiveMaximum = config.receive_maximum
        session = {"protocol": aiomqtt.ProtocolVersion.V5, "clean_start": False,
                   "properties": connect}
    password = config.password or (unquote(parts.password) if parts.password else None)
    return client_type(
        parts.hostname or "127.0.0.1", config.port, identifier=config.client_id,
        username=config.username or (unquote(parts.username) if parts.username else None),
        password=password, keepalive=config.wire_keepalive_s,
        timeout=config.connect_timeout_s, queue_type=queue_type,
        max_queued_incoming_messages=max_queued,
        tls_context=(ssl.create_default_context(cafile=config.ca_file or None)
                     if parts.scheme == "mqtts" else None),
        **session,
    )


class Resync(aiomqtt.MqttError):
    """A reconnect the hub asks for itself, so that the broker sends again what it has not
    had acknowledged: made at once, without backoff."""


class SubscriptionRefused(aiomqtt.MqttError):
    """The broker refused a subscription (an ACL, usually): treated like a lost connection."""


async def subscribe(client: aiomqtt.Client, filters: list[str]) -> None:
    codes = await client.subscribe([(topic, 1) for topic in filters])
    refused = [topic for topic, code in zip(filters, codes, strict=True)
               if _value(code) >= SUBSCRIBE_REFUSED]
    if refused:
        raise SubscriptionRefused(f"broker refused subscriptions {refused}")


def _value(code: object) -> int:
    """A paho ReasonCode (MQTT 5) or a plain int (3.1.1) as a number; -1 if neither."""
    value = getattr(code, "value", code)
    return value if isinstance(value, int) else -1


@dataclass
class LinkStats:
    connected: bool = False
    connects: int = 0
    disconnects: int = 0
    takeovers: int = 0
    messages_in: int = 0
    acks_sent: int = 0
    acks_dropped: int = 0  # the connection ended first: the broker redelivers
    pauses: int = 0  # times the incoming queue was full and reading from the broker stopped
    paused_s: float = 0.0
    queue_high_water: int = 0
    last_error: str = ""

    @property
    def reconnects(self) -> int:
        return max(0, self.connects - 1)


class Link:
    """The state of one connection as logs and /health see it."""

    def __init__(self, name: str, config: MqttConfig, health: HealthBoard) -> None:
        self.name = name
        self.stats = LinkStats()
        self._where = f"mqtt://{config.where} as {config.client_id}"
        self._client_id = config.client_id
        self._health = health
        self._down_since: float | None = None
        self._up_since = 0.0
        self._attempts = 0

    def up(self) -> None:
        self.stats.connected, self.stats.connects = True, self.stats.connects + 1
        self._up_since = time.monotonic()
        if self._down_since is None:
            log.info("%s: connected to %s", self.name, self._where)
        else:
            log.info("%s: reconnected to %s after %.1fs and %d attempts", self.name,
                     self._where, time.monotonic() - self._down_since, self._attempts)
        self._down_since, self._attempts = None, 0
        self.beat()

    def down(self, err: Exception) -> None:
        was_up, self.stats.connected = self.stats.connected, False
        self.stats.disconnects += was_up
        # aiomqtt raises "Disconnected during message iteration" from the reason it was lost.
        cause = f" ({err.__cause__})" if err.__cause__ else ""
        self.stats.last_error = f"{type(err).__name__}: {err}{cause}"[:200]
        self._attempts += 1
        if _value(getattr(err, "rc", None)) == SESSION_TAKEN_OVER:
            self.stats.takeovers += 1
            log.error("%s: another connection took over client id %s; give every worker its "
                      "own client id", self.name, self._client_id)
        elif self._down_since is None:  # once per outage, not once per retry
            log.warning("%s: lost %s (%s); reconnecting with backoff", self.name, self._where,
                        self.stats.last_error)
        if self._down_since is None:
            self._down_since = time.monotonic()
        self.beat()

    @property
    def was_healthy(self) -> bool:
        return time.monotonic() - self._up_since >= HEALTHY_CONNECTION_S

    def beat(self) -> None:
        s = self.stats
        counts = (f"{s.messages_in} in, {s.reconnects} reconnects, {s.pauses} pauses "
                  f"({s.paused_s:.1f}s), queue high-water {s.queue_high_water}")
        if s.connected:
            self._health.beat(self.name, "ok", f"connected to {self._where}; {counts}")
        else:
            self._health.beat(self.name, "degraded",
                              f"disconnected from {self._where}: {s.last_error}; {counts}")


Serve = Callable[[aiomqtt.Client], Awaitable[None]]


async def keep_connected(connect: Callable[[], aiomqtt.Client], filters: list[str],
                         serve: Serve, link: Link, backoff: Backoff) -> None:
    """Connect, subscribe, serve; when the link breaks, wait (capped, jittered) and start
    again. Returns only by cancellation.

    Subscribed on every connect, not only the first: a broker that lost its state (restarted
    without persistence) would otherwise send nothing more (home-assistant/core#7958).
    """
    beats = asyncio.create_task(_beat_forever(link))
    try:
        while True:
            try:
                async with connect() as client:
                    await subscribe(client, filters)
                    link.up()
                    await serve(client)
                raise aiomqtt.MqttError("serve returned")  # it must not: treat as lost
            except Resync as err:
                link.down(err)
                continue
            except aiomqtt.MqttError as err:
                stop_if_cancelled(err)
                if link.stats.connected and link.was_healthy:
                    backoff.reset()
                link.down(err)
            await asyncio.sleep(backoff.next())
    finally:
        beats.cancel()


async def _beat_forever(link: Link) -> None:
    while True:
        await asyncio.sleep(BEAT_EVERY_S)
        link.beat()
