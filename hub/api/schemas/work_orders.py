"""Work orders as the API shows and accepts them: staff, the SLA board, the roster and a
household's repairs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field

from hub.api.schemas.common import Id, In, Out
from hub.domain.outcomes import OrderSource, Priority
from hub.domain.work_orders import Status

Category = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", examples=["elevator"])]
Title = Annotated[str, Field(min_length=1, max_length=200, examples=["3号楼电梯异响"])]
Text = Annotated[str, Field(max_length=2000)]
Reason = Annotated[str, Field(max_length=500, examples=["waiting for a door roller"])]


class OrderIn(In):
    """Staff open an order: in a unit, a building, a public area (words), or on a device or
    asset; the building follows from a unit, device or asset."""

    site_id: Id
    title: Title
    category: Category
    priority: Priority = Priority.P3
    description: Text = ""
    building_id: Id | None = None
    unit_id: Id | None = None
    device_id: Id | None = None
    asset_id: Id | None = None
    area: Annotated[str, Field(max_length=200, examples=["B1 lobby, east stairwell"])] = ""
    source: OrderSource = OrderSource.STAFF
    checklist: Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]],
                         Field(max_length=100)] = Field(default_factory=list)
    due_at: datetime | None = None


class AssignIn(In):
    assignee_id: Id


class TransferIn(In):
    assignee_id: Id
    reason: Reason = ""


class ReasonIn(In):
    reason: Reason = ""


class ChecklistItemIn(In):
    item: Annotated[str, Field(min_length=1, max_length=200)]
    done: bool


class ResolveIn(In):
    note: Text = ""
    checklist: Annotated[list[ChecklistItemIn], Field(max_length=100)] = Field(
        default_factory=list)


class NoteIn(In):
    text: Annotated[str, Field(min_length=1, max_length=2000)]


class MaterialIn(In):
    name: Annotated[str, Field(min_length=1, max_length=200, examples=["门机皮带 door belt"])]
    quantity: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=3, examples=["2"])]
    unit_price: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2,
                                         examples=["35.50"])]
    chargeable: bool = False  # paid by the household


class ConfirmIn(In):
    rating: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, Field(max_length=500)] = ""


class RosterIn(In):
    site_id: Id
    account_id: Id
    skills: Annotated[list[Category], Field(max_length=50)] = Field(default_factory=list)
    on_duty: bool


class RosterOut(Out):
    site_id: int
    account_id: int
    skills: list[str]
    on_duty: bool


class OrderOut(Out):
    id: int
    site_id: int
    building_id: int | None
    unit_id: int | None
    device_id: int | None
    asset_id: int | None
    area: str
    title: str
    category: str
    priority: Priority
    source: OrderSource
    fault: str | None
    status: Status
    assignee_id: int | None
    opened_at: datetime
    respond_by: datetime | None
    arrive_by: datetime | None
    resolve_by: datetime | None
    due_at: datetime | None
    accepted_at: datetime | None
    started_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    reopen_count: int
    occurrences: int


class TimelineOut(Out):
    id: int
    at: datetime
    kind: str
    text: str
    actor_id: int | None
    rule: str | None  # "rule:<id>@<version>" or "plan:<id>": what decided
    data: dict[str, Any]  # with "cause": the rule's evidence, when a rule acted


class MaterialOut(Out):
    id: int
    name: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    chargeable: bool
    added_at: datetime | None
    added_by: int | None


class OrderDetailOut(OrderOut):
    description: str
    reporter_id: int | None
    checklist: list[str]
    checklist_result: list[dict[str, Any]]
    rating: int | None
    rating_comment: str
    sla_flags: list[str]
    cause: dict[str, Any]
    photos: list[str]
    timeline: list[TimelineOut]
    materials: list[MaterialOut]
    cost: Decimal
    chargeable: Decimal


class SlaBoardOut(Out):
    at: datetime
    open_by_status: dict[str, int]
    open_by_priority: dict[str, int]
    overdue: int
    at_risk: list[OrderOut]


class RepairStepOut(Out):
    at: datetime
    kind: str


class RepairOut(Out):
    id: int
    unit_id: int | None
    title: str
    description: str
    category: str
    status: Status
    opened_at: datetime
    accepted_at: datetime | None
    started_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    reopen_count: int
    rating: int | None
    rating_comment: str
    photos: list[str]


class RepairDetailOut(RepairOut):
    steps: list[RepairStepOut]
