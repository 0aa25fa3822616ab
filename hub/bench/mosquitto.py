"""A Mosquitto of the benchmark's own: loopback, a free port, a temporary configuration.

Anonymous and without persistence, with queues sized so that the broker never drops a QoS 1
message for a subscriber that falls behind (`max_queued_messages` defaults to 1,000 per
client, which a backlog of the benchmark would exceed at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
from pathlib import Path
from types import TracebackType
from typing import Self

from hub.devices.broker import free_port

START_WITHIN_S = 10.0
STOP_WITHIN_S = 10.0


def config_text(port: int, folder: Path) -> str:
    return "\n".join([
        f"listener {port} 127.0.0.1",
        "allow_anonymous true",
        "persistence false",
        f"log_dest file {folder}/mosquitto.log",
        "user root",  # as root, mosquitto would otherwise switch to a user without access
        "max_queued_messages 10000000",
        "max_queued_bytes 0",
        "max_inflight_messages 65535",
        "max_keepalive 3600",
        "",
    ])


class BenchMosquitto:
    """`async with BenchMosquitto(folder) as broker:` listening on `broker.url`."""

    def __init__(self, folder: Path, binary: str = "mosquitto") -> None:
        self.folder = folder
        self.binary = binary
        self.port = free_port()
        self._process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    async def __aenter__(self) -> Self:
        path = shutil.which(self.binary)
        if path is None:
            raise RuntimeError(f"{self.binary} not found; install Mosquitto or pass --broker")
        config = self.folder / "mosquitto.conf"
        config.write_text(config_text(self.port, self.folder))
        self._process = await asyncio.create_subprocess_exec(
            path, "-c", str(config), stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_WITHIN_S
        while not _accepts(self.port):
            if self._process.returncode is not None or loop.time() > deadline:
                await self._stop()
                raise RuntimeError(f"mosquitto did not listen on port {self.port}; see "
                                   f"{self.folder}/mosquitto.log")
            await asyncio.sleep(0.05)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self._stop()

    async def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            async with asyncio.timeout(STOP_WITHIN_S):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


def _accepts(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port),
                                                               timeout=0.2):
        return True
    return False
