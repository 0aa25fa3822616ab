"""Fixtures: the shared broker (ESTATE_TEST_MQTT_URL), a unique site per test, a watcher on
that site's topics, and a way to run a simulated device for the length of a block."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiomqtt
import pytest

from simulators.mqtt.device import SimulatedDevice
from tests.integration.simulators.watch import Seen, Watch, client, split_url, watching


@pytest.fixture
def site() -> str:
    """A site code no other test uses, so topics and retained messages never mix."""
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def watch(mqtt_url: str, site: str) -> AsyncIterator[Watch]:
    host, port = split_url(mqtt_url)
    async with watching(host, port, f"estate/{site}/#") as seen:
        yield seen
    await clear_retained(mqtt_url, {s.topic for s in seen.seen if s.retain})


@pytest.fixture
async def hub(mqtt_url: str) -> AsyncIterator[aiomqtt.Client]:
    """A client that plays the hub's part: it sends commands."""
    async with client(*split_url(mqtt_url)) as sender:
        yield sender


async def clear_retained(url: str, topics: set[str]) -> None:
    """Leave the shared broker as we found it: no retained status of a test site."""
    if not topics:
        return
    async with client(*split_url(url)) as cleaner:
        for topic in topics:
            await cleaner.publish(topic, b"", qos=1, retain=True)


@contextlib.asynccontextmanager
async def running(device: SimulatedDevice, watch: Watch) -> AsyncIterator[SimulatedDevice]:
    """The device runs, connected and subscribed (it said "online"), until the block ends."""
    already = len(online(watch, device))
    task = asyncio.create_task(device.run())
    try:
        await watch.wait_for(lambda s: is_status(s, device, "online"), count=already + 1)
        yield device
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def telemetry_of(device: SimulatedDevice) -> Callable[[Seen], bool]:
    return lambda seen: seen.topic == device.topic("telemetry")


def status_of(device: SimulatedDevice, word: str) -> Callable[[Seen], bool]:
    return lambda seen: is_status(seen, device, word)


def is_status(seen: Seen, device: SimulatedDevice, word: str) -> bool:
    return seen.topic == device.topic("status") and seen.payload == json.dumps(word).encode()


def online(watch: Watch, device: SimulatedDevice) -> list[Seen]:
    return [s for s in watch.seen if is_status(s, device, "online")]


def command(action: str, *, command_id: str | None = None, expires_in: float = 60.0,
            args: dict[str, Any] | None = None) -> tuple[str, bytes]:
    """A command as the hub sends it: an id, and an expiry in ISO 8601 UTC."""
    command_id = command_id or str(uuid.uuid4())
    expires = (datetime.now(UTC) + timedelta(seconds=expires_in)).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")
    body = {"id": command_id, "action": action, "expires": expires, "args": args or {}}
    return command_id, json.dumps(body).encode()


def acks(watch: Watch, device: SimulatedDevice, command_id: str) -> list[dict[str, Any]]:
    return [s.body for s in watch.on(device.topic("cmd/ack")) if s.body["id"] == command_id]


def is_ack(seen: Seen, device: SimulatedDevice, command_id: str) -> bool:
    return seen.topic == device.topic("cmd/ack") and seen.body["id"] == command_id


def events(watch: Watch, device: SimulatedDevice, event_type: str) -> list[dict[str, Any]]:
    return [s.body for s in watch.on(device.topic("event")) if s.body["type"] == event_type]
