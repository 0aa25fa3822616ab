"""A minimal MQTT 3.1.1 QoS 1 publisher for load generation: CONNECT, PUBLISH, PUBACK,
DISCONNECT over one blocking socket, many packets per `send`.

The benchmark's devices share two cores with the hub and the broker. paho spends some 50 µs
of CPU per QoS 1 publish (its packet objects, locks and network thread); this spends a few,
so that the load generator takes as little as possible from what is measured. Nothing of
the hub uses it.
"""

from __future__ import annotations

import socket
import struct
import time

PUBLISH_QOS1 = 0x32
PUBACK = 0x40
PINGRESP = 0xD0
MAX_ID = 65_535


class ProtocolError(Exception):
    pass


def remaining_length(n: int) -> bytes:
    """An MQTT fixed header's remaining length (a variable byte integer)."""
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _string(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("!H", len(raw)) + raw


class RawPublisher:
    """`publish()` queues, `flush()` sends what is queued and reads acknowledgements.
    Packet ids are given in turn; `acked(index)` tells whether the index-th publish was
    acknowledged. At most `inflight` publishes are unacknowledged at a time (below 65,535,
    so an id is never in use twice)."""

    def __init__(self, host: str, port: int, client_id: str, *, inflight: int = 1000,
                 keepalive_s: int = 60) -> None:
        if not 0 < inflight < MAX_ID:
            raise ValueError("inflight must be between 1 and 65534")
        self.inflight = inflight
        self._sock = socket.create_connection((host, port), timeout=10)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        variable = _string("MQTT") + bytes([4, 0x02]) + struct.pack("!H", keepalive_s)
        body = variable + _string(client_id)
        self._sock.sendall(bytes([0x10]) + remaining_length(len(body)) + body)
        connack = self._recv_exactly(4)
        if connack[0] != 0x20 or connack[3] != 0:
            raise ProtocolError(f"connection refused: {connack.hex()}")
        self._sock.setblocking(False)
        self._out = bytearray()
        self._in = bytearray()
        self._sent = 0  # publishes queued so far; the n-th has id n % 65535 + 1
        self._acked: list[bool] = []
        self._unacked = 0
        self._index_of: dict[int, int] = {}  # packet id -> publish index, while in flight

    @property
    def unacked(self) -> int:
        return self._unacked

    def room(self) -> int:
        return self.inflight - self._unacked

    def publish(self, topic: bytes, payload: bytes) -> None:
        packet_id = self._sent % MAX_ID + 1
        body = _string(topic) + struct.pack("!H", packet_id) + payload
        self._out += bytes([PUBLISH_QOS1]) + remaining_length(len(body)) + body
        self._index_of[packet_id] = self._sent
        self._acked.append(False)
        self._sent += 1
        self._unacked += 1

    def acked(self, index: int) -> bool:
        return self._acked[index]

    def flush(self) -> None:
        """Send what the socket takes now, and handle the acknowledgements that arrived."""
        if self._out:
            try:
                sent = self._sock.send(self._out)
            except BlockingIOError:
                sent = 0
            del self._out[:sent]
        try:
            while chunk := self._sock.recv(65536):
                self._in += chunk
                if len(chunk) < 65536:
                    break
            else:
                raise ProtocolError("the broker closed the connection")
        except BlockingIOError:
            pass
        self._parse()

    def wait(self, within_s: float) -> None:
        """Flush until everything is sent and acknowledged, or `within_s` passes."""
        deadline = time.monotonic() + within_s
        while (self._out or self._unacked) and time.monotonic() < deadline:
            self.flush()
            time.sleep(0.001)

    def close(self) -> None:
        try:
            self._sock.setblocking(True)
            self._sock.sendall(bytes([0xE0, 0]))  # DISCONNECT
        except OSError:
            pass
        self._sock.close()

    def _parse(self) -> None:
        buffer, at = self._in, 0
        while len(buffer) - at >= 2:
            kind, length = buffer[at], buffer[at + 1]  # acks and pings are 2 + 0..2 bytes
            if len(buffer) - at < 2 + length:
                break
            if kind == PUBACK and length == 2:
                packet_id = (buffer[at + 2] << 8) | buffer[at + 3]
                index = self._index_of.pop(packet_id, None)
                if index is not None and not self._acked[index]:
                    self._acked[index] = True
                    self._unacked -= 1
            elif kind != PINGRESP:
                raise ProtocolError(f"unexpected packet {kind:#x} from the broker")
            at += 2 + length
        del buffer[:at]

    def _recv_exactly(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self._sock.recv(n - len(data))
            if not chunk:
                raise ProtocolError("the broker closed the connection")
            data += chunk
        return data
