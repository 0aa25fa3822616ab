"""Commands on a real broker: carried out once per id, answered in `cmd/ack`, expired and
retained ones refused (RELIABILITY Q10: executions per command id, at most 1)."""

from __future__ import annotations

import aiomqtt
import pytest

from simulators.mqtt.device import Link
from simulators.mqtt.gates import BarrierGate
from simulators.mqtt.lights import StreetLight
from tests.integration.simulators.conftest import (
    acks,
    command,
    events,
    is_ack,
    is_status,
    running,
)
from tests.integration.simulators.proxy import Proxy
from tests.integration.simulators.watch import Watch, split_url

pytestmark = pytest.mark.mqtt
SLOW = 3600.0  # no periodic telemetry, and a barrier that stays open, during a test


def gate_at(site: str, url: str) -> BarrierGate:
    return BarrierGate(site, "gate-north", Link(url), period_s=SLOW, pass_after_s=0,
                       hold_s=SLOW)


async def send(hub: aiomqtt.Client, topic: str, payload: bytes, *, retain: bool = False) -> None:
    await hub.publish(topic, payload, qos=1, retain=retain)


async def test_gate_opens_on_open_and_acks_once(
        site: str, mqtt_url: str, watch: Watch, hub: aiomqtt.Client) -> None:
    gate = gate_at(site, mqtt_url)
    async with running(gate, watch):
        open_id, body = command("open")
        await send(hub, gate.topic("cmd"), body)
        await watch.wait_for(lambda s: is_ack(s, gate, open_id))
        # The gate answers in order: once the next command's ack is here, any second
        # answer to the first would be too.
        close_id, body = command("close")
        await send(hub, gate.topic("cmd"), body)
        await watch.wait_for(lambda s: is_ack(s, gate, close_id))

    assert acks(watch, gate, open_id) == [{"id": open_id, "ok": True, "error": None}]
    assert [e["state"] for e in events(watch, gate, "barrier")] == ["open", "closed"]
    assert [e["lane"] for e in events(watch, gate, "passed")] == ["main"]
    ack = watch.on(gate.topic("cmd/ack"))[0]
    assert (ack.qos, ack.retain) == (1, False)


async def test_same_command_id_sent_twice_is_carried_out_once_and_answered_alike(
        site: str, mqtt_url: str, watch: Watch, hub: aiomqtt.Client) -> None:
    gate = gate_at(site, mqtt_url)
    async with running(gate, watch):
        open_id, body = command("open")
        await send(hub, gate.topic("cmd"), body)
        await send(hub, gate.topic("cmd"), body)  # a QoS 1 redelivery, or the hub retrying
        await watch.wait_for(lambda s: is_ack(s, gate, open_id), count=2)

    print(f"executions per command id: {gate.executions[open_id]}")
    assert gate.executions[open_id] == 1
    assert [e["state"] for e in events(watch, gate, "barrier")] == ["open"]
    assert acks(watch, gate, open_id) == [{"id": open_id, "ok": True, "error": None}] * 2


async def test_expired_command_is_answered_expired_and_not_carried_out(
        site: str, mqtt_url: str, watch: Watch, hub: aiomqtt.Client) -> None:
    gate = gate_at(site, mqtt_url)
    async with running(gate, watch):
        stale_id, body = command("open", expires_in=-1)
        await send(hub, gate.topic("cmd"), body)
        await watch.wait_for(lambda s: is_ack(s, gate, stale_id))

    assert acks(watch, gate, stale_id) == [{"id": stale_id, "ok": False, "error": "expired"}]
    assert gate.executions[stale_id] == 0 and gate.state == "closed"
    assert events(watch, gate, "barrier") == []


async def test_retained_command_is_carried_out_at_most_once_across_reconnect_and_restart(
        site: str, mqtt_url: str, watch: Watch, hub: aiomqtt.Client) -> None:
    async with Proxy(*split_url(mqtt_url)) as proxy:
        gate = gate_at(site, proxy.url)
        async with running(gate, watch):
            forged_id, body = command("open")
            await send(hub, gate.topic("cmd"), body, retain=True)
            await watch.wait_for(lambda s: is_ack(s, gate, forged_id))
            proxy.cut()  # the reconnect subscribes again: the broker sends the stored copy
            await watch.wait_for(lambda s: is_status(s, gate, "online"), count=2)
            await watch.wait_for(lambda s: is_ack(s, gate, forged_id), count=2)
        restarted = gate_at(site, mqtt_url)  # same device, new life: it remembers nothing
        async with running(restarted, watch):
            await watch.wait_for(lambda s: is_ack(s, gate, forged_id), count=3)

    print(f"executions of the retained command: {gate.executions[forged_id]} before and "
          f"after a reconnect, {restarted.executions[forged_id]} after a restart")
    assert gate.executions[forged_id] == 1, "delivered live once, then remembered"
    assert restarted.executions[forged_id] == 0
    assert acks(watch, gate, forged_id)[-1] == {"id": forged_id, "ok": False,
                                                "error": "retained"}
    assert [e["state"] for e in events(watch, gate, "barrier")] == ["open"]


async def test_stuck_gate_refuses_to_open(
        site: str, mqtt_url: str, watch: Watch, hub: aiomqtt.Client) -> None:
    gate = gate_at(site, mqtt_url)
    async with running(gate, watch):
        await gate.set_fault("stuck", True)
        open_id, body = command("open")
        await send(hub, gate.topic("cmd"), body)
        await watch.wait_for(lambda s: is_ack(s, gate, open_id))

    assert acks(watch, gate, open_id) == [{"id": open_id, "ok": False, "error": "stuck"}]
    assert [e["state"] for e in events(watch, gate, "barrier")] == ["stuck"]


async def test_light_switches_by_command_and_refuses_what_it_does_not_know(
        site: str, mqtt_url: str, watch: Watch, hub: aiomqtt.Client) -> None:
    light = StreetLight(site, "light-b3-1", Link(mqtt_url), period_s=SLOW, rated_w=60)
    async with running(light, watch):
        on_id, body = command("on")
        await send(hub, light.topic("cmd"), body)
        blink_id, body = command("blink")
        await send(hub, light.topic("cmd"), body)
        off_id, body = command("set", args={"on": False})
        await send(hub, light.topic("cmd"), body)
        await watch.wait_for(lambda s: is_ack(s, light, off_id))

    assert acks(watch, light, on_id)[0]["ok"] is True
    assert acks(watch, light, blink_id) == [{"id": blink_id, "ok": False,
                                             "error": "unknown action"}]
    states = [(s.body["metrics"]["on"], s.body["metrics"]["power_w"])
              for s in watch.on(light.topic("telemetry"))]
    assert states[-2][0] is True and 55 < states[-2][1] < 65
    assert states[-1] == (False, 0.0)


async def test_command_without_expiry_is_refused_as_invalid(
        site: str, mqtt_url: str, watch: Watch, hub: aiomqtt.Client) -> None:
    gate = gate_at(site, mqtt_url)
    async with running(gate, watch):
        await send(hub, gate.topic("cmd"), b'{"id": "no-expiry-1", "action": "open"}')
        await watch.wait_for(lambda s: is_ack(s, gate, "no-expiry-1"))

    assert acks(watch, gate, "no-expiry-1") == [{"id": "no-expiry-1", "ok": False,
                                                 "error": "invalid: expires"}]
    assert gate.state == "closed"
