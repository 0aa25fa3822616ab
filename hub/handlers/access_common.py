"""What the access handlers share: their configuration (the key every code is derived from),
where a resident lives on a day, and sending `unlock` to a door controller."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hub.domain.device_commands import CommandStatus, DeviceCommand
from hub.domain.observations import DeviceKey
from hub.domain.property import Site, Unit
from hub.domain.residents import Residency
from hub.ports import DeviceCommandLog, DeviceGateway, UnitOfWork
from hub.settings import Settings

UNLOCK_LIFETIME = timedelta(seconds=10)  # someone is waiting at the door: now or never


@dataclass(frozen=True)
class AccessConfig:
    secret: bytes = b""  # the key every card fingerprint and QR code is derived from
    qr_step_s: int = 60
    visitor_approval_default: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> AccessConfig:
        """The key is derived from the hub's JWT secret under a label of its own: one secret
        to keep, and a token signature can never be taken for a door code or the reverse."""
        jwt = settings.security.jwt_secret.get_secret_value().encode()
        return cls(hmac.new(jwt, b"estate-hub access codes v1", hashlib.sha256).digest(),
                   settings.access.qr_step_s, settings.access.visitor_approval_default)


async def site_day(uow: UnitOfWork, site_id: int, at: datetime) -> datetime:
    """`at` on the site's clock (residencies are dated in local days)."""
    site = await uow.get(Site, site_id)
    return at.astimezone(ZoneInfo(site.timezone if site is not None else "UTC"))


async def homes_of(uow: UnitOfWork, resident_id: int, site_id: int,
                   at: datetime) -> frozenset[int]:
    """The buildings of the site the resident lives in on the site's day of `at`."""
    day = (await site_day(uow, site_id, at)).date()
    homes = set()
    for residency in await uow.find(Residency, resident_id=resident_id):
        if residency.active_on(day):
            unit = await uow.get(Unit, residency.unit_id)
            if unit is not None and unit.site_id == site_id:
                homes.add(unit.building_id)
    return frozenset(homes)


def unlock_command(device_id: int, key: DeviceKey, at: datetime, cause: str,
                   issued_by: int | None = None) -> DeviceCommand:
    return DeviceCommand(id=str(uuid.uuid4()), device_id=device_id, key=key, action="unlock",
                         issued_at=at, expires_at=at + UNLOCK_LIFETIME, cause=cause,
                         issued_by=issued_by)


async def send_unlock(command: DeviceCommand, gateway: DeviceGateway,
                      command_log: DeviceCommandLog, at: datetime) -> CommandStatus:
    """Kept before it goes out, like every device command (hub.handlers.devices)."""
    await command_log.record(command)
    status = await gateway.send(command)
    await command_log.settle(command.id, status, at)
    return status
