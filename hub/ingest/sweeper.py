"""Devices that fell silent go offline after their inactivity timeout; old inbox rows go.

The sweep runs under the pipeline's write lock, so it never races a batch of this process;
its UPDATE also checks that `last_seen` is unchanged, so it never races another worker's.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.domain.device_events import DeviceWentOffline
from hub.store.device_tables import device_state, devices, inbox

PRUNE_CHUNK = 5000


def silent_since(last_seen: datetime | None, online_since: datetime | None,
                 started: datetime) -> datetime:
    """Since when a device counts as silent. Never before this process started: after a
    restart the broker redelivers what queued meanwhile, and a device gets its full timeout
    to be heard again before it is called offline (RELIABILITY Q7)."""
    heard = max((t for t in (last_seen, online_since) if t is not None), default=started)
    return max(heard, started)


def expired(now: datetime, since: datetime, timeout_s: int) -> bool:
    return now - since >= timedelta(seconds=timeout_s)


async def sweep(connection: AsyncConnection, now: datetime,
                started: datetime) -> list[DeviceWentOffline]:
    rows = await connection.execute(
        select(device_state.c.device_id, device_state.c.last_seen, device_state.c.online_since,
               devices.c.timeout_s)
        .join(devices, devices.c.id == device_state.c.device_id)
        .where(device_state.c.online.is_(True)).order_by(device_state.c.device_id))
    events = []
    for row in rows.all():
        if not expired(now, silent_since(row.last_seen, row.online_since, started),
                       row.timeout_s):
            continue
        reason = f"inactive {row.timeout_s}s"
        unchanged = device_state.c.last_seen.is_(None) if row.last_seen is None \
            else device_state.c.last_seen == row.last_seen
        result = await connection.execute(
            update(device_state).where(device_state.c.device_id == row.device_id,
                                       device_state.c.online.is_(True), unchanged)
            .values(online=False, online_since=now, offline_reason=reason))
        if result.rowcount == 1:
            events.append(DeviceWentOffline(device_id=row.device_id, at=now, reason=reason))
    return events


async def prune_inbox_chunk(connection: AsyncConnection, before: datetime) -> int:
    """Forget de-duplication keys older than `before`, one chunk; returns rows deleted."""
    ids = (await connection.scalars(select(inbox.c.id).where(inbox.c.received_at < before)
                                    .order_by(inbox.c.id).limit(PRUNE_CHUNK))).all()
    if not ids:
        return 0
    result = await connection.execute(delete(inbox).where(inbox.c.id.in_(ids)))
    return int(result.rowcount or 0)
