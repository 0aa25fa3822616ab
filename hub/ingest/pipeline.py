"""The ingestion pipeline (hub.ports.Ingest): two bounded lanes, bulk and express
(hub.ingest.lanes), each with its writer task.

`put` waits when a lane is full (backpressure, counted), never drops. Each writer drains up
to `batch_max_items` or `batch_max_ms` at a time and stores each batch in one transaction
(hub.ingest.writer); only after the commit does it acknowledge, export and publish. The two
writers take turns at the database, express first (a barrier or a work order waits on it). A batch
that fails is retried with backoff while the database is unreachable; when the database
answers, the batch is bisected so that one poison message is dead-lettered alone and the
rest are stored (RELIABILITY R5).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.devices.backoff import Backoff
from hub.domain.observations import Observation, Rejected, StatusReported, Telemetry
from hub.ingest import sweeper
from hub.ingest.batching import next_batch
from hub.ingest.items import Entry, Item, Reachability, excerpt_of, topic_of
from hub.ingest.lanes import Lanes
from hub.ingest.observers import Observers, Published
from hub.ingest.plan import POISON
from hub.ingest.registry_cache import RegistryCache
from hub.ingest.stats import IngestStats
from hub.ingest.writer import BatchWriter, Outcome
from hub.ports import Ack, Clock, TelemetryExport
from hub.settings import IngestSettings
from hub.store.turns import WriteTurns, urgent_writes, writes_urgent
from hub.urgency import Urgency

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 5.0
POISON_RETRIES = 2
PRUNE_EVERY = timedelta(hours=1)


def retry_backoff() -> Backoff:
    return Backoff(base=0.2, cap=10.0)


class IngestPipeline:
    def __init__(self, engine: AsyncEngine, settings: IngestSettings, clock: Clock, *,
                 export: TelemetryExport | None = None, observers: Observers | None = None,
                 backoff: Callable[[], Backoff] = retry_backoff,
                 returning: bool | None = None, urgency: Urgency | None = None) -> None:
        self._engine = engine
        self._settings = settings
        self._clock = clock
        self._export = export
        self._backoff = backoff
        self.observers = observers or Observers()
        self.cache = RegistryCache(settings.registry_refresh_s)
        self._writer = BatchWriter(self.cache, auto_register=settings.auto_register,
                                   dead_letters_keep=settings.dead_letters_keep,
                                   returning=returning)
        self._lanes: Lanes[Entry] = Lanes(settings.queue_size, urgent=_urgent,
                                          device=self._device_of)
        # The writers' and the sweep's transactions, one at a time, express first; on SQLite
        # the express batch's writes also go ahead of other writers (hub.store.turns).
        self._lock = WriteTurns()
        # Urgent work in this process (express batches, rules, gates) goes before the next
        # telemetry batch (hub.urgency).
        self.urgency = urgency or Urgency()
        self._pending: Counter[str] = Counter()  # persistent counters not yet committed
        self.stats = IngestStats(capacity=settings.queue_size)
        self.started = clock()
        self._pruned_at: datetime | None = None
        self._waiting: set[asyncio.Task[None]] = set()  # verdicts waiting for queue room

    # -- what adapters call ------------------------------------------------------------------

    async def put(self, item: Observation | Rejected, ack: Ack | None = None) -> None:
        await self._enqueue(item, ack)

    async def device_unreachable(self, device_id: int, reason: str) -> None:
        """For pollers: the device did not answer (`reason` such as "poll timeout"). Queued
        behind the device's readings, so the order of what happened is kept."""
        await self._enqueue(Reachability(device_id, False, self._clock(), reason), None)

    async def device_reachable(self, device_id: int) -> None:
        await self._enqueue(Reachability(device_id, True, self._clock()), None)

    def reachability(self, device_id: int, reachable: bool, reason: str) -> None:
        """The Modbus pollers' `on_reachability` callback: never blocks. With the queue full
        (rare: the poller's own readings wait there too) the verdict waits in a task."""
        item = Reachability(device_id, reachable, self._clock(), reason)
        loop = asyncio.get_running_loop()
        entry = Entry(item, None, loop.time())
        lane = self._lanes.admit(entry)
        try:
            lane.put_nowait(entry)
        except asyncio.QueueFull:
            self._lanes.withdraw(entry)
            task = loop.create_task(self._enqueue(item, None))
            self._waiting.add(task)
            task.add_done_callback(self._waiting.discard)
            return
        self.stats.queued(self._lanes.depth())

    def registry_changed(self) -> None:
        """A device was registered, approved, disabled or changed: reload before the next batch."""
        self.cache.mark_stale()

    async def _enqueue(self, item: Item, ack: Ack | None) -> None:
        loop = asyncio.get_running_loop()
        entry = Entry(item, ack, loop.time())
        lane = self._lanes.admit(entry)
        if lane.full():
            self.stats.overflow_waits += 1
            self._pending["ingest|overflow_waits"] += 1
            try:
                await lane.put(entry)
            except asyncio.CancelledError:
                self._lanes.withdraw(entry)
                raise
            self.stats.overflow_wait_s += loop.time() - entry.enqueued
        else:
            lane.put_nowait(entry)
        self.stats.queued(self._lanes.depth())

    def _device_of(self, entry: Entry) -> tuple[str, str] | int | None:
        """What keeps one device's messages in order: its site and code, as the registry
        finds it (a poller's verdict names the device by id)."""
        item = entry.item
        if isinstance(item, Reachability):
            info = self.cache.get(item.device_id)
            return item.device_id if info is None else (info.site, info.code)
        key = item.key if isinstance(item, Rejected) else item.envelope.key
        return None if key is None else (key.site, key.device)

    # -- the writer tasks -------------------------------------------------------------------

    async def run(self) -> None:
        """The two writers, forever; run it supervised (hub.supervise)."""
        async with asyncio.TaskGroup() as writers:
            writers.create_task(self._write_express(), name="ingest-express")
            await self._write(self._lanes.bulk, urgent=False)

    async def _write_express(self) -> None:
        with urgent_writes():  # this task's transactions go ahead of other writers'
            await self._write(self._lanes.express, urgent=True)

    async def _write(self, lane: asyncio.Queue[Entry], *, urgent: bool) -> None:
        while True:
            if not urgent:
                await self.urgency.quiet()
            batch = await next_batch(lane, self._settings.batch_max_items,
                                     self._settings.batch_max_ms / 1000, _queued_at, _urgent)
            try:
                with self.urgency.working() if urgent else nullcontext():
                    await self._store(batch)
            finally:
                self._lanes.finished(batch)
            for _ in batch:
                lane.task_done()

    async def drain(self) -> None:
        """Wait until everything queued so far is stored. On shutdown: stop the adapters,
        drain, then cancel the writers; whatever is cancelled unstored was never acknowledged
        and comes again from the broker."""
        await self._lanes.join()

    async def _store(self, batch: Sequence[Entry]) -> None:
        backoff = self._backoff()
        while True:
            result = await self._try(batch)
            if isinstance(result, Outcome):
                await self._after_commit(batch, result)
                return
            if await self._reachable():
                await self._isolate(batch, result)
                return
            self._outage(result)
            await asyncio.sleep(backoff.next())

    async def _isolate(self, batch: Sequence[Entry], err: Exception) -> None:
        """The database answers, yet the batch fails: one of its items does. Halve until alone."""
        if len(batch) > 1:
            middle = len(batch) // 2
            await self._store(batch[:middle])
            await self._store(batch[middle:])
            return
        entry = batch[0]
        backoff = self._backoff()
        while True:
            for _ in range(POISON_RETRIES):  # retried alone, as R5 asks, before burying it
                await asyncio.sleep(backoff.next())
                result = await self._try(batch)
                if isinstance(result, Outcome):
                    await self._after_commit(batch, result)
                    return
                err = result
            letter = Entry(_poison_letter(entry.item, err, self._clock()), entry.ack,
                           entry.enqueued)
            result = await self._try([letter])
            if isinstance(result, Outcome):
                self.stats.poison += 1
                log.warning("poison message dead-lettered after %s: %s", type(err).__name__,
                            excerpt_of(entry.item)[:120])
                await self._after_commit([letter], result)
                return
            # Not even a short, clean dead letter could be stored: the database is at fault,
            # not the message. Nothing is acknowledged; the message is tried again.
            self._outage(result)

    async def _try(self, batch: Sequence[Entry]) -> Outcome | Exception:
        """One attempt. A failure is returned, not raised: the writer loop decides what follows
        (wait out an outage, or isolate a poison item), and never stops."""
        try:
            return await self._attempt(batch)
        except Exception as err:  # noqa: BLE001 - the top of the supervised writer loop
            self.stats.failed_attempts += 1
            log.debug("batch of %d failed: %r", len(batch), err)
            return err

    async def _attempt(self, batch: Sequence[Entry]) -> Outcome:
        async with self._lock.turn(urgent=writes_urgent()):
            pending = Counter(self._pending)
            async with self._engine.begin() as connection:
                outcome = await self._writer.write(connection, batch, self._clock(), pending)
            self._pending.subtract(pending)
            self._pending = +self._pending  # drop the zeros
            self._writer.committed(outcome)
        if self.stats.outage is not None:
            log.info("database reachable again; ingestion resumed")
            self.stats.outage = None
        return outcome

    async def _after_commit(self, batch: Sequence[Entry], outcome: Outcome) -> None:
        _call_acks(outcome.acks)
        if self._export is not None and outcome.samples:
            try:
                self._export.offer(outcome.samples)
            except Exception:  # an exporter's bug must not cost the acknowledged batch
                log.exception("telemetry export refused %d samples", len(outcome.samples))
        self._count(batch, outcome)
        self.stats.observer_failures += await self.observers.publish(outcome.published)

    def _count(self, batch: Sequence[Entry], outcome: Outcome) -> None:
        s = self.stats
        s.committed(asyncio.get_running_loop().time(), len(batch),
                    min(e.enqueued for e in batch))
        s.stored += outcome.stored
        s.duplicates += outcome.duplicates
        s.not_deduplicable += outcome.not_deduplicable
        s.gaps += outcome.gaps
        s.dead_letters.update(outcome.letters)
        s.dead_letters_dropped += outcome.dropped
        s.auto_registered += outcome.registered

    def _outage(self, err: Exception) -> None:
        if self.stats.outage is None:  # logged once per outage, not once per retry
            log.warning("database unreachable; holding %d queued items: %s",
                        self._lanes.depth(), type(err).__name__)
        self.stats.outage = type(err).__name__

    async def _reachable(self) -> bool:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_S), self._engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError, TimeoutError):
            return False
        return True

    # -- the offline sweeper task -----------------------------------------------------------

    async def sweep_forever(self) -> None:
        """Mark silent devices offline every `sweep_interval_s`; run it supervised."""
        while True:
            await asyncio.sleep(self._settings.sweep_interval_s)
            try:
                await self.sweep()
            except (SQLAlchemyError, OSError) as err:
                log.warning("offline sweep skipped: %s", type(err).__name__)

    async def sweep(self) -> list[Published]:
        now = self._clock()
        async with self._lock, self._engine.begin() as connection:
            events: list[Published] = list(await sweeper.sweep(connection, now, self.started))
        self.stats.offline_sweeps += 1
        self.stats.observer_failures += await self.observers.publish(events)
        if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
            await self._prune(now - timedelta(hours=self._settings.inbox_keep_hours))
            self._pruned_at = now
        return events

    async def _prune(self, before: datetime) -> None:
        while True:  # one short transaction per chunk, so batches interleave
            async with self._engine.begin() as connection:
                if await sweeper.prune_inbox_chunk(connection, before) < sweeper.PRUNE_CHUNK:
                    return

    # -- health -----------------------------------------------------------------------------

    async def health(self) -> dict[str, Any]:
        """For `HealthBoard.register("ingest", pipeline.health)`."""
        return self.stats.report(self._lanes.depth(), asyncio.get_running_loop().time())


def _queued_at(entry: Entry) -> float:
    return entry.enqueued


_ROUTINE = (Telemetry, StatusReported, Reachability, Rejected)  # a tuple: see _urgent


def _urgent(entry: Entry) -> bool:
    """Events (plate reads, faults, credentials) and command acks: someone waits on them.
    (isinstance with a tuple: a `|` union is built on every call, per message.)"""
    return not isinstance(entry.item, _ROUTINE)


def _poison_letter(item: Item, err: Exception, at: datetime) -> Rejected:
    if isinstance(item, Rejected):
        return Rejected(item.topic, POISON, f"{type(err).__name__}: {item.excerpt}", at, item.key)
    if isinstance(item, Reachability):
        return Rejected("(poller)", POISON, f"{type(err).__name__}: {excerpt_of(item)}", at)
    return Rejected(topic_of(item), POISON,
                    f"{type(err).__name__}: {excerpt_of(item)}", at, item.envelope.key)


def _call_acks(acks: Sequence[Ack]) -> None:
    for ack in acks:
        try:
            ack()
        except Exception:  # the adapter's own problem; the batch is stored either way
            log.exception("acknowledgement callback failed")
