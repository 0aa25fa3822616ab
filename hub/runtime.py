"""Running processes: the API server beside the hub's long-running tasks, stopped cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Iterator
from typing import Any

import anyio.lowlevel
import uvicorn
from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError

from hub.bootstrap import Hub
from hub.domain.errors import DomainError
from hub.stopping import stopped
from hub.supervise import Job, supervised

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
DRAIN_TIMEOUT_S = 5.0


class NotReady(DomainError):
    code = "not_ready"


async def require_current_schema(hub: Hub) -> None:
    """Refuse to serve on a database that is unreachable or not migrated to this code."""
    try:
        status = await hub.health.checks["database"]()
    except (OSError, SQLAlchemyError) as err:
        # First line only: SQLAlchemy appends the statement and a link on later lines.
        first_line = (str(err).splitlines() or [""])[0]
        raise NotReady(f"database unreachable: {type(err).__name__}: {first_line}") from None
    if status.get("status") != "ok":
        raise NotReady(f"database: {status.get('detail')}")


class _Server(uvicorn.Server):
    """uvicorn, except that a signal only stops it: the caller shuts the rest of the hub down
    in order and decides the exit status (uvicorn itself would re-raise the signal)."""

    received: int | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self._on_signal, sig)
        try:
            yield
        finally:
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)

    def _on_signal(self, sig: int) -> None:
        self.received = self.received or sig
        self.handle_exit(sig, None)  # a second Ctrl-C forces the exit


async def serve_api(app: FastAPI, host: str, port: int) -> int | None:
    """Serve until SIGINT/SIGTERM; return the signal that stopped it."""
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on",
                            server_header=False, timeout_graceful_shutdown=5)
    server = _Server(config)
    await server.serve()
    if not server.started:
        raise NotReady(f"could not listen on {host}:{port} (in use?)")
    return server.received


# CPython makes a full collection after this many collections of the middle generation
# (default 10), when the objects promoted since the last one exceed a quarter of the rest.
# Ingestion promotes every queued message (it outlives two young collections), so under load
# that meant a full collection every second, 100-170 ms each, that found nothing: 8.5 s of a
# 70 s `hub bench ingest` run. The hub frees its garbage by reference counting; its cycles
# can wait ten times longer.
FULL_COLLECTION_AFTER = 100


@contextlib.contextmanager
def settled_heap() -> Iterator[None]:
    """Put what start-up built (modules, settings, the app) out of the garbage collector's
    sight while the hub runs, so that a full collection walks only what the running hub
    allocates, and make full collections rarer (FULL_COLLECTION_AFTER). Over the start-up
    heap each took tens of milliseconds (docs/benchmarks.md, ingest)."""
    gc.collect()
    gc.freeze()
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, max(full, FULL_COLLECTION_AFTER))
    try:
        yield
    finally:
        gc.set_threshold(young, middle, full)
        gc.unfreeze()  # a process that runs the hub again (tests) collects the old one


async def run_hub(hub: Hub, app: FastAPI, extra_jobs: dict[str, Job] | None = None) -> int | None:
    """The API and every long-running job of the hub, until a signal; then an orderly stop:
    inputs first, then the pipeline drains what they handed over, then everything else."""
    jobs = hub.jobs | (extra_jobs or {})
    with settled_heap():
        async with asyncio.TaskGroup() as group:
            tasks = {name: group.create_task(supervised(name, job, hub.health), name=name)
                     for name, job in jobs.items()}
            try:
                await warm_routes(app)
                return await serve_api(app, hub.settings.api.host, hub.settings.api.port)
            finally:
                await _stop(hub, tasks)


# No route has this path, so the router looks through every route to answer it.
WARM_UP_PATH = "/api/v1/.warm-up"


async def warm_routes(app: FastAPI) -> None:
    """Prepare the API's routes before the first caller needs them. FastAPI prepares an
    included router's routes (their dependencies, read from signatures) on the first request
    that reaches that router: 100-350 ms each on the slower machine of docs/benchmarks.md,
    which the first residents after a restart waited. One request that no route takes, sent
    to the app in process, prepares them all. And anyio loads its asyncio backend on first
    use, which a dependency that yields (a read connection) makes: another 350 ms."""
    await anyio.lowlevel.checkpoint()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: Any) -> None:
        return None

    await app({"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
               "method": "GET", "scheme": "http", "path": WARM_UP_PATH,
               "raw_path": WARM_UP_PATH.encode(), "query_string": b"", "root_path": "",
               "headers": [], "client": ("127.0.0.1", 0), "server": ("127.0.0.1", 0)},
              receive, send)


async def _stop(hub: Hub, tasks: dict[str, asyncio.Task[None]]) -> None:
    log.info("stopping: inputs first, then what they handed over is stored")
    first = [task for name, task in tasks.items() if name in hub.inputs]
    for task in first:
        task.cancel()
    await stopped(first)
    try:
        async with asyncio.timeout(DRAIN_TIMEOUT_S):
            await hub.pipeline.drain()
    except TimeoutError:
        # Not lost: what was not stored was never acknowledged, and the broker sends it again.
        log.warning("stopping with messages not yet stored; they will be redelivered")
    for task in tasks.values():
        task.cancel()
    await stopped(list(tasks.values()))


