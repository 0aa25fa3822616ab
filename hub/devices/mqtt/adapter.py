"""The MQTT subscriber: every inbound device message, decoded, handed to the Ingest, and
acknowledged to the broker only once the Ingest has stored it (ack after commit).

When the Ingest falls behind, the adapter stops reading from the broker's socket until its
queue is half drained: TCP then holds the broker back, which keeps the messages for us. An
earlier design dropped what overflowed and reconnected to have it sent again; with Mosquitto
2.0.11 reusing packet ids beyond the receive maximum (mosquitto#2301), an ack could then clear
a dropped message's twin, and 27,765 of 280,000 acknowledged messages were lost in one run.
Nothing received is discarded now."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import aiomqtt
import paho.mqtt.client as paho

from hub.devices.mqtt.codec import DEFAULT_CONTRACT, Contract, decode
from hub.devices.mqtt.incoming import UrgentFirst
from hub.devices.mqtt.link import (
    Client,
    Link,
    LinkStats,
    MqttConfig,
    keep_connected,
    make_client,
)
from hub.devices.mqtt.receiving import LeanReceivingClient
from hub.devices.mqtt.topics import inbound_filters
from hub.health import HealthBoard
from hub.ports import Ack, Clock, Ingest

log = logging.getLogger(__name__)

class WaitedFor(Protocol):
    """Something of this process that other processes wait for (its turn at a shared SQLite
    file: hub.store.turns.ProcessLock). While they do, reading and decoding stand aside, so
    that the turn lasts as long as its transaction, not as long as the loop is busy: with two
    workers on one file, `hub bench ingest --workers 2` kept up with 10,000 msgs/s this way
    (docs/benchmarks.md)."""

    @property
    def contended(self) -> bool: ...

    async def make_way(self) -> None: ...


# Messages decoded in a row before the adapter lets the loop run other work (~2 ms of it).
YIELD_EVERY = 64

class MqttAdapter:
    """Run with `await adapter.run()` under supervision; it returns only when cancelled."""

    def __init__(self, config: MqttConfig, ingest: Ingest, health: HealthBoard, clock: Clock,
                 *, contract: Contract = DEFAULT_CONTRACT, name: str = "mqtt",
                 others: WaitedFor | None = None) -> None:
        self._config = config
        self._others = others
        self._ingest = ingest
        self._clock = clock
        self._contract = contract
        self._filters = inbound_filters(config.sites, config.shared_group, config.channels)
        self._link = Link(name, config, health)
        self._backoff = config.backoff()
        self._incoming = _Incoming(self._link.stats, config.incoming_queue,
                                   config.incoming_queue_bytes)

    @property
    def stats(self) -> LinkStats:
        return self._link.stats

    async def run(self) -> None:
        await keep_connected(self._connect, self._filters, self._serve, self._link,
                             self._backoff)

    def _connect(self) -> aiomqtt.Client:
        self._incoming.stop()  # the last connection's pause ends with it
        self._incoming = _Incoming(self._link.stats, self._config.incoming_queue,
                                   self._config.incoming_queue_bytes)
        client = make_client(self._config, session_expiry_s=self._config.session_expiry_s,
                             queue_type=self._incoming.queue_type(),
                             client_type=PausableClient)
        assert isinstance(client, PausableClient)
        self._incoming.client = client
        # paho acknowledges a QoS 1 message as it arrives unless told otherwise, and aiomqtt
        # 2.x does not expose the switch: we reach its paho client, `_client` (pinned by
        # tests/integration/devices/test_mqtt_adapter.py), so the ack waits for the commit.
        paho_client(client).manual_ack_set(True)
        return client

    async def _serve(self, client: aiomqtt.Client) -> None:
        acks = _Acks(paho_client(client), self._link.stats)
        messages, queue = client.messages, self._incoming.queue
        self._incoming.serving()
        taken = 0
        try:
            while True:
                # Taken straight from the queue while it has some: aiomqtt's iterator starts
                # a task per message, which costs more than the rest of the adapter together.
                # Like it, this hands out what arrived before a disconnection, then raises.
                if queue.qsize():
                    message = queue.get_nowait()
                    taken += 1
                    if taken % YIELD_EVERY == 0:
                        await self._pause_for_others()
                else:
                    message = await anext(messages)
                await self._handle(message, acks)
        finally:
            acks.close()

    async def _pause_for_others(self) -> None:
        # Neither get_nowait nor a put into a lane with room suspends: without this, a full
        # queue is decoded in one go (20,000 messages, a quarter of a second) while a
        # transaction or a barrier's decision waits.
        await asyncio.sleep(0)
        if self._others is not None and self._others.contended:
            await self._incoming.paused_while(self._others.make_way())

    async def _handle(self, message: aiomqtt.Message, acks: _Acks) -> None:
        self._link.stats.messages_in += 1
        payload = message.payload if isinstance(message.payload, bytes) else b""
        item = decode(message.topic.value, payload, self._clock(), self._contract,
                      retained=message.retain)
        ack = acks.for_message(message.mid, message.qos)
        if item is None:  # nothing to store (a cleared retained status): settled at once
            if ack is not None:
                ack()
            return
        await self._ingest.put(item, ack)  # may wait: that wait is the backpressure


def paho_client(client: aiomqtt.Client) -> paho.Client:
    """aiomqtt's private paho client: the one place the hub reaches into aiomqtt."""
    return client._client


