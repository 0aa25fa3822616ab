"""Assets, their history and reliability, and maintenance plans as the API shows and accepts
them. Times are given with their offset (stored as UTC)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field

from hub.api.schemas.common import Id, In, Out
from hub.domain.facilities import AssetStatus
from hub.domain.maintenance import MAX_CHECKLIST, MAX_ITEM, MAX_LEAD_HOURS, Anchor, Trigger
from hub.domain.outcomes import OrderSource, Priority

Code = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", examples=["b3-lift-1"])]
Category = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", examples=["elevator"])]
Name = Annotated[str, Field(min_length=1, max_length=200,
                            examples=["3号楼 1号电梯 Building 3 lift 1"])]
Text = Annotated[str, Field(max_length=200)]
Floor = Annotated[int, Field(ge=-5, le=200)]
Item = Annotated[str, Field(min_length=1, max_length=MAX_ITEM)]
Checklist = Annotated[list[Item], Field(min_length=1, max_length=MAX_CHECKLIST)]
Days = Annotated[int, Field(ge=1, le=3650)]
Months = Annotated[int, Field(ge=1, le=120)]
Trips = Annotated[int, Field(ge=1, le=10_000_000)]
Hours = Annotated[int, Field(ge=1, le=1_000_000)]
Lead = Annotated[int, Field(ge=0, le=MAX_LEAD_HOURS, description="hours before due")]
Template = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", examples=["quarterly"])]


class AssetIn(In):
    site_id: Id
    code: Code
    name: Name
    category: Category
    building_id: Id | None = None
    floor: Floor | None = None
    area: Text = Field("", examples=["地下车库 B1 car park"])
    model: Text = ""
    supplier: Text = ""
    purchased_on: date | None = None
    installed_on: date | None = None
    warranty_until: date | None = None


class AssetPatch(In):
    name: Name | None = None
    category: Category | None = None
    building_id: Id | None = None
    floor: Floor | None = None
    area: Text | None = None
    model: Text | None = None
    supplier: Text | None = None
    purchased_on: date | None = None
    installed_on: date | None = None
    warranty_until: date | None = None


class AssetOut(Out):
    id: int
    site_id: int
    code: str
    name: str
    category: str
    building_id: int | None
    floor: int | None
    area: str
    model: str
    supplier: str
    purchased_on: date | None
    installed_on: date | None
    warranty_until: date | None
    status: AssetStatus = Field(description="derived from open orders and linked devices")
    status_since: datetime | None
    device_ids: list[int] = Field(description="devices linked to this asset")


class RepairOut(BaseModel):
    """One period an order of the asset was open (a reopened order has several)."""

    order_id: int
    fault: str
    source: OrderSource
    priority: Priority
    opened_at: datetime
    resolved_at: datetime | None
    failure: bool = Field(description="counts as a breakdown (P1/P2 fault or offline)")


class ReliabilityOut(BaseModel):
    start: datetime
    end: datetime
    failures: int
    downtime_s: float
    uptime_s: float
    mtbf_hours: float | None = Field(description="uptime / failures; null without failures")
    mttr_hours: float | None
    availability: float


class PlanIn(In):
    asset_id: Id
    name: Name
    checklist: Checklist
    first_due: AwareDatetime | None = Field(None, description="the first calendar due time")
    every_days: Days | None = None
    every_months: Months | None = None
    anchor: Anchor = Anchor.SCHEDULE
    every_trips: Trips | None = None
    every_run_hours: Hours | None = None
    lead_hours: Lead = 72
    category: Category | None = Field(None, description="of its orders; the asset's if null")


class PlanFromTemplateIn(In):
    asset_id: Id
    template: Template
    first_due: AwareDatetime
    every_trips: Trips | None = None
    every_run_hours: Hours | None = None
    lead_hours: Lead | None = None
    anchor: Anchor | None = None


class PlansForCategoryIn(In):
    """A plan for every asset of one type in a site (or one building of it)."""

    site_id: Id
    category: Category
    template: Template
    first_due: AwareDatetime
    building_id: Id | None = None
    every_trips: Trips | None = None
    every_run_hours: Hours | None = None
    lead_hours: Lead | None = None
    anchor: Anchor | None = None


class CreatedPlans(BaseModel):
    ids: list[int] = Field(description="the new plans; assets that had one are skipped")


class PlanPatch(In):
    name: Name | None = None
    checklist: Checklist | None = None
    next_due: AwareDatetime | None = None
    anchor: Anchor | None = None
    every_trips: Trips | None = None
    every_run_hours: Hours | None = None
    lead_hours: Lead | None = None
    active: bool | None = None


class PlanOut(Out):
    id: int
    site_id: int
    asset_id: int
    name: str
    category: str
    template: str | None
    checklist: list[str]
    next_due: datetime | None
    every_days: int | None
    every_months: int | None
    anchor: Anchor
    every_trips: int | None
    every_run_hours: int | None
    lead_hours: int
    active: bool
    usage_base: dict[str, float] = Field(description="counter totals at the last service")
    usage: dict[str, float] = Field(description="the asset's counter totals now")
    requested_at: datetime | None
    order_id: int | None
    order_due_at: datetime | None
    order_trigger: Trigger | None
    escalated_at: datetime | None


class ChecklistResult(BaseModel):
    item: str
    done: bool


class RunOut(BaseModel):
    id: int
    order_id: int
    trigger: Trigger
    due_at: datetime
    completed_at: datetime
    checklist: list[ChecklistResult]
    next_due: datetime | None
    reopened: bool


class TemplateOut(BaseModel):
    id: str
    name: str
    category: str
    every_days: int | None
    every_months: int | None
    anchor: Anchor
    lead_hours: int
    items: list[str]
    source: str
