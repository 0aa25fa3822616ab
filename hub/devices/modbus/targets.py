"""What the poller needs to know about one Modbus device, built from the registry's `Device`.

`Device.connection` carries `host`, `port` and optionally `unit` (default 1),
`request_timeout_s` (default 1.0: how long one read may take before the link counts as hung)
and `retries` (default 1: immediate retries on a fresh connection before a poll fails).
`Device.timeout_s` is the registry's inactivity timeout, not a request timeout.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub.domain.observations import DeviceKey
from hub.domain.registry import Device, Protocol


@dataclass(frozen=True)
class ModbusTarget:
    device_id: int  # the registry id, passed to `on_reachability`
    key: DeviceKey
    host: str
    port: int
    register_map: str
    unit: int = 1
    period_s: float = 1.0
    request_timeout_s: float = 1.0
    retries: int = 1

    @property
    def endpoint(self) -> tuple[str, int]:
        return self.host, self.port


class _Connection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    unit: int = Field(default=1, ge=0, le=255)
    request_timeout_s: float = Field(default=1.0, ge=0.05, le=60)
    retries: int = Field(default=1, ge=0, le=5)


def target_for(device: Device, site_code: str) -> ModbusTarget:
    """The poller's view of a registered Modbus device; ValueError names device and field."""
    if device.protocol != Protocol.MODBUS or device.register_map is None:
        raise ValueError(f"device {device.code}: not a Modbus device")
    if device.id is None:
        raise ValueError(f"device {device.code}: not stored yet (no id)")
    try:
        conn = _Connection.model_validate(device.connection)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"device {device.code}: connection.{field}: {first['msg']}") from None
    return ModbusTarget(
        device_id=device.id, key=DeviceKey(site_code, device.kind, device.code),
        host=conn.host, port=conn.port, unit=conn.unit, register_map=device.register_map,
        period_s=device.poll_period_s, request_timeout_s=conn.request_timeout_s,
        retries=conn.retries)
