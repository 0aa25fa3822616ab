"""One plate read at one lane → a decision, stored in one transaction with the session and
the charge it changes and the barrier or display command it sends; the command is
published after the commit.

The caller serialises reads per site (hub.parking.flow), so that occupancy and
anti-passback see every earlier car of the site. A unique key (one present session per
lot and plate, one charge per session) still holds if two hub processes race.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.domain.device_commands import DeviceCommand
from hub.domain.errors import Invalid
from hub.domain.parking import decisions as d
from hub.domain.parking.explain import yuan
from hub.domain.parking.matching import clean_read, match_inside
from hub.domain.parking.plates import normalise_plate
from hub.domain.parking.sessions import (
    ExitWithoutEntry,
    GateDecision,
    ParkingSession,
    SessionState,
    SessionViewer,
    Verdict,
    event_time,
    is_repeat,
    present_key,
)
from hub.domain.parking.standing import (
    FREE_STANDINGS,
    Direction,
    LaneInfo,
    LotInfo,
    PlateStanding,
    Standing,
)
from hub.domain.parking.tariff import PlateColor, Tariff, version_at
from hub.parking import queries
from hub.parking.charges import settle_exit
from hub.parking.commands import GateCommands
from hub.parking.lookups import Lookups
from hub.parking.reading import GateRead
from hub.ports import Clock
from hub.settings import ParkingSettings
from hub.store.turns import urgent_writes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What became of a read: a stored decision, or a repeat merged into an earlier one."""

    verdict: Verdict | None  # None: merged (a repeat), or no lane
    reasons: tuple[str, ...]
    decision_id: int | None = None
    session_id: int | None = None
    commands: tuple[DeviceCommand, ...] = ()
    alert_security: bool = False


@dataclass
class Read:
    """A read once its lane, plate and time are known."""

    source: GateRead
    lane: LaneInfo
    lots: list[LotInfo]
    plate: str | None  # normalised if it could be, as read otherwise
    color: PlateColor | None
    confidence: float | None
    standing: PlateStanding | None
    at: datetime
    reasons: list[str] = field(default_factory=list)
    review: str | None = None  # why the session needs a guard's look
    snapshot_ref: str | None = None

    @property
    def lot(self) -> LotInfo:
        return self.lots[0]


def plate_of(text: str) -> str:
    try:
        return normalise_plate(text)
    except Invalid:
        return clean_read(text)[:16]


def color_of(text: str | None) -> PlateColor | None:
    try:
        return PlateColor(text) if text else None
    except ValueError:
        return None


