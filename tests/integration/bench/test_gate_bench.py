"""`hub bench gate` for a few reads at a low background rate, with the hub in the benchmark's
process and as two workers on one SQLite file: one JSON line last, every barrier opened.
No figure is asserted: tests never assert on time (DESIGN.md §8)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

WITHIN_S = 180  # a bound against a hang, not a measurement

pytestmark = pytest.mark.skipif(shutil.which("mosquitto") is None,
                                reason="the benchmark starts a Mosquitto of its own")


@pytest.mark.parametrize("workers", [1, 2])
def test_bench_gate_opens_every_barrier(workers: int) -> None:
    try:
        done = subprocess.run(  # noqa: S603 - this interpreter, arguments of our own
            [sys.executable, "-m", "hub", "bench", "gate", "--events", "20", "--warmup", "5",
             "--lanes", "2", "--rate", "300", "--meters", "6", "--interval", "0.05",
             "--publishers", "1", "--workers", str(workers)],
            capture_output=True, text=True, timeout=WITHIN_S, check=False)
    except subprocess.TimeoutExpired as hung:
        said = [part.decode(errors="replace") if isinstance(part, bytes) else part or ""
                for part in (hung.stdout, hung.stderr)]
        pytest.fail(f"no result within {WITHIN_S} s; stdout: {said[0][-2000:]}\n"
                    f"stderr: {said[1][-4000:]}")
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    result = json.loads(lines[-1])
    print("\n".join(lines))
    assert result["scenario"] == "gate"
    assert result["workers"] == workers
    assert (result["seen"], result["missing"]) == (20, 0)
    assert result["background_msgs_per_s"] > 0  # the workers' stamps reached the benchmark
