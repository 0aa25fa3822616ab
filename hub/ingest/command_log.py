"""Device commands and their outcomes in `device_commands` (hub.ports.DeviceCommandLog).

Two writers settle a command: the sender, with what the gateway reported, and ingestion,
with the device's own `cmd/ack` (which may reach another worker, or come after a timeout).
The device's word wins: the sender only settles a command still marked "sent", and an ack
settles one marked "sent" or "no_ack".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, insert, or_, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.domain.device_commands import CommandStatus, DeviceCommand
from hub.domain.observations import CommandAcknowledged
from hub.ingest.items import clean
from hub.store.device_tables import device_commands

MAX_ERROR = 200  # device_commands.error
ACKABLE = (CommandStatus.SENT.value, CommandStatus.NO_ACK.value)


class SqlCommandLog:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(self, command: DeviceCommand) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(insert(device_commands).values(
                id=command.id, device_id=command.device_id, action=command.action,
                args=dict(command.args), issued_at=command.issued_at,
                expires_at=command.expires_at, issued_by=command.issued_by,
                cause=command.cause[:200], status=CommandStatus.SENT.value))

    async def settle(self, command_id: str, status: CommandStatus, at: datetime,
                     error: str | None = None) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(device_commands).where(device_commands.c.id == command_id,
                                              device_commands.c.status == CommandStatus.SENT)
                .values(status=status.value,
                        acked_at=at if status in (CommandStatus.ACKED, CommandStatus.FAILED)
                        else None,
                        error=clean(error, MAX_ERROR) if error else None))


async def settle_acks(connection: AsyncConnection,
                      acks: Sequence[tuple[int, CommandAcknowledged]]) -> None:
    """The devices' own answers, in the ingestion batch's transaction. An ack for a command
    of another device, or for one this hub never sent, changes nothing."""
    if not acks:
        return
    # The statuses compared one by one: `in_` makes an "expanding" parameter, which
    # SQLAlchemy refuses for executemany, so a batch holding two acks failed (and was halved
    # until each ack stood alone: hub bench gate spent 5 % of its main thread on that).
    statement = update(device_commands).where(
        device_commands.c.id == bindparam("b_id"),
        device_commands.c.device_id == bindparam("b_device"),
        or_(*(device_commands.c.status == status for status in ACKABLE)))
    await connection.execute(statement, [{
        "b_id": ack.command_id[:36], "b_device": device_id,
        "status": (CommandStatus.ACKED if ack.ok else CommandStatus.FAILED).value,
        "acked_at": ack.envelope.received_at,
        "error": clean(ack.error, MAX_ERROR) if ack.error else None,
    } for device_id, ack in acks])
