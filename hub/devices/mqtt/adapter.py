"""The MQTT subscriber: every inbound device message, decoded, handed to the Ingest, and
acknowledged to the broker only once the Ingest has stored it (ack after commit)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable

import aiomqtt
import paho.mqtt.client as paho

from hub.devices.mqtt.codec import DEFAULT_CONTRACT, Contract, decode
from hub.devices.mqtt.link import (
    Link,
    LinkStats,
    MqttConfig,
    Resync,
    keep_connected,
    make_client,
)
from hub.devices.mqtt.topics import inbound_filters
from hub.health import HealthBoard
from hub.ports import Ack, Clock, Ingest

log = logging.getLogger(__name__)

# Before a resync, how long the Ingest may take to commit what it was given: acknowledged
# before we disconnect, those are not sent again.
SETTLE_S = 10.0


class QueueOverflowed(Resync):
    """Messages were dropped unacknowledged: reconnecting makes the broker send them again.

    A broker that keeps to our receive maximum never lets this happen; Mosquitto 2.0.11 sends
    a whole receive maximum more after each acknowledgement (mosquitto#2301, measured in
    tests/integration/devices/test_mqtt_adapter.py)."""


class MqttAdapter:
    """Run with `await adapter.run()` under supervision; it returns only when cancelled."""

    def __init__(self, config: MqttConfig, ingest: Ingest, health: HealthBoard, clock: Clock,
                 *, contract: Contract = DEFAULT_CONTRACT, name: str = "mqtt") -> None:
        self._config = config
        self._ingest = ingest
        self._clock = clock
        self._contract = contract
        self._filters = inbound_filters(config.sites, config.shared_group)
        self._link = Link(name, config, health)
        self._backoff = config.backoff()
        self._incoming = _Incoming(self._link.stats, config.incoming_queue_bytes)
        self._overflow_at_connect = 0

    @property
    def stats(self) -> LinkStats:
        return self._link.stats

    async def run(self) -> None:
        await keep_connected(self._connect, self._filters, self._serve, self._link,
                             self._backoff)

    def _connect(self) -> aiomqtt.Client:
        self._incoming = _Incoming(self._link.stats, self._config.incoming_queue_bytes)
        client = make_client(self._config, session_expiry_s=self._config.session_expiry_s,
                             queue_type=self._incoming.queue_type(),
                             max_queued=self._config.incoming_queue)
        # paho acknowledges a QoS 1 message as it arrives unless told otherwise, and aiomqtt
        # 2.x does not expose the switch: we reach its paho client, `_client` (pinned by
        # tests/integration/devices/test_mqtt_adapter.py), so the ack waits for the commit.
        paho_client(client).manual_ack_set(True)
        # Counted from here: a resumed session's messages arrive before our SUBSCRIBE is done.
        self._overflow_at_connect = self._link.stats.overflow
        return client

    async def _serve(self, client: aiomqtt.Client) -> None:
        acks = _Acks(paho_client(client), self._link.stats)
        messages, queue = client.messages, self._incoming.queue
        try:
            while True:
                # Taken straight from the queue while it has some: aiomqtt's iterator starts
                # a task per message, which costs more than the rest of the adapter together.
                # Like it, this hands out what arrived before a disconnection, then raises.
                message = queue.get_nowait() if queue.qsize() else await anext(messages)
                await self._handle(message, acks)
                # Once what was received is handled, not before: none of it is thrown away.
                overflowed = self._link.stats.overflow != self._overflow_at_connect
                if overflowed and not queue.qsize():
                    await acks.settled(SETTLE_S)
                    raise QueueOverflowed("incoming queue overflowed; reconnecting so the "
                                          "broker redelivers what was dropped")
        finally:
            acks.close()

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
        self._outstanding = 0
        self._none_outstanding = asyncio.Event()

    def close(self) -> None:
        self._open = False

    async def settled(self, within: float) -> None:
        """Wait (at most `within` seconds) until every message handed out is acknowledged."""
        if self._outstanding:
            self._none_outstanding.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._none_outstanding.wait(), within)

    def for_message(self, mid: int, qos: int) -> Ack | None:
        if qos == 0:
            return None
        self._outstanding += 1
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
        self._outstanding -= 1
        if not self._outstanding:
            self._none_outstanding.set()
        if self._open and self._client.ack(mid, qos) == paho.MQTT_ERR_SUCCESS:
            self._stats.acks_sent += 1
        else:
            self._stats.acks_dropped += 1


class _Incoming:
    """aiomqtt's incoming queue for one connection, bounded in messages and payload bytes,
    counting what it holds at most and what it drops (aiomqtt#108: an unbounded one grows
    without limit when the consumer is slow). aiomqtt creates it from `queue_type()`; the
    adapter reads it as `queue`."""

    def __init__(self, stats: LinkStats, max_bytes: int) -> None:
        self.queue: asyncio.Queue[aiomqtt.Message] = asyncio.Queue()
        self._stats = stats
        self._max_bytes = max_bytes

    def queue_type(self) -> type[asyncio.Queue[aiomqtt.Message]]:
        incoming, stats, max_bytes = self, self._stats, self._max_bytes

        class CountingQueue(asyncio.Queue[aiomqtt.Message]):
            payload_bytes = 0

            def __init__(self, maxsize: int = 0) -> None:
                super().__init__(maxsize)
                incoming.queue = self

            def put_nowait(self, item: aiomqtt.Message) -> None:
                # Dropped here rather than by aiomqtt, which would log every one. One message
                # always fits, however big: else it would come back, and be dropped, for ever.
                too_many_bytes = (self.payload_bytes + _size(item) > max_bytes
                                  and not self.empty())
                if self.full() or too_many_bytes:
                    _dropped(stats)
                    return
                super().put_nowait(item)
                stats.queue_high_water = max(stats.queue_high_water, self.qsize())

            # asyncio.Queue's hooks for subclasses (as PriorityQueue uses them).
            def _put(self, item: aiomqtt.Message) -> None:
                self.payload_bytes += _size(item)
                # The hub reads no MQTT 5 property. paho builds a Properties object of some
                # sixty dicts, lists and tuples for every message; thousands of them waiting
                # here made each full garbage collection walk them all.
                item.properties = None
                super()._put(item)

            def _get(self) -> aiomqtt.Message:
                item: aiomqtt.Message = super()._get()
                self.payload_bytes -= _size(item)
                return item

        return CountingQueue


def _dropped(stats: LinkStats) -> None:
    stats.overflow += 1
    if _is_power_of_ten(stats.overflow):  # 1, 10, 100...: counted, not flooding the log
        log.warning("MQTT incoming queue full: %d messages dropped so far (QoS 1 ones come "
                    "back after a reconnect, QoS 0 ones are lost)", stats.overflow)


def _size(message: aiomqtt.Message) -> int:
    return len(message.payload) if isinstance(message.payload, bytes | bytearray) else 0


def _is_power_of_ten(n: int) -> bool:
    return n > 0 and str(n).strip("0") == "1"
