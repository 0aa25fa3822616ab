"""Commands of the work-order module (its own; the shared ones that rules and maintenance send
live in hub.domain.outcomes): staff open, dispatch and work orders, residents file and confirm
repairs, managers keep the roster."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from hub.domain.commands import Command
from hub.domain.outcomes import OrderSource, Priority


class Action(StrEnum):
    CLAIM = "claim"
    ACCEPT = "accept"
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    CLOSE = "close"
    CANCEL = "cancel"
    RETURN = "return"
    REOPEN = "reopen"


@dataclass(frozen=True)
class OpenOrder(Command):
    """Staff open an order (a phone call, an inspection finding)."""

    site_id: int
    title: str
    category: str
    priority: Priority
    description: str = ""
    building_id: int | None = None
    unit_id: int | None = None
    device_id: int | None = None
    asset_id: int | None = None
    area: str = ""
    source: OrderSource = OrderSource.STAFF
    checklist: tuple[str, ...] = ()
    due_at: datetime | None = None


@dataclass(frozen=True)
class SubmitRepair(Command):
    """A resident's repair request for one of their own units, with stored photo refs."""

    unit_id: int
    title: str
    category: str = "general"
    description: str = ""
    photos: tuple[str, ...] = ()


@dataclass(frozen=True)
class ActOnOrder(Command):
    order_id: int
    action: Action
    reason: str = ""


@dataclass(frozen=True)
class AssignOrder(Command):
    order_id: int
    assignee_id: int
    transfer: bool = False  # hand a held order to another assignee
    reason: str = ""


@dataclass(frozen=True)
class ResolveOrder(Command):
    order_id: int
    checklist: Mapping[str, bool] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class NoteOrder(Command):
    order_id: int
    text: str


@dataclass(frozen=True)
class AddMaterial(Command):
    order_id: int
    name: str
    quantity: Decimal
    unit_price: Decimal
    chargeable: bool = False


@dataclass(frozen=True)
class ConfirmRepair(Command):
    order_id: int
    rating: int
    comment: str = ""


@dataclass(frozen=True)
class SetRoster(Command):
    site_id: int
    account_id: int
    skills: tuple[str, ...]
    on_duty: bool
