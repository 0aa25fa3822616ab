"""The topic grammar of the device contract: `estate/{site}/{kind}/{device}/{channel}`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from hub.domain.observations import DeviceKey

ROOT = "estate"
DEFAULT_KINDS = frozenset({"elevator", "light", "gate", "camera", "door", "meter"})
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
# The dead-letter table keeps 255 characters of a topic (hub/store/device_tables.py).
MAX_TOPIC_CHARS = 255


class Channel(StrEnum):
    TELEMETRY = "telemetry"
    EVENT = "event"
    STATUS = "status"
    CMD = "cmd"
    ACK = "cmd/ack"


INBOUND = (Channel.TELEMETRY, Channel.EVENT, Channel.STATUS, Channel.ACK)


@dataclass(frozen=True)
class Address:
    key: DeviceKey
    channel: Channel


class BadTopic(ValueError):
    """The topic is not one of the contract; `reason` is its dead-letter reason code."""

    def __init__(self, reason: str, key: DeviceKey | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.key = key


def parse(topic: str, kinds: frozenset[str] = DEFAULT_KINDS) -> Address:
    """The device and channel a topic names, or BadTopic."""
    levels = topic.split("/")
    if len(levels) not in (5, 6) or levels[0] != ROOT:
        raise BadTopic("bad_topic")
    _, site, kind, device, *rest = levels
    channel_name = "/".join(rest)
    if not (ID_PATTERN.fullmatch(site) and ID_PATTERN.fullmatch(device)
            and ID_PATTERN.fullmatch(kind)):
        raise BadTopic("bad_topic")
    key = DeviceKey(site=site, kind=kind, device=device)
    try:
        channel = Channel(channel_name)
    except ValueError:
        raise BadTopic("bad_topic", key) from None
    if kind not in kinds:
        raise BadTopic("unknown_kind", key)
    return Address(key, channel)


def topic_of(key: DeviceKey, channel: Channel) -> str:
    return f"{ROOT}/{key.site}/{key.kind}/{key.device}/{channel.value}"


def inbound_filters(sites: Iterable[str] = (), shared_group: str = "",
                    channels: Iterable[str] = ()) -> list[str]:
    """The filters a hub subscribes to: the inbound `channels` (all when empty) of every
    device, of the given sites (all when empty), optionally as an MQTT 5 shared subscription
    that workers split."""
    wanted = [Channel(name) for name in channels] or list(INBOUND)
    if any(channel not in INBOUND for channel in wanted):
        raise ValueError(f"inbound channels are {', '.join(INBOUND)}")
    return _filters(sites, [c for c in INBOUND if c in wanted], shared_group)


def ack_filters(sites: Iterable[str] = ()) -> list[str]:
    return _filters(sites, (Channel.ACK,), "")


def _filters(sites: Iterable[str], channels: Iterable[Channel], group: str) -> list[str]:
    prefix = f"$share/{group}/" if group else ""
    site_levels = list(sites) or ["+"]
    for site in site_levels:
        if site != "+" and not ID_PATTERN.fullmatch(site):
            raise ValueError(f"site {site!r} must match {ID_PATTERN.pattern}")
    if group and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", group):
        raise ValueError(f"shared group {group!r} must be 1-64 letters, digits, _ or -")
    return [f"{prefix}{ROOT}/{site}/+/+/{channel.value}"
            for site in site_levels for channel in channels]
