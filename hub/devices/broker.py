"""The embedded MQTT broker (amqtt) of the demo mode. Production uses an external broker."""

from __future__ import annotations

import logging
import random
import socket
from pathlib import Path
from types import TracebackType
from typing import Self

from amqtt.broker import Broker

log = logging.getLogger(__name__)


# Where the system's ephemeral ports are (Linux); below them, ports are only ever bound on
# purpose.
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST_CHOSEN_PORT = 10_000
ATTEMPTS = 200


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing uses now, for a server that binds it soon after (and perhaps again after
    a restart). Chosen below the system's range of ephemeral ports where it can tell: a port
    from that range can be taken, between the choice and the bind, by any outgoing connection
    on the machine (a hub restarted on its API port found it taken, in a CI run). Elsewhere,
    what the system hands out."""
    below = _ephemeral_start()
    if below is not None and below > LOWEST_CHOSEN_PORT:
        for _ in range(ATTEMPTS):
            port = random.randrange(LOWEST_CHOSEN_PORT, below)  # noqa: S311 - not a secret
            if _bindable(host, port):
                return port
    with socket.socket() as probe:
        probe.bind((host, 0))
        chosen: int = probe.getsockname()[1]
        return chosen


def _ephemeral_start() -> int | None:
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _bindable(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


class EmbeddedBroker:
    """`async with EmbeddedBroker() as broker:` — listening on `broker.url` until the block ends."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._broker = Broker({
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            # Loopback only, demo only: anonymous devices are fine here and nowhere else.
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin":
                        {"allow_anonymous": True}},
        })

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    async def __aenter__(self) -> Self:
        await self._broker.start()
        log.info("embedded MQTT broker listening on %s", self.url)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self._broker.shutdown()
