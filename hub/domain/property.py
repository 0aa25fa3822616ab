"""Sites (communities), buildings and units."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from hub.domain.errors import Invalid

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class UnitStatus(StrEnum):
    OCCUPIED = "occupied"
    VACANT = "vacant"
    RENTED = "rented"
    DECORATING = "decorating"


class Orientation(StrEnum):
    N = "N"
    NE = "NE"
    E = "E"
    SE = "SE"
    S = "S"
    SW = "SW"
    W = "W"
    NW = "NW"
    NS = "NS"  # 南北通透: windows on both sides, a common listing attribute
    EW = "EW"


def check_code(value: str, field_name: str = "code") -> str:
    """Codes appear in MQTT topics, so they follow the device-id grammar of DESIGN.md §2."""
    if not CODE_PATTERN.fullmatch(value):  # `$` alone lets a trailing newline through
        raise Invalid(f"{field_name} must match [a-z0-9][a-z0-9-]{{0,62}}", field=field_name)
    return value


@dataclass(eq=False)
class Site:
    code: str
    name: str
    address: str = ""
    timezone: str = "Asia/Shanghai"
    id: int | None = None

    def __post_init__(self) -> None:
        check_code(self.code)
        if not self.name.strip():
            raise Invalid("name must not be empty", field="name")


@dataclass(eq=False)
class Building:
    site_id: int
    code: str
    name: str
    floors: int = 1
    id: int | None = None

    def __post_init__(self) -> None:
        check_code(self.code)
        if self.floors < 1:
            raise Invalid("floors must be at least 1", field="floors")


@dataclass(eq=False)
class Unit:
    site_id: int
    building_id: int
    number: str
    floor: int
    gross_area: Decimal  # 建筑面积, m²
    inner_area: Decimal  # 套内面积, m²
    layout: str = ""
    orientation: Orientation | None = None
    status: UnitStatus = UnitStatus.VACANT
    id: int | None = None

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        if not self.number.strip():
            raise Invalid("number must not be empty", field="number")
        # NaN would raise InvalidOperation on comparison, and infinity is no area.
        if not self.gross_area.is_finite() or self.gross_area <= 0:
            raise Invalid("gross_area must be positive", field="gross_area")
        if not self.inner_area.is_finite() or self.inner_area <= 0:
            raise Invalid("inner_area must be positive", field="inner_area")
        if self.inner_area > self.gross_area:
            raise Invalid("inner_area cannot exceed gross_area", field="inner_area")
