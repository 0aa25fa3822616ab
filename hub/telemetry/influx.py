"""A copy of stored telemetry for InfluxDB v2 (hub.ports.TelemetryExport).

`offer` only appends to a bounded buffer: ingestion never waits for InfluxDB and memory never
grows past `buffer_max` samples; when the buffer is full the oldest sample goes, counted.
`run` (supervised, one per process) sends batches of `batch_size` as soon as that many wait,
and whatever waits every `flush_interval_s`; a failed batch stays at the head of the buffer
and is tried again after a capped, jittered backoff, so an outage costs only what overflows.

influxdb-client's synchronous WriteApi runs in a worker thread rather than its async client:
the async one needs aiohttp, which nothing else here uses, and its batching WriteApi keeps an
unbounded queue of its own and retries behind our back. Here the client only makes the HTTP
call; batching, retries and dropping stay ours, where /health can count them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Protocol

from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision
from influxdb_client.rest import ApiException
from urllib3.exceptions import HTTPError

from hub.devices.backoff import Backoff
from hub.domain.observations import DeviceKey, Sample
from hub.health import HealthBoard, Status
from hub.settings import InfluxSettings
from hub.telemetry.lines import to_lines

log = logging.getLogger(__name__)

DeviceNames = Callable[[Collection[int]], Awaitable[Mapping[int, DeviceKey]]]
# Statuses that say the data itself is refused (bad line, type conflict, too large): sending
# it again cannot help. Anything else (down, 5xx, 429, a wrong token) may pass later.
REFUSED = frozenset({400, 413, 422})
NAMES_CACHED = 100_000


class WriteFailed(Exception):
    """The server could not be reached or asked to be tried later."""


class WriteRefused(Exception):
    """The server read the batch and refused it."""


class Writer(Protocol):
    """Sends lines, blocking; raises WriteFailed or WriteRefused."""

    def write(self, lines: list[str]) -> None: ...
    def close(self) -> None: ...


class InfluxWriter:
    def __init__(self, settings: InfluxSettings) -> None:
        self._bucket, self._org = settings.bucket, settings.org
        self._client = InfluxDBClient(url=settings.url, org=settings.org,
                                      token=settings.token.get_secret_value(),
                                      timeout=int(settings.timeout_s * 1000))
        self._api = self._client.write_api(write_options=SYNCHRONOUS)

    def write(self, lines: list[str]) -> None:
        try:
            # WritePrecision.US is a plain str in the library, typed as its class.
            self._api.write(bucket=self._bucket, org=self._org, record="\n".join(lines),
                            write_precision=WritePrecision.US)  # type: ignore[arg-type]
        except ApiException as err:
            reason = f"HTTP {err.status} {err.reason}"
            raise (WriteRefused if err.status in REFUSED else WriteFailed)(reason) from err
        except HTTPError as err:  # urllib3: refused, reset, timed out
            raise WriteFailed(type(err).__name__) from err

    def close(self) -> None:
        self._client.close()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class ExportStats:
    """offered = sent + dropped + rejected + skipped + buffered, at any quiet moment."""

    offered: int
    sent: int
    dropped: int  # pushed out of a full buffer
    rejected: int  # refused by the server
    skipped: int  # no device name, or not a finite number
    buffered: int
    failures: int  # failed attempts, each followed by a retry
    last_error: str


class InfluxExport:
    def __init__(self, settings: InfluxSettings, names: DeviceNames, health: HealthBoard, *,
                 writer: Callable[[], Writer] | None = None, backoff: Backoff | None = None,
                 component: str = "telemetry.influx") -> None:
        self._settings, self._names, self._health = settings, names, health
        self._make_writer = writer or (lambda: InfluxWriter(settings))
        self._backoff = backoff or Backoff(base=0.5, cap=30.0)
        self.component = component
        self._buffer: deque[tuple[int, Sample]] = deque(maxlen=settings.buffer_max)
        self._wake = asyncio.Event()
        self._known: dict[int, DeviceKey] = {}
        self._seq = 0  # numbers offered samples, so a batch in flight can be found again
        self._in_flight_upto = -1
        self._lost_in_flight = 0
        self._sent = self._dropped = self._rejected = self._skipped = self._failures = 0
        self._last_error = ""
        self._failing = False

    def offer(self, samples: Sequence[Sample]) -> None:
        """Never blocks and never raises. Call it from the event loop's thread."""
        for sample in samples:
            if len(self._buffer) == self._buffer.maxlen:
                if self._buffer[0][0] <= self._in_flight_upto:
                    self._lost_in_flight += 1  # dropped, unless its batch gets through
                else:
                    self._dropped += 1
            self._seq += 1
            self._buffer.append((self._seq, sample))
        if len(self._buffer) >= self._settings.batch_size:
            self._wake.set()

    def stats(self) -> ExportStats:
        return ExportStats(self._seq, self._sent, self._dropped + self._lost_in_flight,
                           self._rejected, self._skipped, len(self._buffer), self._failures,
                           self._last_error)

    async def run(self) -> None:
        """The supervised job: flush forever. The buffer outlives a restart of this."""
        writer = self._make_writer()
        try:
            while True:
                await self._wait_for_work()
                while self._buffer:
                    await self._send_head(writer)
                    self._beat()  # also between batches, so a long catch-up shows progress
                self._beat()
        finally:
            writer.close()

    async def _wait_for_work(self) -> None:
        if len(self._buffer) >= self._settings.batch_size:
            return
        self._wake.clear()
        with contextlib.suppress(TimeoutError):  # the interval passed: flush what waits
            async with asyncio.timeout(self._settings.flush_interval_s):
                await self._wake.wait()

    async def _send_head(self, writer: Writer) -> None:
        """Send the oldest batch; on failure wait and try again until it is sent or refused."""
        while batch := list(islice(self._buffer, self._settings.batch_size)):
            samples = [sample for _, sample in batch]
            keys = await self._keys({s.device_id for s in samples})
            self._in_flight_upto = batch[-1][0]
            try:
                skipped = await asyncio.to_thread(_write, writer, samples, keys)
            except WriteFailed as err:
                self._dropped += self._lost_in_flight
                self._note_failure(str(err))
                await asyncio.sleep(self._backoff.next())
                continue
            except WriteRefused as err:
                self._rejected += len(batch)
                log.warning("InfluxDB refused %s samples: %s", len(batch), err)
            else:
                self._sent += len(batch) - skipped
                self._skipped += skipped
                self._recovered()
            finally:
                self._lost_in_flight, self._in_flight_upto = 0, -1
            self._forget(batch[-1][0])
            return

    async def _keys(self, ids: set[int]) -> dict[int, DeviceKey]:
        missing = ids - self._known.keys()
        if missing:
            if len(self._known) > NAMES_CACHED:
                self._known.clear()
            self._known.update(await self._names(missing))
        return {i: self._known[i] for i in ids if i in self._known}

    def _forget(self, upto: int) -> None:
        while self._buffer and self._buffer[0][0] <= upto:
            self._buffer.popleft()

    def _note_failure(self, error: str) -> None:
        if not self._failing:  # an outage is logged once, not once per attempt
            log.warning("InfluxDB export failing (%s); buffering up to %s samples",
                        error, self._settings.buffer_max)
        self._failing = True
        self._failures += 1
        self._last_error = error
        self._beat()

    def _recovered(self) -> None:
        if self._failing:
            log.info("InfluxDB export recovered; %s failed attempts so far", self._failures)
        self._failing = False
        self._backoff.reset()

    def _beat(self) -> None:
        s = self.stats()
        detail = (f"buffered={s.buffered} sent={s.sent} dropped={s.dropped} "
                  f"rejected={s.rejected} skipped={s.skipped} failures={s.failures}")
        if s.last_error:
            detail += f" last_error={s.last_error}"
        status: Status = "degraded" if self._failing else "ok"
        self._health.beat(self.component, status, detail)


def _write(writer: Writer, samples: list[Sample], keys: Mapping[int, DeviceKey]) -> int:
    """In the worker thread: format (CPU) and send (IO) away from the event loop."""
    lines, skipped = to_lines(samples, keys)
    if lines:
        writer.write(lines)
    return skipped


class NoExport:
    """What ingestion gets when no InfluxDB is configured."""

    def offer(self, samples: Sequence[Sample]) -> None:
        return None
