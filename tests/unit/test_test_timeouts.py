"""tests/timeouts.py: a hung test fails naming where its tasks wait, and a hung teardown ends
the test process instead of the whole run. Runs pytest on a small file in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HANGING = '''
import asyncio

import pytest


@pytest.mark.timeout(1)
async def test_waits_for_an_event():
    async def waiter():
        await asyncio.Event().wait()
    asyncio.create_task(waiter(), name="the-waiter")
    await asyncio.sleep(60)


@pytest.mark.timeout(1)
async def test_ignores_its_cancellation():
    async def stubborn():
        while True:
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                pass
    asyncio.create_task(stubborn(), name="the-stubborn")
    await asyncio.sleep(60)


def test_after_them():
    pass
'''


def run_pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_hanging.py").write_text(HANGING)
    env = {**os.environ, "ESTATE_TEST_TEARDOWN_GRACE_S": "2", "PYTHONPATH": str(ROOT)}
    return subprocess.run(  # noqa: S603 - this Python, our own arguments
        [sys.executable, "-m", "pytest", "-p", "tests.timeouts", "-p", "no:cacheprovider",
         "-o", "asyncio_mode=auto", "-q", "--rootdir", str(tmp_path), *args,
         str(tmp_path / "test_hanging.py")],
        check=False, capture_output=True, text=True, timeout=120,
        cwd=tmp_path, env=env)


def test_a_hung_test_fails_with_its_tasks_and_a_hung_teardown_ends_the_process(
        tmp_path: Path) -> None:
    result = run_pytest(tmp_path, "-n", "1")
    out = result.stdout + result.stderr
    assert "test_waits_for_an_event ran longer than 1.0 s" in out
    assert "the-waiter: waiter (test_hanging.py:" in out
    assert "> wait (locks.py:" in out
    assert "test_ignores_its_cancellation: its teardown still hangs 2.0 s after its timeout" in out
    assert "worker 'gw0' crashed while running" in out
    # The run went on with a fresh worker, and its summary counts all three.
    assert "1 passed" in out, out
    assert result.returncode == 1
