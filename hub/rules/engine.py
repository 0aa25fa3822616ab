"""The rules engine: pure. `feed(event, state)` returns what the rules decide; no IO, no clock.

Time is the event's own: a `for` timer fires when an event (any device's, or a tick) comes
at or after its deadline, and the outcome carries the deadline as its time, so that a replay
of the same events decides the same things at the same times.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hub.domain.outcomes import Evidence
from hub.rules.actions import Fired, build
from hub.rules.conditions import compare, device_matches, mode_name
from hub.rules.events import DeviceRef, RuleEvent
from hub.rules.loader import LoadedRule, RuleSet
from hub.rules.schedules import due_triggers
from hub.rules.state import MAX_EVIDENCE, DeviceMemory, EngineState, Episode, episode_key

# The event that ends another's spell: a device back online ends an "offline" condition.
_OPPOSITE = {"offline": "online", "online": "offline"}


class RuleEngine:
    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self._by_id = {r.id: r for r in rules.enabled}
        self._by_event: dict[str, list[LoadedRule]] = {}
        for loaded in rules.enabled:
            self._by_event.setdefault(loaded.rule.when.event, []).append(loaded)
        self._metrics = frozenset({"mode"} | {c.metric for r in rules.enabled
                                              for c in r.rule.if_.all})
        # What each rule can use of a device's telemetry: the metrics it compares or matches,
        # and the mode (guards read the remembered mode).
        self._interests = [(loaded.rule.when, frozenset(
            {"mode"} | {c.metric for c in loaded.rule.if_.all}
            | ({loaded.rule.when.metric} if loaded.rule.when.metric else set())))
            for loaded in rules.enabled]
        self._wanted: dict[tuple[DeviceRef, frozenset[str]], bool] = {}

    def wants(self, event: RuleEvent) -> bool:
        """Whether the event can matter: telemetry is skipped before queueing unless a rule
        that matches its device (kind, site, tags...) compares, matches or remembers one of
        its metrics: a meter's readings, with no rule on meters, are not evaluated. Every
        other event matters. Skipping is decided by the rules alone, so a replay of what was
        evaluated decides the same."""
        if event.kind != "telemetry" or event.device is None:
            return True
        key = (event.device, frozenset(event.payload))
        wanted = self._wanted.get(key)
        if wanted is None:
            wanted = any(device_matches(when, event.device) and not interest.isdisjoint(key[1])
                         for when, interest in self._interests)
            if len(self._wanted) > 100_000:  # devices x payload shapes: bounded all the same
                self._wanted.clear()
            self._wanted[key] = wanted
        return wanted

    def adopt(self, state: EngineState) -> None:
        """After loading state or a reload: timers of rules that are gone, or that no longer
        have a `for`, stop; those of the rules that do are running again."""
        state.pending = {k for k, ep in state.episodes.items() if self._runs_timer(ep)}

    def feed(self, event: RuleEvent, state: EngineState) -> list[Fired]:
        self._remember(event, state)
        fired = self._due_timers(event.at, state)
        if event.kind in ("tick", "devices") or event.device is not None:
            fired += self._schedules(event.at, state)
        if event.device is None:
            return fired
        for loaded in self._by_event.get(event.kind, ()):
            fired += self._evaluate(loaded, event, event.device, state)
        for loaded in self._by_event.get(_OPPOSITE.get(event.kind, ""), ()):
            if device_matches(loaded.rule.when, event.device):
                self._end(episode_key(loaded.id, event.device.id, ""), state)
        return fired

    def _remember(self, event: RuleEvent, state: EngineState) -> None:
        for ref in (*event.devices, *([event.device] if event.device else [])):
            memory = state.devices.get(ref.id)
            if memory is None or memory.device != ref:
                state.devices[ref.id] = DeviceMemory(ref, *(
                    (memory.mode, memory.metrics) if memory else ()))
                state.touch(f"dev:{ref.id}")
        if event.kind != "telemetry" or event.device is None:
            return
        memory = state.devices[event.device.id]
        for metric in self._metrics.intersection(event.payload):
            value = event.payload[metric]
            if metric == "mode":
                value = mode_name(value)
                if memory.mode != value:
                    memory.mode = value
                    state.touch(f"dev:{event.device.id}")
            if memory.metrics.get(metric) != value:
                memory.metrics[metric] = value
                state.touch(f"dev:{event.device.id}")

    def _evaluate(self, loaded: LoadedRule, event: RuleEvent, device: DeviceRef,
                  state: EngineState) -> list[Fired]:
        if not device_matches(loaded.rule.when, device):
            return []
        code = self._spell_code(loaded, event, device, state)
        if code is None:
            return []
        payload = event.payload
        key = episode_key(loaded.id, device.id, code)
        if not self._holds(loaded, device, payload, state):
            self._reset(key, state)
            return []
        episode = state.episodes.get(key) or Episode(loaded.id, device, code)
        state.episodes[key] = episode
        episode.device = device
        episode.since = episode.since or event.at
        if loaded.rule.if_.count is not None:
            window = loaded.rule.if_.count[1]
            episode.hits = [h for h in episode.hits if h > event.at - window] + [event.at]
        episode.evidence = [*episode.evidence, _evidence(event)][-MAX_EVIDENCE:]
        state.touch(key)
        return self._try_fire(loaded, key, episode, event.at, state, _context(event, code))

    def _spell_code(self, loaded: LoadedRule, event: RuleEvent, device: DeviceRef,
                    state: EngineState) -> str | None:
        """The fault code the episode is kept under ("" for other events), or None when the
        event says nothing to this rule; the opposite event (a clear) ends the spell."""
        when, payload = loaded.rule.when, event.payload
        if event.kind == "fault":
            code = str(payload.get("code", ""))
            if when.codes and code not in when.codes:
                return None
            if bool(payload.get("active", True)) != when.active:
                self._end(episode_key(loaded.id, device.id, code), state)
                return None
            return code
        if event.kind == "barrier" and when.state and payload.get("state") not in when.state:
            self._end(episode_key(loaded.id, device.id, ""), state)
            return None
        if when.metric and when.metric not in payload:
            return None
        return ""

    def _holds(self, loaded: LoadedRule, device: DeviceRef, payload: Mapping[str, Any],
               state: EngineState) -> bool:
        memory = state.devices.get(device.id)
        if memory and memory.mode in loaded.rule.if_.unless_mode:
            return False
        # Telemetry is already in `known` (the mode as its name); other events' own fields next.
        known = memory.metrics if memory else {}
        return all(compare(c, known.get(c.metric, payload.get(c.metric)))
                   for c in loaded.rule.if_.all)

    def _try_fire(self, loaded: LoadedRule, key: str, episode: Episode, at: datetime,
                  state: EngineState, context: Mapping[str, Any]) -> list[Fired]:
        cond = loaded.rule.if_
        checks = []
        if cond.for_ is not None:
            assert episode.since is not None
            checks.append(episode.since + cond.for_ <= at and not episode.latched)
        if cond.count is not None:
            checks.append(len(episode.hits) >= cond.count[0])
        ready = not checks or (all(checks) if cond.require == "all" else any(checks))
        if not ready:
            if self._runs_timer(episode):
                state.pending.add(key)
            return []
        state.pending.discard(key)
        episode.latched = cond.for_ is not None
        episode.hits = []
        if cond.cooldown and episode.last_fired and at < episode.last_fired + cond.cooldown:
            return []
        if cond.after and not self._follows(loaded, episode, state):
            episode.latched = False
            return []
        episode.last_fired = at
        return build(loaded, at, episode.device, context, episode.evidence)

    @staticmethod
    def _follows(loaded: LoadedRule, episode: Episode, state: EngineState) -> bool:
        """One of the `after` rules fired for this device and code since this rule did."""
        for other in loaded.rule.if_.after:
            before = state.episodes.get(episode_key(other, episode.device.id, episode.code))
            if before is not None and before.last_fired is not None and (
                    episode.last_fired is None or before.last_fired > episode.last_fired):
                return True
        return False

    def _due_timers(self, now: datetime, state: EngineState) -> list[Fired]:
        due = []
        for key in state.pending:
            episode = state.episodes[key]
            loaded = self._by_id.get(episode.rule_id)
            if loaded is None or loaded.rule.if_.for_ is None or episode.since is None:
                continue
            deadline = episode.since + loaded.rule.if_.for_
            if deadline <= now:
                due.append((deadline, key, episode, loaded))
        fired: list[Fired] = []
        for deadline, key, episode, loaded in sorted(due, key=lambda d: (d[0], d[1])):
            state.pending.discard(key)
            if not self._holds(loaded, episode.device, {}, state):
                self._reset(key, state)
                continue
            state.touch(key)
            memory = state.devices.get(episode.device.id)
            context = {**(memory.metrics if memory else {}), "code": episode.code}
            fired += self._try_fire(loaded, key, episode, deadline, state, context)
        return fired

    def _schedules(self, now: datetime, state: EngineState) -> list[Fired]:
        fired: list[Fired] = []
        for loaded in self._by_event.get("schedule", ()):
            for site, trigger, what in due_triggers(loaded, now, state.schedules):
                state.schedules[f"{loaded.id}|{site}"] = trigger
                state.touch(f"sched:{loaded.id}|{site}")
                evidence = Evidence("schedule", trigger, None, {"site": site, "at": what})
                for memory in sorted(state.devices.values(), key=lambda m: m.device.id):
                    device = memory.device
                    if device.site == site and device_matches(loaded.rule.when, device):
                        fired += build(loaded, trigger, device, {}, [evidence])
        return fired

    def _runs_timer(self, episode: Episode) -> bool:
        loaded = self._by_id.get(episode.rule_id)
        return (loaded is not None and loaded.rule.if_.for_ is not None
                and episode.since is not None and not episode.latched)

    @staticmethod
    def _end(key: str, state: EngineState) -> None:
        """The condition's spell is over (fault cleared, device back): the `for` timer and
        the latch go; the `count` window stays, so that a flapping fault is still counted."""
        episode = state.episodes.get(key)
        if episode is None:
            return
        episode.since, episode.latched = None, False
        state.pending.discard(key)
        if not episode.hits and episode.last_fired is None:
            state.drop_episode(key)
        else:
            state.touch(key)

    @staticmethod
    def _reset(key: str, state: EngineState) -> None:
        """The condition is false: everything but the last firing (for the cooldown) goes."""
        episode = state.episodes.get(key)
        if episode is None:
            return
        if episode.last_fired is None:
            state.drop_episode(key)
            return
        episode.since, episode.latched, episode.hits, episode.evidence = None, False, [], []
        state.pending.discard(key)
        state.touch(key)


def _evidence(event: RuleEvent) -> Evidence:
    device_id = event.device.id if event.device else None
    return Evidence(event.kind, event.at, device_id, dict(event.payload))


def _context(event: RuleEvent, code: str) -> dict[str, Any]:
    scalars = {k: v for k, v in event.payload.items() if isinstance(v, str | int | float)}
    return {**scalars, "code": code or scalars.get("code", "")}
