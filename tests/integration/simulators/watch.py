"""A subscriber that keeps everything it receives, for tests that wait for one message and
then look at all that came before it (a broker keeps each publisher's order)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiomqtt
from paho.mqtt.subscribeoptions import SubscribeOptions

# A guard against a hung test, not a measurement: nothing here should take a second.
WAIT_S = 15.0


@dataclass(frozen=True)
class Seen:
    topic: str
    payload: bytes
    qos: int
    retain: bool

    @property
    def body(self) -> Any:
        return json.loads(self.payload)

    @property
    def channel(self) -> str:
        return "/".join(self.topic.split("/")[4:])


class Watch:
    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.seen: list[Seen] = []
        self._changed = asyncio.Condition()

    async def pump(self) -> None:
        async for message in self.client.messages:
            payload = message.payload if isinstance(message.payload, bytes) else b""
            async with self._changed:
                self.seen.append(Seen(message.topic.value, payload, message.qos,
                                      bool(message.retain)))
                self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[Seen], bool], count: int = 1) -> list[Seen]:
        """The first `count` messages that satisfy `predicate`, waiting for them to come."""
        async def enough() -> list[Seen]:
            async with self._changed:
                await self._changed.wait_for(
                    lambda: len([s for s in self.seen if predicate(s)]) >= count)
                return [s for s in self.seen if predicate(s)][:count]
        return await asyncio.wait_for(enough(), WAIT_S)

    def on(self, topic: str) -> list[Seen]:
        return [s for s in self.seen if s.topic == topic]


def client(host: str, port: int, username: str | None = None,
           password: str | None = None) -> aiomqtt.Client:
    return aiomqtt.Client(host, port, username=username, password=password,
                          identifier=username, protocol=aiomqtt.ProtocolVersion.V5,
                          timeout=WAIT_S)


@contextlib.asynccontextmanager
async def watching(host: str, port: int, *topics: str, username: str | None = None,
                   password: str | None = None) -> AsyncIterator[Watch]:
    """Subscribed to `topics` with QoS 2, so each message arrives with the QoS it was
    published with, and retain-as-published, so a live retained message shows its flag."""
    async with client(host, port, username, password) as subscriber:
        watch = Watch(subscriber)
        for topic in topics:
            await subscriber.subscribe(topic, options=SubscribeOptions(
                qos=2, retainAsPublished=True))
        pump = asyncio.create_task(watch.pump())
        try:
            yield watch
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump


def split_url(url: str) -> tuple[str, int]:
    host, _, port = url.removeprefix("mqtt://").partition(":")
    return host, int(port or 1883)
