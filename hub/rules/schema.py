"""The typed rule models (pydantic, unknown fields refused) that config/rules/*.yaml holds."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from hub.domain.accounts import Role
from hub.domain.outcomes import OrderSource, Priority
from hub.rules.durations import parse_count, parse_duration

Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Scalar = bool | int | float | str
EventKind = Literal["telemetry", "fault", "offline", "online", "sequence_gap", "barrier",
                    "plate", "credential", "passed", "schedule"]
# The elevator's mode register (DESIGN.md §3): 0 normal, 1 inspection (检修),
# 2 maintenance (维保), 3 fire return, 4 out of service.
MODES = ("normal", "inspection", "maintenance", "fire_return", "out_of_service")
Mode = Literal["normal", "inspection", "maintenance", "fire_return", "out_of_service"]
ACTIONS = ("raise_fault", "clear_fault", "annotate", "notify", "command", "announce",
           "withdraw")
# What `{name}` in a title, body, fault or key may name (plus the metrics the rule compares).
PLACEHOLDERS = frozenset({"code", "device", "device_id", "site", "site_id", "kind",
                          "building_id", "state", "reason", "rule"})
PLACEHOLDER = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")
RULE_ID = r"^[a-z0-9][a-z0-9._-]{0,63}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Location(_Strict):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    utc_offset: str = Field(default="+00:00", pattern=r"^[+-]\d{2}:\d{2}$")


class Schedule(_Strict):
    """Fires once a day per site: at sunrise or sunset (NOAA, from the site's coordinates)
    or at a fixed local time "HH:MM", plus `offset` (may be negative: "-10m")."""

    at: str = Field(pattern=r"^(sunrise|sunset|([01]\d|2[0-3]):[0-5]\d)$")
    offset: Annotated[timedelta, BeforeValidator(
        lambda v: -parse_duration(v[1:]) if isinstance(v, str) and v.startswith("-")
        else parse_duration(v))] = timedelta()
    sites: dict[str, Location] = Field(min_length=1)
    # A tick that comes late (the hub was down at sunset) still fires within this much.
    catch_up: Duration = timedelta(hours=1)


class When(_Strict):
    event: EventKind
    codes: tuple[str, ...] = ()  # fault: the codes (none: any)
    active: bool = True  # fault: raised (true) or cleared (false)
    state: tuple[str, ...] = ()  # barrier: open, closed, stuck
    kind: tuple[str, ...] = ()
    not_kind: tuple[str, ...] = ()
    site: tuple[str, ...] = ()
    device: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()  # every one of them
    metric: str | None = None  # telemetry: only messages that carry this metric
    schedule: Schedule | None = None

    @model_validator(mode="after")
    def _fits_the_event(self) -> When:
        if (self.codes or not self.active) and self.event != "fault":
            raise ValueError("codes and active apply to event: fault only")
        if self.state and self.event != "barrier":
            raise ValueError("state applies to event: barrier only")
        if self.metric and self.event != "telemetry":
            raise ValueError("metric applies to event: telemetry only")
        if (self.schedule is None) != (self.event != "schedule"):
            raise ValueError("event: schedule needs a schedule, and only it has one")
        return self


class Compare(_Strict):
    metric: str
    op: Literal["<", "<=", ">", ">=", "==", "!=", "in", "not_in"]
    value: Scalar | tuple[Scalar, ...]

    @model_validator(mode="after")
    def _value_fits_op(self) -> Compare:
        listed = isinstance(self.value, tuple)
        if self.op in ("in", "not_in") and not listed:
            raise ValueError(f"{self.metric}: op {self.op} needs a list of values")
        if self.op not in ("in", "not_in") and listed:
            raise ValueError(f"{self.metric}: op {self.op} compares with one value, not a list")
        if self.op in ("<", "<=", ">", ">=") and (
                isinstance(self.value, bool) or not isinstance(self.value, int | float)):
            raise ValueError(f"{self.metric}: op {self.op} needs a number")
        return self


class Condition(_Strict):
    all: tuple[Compare, ...] = ()
    for_: Duration | None = Field(default=None, alias="for")
    count: Annotated[tuple[int, timedelta], BeforeValidator(parse_count)] | None = None
    require: Literal["all", "any"] = "all"  # both `for` and `count`, or either
    unless_mode: tuple[Mode, ...] = ()
    cooldown: Duration | None = None  # after firing, quiet this long for the same device
    # A recovery rule: fires only when one of these rules fired for the same device (and
    # fault code) since this one last did, so that "back to normal" is said once per fault.
    after: tuple[str, ...] = ()


class RaiseFaultSpec(_Strict):
    fault: str = "{code}"
    category: str = "{kind}"
    priority: Priority
    title: str
    source: OrderSource = OrderSource.DEVICE_FAULT


class ClearFaultSpec(_Strict):
    fault: str = "{code}"


class AnnotateSpec(_Strict):
    fault: str = "{code}"
    text: str


class NotifySpec(_Strict):
    role: Role | None = None
    residents: bool = False  # the residents of the device's building
    title: str
    body: str = ""

    @model_validator(mode="after")
    def _someone(self) -> NotifySpec:
        if self.role is None and not self.residents:
            raise ValueError("notify needs a role, residents: true, or both")
        return self


class CommandSpec(_Strict):
    action: str = Field(pattern=r"^[a-z_][a-z0-9_]{0,31}$")
    args: dict[str, Scalar] = Field(default_factory=dict)
    expires_in: Duration = timedelta(seconds=30)

    @model_validator(mode="after")
    def _lifetime(self) -> CommandSpec:
        if not timedelta(seconds=1) <= self.expires_in <= timedelta(minutes=10):
            raise ValueError("expires_in must be between 1s and 10m")
        return self


class AnnounceSpec(_Strict):
    key: str = "downtime:device:{device_id}"
    title: str
    body: str = ""
    notify_residents: bool = True


class WithdrawSpec(_Strict):
    key: str = "downtime:device:{device_id}"


class Action(_Strict):
    """One of the actions, written as a one-key mapping: `- notify: {role: maintenance, ...}`."""

    raise_fault: RaiseFaultSpec | None = None
    clear_fault: ClearFaultSpec | None = None
    annotate: AnnotateSpec | None = None
    notify: NotifySpec | None = None
    command: CommandSpec | None = None
    announce: AnnounceSpec | None = None
    withdraw: WithdrawSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_known_action(cls, data: Any) -> Any:
        if not isinstance(data, dict) or len(data) != 1:
            raise ValueError(f"an action is a mapping with one key, one of {', '.join(ACTIONS)}")
        name = next(iter(data))
        if name not in ACTIONS:
            raise ValueError(f"unknown action {name!r}: use one of {', '.join(ACTIONS)}")
        return data

    @property
    def name(self) -> str:
        return next(n for n in ACTIONS if getattr(self, n) is not None)

    @property
    def spec(self) -> BaseModel:
        spec: BaseModel = getattr(self, self.name)
        return spec


class Rule(_Strict):
    id: str = Field(pattern=RULE_ID)
    version: str | None = Field(default=None, min_length=1, max_length=32)
    description: str = Field(min_length=1)
    enabled: bool = True
    when: When
    if_: Condition = Field(default_factory=Condition, alias="if")
    then: tuple[Action, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _placeholders_known(self) -> Rule:
        allowed = PLACEHOLDERS | {c.metric for c in self.if_.all}
        for action in self.then:
            for name, value in action.spec:
                if not isinstance(value, str):
                    continue
                for found in PLACEHOLDER.findall(value):
                    if found not in allowed:
                        raise ValueError(f"{action.name}.{name}: unknown placeholder "
                                         f"{{{found}}}; known: {', '.join(sorted(allowed))}")
        if self.when.event == "schedule" and (self.if_.for_ or self.if_.count):
            raise ValueError("a schedule rule takes no for or count")
        return self


class RuleFile(_Strict):
    description: str = ""
    rules: tuple[dict[str, Any], ...] = ()  # validated one by one, to name each bad rule
