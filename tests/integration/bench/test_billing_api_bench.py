"""`hub bench billing` and `hub bench api`, small: one JSON line last with the figures' keys,
the run billed once (a second commit creates nothing), every read answered. No figure is
asserted: tests never assert on time (DESIGN.md §8)."""

from __future__ import annotations

from tests.integration.bench.running import run_bench
from tests.services import require_service

WITHIN_S = 300  # a bound against a hang, not a measurement


def test_bench_billing_bills_every_unit_once_and_ends_with_one_json_line() -> None:
    result = run_bench("billing", "--units", "150", within_s=WITHIN_S)
    assert set(result) >= {"scenario", "units", "preview_s", "commit_s", "total_s", "bills",
                           "lines", "backend", "recommit_s"}
    assert (result["scenario"], result["units"], result["backend"]) == ("billing", 150,
                                                                        "sqlite")
    assert result["bills"] == 150 and result["history_bills"] == 150
    # a property line each, water for the 147 occupied (vacant units have no reading), and
    # parking for the units renting a space
    assert result["occupied"] == 147 and 0 < result["parking_units"] < 150
    assert result["lines"] == result["preview_lines"] == 150 + 147 + result["parking_units"]
    assert result["skipped"] == 3
    assert result["recommit_created"] == 0 and result["unchanged_after_recommit"]


def test_bench_billing_on_postgresql_uses_a_database_of_its_own() -> None:
    url = require_service("postgres")
    result = run_bench("billing", "--units", "120", "--database", url, within_s=WITHIN_S)
    assert (result["backend"], result["bills"], result["recommit_created"]) == (
        "postgresql", 120, 0)


def test_bench_api_answers_every_read_and_ends_with_one_json_line() -> None:
    result = run_bench("api", "--accounts", "6", "--clients", "3", "--seconds", "1",
                       "--warmup", "0.2", within_s=WITHIN_S)
    assert set(result) >= {"scenario", "requests_per_s", "p50_ms", "p99_ms", "errors",
                           "backend", "requests"}
    assert (result["scenario"], result["backend"], result["errors"]) == ("api", "sqlite", 0)
    assert result["requests"] > 0
    assert set(result["by_path"]) == {"/api/v1/me/bills", "/api/v1/me/notifications",
                                      "/api/v1/me/announcements"}
