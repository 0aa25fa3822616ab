"""What a gate did alone while the hub was away (the `offline_log` event, docs/devices.md §5),
made part of the parking record once the gate reports it.

A car the gate let in or out from its allow-list goes through the gate flow like a read
(hub.parking.gate.Gate.decide), timed by the gate's clock, but with no barrier command: the
barrier already moved. The flow merges it with a read of the same car the hub decided itself
(the camera's event, queued by the broker while the hub was away), so a car is never inside
twice. A car the gate kept out is stored as a refusal for review, unless the hub decided that
car at that lane already; when the hub's own (late) answer was to open, that session is
flagged for review: the car may have left before the barrier rose.

Observed on the ingestion writer's task, which must not wait: logs go to a bounded queue that
a job of their own works through.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.domain.observations import OfflineDecision, OfflineLog
from hub.domain.parking.sessions import GateDecision, ParkingSession, Verdict
from hub.domain.parking.standing import Direction
from hub.ingest.observers import Delivered, Published
from hub.ingest.registry_cache import DeviceInfo
from hub.parking.commands import GateCommands
from hub.parking.flow import GateFlow
from hub.parking.gate import Gate, Outcome, plate_of
from hub.parking.reading import GateRead
from hub.ports import Clock
from hub.store.parking_registry_tables import parking_lanes
from hub.store.parking_session_tables import parking_gate_decisions

log = logging.getLogger(__name__)

QUEUE_SIZE = 100  # offline_log events (each up to 200 decisions) waiting to be recorded
# A decision of the hub for the same car at the same lane this close to the gate's is the
# same passage (the gate's and the camera's clocks may differ by a little).
SAME_PASSAGE = timedelta(seconds=60)


class OfflineLogs:
    KINDS = (OfflineLog,)

    def __init__(self, flow: GateFlow, clock: Clock, *, queue_size: int = QUEUE_SIZE) -> None:
        self._flow = flow
        self._clock = clock
        gate = flow.gate
        # The flow's gate, but sending nothing: what the log reports has happened already.
        self._silent = Gate(gate.sessions, gate.lookups, GateCommands(None, None, clock),
                            gate.settings, clock)
        self._queue: asyncio.Queue[tuple[DeviceInfo, OfflineLog]] = \
            asyncio.Queue(maxsize=queue_size)
        self.overflow = 0
        self.recorded = 0  # decisions stored or merged
        self.unplaced = 0  # no lane of the registry has this gate as its barrier

    async def observe(self, message: Published) -> None:
        """Called on the ingestion writer's task: only hand over."""
        if not isinstance(message, Delivered) or not isinstance(message.observation,
                                                                OfflineLog):
            return
        try:
            self._queue.put_nowait((message.device, message.observation))
        except asyncio.QueueFull:
            self.overflow += 1
            log.error("offline log of %s dropped: %d logs waiting", message.device.key,
                      self._queue.qsize())

    async def run(self) -> None:
        """Supervised job."""
        while True:
            gate, offline = await self._queue.get()
            for entry in offline.entries:
                try:
                    await self.record(gate, entry)
                except Exception:  # one entry must not lose the rest of the log
                    log.exception("offline decision of %s at %s not recorded", entry.plate,
                                  gate.key)
            self._queue.task_done()

    async def drained(self) -> None:
        """Until every log handed over so far is recorded (tests)."""
        await self._queue.join()

    async def record(self, gate: DeviceInfo, entry: OfflineDecision) -> Outcome | None:
        async with self._silent.sessions() as db:
            lane = await _lane_of(db, gate.id, entry)
        if lane is None:
            self.unplaced += 1
            log.warning("offline decision of %s: no %s lane has gate %s as its barrier",
                        entry.plate, entry.direction, gate.key)
            return None
        what = "let it through" if entry.opened else "kept it out"
        reason = (f"gate {gate.code} decided alone while the hub was away: {what} "
                  "(its allow-list)")
        source = GateRead(lane["camera_device_id"], lane["code"], Direction(entry.direction),
                          entry.plate, None, None, entry.at, entry.at, boot="offline")
        read = await self._silent.prepare(source, entry.plate, None, None, [reason])
        if read is None:
            self.unplaced += 1
            return None
        outcome: Outcome | None
        async with self._flow.locks.setdefault(read.lane.site_id, asyncio.Lock()):
            if entry.opened:
                outcome = await self._silent.decide(read)
            else:
                outcome = await self._refused(read.lane.site_id, read.lot.lot_id, lane["id"],
                                              plate_of(entry.plate), entry, reason)
        # Counted once committed, so that whoever waits for the count reads what was stored.
        self.recorded += 1
        return outcome

    async def _refused(self, site_id: int, lot_id: int, lane_id: int, plate: str,
                       entry: OfflineDecision, reason: str) -> Outcome | None:
        async with self._silent.sessions() as db, db.begin():
            known = (await db.execute(select(
                parking_gate_decisions.c.id, parking_gate_decisions.c.verdict,
                parking_gate_decisions.c.session_id).where(
                parking_gate_decisions.c.lane_id == lane_id,
                parking_gate_decisions.c.plate == plate,
                parking_gate_decisions.c.at.between(entry.at - SAME_PASSAGE,
                                                    entry.at + SAME_PASSAGE)).limit(1))).first()
            if known is not None:
                await _doubt_late_opening(db, known.verdict, known.session_id, reason)
                return Outcome(None, ("the hub decided this car itself: merged",), known.id)
            record = GateDecision(
                site_id=site_id, lot_id=lot_id, lane_id=lane_id,
                direction=Direction(entry.direction), verdict=Verdict.REFUSE,
                reasons=[reason, "for review: nothing was recorded of this car otherwise"],
                at=entry.at, received_at=self._clock(), plate_read=entry.plate[:16],
                plate=plate, boot="offline")
            db.add(record)
            await db.flush()
        return Outcome(Verdict.REFUSE, tuple(record.reasons), record.id)


async def _doubt_late_opening(db: AsyncSession, verdict: Verdict, session_id: int | None,
                              reason: str) -> None:
    """The hub opened for a car its gate had kept out: the hub's answer came late (the
    camera's read waited in the broker), and the car may have gone meanwhile. Its session
    is flagged for a guard's look rather than trusted or closed."""
    if verdict is not Verdict.OPEN or session_id is None:
        return
    session = await db.get(ParkingSession, session_id)
    if session is not None:
        session.flag(f"{reason}; the hub opened later: check the car came in")


async def _lane_of(db: AsyncSession, gate_id: int, entry: OfflineDecision
                   ) -> dict[str, Any] | None:
    """The lane of this direction whose barrier is this gate (by the log's lane code when
    the gate has several)."""
    rows = (await db.execute(select(
        parking_lanes.c.id, parking_lanes.c.code, parking_lanes.c.camera_device_id).where(
            parking_lanes.c.barrier_device_id == gate_id,
            parking_lanes.c.direction == Direction(entry.direction)))).mappings().all()
    if not rows:
        return None
    named = [row for row in rows if row["code"] == entry.lane]
    return dict((named or rows)[0])
