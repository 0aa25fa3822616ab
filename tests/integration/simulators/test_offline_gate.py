"""The gate alone (issue 6, offline gates) on a real broker: with the hub silent, the simulated
gate admits from its retained allow-list what the lane's camera read, refuses the rest, and
reports what it did in `offline_log` events, which the hub's codec reads, once the hub shows
it is back. The hub's part is played by a plain client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import aiomqtt
import pytest

from hub.devices.mqtt.codec import decode
from hub.domain.observations import OfflineLog
from simulators.mqtt.cameras import PlateCamera, Vehicles, pair_lanes
from simulators.mqtt.device import Link
from simulators.mqtt.gates import BarrierGate
from tests.integration.devices.mqtt_support import eventually
from tests.integration.simulators.conftest import command, events, is_ack, running
from tests.integration.simulators.watch import Seen, Watch

pytestmark = pytest.mark.mqtt
SLOW = 3600.0
HUB_TIMEOUT_S = 0.3  # the gate's patience; 2 s by default
RESIDENT, EXPIRED, VISITOR = "沪A12345", "沪B67890", "粤BD12345"


def allowlist(version: int, plates: dict[str, datetime | None], *,
              valid_for: timedelta = timedelta(hours=1)) -> bytes:
    now = datetime.now(UTC)
    return json.dumps({
        "version": version, "issued": now.isoformat(),
        "valid_until": (now + valid_for).isoformat(),
        "plates": [{"plate": p, "until": None if u is None else u.isoformat()}
                   for p, u in plates.items()]}, ensure_ascii=False).encode()


@asynccontextmanager
async def lane(site: str, url: str, watch: Watch, *, direction: str = "in",
               image_source: Any = None) -> AsyncIterator[tuple[BarrierGate, PlateCamera]]:
    gate = BarrierGate(site, "gate-north", Link(url), lane="north", period_s=SLOW,
                       pass_after_s=0, hold_s=SLOW, hub_timeout_s=HUB_TIMEOUT_S)
    camera = PlateCamera(site, f"cam-north-{direction}", Link(url), lane="north",
                         direction=direction, vehicles=Vehicles([]), per_minute=0,
                         repeat_probability=0, misread_probability=0, period_s=SLOW,
                         image_source=image_source)
    pair_lanes([gate], [camera])
    async with running(gate, watch), running(camera, watch):
        yield gate, camera


def offline_logs(watch: Watch, gate: BarrierGate) -> list[Seen]:
    return [s for s in watch.on(gate.topic("event")) if s.body["type"] == "offline_log"]


async def until(check: Any) -> None:
    await eventually(check, "the gate", 5.0)


async def test_with_the_hub_silent_the_gate_admits_from_its_list_and_reports_when_it_returns(
        site: str, mqtt_url: str, watch: Watch, hub: aiomqtt.Client) -> None:
    expired_at = datetime.now(UTC) - timedelta(minutes=1)
    topic = f"estate/{site}/gate/gate-north/allowlist"
    await hub.publish(topic, allowlist(3, {RESIDENT: None, EXPIRED: expired_at}), qos=1,
                      retain=True)
    async with lane(site, mqtt_url, watch) as (gate, camera):
        await until(lambda: gate.allowlist is not None)
        for plate in (RESIDENT, VISITOR, EXPIRED):
            await camera.see(plate, repeats=False)
        await until(lambda: len(gate.decided_alone) == 3)
        # Decided, then published: the barrier's event reaches the broker, then the watch.
        await until(lambda: events(watch, gate, "barrier"))
        assert [e["state"] for e in events(watch, gate, "barrier")] == ["open"]
        assert offline_logs(watch, gate) == []  # nothing reported while the hub is away

        # The hub is back: its next command brings the log out.
        open_id, body = command("open")
        await hub.publish(gate.topic("cmd"), body, qos=1)
        await watch.wait_for(lambda s: is_ack(s, gate, open_id))
        reported = await watch.wait_for(lambda s: s in offline_logs(watch, gate))
        # The watch may hear the log before the gate has the broker's ack and marks it sent.
        await until(lambda: not gate.unreported and len(gate.reported) == 3)

    item = decode(reported[0].topic, reported[0].payload, datetime.now(UTC))
    assert isinstance(item, OfflineLog)
    assert [(e.plate, e.direction, e.opened, e.lane) for e in item.entries] == [
        (RESIDENT, "in", True, "north"), (VISITOR, "in", False, "north"),
        (EXPIRED, "in", False, "north")]
    assert not gate.unreported and len(gate.reported) == 3
    await hub.publish(topic, b"", qos=1, retain=True)


async def test_an_answer_from_the_hub_in_time_leaves_the_decision_to_the_hub(
        site: str, mqtt_url: str, watch: Watch, hub: aiomqtt.Client) -> None:
    async with lane(site, mqtt_url, watch) as (gate, camera):
        await camera.see(VISITOR, repeats=False)
        open_id, body = command("open")
        await hub.publish(gate.topic("cmd"), body, qos=1)
        await watch.wait_for(lambda s: is_ack(s, gate, open_id))
        await asyncio.sleep(HUB_TIMEOUT_S * 2)

    assert gate.decided_alone == []
    assert offline_logs(watch, gate) == []


async def test_a_repeated_read_is_one_decision_and_an_unread_plate_none(
        site: str, mqtt_url: str, watch: Watch, hub: aiomqtt.Client) -> None:
    async with lane(site, mqtt_url, watch, direction="out") as (gate, camera):
        await camera.see(VISITOR, repeats=False)
        await camera.see(VISITOR, repeats=False)  # the camera's second look at the same car
        await gate.vehicle_read(None, "out")  # a car whose plate could not be read
        await asyncio.sleep(HUB_TIMEOUT_S * 3)

    assert [(e["plate"], e["direction"], e["opened"]) for e in gate.decided_alone] == [
        (VISITOR, "out", False)]
    assert gate.state == "closed"


async def test_a_list_published_live_brings_the_log_out_and_a_stored_one_does_not(
        site: str, mqtt_url: str, watch: Watch, hub: aiomqtt.Client) -> None:
    topic = f"estate/{site}/gate/gate-north/allowlist"
    async with lane(site, mqtt_url, watch) as (gate, camera):
        await camera.see(RESIDENT, repeats=False)
        await until(lambda: len(gate.decided_alone) == 1)
        assert gate.decided_alone[0]["opened"] is False  # no list yet: nobody is admitted
        await hub.publish(topic, allowlist(1, {RESIDENT: None}), qos=1, retain=True)
        reported = await watch.wait_for(lambda s: s in offline_logs(watch, gate))
        assert gate.allowlist is not None and gate.allowlist.version == 1
        await hub.publish(topic, allowlist(2, {VISITOR: None}), qos=1, retain=True)
        await until(lambda: gate.allowlist is not None and gate.allowlist.version == 2)
        # An older version (a late replay) is not taken.
        await hub.publish(topic, allowlist(1, {}, valid_for=timedelta(0)), qos=1)
        ack_id, body = command("close")
        await hub.publish(gate.topic("cmd"), body, qos=1)
        await watch.wait_for(lambda s: is_ack(s, gate, ack_id))  # after the replay, in order
        assert gate.allowlist.version == 2 and VISITOR in gate.allowlist.plates
    assert [e["plate"] for e in reported[0].body["entries"]] == [RESIDENT]

    # Started again, the gate gets the stored list from the broker: no sign of the hub.
    async with lane(site, mqtt_url, watch) as (gate, camera):
        await until(lambda: gate.allowlist is not None)
        await camera.see(VISITOR, repeats=False)
        await until(lambda: len(gate.decided_alone) == 1)
        await asyncio.sleep(HUB_TIMEOUT_S)
        assert gate.decided_alone[0]["opened"] is True
        assert gate.reported == [] and len(gate.unreported) == 1
    await hub.publish(topic, b"", qos=1, retain=True)


async def test_display_shows_the_fee_and_refuses_a_display_without_text(
        site: str, mqtt_url: str, watch: Watch, hub: aiomqtt.Client) -> None:
    async with lane(site, mqtt_url, watch) as (gate, _):
        shown_id, body = command("display", args={"text": "请缴费 Please pay ¥15.00",
                                                  "amount": "15.00", "session_id": 42})
        await hub.publish(gate.topic("cmd"), body, qos=1)
        bad_id, bad = command("display", args={"amount": "15.00"})
        await hub.publish(gate.topic("cmd"), bad, qos=1)
        await watch.wait_for(lambda s: is_ack(s, gate, bad_id))

    assert [(s.text, s.amount, s.session_id) for s in gate.shown] == [
        ("请缴费 Please pay ¥15.00", "15.00", 42)]
    assert [s.body for s in watch.on(gate.topic("cmd/ack"))] == [
        {"id": shown_id, "ok": True, "error": None},
        {"id": bad_id, "ok": False, "error": "invalid: text"}]
    assert gate.state == "closed"


async def test_a_camera_sending_only_a_picture_tells_its_gate_no_plate(
        site: str, mqtt_url: str, watch: Watch) -> None:
    picture = b"\xff\xd8\xff\xe0" + b"\x00" * 32
    async with lane(site, mqtt_url, watch, image_source=lambda p, c: picture) as (gate, camera):
        await camera.see(RESIDENT, repeats=False)
        await camera.see(VISITOR, image=False, repeats=False)
        await asyncio.sleep(HUB_TIMEOUT_S * 2)
        reads = await watch.wait_for(lambda s: s.topic == camera.topic("event"), count=2)

    assert [(r.body["plate"], "image" in r.body) for r in reads] == [
        (None, True), (VISITOR, False)]
    assert [e["plate"] for e in gate.decided_alone] == [VISITOR]
