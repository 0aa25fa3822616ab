"""A real VictoriaMetrics for a test: it accepts InfluxDB v2 writes (`/api/v2/write`) and maps
measurement `telemetry` + field `floor` to the metric `telemetry_floor`, tags kept as labels.

Started on a free loopback port with its own data folder; it can be stopped and started again
on the same port and folder, as an outage and a recovery look to the exporter.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.devices.broker import free_port

START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 15.0


@dataclass
class Victoria:
    binary: str
    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = (self.folder / "victoria.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own arguments, no shell
            [self.binary, f"-httpListenAddr=127.0.0.1:{self.port}",
             f"-storageDataPath={self.folder / 'data'}",
             "-retentionPeriod=100y",  # test timestamps are never "too old"
             "-loggerLevel=WARN"],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"victoria-metrics exited: {self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        pytest.fail(f"victoria-metrics did not answer in {START_TIMEOUT_S}s: {self.log_tail()}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()  # SIGTERM: it flushes what it holds, as a clean restart does
        try:
            self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(STOP_TIMEOUT_S)
        self.process = None

    def series(self, **labels: str) -> list[dict[str, Any]]:
        """Every stored sample of the matching series, as /api/v1/export gives them."""
        httpx.get(f"{self.url}/internal/force_flush", timeout=5.0)
        selector = ",".join(f'{k}="{v}"' for k, v in labels.items())
        response = httpx.post(f"{self.url}/api/v1/export", data={"match[]": f"{{{selector}}}"},
                              timeout=10.0)
        response.raise_for_status()
        return [json.loads(line) for line in response.text.splitlines() if line.strip()]

    def points(self, metric: str, **labels: str) -> dict[int, float]:
        """Timestamp (ms) -> value of one metric; a sample written twice counts once."""
        found: dict[int, float] = {}
        for series in self.series(__name__=metric, **labels):
            found.update(zip(series["timestamps"], series["values"], strict=True))
        return found

    def log_tail(self) -> str:
        path = self.folder / "victoria.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else "(no log)"