class Gate:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], lookups: Lookups,
                 commands: GateCommands, settings: ParkingSettings, clock: Clock) -> None:
        self.sessions = sessions
        self.lookups = lookups
        self.commands = commands
        self.settings = settings
        self._clock = clock
        self._window = timedelta(seconds=settings.duplicate_window_s)
        # (lane, plate) -> when last decided: repeats of refused or held reads are merged
        # here; repeats of opened ones also by the sessions they changed.
        self._recent: dict[tuple[int, str], datetime] = {}

    async def prepare(self, source: GateRead, plate: str | None, color: str | None,
                      confidence: float | None, reasons: list[str]) -> Read | None:
        lane = await self.lookups.lane(source.camera_device_id, source.lane)
        if lane is None:
            log.warning("plate read of camera %s at unknown lane %r: ignored",
                        source.camera_device_id, source.lane)
            return None
        lots = await self.lookups.lots(lane.lot_id)
        if not lots:
            log.warning("lane %s names lot %s, which is not registered", lane.code, lane.lot_id)
            return None
        when = event_time(source.ts, source.received_at,
                          timedelta(seconds=self.settings.max_clock_skew_s))
        normal = plate_of(plate) if plate else None
        standing = None if normal is None else \
            await self.lookups.directory.standing(lane.site_id, normal, when.at)
        read = Read(source, lane, lots, normal, color_of(color), confidence, standing, when.at,
                    [*reasons, *when.reasons])
        if when.doubtful:
            read.review = when.reasons[0]
        if confidence is not None and confidence < self.settings.guard_confidence:
            read.review = f"read with confidence {confidence:.2f}: a guard should check it"
            read.reasons.append(read.review)
        return read

    def repeated(self, read: Read) -> bool:
        last = self._recent.get((read.lane.lane_id, read.plate or ""))
        return is_repeat(last, read.at, self._window)

    def _remember(self, read: Read) -> None:
        if len(self._recent) > 10_000:
            horizon = read.at - self._window
            self._recent = {k: v for k, v in self._recent.items() if v >= horizon}
        self._recent[(read.lane.lane_id, read.plate or "")] = read.at

    async def decide(self, read: Read) -> Outcome:
        if read.plate is None:
            return await self._store_hold(read, "no plate could be read: held for a guard")
        if self.repeated(read):
            return Outcome(None, ("a repeat of the read just decided: merged",))
        try:
            async with urgent_writes(), self.sessions() as db, db.begin():  # a barrier waits
                if read.lane.direction is Direction.IN:
                    outcome = await self._entry(db, read)
                else:
                    outcome = await self._exit(db, read)
        except IntegrityError:
            # Another process decided this car at the same moment (its present session or
            # its charge exists): that decision stands.
            log.info("gate read of %s at lane %s raced another decision", read.plate,
                     read.lane.code)
            return Outcome(None, ("decided meanwhile by another worker: merged",))
        if outcome.verdict is not None:
            self._remember(read)
        for command in outcome.commands:
            self.commands.send(command)
        return outcome

    # -- entry ----------------------------------------------------------------------------

    async def _entry(self, db: AsyncSession, read: Read) -> Outcome:
        assert read.plate is not None and read.standing is not None
        inside, exited = await queries.entry_candidates(db, read.lane.site_id, read.lot.lot_id,
                                                        read.plate, read.at)
        if inside is not None and inside.entry_lane_id == read.lane.lane_id \
                and is_repeat(inside.entry_at, read.at, self._window):
            return Outcome(None, ("a repeat of this car's entry: merged",),
                           session_id=inside.id)
        if inside is not None and inside.entry_at is None and inside.exit_at is not None \
                and inside.exit_at >= read.at:
            return await self._late_entry(db, read, inside)  # still at the exit
        if inside is None and exited is not None:
            return await self._late_entry(db, read, exited)
        loads = []
        if read.standing.standing in (Standing.TEMPORARY, *FREE_STANDINGS):
            counts = await queries.temporary_loads(db, [lot.lot_id for lot in read.lots])
            loads = [d.LotLoad(lot, counts.get(lot.lot_id, 0)) for lot in read.lots]
        zone = await self.lookups.zone(db, read.lane.site_id)
        decision = d.decide_entry(read.standing, read.lane, loads, inside, read.color, zone)
        session = None
        if decision.verdict is Verdict.OPEN:
            session = await self._new_session(db, read)
        record = await self._record(db, read, decision.verdict, decision.reasons, session)
        if session is not None:
            session.entry_decision_id = record.id
        commands: tuple[DeviceCommand, ...] = ()
        if decision.verdict is Verdict.OPEN:
            commands = await self._open(db, read.lane, record)
        return self._outcome(record, session, commands, decision.alert_security)

    async def _new_session(self, db: AsyncSession, read: Read) -> ParkingSession:
        assert read.plate is not None and read.standing is not None
        standing = read.standing
        tariff_id = read.lot.tariff_id if standing.standing not in FREE_STANDINGS else None
        version = None
        if tariff_id is not None:
            versions = await self.lookups.tariff_versions(db, tariff_id)
            try:
                version = version_at(versions, read.at).number
            except Invalid:
                read.reasons.append("no tariff version in force at entry: review its fee")
        session = ParkingSession(
            site_id=read.lane.site_id, lot_id=read.lot.lot_id, plate=read.plate,
            standing=standing.standing, state=SessionState.INSIDE, updated_at=read.at,
            entry_at=read.at, entry_lane_id=read.lane.lane_id, vehicle_id=standing.vehicle_id,
            pass_id=standing.pass_id, visitor_pass_id=standing.visitor_pass_id,
            visitor_free_minutes=standing.visitor_free_minutes,
            vehicle_class=standing.vehicle_class.value if standing.vehicle_class else None,
            plate_color=(read.color or standing.plate_color or PlateColor.BLUE).value,
            tariff_id=tariff_id, tariff_version=version,
            present_key=present_key(read.lot.lot_id, read.plate))
        if read.review:
            session.flag(read.review)
        db.add(session)
        await db.flush()
        assert session.id is not None
        for resident_id in sorted(set(standing.resident_ids)):
            db.add(SessionViewer(session.id, resident_id))
        return session

    async def _late_entry(self, db: AsyncSession, read: Read, exited: ParkingSession
                          ) -> Outcome:
        """The entry read of a car whose exit was decided first (events out of order): it
        completes that session for review; it neither opens nor starts a second stay."""
        exited.entry_at, exited.entry_lane_id = read.at, read.lane.lane_id
        exited.flag("its entry read arrived after its exit")
        reasons = (f"entry read of session {exited.id} arrived after its exit: recorded for "
                   "review, no command",)
        record = await self._record(db, read, Verdict.HOLD, reasons, exited)
        exited.entry_decision_id = record.id
        return self._outcome(record, exited, ())

    # -- exit -----------------------------------------------------------------------------

    async def _exit(self, db: AsyncSession, read: Read) -> Outcome:
        assert read.plate is not None
        session = await queries.present_session(db, read.lot.lot_id, read.plate)
        if session is None:
            match = match_inside(read.plate, await queries.present_plates(db, read.lot.lot_id))
            if match.reason:
                read.reasons.append(match.reason)
            if match.plate is not None:
                session = await queries.present_session(db, read.lot.lot_id, match.plate)
                read.review = read.review or match.reason
        if session is None:
            again = await queries.recent_exit(db, read.lot.lot_id, {read.plate},
                                              read.lane.lane_id, read.at, self._window)
            if again is not None:
                return Outcome(None, ("a repeat of this car's exit: merged",),
                               session_id=again.id)
            return await self._exit_without_entry(db, read)
        if session.exit_lane_id == read.lane.lane_id and session.exit_at is not None \
                and is_repeat(session.exit_at, read.at, self._window):
            return Outcome(None, ("a repeat of this car's exit: merged",), session_id=session.id)
        if session.state is SessionState.HELD:
            record = await self._record(db, read, Verdict.HOLD, (
                f"held for a guard since {session.updated_at:%H:%M} (no entry read)",), session)
            return self._outcome(record, session, ())
        return await self._settle(db, read, session)

    async def _settle(self, db: AsyncSession, read: Read, session: ParkingSession) -> Outcome:
        zone = await self.lookups.zone(db, session.site_id)
        tariff = await self._tariff(db, session)
        history = []
        if tariff is not None and tariff.cap is not None and session.entry_at is not None:
            history = await queries.prior_charges(db, session.site_id, session.plate,
                                                  session.entry_at - timedelta(days=2),
                                                  session.entry_at, session.id)
        received = None
        if session.entry_at is not None and read.at < session.entry_at:
            entry = await db.get(GateDecision, session.entry_decision_id or 0)
            received = None if entry is None else (entry.received_at, read.source.received_at)
        fee = d.stay_fee(session, read.at, tariff, zone, history, read.standing, received)
        if received is not None or (session.entry_at is not None and read.at < session.entry_at):
            session.flag("exit timed before entry: camera clocks disagree")
        decision = d.decide_exit(fee, session, read.at, zone)
        if read.review:
            session.flag(read.review)
        session.exit_at, session.exit_lane_id = read.at, read.lane.lane_id
        session.updated_at = read.at
        record = await self._record(db, read, decision.verdict, decision.reasons, session)
        session.exit_decision_id = record.id
        await settle_exit(db, session, fee, decision, read.at)
        return self._outcome(record, session, await self._after_exit(db, read, record,
                                                                      decision))

    async def _after_exit(self, db: AsyncSession, read: Read, record: GateDecision,
                          decision: d.Decision) -> tuple[DeviceCommand, ...]:
        if decision.verdict is Verdict.OPEN:
            return await self._open(db, read.lane, record)
        if decision.verdict is Verdict.AWAIT_PAYMENT:
            return await self._display(db, read.lane, record, decision)
        return ()

    async def _exit_without_entry(self, db: AsyncSession, read: Read) -> Outcome:
        """Never a silent free exit: charge the first period, or hold for a guard."""
        assert read.plate is not None
        standing = read.standing
        policy = ExitWithoutEntry(self.settings.exit_without_entry)
        hold = policy is ExitWithoutEntry.HOLD_FOR_GUARD and not (
            standing is not None and d.free_standing(standing, read.lot.lot_id))
        session = ParkingSession(
            site_id=read.lane.site_id, lot_id=read.lot.lot_id, plate=read.plate,
            standing=standing.standing if standing else Standing.TEMPORARY,
            state=SessionState.HELD if hold else SessionState.INSIDE, updated_at=read.at,
            no_entry=True, tariff_id=read.lot.tariff_id,
            plate_color=(read.color or PlateColor.BLUE).value,
            present_key=present_key(read.lot.lot_id, read.plate))
        if standing is not None:
            session.vehicle_id, session.pass_id = standing.vehicle_id, standing.pass_id
            session.vehicle_class = standing.vehicle_class.value if standing.vehicle_class \
                else None
        session.flag("exit with no entry")
        db.add(session)
        await db.flush()
        read.reasons.append("no entry of this car is recorded")
        if hold:
            session.exit_at, session.exit_lane_id = read.at, read.lane.lane_id
            record = await self._record(db, read, Verdict.HOLD,
                                        ("held for a guard (policy hold_for_guard)",), session)
            session.exit_decision_id = record.id
            return self._outcome(record, session, ())
        return await self._settle(db, read, session)

    async def _tariff(self, db: AsyncSession, session: ParkingSession) -> Tariff | None:
        if session.tariff_id is None:
            return None
        versions = await self.lookups.tariff_versions(db, session.tariff_id)
        if session.tariff_version is not None:
            for version in versions:
                if version.number == session.tariff_version:
                    return version.tariff()
        moment = session.entry_at or session.exit_at or self._clock()
        try:
            return version_at(versions, moment).tariff()
        except Invalid:
            return None

    # -- records and commands -------------------------------------------------------------

    async def _record(self, db: AsyncSession, read: Read, verdict: Verdict,
                      reasons: tuple[str, ...], session: ParkingSession | None) -> GateDecision:
        source = read.source
        record = GateDecision(
            site_id=read.lane.site_id, lot_id=read.lot.lot_id, lane_id=read.lane.lane_id,
            direction=read.lane.direction, verdict=verdict,
            reasons=[*read.reasons, *reasons], at=read.at, received_at=source.received_at,
            plate_read=(source.plate or read.plate or "")[:16] or None, plate=(
                session.plate if session else read.plate),
            confidence=read.confidence, session_id=session.id if session else None,
            snapshot_ref=read.snapshot_ref, camera_device_id=source.camera_device_id,
            seq=source.seq, boot=source.boot[:64])
        db.add(record)
        await db.flush()
        return record

    async def _store_hold(self, read: Read, reason: str) -> Outcome:
        async with urgent_writes(), self.sessions() as db, db.begin():  # a barrier waits
            record = await self._record(db, read, Verdict.HOLD, (reason,), None)
        return self._outcome(record, None, ())

    async def _open(self, db: AsyncSession, lane: LaneInfo, record: GateDecision,
                    by: int | None = None) -> tuple[DeviceCommand, ...]:
        command = await self.commands.stage(db, lane.barrier_device_id, "open", {
            "decision_id": record.id, "session_id": record.session_id},
            f"parking:decision:{record.id}", by)
        return () if command is None else (command,)

    async def _display(self, db: AsyncSession, lane: LaneInfo, record: GateDecision,
                       decision: d.Decision) -> tuple[DeviceCommand, ...]:
        args: dict[str, Any] = {"text": f"{record.plate} 请缴费 {yuan(decision.due)}",
                                "amount": f"{decision.due:.2f}",
                                "session_id": record.session_id}
        command = await self.commands.stage(
            db, lane.display_device_id or lane.barrier_device_id, "display", args,
            f"parking:decision:{record.id}")
        return () if command is None else (command,)

    @staticmethod
    def _outcome(record: GateDecision, session: ParkingSession | None,
                 commands: tuple[DeviceCommand, ...], alert: bool = False) -> Outcome:
        return Outcome(record.verdict, tuple(record.reasons), record.id,
                       session.id if session else None, commands, alert)
