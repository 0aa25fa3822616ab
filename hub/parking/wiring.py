"""Builds the gate flow for the composition root (hub.bootstrap), from the registry's SQL
directory, the device gateway and the bus."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.domain.parking.events import ParkingChargePaid
from hub.domain.parking.standing import ParkingDirectory
from hub.parking.commands import GateCommands
from hub.parking.evidence import GateEvidence
from hub.parking.flow import GateFlow, Handle
from hub.parking.gate import Gate
from hub.parking.lookups import LaneById, Lookups
from hub.parking.reading import PlateImageReader
from hub.ports import Clock, DeviceCommandLog, DeviceGateway
from hub.settings import Settings
from hub.store.access_visitors import SqlVisitorVehicles
from hub.store.parking_directory import SqlParkingDirectory
from hub.urgency import Urgency


def sql_lane_by_id(sessions: async_sessionmaker[AsyncSession]) -> LaneById:
    """A lane by id (a guard's manual open of a lane no read has passed yet)."""
    return SqlParkingDirectory(sessions).lane_by_id


def sql_directory(sessions: async_sessionmaker[AsyncSession]) -> ParkingDirectory:
    """The registry's directory, with access control's visitor passes (a plate a pass names
    is a VISITOR) on the sessions' own engine."""
    engine = sessions.kw.get("bind")
    visitors = SqlVisitorVehicles(engine) if isinstance(engine, AsyncEngine) else None
    return SqlParkingDirectory(sessions, visitors)


def build_gate_flow(settings: Settings, sessions: async_sessionmaker[AsyncSession],
                    gateway: DeviceGateway | None, command_log: DeviceCommandLog | None,
                    clock: Clock, *, notify: Handle | None = None,
                    directory: ParkingDirectory | None = None,
                    reader: PlateImageReader | None = None,
                    evidence: GateEvidence | None = None,
                    urgency: Urgency | None = None) -> GateFlow:
    lookups = Lookups(directory or sql_directory(sessions), sessions,
                      lane_by_id=sql_lane_by_id(sessions))
    gate = Gate(sessions, lookups, GateCommands(gateway, command_log, clock), settings.parking,
                clock)
    return GateFlow(gate, clock, reader=reader, notify=notify,
                    queue_size=settings.parking.queue_size, evidence=evidence,
                    urgency=urgency)


async def open_exit_when_paid(event: ParkingChargePaid, uow: object,
                              parking_gate: GateFlow | None = None) -> None:
    """Event handler: a paid session's car waiting at an exit is let out."""
    if parking_gate is not None:
        await parking_gate.on_charge_paid(event)
