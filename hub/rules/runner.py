"""The rules worker: events from ingestion's observers into a bounded queue, evaluated on its
own task, outcomes sent through the bus and recorded; state saved as it changes.

A failing outcome is retried with capped backoff while other events keep flowing, then
dead-lettered (kept in rule_outcomes, counted, shown in /health): RELIABILITY R5.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.exc import SQLAlchemyError

from hub.ingest.observers import Published
from hub.ingest.registry_cache import DeviceInfo
from hub.ports import Clock
from hub.rules.actions import Fired
from hub.rules.dispatch import Dispatcher, Handle
from hub.rules.engine import RuleEngine
from hub.rules.events import RuleEvent, to_line
from hub.rules.intake import Lookup, device_ref, to_event
from hub.rules.loader import RuleError, RuleSet, load_dir
from hub.rules.queue import RulesQueue
from hub.rules.state import EngineState
from hub.rules.store import OutcomeRecord, SqlRuleStore
from hub.settings import RulesSettings
from hub.store.turns import urgent_writes
from hub.urgency import Urgency

log = logging.getLogger(__name__)


# Faults and device events are refused only by a queue this many times its `queue_size`.
URGENT_FACTOR = 10


MAX_SENDING = 16  # devices whose outcomes are sent at once

@dataclass
class RulesStats:
    received: int = 0
    irrelevant: int = 0  # telemetry no rule could use: not queued
    overflow: int = 0  # telemetry the full queue could not take (counted, never silent)
    urgent_overflow: int = 0  # other events refused by a queue ten times over its size
    processed: int = 0
    outcomes: int = 0
    done: int = 0
    skipped: int = 0
    refused: int = 0
    retried: int = 0
    dead_letters: int = 0
    reloads: int = 0
    last_error: str = ""


@dataclass(order=True)
class _Retry:
    due: float
    seq: int
    fired: Fired = field(compare=False)
    attempts: int = field(compare=False)


class RulesRunner:
    def __init__(self, rules: RuleSet, store: SqlRuleStore, handle: Handle, *,
                 settings: RulesSettings | None = None, directory: Path | None = None,
                 lookup: Lookup = lambda _id: None,
                 devices: Callable[[], Iterable[DeviceInfo]] = tuple,
                 clock: Clock, monotonic: Callable[[], float] = time.monotonic,
                 urgency: Urgency | None = None) -> None:
        self.settings = settings or RulesSettings()
        self._urgency = urgency or Urgency()  # device events go before telemetry batches
        self.directory = directory
        self.engine = RuleEngine(rules)
        self.state = EngineState()
        self.stats = RulesStats()
        self._store, self._dispatcher = store, Dispatcher(handle)
        self._lookup, self._devices = lookup, devices
        self._clock, self._monotonic = clock, monotonic
        # Device events ahead of telemetry (hub.rules.queue); `offer` bounds it, by kind.
        self._queue = RulesQueue()
        self._retries: list[_Retry] = []
        self._records: list[OutcomeRecord] = []
        self._retry_seq = 0
        self._saved_at = monotonic()
        self._known_devices: tuple[Any, ...] = ()
        self._recorder: TextIO | None = None
        self.loaded = False
        self._saving = asyncio.Lock()
        # Outcomes are sent per device in order, devices side by side (hub bench fault: one
        # at a time, each work order waited for every other device's before it).
        self._sending: dict[int | None, asyncio.Task[None]] = {}  # device -> its last send
        self._in_flight: set[asyncio.Task[None]] = set()

    @property
    def rules(self) -> RuleSet:
        return self.engine.rules

    # -- intake (called on ingestion's writer task: never waits) --

    async def observe(self, message: Published) -> None:
        event = to_event(message, self._lookup)
        if event is None:
            return
        if not self.engine.wants(event):
            self.stats.irrelevant += 1
            return
        self.offer(event)

    def offer(self, event: RuleEvent) -> None:
        """Queued: device events ahead of telemetry, each device's own order kept
        (hub.rules.queue). Past `queue_size`, telemetry is dropped (counted): under
        overload a reading is worth less than the evaluation of what is queued. Faults,
        offline/online, gate and door events are never dropped for telemetry's sake (a trapped
        passenger must reach the rules); only a queue ten times over its size refuses them,
        loudly, to bound memory."""
        self.stats.received += 1
        size = len(self._queue)
        if event.kind == "telemetry" and size >= self.settings.queue_size:
            self.stats.overflow += 1
            if self.stats.overflow & (self.stats.overflow - 1) == 0:  # 1, 2, 4, 8 ...
                log.warning("rules: queue full, %d telemetry events not evaluated so far",
                            self.stats.overflow)
            return
        if size >= URGENT_FACTOR * self.settings.queue_size:
            self.stats.urgent_overflow += 1
            log.error("rules: queue %d deep: %s event of device %s not evaluated (%d so far)",
                      size, event.kind, event.device.code if event.device else "-",
                      self.stats.urgent_overflow)
            return
        self._queue.put(event)

    # -- evaluation (the worker's own task) --

    async def start(self) -> None:
        """Load the saved state: `for` timers, count windows, modes, schedules fired."""
        self.state = EngineState.from_rows(await self._store.load_state())
        self.engine.adopt(self.state)
        self.loaded = True

    async def process(self, event: RuleEvent) -> list[OutcomeRecord]:
        """Evaluate one event and send what it caused; failures wait for their retry."""
        return await self._send_all(self._feed(event))

    def _feed(self, event: RuleEvent) -> list[Fired]:
        self._record_event(event)
        fired = self.engine.feed(event, self.state)
        self.stats.processed += 1
        return fired

    async def _send_all(self, fired: list[Fired]) -> list[OutcomeRecord]:
        finished = []
        for outcome in fired:
            self.stats.outcomes += 1
            record = await self._attempt(outcome, 1)
            if record is not None:
                finished.append(record)
        if fired:
            await self.save()
        return finished

    async def retry_due(self) -> list[OutcomeRecord]:
        now, finished = self._monotonic(), []
        while self._retries and self._retries[0].due <= now:
            retry = self._retries.pop(0)
            self.stats.retried += 1
            record = await self._attempt(retry.fired, retry.attempts + 1)
            if record is not None:
                finished.append(record)
        return finished

    async def flush(self, *, force: bool = False) -> None:
        """Write the finished outcomes, and the state when due (or `force`)."""
        if self._records:
            records, self._records = self._records, []
            try:
                await self._store.record(records)
            except (SQLAlchemyError, OSError) as err:
                self._records = records[-self.settings.queue_size:] + self._records
                self.stats.last_error = f"recording outcomes: {err!r}"[:300]
                log.warning("rules: outcomes not recorded yet: %r", err)
        if force or self._monotonic() - self._saved_at >= self.settings.save_interval_s:
            await self.save()

    async def save(self) -> None:
        # One save at a time, each taking the changes when its turn comes: two in flight
        # could write a key's older value after its newer one.
        async with self._saving:
            changed, removed = self.state.take_changes()
            self._saved_at = self._monotonic()
            try:
                await self._store.save_state(changed, removed, self._clock())
            except (SQLAlchemyError, OSError) as err:
                self.state.dirty |= set(changed)
                self.state.removed |= removed - self.state.dirty
                self.stats.last_error = f"saving state: {err!r}"[:300]
                log.warning("rules: state not saved yet: %r", err)

    async def _attempt(self, fired: Fired, attempts: int) -> OutcomeRecord | None:
        with urgent_writes():  # an order someone is trapped behind goes before telemetry
            result = await self._dispatcher.send(fired)
        if result.status == "failed" and attempts < self.settings.max_attempts:
            delay = min(self.settings.retry_cap_s,
                        self.settings.retry_base_s * 2 ** (attempts - 1))
            self._retry_seq += 1
            bisect.insort(self._retries, _Retry(self._monotonic() + delay, self._retry_seq,
                                                fired, attempts))
            return None
        status = "dead_letter" if result.status == "failed" else result.status
        if status == "dead_letter":
            log.error("rules: %s of rule %s dead-lettered after %d attempts: %s",
                      fired.command_kind, fired.rule_id, attempts, result.detail)
        self.stats.dead_letters += status == "dead_letter"
        self.stats.done += status == "done"
        self.stats.skipped += status == "skipped"
        self.stats.refused += status == "refused"
        record = OutcomeRecord(fired, status, attempts, self._clock(),
                               error=None if status == "done" else result.detail,
                               result=result.detail if status == "done" else None)
        self._records.append(record)
        return record

    def _record_event(self, event: RuleEvent) -> None:
        if not self.settings.record_file:
            return
        if self._recorder is None:
            self._recorder = open(self.settings.record_file, "a", encoding="utf-8")  # noqa: SIM115
        self._recorder.write(to_line(event) + "\n")
        self._recorder.flush()

    # -- long-running jobs --

    async def run(self) -> None:
        if not self.loaded:
            await self.start()
        loop = asyncio.get_running_loop()
        hup = _on_sighup(loop, self.reload_logged)
        try:
            while True:
                event = await self._queue.get(self._wait_s())
                if event is not None:
                    fired = self._feed(event)  # evaluated in queue order, here
                    if fired:
                        await self._send_in_order(event, fired)
                    else:
                        self._queue.task_done()
                await self.retry_due()
                await self.flush()
        finally:
            for task in self._in_flight:
                task.cancel()
            await asyncio.gather(*self._in_flight, return_exceptions=True)
            if hup:
                loop.remove_signal_handler(signal.SIGHUP)
            await self.flush(force=True)
            if self._recorder is not None:
                self._recorder.close()
                self._recorder = None

    async def _send_in_order(self, event: RuleEvent, fired: list[Fired]) -> None:
        """Send `fired` after what this device's earlier events fired, beside other devices'
        sends; at most MAX_SENDING at once (the worker waits for room)."""
        while len(self._in_flight) >= MAX_SENDING:
            await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
        device = event.device.id if event.device is not None else None
        task = asyncio.create_task(self._send_after(self._sending.get(device), fired),
                                   name=f"rules-send-{device}")
        self._sending[device] = task
        self._in_flight.add(task)
        task.add_done_callback(partial(self._sent, device))

    async def _send_after(self, before: asyncio.Task[None] | None, fired: list[Fired]) -> None:
        try:
            if before is not None:
                await asyncio.wait({before})  # its failure was its own, and logged
            with self._urgency.working():  # before the telemetry batches
                await self._send_all(fired)
        except Exception:  # a task of its own: nobody else would hear of it
            log.exception("rules: sending %d outcomes failed", len(fired))
        finally:
            self._queue.task_done()

    def _sent(self, device: int | None, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        if self._sending.get(device) is task:
            del self._sending[device]

    async def drained(self) -> None:
        """Until every event queued so far is evaluated (for tests and orderly stops)."""
        await self._queue.join()

    async def tick_forever(self) -> None:
        """A tick every `tick_s` (schedules, `for` timers of quiet devices), with the device
        list first whenever it changed (schedule rules act on devices that sent nothing)."""
        while True:
            self.tick(self._clock())
            await asyncio.sleep(self.settings.tick_s)

    def tick(self, at: datetime) -> None:
        known = tuple(sorted((device_ref(d) for d in self._devices() if d.trusted),
                             key=lambda d: d.id))
        if known != self._known_devices:
            self._known_devices = known
            self.offer(RuleEvent("devices", at, devices=known))
        self.offer(RuleEvent("tick", at))

    def _wait_s(self) -> float:
        until_save = self.settings.save_interval_s - (self._monotonic() - self._saved_at)
        waits = [max(0.0, until_save)]
        if self._retries:
            waits.append(max(0.0, self._retries[0].due - self._monotonic()))
        return max(0.01, min(waits))

    # -- reload --

    def reload(self, rules: RuleSet | None = None) -> RuleSet:
        """Swap in `rules` (or the folder's, read again); raises RuleError and keeps the
        running set when they are bad. The state stays: timers of rules kept run on."""
        if rules is None:
            if self.directory is None:
                raise RuleError(["this hub was started without a rules folder"])
            rules = load_dir(self.directory)
        self.engine = RuleEngine(rules)
        self.engine.adopt(self.state)
        self.stats.reloads += 1
        log.info("rules: %d rules loaded", len(rules.rules))
        return rules

    def reload_logged(self) -> None:
        try:
            self.reload()
        except RuleError as err:
            log.error("rules: reload refused, the running rules stay:\n%s", err)

    async def health(self) -> dict[str, Any]:
        s = self.stats
        status = "degraded" if s.dead_letters or s.overflow or s.urgent_overflow else "ok"
        return {"status": status,
                "detail": f"{len(self.rules.rules)} rules, queue {len(self._queue)}, "
                          f"{s.dead_letters} dead-lettered, {s.overflow} telemetry and "
                          f"{s.urgent_overflow} other events overflowed",
                "rules": len(self.rules.rules), "queue": len(self._queue),
                "retrying": len(self._retries), "processed": s.processed,
                "outcomes": s.outcomes, "done": s.done, "skipped": s.skipped,
                "refused": s.refused, "dead_letters": s.dead_letters,
                "overflow": s.overflow, "urgent_overflow": s.urgent_overflow,
                "irrelevant": s.irrelevant, "reloads": s.reloads, "last_error": s.last_error}


def _on_sighup(loop: asyncio.AbstractEventLoop, reload: Callable[[], None]) -> bool:
    """SIGHUP reloads the rules; not where signals cannot be had (a thread, Windows)."""
    try:
        loop.add_signal_handler(signal.SIGHUP, reload)
    except (NotImplementedError, RuntimeError, ValueError, AttributeError):
        return False
    return True
