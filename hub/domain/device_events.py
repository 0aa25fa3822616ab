"""Domain events about devices (past tense). The rules issue turns them into work orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class DeviceWentOffline:
    device_id: int
    at: datetime
    reason: str  # "last will", "status offline", "inactive 300s", "poll failed"


@dataclass(frozen=True)
class DeviceCameOnline:
    device_id: int
    at: datetime


@dataclass(frozen=True)
class SequenceGapDetected:
    device_id: int
    boot: str
    first_missing: int
    last_missing: int
    at: datetime


@dataclass(frozen=True)
class UnknownDeviceSeen:
    site: str
    kind: str
    device: str
    at: datetime
