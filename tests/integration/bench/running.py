"""Running a `hub bench` command as a user would: a subprocess, its last line parsed as JSON.
The time bound is against a hang, not a measurement (tests never assert on time)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from typing import Any

import pytest

from tests.services import in_ci

WITHIN_S = 180


@pytest.fixture
def own_mosquitto() -> None:
    """The benchmarks that start a Mosquitto of their own need it on PATH, where they look
    (hub.bench.mosquitto): skipped without it, failed under CI=true (tests.services)."""
    if shutil.which("mosquitto") is None:
        reason = "mosquitto: not on PATH (apt-get install mosquitto)"
        if in_ci():
            pytest.fail(f"{reason}; CI=true needs every service", pytrace=False)
        pytest.skip(reason)


def run_bench(*args: str, within_s: float = WITHIN_S) -> dict[str, Any]:
    """`hub bench ARGS`: its summary printed (seen with -s), its JSON line returned."""
    try:
        done = subprocess.run([sys.executable, "-m", "hub", "bench", *args],  # noqa: S603
                              capture_output=True, text=True, timeout=within_s, check=False)
    except subprocess.TimeoutExpired as hung:
        said = [part.decode(errors="replace") if isinstance(part, bytes) else part or ""
                for part in (hung.stdout, hung.stderr)]
        pytest.fail(f"no result within {within_s:.0f} s; stdout: {said[0][-2000:]}\n"
                    f"stderr: {said[1][-4000:]}")
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    print("\n".join(lines))
    result: dict[str, Any] = json.loads(lines[-1])
    return result
