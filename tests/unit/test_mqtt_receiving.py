"""The lean receive path (hub.devices.mqtt.receiving) against bytes as a broker sends them:
whole packets cut from the buffer, packets split across reads, per-topic callbacks."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from hub.bench.rawmqtt import remaining_length
from hub.devices.mqtt.receiving import LeanReceivingClient

PINGRESP = b"\xd0\x00"


def publish(topic: str, payload: bytes, *, qos: int = 1, mid: int = 1) -> bytes:
    body = len(topic.encode()).to_bytes(2, "big") + topic.encode()
    body += mid.to_bytes(2, "big") if qos else b""
    body += payload
    return bytes([0x30 | qos << 1]) + remaining_length(len(body)) + body


@pytest.fixture
def wired() -> Iterator[tuple[LeanReceivingClient, socket.socket, list[tuple[str, bytes]]]]:
    hub_end, broker_end = socket.socketpair()
    hub_end.setblocking(False)
    client = LeanReceivingClient.adopt(paho.Client(CallbackAPIVersion.VERSION2))
    received: list[tuple[str, bytes]] = []
    client.on_message = lambda _c, _u, m: received.append((m.topic, m.payload))
    client._sock = hub_end
    yield client, broker_end, received
    client._sock = None
    hub_end.close()
    broker_end.close()


def read_all(client: LeanReceivingClient) -> None:
    """As the adapter drives it: again while bytes wait in the buffer."""
    client.loop_read()
    while client.buffered():
        client.loop_read()


def test_packets_that_arrive_together_are_each_handled_in_order(wired) -> None:
    client, broker, received = wired
    big = bytes(range(256)) * 3  # a remaining length of two bytes
    broker.sendall(publish("estate/s/meter/m1/telemetry", b'{"v":1}', mid=1) + PINGRESP
                   + publish("estate/s/meter/m2/telemetry", big, mid=2)
                   + publish("estate/s/meter/m3/status", b"online", qos=0))
    read_all(client)
    assert received == [("estate/s/meter/m1/telemetry", b'{"v":1}'),
                        ("estate/s/meter/m2/telemetry", big),
                        ("estate/s/meter/m3/status", b"online")]
    assert broker.recv(100) == b"\x40\x02\x00\x01\x40\x02\x00\x02"  # the two PUBACKs


@pytest.mark.parametrize("qos", [0, 1])
def test_a_packet_split_anywhere_across_reads_arrives_once_and_whole(wired, qos: int) -> None:
    client, broker, received = wired
    payload = b"x" * 200  # a remaining length of two bytes, so a split can fall inside it
    packet = publish("estate/s/lift/l1/event", payload, qos=qos, mid=7)
    for cut in range(1, len(packet)):
        received.clear()
        broker.sendall(packet[:cut])
        read_all(client)
        broker.sendall(packet[cut:] + PINGRESP)
        read_all(client)
        assert received == [("estate/s/lift/l1/event", payload)], f"split at byte {cut}"


def test_a_remaining_length_longer_than_four_bytes_is_a_protocol_error(wired) -> None:
    client, broker, received = wired
    broker.sendall(b"\x32\xff\xff\xff\xff\x01" + b"\x00" * 16)
    client._sock_recv(0)  # fills the buffer from the socket
    assert client._packet_read() == MQTTErrorCode.MQTT_ERR_PROTOCOL
    assert received == []


def test_a_per_topic_callback_still_takes_its_topics(wired) -> None:
    client, broker, received = wired
    events: list[str] = []
    client.message_callback_add("estate/+/lift/+/event", lambda _c, _u, m: events.append(m.topic))
    broker.sendall(publish("estate/s/lift/l1/event", b"{}", mid=1)
                   + publish("estate/s/meter/m1/telemetry", b"{}", mid=2))
    read_all(client)
    assert events == ["estate/s/lift/l1/event"]
    assert received == [("estate/s/meter/m1/telemetry", b"{}")]
