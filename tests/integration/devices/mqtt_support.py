"""What the MQTT adapter and gateway tests share: a recording Ingest, a private Mosquitto
that a test can stop and start, a TCP proxy that can blackhole a link, test devices."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiomqtt

from hub.devices.broker import free_port
from hub.domain.observations import Observation, Rejected
from hub.ports import Ack

WAIT_S = 15.0  # a bound for "never happened", not a measurement


def unique_site() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 1883


async def eventually(check: Callable[[], bool], what: str, within: float = WAIT_S) -> float:
    """Wait until `check()` holds; the seconds it took. Fails the test after `within`."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > within:
            raise AssertionError(f"{what}: not within {within}s")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


@dataclass
class RecordingIngest:
    """hub.ports.Ingest that keeps what it is given and acknowledges it at once, or never."""

    acknowledge: Callable[[Observation | Rejected], bool] = lambda item: True
    items: list[Observation | Rejected] = field(default_factory=list)
    held: list[Ack] = field(default_factory=list)

    async def put(self, item: Observation | Rejected, ack: Ack | None = None) -> None:
        self.items.append(item)
        if ack is not None:
            if self.acknowledge(item):
                ack()
            else:
                self.held.append(ack)

    def seqs(self) -> list[int | None]:
        return [item.envelope.seq for item in self.items if not isinstance(item, Rejected)]


async def publish(url: str, messages: list[tuple[str, bytes | str]], *, retain: bool = False
                  ) -> None:
    """Publish as a device would: QoS 1, each one acknowledged by the broker."""
    host, port = host_port(url)
    async with aiomqtt.Client(host, port) as device:
        for topic, payload in messages:
            await device.publish(topic, payload, qos=1, retain=retain)


def telemetry(seq: int, **metrics: Any) -> bytes:
    return json.dumps({"seq": seq, "boot": "b1", "metrics": metrics or {"floor": seq}}).encode()


class Mosquitto:
    """A broker of the test's own on a loopback port, with or without persistence."""

    def __init__(self, folder: Path, *, persistence: bool = True, extra: str = "") -> None:
        self.folder = folder
        self.extra = extra
        self.port = free_port()
        self.persistence = persistence
        self._process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    async def start(self) -> None:
        config = self.folder / "mosquitto.conf"
        config.write_text("\n".join([
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            f"persistence {'true' if self.persistence else 'false'}",
            f"persistence_location {self.folder}/",
            f"log_dest file {self.folder}/mosquitto.log",
            "user root",  # as root, mosquitto would otherwise switch to a user without access
            self.extra,
            "",
        ]))
        self._process = await asyncio.create_subprocess_exec(
            "mosquitto", "-c", str(config), stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL)
        await eventually(self._accepts, f"mosquitto on port {self.port} to listen", 10)

    def _accepts(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(
                ("127.0.0.1", self.port), timeout=0.2):
            return True
        return False

    async def stop(self) -> None:
        """SIGTERM: the broker saves its persistence file and exits."""
        if self._process is not None and self._process.returncode is None:
            self._process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self._process.wait(), 10)
        self._process = None


@contextlib.asynccontextmanager
async def mosquitto(folder: Path, *, persistence: bool = True) -> AsyncIterator[Mosquitto]:
    broker = Mosquitto(folder, persistence=persistence)
    await broker.start()
    try:
        yield broker
    finally:
        await broker.stop()


class Proxy:
    """A TCP proxy the test controls: it forwards, or it blackholes (keeps every connection
    open and silently drops what arrives, as a dead NAT entry or a pulled cable would)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self.blackholed = False
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Proxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        for source, sink in ((reader, upstream_writer), (upstream_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                if not self.blackholed:
                    sink.write(data)
                    await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            sink.close()
