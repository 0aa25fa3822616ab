"""The access log is location data (where a resident was, when): it is kept for
`access.log_retention_days` and then removed by this periodic step (one worker, under a
lease). Like hub.handlers.complaints.run_complaint_escalation, it takes the time it runs
at, so a late or skipped pass catches up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from hub.store.access_log import delete_access_log_before


@dataclass
class AccessLogRetention:
    engine: AsyncEngine
    keep_days: int

    async def __call__(self, now: datetime) -> str:
        deleted = await delete_access_log_before(self.engine,
                                                 now - timedelta(days=self.keep_days))
        return f"{deleted} access log rows older than {self.keep_days} days deleted"
