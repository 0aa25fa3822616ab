"""The processes a reliability test starts, stops and kills: a Mosquitto of its own (with
persistence, so that it can be started again on what it saved) and `hub run` workers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from hub.devices.broker import free_port

START_TIMEOUT_S = 30.0  # bounds against hangs, not measurements
STOP_TIMEOUT_S = 15.0
MQTT_DETAIL = re.compile(r"(\d+) in, (\d+) reconnects, (\d+) pauses")
JWT_SECRET = "e2e-devices-jwt-secret-0123456789abcdef"
PII_KEY = "ZTJlLWRldmljZXMtcGlpLWtleS0wMDAwMDAwMDAwMDA="  # 32 bytes, base64
BLIND_INDEX_KEY = "e2e-devices-blind-index-key"


async def wait_for(check: Callable[[], Any], what: str, within: float,
                   every: float = 0.05) -> float:
    """Wait until `check()` (sync or async) is true; the seconds it took. Fails after `within`."""
    started = time.monotonic()
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return time.monotonic() - started
        if time.monotonic() - started > within:
            raise AssertionError(f"{what}: not within {within}s")
        await asyncio.sleep(every)


def listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


@dataclass
class Broker:
    """Mosquitto on a loopback port, persisting to `folder` every `autosave_s`."""

    folder: Path
    max_queued: int = 100_000
    autosave_s: int = 1
    port: int = field(default_factory=free_port)
    starts: int = 0
    _process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    def _config(self) -> Path:
        path = self.folder / "mosquitto.conf"
        path.write_text("\n".join([
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {self.folder}/",
            f"autosave_interval {self.autosave_s}",
            f"max_queued_messages {self.max_queued}",
            f"log_dest file {self.folder}/mosquitto.log",
            "user root",  # as root, mosquitto would switch to a user without access here
            "",
        ]), encoding="utf-8")
        return path

    async def start(self) -> float:
        """Start (again, on its saved state); the seconds until it accepts connections."""
        self.folder.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        self._process = await asyncio.create_subprocess_exec(
            "mosquitto", "-c", str(self._config()), stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL)
        self.starts += 1
        await wait_for(lambda: listening(self.port) or not self.running,
                       f"mosquitto on {self.port}", START_TIMEOUT_S, every=0.01)
        if not self.running:
            raise AssertionError(f"mosquitto exited at start; log:\n{self.log()[-2000:]}")
        return time.monotonic() - started

    async def stop(self) -> None:
        """SIGTERM: Mosquitto saves its persistence file and exits."""
        await self._signal(signal.SIGTERM)

    async def kill(self) -> None:
        """SIGKILL: what arrived since the last autosave is gone."""
        await self._signal(signal.SIGKILL)

    async def _signal(self, signum: int) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.send_signal(signum)
            await asyncio.wait_for(self._process.wait(), STOP_TIMEOUT_S)
        self._process = None

    def log(self) -> str:
        path = self.folder / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""


def toml(data: Mapping[str, Any], prefix: str = "") -> str:
    """Just enough TOML for the hub's settings: scalars, lists and nested tables."""
    lines = [f"{key} = {_value(value)}" for key, value in data.items()
             if not isinstance(value, Mapping)]
    for key, value in data.items():
        if isinstance(value, Mapping):
            lines += ["", f"[{prefix}{key}]", toml(value, f"{prefix}{key}.")]
    return "\n".join(lines)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(str(value))  # JSON's escapes are TOML's basic-string escapes


