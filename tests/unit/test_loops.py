"""hub.loops: the hub's processes run on uvloop by default, on asyncio's own loop on request."""

from __future__ import annotations

import asyncio

import uvloop

from hub import loops
from hub.settings import Settings


async def _loop_type() -> type:
    return type(asyncio.get_running_loop())


def test_uvloop_by_default_and_asyncio_on_request() -> None:
    assert Settings.model_fields["event_loop"].default == "uvloop"
    assert loops.run(_loop_type()) is uvloop.Loop
    assert not issubclass(loops.run(_loop_type(), "asyncio"), uvloop.Loop)
