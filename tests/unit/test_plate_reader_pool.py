"""The plate reader's process pool: reads off the event loop, refuses bad payloads with a
reason, and keeps answering after a worker dies or a read runs over its time."""

from __future__ import annotations

import asyncio
import os
import signal

import numpy as np
import pytest

from hub.devices.plates.errors import PlateImageRejected
from hub.devices.plates.pool import PlateReaderPool, PlateReadFailed
from hub.devices.plates.render import PlateSpec, encode_jpeg
from hub.devices.plates.scene import render_scene

PLATE = "苏E5N8K2"


def _snapshot() -> bytes:
    scene = render_scene(np.random.default_rng(11), [PlateSpec(PLATE, "blue")])
    return encode_jpeg(scene.image, 92)


async def _read_until_answered(pool: PlateReaderPool, image: bytes) -> object:
    """A read submitted while the pool is noticing a dead worker may fail once."""
    try:
        return await pool.read(image)
    except PlateReadFailed:
        return await pool.read(image)


async def test_reads_survive_a_killed_worker_and_a_stuck_read() -> None:
    image = _snapshot()
    pool = PlateReaderPool(workers=1, timeout_s=30.0)
    try:
        reading = await pool.read(image)
        assert reading is not None and reading.plate == PLATE
        assert reading.crop_jpeg.startswith(b"\xff\xd8")

        with pytest.raises(PlateImageRejected, match="not a JPEG or PNG"):
            await pool.read(b"definitely not an image")
        with pytest.raises(PlateImageRejected, match="truncated"):
            await pool.read(image[: len(image) // 2])

        (pid,) = await pool.worker_pids()
        os.kill(pid, signal.SIGKILL)
        reading = await _read_until_answered(pool, image)
        assert getattr(reading, "plate", None) == PLATE
        assert pool.restarts >= 1
        assert pid not in await pool.worker_pids()

        pool.timeout_s = 0.001  # no read finishes in a millisecond: the worker is ended
        with pytest.raises(PlateReadFailed, match="over"):
            await pool.read(image)
        pool.timeout_s = 30.0
        answers = await asyncio.gather(*(pool.read(image) for _ in range(3)))
        assert [a.plate if a else None for a in answers] == [PLATE] * 3
    finally:
        await pool.aclose()
