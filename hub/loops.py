"""The event loop a hub process runs on: uvloop where it is installed (the default), else
asyncio's own. uvloop does the sockets, timers and callbacks of every MQTT message and HTTP
request in C (libuv); with httptools, which uvicorn picks by itself when installed, the HTTP
parsing is C too. `event_loop = "asyncio"` in the settings is the way back if a platform's
uvloop misbehaves."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
EventLoopKind = Literal["uvloop", "asyncio"]


def loop_factory(kind: EventLoopKind) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """None: asyncio's default loop."""
    if kind == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:  # an optional speed-up, e.g. on Windows: the hub works without it
        log.info("uvloop is not installed: running on asyncio's own event loop")
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T], kind: EventLoopKind = "uvloop") -> T:
    """asyncio.run(main) on the chosen loop."""
    with asyncio.Runner(loop_factory=loop_factory(kind)) as runner:
        return runner.run(main)
