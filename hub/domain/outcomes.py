"""The commands that rules, preventive maintenance and device health use to act on the estate.

They are the seam between the deciders (hub/rules, hub/domain/maintenance) and the modules
that own the records (work orders, announcements, notifications). Every one carries a `Cause`:
what decided it and the events behind it, so that staff and residents can see *why*.
Handlers live with the owning module; these types are shared so that each side can be built
and tested on its own. Keyword-only: the actor (SYSTEM unless staff act) has a default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from hub.domain.accounts import SYSTEM, Actor, Role
from hub.domain.commands import Command


class Priority(StrEnum):
    """P1: people at risk or trapped (dispatch now); P4: cosmetic."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class OrderSource(StrEnum):
    RESIDENT = "resident"
    STAFF = "staff"
    DEVICE_FAULT = "device_fault"
    DEVICE_OFFLINE = "device_offline"
    MAINTENANCE_PLAN = "maintenance_plan"
    INSPECTION = "inspection"


@dataclass(frozen=True)
class Evidence:
    """One event behind an outcome, as recorded: enough to show it, not the whole message."""

    kind: str  # "fault", "telemetry", "offline", "online", "counter", "schedule", ...
    at: datetime
    device_id: int | None = None
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Cause:
    """Who or what decided: a rule (id and version) or a plan, and the evidence it saw."""

    rule_id: str | None = None
    rule_version: str | None = None
    plan_id: int | None = None
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RaiseFault(Command):
    """A fault on a device or asset: opens a work order, or adds an occurrence to the open one
    for the same (device or asset, fault), or reopens a recently resolved one (relapse)."""

    site_id: int
    fault: str  # the fault code, e.g. "E01" or "offline"
    category: str  # dispatch category, e.g. "elevator", "lighting", "gate"
    priority: Priority
    title: str
    at: datetime
    cause: Cause
    device_id: int | None = None
    asset_id: int | None = None
    building_id: int | None = None
    source: OrderSource = OrderSource.DEVICE_FAULT
    checklist: tuple[str, ...] = ()  # items to tick off, e.g. from a maintenance plan
    due_at: datetime | None = None  # a planned order: when the work is due
    actor: Actor = SYSTEM


@dataclass(frozen=True, kw_only=True)
class ClearFault(Command):
    """The device reports the fault gone: noted on the open order, which stays open for staff."""

    fault: str
    at: datetime
    cause: Cause
    device_id: int | None = None
    asset_id: int | None = None
    actor: Actor = SYSTEM


@dataclass(frozen=True, kw_only=True)
class AnnotateOrder(Command):
    """A note on the open order of (device or asset, fault), if there is one."""

    fault: str
    text: str
    at: datetime
    cause: Cause
    device_id: int | None = None
    asset_id: int | None = None
    actor: Actor = SYSTEM


@dataclass(frozen=True, kw_only=True)
class Notify(Command):
    """A notification to every on-duty account of a role in a site, or to the residents of a
    building, or to the residents of one unit only (any may be given)."""

    site_id: int
    title: str
    body: str
    at: datetime
    cause: Cause
    role: Role | None = None
    building_id: int | None = None  # residents of this building
    unit_id: int | None = None  # residents of this unit only: a household's own (arrears)
    actor: Actor = SYSTEM


@dataclass(frozen=True, kw_only=True)
class PostAnnouncement(Command):
    """An announcement keyed by `key` (e.g. "downtime:device:42"): posting the same key while
    one is live changes nothing, so that a repeated fault posts one notice."""

    key: str
    site_id: int
    title: str
    body: str
    at: datetime
    cause: Cause
    building_id: int | None = None
    notify_residents: bool = True
    actor: Actor = SYSTEM


@dataclass(frozen=True, kw_only=True)
class WithdrawAnnouncement(Command):
    key: str
    at: datetime
    cause: Cause
    actor: Actor = SYSTEM


# Events the work-order module publishes (through the bus, after its commit) for those who
# follow orders: facilities derives asset status and schedules the next maintenance from them.


@dataclass(frozen=True)
class OrderOpened:
    order_id: int
    site_id: int
    fault: str
    source: OrderSource
    priority: Priority
    at: datetime
    device_id: int | None = None
    asset_id: int | None = None
    building_id: int | None = None


@dataclass(frozen=True)
class OrderResolved:
    """Resolved by staff (or closed): `checklist` maps each item to whether it was done."""

    order_id: int
    site_id: int
    fault: str
    source: OrderSource
    at: datetime
    device_id: int | None = None
    asset_id: int | None = None
    checklist: tuple[tuple[str, bool], ...] = ()


@dataclass(frozen=True)
class OrderCancelled:
    """Cancelled by staff (not needed, a false alarm, a duplicate): no work was done."""

    order_id: int
    site_id: int
    fault: str
    source: OrderSource
    at: datetime
    device_id: int | None = None
    asset_id: int | None = None


@dataclass(frozen=True)
class OrderReopened:
    order_id: int
    site_id: int
    fault: str
    at: datetime
    device_id: int | None = None
    asset_id: int | None = None
