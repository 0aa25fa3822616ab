"""`hub bench ingest` for two seconds at a low rate: one JSON line last, nothing lost or
stored twice. No figure is asserted: tests never assert on time (DESIGN.md §8)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

KEYS = {"scenario", "msgs_per_s", "p50_ms", "p99_ms", "bare_msgs_per_s", "ratio", "lost",
        "duplicates", "backend", "devices", "seconds"}
WITHIN_S = 180  # a bound against a hang, not a measurement

pytestmark = pytest.mark.skipif(shutil.which("mosquitto") is None,
                                reason="the benchmark starts a Mosquitto of its own")


def test_bench_ingest_ends_with_one_json_line_and_loses_nothing() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hub", "bench", "ingest", "--devices", "4", "--rate", "200",
         "--seconds", "2", "--warmup", "0.5", "--backlog", "1000", "--publishers", "1"],
        capture_output=True, text=True, timeout=WITHIN_S, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    result = json.loads(lines[-1])
    print("\n".join(lines))
    assert set(result) >= KEYS
    assert result["scenario"] == "ingest"
    assert result["backend"] == "sqlite"
    assert result["devices"] == 4
    assert result["lost"] == 0
    assert result["duplicates"] == 0
    assert result["published"] > 1000  # the sustained phase, then the backlog
    assert set(result["bare_by_mode"]) == {"aiomqtt", "paho"}
