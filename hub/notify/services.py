"""What the notice modules need at run time, built once by bootstrap."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.domain.notifications import Channel, TokenBucket
from hub.media import PhotoStore, photo_store_for
from hub.notify.broker import Broker
from hub.notify.deferrals import SqlDeferrals
from hub.notify.directory import SqlDirectory
from hub.notify.notifier import Notifier
from hub.notify.providers import ConsoleProvider, NotificationProvider

HEARTBEAT_S = 15.0
COMPLAINTS_PER_HOUR = 10  # per account: a resident's writes are rate limited (DESIGN §7)


@dataclass
class NoticeServices:
    broker: Broker
    notifier: Notifier
    directory: SqlDirectory
    photos: PhotoStore
    heartbeat_s: float = HEARTBEAT_S
    complaint_limit: TokenBucket = field(
        default_factory=lambda: TokenBucket(COMPLAINTS_PER_HOUR, 3600.0))

    def dependencies(self) -> dict[str, Any]:
        """Handler dependencies, by parameter name (hub.bootstrap._inject)."""
        return {"notifier": self.notifier, "directory": self.directory}


def build_notice_services(sessions: async_sessionmaker[AsyncSession], data_dir: Path,
                          providers: dict[Channel, NotificationProvider] | None = None
                          ) -> NoticeServices:
    """Console providers unless real ones are given."""
    broker = Broker()
    directory = SqlDirectory(sessions)
    if providers is None:
        providers = {Channel.SMS: ConsoleProvider(Channel.SMS),
                     Channel.WECHAT: ConsoleProvider(Channel.WECHAT)}
    notifier = Notifier(broker, providers, directory, deferrals=SqlDeferrals(sessions))
    return NoticeServices(broker, notifier, directory,
                          photo_store_for(data_dir))


async def notices_health(services: NoticeServices) -> dict[str, Any]:
    """For `HealthBoard.register("notifications", ...)`: live streams and deliveries."""
    broker = services.broker.stats()
    counts = dict(services.notifier.counts)
    failed = sum(n for key, n in counts.items() if key.startswith("failed."))
    # Failures are counted since start, not a state: they inform, they do not degrade.
    return {"status": "ok",
            "detail": f"{broker['subscribers']} live streams, {failed} deliveries failed",
            **broker, "deliveries": counts}
