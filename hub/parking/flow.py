"""The gate flow as an ingestion observer: plate reads handed to a bounded queue, then
decided one at a time per site (occupancy and anti-passback stay exact), never on the
ingestion writer's task. The loops' "passed" events, which only annotate an opening already
committed, have a queue and a worker of their own, so that no read waits behind them.

Reads without text, or below `read_confidence`, are read from their snapshot by an injected
reader (hub.devices.plates); without one, a read with no text is held for a guard.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from hub.domain.accounts import Role
from hub.domain.observations import PlateRead, VehiclePassed
from hub.domain.outcomes import Cause, Evidence, Notify
from hub.domain.parking.events import ParkingChargePaid
from hub.domain.parking.sessions import GateDecision, Verdict
from hub.domain.parking.standing import Direction
from hub.ingest.observers import Delivered, Published
from hub.parking.evidence import GateEvidence
from hub.parking.gate import Gate, Outcome, Read
from hub.parking.reading import GateRead, PlateImageReader
from hub.parking.staff import StaffDesk
from hub.ports import Clock
from hub.store.parking_session_tables import parking_gate_decisions
from hub.urgency import Urgency

log = logging.getLogger(__name__)

Handle = Callable[[Any], Awaitable[Any]]
PASS_WINDOW = timedelta(minutes=2)  # a loop's "passed" belongs to an opening this recent


class GateFlow:
    KINDS = (PlateRead, VehiclePassed)

    def __init__(self, gate: Gate, clock: Clock, *, reader: PlateImageReader | None = None,
                 notify: Handle | None = None, queue_size: int = 1000,
                 evidence: GateEvidence | None = None, urgency: Urgency | None = None) -> None:
        self.gate = gate
        self._urgency = urgency or Urgency()  # a barrier waits: before telemetry batches
        self.evidence = evidence  # snapshots and plate crops kept with the decisions
        self._clock = clock
        self._reader = reader
        self._notify = notify
        self._queue_size = queue_size
        self._intake: asyncio.Queue[tuple[str, GateRead | VehiclePassed, int]] = \
            asyncio.Queue(maxsize=queue_size)
        self._sites: dict[str, asyncio.Queue[GateRead]] = {}
        self._passings: asyncio.Queue[tuple[VehiclePassed, int]] = \
            asyncio.Queue(maxsize=queue_size)
        self.locks: dict[int, asyncio.Lock] = {}
        self.staff = StaffDesk(gate, self.locks)
        self.overflow = 0
        self.decided = 0
        self.failed = 0

    # -- intake ---------------------------------------------------------------------------

    async def observe(self, message: Published) -> None:
        """Called on the ingestion writer's task: only hand over."""
        if not isinstance(message, Delivered):
            return
        observation, device = message.observation, message.device
        item: GateRead | VehiclePassed
        if isinstance(observation, PlateRead):
            try:
                direction = Direction(observation.direction)
            except ValueError:
                log.warning("plate read of %s with direction %r: ignored", device.key,
                            observation.direction)
                return
            envelope = observation.envelope
            item = GateRead(device.id, observation.lane, direction, observation.plate,
                            observation.color, observation.confidence, envelope.ts,
                            envelope.received_at, envelope.seq, envelope.boot,
                            observation.image)
        elif isinstance(observation, VehiclePassed):
            item = observation
        else:
            return
        try:
            self._intake.put_nowait((device.site, item, device.id))
        except asyncio.QueueFull:
            self.overflow += 1
            log.error("gate queue full (%d): a read of %s is dropped", self._queue_size,
                      device.key)

    async def run(self) -> None:
        """Supervised job: hands each site's reads to that site's own worker."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._note_passings(), name="parking-gate-passed")
            while True:
                site, item, device_id = await self._intake.get()
                if isinstance(item, VehiclePassed):
                    await self._passings.put((item, device_id))
                    continue
                queue = self._sites.get(site)
                if queue is None:
                    queue = self._sites[site] = asyncio.Queue(maxsize=self._queue_size)
                    group.create_task(self._work(queue), name=f"parking-gate-{site}")
                await queue.put(item)

    async def _work(self, queue: asyncio.Queue[GateRead]) -> None:
        while True:
            read = await queue.get()
            try:
                with self._urgency.working():
                    await self.handle(read)
            except Exception:  # one bad read must not stop the site's gates
                self.failed += 1
                log.exception("gate read of camera %s failed", read.camera_device_id)

    async def _note_passings(self) -> None:
        while True:
            passed, device_id = await self._passings.get()
            try:
                await self.passed(device_id, passed)
            except Exception:  # a lost note on an opening must not stop the others
                log.exception("passed event of device %s failed", device_id)

    # -- deciding -------------------------------------------------------------------------

    async def handle(self, source: GateRead) -> Outcome | None:
        """Decide one read (the workers call it; tests may too). None: unknown lane."""
        plate, color, confidence, reasons = await self._text(source)
        read = await self.gate.prepare(source, plate, color, confidence, reasons)
        if read is None:
            return None
        if self.evidence is not None:  # its snapshot_ref, or why its image was refused
            await self.evidence.attach(read)
        lock = self.locks.setdefault(read.lane.site_id, asyncio.Lock())
        async with lock:
            outcome = await self.gate.decide(read)
        self.decided += 1
        if outcome.alert_security:
            await self._alert(read, outcome)
        return outcome

    async def _text(self, source: GateRead
                    ) -> tuple[str | None, str | None, float | None, list[str]]:
        plate, color, confidence = source.plate, source.color, source.confidence
        weak = not plate or (confidence is not None
                             and confidence < self.gate.settings.read_confidence)
        if not weak:
            return plate, color, confidence, []
        if source.image is None or self._reader is None:
            why = "no image" if source.image is None else "no plate reader in this hub"
            return plate, color, confidence, ([] if plate else [f"no plate text and {why}"])
        try:
            reading = await self._reader.read(source.image)
        except Exception:  # a reader failure is one read for a guard, not the gate down
            log.exception("plate reader failed on a snapshot of camera %s",
                          source.camera_device_id)
            reading = None
        if reading is None:
            return plate, color, confidence, ["the snapshot was read: no plate found"]
        if plate and confidence is not None and reading.confidence <= confidence:
            return plate, color, confidence, []
        return (reading.plate, reading.color or color, reading.confidence,
                [f"read from the snapshot (confidence {reading.confidence:.2f})"])

    async def _alert(self, read: Read, outcome: Outcome) -> None:
        if self._notify is None:
            return
        lane = read.lane
        try:
            await self._notify(Notify(
                site_id=lane.site_id, role=Role.SECURITY, at=read.at,
                title=f"Blacklisted car {read.plate} at gate {lane.code}",
                body="; ".join(outcome.reasons),
                cause=Cause(evidence=(Evidence("plate", read.at, lane.camera_device_id, {
                    "plate": read.plate or "", "lane": lane.code,
                    "decision_id": outcome.decision_id}),))))
        except Exception:  # the refusal stands whether or not the alert went out
            log.exception("security alert for %s at lane %s failed", read.plate, lane.code)

    async def passed(self, device_id: int, passed: VehiclePassed) -> None:
        """The lane's loop saw a car go through: noted on the lane's latest opening. The
        event is the barrier's own, so its lane is found by barrier, not by camera."""
        lane = await self.gate.lookups.barrier_lane(device_id, passed.lane)
        if lane is None:
            return
        at = passed.envelope.ts or passed.envelope.received_at
        async with self.gate.sessions() as db, db.begin():
            latest = (await db.execute(
                select(parking_gate_decisions.c.id).where(
                    parking_gate_decisions.c.lane_id == lane.lane_id,
                    parking_gate_decisions.c.verdict == Verdict.OPEN.value,
                    parking_gate_decisions.c.passed_at.is_(None),
                    parking_gate_decisions.c.at >= at - PASS_WINDOW)
                .order_by(parking_gate_decisions.c.at.desc()).limit(1))).scalar()
            if latest is not None:
                await db.execute(update(parking_gate_decisions)
                                 .where(parking_gate_decisions.c.id == latest)
                                 .values(passed_at=at))

    # -- payments ---------------------------------------------------------------------------

    async def open_after_payment(self, session_id: int) -> bool:
        """Hub payments: a session was paid; open its exit if the car waits there."""
        return await self.staff.open_if_paid(session_id, self._clock())

    async def on_charge_paid(self, event: ParkingChargePaid) -> None:
        await self.open_after_payment(event.session_id)

    async def decisions_of(self, session_id: int) -> list[GateDecision]:
        async with self.gate.sessions() as db:
            return list(await db.scalars(select(GateDecision).where(
                parking_gate_decisions.c.session_id == session_id)))
