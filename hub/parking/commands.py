"""Barrier and display commands the gate flow issues itself (not by a staff actor).

The command's row is written in the decision's own transaction (no extra round trip before
the publish); the publish and the wait for the device's ack run in a task of their own, so
that the next car's decision never waits for this barrier's ack.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.domain.device_commands import DeviceCommand
from hub.domain.observations import DeviceKey
from hub.ports import Clock, DeviceCommandLog, DeviceGateway
from hub.store.device_tables import device_commands, devices
from hub.store.tables import sites

log = logging.getLogger(__name__)

COMMAND_LIFETIME = timedelta(seconds=15)  # a barrier opened later than that opens for nobody
MAX_IN_FLIGHT = 1000


class DeviceKeys:
    """Device id → its topic key, read once per device (devices do not move)."""

    def __init__(self) -> None:
        self._keys: dict[int, DeviceKey] = {}

    async def key(self, session: AsyncSession, device_id: int) -> DeviceKey | None:
        found = self._keys.get(device_id)
        if found is None:
            row = (await session.execute(
                select(sites.c.code, devices.c.kind, devices.c.code)
                .join(sites, sites.c.id == devices.c.site_id)
                .where(devices.c.id == device_id))).first()
            if row is None:
                return None
            found = self._keys[device_id] = DeviceKey(row[0], row[1], row[2])
        return found


class GateCommands:
    def __init__(self, gateway: DeviceGateway | None, command_log: DeviceCommandLog | None,
                 clock: Clock) -> None:
        self._gateway = gateway
        self._log = command_log
        self._clock = clock
        self.keys = DeviceKeys()
        self._in_flight: set[asyncio.Task[None]] = set()
        self.sent = 0
        self.dropped = 0

    async def stage(self, session: AsyncSession, device_id: int | None, action: str,
                    args: Mapping[str, Any], cause: str, by: int | None = None
                    ) -> DeviceCommand | None:
        """The command, its row added to `session`'s transaction. None: no such device, or
        no gateway in this process (the decision is stored all the same)."""
        if device_id is None or self._gateway is None:
            return None
        key = await self.keys.key(session, device_id)
        if key is None:
            log.warning("gate command %s: device %s is not registered", action, device_id)
            return None
        now = self._clock()
        command = DeviceCommand(id=str(uuid.uuid4()), device_id=device_id, key=key,
                                action=action, issued_at=now, expires_at=now + COMMAND_LIFETIME,
                                args=dict(args), cause=cause[:200], issued_by=by)
        await session.execute(insert(device_commands).values(
            id=command.id, device_id=device_id, action=action, args=dict(args),
            issued_at=now, expires_at=command.expires_at, issued_by=by, cause=command.cause,
            status="sent"))
        return command

    def send(self, command: DeviceCommand) -> None:
        """After the commit: publish without waiting for the ack."""
        if len(self._in_flight) >= MAX_IN_FLIGHT:
            self.dropped += 1
            log.error("gate command %s to %s dropped: %d in flight", command.action,
                      command.key, len(self._in_flight))
            return
        task = asyncio.create_task(self._send(command), name=f"gate-cmd-{command.id}")
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _send(self, command: DeviceCommand) -> None:
        assert self._gateway is not None
        try:
            status = await self._gateway.send(command)
            self.sent += 1
            if self._log is not None:
                await self._log.settle(command.id, status, self._clock())
        except Exception:  # a task of its own: nobody else would hear of it
            log.exception("gate command %s %s to %s failed", command.id, command.action,
                          command.key)

    async def drain(self) -> None:
        """Wait for the commands in flight (tests, shutdown)."""
        while self._in_flight:
            await asyncio.gather(*list(self._in_flight), return_exceptions=True)
