"""`hub bench ingest` for two seconds at a low rate: one JSON line last, nothing lost or
stored twice. No figure is asserted: tests never assert on time (DESIGN.md §8)."""

from __future__ import annotations

import pytest

from tests.integration.bench.running import own_mosquitto, run_bench  # noqa: F401 - a fixture

KEYS = {"scenario", "msgs_per_s", "p50_ms", "p99_ms", "bare_msgs_per_s", "ratio", "lost",
        "duplicates", "backend", "devices", "seconds"}

pytestmark = pytest.mark.usefixtures("own_mosquitto")


def test_bench_ingest_ends_with_one_json_line_and_loses_nothing() -> None:
    result = run_bench("ingest", "--devices", "4", "--rate", "200", "--seconds", "2", "--warmup",
                       "0.5", "--backlog", "1000", "--publishers", "1")
    assert set(result) >= KEYS
    assert result["scenario"] == "ingest"
    assert result["backend"] == "sqlite"
    assert result["devices"] == 4
    assert result["lost"] == 0
    assert result["duplicates"] == 0
    assert result["published"] > 1000  # the sustained phase, then the backlog
    assert set(result["bare_by_mode"]) == {"aiomqtt", "paho"}


def test_offered_twice_what_the_hub_can_store_it_pauses_reading_and_loses_nothing() -> None:
    # At-least-once under overload: about twice the hub's ceiling on 2 cores (~9,000 msgs/s,
    # docs/benchmarks.md). The incoming queue is small so that it fills whatever the machine:
    # reading from the broker must pause (backpressure), and nothing acknowledged to a
    # publisher may be missing from storage or stored twice.
    result = run_bench("ingest", "--devices", "20", "--rate", "20000", "--seconds", "3", "--warmup",
                       "0.5", "--backlog", "1000", "--publishers", "2", "--incoming-queue", "500")
    assert result["mqtt_pauses"] > 0, "the hub kept up: nothing was tested"
    assert result["published"] > 30_000
    assert (result["lost"], result["duplicates"]) == (0, 0)


def test_two_hub_workers_on_one_sqlite_file_share_the_stream_and_lose_nothing() -> None:
    # Scale-out as DESIGN.md §1 has it, on the default database: two worker processes on one
    # MQTT 5 shared subscription write one SQLite file, taking turns through its lock file
    # (hub.store.turns). Overloaded as above, so that both store at once and wait for each
    # other: every acknowledged message stored exactly once, and both took a share.
    result = run_bench("ingest", "--devices", "20", "--rate", "20000", "--seconds", "3", "--warmup",
                       "0.5", "--backlog", "2000", "--publishers", "2", "--incoming-queue", "500",
                       "--workers", "2")
    assert result["workers"] == 2
    assert result["published"] > 30_000
    assert (result["lost"], result["duplicates"]) == (0, 0)
    assert result["mqtt_pauses"] > 0, "the workers kept up: they never wrote at once"
    shares = result["stored_by_worker"]
    assert len(shares) == 2 and all(share > 1000 for share in shares), shares
    assert sum(shares) == result["published"] - result["unacked_by_broker"]
