"""paho's client with a cheaper receive path for a subscriber that reads no MQTT 5 property.

Measured on the hub's main thread (docs/benchmarks.md), paho spent a quarter to a third of it
receiving: it asks the kernel for each packet's fixed header a byte at a time (three or four
`recv` calls per message) and builds, for every PUBLISH, a `Properties` object of some sixty
containers and an `MQTTMessageInfo` with its own `threading.Condition`. Here the socket is read
64 KiB at a time into a buffer that `_sock_recv` serves, and a QoS 0/1 PUBLISH becomes a small
message object with the fields aiomqtt copies. A PUBLISH whole in the buffer is cut out of it
in one step (paho's reader takes its fixed header a byte at a time, through dict entries), and
handed to `on_message` without paho's search of per-topic callbacks when none was added (paho
splits every topic and walks an empty tree). Everything else (connect, subscribe, pings,
QoS 2, topic aliases, malformed packets, a packet split across reads) stays paho's own code.

The buffer holds bytes the selector no longer sees: whoever drives `loop_read` must call it
again while `buffered()` (hub.devices.mqtt.adapter.PausableClient does).
"""

from __future__ import annotations

import ssl
import time
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.client import PUBLISH
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.exception import MalformedPacket

READ_SIZE = 65_536


class LeanMessage:
    """What aiomqtt's `Message._from_paho_message` and paho's dispatch read of a message."""

    __slots__ = ("dup", "mid", "payload", "properties", "qos", "retain", "state",
                 "timestamp", "topic")

    def __init__(self, topic: str, payload: bytes, qos: int, retain: bool, mid: int,
                 dup: bool) -> None:
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.mid = mid
        self.dup = dup
        self.properties: Any = None  # the hub reads none: not parsed
        self.timestamp = 0.0
        self.state = 0


class LeanReceivingClient(paho.Client):
    """Made from a `paho.Client` by `adopt`, so that aiomqtt keeps constructing its own."""

    _rx: bytes = b""
    _rx_at: int = 0
    _filtered = False  # whether a per-topic callback was added (message_callback_add)

    @classmethod
    def adopt(cls, client: paho.Client) -> LeanReceivingClient:
        client.__class__ = cls
        assert isinstance(client, cls)
        client._rx, client._rx_at = b"", 0
        return client

    def message_callback_add(self, sub: str, callback: Any) -> None:
        self._filtered = True
        super().message_callback_add(sub, callback)

    def _packet_read(self) -> MQTTErrorCode:
        """A PUBLISH whole in the buffer, handled at once; anything else as paho reads it."""
        rx, at = self._rx, self._rx_at
        if self._in_packet["command"] or at >= len(rx) or rx[at] & 0xF0 != PUBLISH:
            return super()._packet_read()
        try:
            length, start = _varint(rx, at + 1)
        except MalformedPacket:
            return super()._packet_read()  # unfinished, or broken: paho decides which
        end = start + length
        if end > len(rx):
            return super()._packet_read()  # the rest is still on its way
        self._rx_at = end
        packet = self._in_packet
        packet["command"], packet["remaining_length"] = rx[at], length
        packet["packet"] = rx[start:end]  # type: ignore[typeddict-item]  # read as bytes alike
        try:
            rc = self._handle_publish()
        except MalformedPacket as exc:
            self._easy_log(paho.MQTT_LOG_DEBUG, "Received malformed packet: %s", exc)
            rc = MQTTErrorCode.MQTT_ERR_PROTOCOL
        finally:  # the next packet starts afresh, whatever became of this one
            packet["command"], packet["remaining_length"] = 0, 0
            packet["packet"] = bytearray()
        with self._msgtime_mutex:
            self._last_bytes_received = paho.time_func()
        return rc

    def _handle_on_message(self, message: paho.MQTTMessage) -> None:
        if self._filtered:
            super()._handle_on_message(message)
            return
        on_message = self.on_message
        if on_message is None:
            return
        with self._in_callback_mutex:
            try:
                on_message(self, self._userdata, message)
            except Exception as err:
                self._easy_log(paho.MQTT_LOG_ERR, "Caught exception in on_message: %s", err)
                if not self.suppress_exceptions:
                    raise

    def buffered(self) -> bool:
        return self._rx_at < len(self._rx)

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._rx_at >= len(self._rx):
            if self._sock is None:
                raise ConnectionError("self._sock is None")
            try:
                data = self._sock.recv(READ_SIZE)
            except ssl.SSLWantReadError as err:
                raise BlockingIOError() from err
            except ssl.SSLWantWriteError as err:
                self._call_socket_register_write()
                raise BlockingIOError() from err
            if not data:
                return data  # the peer closed: paho sees an empty read
            self._rx, self._rx_at = data, 0
        start = self._rx_at
        self._rx_at = min(start + bufsize, len(self._rx))
        return self._rx[start:self._rx_at]

    def _sock_close(self) -> None:
        self._rx, self._rx_at = b"", 0
        super()._sock_close()

    def _handle_publish(self) -> MQTTErrorCode:
        header: int = self._in_packet["command"]
        packet: bytes | bytearray = self._in_packet["packet"]
        qos = (header & 0x06) >> 1
        if qos == 2 or len(packet) < 2:
            return super()._handle_publish()
        end = 2 + int.from_bytes(packet[0:2], "big")
        try:
            topic = packet[2:end].decode()
        except UnicodeDecodeError:
            return super()._handle_publish()  # paho reports it
        if not topic or end > len(packet):  # a topic alias, or a broken packet: paho's way
            return super()._handle_publish()
        mid = 0
        if qos:
            mid = int.from_bytes(packet[end:end + 2], "big")
            end += 2
        if self._protocol == paho.MQTTv5:  # properties: skipped by their length
            length, end = _varint(packet, end)
            end += length
        message = LeanMessage(topic, bytes(packet[end:]), qos, bool(header & 0x01), mid,
                              bool(header & 0x08))
        message.timestamp = time.monotonic()
        self._handle_on_message(message)  # type: ignore[arg-type]
        if qos == 1 and not self._manual_ack:
            return self._send_puback(mid)
        return MQTTErrorCode.MQTT_ERR_SUCCESS


def _varint(data: bytes | bytearray, at: int) -> tuple[int, int]:
    """An MQTT variable byte integer at `at`: its value and where what follows starts."""
    value, shift = 0, 0
    for _ in range(4):
        if at >= len(data):
            break
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7
    raise MalformedPacket("malformed variable byte integer in PUBLISH properties")