class _Acks:
    """Acknowledgements for the messages of one connection. Once it has ended they are
    dropped: the broker redelivers those messages on the next one, and the inbox makes the
    second delivery harmless. (Sent on a new connection, a packet id could name another
    message.)"""

    def __init__(self, client: paho.Client, stats: LinkStats) -> None:
        self._client = client
        self._stats = stats
        self._open = True
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()

    def close(self) -> None:
        self._open = False

    def for_message(self, mid: int, qos: int) -> Ack | None:
        if qos == 0:
            return None
        done = False

        def ack() -> None:
            nonlocal done
            if done:
                return
            done = True
            self._on_loop(lambda: self._send(mid, qos))

        return ack

    def _on_loop(self, call: Callable[[], None]) -> None:
        # An Ingest may commit from a worker thread; paho and aiomqtt belong to the loop.
        if threading.get_ident() == self._thread:
            call()
        else:
            self._loop.call_soon_threadsafe(call)

    def _send(self, mid: int, qos: int) -> None:
        if self._open and self._client.ack(mid, qos) == paho.MQTT_ERR_SUCCESS:
            self._stats.acks_sent += 1
        else:
            self._stats.acks_dropped += 1


class PausableClient(Client):
    """aiomqtt's client, with reading from the broker that stops and starts again.

    aiomqtt reads the socket from an event-loop reader added in `_on_socket_open`, a closure
    nothing can reach; this override (of aiomqtt 2.5's, pinned in constraints.txt and by
    tests/integration/devices/test_mqtt_adapter.py) keeps the reader where `pause()` and
    `resume()` find it. paho reads one packet per call, so at most one more message arrives
    after `pause()`.

    While paused nothing is read, PINGRESP included: a pause longer than the keepalive ends
    the connection, and the broker sends the unacknowledged messages again on the next one
    (the inbox makes that harmless). Pauses last as long as the Ingest needs to take half the
    queue: well under a second at full speed.
    """

    _reader_fd: int | None = None
    _paused = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lean = LeanReceivingClient.adopt(self._client)

    def _on_socket_open(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        # Called by paho from the thread that connects: the loop is reached thread-safely.
        fd = sock.fileno()

        def start() -> None:
            self._reader_fd = fd
            if not self._paused:
                self._loop.add_reader(fd, self._read)
            self._misc_task = self._loop.create_task(self._misc_loop())

        self._loop.call_soon_threadsafe(start)

    def _on_socket_close(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        self._reader_fd = None
        super()._on_socket_close(client, userdata, sock)

    def _read(self) -> None:
        try:
            while True:
                self._lean.loop_read()
                # Bytes already read (ours, or an SSL socket's decoded ones, paho#131) are
                # not seen by the selector: read on until there are none or we pause.
                pending = getattr(self._lean.socket(), "pending", None)
                more = self._lean.buffered() or (pending is not None and pending())
                if self._paused or not more:
                    break
        except Exception as exc:  # noqa: BLE001 (a broken pipe, usually: the link is lost)
            if not self._disconnected.done():
                self._disconnected.set_exception(exc)

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        if not self._paused:
            self._paused = True
            if self._reader_fd is not None:
                self._loop.remove_reader(self._reader_fd)

    def resume(self) -> None:
        if self._paused:
            self._paused = False
            if self._reader_fd is not None:
                self._loop.add_reader(self._reader_fd, self._read)
                self._loop.call_soon(self._read)  # what is buffered: the selector won't say


class _Incoming:
    """aiomqtt's incoming queue for one connection. Reaching `max_messages` or `max_bytes`
    of payload pauses reading from the broker; half drained, reading resumes. It counts the
    pauses, their time and what it held at most (aiomqtt#108: unbounded, the queue grows
    without limit when the consumer is slow). aiomqtt creates it from `queue_type()`; the
    adapter reads it as `queue` and sets `client` once the client exists."""

    def __init__(self, stats: LinkStats, max_messages: int, max_bytes: int) -> None:
        self.queue: asyncio.Queue[aiomqtt.Message] = asyncio.Queue()
        self.client: PausableClient | None = None
        self._stats = stats
        self._max_messages = max_messages
        self._max_bytes = max_bytes
        self._paused_at: float | None = None
        self._serving = False

    async def paused_while(self, waiting: Awaitable[None]) -> None:
        """Reading paused until `waiting` is done (unless the queue has paused it already)."""
        client = self.client
        if client is None or client.paused:
            await waiting
            return
        client.pause()
        try:
            await waiting
        finally:
            if self._paused_at is None:
                client.resume()

    def serving(self) -> None:
        """Subscribed: from now on a full queue pauses reading. Not before: a resumed session
        sends its messages right after CONNACK, and paused, we would never read our SUBACK.
        (What arrives before it is bounded by the receive maximum: nothing is acknowledged.)"""
        self._serving = True
        self.full(self.queue.qsize(), getattr(self.queue, "payload_bytes", 0))

    def full(self, messages: int, payload_bytes: int) -> None:
        if self._paused_at is None and self._serving and self.client is not None and (
                messages >= self._max_messages or payload_bytes >= self._max_bytes):
            self.client.pause()
            self._paused_at = time.monotonic()
            self._stats.pauses += 1
            if _is_power_of_ten(self._stats.pauses):  # 1, 10, 100...: seen, not flooding
                log.warning("MQTT incoming queue full (%d messages, %d bytes): reading from "
                            "the broker paused until half of it is stored (%d pauses so far)",
                            messages, payload_bytes, self._stats.pauses)

    def taken(self, messages: int, payload_bytes: int) -> None:
        if self._paused_at is not None and (messages <= self._max_messages // 2
                                            and payload_bytes <= self._max_bytes // 2):
            self.stop()
            assert self.client is not None
            self.client.resume()

    def stop(self) -> None:
        """The pause, if any, is over (resumed, or the connection is gone)."""
        if self._paused_at is not None:
            self._stats.paused_s += time.monotonic() - self._paused_at
            self._paused_at = None

    def queue_type(self) -> type[asyncio.Queue[aiomqtt.Message]]:
        incoming, stats = self, self._stats

        class PausingQueue(asyncio.Queue[aiomqtt.Message]):
            payload_bytes = 0

            def __init__(self, maxsize: int = 0) -> None:
                super().__init__()  # unbounded for aiomqtt, which would drop: bounded by pausing
                incoming.queue = self

            # asyncio.Queue's hooks for subclasses (as PriorityQueue uses them).
            def _init(self, maxsize: int) -> None:
                # Events and acks before the telemetry ahead of them, per device in order.
                self._queue = UrgentFirst(_topic)

            def _put(self, item: aiomqtt.Message) -> None:
                self.payload_bytes += _size(item)
                # The hub reads no MQTT 5 property. paho builds a Properties object of some
                # sixty dicts, lists and tuples for every message; thousands of them waiting
                # here made each full garbage collection walk them all.
                item.properties = None
                super()._put(item)
                stats.queue_high_water = max(stats.queue_high_water, self.qsize())
                incoming.full(self.qsize(), self.payload_bytes)

            def _get(self) -> aiomqtt.Message:
                item: aiomqtt.Message = super()._get()
                self.payload_bytes -= _size(item)
                incoming.taken(self.qsize(), self.payload_bytes)
                return item

        return PausingQueue


def _topic(message: aiomqtt.Message) -> str:
    return message.topic.value


# isinstance with a tuple: `bytes | bytearray` builds a union on every call, three times as
# slow, and these checks run per message (docs/benchmarks.md, ingest).
_BYTES = (bytes, bytearray)


def _size(message: aiomqtt.Message) -> int:
    return len(message.payload) if isinstance(message.payload, _BYTES) else 0


def _is_power_of_ten(n: int) -> bool:
    return n > 0 and str(n).strip("0") == "1"
