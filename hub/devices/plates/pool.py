"""Plate reading off the event loop: a pool of worker processes, each with the model loaded
once, that survives a worker dying and a read that never ends.

    pool = PlateReaderPool(workers=2)
    reading = await pool.read(jpeg)   # the most confident plate, or None
    await pool.aclose()

A rejected payload (not an image, truncated, too large) is refused in the worker and comes
back as PlateImageRejected; a worker that dies (BrokenProcessPool) or a read over the
timeout costs that read (PlateReadFailed) and the pool is rebuilt, so the next read is
answered by fresh workers. Workers are started by spawn/forkserver, never fork: the hub's
process holds an event loop, sockets and threads that a forked child must not inherit.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from hub.devices.plates.decode import read_header
from hub.devices.plates.errors import PlateImageRejected
from hub.devices.plates.reader import PlateReading

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 5.0


class PlateReadFailed(RuntimeError):
    """The read did not finish: its worker died or it ran over the timeout."""


def _start_worker() -> None:
    # One core per worker: OpenCV's own threads would fight the other workers.
    import cv2

    cv2.setNumThreads(1)
    from hub.devices.plates.reader import default_reader

    default_reader()


def _read_best(image: bytes) -> PlateReading | None:
    from hub.devices.plates.reader import read_plates

    readings = read_plates(image)
    return readings[0] if readings else None


def _read_all(image: bytes) -> list[PlateReading]:
    from hub.devices.plates.reader import read_plates

    return read_plates(image)


def _worker_pid() -> int:
    return os.getpid()


class PlateReaderPool:
    def __init__(self, workers: int = 1, timeout_s: float = DEFAULT_TIMEOUT_S,
                 start_method: str | None = None) -> None:
        if workers < 1:
            raise ValueError("a plate reader pool needs at least one worker")
        methods = multiprocessing.get_all_start_methods()
        self._method = start_method or ("forkserver" if "forkserver" in methods else "spawn")
        self.workers = workers
        self.timeout_s = timeout_s
        self._executor: ProcessPoolExecutor | None = None
        self.restarts = 0

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context(self._method),
                initializer=_start_worker)
        return self._executor

    async def read(self, image: bytes) -> PlateReading | None:
        """The most confident plate in the snapshot, or None when there is none."""
        result: PlateReading | None = await self._run(_read_best, image)
        return result

    async def read_all(self, image: bytes) -> list[PlateReading]:
        result: list[PlateReading] = await self._run(_read_all, image)
        return result

    async def worker_pids(self) -> list[int]:
        """The workers' process ids (started if need be), for health and tests."""
        pool = self._pool()
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(pool, _worker_pid)
                               for _ in range(self.workers)))
        return sorted(p.pid for p in (pool._processes or {}).values() if p.pid is not None)

    async def _run(self, fn, image: bytes):  # type: ignore[no-untyped-def]
        if not isinstance(image, bytes | bytearray | memoryview):
            raise PlateImageRejected(f"not image bytes: {type(image).__name__}")
        image = bytes(image)
        read_header(image)  # empty, foreign or oversized: refused here, not shipped to a worker
        loop = asyncio.get_running_loop()
        pool = self._pool()
        try:
            future = loop.run_in_executor(pool, fn, image)
        except BrokenProcessPool:  # broken by an earlier read: rebuild and submit once more
            self._rebuild(pool, "broken")
            pool = self._pool()
            future = loop.run_in_executor(pool, fn, image)
        try:
            async with asyncio.timeout(self.timeout_s):
                return await future
        except BrokenProcessPool as err:
            self._rebuild(pool, "a worker died")
            raise PlateReadFailed("the plate reader's worker died during this read") from err
        except TimeoutError as err:
            # The worker is stuck in this read: the only way to get it back is to end it.
            self._rebuild(pool, f"a read ran over {self.timeout_s} s")
            raise PlateReadFailed(f"plate read over {self.timeout_s} s") from err

    def _rebuild(self, pool: ProcessPoolExecutor, why: str) -> None:
        if self._executor is not pool:  # another read already rebuilt it
            return
        log.warning("plate reader pool restarted: %s", why)
        self.restarts += 1
        self._executor = None
        _terminate(pool)

    async def aclose(self) -> None:
        pool, self._executor = self._executor, None
        if pool is not None:
            await asyncio.get_running_loop().run_in_executor(
                None, lambda: pool.shutdown(wait=True, cancel_futures=True))


def _terminate(pool: ProcessPoolExecutor) -> None:
    """End the pool's workers now (a stuck worker never returns) and let it clean up."""
    for process in list((pool._processes or {}).values()):
        if process.is_alive():
            process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
