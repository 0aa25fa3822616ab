"""`hub bench gate` for a few reads at a low background rate, with the hub in the benchmark's
process and as two workers on one SQLite file: one JSON line last, every barrier opened.
No figure is asserted: tests never assert on time (DESIGN.md §8)."""

from __future__ import annotations

import pytest

from tests.integration.bench.running import own_mosquitto, run_bench  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("own_mosquitto")


@pytest.mark.parametrize("workers", [1, 2])
def test_bench_gate_opens_every_barrier(workers: int) -> None:
    result = run_bench("gate", "--events", "20", "--warmup", "5", "--lanes", "2", "--rate", "300",
                       "--meters", "6", "--interval", "0.05", "--publishers", "1", "--workers",
                       str(workers))
    assert result["scenario"] == "gate"
    assert result["workers"] == workers
    assert (result["seen"], result["missing"]) == (20, 0)
    assert result["background_msgs_per_s"] > 0  # the workers' stamps reached the benchmark
