"""Providers that carry a notification beyond the app: SMS, WeChat service messages.

A real provider (an SMS gateway, WeChat's template messages) implements `NotificationProvider`
and is named in bootstrap; development uses `ConsoleProvider`, which logs what it would send.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from hub.domain.notifications import Category, Channel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outbound:
    """One message for one account on one channel. No phone number or open id here: a real
    provider looks the address up itself, so that none travels through logs or queues."""

    account_id: int
    channel: Channel
    category: Category
    title: str
    body: str
    notification_id: int | None = None


class ProviderError(Exception):
    """The provider refused or could not be reached; the notification stays in the feed."""


class NotificationProvider(Protocol):
    channel: Channel

    async def send(self, message: Outbound) -> None: ...


class ConsoleProvider:
    """Development: logs each message (account id and title only) and keeps the last few."""

    def __init__(self, channel: Channel, keep: int = 1000) -> None:
        self.channel = channel
        self.keep = keep
        self.sent: list[Outbound] = []

    async def send(self, message: Outbound) -> None:
        log.info("%s to account %s: %s", self.channel.value, message.account_id, message.title)
        self.sent.append(message)
        del self.sent[:-self.keep]
