"""config/devices.yaml: the devices a community declares, validated, then upserted by
(site code, device code) into the registry.

A bad file stops start-up with one line per problem, `file:item: reason`, where the item is
`site/device` (or `devices[3]` when the entry has no usable code). Devices registered through
the API and absent from the file are left alone. On update, a device listed in the file is
trusted (a pending one becomes active) unless staff disabled it; `approval:` in the file, when
given, decides instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hub.domain.accounts import SYSTEM
from hub.domain.audit import AuditAction, entry_by
from hub.domain.errors import Invalid
from hub.domain.property import Building, Site
from hub.domain.registry import DEFAULT_TIMEOUT_S, Approval, Asset, Device, Protocol
from hub.ports import Clock, UnitOfWork

CODE = r"^[a-z0-9][a-z0-9-]{0,62}$"
Code = Annotated[str, Field(pattern=CODE)]
Kind = Annotated[str, Field(pattern=CODE, max_length=32)]
DEFAULT_REGISTERS = Path("config/registers")


class RegistryConfigError(Exception):
    """The device file is unusable; the message has one `file:item: reason` per line."""


class ModbusConnection(BaseModel):
    """How a Modbus device is reached; the fields hub.devices.modbus.targets reads."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(min_length=1, max_length=255)
    port: int = Field(ge=1, le=65535)
    unit: int = Field(default=1, ge=0, le=255)
    request_timeout_s: float = Field(default=1.0, ge=0.05, le=60)
    retries: int = Field(default=1, ge=0, le=5)


class DeviceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Code
    kind: Kind
    site: Code | None = None  # default: the file's `site`
    name: str = Field(default="", max_length=200)
    building: Code | None = None
    floor: int | None = Field(default=None, ge=-5, le=200)
    asset: Code | None = None
    protocol: Protocol = Protocol.MQTT
    connection: ModbusConnection | None = None
    register_map: Code | None = None
    poll_period_s: float = Field(default=1.0, ge=0.1, le=3600)
    timeout_s: int = Field(default=DEFAULT_TIMEOUT_S, ge=5, le=7 * 86_400)
    approval: Approval | None = None
    tags: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(
        default_factory=list, max_length=16)

    @model_validator(mode="after")
    def _protocol_fits(self) -> DeviceSpec:
        if self.protocol == Protocol.MODBUS and (self.connection is None
                                                 or self.register_map is None):
            raise ValueError("a Modbus device needs connection (host, port) and register_map")
        if self.protocol == Protocol.MQTT and self.connection is not None:
            raise ValueError("an MQTT device has no connection: it connects to the broker")
        return self

    @property
    def item(self) -> str:
        return f"{self.site}/{self.code}"


@dataclass
class Applied:
    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0


