"""RELIABILITY Q9: malformed and hostile messages through the real broker are refused,
counted by reason and dead-lettered, while the devices' good telemetry keeps being stored."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime, timedelta

from tests.e2e.devices.fleet import Device
from tests.e2e.devices.processes import wait_for
from tests.e2e.devices.rig import SITE, Rig, api_get
from tests.e2e.devices.store import brief, summary

ROUNDS = 5
ONE_MB = 1_048_576  # Mosquitto's own limit is the protocol's (256 MB) unless configured


def good(**fields: object) -> bytes:
    return json.dumps({"seq": 1, "boot": "rogue", "metrics": {"n": 1}, **fields}).encode()


def hostile(lamp: str) -> list[tuple[str, str, bytes]]:
    """(expected reason, topic, payload): what a broken or malicious client sends."""
    mine = f"estate/{SITE}/light/{lamp}/telemetry"
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    return [
        ("bad_json", mine, b'{"seq": 1, "metrics": {'),
        ("bad_utf8", mine, b'\xff\xfe{"seq": 1}'),
        ("not_object", mine, b"[1, 2, 3]"),
        ("bad_field:seq", mine, good(seq="7")),
        ("bad_field:metrics", mine, good(metrics=[1, 2])),
        ("nan", mine, b'{"seq": 1, "metrics": {"n": NaN}}'),
        ("future_ts", mine, good(ts=tomorrow)),
        ("too_large", mine, good(metrics={"blob": "x" * ONE_MB})),
        ("topic_mismatch", mine, good(device="lamp-02")),
        ("unknown_device", f"estate/{SITE}/light/ghost-lamp/telemetry", good()),
        ("kind_mismatch", f"estate/{SITE}/gate/{lamp}/telemetry", good()),
        ("unknown_kind", f"estate/{SITE}/robot/{lamp}/telemetry", good()),
        ("bad_topic", f"estate/{SITE}/light/{lamp.upper()}/telemetry", good()),
        ("bad_topic", f"estate/{SITE}/light/x' OR '1'='1/telemetry", good()),
    ]


async def test_q9_malformed_payloads_are_counted_by_reason_while_good_ones_keep_flowing(
        rig: Rig) -> None:
    fleet = rig.fleet(5)
    hub = rig.hub()
    await hub.start()
    headers = await rig.admin(hub)
    await fleet.start()
    rogue = Device(rig.broker.port, SITE, "rogue")  # any client may publish; the ACL of
    rogue.start()  # config/mosquitto would refuse most of these (MS1-MS4), the hub the rest
    fleet.stream(per_second=250)
    try:
        await asyncio.sleep(0.5)
        sent: Counter[str] = Counter()
        for _ in range(ROUNDS):
            for reason, topic, payload in hostile("lamp-01"):
                rogue.publish_raw(topic, payload)
                sent[reason] += 1
            await asyncio.sleep(0.1)
        await wait_for(rogue.raw_acked, "the broker took every bad message", 20)
        await asyncio.sleep(0.5)  # good ones after the last bad one
    finally:
        await fleet.halt()
        await asyncio.to_thread(rogue.stop)
    await fleet.all_acked()
    await rig.caught_up(fleet.acked())

    tally = await rig.tally()
    table = await rig.store.letters_by_reason()
    counts = await api_get(hub, "/api/v1/dead-letters/counts", headers, limit=200)
    by_reason: Counter[str] = Counter()
    for item in counts["items"]:
        by_reason[item["reason"]] += item["count"]
    mqtt = await hub.mqtt()
    assert mqtt is not None
    summary("Q9", {
        "rejected": sum(by_reason.values()), "sent_bad": sum(sent.values()),
        **{f"rejected[{reason}]": n for reason, n in sorted(by_reason.items())},
        "good_published": len(tally.published), "good_stored": len(tally.stored),
        "lost_after_ack": len(tally.lost_after_ack), "hub_reconnects": mqtt.reconnects,
        "consumer_alive": hub.running and mqtt.connected,
    })
    assert by_reason == sent
    assert table == sent  # every one kept, far below the table's bound
    assert counts["dropped"] == 0
    assert not tally.lost_after_ack, f"lost after ack: {brief(tally.lost_after_ack)}"
    assert not tally.duplicated, f"stored twice: {brief(tally.duplicated)}"
    assert hub.running and mqtt.connected
    assert mqtt.reconnects == 0
    letters = await api_get(hub, "/api/v1/dead-letters", headers, reason="too_large", limit=1)
    assert len(letters["items"][0]["excerpt"]) <= 300  # an excerpt, never the megabyte
    assert not rig.crashes()
