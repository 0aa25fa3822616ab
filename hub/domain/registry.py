"""The device and asset registry. The devices and facilities issues fill in behaviour."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hub.domain.property import check_code


class DeviceKind(StrEnum):
    ELEVATOR = "elevator"
    LIGHT = "light"
    GATE = "gate"
    CAMERA = "camera"
    DOOR = "door"
    METER = "meter"


@dataclass(eq=False)
class Asset:
    site_id: int
    code: str
    name: str
    category: str
    building_id: int | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        check_code(self.code)


@dataclass(eq=False)
class Device:
    site_id: int
    code: str
    kind: str
    building_id: int | None = None
    asset_id: int | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        check_code(self.code)