def load_devices(path: Path, registers: Path | None = DEFAULT_REGISTERS) -> list[DeviceSpec]:
    """Every device of the file, or RegistryConfigError naming each bad item. `registers`,
    when given, is the folder where each `register_map` must exist as `<name>.yaml`."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise RegistryConfigError(f"{path}: cannot read: {err.strerror or err}") from None
    except yaml.YAMLError as err:
        raise RegistryConfigError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(data, dict) or not isinstance(data.get("devices"), list):
        raise RegistryConfigError(f"{path}: expected `site:` and a list under `devices:`")
    unknown = sorted(set(data) - {"site", "devices"})
    problems = [f"{path}: {key}: unknown key" for key in unknown]
    specs: list[DeviceSpec] = []
    for number, entry in enumerate(data["devices"]):
        spec, problem = _one(entry, data.get("site"), number, registers)
        if problem:
            problems.append(f"{path}:{problem}")
        elif spec is not None:
            specs.append(spec)
    seen: set[str] = set()
    for spec in specs:
        if spec.item in seen:
            problems.append(f"{path}:{spec.item}: listed twice")
        seen.add(spec.item)
    if problems:
        raise RegistryConfigError("\n".join(problems))
    return specs


def _one(entry: Any, site: Any, number: int,
         registers: Path | None) -> tuple[DeviceSpec | None, str | None]:
    item = f"devices[{number}]"
    if isinstance(entry, dict):
        entry = {"site": site, **entry}
        if isinstance(entry.get("code"), str) and isinstance(entry.get("site"), str):
            item = f"{entry['site']}/{entry['code']}"
    try:
        spec = DeviceSpec.model_validate(entry)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "entry"
        reason = str(first["msg"]).removeprefix("Value error, ")
        return None, f"{item}: {where}: {reason}"
    if spec.site is None:
        return None, f"{item}: site: missing (set it on the device or at the top of the file)"
    if registers is not None and spec.register_map is not None \
            and not (registers / f"{spec.register_map}.yaml").is_file():
        return None, f"{item}: register_map: no {registers / spec.register_map}.yaml"
    try:
        _device(spec, site_id=0, building_id=None, asset_id=None)  # the domain's own checks
    except Invalid as err:
        return None, f"{item}: {err.field or 'entry'}: {err.message}"
    return spec, None


def with_ports(specs: Sequence[DeviceSpec], ports: Mapping[str, int]) -> list[DeviceSpec]:
    """The same devices, the Modbus ones named in `ports` (device code -> port) moved there:
    the demo starts its simulators on free ports."""
    moved = []
    for spec in specs:
        if spec.code in ports and spec.connection is not None:
            connection = spec.connection.model_copy(update={"port": ports[spec.code]})
            moved.append(spec.model_copy(update={"connection": connection}))
        else:
            moved.append(spec)
    return moved


async def apply_devices(uow: UnitOfWork, specs: Sequence[DeviceSpec], *, source: str,
                        clock: Clock) -> Applied:
    """Insert or update each device by (site code, device code), in one transaction, audited
    once. Sites, buildings and assets must exist; all missing ones are reported together."""
    applied = Applied()
    problems: list[str] = []
    for spec in specs:
        try:
            changed = await _upsert(uow, spec)
        except _Missing as missing:
            problems.append(f"{source}:{spec.item}: {missing}")
            continue
        if changed == "inserted":
            applied.inserted.append(spec.item)
        elif changed == "updated":
            applied.updated.append(spec.item)
        else:
            applied.unchanged += 1
    if problems:
        raise RegistryConfigError("\n".join(problems))
    if applied.inserted or applied.updated:
        uow.audit(entry_by(SYSTEM, clock(), AuditAction.CONFIG_CHANGED,
                           f"config:{Path(source).name}"[:120],
                           {"inserted": str(len(applied.inserted)),
                            "updated": str(len(applied.updated))}))
    await uow.commit()
    return applied


class _Missing(Exception):
    pass


async def _upsert(uow: UnitOfWork, spec: DeviceSpec) -> str:
    site = await uow.find_one(Site, code=spec.site)
    if site is None or site.id is None:
        raise _Missing(f"site {spec.site!r} not found")
    building_id = await _building(uow, site.id, spec)
    asset_id = await _asset(uow, site.id, spec)
    wanted = _device(spec, site.id, building_id, asset_id)
    current = await uow.find_one(Device, site_id=site.id, code=spec.code)
    if current is None:
        uow.add(wanted)
        return "inserted"
    if spec.approval is None:
        wanted.approval = Approval.DISABLED if current.approval == Approval.DISABLED \
            else Approval.ACTIVE
    changes = {name: value for name, value in _fields(wanted).items()
               if getattr(current, name) != value}
    for name, value in changes.items():
        setattr(current, name, value)  # new objects, also for the JSON columns
    return "updated" if changes else "unchanged"


async def _building(uow: UnitOfWork, site_id: int, spec: DeviceSpec) -> int | None:
    if spec.building is None:
        return None
    building = await uow.find_one(Building, site_id=site_id, code=spec.building)
    if building is None:
        raise _Missing(f"building {spec.building!r} not found in site {spec.site}")
    return building.id


async def _asset(uow: UnitOfWork, site_id: int, spec: DeviceSpec) -> int | None:
    if spec.asset is None:
        return None
    asset = await uow.find_one(Asset, site_id=site_id, code=spec.asset)
    if asset is None:
        raise _Missing(f"asset {spec.asset!r} not found in site {spec.site}")
    return asset.id


def _device(spec: DeviceSpec, site_id: int, building_id: int | None,
            asset_id: int | None) -> Device:
    return Device(
        site_id=site_id, code=spec.code, kind=spec.kind, building_id=building_id,
        asset_id=asset_id, name=spec.name, floor=spec.floor, protocol=spec.protocol,
        connection=spec.connection.model_dump() if spec.connection else {},
        register_map=spec.register_map, poll_period_s=spec.poll_period_s,
        timeout_s=spec.timeout_s, approval=spec.approval or Approval.ACTIVE,
        tags=list(spec.tags))


def _fields(device: Device) -> dict[str, Any]:
    names = ("kind", "building_id", "asset_id", "name", "floor", "protocol", "connection",
             "register_map", "poll_period_s", "timeout_s", "approval", "tags")
    return {name: getattr(device, name) for name in names}
