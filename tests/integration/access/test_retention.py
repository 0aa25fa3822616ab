"""The access log is location data: rows older than the kept days are deleted by the step,
in chunks, and nothing younger is touched."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from hub.bootstrap import Hub
from hub.domain.access.model import AccessLogEntry, Presented
from hub.handlers.access_retention import AccessLogRetention
from hub.store.access_log import delete_access_log_before
from hub.store.access_tables import access_log
from tests.integration.access.community import Community
from tests.integration.access.conftest import NOW


async def _ages(hub: Hub) -> list[int]:
    async with hub.engine.connect() as connection:
        rows = await connection.execute(select(access_log.c.at).order_by(access_log.c.at))
        return [(NOW - row.at).days for row in rows]


async def test_rows_older_than_the_retention_are_deleted(hub: Hub,
                                                         lakeside: Community) -> None:
    async with hub.uow() as uow:
        for age in (timedelta(0), timedelta(days=29), timedelta(days=30),
                    timedelta(days=30, seconds=1), timedelta(days=400)):
            uow.add(AccessLogEntry(site_id=lakeside.site, device_id=lakeside.door_b1,
                                   presented=Presented.CARD, allowed=True, at=NOW - age))
        await uow.commit()
    step = AccessLogRetention(hub.engine, keep_days=30)
    assert await step(NOW) == "2 access log rows older than 30 days deleted"
    assert await _ages(hub) == [30, 29, 0]  # exactly 30 days old is kept
    assert await step(NOW) == "0 access log rows older than 30 days deleted"


async def test_a_long_backlog_goes_in_chunks(hub: Hub, lakeside: Community) -> None:
    async with hub.uow() as uow:
        for n in range(25):
            uow.add(AccessLogEntry(site_id=lakeside.site, device_id=lakeside.door_b1,
                                   presented=Presented.QR, allowed=False,
                                   at=NOW - timedelta(days=100, minutes=n)))
        await uow.commit()
    assert await delete_access_log_before(hub.engine, NOW, chunk=10) == 25
    async with hub.engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(access_log)) == 0
