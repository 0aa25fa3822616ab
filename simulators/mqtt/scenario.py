"""A scenario: which simulated MQTT devices a site has, how busy they are, and which faults
happen when. Read from YAML, or built from counts for the demo and the command line:

    site: lakeside
    plates:
      residents: [沪A12345, 沪AD12345]
      visitors: [粤B D12345]
    credentials: ["QR:visitor-0412", "CARD:04A1B2C3"]
    devices:
      - {kind: light, device: light-b3-1, period: 10s, lit: true}
      - {kind: gate, device: gate-north, lane: north}
      - {kind: camera, device: cam-north-in, lane: north, direction: in, per_minute: 2}
      - {kind: door, device: door-b3-1}
    faults:
      - {at: 120s, device: gate-north, fault: stuck, for: 60s}
      - {at: 30s, device: light-b3-1, fault: lamp_failure, for: 5m, every: 15m}

Durations are seconds, or a number with `ms`, `s`, `m` or `h`. A fault without `for` stays;
with `every`, it comes back that long after it began.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from simulators.mqtt.cameras import PlateCamera
from simulators.mqtt.device import SimulatedDevice
from simulators.mqtt.doors import DoorController
from simulators.mqtt.gates import BarrierGate
from simulators.mqtt.lights import StreetLight

KINDS: dict[str, type[SimulatedDevice]] = {
    cls.kind: cls for cls in (StreetLight, BarrierGate, PlateCamera, DoorController)}
RESIDENT_PLATES = ["沪A12345", "沪AD12345", "沪B67890", "沪C2Z801", "沪AF10086", "沪D88B21"]
VISITOR_PLATES = ["粤BD12345", "浙A0D123", "苏E12B88", "京N82Z10"]
CREDENTIALS = ["QR:visitor-0412", "QR:visitor-1130", "CARD:04A1B2C3", "CARD:19F0E2D7"]
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h)")
_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_CODE = r"^[a-z0-9][a-z0-9-]{0,62}$"


class ScenarioError(ValueError):
    """The scenario cannot be used; the message names the file, the item and the reason."""


def parse_duration(value: Any) -> Any:
    if isinstance(value, str):
        match = _DURATION.fullmatch(value.strip())
        if match is None:
            raise ValueError(f"{value!r} is not a duration such as 30s, 5m or 500ms")
        return float(match[1]) * _SECONDS[match[2]]
    return value


Duration = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]
Code = Annotated[str, Field(pattern=_CODE)]
Probability = Annotated[float, Field(ge=0, le=1)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class LightSpec(_Spec):
    kind: Literal["light"]
    device: Code
    period: Duration = 10.0
    rated_w: float = Field(default=60.0, gt=0)
    lit: bool = False  # switched on at start (not `on`: YAML 1.1 reads that key as true)


class GateSpec(_Spec):
    kind: Literal["gate"]
    device: Code
    period: Duration = 30.0
    lane: str = "main"
    pass_after: Duration = 1.5
    hold: Duration = 5.0
    pass_probability: Probability = 1.0


class CameraSpec(_Spec):
    kind: Literal["camera"]
    device: Code
    period: Duration = 60.0
    lane: str = "main"
    direction: Literal["in", "out"] = "in"
    per_minute: float = Field(default=2.0, ge=0)
    repeat_probability: Probability = 0.3
    misread_probability: Probability = 0.05


class DoorSpec(_Spec):
    kind: Literal["door"]
    device: Code
    period: Duration = 60.0
    per_minute: float = Field(default=1.0, ge=0)
    unlock: Duration = 5.0
    credentials: list[str] | None = None  # default: the scenario's


DeviceSpec = Annotated[LightSpec | GateSpec | CameraSpec | DoorSpec,
                       Field(discriminator="kind")]


class FaultSpec(_Spec):
    at: Duration
    device: Code
    fault: str
    for_: Duration | None = Field(default=None, alias="for")
    every: Duration | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _ends_before_it_returns(self) -> FaultSpec:
        if self.every is not None and (self.for_ is None or self.for_ >= self.every):
            raise ValueError("a recurring fault needs `for` shorter than `every`")
        return self


class Plates(_Spec):
    residents: list[str] = Field(default_factory=lambda: list(RESIDENT_PLATES))
    visitors: list[str] = Field(default_factory=lambda: list(VISITOR_PLATES))
    visitor_share: Probability = 0.3


class Scenario(_Spec):
    site: Code = "lakeside"
    plates: Plates = Field(default_factory=Plates)
    credentials: list[str] = Field(default_factory=lambda: list(CREDENTIALS))
    devices: list[DeviceSpec] = Field(min_length=1)
    faults: list[FaultSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _faults_name_known_devices(self) -> Scenario:
        kinds: dict[str, str] = {}
        for spec in self.devices:
            if spec.device in kinds:
                raise ValueError(f"device {spec.device!r} is listed twice")
            kinds[spec.device] = spec.kind
        for number, fault in enumerate(self.faults):
            kind = kinds.get(fault.device)
            if kind is None:
                raise ValueError(f"faults.{number}: no device {fault.device!r}")
            if fault.fault not in KINDS[kind].faults:
                known = ", ".join(sorted(KINDS[kind].faults))
                raise ValueError(f"faults.{number}: a {kind} cannot have fault "
                                 f"{fault.fault!r} (it can: {known})")
        return self


def scenario_from(data: Any, source: str = "scenario") -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError("\n".join(_describe(source, e) for e in err.errors())) from None


def load_scenario(path: Path, **overrides: Any) -> Scenario:
    """The scenario of a YAML file; `overrides` (such as `site`) replace its top-level keys."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ScenarioError(f"{path}: cannot read: {err}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected a mapping with site, devices and faults")
    return scenario_from({**data, **overrides}, str(path))


def _describe(source: str, error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"])
    reason = str(error["msg"]).removeprefix("Value error, ")
    return f"{source}: {where}: {reason}" if where else f"{source}: {reason}"
