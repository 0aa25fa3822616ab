"""The MQTT adapter against real Mosquitto: every channel decoded, ack after commit with
redelivery, resubscription after a broker restart, a half-open link, a shared subscription.

The shared broker (ESTATE_TEST_MQTT_URL) serves tests that need no broker control, each under
a site code of its own; tests that stop the broker or blackhole the link bring their own
mosquitto or proxy. Sessions left on the shared broker expire after a minute.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
import paho.mqtt.client as paho
import pytest

from hub.devices.broker import EmbeddedBroker
from hub.devices.mqtt.adapter import MqttAdapter, paho_client
from hub.devices.mqtt.link import MqttConfig, make_client
from hub.domain.observations import (
    CommandAcknowledged,
    Fault,
    Observation,
    Rejected,
    StatusReported,
    Telemetry,
)
from hub.health import HealthBoard
from tests.integration.devices.mqtt_support import (
    Proxy,
    RecordingIngest,
    eventually,
    host_port,
    mosquitto,
    publish,
    telemetry,
    unique_site,
)

pytestmark = pytest.mark.mqtt


def _config(url: str, site: str, client_id: str | None = None, **overrides: object
            ) -> MqttConfig:
    settings: dict[str, object] = {
        "session_expiry_s": 60, "backoff_base_s": 0.1, "backoff_cap_s": 0.5,
        "connect_timeout_s": 2.0, **overrides}
    return MqttConfig(url=url, client_id=client_id or f"hub-{site}", sites=(site,),
                      **settings)  # type: ignore[arg-type]


@asynccontextmanager
async def running(adapter: MqttAdapter) -> AsyncIterator[MqttAdapter]:
    task = asyncio.create_task(adapter.run())
    try:
        await eventually(lambda: adapter.stats.connected or task.done(), "adapter connected")
        assert not task.done(), task
        yield adapter
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def _adapter(config: MqttConfig, ingest: RecordingIngest, health: HealthBoard | None = None
             ) -> MqttAdapter:
    return MqttAdapter(config, ingest, health or HealthBoard(), lambda: datetime.now(UTC))


async def test_aiomqtt_still_exposes_its_paho_client_for_manual_acks() -> None:
    # The adapter reaches aiomqtt's private `_client` to acknowledge after commit; an aiomqtt
    # upgrade that renames it must fail here, not silently acknowledge on receipt.
    client = make_client(MqttConfig(url="mqtt://127.0.0.1:1", client_id="pin-check"),
                         session_expiry_s=60)

    assert isinstance(paho_client(client), paho.Client)
    assert callable(paho_client(client).manual_ack_set) and callable(paho_client(client).ack)


async def test_every_inbound_channel_is_decoded_and_handed_to_the_ingest(
        mqtt_url: str) -> None:
    site = unique_site()
    lift, gate = f"estate/{site}/elevator/b3-lift-1", f"estate/{site}/gate/north-gate"
    ingest = RecordingIngest()
    async with running(_adapter(_config(mqtt_url, site), ingest)) as adapter:
        await publish(mqtt_url, [
            (f"{lift}/telemetry", telemetry(1, floor=5, door="closed")),
            (f"{lift}/event", json.dumps({"seq": 2, "type": "fault", "code": "TRAPPED_AT_FLOOR",
                                          "active": True}).encode()),
            (f"{gate}/status", b'"online"'),
            (f"{gate}/cmd", b'{"id": "c1", "action": "open"}'),  # the hub's own: not received
            (f"{gate}/cmd/ack", b'{"id": "c1", "ok": true, "error": null}'),
            (f"{lift}/telemetry", b'{"metrics": {"floor": NaN}}'),
        ])
        await eventually(lambda: len(ingest.items) >= 5, "five messages")

    kinds = [type(item) for item in ingest.items]
    assert kinds == [Telemetry, Fault, StatusReported, CommandAcknowledged, Rejected]
    assert isinstance(ingest.items[4], Rejected) and ingest.items[4].reason == "nan"
    assert adapter.stats.messages_in == 5 and adapter.stats.acks_sent == 5


async def test_the_adapter_speaks_mqtt_3_1_1_to_the_embedded_demo_broker() -> None:
    site = unique_site()
    ingest = RecordingIngest()
    async with EmbeddedBroker() as broker:  # amqtt: MQTT 3.1.1 only
        adapter = _adapter(_config(broker.url, site, protocol="3.1.1"), ingest)
        async with running(adapter):
            await publish(broker.url, [
                (f"estate/{site}/light/b3-lamp-2/telemetry", telemetry(1, on=True)),
                (f"estate/{site}/light/b3-lamp-2/status", b"offline")])
            await eventually(lambda: len(ingest.items) == 2, "both messages")

    assert [type(item) for item in ingest.items] == [Telemetry, StatusReported]
    assert adapter.stats.acks_sent == 2


async def test_an_unacknowledged_message_is_redelivered_after_reconnect_and_an_acked_one_is_not(
        mqtt_url: str) -> None:
    site = unique_site()
    topic = f"estate/{site}/elevator/b3-lift-1/telemetry"
    config = _config(mqtt_url, site)
    never_commits_seq_2 = RecordingIngest(acknowledge=lambda item: _seq(item) != 2)
    async with running(_adapter(config, never_commits_seq_2)):
        await publish(mqtt_url, [(topic, telemetry(1)), (topic, telemetry(2))])
        await eventually(lambda: len(never_commits_seq_2.items) == 2, "both delivered once")

    after_restart = RecordingIngest()
    async with running(_adapter(config, after_restart)):  # same client id: same session
        await publish(mqtt_url, [(topic, telemetry(3))])
        await eventually(lambda: 3 in after_restart.seqs(), "the marker published after")

    print(f"\nredelivered after reconnect: {after_restart.seqs()}")
    assert after_restart.seqs() == [2, 3]  # a redelivery comes before newer messages


async def test_a_restarted_broker_with_persistence_delivers_what_was_published_meanwhile(
        tmp_path: Path) -> None:
    site = unique_site()
    topic = f"estate/{site}/elevator/b3-lift-1/telemetry"
    ingest = RecordingIngest()
    async with mosquitto(tmp_path) as broker:
        adapter = _adapter(_config(broker.url, site), ingest)
        async with running(adapter):
            await publish(broker.url, [(topic, telemetry(seq)) for seq in range(5)])
            await eventually(lambda: len(ingest.items) == 5, "first five")

            await broker.stop()
            await eventually(lambda: not adapter.stats.connected, "adapter saw the broker go")
            await broker.start()
            # Published before the adapter is back: they wait in its persistent session.
            await publish(broker.url, [(topic, telemetry(seq)) for seq in range(5, 10)])
            await eventually(lambda: adapter.stats.connects == 2, "adapter reconnected")
            await publish(broker.url, [(topic, telemetry(seq)) for seq in range(10, 15)])
            await eventually(lambda: len(ingest.items) >= 15, "all fifteen")

    seqs = Counter(ingest.seqs())
    print(f"\nbroker restart with persistence: {len(seqs)} of 15 delivered, "
          f"{sum(seqs.values()) - len(seqs)} delivered twice (acks in flight at the SIGTERM; "
          f"the inbox absorbs them), {adapter.stats.reconnects} reconnect")
    assert set(seqs) == set(range(15))


async def test_the_adapter_subscribes_again_when_a_broker_forgot_its_session(
        tmp_path: Path) -> None:
    site = unique_site()
    topic = f"estate/{site}/elevator/b3-lift-1/telemetry"
    ingest = RecordingIngest()
    async with mosquitto(tmp_path, persistence=False) as broker:
        adapter = _adapter(_config(broker.url, site), ingest)
        async with running(adapter):
            await publish(broker.url, [(topic, telemetry(1))])
            await eventually(lambda: len(ingest.items) == 1, "before the restart")

            await broker.stop()
            await broker.start()  # no persistence: no session, no subscription
            await eventually(lambda: adapter.stats.connects == 2, "adapter reconnected")
            await publish(broker.url, [(topic, telemetry(2))])
            await eventually(lambda: len(ingest.items) == 2, "after the restart")

    assert ingest.seqs() == [1, 2]


async def test_a_half_open_link_is_detected_by_keepalive_and_the_adapter_reconnects(
        mqtt_url: str) -> None:
    site = unique_site()
    topic = f"estate/{site}/elevator/b3-lift-1/telemetry"
    keepalive_s = 5
    ingest = RecordingIngest()
    async with Proxy(host_port(mqtt_url)) as proxy:
        adapter_config = _config(proxy.url, site, keepalive_s=keepalive_s)
        adapter = _adapter(adapter_config, ingest)
        async with running(adapter):
            await publish(mqtt_url, [(topic, telemetry(1))])
            await eventually(lambda: len(ingest.items) == 1, "through the proxy")

            proxy.blackholed = True
            detected_s = await eventually(lambda: not adapter.stats.connected,
                                          "half-open link detected", within=2 * keepalive_s)
            proxy.blackholed = False
            await eventually(lambda: adapter.stats.connects == 2, "reconnected")
            await publish(mqtt_url, [(topic, telemetry(2))])
            await eventually(lambda: 2 in ingest.seqs(), "after reconnecting")

    print(f"\nhalf-open link detected after {detected_s:.2f}s with keepalive {keepalive_s}s "
          f"({detected_s / keepalive_s:.2f}x keepalive; MQTT Keep Alive on the wire "
          f"{adapter_config.wire_keepalive_s}s)")
    # The blackholed proxy never closes the socket: only the keepalive can have ended the
    # link. paho names it "keep alive timeout", or, when the loop is slow to notice under
    # load, an unspecified error; either way one disconnect, then the reconnect above.
    assert adapter.stats.disconnects >= 1
    assert adapter.stats.last_error


async def test_two_workers_on_a_shared_subscription_each_get_a_share_and_every_message_once(
        mqtt_url: str) -> None:
    site = unique_site()
    topic = f"estate/{site}/meter/b3-energy/telemetry"
    first, second = RecordingIngest(), RecordingIngest()
    shared = {"shared_group": f"g{site}"}
    async with (running(_adapter(_config(mqtt_url, site, f"hub-a-{site}", **shared), first)),
                running(_adapter(_config(mqtt_url, site, f"hub-b-{site}", **shared), second))):
        await publish(mqtt_url, [(topic, telemetry(seq)) for seq in range(200)])
        await eventually(lambda: len(first.items) + len(second.items) >= 200, "all 200")
        await asyncio.sleep(0.2)  # room for a duplicate to show up, if there were one

    print(f"\nshared subscription split: {len(first.items)} + {len(second.items)} = "
          f"{len(first.items) + len(second.items)} of 200")
    both = Counter(first.seqs() + second.seqs())
    assert set(both) == set(range(200)) and max(both.values()) == 1
    assert first.items and second.items


async def test_health_shows_the_connection_and_its_loss(tmp_path: Path) -> None:
    health = HealthBoard()
    async with mosquitto(tmp_path) as broker:
        adapter = _adapter(_config(broker.url, unique_site()), RecordingIngest(), health)
        async with running(adapter):
            connected = (await health.report())["mqtt"]
            await broker.stop()
            await eventually(lambda: not adapter.stats.connected, "loss noticed")
            lost = (await health.report())["mqtt"]

    assert connected["status"] == "ok"
    assert "connected to mqtt://127.0.0.1" in connected["detail"]
    assert lost["status"] == "degraded" and "disconnected" in lost["detail"]


def _seq(item: Observation | Rejected) -> int | None:
    return None if isinstance(item, Rejected) else item.envelope.seq


async def test_the_broker_sends_no_more_than_receive_maximum_before_the_first_ack(
        mqtt_url: str) -> None:
    site = unique_site()
    topic = f"estate/{site}/elevator/b3-lift-1/telemetry"
    holds_everything = RecordingIngest(acknowledge=lambda item: False)
    async with running(_adapter(_config(mqtt_url, site, receive_maximum=10),
                                holds_everything)):
        await publish(mqtt_url, [(topic, telemetry(seq)) for seq in range(30)])
        await eventually(lambda: len(holds_everything.items) == 10, "the first ten")
        await asyncio.sleep(0.3)  # room for an eleventh to show up, if the broker sent one
        before_ack = len(holds_everything.items)
        holds_everything.held[0]()
        await eventually(lambda: len(holds_everything.items) > 10, "more after one ack")
        await asyncio.sleep(0.3)
        after_one_ack = len(holds_everything.items)

    # Mosquitto 2.0.11 sends a whole receive maximum more per ack (mosquitto#2301): the
    # adapter's own bounded queue is what bounds memory, not the broker.
    print(f"\nreceive maximum 10: {before_ack} unacknowledged before any ack, "
          f"{after_one_ack - 1} unacknowledged after one ack")
    assert before_ack == 10


class _Gate:
    """An Ingest stuck on its first message until `open()`: a slow database."""

    def __init__(self) -> None:
        self.ingest = RecordingIngest()
        self._open = asyncio.Event()

    def open(self) -> None:
        self._open.set()

    async def put(self, item: Observation | Rejected, ack: Callable[[], None] | None = None
                  ) -> None:
        await self._open.wait()
        await self.ingest.put(item, ack)


@pytest.mark.parametrize(("bound", "limit"), [
    ("messages", {"incoming_queue": 5}),
    ("bytes", {"incoming_queue_bytes": 250}),  # about five telemetry messages
])
async def test_a_full_queue_pauses_reading_from_the_broker_and_nothing_is_dropped(
        mqtt_url: str, bound: str, limit: dict[str, int]) -> None:
    site = unique_site()
    topic = f"estate/{site}/elevator/b3-lift-1/telemetry"
    slow = _Gate()
    adapter = MqttAdapter(_config(mqtt_url, site, receive_maximum=10, **limit), slow,
                          HealthBoard(), lambda: datetime.now(UTC))
    async with running(adapter):
        await publish(mqtt_url, [(topic, telemetry(seq)) for seq in range(30)])
        await eventually(lambda: adapter.stats.pauses > 0, "reading to pause")
        await asyncio.sleep(0.3)  # room for more to arrive, if the pause let them through
        held_while_paused = adapter.stats.queue_high_water
        slow.open()
        await eventually(lambda: set(slow.ingest.seqs()) == set(range(30)), "all thirty")

    seqs = slow.ingest.seqs()
    print(f"\nqueue bounded at 5 {bound} behind a stuck ingest: reading paused "
          f"{adapter.stats.pauses}x for {adapter.stats.paused_s:.2f}s, held at most "
          f"{held_while_paused}, {adapter.stats.reconnects} reconnects, {len(seqs)} "
          f"deliveries for 30 messages")
    # One message may follow the pause (paho reads a packet per call); none is dropped, so
    # no reconnect is needed to have anything sent again, and nothing is delivered twice.
    assert held_while_paused <= 6
    assert adapter.stats.reconnects == 0 and sorted(seqs) == list(range(30))


async def test_reading_stops_and_starts_through_the_pausable_client(mqtt_url: str) -> None:
    # PausableClient overrides aiomqtt 2.5's socket reader: an aiomqtt that stops calling
    # `_on_socket_open`, or renames what it uses, must fail here.
    site = unique_site()
    topic = f"estate/{site}/elevator/b3-lift-1/telemetry"
    ingest = RecordingIngest()
    adapter = _adapter(_config(mqtt_url, site), ingest)
    async with running(adapter):
        client = adapter._incoming.client
        assert client is not None and client._reader_fd is not None
        client.pause()
        await publish(mqtt_url, [(topic, telemetry(seq)) for seq in range(5)])
        await asyncio.sleep(0.3)
        while_paused = len(ingest.items)
        client.resume()
        await eventually(lambda: len(ingest.items) == 5, "the five after resume")
    assert while_paused == 0


async def test_a_session_backlog_larger_than_the_queue_is_drained_after_a_reconnect(
        mqtt_url: str) -> None:
    # A resumed session sends its backlog right after CONNACK, before our SUBACK: pausing on
    # a full queue then would leave the SUBACK unread and the connection timing out for ever.
    site = unique_site()
    topic = f"estate/{site}/elevator/b3-lift-1/telemetry"
    config = _config(mqtt_url, site, incoming_queue=5, connect_timeout_s=2.0)
    async with running(_adapter(config, RecordingIngest())):
        pass  # the session exists from here
    await publish(mqtt_url, [(topic, telemetry(seq)) for seq in range(40)])

    back = RecordingIngest()
    adapter = _adapter(config, back)
    async with running(adapter):
        await eventually(lambda: set(back.seqs()) == set(range(40)), "the backlog of forty")
    print(f"\nbacklog of 40 behind a queue of 5: {adapter.stats.pauses} pauses, "
          f"{adapter.stats.reconnects} reconnects, high-water {adapter.stats.queue_high_water}")
    assert adapter.stats.reconnects == 0 and adapter.stats.pauses > 0


async def test_mqtt5_properties_on_a_publish_are_skipped_and_the_payload_kept(
        mqtt_url: str) -> None:
    # The lean receive path (hub.devices.mqtt.receiving) skips PUBLISH properties by their
    # length instead of parsing them: a payload shifted by one byte would not decode.
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    site = unique_site()
    topic = f"estate/{site}/elevator/b3-lift-1/telemetry"
    ingest = RecordingIngest()
    host, port = host_port(mqtt_url)
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    props.MessageExpiryInterval = 3600
    props.UserProperty = [("firmware", "x" * 200), ("vendor", "电梯厂")]  # past 127 bytes
    async with running(_adapter(_config(mqtt_url, site), ingest)):
        async with aiomqtt.Client(host, port, protocol=aiomqtt.ProtocolVersion.V5) as device:
            for seq in range(3):
                await device.publish(topic, telemetry(seq), qos=1, properties=props)
        await eventually(lambda: len(ingest.items) == 3, "three with properties")
    assert ingest.seqs() == [0, 1, 2]
    assert all(isinstance(item, Telemetry) for item in ingest.items)
