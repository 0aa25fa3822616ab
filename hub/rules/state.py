"""What the rules remember between events, kept as JSON rows so that a restart resumes it:
devices' last mode and compared metrics, `for` timers and `count` windows, schedules fired."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.domain.outcomes import Evidence
from hub.rules.events import DeviceRef

MAX_EVIDENCE = 5
Scalar = bool | int | float | str


@dataclass
class Episode:
    """One rule's view of one device (and fault code) while its condition holds."""

    rule_id: str
    device: DeviceRef
    code: str = ""
    since: datetime | None = None  # the condition holds since (a `for` timer)
    hits: list[datetime] = field(default_factory=list)  # the `count` window
    latched: bool = False  # fired for this spell of the condition
    last_fired: datetime | None = None
    evidence: list[Evidence] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule_id, "device": self.device.to_dict(), "code": self.code,
                "since": _iso(self.since), "hits": [h.isoformat() for h in self.hits],
                "latched": self.latched, "last_fired": _iso(self.last_fired),
                "evidence": [_evidence_json(e) for e in self.evidence]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Episode:
        return cls(data["rule"], DeviceRef.from_dict(data["device"]), data["code"],
                   _dt(data["since"]), [datetime.fromisoformat(h) for h in data["hits"]],
                   bool(data["latched"]), _dt(data["last_fired"]),
                   [Evidence(e["kind"], datetime.fromisoformat(e["at"]), e["device_id"],
                             e["summary"]) for e in data["evidence"]])


@dataclass
class DeviceMemory:
    device: DeviceRef
    mode: str | None = None
    metrics: dict[str, Scalar] = field(default_factory=dict)


@dataclass
class EngineState:
    devices: dict[int, DeviceMemory] = field(default_factory=dict)
    episodes: dict[str, Episode] = field(default_factory=dict)
    schedules: dict[str, datetime] = field(default_factory=dict)  # rule|site -> last fired
    pending: set[str] = field(default_factory=set)  # episodes with a running `for` timer
    dirty: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)

    def touch(self, key: str) -> None:
        self.dirty.add(key)
        self.removed.discard(key)

    def drop_episode(self, key: str) -> None:
        if self.episodes.pop(key, None) is not None:
            self.pending.discard(key)
            self.dirty.discard(key)
            self.removed.add(key)

    def rows(self, keys: set[str] | None = None) -> dict[str, dict[str, Any]]:
        """The JSON of every item (or of `keys`), by the key it is stored under."""
        out: dict[str, dict[str, Any]] = {}
        for device_id, memory in self.devices.items():
            out[f"dev:{device_id}"] = {"device": memory.device.to_dict(), "mode": memory.mode,
                                       "metrics": memory.metrics}
        for key, episode in self.episodes.items():
            out[key] = episode.to_json()
        for key, at in self.schedules.items():
            out[f"sched:{key}"] = {"at": at.isoformat()}
        return out if keys is None else {k: v for k, v in out.items() if k in keys}

    def take_changes(self) -> tuple[dict[str, dict[str, Any]], set[str]]:
        """What changed since the last call: rows to write, keys to delete."""
        changed, removed = self.rows(set(self.dirty)), set(self.removed)
        self.dirty.clear()
        self.removed.clear()
        return changed, removed

    @classmethod
    def from_rows(cls, rows: dict[str, dict[str, Any]]) -> EngineState:
        state = cls()
        for key, data in rows.items():
            if key.startswith("dev:"):
                ref = DeviceRef.from_dict(data["device"])
                state.devices[ref.id] = DeviceMemory(ref, data.get("mode"),
                                                     dict(data.get("metrics") or {}))
            elif key.startswith("ep:"):
                state.episodes[key] = Episode.from_json(data)
            elif key.startswith("sched:"):
                state.schedules[key.removeprefix("sched:")] = datetime.fromisoformat(data["at"])
        return state


def episode_key(rule_id: str, device_id: int, code: str) -> str:
    return f"ep:{rule_id}|{device_id}|{code}"


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _evidence_json(e: Evidence) -> dict[str, Any]:
    return {"kind": e.kind, "at": e.at.isoformat(), "device_id": e.device_id,
            "summary": dict(e.summary)}
