"""The device registry as ingestion sees it: DeviceKey -> device, cached, reloaded on change.

Reloaded every `refresh_s`, when marked stale (a device was registered, approved, disabled)
and, at most once per `miss_refresh_s`, when a message names a device the cache does not know
or does not trust, so an approval takes effect on the device's next message.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.domain.observations import DeviceKey
from hub.domain.registry import Approval
from hub.store.device_tables import devices
from hub.store.tables import sites

MISS_REFRESH_S = 1.0


@dataclass(frozen=True)
class DeviceInfo:
    id: int
    site_id: int
    site: str
    code: str
    kind: str
    building_id: int | None
    approval: Approval
    timeout_s: int
    tags: tuple[str, ...] = ()

    @property
    def key(self) -> DeviceKey:
        return DeviceKey(self.site, self.kind, self.code)

    @property
    def trusted(self) -> bool:
        return self.approval == Approval.ACTIVE


class RegistryCache:
    def __init__(self, refresh_s: float, *, monotonic: Callable[[], float] = time.monotonic,
                 miss_refresh_s: float = MISS_REFRESH_S) -> None:
        self._refresh_s = refresh_s
        self._miss_refresh_s = miss_refresh_s
        self._monotonic = monotonic
        self._by_code: dict[tuple[str, str], DeviceInfo] = {}
        self._by_id: dict[int, DeviceInfo] = {}
        self._site_ids: dict[str, int] = {}
        self._loaded_at: float | None = None

    def mark_stale(self) -> None:
        self._loaded_at = None

    def due(self) -> bool:
        return self._loaded_at is None or \
            self._monotonic() - self._loaded_at >= self._refresh_s

    def may_retry_miss(self) -> bool:
        return self._loaded_at is None or \
            self._monotonic() - self._loaded_at >= self._miss_refresh_s

    async def load(self, connection: AsyncConnection) -> None:
        rows = await connection.execute(
            select(devices.c.id, devices.c.site_id, sites.c.code.label("site"), devices.c.code,
                   devices.c.kind, devices.c.building_id, devices.c.approval,
                   devices.c.timeout_s, devices.c.tags)
            .join(sites, sites.c.id == devices.c.site_id))
        found = [DeviceInfo(r.id, r.site_id, r.site, r.code, r.kind, r.building_id,
                            Approval(r.approval), r.timeout_s, tuple(r.tags or ()))
                 for r in rows]
        site_rows = await connection.execute(select(sites.c.id, sites.c.code))
        self._site_ids = {r.code: r.id for r in site_rows}
        self._by_code = {(d.site, d.code): d for d in found}
        self._by_id = {d.id: d for d in found}
        self._loaded_at = self._monotonic()

    def find(self, key: DeviceKey) -> DeviceInfo | None:
        """The device of the site with this code, whatever kind the message claims."""
        return self._by_code.get((key.site, key.device))

    def get(self, device_id: int) -> DeviceInfo | None:
        return self._by_id.get(device_id)

    def site_id(self, code: str) -> int | None:
        return self._site_ids.get(code)

    @property
    def devices(self) -> Mapping[int, DeviceInfo]:
        return self._by_id
