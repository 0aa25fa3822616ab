"""Sites, buildings and units as the API shows and accepts them."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from hub.api.schemas.common import Id, In, Out
from hub.domain.property import Orientation, UnitStatus

Code = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", examples=["lakeside"])]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Area = Annotated[Decimal, Field(gt=0, max_digits=10, decimal_places=2, examples=["89.75"])]


class SiteIn(In):
    code: Code
    name: Name
    address: Annotated[str, Field(max_length=500)] = ""
    timezone: Annotated[str, Field(max_length=64)] = "Asia/Shanghai"


class SitePatch(In):
    name: Name | None = None
    address: Annotated[str, Field(max_length=500)] | None = None
    timezone: Annotated[str, Field(max_length=64)] | None = None


class SiteOut(Out):
    id: int
    code: str
    name: str
    address: str
    timezone: str


class BuildingIn(In):
    site_id: Id
    code: Code
    name: Name
    floors: Annotated[int, Field(ge=1, le=200)]


class BuildingPatch(In):
    name: Name | None = None
    floors: Annotated[int, Field(ge=1, le=200)] | None = None


class BuildingOut(Out):
    id: int
    site_id: int
    code: str
    name: str
    floors: int


class UnitIn(In):
    building_id: Id
    number: Annotated[str, Field(min_length=1, max_length=32, examples=["3-1201"])]
    floor: Annotated[int, Field(ge=-5, le=200)]
    gross_area: Area
    inner_area: Area
    layout: Annotated[str, Field(max_length=64, examples=["3室2厅2卫"])] = ""
    orientation: Orientation | None = None
    status: UnitStatus = UnitStatus.VACANT


class UnitPatch(In):
    number: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    floor: Annotated[int, Field(ge=-5, le=200)] | None = None
    gross_area: Area | None = None
    inner_area: Area | None = None
    layout: Annotated[str, Field(max_length=64)] | None = None
    orientation: Orientation | None = None
    status: UnitStatus | None = None


class UnitOut(Out):
    id: int
    site_id: int
    building_id: int
    number: str
    floor: int
    gross_area: Decimal
    inner_area: Decimal
    layout: str
    orientation: Orientation | None
    status: UnitStatus
