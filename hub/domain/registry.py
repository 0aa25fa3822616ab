"""The device and asset registry: what a device is, where it is, how it is reached."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from hub.domain.errors import Invalid
from hub.domain.facilities import AssetStatus
from hub.domain.property import check_code


class DeviceKind(StrEnum):
    ELEVATOR = "elevator"
    LIGHT = "light"
    GATE = "gate"
    CAMERA = "camera"
    DOOR = "door"
    METER = "meter"


class Protocol(StrEnum):
    MQTT = "mqtt"
    MODBUS = "modbus"


class Approval(StrEnum):
    """Unknown devices that announce themselves wait as PENDING until staff approve them."""

    PENDING = "pending"
    ACTIVE = "active"
    DISABLED = "disabled"


DEFAULT_TIMEOUT_S = 300


@dataclass(eq=False)
class Asset:
    """Equipment the estate maintains (a lift, a pump, a gate). `status` is derived from its
    open orders and devices by hub.domain.facilities, never set by hand."""

    site_id: int
    code: str
    name: str
    category: str
    building_id: int | None = None
    floor: int | None = None
    area: str = ""  # a public area: "地下车库 B1 car park", "中心花园 central garden"
    model: str = ""  # make and type
    supplier: str = ""
    purchased_on: date | None = None
    installed_on: date | None = None
    warranty_until: date | None = None
    status: AssetStatus = AssetStatus.OPERATIONAL
    status_since: datetime | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        check_code(self.code)
        check_code(self.category, "category")
        if self.purchased_on and self.installed_on and self.installed_on < self.purchased_on:
            raise Invalid("installed_on is before purchased_on", field="installed_on")


@dataclass(eq=False)
class Device:
    """`code` is the device id of the MQTT topic, unique in its site.

    `connection` holds how a Modbus device is reached ({"host", "port", "unit"}) and is empty
    for MQTT devices, which reach the hub; `register_map` names a map in config/registers.
    """

    site_id: int
    code: str
    kind: str
    building_id: int | None = None
    asset_id: int | None = None
    name: str = ""
    floor: int | None = None
    protocol: Protocol = Protocol.MQTT
    connection: dict[str, Any] = field(default_factory=dict)
    register_map: str | None = None
    poll_period_s: float = 1.0
    timeout_s: int = DEFAULT_TIMEOUT_S
    approval: Approval = Approval.ACTIVE
    tags: list[str] = field(default_factory=list)
    id: int | None = None

    def __post_init__(self) -> None:
        check_code(self.code)
        check_code(self.kind, "kind")
        if self.timeout_s < 5:
            raise Invalid("timeout_s must be at least 5 seconds", field="timeout_s")
        if self.protocol == Protocol.MODBUS:
            if not self.register_map:
                raise Invalid("a Modbus device needs register_map", field="register_map")
            if not {"host", "port"} <= set(self.connection):
                raise Invalid("a Modbus device needs connection.host and connection.port",
                              field="connection")
            if not 0.1 <= self.poll_period_s <= 3600:
                raise Invalid("poll_period_s must be between 0.1 and 3600",
                              field="poll_period_s")

    @property
    def trusted(self) -> bool:
        return self.approval == Approval.ACTIVE
