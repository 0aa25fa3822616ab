"""Delivery of stored notifications: live to the account's streams, and to the outside
channels its preferences choose, within quiet hours and rate limits. Runs after the commit
that stored them: a failure here loses a push or a text, never the notification."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.exc import SQLAlchemyError

from hub.domain.notifications import (
    Channel,
    Notification,
    NotificationPreference,
    RateLimits,
    route,
)
from hub.notify.broker import Broker, LiveItem
from hub.notify.deferrals import Due, Held
from hub.notify.providers import NotificationProvider, Outbound, ProviderError

log = logging.getLogger(__name__)


class Preferences(Protocol):
    async def preferences(self, account_ids: Sequence[int]
                          ) -> dict[int, NotificationPreference]: ...


class Deferrals(Protocol):
    """Where texts held back by quiet hours wait (hub.notify.deferrals.SqlDeferrals)."""

    async def hold(self, held: Sequence[Held]) -> None: ...
    async def due(self, now: datetime, limit: int) -> list[Due]: ...
    async def release(self, deferral_ids: Sequence[int]) -> None: ...


def live_item(n: Notification) -> LiveItem:
    return LiveItem("notification", n.id, present(n))


def present(n: Notification) -> dict[str, Any]:
    return {"id": n.id, "category": n.category.value, "title": n.title, "body": n.body,
            "site_id": n.site_id, "link": n.link, "rule_id": n.rule_id,
            "created_at": n.created_at.isoformat(), "read": n.read_at is not None}


class Notifier:
    def __init__(self, broker: Broker, providers: Mapping[Channel, NotificationProvider],
                 preferences: Preferences, limits: RateLimits | None = None,
                 monotonic: Callable[[], float] = time.monotonic,
                 deferrals: Deferrals | None = None) -> None:
        self.broker = broker
        self.deferrals = deferrals
        self.providers = dict(providers)
        self._preferences = preferences
        self.limits = limits or RateLimits()
        self._monotonic = monotonic
        self.counts: Counter[str] = Counter()

    async def deliver(self, items: Sequence[Notification], at: datetime) -> None:
        if not items:
            return
        try:
            chosen = await self._preferences.preferences([n.account_id for n in items])
        except (SQLAlchemyError, OSError) as err:
            # The rows are committed: raising now would make a retrying sender (the rules
            # worker) store them twice. Deliver with the default channels instead.
            log.warning("notification preferences unreadable, defaults used: %s", err)
            self.counts["preferences_unreadable"] += 1
            chosen = {}
        held: list[Held] = []
        for n in items:
            routing = route(chosen.get(n.account_id), n.category, at)
            self.counts["held_quiet_hours"] += len(routing.held)
            if routing.held_until is not None and n.id is not None:
                held.extend(Held(n.id, channel, routing.held_until)
                            for channel in sorted(routing.held))
            for channel in sorted(routing.send):
                await self._send_within_limits(n, channel)
        await self._hold(held)

    async def send_deferred(self, now: datetime, batch: int = 500) -> int:
        """Send the texts whose quiet hours have ended (one periodic pass); returns how many
        were due. Rate limits still apply: a text over the limit is dropped and counted, as
        it would have been at once."""
        if self.deferrals is None:
            return 0
        total = 0
        while due := await self.deferrals.due(now, batch):
            for item in due:
                await self._send_within_limits(item.notification, item.channel)
            await self.deferrals.release([item.deferral_id for item in due])
            self.counts["sent_after_quiet_hours"] += len(due)
            total += len(due)
            if len(due) < batch:
                break
        return total

    async def _hold(self, held: Sequence[Held]) -> None:
        if not held:
            return
        if self.deferrals is None:
            self.counts["dropped_quiet_hours"] += len(held)
            return
        try:
            await self.deferrals.hold(held)
        except (SQLAlchemyError, OSError) as err:  # the notification itself is stored
            self.counts["deferral_failed"] += len(held)
            log.warning("%d texts held by quiet hours could not be kept: %s", len(held), err)

    async def _send_within_limits(self, n: Notification, channel: Channel) -> None:
        if not self.limits.allow(n.account_id, channel, self._monotonic()):
            self.counts[f"rate_limited.{channel.value}"] += 1
            return
        await self._send(n, channel)

    async def _send(self, n: Notification, channel: Channel) -> None:
        if channel == Channel.IN_APP:
            self.broker.publish(n.account_id, live_item(n))
            self.counts["sent.in_app"] += 1
            return
        provider = self.providers.get(channel)
        if provider is None:
            self.counts[f"no_provider.{channel.value}"] += 1
            return
        try:
            await provider.send(Outbound(n.account_id, channel, n.category, n.title, n.body,
                                         n.id))
        except (ProviderError, OSError, TimeoutError) as err:
            self.counts[f"failed.{channel.value}"] += 1
            log.warning("%s delivery of notification %s failed: %s", channel.value, n.id, err)
            return
        self.counts[f"sent.{channel.value}"] += 1
