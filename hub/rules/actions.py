"""A fired rule's `then`, turned into the shared commands (hub.domain.outcomes) it asks for."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from typing import Any

from hub.domain.outcomes import (
    AnnotateOrder,
    Cause,
    ClearFault,
    Evidence,
    Notify,
    PostAnnouncement,
    RaiseFault,
    WithdrawAnnouncement,
)
from hub.rules.events import DeviceRef
from hub.rules.loader import LoadedRule
from hub.rules.schema import (
    PLACEHOLDER,
    AnnotateSpec,
    AnnounceSpec,
    ClearFaultSpec,
    CommandSpec,
    NotifySpec,
    RaiseFaultSpec,
    WithdrawSpec,
)


@dataclass(frozen=True, kw_only=True)
class CommandDevice:
    """A device command a rule asks for; the runner sends it as the API's device command."""

    device_id: int
    action: str
    at: datetime
    cause: Cause
    args: Mapping[str, Any] = field(default_factory=dict)
    expires_in_s: int = 30


@dataclass(frozen=True)
class Fired:
    """One outcome of one rule: the command and what caused it."""

    rule_id: str
    version: str
    at: datetime
    device_id: int | None
    command: object
    site_id: int | None = None

    @property
    def command_kind(self) -> str:
        return type(self.command).__name__


def build(loaded: LoadedRule, at: datetime, device: DeviceRef, context: Mapping[str, Any],
          evidence: Sequence[Evidence]) -> list[Fired]:
    cause = Cause(rule_id=loaded.id, rule_version=loaded.version, evidence=tuple(evidence))
    values = {"device": device.code, "device_id": device.id, "site": device.site,
              "site_id": device.site_id, "kind": device.kind,
              "building_id": device.building_id or "", "rule": loaded.id, **context}

    def text(template: str) -> str:
        return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), "")), template)

    fired = []
    for action in loaded.rule.then:
        command = _command(action.spec, at, device, cause, text)
        if command is not None:
            fired.append(Fired(loaded.id, loaded.version, at, device.id, command,
                               device.site_id))
    return fired


def _command(spec: object, at: datetime, device: DeviceRef, cause: Cause,
             text: Any) -> object | None:
    command: object | None = None
    match spec:
        case RaiseFaultSpec():
            command = RaiseFault(
                site_id=device.site_id, fault=text(spec.fault), category=text(spec.category),
                priority=spec.priority, title=text(spec.title), at=at, cause=cause,
                device_id=device.id, building_id=device.building_id, source=spec.source)
        case ClearFaultSpec():
            command = ClearFault(fault=text(spec.fault), at=at, cause=cause,
                                 device_id=device.id)
        case AnnotateSpec():
            command = AnnotateOrder(fault=text(spec.fault), text=text(spec.text), at=at,
                                    cause=cause, device_id=device.id)
        case NotifySpec():
            building = device.building_id if spec.residents else None
            # Residents of a building, and the device is in none: no one to tell.
            if spec.role is not None or building is not None:
                command = Notify(site_id=device.site_id, title=text(spec.title),
                                 body=text(spec.body), at=at, cause=cause, role=spec.role,
                                 building_id=building)
        case CommandSpec():
            command = CommandDevice(device_id=device.id, action=spec.action, at=at,
                                    cause=cause, args=dict(spec.args),
                                    expires_in_s=int(spec.expires_in.total_seconds()))
        case AnnounceSpec():
            command = PostAnnouncement(
                key=text(spec.key), site_id=device.site_id, title=text(spec.title),
                body=text(spec.body), at=at, cause=cause, building_id=device.building_id,
                notify_residents=spec.notify_residents)
        case WithdrawSpec():
            command = WithdrawAnnouncement(key=text(spec.key), at=at, cause=cause)
    return command


def describe(fired: Fired) -> str:
    """One line per outcome, the same for a live run and a replay:
    `<at> <rule>@<version> <Command> key=value ...` (the evidence left out)."""
    parts = [fired.at.isoformat(), f"{fired.rule_id}@{fired.version}", fired.command_kind]
    return " ".join(parts + [f"{k}={_show(v)}" for k, v in command_fields(fired.command).items()])


def command_fields(command: object) -> dict[str, Any]:
    """The command's own values (not its cause, actor or time), for display and storage."""
    assert is_dataclass(command)
    out: dict[str, Any] = {}
    for f in fields(command):
        value = getattr(command, f.name)
        if f.name in ("cause", "actor", "at") or value in (None, (), {}, ""):
            continue
        out[f.name] = dict(value) if isinstance(value, Mapping) else value
    return out


def evidence_json(fired: Fired) -> list[dict[str, Any]]:
    cause: Cause = getattr(fired.command, "cause")  # noqa: B009 - every outcome has one
    return [{"kind": e.kind, "at": e.at.isoformat(), "device_id": e.device_id,
             "summary": dict(e.summary)} for e in cause.evidence]


def _show(value: Any) -> str:
    if isinstance(value, str) and value and " " not in value and "=" not in value:
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
