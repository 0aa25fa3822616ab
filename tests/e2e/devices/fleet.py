"""Devices that speak the contract (docs/devices.md) the way firmware does: each on its own
paho client and network thread, QoS 1, every message kept until the broker's PUBACK and sent
again after a reconnect. What each device published and what the broker acknowledged is
remembered, so a test can tell "acknowledged, then lost" from "never acknowledged"."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from tests.e2e.devices.processes import wait_for

KIND = "light"
ONLINE, OFFLINE = b'"online"', b'"offline"'

Key = tuple[str, int]  # (device code, seq)


def iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def telemetry(seq: int, boot: str, **metrics: Any) -> bytes:
    """A contract telemetry payload; metric `n` repeats the seq, so stored rows name it."""
    return json.dumps({"seq": seq, "boot": boot, "ts": iso_now(),
                       "metrics": {"n": seq, **metrics}}).encode()


class Device:
    """One device: `send()` publishes its next telemetry message."""

    def __init__(self, port: int, site: str, code: str, *, kind: str = KIND,
                 boot: str = "b1", will: bool = False) -> None:
        self.site, self.kind, self.code, self.boot = site, kind, code, boot
        self.seq = 0
        self.sent: dict[int, tuple[int, float]] = {}  # mid -> (seq, time.monotonic())
        self.acked_mids: list[int] = []  # appended by paho's thread on each PUBACK
        self.connects = 0
        self.skipped: list[tuple[int, int]] = []  # (first, last) seqs never sent
        self.raw_mids: set[int] = set()  # publish_raw's, outside the sequence
        self.vanished = False
        self._port, self._will = port, will
        self._client = paho.Client(CallbackAPIVersion.VERSION2,
                                   client_id=f"{site}.{kind}.{code}",
                                   protocol=paho.MQTTv311, clean_session=True)
        # Annotated as int, used as seconds to sleep: firmware retries within half a second.
        self._client.reconnect_delay_set(0.05, 0.5)  # type: ignore[arg-type]
        self._client.on_connect = self._on_connect
        self._client.on_publish = self._on_publish
        if will:
            self._client.will_set(self.topic("status"), OFFLINE, qos=1, retain=True)

    def topic(self, channel: str) -> str:
        return f"estate/{self.site}/{self.kind}/{self.code}/{channel}"

    def start(self) -> None:
        self._client.connect_async("127.0.0.1", self._port, keepalive=5)
        self._client.loop_start()

    def stop(self) -> None:
        """Leave cleanly (no last will)."""
        if not self.vanished:
            self._client.disconnect()
            self._client.loop_stop()

    def vanish(self) -> None:
        """Drop the connection without DISCONNECT, as a device losing power: the broker
        publishes the last will."""
        self.vanished = True
        self._client.loop_stop()
        sock = self._client.socket()
        if isinstance(sock, socket.socket):
            sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _on_connect(self, client: paho.Client, _userdata: Any, _flags: Any, reason: Any,
                    _properties: Any) -> None:
        if not reason.is_failure:
            self.connects += 1
            if self._will:
                client.publish(self.topic("status"), ONLINE, qos=1, retain=True)

    def _on_publish(self, _client: paho.Client, _userdata: Any, mid: int, _reason: Any,
                    _properties: Any) -> None:
        self.acked_mids.append(mid)  # list.append is atomic; mapped to seqs later

    def send(self, payload: bytes | None = None, *, channel: str = "telemetry",
             **metrics: Any) -> int:
        """Publish the next seq (or `payload` as is, counted under the next seq)."""
        self.seq += 1
        body = payload if payload is not None else telemetry(self.seq, self.boot, **metrics)
        info = self._client.publish(self.topic(channel), body, qos=1)
        self.sent[info.mid] = (self.seq, time.monotonic())
        return self.seq

    def publish_raw(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Outside the device's sequence: status, or a deliberately bad message."""
        self.raw_mids.add(self._client.publish(topic, payload, qos=1, retain=retain).mid)

    def raw_acked(self) -> bool:
        return self.raw_mids <= set(self.acked_mids)

    def skip(self, count: int) -> None:
        """Lose `count` messages on the device itself: the hub must see a gap."""
        self.skipped.append((self.seq + 1, self.seq + count))
        self.seq += count

    def published(self) -> set[Key]:
        return {(self.code, seq) for seq, _ in self.sent.values()}

    def acked(self) -> set[Key]:
        return {(self.code, self.sent[mid][0]) for mid in list(self.acked_mids)
                if mid in self.sent}

    def sent_at(self) -> dict[Key, float]:
        return {(self.code, seq): at for seq, at in self.sent.values()}


@dataclass
class Fleet:
    devices: list[Device]
    _streaming: asyncio.Task[None] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, port: int, site: str, count: int, *, prefix: str = "lamp",
           will: bool = False) -> Fleet:
        return cls([Device(port, site, f"{prefix}-{i:02d}", will=will)
                    for i in range(1, count + 1)])

    def __iter__(self) -> Iterator[Device]:
        return iter(self.devices)

    def by_code(self, code: str) -> Device:
        return next(d for d in self.devices if d.code == code)

    async def start(self) -> None:
        for device in self.devices:
            device.start()
        await self.connected(0)

    async def connected(self, before: Iterable[int] | int) -> float:
        """Wait until every device connected again since `connects` were `before`."""
        previous = list(before) if not isinstance(before, int) else [before] * len(self.devices)
        return await wait_for(lambda: all(d.connects > p for d, p in zip(
            self.devices, previous, strict=True)), "devices connected", 20.0, every=0.01)

    def stop(self) -> None:
        for device in self.devices:
            device.stop()

    def send_all(self) -> None:
        for device in self.devices:
            device.send()

    def stream(self, per_second: float) -> None:
        """Every device publishes, together `per_second` messages, until `halt()`."""
        assert self._streaming is None
        self._streaming = asyncio.create_task(self._stream(len(self.devices) / per_second))

    async def _stream(self, period: float) -> None:
        loop = asyncio.get_running_loop()
        next_tick = loop.time()
        while True:
            self.send_all()
            next_tick += period
            await asyncio.sleep(max(0.0, next_tick - loop.time()))

    async def halt(self) -> None:
        if self._streaming is not None:
            self._streaming.cancel()
            await asyncio.gather(self._streaming, return_exceptions=True)
            self._streaming = None

    def published(self) -> set[Key]:
        return set().union(*(d.published() for d in self.devices))

    def acked(self) -> set[Key]:
        return set().union(*(d.acked() for d in self.devices))

    def sent_at(self) -> dict[Key, float]:
        return {k: v for d in self.devices for k, v in d.sent_at().items()}

    async def all_acked(self, within: float = 20.0) -> float:
        """Wait until the broker acknowledged everything published (it kept it all)."""
        return await wait_for(lambda: self.acked() == self.published(),
                              "every publish acknowledged by the broker", within, every=0.05)

    @property
    def connects(self) -> list[int]:
        return [d.connects for d in self.devices]
