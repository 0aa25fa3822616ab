"""A test that hangs fails, and says where it waits, instead of stalling the whole run.

pytest-timeout arms the timer (`timeout` in pyproject.toml: setup, call and teardown
together). This replaces its SIGALRM handler to add what an asyncio test needs: the main
thread's stack of a hung asyncio test shows only the event loop's select, so the failure
also lists each pending task's chain of awaits. If the test's teardown hangs in turn (a
task that ignores cancellation, a subprocess that never exits), a last resort ends the
worker after a grace period; pytest-xdist then reports the test as the one that crashed
its worker and goes on with a fresh one.
"""

from __future__ import annotations

import asyncio
import faulthandler
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

import pytest

from hub.stopping import awaiting

# After the timeout fails the test, how long its teardown may still take (seconds).
TEARDOWN_GRACE_S = float(os.environ.get("ESTATE_TEST_TEARDOWN_GRACE_S", "120"))

LAST_RESORT = pytest.StashKey[threading.Timer]()


def end_worker(item: pytest.Item) -> None:
    capture = item.config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        capture.suspend_global_capture(in_=True)
    print(f"\n{item.nodeid}: its teardown still hangs {TEARDOWN_GRACE_S} s after its timeout; "
          f"ending this test process. Pending asyncio tasks: see the failure above. Threads:",
          file=sys.stderr, flush=True)
    faulthandler.dump_traceback(file=sys.stderr)
    os._exit(1)


def pending_tasks() -> str:
    """Each pending task of the running loop (if any) and where it waits."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return "no event loop running"
    lines = [f"{task.get_name()}: {awaiting(task)}"  # type: ignore[arg-type]
             for task in asyncio.all_tasks(loop)]
    return "\n".join(sorted(lines)) or "no pending tasks"


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_set_timer(item: pytest.Item, settings: Any) -> bool | None:
    if settings.method != "signal" or threading.current_thread() is not threading.main_thread():
        return None  # pytest-timeout's own thread method

    def on_timeout(signum: int, frame: FrameType | None) -> None:
        __tracebackhide__ = True
        last_resort = threading.Timer(TEARDOWN_GRACE_S, end_worker, (item,))
        last_resort.daemon = True
        last_resort.start()
        item.stash[LAST_RESORT] = last_resort
        pytest.fail(f"Timeout: {item.nodeid} ran longer than {settings.timeout} s.\n"
                    f"Pending asyncio tasks:\n{pending_tasks()}", pytrace=True)

    def cancel() -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)

    item.cancel_timeout = cancel  # type: ignore[attr-defined]  # read by pytest-timeout
    signal.signal(signal.SIGALRM, on_timeout)
    signal.setitimer(signal.ITIMER_REAL, settings.timeout)
    return True


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    # The last resort outlives pytest-timeout's cancel (which comes as soon as the failure is
    # reported), to cover the teardown; it ends with the test's whole protocol.
    yield
    last_resort = item.stash.get(LAST_RESORT, None)
    if last_resort is not None:
        last_resort.cancel()