def hub_settings(folder: Path, database_url: str, broker_url: str, devices_file: Path, *,
                 client_id: str = "hub-1", mqtt: Mapping[str, Any] | None = None,
                 ingest: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Production settings of one worker; its API on a free loopback port."""
    return {
        "mode": "production", "data_dir": str(folder / "data"), "log_level": "INFO",
        "database": {"url": database_url, "pool_size": 5},
        "api": {"host": "127.0.0.1", "port": free_port()},
        "security": {"jwt_secret": JWT_SECRET, "pii_active_key": "e2e",
                     "blind_index_key": BLIND_INDEX_KEY, "pii_keys": {"e2e": PII_KEY}},
        # Reconnects capped at 1 s: a production hub waits up to 30 s, which would make ten
        # broker restarts take minutes; the invariants do not depend on the delay.
        "mqtt": {"url": broker_url, "client_id": client_id,
                 "command_client_id": f"{client_id}-cmd", "keepalive_s": 5,
                 "backoff_base_s": 0.1, "backoff_cap_s": 1.0, **(mqtt or {})},
        "ingest": {"devices_file": str(devices_file), "registry_refresh_s": 2.0,
                   **(ingest or {})},
    }


def hub_environment() -> dict[str, str]:
    """The test's environment without the developer's HUB_* variables."""
    return {k: v for k, v in os.environ.items() if not k.upper().startswith("HUB_")}


async def hub_command(config: Path, *args: str) -> str:
    """A one-off `hub` command (`db upgrade`, `user create`); its output, or a failure."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub", *args, "--config", str(config), cwd=config.parent,
        env=hub_environment(), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(process.communicate(), START_TIMEOUT_S)
    text = out.decode(errors="replace")
    if process.returncode != 0:
        raise AssertionError(f"hub {' '.join(args)} exited {process.returncode}:\n{text}")
    return text


@dataclass
class MqttCounts:
    messages_in: int
    reconnects: int
    pauses: int  # reading from the broker paused by a full queue (backpressure)
    connected: bool
    beat_age_s: float


@dataclass
class HubProcess:
    """One `python -m hub run --config FILE` worker."""

    name: str
    folder: Path
    settings: dict[str, Any]
    starts: int = 0
    _process: asyncio.subprocess.Process | None = None

    @property
    def config(self) -> Path:
        return self.folder / f"{self.name}.toml"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.settings['api']['port']}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    def write_config(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.config.write_text(toml(self.settings) + "\n", encoding="utf-8")
        return self.config

    async def start(self) -> float:
        """Start and wait until the API answers and the MQTT link is up; the seconds taken."""
        self.write_config()
        started = time.monotonic()
        self.starts += 1
        with (self.folder / f"{self.name}-{self.starts}.log").open("wb") as log:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, "-u", "-m", "hub", "run", "--config", str(self.config),
                cwd=self.folder, env=hub_environment(), stdout=log,
                stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        await wait_for(self._ready, f"{self.name} ready", START_TIMEOUT_S, every=0.1)
        return time.monotonic() - started

    async def _ready(self) -> bool:
        if not self.running:
            raise AssertionError(f"{self.name} exited before it was ready:\n{self.output()}")
        with contextlib.suppress(httpx.TransportError):
            counts = await self.mqtt()
            return counts is not None and counts.connected
        return False

    async def stop(self) -> int:
        """SIGTERM, as systemd or `docker stop` would; the exit status."""
        return await self._signal(signal.SIGTERM)

    async def kill(self) -> int:
        return await self._signal(signal.SIGKILL)

    async def _signal(self, signum: int) -> int:
        process, self._process = self._process, None
        if process is None:
            return 0
        if process.returncode is None:
            process.send_signal(signum)
        try:
            return await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise AssertionError(f"{self.name} still running {STOP_TIMEOUT_S}s after signal "
                                 f"{signum}:\n{self.output()}") from None

    def output(self) -> str:
        """The end of each run's log, for a failure message."""
        logs = sorted(self.folder.glob(f"{self.name}-*.log"))
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}" for p in logs)

    def crashes(self) -> list[str]:
        """Tracebacks and supervised tasks that crashed, in every run's log (paho's ERROR
        lines about a reset connection are the broker's faults, not the hub's)."""
        found = []
        for path in sorted(self.folder.glob(f"{self.name}-*.log")):
            lines = path.read_text(errors="replace").splitlines()
            found += [f"{path.name}: {line}" for line in lines
                      if " crashed" in line or line.startswith(("Traceback", "DETAIL"))]
        return found

    async def health(self) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=5) as client:
            answer = await client.get(f"{self.base_url}/health")
        body: dict[str, Any] = answer.json()
        return body

    async def ingest(self) -> dict[str, Any]:
        component: dict[str, Any] = (await self.health())["components"]["ingest"]
        return component

    async def mqtt(self) -> MqttCounts | None:
        """The adapter's counters as /health shows them (refreshed on every (re)connect and
        every 5 s), or None before its first connection attempt."""
        component = (await self.health())["components"].get("mqtt")
        if component is None:
            return None
        found = MQTT_DETAIL.search(component["detail"])
        assert found, component
        return MqttCounts(int(found[1]), int(found[2]), int(found[3]),
                          component["status"] == "ok", component["seconds_since_beat"])
